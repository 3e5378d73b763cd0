package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb/geojson"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// TestNearRepeatFlags: every mistake is a usage error (exit 2) with a
// message naming the flag, found before any database is opened (there is
// none here: the data directory does not exist).
func TestNearRepeatFlags(t *testing.T) {
	tests := []struct {
		args     []string
		inStderr string
	}{
		{[]string{"--distance-bands", "400,200"}, "--distance-bands"},
		{[]string{"--distance-bands", ""}, "empty"},
		{[]string{"--time-bands", "15"}, "needs a unit"},
		{[]string{"--time-bands", "1mo,15d"}, "mixes units"},
		{[]string{"--iterations", "0"}, "--iterations must be"},
		{[]string{"--from", "2019-13"}, "--from"},
		{[]string{"--from", "2019-02", "--to", "2018-10"}, "before --from"},
		{[]string{"--category", "burglary", "--priority", "3"}, "not both"},
		{[]string{"--priority", "9"}, "--priority must be 1 to 5"},
		{[]string{"--category", "Burglary!"}, "category slugs"},
		{[]string{"--alpha", "1.5"}, "--alpha"},
		{[]string{"--zones", "z.geojson"}, "single --category"},
		{[]string{"extra"}, "unexpected argument"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		args := append([]string{"nearrepeat", "--data-dir", filepath.Join(t.TempDir(), "none")}, tc.args...)
		code := run(context.Background(), args, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.inStderr) {
			t.Errorf("hotspot %v = exit %d, stderr %q; want exit 2 and %q", tc.args, code, errb.String(), tc.inStderr)
		}
	}
}

// TestNearRepeatRealData runs the command on the five consecutive real
// months: the table is printed with every band, and the zones file holds
// the recent incidents the command says it drew around.
func TestNearRepeatRealData(t *testing.T) {
	files := needData(t)
	var months []string
	for _, f := range files {
		if strings.Contains(f, "2018-") || strings.Contains(f, "2019-") {
			months = append(months, f)
		}
	}
	dsn := storetest.ConnString(storetest.DB(t))
	db := []string{"--database-url", dsn, "--log-level", "warn"}
	ctx := context.Background()
	for _, args := range [][]string{
		append(append([]string{"import", "police-uk"}, db...), months...),
		append([]string{"places", "build", "--data", dataDir}, db...),
	} {
		var out, errb bytes.Buffer
		if code := run(ctx, args, &out, &errb); code != 0 {
			t.Fatalf("hotspot %v = exit %d: %s", args[:2], code, errb.String())
		}
	}
	zones := filepath.Join(t.TempDir(), "zones.geojson")
	var out, errb bytes.Buffer
	args := append([]string{"nearrepeat", "--category", "burglary", "--from", "2018-10", "--to", "2019-02", "--iterations", "199", "--zones", zones}, db...)
	if code := run(ctx, args, &out, &errb); code != 0 {
		t.Fatalf("hotspot nearrepeat = exit %d: %s", code, errb.String())
	}
	text := out.String()
	for _, want := range []string{"Knox test: burglary in harborough-district, 2018-10 to 2019-02", "months only", "same point  same month", ">=1600 m      >=4 mo"} {
		if !strings.Contains(text, want) {
			t.Errorf("nearrepeat output lacks %q:\n%s", want, text)
		}
	}
	if rows := strings.Count(text, " mo ") + strings.Count(text, "same month"); rows != 6*4 {
		t.Errorf("nearrepeat table has %d rows; want 24 (6 distance × 4 time bands):\n%s", rows, text)
	}
	b, err := os.ReadFile(zones)
	if err != nil {
		t.Fatal(err)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		t.Fatalf("zones file: %v", err)
	}
	m := regexp.MustCompile(`risk zones: (\d+) polygons around (\d+) recent incidents`).FindStringSubmatch(text)
	if m == nil {
		if !strings.Contains(text, "risk zones: none") || len(fc.Features) != 0 {
			t.Fatalf("nearrepeat output says nothing consistent about zones (%d features):\n%s", len(fc.Features), text)
		}
		return
	}
	polys, _ := strconv.Atoi(m[1])
	recent, _ := strconv.Atoi(m[2])
	sum := 0
	for _, f := range fc.Features {
		sum += int(f.Properties.MustFloat64("incidents"))
	}
	if len(fc.Features) != polys || sum != recent {
		t.Errorf("zones file: %d features holding %d incidents; the command said %d and %d", len(fc.Features), sum, polys, recent)
	}
}
