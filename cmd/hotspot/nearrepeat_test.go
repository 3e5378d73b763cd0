package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/paulmach/orb/geojson"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// TestEvaluateFlags: bad ranges and options are usage errors (exit 2) with
// a clear message, before any database is opened.
func TestEvaluateFlags(t *testing.T) {
	tests := []struct {
		args     []string
		inStderr string
	}{
		{[]string{"--test", "2019-02"}, "--train is required"},
		{[]string{"--train", "2018-10..2019-01"}, "--test is required"},
		{[]string{"--train", "2018-10..2019-13", "--test", "2019-02"}, "want FROM..TO months"},
		{[]string{"--train", "2018/10..2019/01", "--test", "2019-02"}, "want FROM..TO months"},
		{[]string{"--train", "2019-01..2018-10", "--test", "2019-02"}, "2018-10 is before 2019-01"},
		{[]string{"--train", "2018-10..2019-01", "--test", "2019-01..2019-02"}, "overlap"},
		{[]string{"--train", "2018-10..", "--test", "2019-02"}, "want FROM..TO months"},
		{[]string{"--train", "2018-10..2019-01", "--test", "2019-02", "--area-share", "0"}, "area share"},
		{[]string{"--train", "2018-10..2019-01", "--test", "2019-02", "--area-share", "0.9"}, "area share"},
		{[]string{"--train", "2018-10..2019-01", "--test", "2019-02", "--priority", "6"}, "priority must be"},
		{[]string{"--train", "2018-10..2019-01", "--test", "2019-02", "--place", ""}, "no place"},
		{[]string{"--train", "2018-10..2019-01", "--test", "2019-02", "--cell-size", "10"}, "cell size"},
		{[]string{"--train", "2018-10", "--test", "2019-02", "extra"}, "unexpected argument"},
	}
	for _, tc := range tests {
		var out, errb bytes.Buffer
		args := append([]string{"evaluate", "--data-dir", filepath.Join(t.TempDir(), "none")}, tc.args...)
		code := run(context.Background(), args, &out, &errb)
		if code != 2 || !strings.Contains(errb.String(), tc.inStderr) {
			t.Errorf("hotspot evaluate %v = exit %d, stderr %q; want exit 2 and %q", tc.args, code, errb.String(), tc.inStderr)
		}
	}
}

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

// TestNearRepeatEvaluateRealData runs nearrepeat and evaluate on the five
// consecutive real months: the Knox table is printed with every band, the
// zones file holds the recent incidents the command says it drew around,
// and the scorecard has a row per method and priority.
func TestNearRepeatEvaluateRealData(t *testing.T) {
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
	t.Run("evaluate", func(t *testing.T) {
		var out, errb bytes.Buffer
		args := append([]string{"evaluate", "--train", "2018-10..2019-01", "--test", "2019-02", "--priority", "3"}, db...)
		if code := run(ctx, args, &out, &errb); code != 0 {
			t.Fatalf("hotspot evaluate = exit %d: %s", code, errb.String())
		}
		text := out.String()
		for _, want := range []string{"train 2018-10..2019-01", "test 2019-02", "PAI", "RRI"} {
			if !strings.Contains(text, want) {
				t.Errorf("evaluate output lacks %q:\n%s", want, text)
			}
		}
		rows := regexp.MustCompile(`(?m)^\s+(all|3)\s+(gi\*|kde|naive)\s`).FindAllString(text, -1)
		if len(rows) != 6 {
			t.Errorf("evaluate printed %d method rows; want 6 (all and priority 3 × 3 methods):\n%s", len(rows), text)
		}
	})
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

// FuzzParseMonthRange: the --train/--test parser never panics, and what it
// accepts is a non-empty run of whole months that prints back the same.
func FuzzParseMonthRange(f *testing.F) {
	for _, s := range []string{"2018-10..2019-01", "2019-02", "2019-02..2019-02", "..", "2018-10..", "..2019-01", "2019-13", "2018-10...2019-01", " 2018-10 .. 2019-01 ", "0000-00", "\xff", "2018-10..2019-01..2019-02"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := parseMonthRange("--train", s)
		if err != nil {
			if !errors.Is(err, errUsage) {
				t.Fatalf("parseMonthRange(%q) error %v is not a usage error", s, err)
			}
			return
		}
		if !p.To.After(p.From) || p.From.Day() != 1 || p.To.Day() != 1 || p.From.Hour() != 0 {
			t.Fatalf("parseMonthRange(%q) = %v; want whole months", s, p)
		}
		again := p.From.Format("2006-01") + ".." + p.To.AddDate(0, -1, 0).Format("2006-01")
		if q, err := parseMonthRange("--train", again); err != nil || q != p {
			t.Fatalf("parseMonthRange(%q) = %v, %v; want %v", again, q, err, p)
		}
	})
}
