package web_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb/encoding/mvt"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/ingest"
)

// TestTileHTTP checks what HTTP adds to a tile: gzip when asked for, a
// strong ETag per encoding and 304 on a match, caching rules per audience
// (the public's density tile is shareable, the police's private), the
// density layer's two audiences at one URL, and a new ETag and new content
// after an import, without a version watcher (the server reads the data
// version itself at most a second late).
func TestTileHTTP(t *testing.T) {
	ts, pool := newPublicFixture(t)
	police := signIn(t, ts.URL, pool, auth.Police)
	url := ts.URL + "/tiles/density/11/1018/671.mvt?from=2024-01&to=2024-02"

	anonResp, anonBody := get(t, url, "Accept-Encoding", "gzip")
	if anonResp.StatusCode != 200 || anonResp.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("anonymous density tile = %d, Content-Encoding %q; want 200 gzip", anonResp.StatusCode, anonResp.Header.Get("Content-Encoding"))
	}
	zr, err := gzip.NewReader(bytes.NewReader(anonBody))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	public := decodeCounts(t, plain)
	if cc := anonResp.Header.Get("Cache-Control"); cc != "public, max-age=60" {
		t.Errorf("anonymous density tile Cache-Control = %q; want public, max-age=60", cc)
	}
	vary := strings.Join(anonResp.Header.Values("Vary"), ",")
	for _, v := range []string{"Accept-Encoding", "Cookie", "Authorization"} {
		if !strings.Contains(vary, v) {
			t.Errorf("density tile Vary = %q; want %s (the police get other counts at this URL)", vary, v)
		}
	}
	gzTag := anonResp.Header.Get("ETag")
	idResp, idBody := get(t, url, "Accept-Encoding", "identity")
	if idResp.Header.Get("Content-Encoding") != "" || !bytes.Equal(idBody, plain) {
		t.Errorf("identity density tile: Content-Encoding %q, %d bytes; want the gunzipped %d bytes", idResp.Header.Get("Content-Encoding"), len(idBody), len(plain))
	}
	idTag := idResp.Header.Get("ETag")
	if gzTag == "" || idTag == "" || gzTag == idTag || strings.HasPrefix(gzTag, "W/") {
		t.Errorf("ETags gzip %q, identity %q; want two different strong ETags", gzTag, idTag)
	}
	if r, b := get(t, url, "Accept-Encoding", "gzip", "If-None-Match", gzTag); r.StatusCode != http.StatusNotModified || len(b) != 0 {
		t.Errorf("If-None-Match with the gzip ETag = %d, %d bytes; want 304", r.StatusCode, len(b))
	}
	if r, _ := get(t, url, "Accept-Encoding", "gzip;q=0", "If-None-Match", gzTag); r.StatusCode != 200 {
		t.Errorf("If-None-Match with the gzip ETag, gzip refused = %d; want 200 (another representation)", r.StatusCode)
	}

	// The police, at the same URL: every incident, sensitive ones too, and
	// privately.
	pr, pb := getWith(t, police, url)
	if pr.StatusCode != 200 {
		t.Fatalf("police density tile = %d", pr.StatusCode)
	}
	if cc := pr.Header.Get("Cache-Control"); !strings.Contains(cc, "private") {
		t.Errorf("police density tile Cache-Control = %q; want private", cc)
	}
	policeCounts := decodeCounts(t, pb)
	if policeCounts <= public {
		t.Errorf("police density counts %d; public %d: want more (the police see sensitive and unsnapped incidents)", policeCounts, public)
	}

	// An import: the next request has a new ETag and the new month.
	iurl := ts.URL + "/tiles/incidents/11/1018/671.mvt"
	r1, b1 := getWith(t, police, iurl)
	if r1.StatusCode != 200 {
		t.Fatalf("incidents tile = %d", r1.StatusCode)
	}
	before := decodeCounts(t, b1)
	if _, err := ingest.ImportPoliceUKFile(context.Background(), pool, filepath.Join("..", "..", "shared", "data", "police-uk", "2019-01-leicestershire-street.csv")); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(3 * time.Second)
	for {
		r2, b2 := getWith(t, police, iurl, "If-None-Match", r1.Header.Get("ETag"))
		if r2.StatusCode == 200 {
			if after := decodeCounts(t, b2); after <= before {
				t.Errorf("after the import the tile counts %d; before %d", after, before)
			}
			if r2.Header.Get("ETag") == r1.Header.Get("ETag") {
				t.Error("same ETag after an import")
			}
			break
		}
		if r2.StatusCode != http.StatusNotModified || time.Now().After(deadline) {
			t.Fatalf("tile after an import = %d; want 200 with new content within 3 s", r2.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// decodeCounts adds up the count property of a tile's features.
func decodeCounts(t *testing.T, b []byte) int {
	t.Helper()
	layers, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("mvt.Unmarshal: %v", err)
	}
	var n int
	for _, l := range layers {
		for _, f := range l.Features {
			n += int(f.Properties.MustFloat64("count", 0))
		}
	}
	return n
}
