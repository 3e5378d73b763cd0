package web_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/encoding/mvt"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/tiles"
	"github.com/harborough-csp/hotspot/web"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const policeFile = "../../shared/data/police-uk/2024-01-leicestershire-street.csv"

// newServer starts the web server over a fresh database; with load, the
// real January 2024 police.uk month is imported first.
func newServer(t *testing.T, load bool) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	pool := storetest.DB(t)
	if load {
		if _, err := os.Stat(policeFile); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("real data missing (CI is set): %v", err)
			}
			t.Skipf("real data missing: %v", err)
		}
		if _, err := ingest.ImportPoliceUKFile(context.Background(), pool, policeFile); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := web.New(pool, tiles.New(pool), auth.New(pool), web.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, pool
}

func get(t *testing.T, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	return getWith(t, http.DefaultClient, url, header...)
}

// getWith is get through client c (with its cookies, for a signed-in user).
func getWith(t *testing.T, c *http.Client, url string, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

// TestStatusCodes walks the routes with good and bad requests, as the
// public and as a police user.
func TestStatusCodes(t *testing.T) {
	ts, pool := newServer(t, true)
	police := signIn(t, ts.URL, pool, auth.Police)
	anon := http.DefaultClient
	tests := []struct {
		client   *http.Client
		path     string
		want     int
		wantType string
		wantBody string // a substring of the body
	}{
		{anon, "/healthz", 200, "application/json", `"database":"ok"`},
		{anon, "/", 200, "text/html", "<html"},
		{anon, "/index.html", 200, "text/html", "<html"},
		{anon, "/app.js", 200, "javascript", ""},
		{anon, "/login", 200, "text/html", `id="login-form"`},
		{anon, "/login.js", 200, "javascript", ""},
		{police, "/api/config", 200, "application/json", `"incident_count":8324`},
		{anon, "/api/config", 200, "application/json", `"layers":["boundaries","locations"],"user":null`},
		{anon, "/api/me", 200, "application/json", `{"user":null}`},
		{anon, "/tiles/boundaries.json", 200, "application/json", `"vector_layers"`},
		{anon, "/tiles/boundaries/11/1018/671.mvt", 204, "", ""}, // no boundaries loaded
		// The precise layer is the police's: the public is told to sign in.
		{anon, "/tiles/incidents.json", 401, "application/json", "sign in"},
		{anon, "/tiles/incidents/11/1018/671.mvt", 401, "application/json", "sign in"},
		{anon, "/tiles/incidents/x/0/0.mvt", 401, "application/json", "sign in"},
		{anon, "/tiles/nope/1/0/0.mvt", 404, "application/json", "unknown layer"},
		{anon, "/tiles/nope.json", 404, "application/json", "unknown layer"},
		{anon, "/no/such/page", 404, "application/json", "not found"},
		{anon, "/vendor/", 404, "application/json", "not found"},
		{police, "/api/config", 200, "application/json", `"layers":["boundaries","density","hotspots","incidents","locations"],"user":{"name":"test-police","role":"police"}`},
		{police, "/api/me", 200, "application/json", `"user":{"name":"test-police","role":"police"}`},
		{police, "/tiles/incidents.json", 200, "application/json", `"tilejson":"3.0.0"`},
		{police, "/tiles/incidents/11/1018/671.mvt", 200, "application/vnd.mapbox-vector-tile", ""},
		{police, "/tiles/incidents/12/0/0.mvt", 204, "", ""}, // the Arctic: no crimes
		{police, "/tiles/incidents/11/1018/2048.mvt", 400, "application/json", "y \\\"2048\\\" must be a whole number from 0 to 2047"},
		{police, "/tiles/incidents/23/0/0.mvt", 400, "application/json", "zoom"},
		{police, "/tiles/incidents/x/0/0.mvt", 400, "application/json", "zoom"},
		{police, "/tiles/incidents/-1/0/0.mvt", 400, "application/json", "zoom"},
		{police, "/tiles/boundaries/1/0/0.mvt?from=2024-01", 400, "application/json", "no query parameters"},
		// Filters: good ones serve, bad ones say how to write them.
		{police, "/tiles/incidents/11/1018/671.mvt?from=2024-01&to=2024-01&priority=3&category=burglary&category=drugs", 200, "application/vnd.mapbox-vector-tile", ""},
		{police, "/tiles/density/11/1018/671.mvt?from=2024-01-01&to=2024-01-20", 200, "application/vnd.mapbox-vector-tile", ""},
		{police, "/tiles/incidents/11/1018/671.mvt?from=2024-13", 400, "application/json", "must be a month (YYYY-MM"},
		{police, "/tiles/incidents/11/1018/671.mvt?from=2024-03&to=2024-01", 400, "application/json", "is before from"},
		{police, "/tiles/density/11/1018/671.mvt?priority=9", 400, "application/json", "1 to 5"},
		{police, "/tiles/density/11/1018/671.mvt?category=Burglary", 400, "application/json", "category slug"},
		{police, "/tiles/density/11/1018/671.mvt?colour=red", 400, "application/json", "unknown parameter"},
		{police, "/tiles/density/11/1018/671.mvt?from=2024-01&from=2024-02", 400, "application/json", "give it once"},
		{anon, "/tiles/density/11/1018/671.mvt?priority=0", 400, "application/json", "1 to 5"},
		{police, "/tiles/density.json", 200, "application/json", `"count":"Number"`},
		{anon, "/tiles/locations.json", 200, "application/json", `"name":"String"`},
		{police, "/tiles/nope/1/0/0.mvt", 404, "application/json", "unknown layer"},
	}
	for _, tt := range tests {
		who := "anonymous"
		if tt.client != anon {
			who = "police"
		}
		resp, body := getWith(t, tt.client, ts.URL+tt.path)
		if resp.StatusCode != tt.want {
			t.Errorf("GET %s as %s = %d; want %d (body %.200s)", tt.path, who, resp.StatusCode, tt.want, body)
			continue
		}
		if ct := resp.Header.Get("Content-Type"); !strings.Contains(ct, tt.wantType) {
			t.Errorf("GET %s as %s Content-Type = %q; want %q", tt.path, who, ct, tt.wantType)
		}
		if !strings.Contains(string(body), tt.wantBody) {
			t.Errorf("GET %s as %s body = %.300s; want it to contain %q", tt.path, who, body, tt.wantBody)
		}
		if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s Content-Security-Policy = %q; want default-src 'self'", tt.path, csp)
		}
	}
	resp, err := police.Post(ts.URL+"/tiles/incidents.json", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /tiles/incidents.json = %d; want 405", resp.StatusCode)
	}
}

// TestTileRevalidation checks the ETag / If-None-Match path, and that the
// tile is a decodable MVT with incidents.
func TestTileRevalidation(t *testing.T) {
	ts, pool := newServer(t, true)
	police := signIn(t, ts.URL, pool, auth.Police)
	get := func(t *testing.T, url string, header ...string) (*http.Response, []byte) {
		t.Helper()
		return getWith(t, police, url, header...)
	}
	url := ts.URL + "/tiles/incidents/13/4075/2687.mvt" // Market Harborough
	resp, body := get(t, url)
	if resp.StatusCode != 200 {
		t.Fatalf("GET tile = %d", resp.StatusCode)
	}
	layers, err := mvt.Unmarshal(body)
	if err != nil || len(layers) != 1 || len(layers[0].Features) == 0 {
		t.Fatalf("tile decodes to %d layers, %v; want incidents with features", len(layers), err)
	}
	etag := resp.Header.Get("ETag")
	if etag == "" {
		t.Fatal("tile has no ETag")
	}
	// A police tile must never be kept by a shared cache.
	if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "private") || !strings.Contains(strings.Join(resp.Header.Values("Vary"), ","), "Cookie") {
		t.Errorf("police tile Cache-Control = %q, Vary = %q; want private, varying on Cookie", cc, resp.Header.Values("Vary"))
	}
	pub, _ := getWith(t, http.DefaultClient, ts.URL+"/tiles/boundaries.json")
	if cc := pub.Header.Get("Cache-Control"); strings.Contains(cc, "private") {
		t.Errorf("anonymous boundaries TileJSON Cache-Control = %q; want it shareable", cc)
	}
	resp, body = get(t, url, "If-None-Match", etag)
	if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
		t.Errorf("GET tile with If-None-Match = %d, %d bytes; want 304, empty", resp.StatusCode, len(body))
	}
	resp, _ = get(t, url, "If-None-Match", `"something-else"`)
	if resp.StatusCode != 200 {
		t.Errorf("GET tile with another ETag = %d; want 200", resp.StatusCode)
	}
}

// TestConfigWithoutData checks the notice an empty database shows.
func TestConfigWithoutData(t *testing.T) {
	ts, _ := newServer(t, false)
	_, body := get(t, ts.URL+"/api/config")
	var c struct {
		IncidentCount int64      `json:"incident_count"`
		Notice        string     `json:"notice"`
		Bounds        [4]float64 `json:"bounds"`
		Basemap       any        `json:"basemap"`
	}
	if err := json.Unmarshal(body, &c); err != nil {
		t.Fatal(err)
	}
	if c.IncidentCount != 0 || c.Notice != web.NoDataNotice || c.Basemap != nil || c.Bounds[0] == 0 || strings.Contains(string(body), "incident_count") {
		t.Errorf("config = %+v; want the import notice, no basemap, bounds, and no incident total for the public", c)
	}
}

// TestConfigValidation checks that bad settings are refused up front.
func TestConfigValidation(t *testing.T) {
	pool := storetest.DB(t)
	for _, c := range []web.Config{
		{Basemap: "google"},
		{TileTimeout: -time.Second},
		{RequestTimeout: -time.Second},
		{PublicURL: "ftp://example.test"},
		{PublicURL: "example.test"},
		{PublicURL: "https://example.test/?a=b"},
	} {
		if _, err := web.New(pool, tiles.New(pool), auth.New(pool), c, nil); err == nil {
			t.Errorf("web.New(%+v) error = nil; want a refusal", c)
		}
	}
	for _, c := range []web.Config{{}, {Basemap: "osm"}, {PublicURL: "https://maps.example.test/hotspot/"}} {
		if _, err := web.New(pool, tiles.New(pool), auth.New(pool), c, nil); err != nil {
			t.Errorf("web.New(%+v) error = %v; want it accepted", c, err)
		}
	}
	if _, err := web.New(pool, tiles.New(pool), nil, web.Config{}, nil); err == nil {
		t.Error("web.New without a user store error = nil; want a refusal")
	}
}

// TestHostHeader checks that TileJSON's URLs follow the public URL when one
// is set, and that a Host header that is not host[:port] is refused.
func TestHostHeader(t *testing.T) {
	pool := storetest.DB(t)
	srv, err := web.New(pool, tiles.New(pool), auth.New(pool), web.Config{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		host string
		want int
	}{{"127.0.0.1:8080", 200}, {"[::1]:8080", 200}, {"maps.example.test", 200}, {"evil.test/x?", 400}, {"a\"b", 400}, {"", 400}} {
		req := httptest.NewRequest(http.MethodGet, "/tiles/boundaries.json", nil)
		req.Host = tt.host
		rec := httptest.NewRecorder()
		srv.Handler().ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("GET /tiles/boundaries.json with Host %q = %d; want %d", tt.host, rec.Code, tt.want)
		}
		if tt.want == 200 && !strings.Contains(rec.Body.String(), `"http://`+tt.host+`/tiles/boundaries/{z}/{x}/{y}.mvt"`) {
			t.Errorf("TileJSON for Host %q = %s; want tiles on that host", tt.host, rec.Body.String())
		}
	}
	pub, err := web.New(pool, tiles.New(pool), auth.New(pool), web.Config{PublicURL: "https://maps.example.test/hotspot/"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	req := httptest.NewRequest(http.MethodGet, "/tiles/boundaries.json", nil)
	req.Host = "evil.test"
	rec := httptest.NewRecorder()
	pub.Handler().ServeHTTP(rec, req)
	if !strings.Contains(rec.Body.String(), `"https://maps.example.test/hotspot/tiles/boundaries/{z}/{x}/{y}.mvt"`) {
		t.Errorf("TileJSON with a public URL = %s; want its tiles under the public URL", rec.Body.String())
	}
}

// TestHealthzWhenDatabaseDown checks that /healthz says so when the
// database stops answering.
func TestHealthzWhenDatabaseDown(t *testing.T) {
	ts, pool := newServer(t, false)
	pool.Close()
	resp, body := get(t, ts.URL+"/healthz")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "unreachable") {
		t.Errorf("GET /healthz with the pool closed = %d %s; want 503 unreachable", resp.StatusCode, body)
	}
}

// TestTileDeadline checks that a tile query past its deadline gives 503
// with a message, not a hang or a 500.
func TestTileDeadline(t *testing.T) {
	pool := storetest.DB(t)
	srv, err := web.New(pool, tiles.New(pool), auth.New(pool), web.Config{TileTimeout: time.Nanosecond}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	police := signIn(t, ts.URL, pool, auth.Police)
	resp, body := getWith(t, police, ts.URL+"/tiles/incidents/10/508/335.mvt")
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(body), "took too long") {
		t.Errorf("GET tile with a 1ns deadline = %d %s; want 503 saying it took too long", resp.StatusCode, body)
	}
}
