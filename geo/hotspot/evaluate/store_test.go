package evaluate_test

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

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/hotspot/evaluate"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

const dataDir = "../../../../shared/data"

var realMonths = []string{"2018-10", "2018-11", "2018-12", "2019-01", "2019-02"}

func month(t testing.TB, s string) geo.Period {
	p, err := geo.ParseMonth(s)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// harboroughRows counts a month's rows in Harborough's LSOAs that have
// coordinates, straight from the CSV.
func harboroughRows(t testing.TB, m string) int {
	f, err := os.Open(filepath.Join(dataDir, "police-uk", m+"-leicestershire-street.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec[4] != "" && strings.HasPrefix(rec[8], "Harborough") {
			n++
		}
	}
}

// TestRunRealData scores the real months (train October 2018 to January
// 2019, test February 2019) and checks the numbers against the CSVs and
// against PostGIS: the test incidents inside the naive method's cells,
// counted by ST_Covers on the cells' hexagons, are its hits.
func TestRunRealData(t *testing.T) {
	if _, err := os.Stat(dataDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data missing (CI is set): %v", err)
		}
		t.Skip(err)
	}
	ctx := context.Background()
	pool := storetest.DB(t)
	for _, m := range realMonths {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, filepath.Join(dataDir, "police-uk", m+"-leicestershire-street.csv")); err != nil {
			t.Fatal(err)
		}
	}
	src, err := places.ReadSources(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "evaluate test"}); err != nil {
		t.Fatal(err)
	}
	o := evaluate.Options{
		Place:     "harborough-district",
		Train:     geo.Period{From: month(t, "2018-10").From, To: month(t, "2019-01").To},
		Test:      month(t, "2019-02"),
		AreaShare: 0.03,
	}
	r, err := evaluate.Run(ctx, pool, o)
	if err != nil {
		t.Fatal(err)
	}
	wantTrain := 0
	for _, m := range realMonths[:4] {
		wantTrain += harboroughRows(t, m)
	}
	wantTest := harboroughRows(t, "2019-02")
	// The generalised outline may put a point on its edge either side.
	if math.Abs(float64(r.Train-wantTrain)) > 0.02*float64(wantTrain) || math.Abs(float64(r.Test-wantTest)) > 0.02*float64(wantTest) {
		t.Errorf("Run: train %d, test %d incidents; the CSVs have %d and %d in Harborough LSOAs", r.Train, r.Test, wantTrain, wantTest)
	}
	if len(r.Rows) != 6*3 {
		t.Fatalf("Run: %d rows; want 18 (6 priorities × 3 methods)", len(r.Rows))
	}
	var priorityTrain float64
	for _, row := range r.Rows {
		s := row.Score
		if s.Cells > r.Budget || s.AreaShare > o.AreaShare {
			t.Errorf("%s priority %d: %d cells (%.4f); want at most %d (%g)", row.Method, row.Priority, s.Cells, s.AreaShare, r.Budget, o.AreaShare)
		}
		if row.Priority == 0 && (s.TrainTotal != float64(r.Train) || s.TestTotal != float64(r.Test)) {
			t.Errorf("%s all: totals %g/%g; want %d/%d", row.Method, s.TrainTotal, s.TestTotal, r.Train, r.Test)
		}
		if row.Priority != 0 && row.Method == evaluate.Naive {
			priorityTrain += s.TrainTotal
		}
		if row.Method == evaluate.Naive && row.Priority == 0 {
			if got := hitsByPostGIS(t, ctx, pool, r, row); got != int(s.TestIn) {
				t.Errorf("naive all: %g hits; PostGIS counts %d test incidents in its cells", s.TestIn, got)
			}
		}
	}
	// Priorities 1-5 hold every incident except other-crime (no priority).
	var other int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM incidents i JOIN places p ON p.slug = 'harborough-district' AND ST_Covers(p.geom_bng, i.geom_bng)
		WHERE i.category = 'other-crime' AND i.occurred_from >= $1 AND i.occurred_from < $2`, o.Train.From, o.Train.To).Scan(&other); err != nil {
		t.Fatal(err)
	}
	if int(priorityTrain)+other != r.Train {
		t.Errorf("priorities 1-5 hold %g training incidents + %d other-crime; want %d", priorityTrain, other, r.Train)
	}
	if _, err := evaluate.Run(ctx, pool, evaluate.Options{Place: "atlantis", Train: o.Train, Test: o.Test, AreaShare: 0.03}); !errors.Is(err, evaluate.ErrUnknownPlace) {
		t.Errorf("Run(atlantis) = %v; want ErrUnknownPlace", err)
	}
}

// hitsByPostGIS counts with ST_Covers the test incidents in the place that
// lie in the row's picked hexagons.
func hitsByPostGIS(t *testing.T, ctx context.Context, pool *pgxpool.Pool, r *evaluate.Report, row evaluate.Row) int {
	t.Helper()
	var hexes [][]byte
	for _, c := range row.Picked {
		b, err := wkb.Marshal(r.Grid.Polygon(c))
		if err != nil {
			t.Fatal(err)
		}
		hexes = append(hexes, b)
	}
	var n int
	err := pool.QueryRow(ctx, `
SELECT count(*) FROM incidents i
JOIN places p ON p.slug = $1 AND ST_Covers(p.geom_bng, i.geom_bng)
WHERE NOT i.synthetic AND i.occurred_from >= $2 AND i.occurred_from < $3
  AND EXISTS (SELECT 1 FROM unnest($4::bytea[]) h WHERE ST_Covers(ST_SetSRID(ST_GeomFromWKB(h), 27700), i.geom_bng))`,
		r.Place, r.Options.Test.From, r.Options.Test.To, hexes).Scan(&n)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
