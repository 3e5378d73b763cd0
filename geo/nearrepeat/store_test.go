package nearrepeat_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/nearrepeat"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/geo/synth"
)

// dataDir is the shared real data beside the checkout.
const dataDir = "../../../shared/data"

// The five consecutive real months.
var realMonths = []string{"2018-10", "2018-11", "2018-12", "2019-01", "2019-02"}

func needData(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data missing (CI is set, so this fails rather than skips): %v", err)
		}
		t.Skip(err)
	}
}

// loaded gives a database with the five months imported and the named
// places built from the real data.
func loaded(t testing.TB) *pgxpool.Pool {
	t.Helper()
	needData(t)
	ctx := context.Background()
	pool := storetest.DB(t)
	for _, m := range realMonths {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, filepath.Join(dataDir, "police-uk", m+"-leicestershire-street.csv")); err != nil {
			t.Fatalf("import %s: %v", m, err)
		}
	}
	src, err := places.ReadSources(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "nearrepeat test"}); err != nil {
		t.Fatal(err)
	}
	return pool
}

// csvCount counts, straight from the files with encoding/csv, the rows of
// a crime type that have coordinates, in the whole force area and in
// Harborough's LSOAs.
func csvCount(t testing.TB, crimeType string) (all, harborough int) {
	t.Helper()
	for _, m := range realMonths {
		f, err := os.Open(filepath.Join(dataDir, "police-uk", m+"-leicestershire-street.csv"))
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		head, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range head {
			col[h] = i
		}
		for {
			rec, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if rec[col["Crime type"]] != crimeType || rec[col["Longitude"]] == "" {
				continue
			}
			all++
			if strings.HasPrefix(rec[col["LSOA name"]], "Harborough") {
				harborough++
			}
		}
		f.Close()
	}
	return all, harborough
}

var (
	oct2018 = time.Date(2018, 10, 1, 0, 0, 0, 0, time.UTC)
	mar2019 = time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC)
)

// TestRealData runs the whole path on the real months: the incidents read
// match the CSVs, the Knox table adds up, the risk zones cover the recent
// incidents they were drawn around, and the filters hold.
func TestRealData(t *testing.T) {
	pool := loaded(t)
	ctx := context.Background()
	for _, cat := range []struct{ slug, name string }{{"burglary", "Burglary"}, {"vehicle-crime", "Vehicle crime"}} {
		t.Run(cat.slug, func(t *testing.T) {
			wantAll, wantHarb := csvCount(t, cat.name)
			all, err := nearrepeat.Load(ctx, pool, nearrepeat.Query{Categories: []string{cat.slug}, From: oct2018, To: mar2019})
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != wantAll {
				t.Errorf("Load(%s, force area) = %d incidents; the CSVs have %d with coordinates", cat.slug, len(all), wantAll)
			}
			q := nearrepeat.Query{Categories: []string{cat.slug}, From: oct2018, To: mar2019, Place: "harborough-district"}
			incs, err := nearrepeat.Load(ctx, pool, q)
			if err != nil {
				t.Fatal(err)
			}
			// The district outline is generalised, so a point on its edge
			// may fall either side of it: allow 2%.
			if d := math.Abs(float64(len(incs) - wantHarb)); d > 0.02*float64(wantHarb) {
				t.Errorf("Load(%s, district) = %d incidents; the CSVs have %d in Harborough LSOAs", cat.slug, len(incs), wantHarb)
			}
			res, err := nearrepeat.Knox(incs, nearrepeat.Options{Iterations: 99, Seed: 1})
			if err != nil {
				t.Fatal(err)
			}
			if res.Time.Unit != nearrepeat.Months {
				t.Errorf("Knox(police.uk).Time.Unit = %v; want months", res.Time.Unit)
			}
			var sum int64
			for _, row := range res.Cells {
				for _, c := range row {
					sum += c.Observed
					if c.P <= 0 || c.P > 1 {
						t.Errorf("p-value %g out of (0, 1]", c.P)
					}
				}
			}
			if n := int64(len(incs)); sum != n*(n-1)/2 || res.Pairs != sum {
				t.Errorf("Knox table sums to %d (Pairs %d); want n(n-1)/2 = %d", sum, res.Pairs, n*(n-1)/2)
			}
			t.Logf("%s: %d incidents, %d close pairs, same point × same month obs %d exp %.1f p %.3f",
				cat.slug, len(incs), res.ClosePairs, res.Cells[0][0].Observed, res.Cells[0][0].Expected, res.Cells[0][0].P)

			checkZones(t, pool, q, incs)
		})
	}
	// Last: it adds synthetic rows.
	t.Run("filters", func(t *testing.T) { checkFilters(t, pool) })
}

// checkZones draws 400 m zones around February 2019's incidents and checks
// that each incident lies in exactly one zone and the zones add up.
func checkZones(t *testing.T, pool *pgxpool.Pool, q nearrepeat.Query, incs []nearrepeat.Incident) {
	ctx := context.Background()
	e := nearrepeat.Extent{Radius: 400, Window: 1, Unit: nearrepeat.Months, Cells: 1}
	recent := e.Recent(incs, mar2019)
	if len(recent) == 0 {
		t.Fatal("no incidents in February 2019")
	}
	zones, err := nearrepeat.Zones(ctx, pool, e, recent)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	var area float64
	for _, z := range zones {
		total += z.Incidents
		area += z.AreaM2
		if want := time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC); !z.Until.Equal(want) {
			t.Errorf("zone until %s; want %s", z.Until, want)
		}
	}
	if total != len(recent) {
		t.Errorf("zones hold %d incidents; want the %d recent ones", total, len(recent))
	}
	if maxArea := float64(len(recent)) * math.Pi * 400 * 400; area > maxArea || area < math.Pi*400*400*0.95 {
		t.Errorf("zones cover %.0f m²; want between one buffer and %d buffers (%.0f m²)", area, len(recent), maxArea)
	}
	for _, in := range recent {
		var lon, lat float64
		if err := pool.QueryRow(ctx, `SELECT ST_X(geom), ST_Y(geom) FROM incidents WHERE id = $1`, in.ID).Scan(&lon, &lat); err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, z := range zones {
			if planar.PolygonContains(z.Polygon, orb.Point{lon, lat}) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("incident %d (%f, %f) is in %d zones; want 1", in.ID, lon, lat, n)
		}
	}
	fc := nearrepeat.FeatureCollection(zones, e, q)
	if _, err := fc.MarshalJSON(); err != nil || len(fc.Features) != len(zones) {
		t.Errorf("FeatureCollection: %d features, %v; want %d", len(fc.Features), err, len(zones))
	}
}

// checkFilters: unknown places and categories are refused, and synthetic
// rows are kept apart from the real ones.
func checkFilters(t *testing.T, pool *pgxpool.Pool) {
	ctx := context.Background()
	if _, err := nearrepeat.Load(ctx, pool, nearrepeat.Query{Categories: []string{"burglary"}, Place: "atlantis"}); !errors.Is(err, nearrepeat.ErrUnknownPlace) {
		t.Errorf("Load(place atlantis) = %v; want ErrUnknownPlace", err)
	}
	if _, err := nearrepeat.Load(ctx, pool, nearrepeat.Query{Categories: []string{"burglary", "tax-evasion"}}); !errors.Is(err, nearrepeat.ErrUnknownCategory) {
		t.Errorf("Load(category tax-evasion) = %v; want ErrUnknownCategory", err)
	}
	cs, err := nearrepeat.PriorityCategories(ctx, pool, 3)
	if err != nil || !contains(cs, "burglary") || !contains(cs, "vehicle-crime") || contains(cs, "shoplifting") {
		t.Errorf("PriorityCategories(3) = %v, %v; want burglary and vehicle-crime, not shoplifting", cs, err)
	}

	q := nearrepeat.Query{Categories: []string{"burglary"}, From: oct2018, To: mar2019}
	before, err := nearrepeat.Load(ctx, pool, q)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := synth.Load(ctx, pool, synth.Options{Incidents: 2000, Seed: 3, From: oct2018, To: mar2019}); err != nil {
		t.Fatal(err)
	}
	after, err := nearrepeat.Load(ctx, pool, q)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Errorf("Load(real) after synth = %d; want %d as before", len(after), len(before))
	}
	q.Synthetic = true
	syn, err := nearrepeat.Load(ctx, pool, q)
	if err != nil {
		t.Fatal(err)
	}
	var want int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE synthetic AND category = 'burglary' AND geom IS NOT NULL`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	if len(syn) != want || want == 0 {
		t.Errorf("Load(synthetic) = %d; want the %d synthetic burglaries", len(syn), want)
	}
	// Synthetic rows have exact times: day bands apply.
	if res, err := nearrepeat.Knox(syn, nearrepeat.Options{Iterations: 19}); err != nil || res.Time.Unit != nearrepeat.Days {
		t.Errorf("Knox(synthetic) = %v; want day bands", err)
	}
}

func contains(ss []string, s string) bool {
	for _, x := range ss {
		if x == s {
			return true
		}
	}
	return false
}
