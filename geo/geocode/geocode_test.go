package geocode_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/geocode"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// dataDir is the shared real data beside the checkout.
const dataDir = "../../../shared/data"

func needData(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no shared data (CI is set, so this fails rather than skips): %v", err)
		}
		t.Skipf("no shared data: %v", err)
	}
}

var (
	srcOnce sync.Once
	src     *places.Sources
	srcErr  error
)

// trainMonths are the police.uk files the streets are learned from; the
// 2024 months are kept out, to score street matching on (quality set b).
// testMonths are held out.
var testMonths = []string{"2024-01-leicestershire-street.csv", "2024-02-leicestershire-street.csv"}

var trainMonths = []string{
	"2018-10-leicestershire-street.csv", "2018-11-leicestershire-street.csv", "2018-12-leicestershire-street.csv",
	"2019-01-leicestershire-street.csv", "2019-02-leicestershire-street.csv",
}

// loaded returns a database with the real district outline, Code-Point
// Open, all seven police.uk months, the named places and the gazetteer
// (streets learned from the five 2018/19 months only).
func loaded(t testing.TB) *pgxpool.Pool {
	t.Helper()
	needData(t)
	ctx := context.Background()
	pool := storetest.DB(t)
	f, err := os.Open(filepath.Join(dataDir, "boundaries", "harborough-district.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := ingest.ReadBoundaries(f, "", "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.LoadBoundaries(ctx, pool, "district", bs); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.ImportPostcodesFile(ctx, pool, filepath.Join(dataDir, "postcodes", "codepoint-open-2025-10-le.csv")); err != nil {
		t.Fatal(err)
	}
	months, _ := filepath.Glob(filepath.Join(dataDir, "police-uk", "*.csv"))
	sort.Strings(months)
	for _, m := range months {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, m); err != nil {
			t.Fatal(err)
		}
	}
	srcOnce.Do(func() { src, srcErr = places.ReadSources(dataDir) })
	if srcErr != nil {
		t.Fatal(srcErr)
	}
	if _, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "geocode test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := geocode.LoadGeoNames(ctx, pool, filepath.Join(dataDir, "places")); err != nil {
		t.Fatal(err)
	}
	if _, err := geocode.LoadNamedPlaces(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := geocode.LearnStreets(ctx, pool, trainMonths); err != nil {
		t.Fatal(err)
	}
	return pool
}

func TestGeocodeSmoke(t *testing.T) {
	pool := loaded(t)
	g := geocode.New(pool)
	for _, q := range []string{
		"LE16 7NJ", "le167nj", "12 High St, Market Harborough LE16 7NJ", "On or near Church Street",
		"outside Tesco, Lutterworth", "SP 735 873", "473401, 287452", "52.4775, -0.9213",
		"Welland Park", "Magna Park", "the square, market harborough", "Market Harborough railway station",
		"Springfeild St, Market Harborough", "n/a", "???", "LE1O 4AA", "LE16 7", "Lutterworth",
	} {
		r, err := g.Geocode(context.Background(), geocode.Query{Text: q})
		if err != nil {
			t.Fatalf("Geocode(%q) = %v", q, err)
		}
		t.Logf("%-45q %-15s %-18s %.3f %-40q %.0f,%.0f in=%v alts=%d %s", q, r.Status, r.Best.Method, r.Best.Confidence, r.Best.Label, r.Best.Easting, r.Best.Northing, r.Best.InDistrict, len(r.Alternatives), r.Reason)
	}
}
