package main

import (
	"bytes"
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// TestGeocodeCLI runs the batch geocoder end to end as a user would:
// import two police.uk months, build the places, load the gazetteer from
// the data folder and an LLPG file, geocode a CSV of varied address
// forms, and evaluate the gazetteer.
func TestGeocodeCLI(t *testing.T) {
	needData(t)
	dsn := storetest.ConnString(storetest.DB(t))
	ctx := context.Background()
	// hotspot runs "hotspot CMD --database-url ... ARGS".
	hotspot := func(cmd string, rest ...string) string {
		t.Helper()
		var out, errb bytes.Buffer
		args := append(append(strings.Fields(cmd), "--database-url", dsn, "--log-level", "warn"), rest...)
		if code := run(ctx, args, &out, &errb); code != 0 {
			t.Fatalf("hotspot %s = exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, out.String(), errb.String())
		}
		return out.String() + errb.String()
	}
	hotspot("import boundaries", "--kind", "district", filepath.Join(dataDir, "boundaries", "harborough-district.geojson"))
	hotspot("import police-uk", filepath.Join(dataDir, "police-uk", "2019-02-leicestershire-street.csv"), filepath.Join(dataDir, "police-uk", "2024-02-leicestershire-street.csv"))
	hotspot("places build", "--data", dataDir)
	load := hotspot("gazetteer load", "--data", dataDir)
	for _, want := range []string{"read 23249", "100 settlements", "347 settlements", "streets learned", "police-uk"} {
		if !strings.Contains(load, want) {
			t.Errorf("gazetteer load output lacks %q:\n%s", want, load)
		}
	}
	// A second load gives the same table.
	again := hotspot("gazetteer load", "--data", dataDir)
	if tail(load) != tail(again) {
		t.Errorf("second load changed the gazetteer:\n%s\nthen\n%s", tail(load), tail(again))
	}
	llpg := hotspot("gazetteer load", "--address-points", filepath.Join("..", "..", "geo", "geocode", "testdata", "llpg-sample.csv"))
	if !strings.Contains(llpg, "4 address points loaded") || !strings.Contains(llpg, "rejected line") {
		t.Errorf("address-point load:\n%s", llpg)
	}

	dir := t.TempDir()
	in := filepath.Join(dir, "in.csv")
	rows := [][]string{
		{"ref", "address", "note"},
		{"a", "LE16 7NJ", "postcode"},
		{"b", "le167nj", "compact"},
		{"c", "12 High St, Market Harborough LE16 7NJ", "address point"},
		{"d", "Church St, Lutterworth", "street"},
		{"e", "Welland Park", "park"},
		{"f", "SP 7350 8730", "grid ref"},
		{"g", "52.4775, -0.9213", "lat lon"},
		{"h", "n/a", "none"},
		{"i", "#!?%", "garbage"},
		{"j", "Zzyzxqq", "unknown"},
		{"k", "outside Tesco, Lutterworth", "shop"},
	}
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	w.WriteAll(rows)
	if err := os.WriteFile(in, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out.csv")
	msg := hotspot("geocode", "--in", in, "--out", out)
	if !strings.Contains(msg, "geocoded 11 rows") {
		t.Errorf("geocode summary: %s", msg)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	got, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if h := strings.Join(got[0], ","); h != "ref,address,note,lat,lon,easting,northing,confidence,method,matched,status,reason" {
		t.Fatalf("header %q", h)
	}
	want := map[string][3]string{ // ref -> method, status, easting
		"a": {"postcode", "matched", "473295"},
		"b": {"postcode", "matched", "473295"},
		"c": {"address", "matched", "473302"},
		"d": {"street", "matched", ""},
		"e": {"place", "matched", ""},
		"f": {"gridref", "matched", "473500"},
		"g": {"latlon", "matched", ""},
		"h": {"", "no-location", ""},
		"i": {"", "not-understood", ""},
		"j": {"", "not-found", ""},
		"k": {"place", "low-confidence", ""},
	}
	if len(got) != len(rows) {
		t.Fatalf("%d output rows; want %d", len(got), len(rows))
	}
	for i, r := range got[1:] {
		if r[0] != rows[i+1][0] || r[1] != rows[i+1][1] || r[2] != rows[i+1][2] {
			t.Errorf("row %d passed through as %v; want %v", i+1, r[:3], rows[i+1])
		}
		wt := want[r[0]]
		if r[8] != wt[0] || r[10] != wt[1] || (wt[2] != "" && r[5] != wt[2]) {
			t.Errorf("row %s (%q): method %q status %q easting %q; want %v (reason %q)", r[0], r[1], r[8], r[10], r[5], wt, r[11])
		}
		if placed := r[10] == "matched" || r[10] == "low-confidence"; placed {
			lat, err1 := strconv.ParseFloat(r[3], 64)
			conf, err2 := strconv.ParseFloat(r[7], 64)
			if err1 != nil || err2 != nil || lat < 52.3 || lat > 52.7 || conf <= 0 || conf > 1 || r[9] == "" {
				t.Errorf("row %s: lat %q confidence %q matched %q", r[0], r[3], r[7], r[9])
			}
		} else if r[3] != "" || r[7] != "" {
			t.Errorf("row %s (%s) has a point: %v", r[0], r[10], r)
		}
	}
	// Parts in columns of their own.
	parts := filepath.Join(dir, "parts.csv")
	os.WriteFile(parts, []byte("address,pc,street,town\n,le16 7nj,,\n,,Church St,Lutterworth\n\"near the\",,Welland Park Road,Market Harborough\n"), 0o644)
	pout := hotspot("geocode", "--in", parts, "--out", "-", "--postcode-column", "pc", "--street-column", "street", "--town-column", "town")
	for _, want := range []string{",postcode,LE16 7NJ,matched,", ",street,\"Church Street, Lutterworth\",matched,", ",street,\"Welland Park Road, Market Harborough\",matched,"} {
		if !strings.Contains(pout, want) {
			t.Errorf("geocode with part columns lacks %s:\n%s", want, pout)
		}
	}

	// A missing column is refused, and the output file is not written.
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("ref,place\n1,x\n"), 0o644)
	var o, e bytes.Buffer
	if code := run(ctx, []string{"geocode", "--database-url", dsn, "--log-level", "warn", "--in", bad, "--out", filepath.Join(dir, "never.csv")}, &o, &e); code != 1 || !strings.Contains(e.String(), `no "address" column`) {
		t.Errorf("geocode of a CSV without the column = exit %d, %s", code, e.String())
	}
	if _, err := os.Stat(filepath.Join(dir, "never.csv")); err == nil {
		t.Error("a failed geocode left an output file")
	}

	ev := hotspot("gazetteer evaluate")
	for _, want := range []string{"streets learned from 1 files (2019-02-leicestershire-street.csv)", "postcode/printed", "street/as-written", "geocodes/s"} {
		if !strings.Contains(ev, want) {
			t.Errorf("evaluate output lacks %q:\n%s", want, ev)
		}
	}
	// Every district postcode as printed is matched to its own unit.
	for _, line := range strings.Split(ev, "\n") {
		if strings.HasPrefix(line, "postcode/printed") && strings.Count(line, "100.00%") != 3 {
			t.Errorf("postcodes as printed not all matched exactly: %s", line)
		}
	}
}

// tail is the table at the end of a gazetteer load's output.
func tail(s string) string {
	if i := strings.Index(s, "SOURCE"); i >= 0 {
		return s[i:]
	}
	return s
}
