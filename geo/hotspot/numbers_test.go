package hotspot_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/hotspot"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// The hand-built place: a 2 km square in British National Grid, and the
// point P at its centre where the test's crimes concentrate.
const (
	sqX0, sqY0, sqX1, sqY1 = 450000.0, 280000.0, 452000.0, 282000.0
	pX, pY                 = 451000.0, 281000.0
)

type fixture struct {
	pool       *pgxpool.Pool
	background int // incidents spread over the square, one per point
	batch      int64
	next       int
}

func (f *fixture) add(t testing.TB, source, cat string, from, to time.Time, x, y float64, synthetic bool) {
	t.Helper()
	f.next++
	_, err := f.pool.Exec(context.Background(), `INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, geom, geom_bng, geom_web, batch_id, synthetic)
SELECT $1, $2, $3, $4, $5, ST_Transform(g, 4326), g, ST_Transform(g, 3857), $6, $7
FROM (SELECT ST_SetSRID(ST_MakePoint($8, $9), 27700) AS g) p`, source, fmt.Sprint("t", f.next), cat, from, to, f.batch, synthetic, x, y)
	if err != nil {
		t.Fatal(err)
	}
}

func month(y int, m time.Month) (time.Time, time.Time) {
	from := time.Date(y, m, 1, 0, 0, 0, 0, time.UTC)
	return from, from.AddDate(0, 1, 0)
}

// handBuilt makes a database with one place (the square) and:
//
//   - March 2024 at P: 20 anti-social behaviour reports at exact times,
//     four on each Friday of the month at 22:05-22:45 (GMT = UTC then);
//     10 shoplifting reports at exact times on Saturday 9 March 10:00-10:27;
//     5 police.uk burglaries known only to the month.
//   - February 2024 at P: 10 anti-social behaviour reports (Tuesday 14:00).
//   - March 2023 at P: 5 anti-social behaviour reports.
//   - March 2024 spread: one police.uk "other crime" (no priority) at each
//     point of a 180 m lattice over the square (11 × 11 points from 90 m
//     inside its corner) more than 600 m from P: 121 − 37 = 84.
//
// A hotspot needs a study area of enough cells: with one ring as the
// neighbourhood, a spike in a single cell reaches at most
// z ≈ √(n/7)·(1 − 7/n) however many incidents it holds (its own size also
// inflates S), so the background is what makes n large enough here.
//   - June 2024 at P: 50 synthetic rows, which real analyses ignore.
func handBuilt(t testing.TB) *fixture {
	t.Helper()
	ctx := context.Background()
	f := &fixture{pool: storetest.DB(t)}
	if _, err := f.pool.Exec(ctx, `INSERT INTO places (slug, name, kind, geom, origin, method, sources, built_by)
VALUES ('square', 'The Square', 'town', ST_Multi(ST_Transform(ST_MakeEnvelope($1, $2, $3, $4, 27700), 4326)), 'built', 'test square', '{test}', 'test')`,
		sqX0, sqY0, sqX1, sqY1); err != nil {
		t.Fatal(err)
	}
	if err := f.pool.QueryRow(ctx, `INSERT INTO import_batches (source, file_name, file_sha256, file_bytes) VALUES ('test', 'test', '', 0) RETURNING id`).Scan(&f.batch); err != nil {
		t.Fatal(err)
	}
	for i, fri := range []int{1, 8, 15, 22, 29} {
		for k := 0; k < 4; k++ {
			at := time.Date(2024, 3, fri, 22, 5+10*k, 0, 0, time.UTC)
			f.add(t, "partner", "anti-social-behaviour", at, at.Add(time.Second), pX, pY, false)
		}
		_ = i
	}
	for k := 0; k < 10; k++ {
		at := time.Date(2024, 3, 9, 10, 3*k, 0, 0, time.UTC)
		f.add(t, "partner", "shoplifting", at, at.Add(time.Second), pX, pY, false)
	}
	mf, mt := month(2024, 3)
	for k := 0; k < 5; k++ {
		f.add(t, "police-uk", "burglary", mf, mt, pX, pY, false)
	}
	for k := 0; k < 10; k++ {
		at := time.Date(2024, 2, 6, 14, 0, 0, 0, time.UTC)
		f.add(t, "partner", "anti-social-behaviour", at, at.Add(time.Second), pX, pY, false)
	}
	for k := 0; k < 5; k++ {
		at := time.Date(2023, 3, 10, 20, 0, 0, 0, time.UTC)
		f.add(t, "partner", "anti-social-behaviour", at, at.Add(time.Second), pX, pY, false)
	}
	for x := sqX0 + 90; x < sqX1; x += 180 {
		for y := sqY0 + 90; y < sqY1; y += 180 {
			if math.Hypot(x-pX, y-pY) > 600 {
				f.add(t, "police-uk", "other-crime", mf, mt, x, y, false)
				f.background++
			}
		}
	}
	for k := 0; k < 50; k++ {
		at := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
		f.add(t, "synth", "drugs", at, at.Add(time.Second), pX, pY, true)
	}
	return f
}

func find(t *testing.T, hs []hotspot.Feature, conf int, contains float64) *hotspot.Feature {
	t.Helper()
	for i := range hs {
		if hs[i].Confidence != nil && *hs[i].Confidence == conf && hs[i].Rank == 1 {
			return &hs[i]
		}
	}
	return nil
}

func TestNumbersHandBuilt(t *testing.T) {
	f := handBuilt(t)
	ctx := context.Background()
	s, err := hotspot.Rebuild(ctx, f.pool, hotspot.Options{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s.LatestMonth.Format("2006-01"); got != "2024-03" {
		t.Fatalf("latest month = %s; want 2024-03 (the synthetic June left out)", got)
	}
	if f.background != 84 {
		t.Fatalf("background = %d; want 84", f.background)
	}
	march := 35 + f.background

	// The grid: √(4e6 / (n12 · 2.598)) with n12 = 35 + 10 + 84 = 129
	// incidents in the last 12 months: √(4e6/335.2) = 109.2 → 110 m
	// (the MinCells cap, √(4e6/77.94) = 226.5, does not bind).
	var cellSize float64
	if err := f.pool.QueryRow(ctx, `SELECT (parameters->>'cell_size_m')::float8 FROM hotspot_sets WHERE method = 'gi-star' LIMIT 1`).Scan(&cellSize); err != nil {
		t.Fatal(err)
	}
	if cellSize != 110 {
		t.Errorf("cell size = %v; want 110", cellSize)
	}

	all := 0
	hs, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{Place: "square", Priority: &all, Window: "last-1", Method: hotspot.MethodGiStar})
	if err != nil {
		t.Fatal(err)
	}
	h := find(t, hs, 99, 0)
	if h == nil {
		var params string
		f.pool.QueryRow(ctx, `SELECT string_agg(place || ' ' || priority || ' ' || time_window || ' ' || method || ' ' || place_incidents || ' ' || parameters::text, E'\n') FROM hotspot_sets WHERE priority = 0`).Scan(&params)
		t.Fatalf("no 99%% hotspot for all crime last month; got %d hotspots\n%s", len(hs), params)
	}
	checkInt := func(name string, got *int, want int) {
		t.Helper()
		if got == nil || *got != want {
			t.Errorf("%s = %v; want %d", name, deref(got), want)
		}
	}
	// P's 35 incidents, and no lattice point within 600 m: the hotspot is
	// P's cell and at most its ring (centres 191 m away, reaching 301 m).
	if h.Incidents != 35 {
		t.Errorf("incidents = %d; want 35", h.Incidents)
	}
	if want := 35.0 / float64(march); math.Abs(h.Share-want) > 1e-12 {
		t.Errorf("share = %v; want 35/%d = %v", h.Share, march, want)
	}
	// Area: cells × 3√3/2 · 110² = cells × 31,436.6 m².
	if want := float64(h.Cells) * 1.5 * math.Sqrt(3) * 110 * 110 / 1e6; math.Abs(h.AreaKm2-want) > 1e-9 {
		t.Errorf("area = %v km²; want %d cells = %v", h.AreaKm2, h.Cells, want)
	}
	// February: 10 at P → +250%; March 2023: 5 → +600%.
	checkInt("prev_incidents", h.PrevIncidents, 10)
	checkInt("yoy_incidents", h.YoYIncidents, 5)
	if h.PrevChange == nil || math.Abs(*h.PrevChange-250) > 1e-9 || h.YoYChange == nil || math.Abs(*h.YoYChange-600) > 1e-9 {
		t.Errorf("changes = %v, %v; want 250, 600", derefF(h.PrevChange), derefF(h.YoYChange))
	}
	// Peaks: March; Friday (20 timed reports against Saturday's 10);
	// 22:00 (20 against 10:00's 10). The 5 month-only burglaries count in
	// the month only.
	checkInt("peak_month", h.PeakMonth, 3)
	checkInt("peak_weekday", h.PeakWeekday, int(time.Friday))
	checkInt("peak_hour", h.PeakHour, 22)
	wantCats := []hotspot.CategoryCount{{Category: "anti-social-behaviour", Count: 20}, {Category: "shoplifting", Count: 10}, {Category: "burglary", Count: 5}}
	if fmt.Sprint(h.TopCategories) != fmt.Sprint(wantCats) {
		t.Errorf("top categories = %v; want %v", h.TopCategories, wantCats)
	}
	// One repeat location, P, with all 35; a police.uk record lies there,
	// so it is marked as a snapping point.
	if h.RepeatPoints != 1 || h.RepeatIncidents != 35 || len(h.RepeatLocations) != 1 ||
		h.RepeatLocations[0].Count != 35 || !h.RepeatLocations[0].SnappingPoint {
		t.Errorf("repeat = %d points, %d incidents, %+v; want P with 35, a snapping point", h.RepeatPoints, h.RepeatIncidents, h.RepeatLocations)
	}
	// The outline holds P and matches the incidents PostGIS finds in it.
	var inside int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM incidents i JOIN hotspots h ON ST_Intersects(h.geom_bng, i.geom_bng)
		WHERE h.id = $1 AND NOT i.synthetic AND i.occurred_from >= '2024-03-01' AND i.occurred_from < '2024-04-01'`, h.ID).Scan(&inside); err != nil {
		t.Fatal(err)
	}
	if inside != 35 {
		t.Errorf("PostGIS counts %d March incidents in the outline; want 35", inside)
	}

	// Priority 4 (shoplifting) alone: 10 at P and nothing else, over the
	// n cells of the study area. P and its six neighbours share
	//   X̄ = 10/n, S = √(100/n − X̄²),
	//   z = (10 − 7·X̄) / (S·√((7n − 49)/(n − 1))),
	// and every other cell has z < 0. With n = 127 (about 4 km² / 31,437
	// m²): X̄ = 0.0787, S = 0.8838, z = 9.449/(0.8838·2.5752) = 4.151,
	// p = 3.3e-5. BH ranks the seven tied cells first, so they pass at
	// level L when p ≤ 7·(1 − L)/n: at 99% the line is 7·0.01/127 =
	// 0.00055. So 90, 95 and 99% hotspots of the same 7 cells and 10
	// incidents. The test recomputes z with the stored n.
	var n int
	if err := f.pool.QueryRow(ctx, `SELECT (parameters->>'cells')::int FROM hotspot_sets WHERE method = 'gi-star' AND priority = 4 AND time_window = 'last-1'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	nf := float64(n)
	mean := 10 / nf
	sd := math.Sqrt(100/nf - mean*mean)
	z := (10 - 7*mean) / (sd * math.Sqrt((7*nf-49)/(nf-1)))
	if p := math.Erfc(z / math.Sqrt2); p > 7*0.01/nf || n < 110 || n > 140 {
		t.Fatalf("n = %d, z = %v, p = %v: the fixture no longer gives a 99%% hotspot", n, z, p)
	}
	four := 4
	hs4, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{Place: "square", Priority: &four, Window: "last-1", Method: hotspot.MethodGiStar})
	if err != nil {
		t.Fatal(err)
	}
	var levels []int
	for _, x := range hs4 {
		levels = append(levels, *x.Confidence)
	}
	if fmt.Sprint(levels) != "[90 95 99]" {
		t.Fatalf("priority 4 hotspots at levels %v; want [90 95 99]", levels)
	}
	for _, h4 := range hs4 {
		if h4.Cells != 7 || h4.Incidents != 10 || h4.Share != 1 || fmt.Sprint(h4.TopCategories) != "[{shoplifting 10}]" || math.Abs(*h4.MaxZ-z) > 1e-9 {
			t.Errorf("priority 4 hotspot = %d cells, %d incidents, share %v, %v, z %v; want 7, 10, 1, shoplifting, %v",
				h4.Cells, h4.Incidents, h4.Share, h4.TopCategories, *h4.MaxZ, z)
		}
	}

	// last-3: the previous window (Oct-Dec 2023) and a year earlier
	// (Jan-Mar 2023: January and February absent) are not in the data.
	hs3, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{Place: "square", Priority: &all, Window: "last-3", Method: hotspot.MethodGiStar, MinConfidence: 99})
	if err != nil || len(hs3) == 0 {
		t.Fatalf("last-3 hotspots = %d, %v", len(hs3), err)
	}
	if hs3[0].PrevIncidents != nil || hs3[0].YoYIncidents != nil || hs3[0].PrevChange != nil {
		t.Errorf("last-3 trend = %v, %v; want null (no data)", deref(hs3[0].PrevIncidents), deref(hs3[0].YoYIncidents))
	}
	if hs3[0].Incidents != 45 {
		t.Errorf("last-3 incidents = %d; want 45 (35 in March, 10 in February)", hs3[0].Incidents)
	}

	// KDE: the densest 5% of the square (0.2 km²) lies around P.
	kde, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{Place: "square", Priority: &all, Window: "last-1", Method: hotspot.MethodKDE})
	if err != nil || len(kde) == 0 {
		t.Fatalf("KDE hotspots = %d, %v", len(kde), err)
	}
	var totalKm2 float64
	for _, k := range kde {
		totalKm2 += k.AreaKm2
	}
	// The contour covers 5% of the square (0.2 km²); parts holding fewer
	// than two incidents are dropped, so the kept parts cover at most that
	// and at least P's own part (the kernel around P reaches 100 m: up to
	// π·0.1² = 0.031 km²).
	if totalKm2 < 0.01 || totalKm2 > 0.21 || kde[0].Incidents < 35 {
		t.Errorf("KDE contour %v km² (want 0.01-0.21), top part %d incidents (want ≥ 35)", totalKm2, kde[0].Incidents)
	}

	// The place summary.
	sum, err := hotspot.SummaryOf(ctx, f.pool, "square")
	if err != nil {
		t.Fatal(err)
	}
	if len(sum.Months) != 12 || sum.Months[11] != "2024-03" || sum.Months[0] != "2023-04" {
		t.Fatalf("summary months = %v", sum.Months)
	}
	monthly := func(p, i int) *int { return sum.ByPriority[p].Counts[i] }
	checkInt("all crime March", monthly(0, 11), march)
	checkInt("priority 2 March", monthly(2, 11), 20)
	checkInt("priority 2 February", monthly(2, 10), 10)
	checkInt("priority 4 March", monthly(4, 11), 10)
	checkInt("priority 3 March", monthly(3, 11), 5)
	if monthly(0, 5) != nil {
		t.Errorf("September 2023 (no data) = %d; want null", *monthly(0, 5))
	}
	for _, w := range sum.Windows {
		if w.Priority == 0 && w.Window == "last-1" {
			checkInt("summary last-1 prev", w.PrevIncidents, 10)
			if w.Incidents != march {
				t.Errorf("summary last-1 incidents = %d; want %d", w.Incidents, march)
			}
		}
	}
	if _, err := hotspot.SummaryOf(ctx, f.pool, "nowhere"); !errors.Is(err, hotspot.ErrUnknownPlace) {
		t.Errorf("SummaryOf(nowhere) = %v; want ErrUnknownPlace", err)
	}
	locs, err := hotspot.Locations(ctx, f.pool)
	if err != nil || len(locs) != 1 || locs[0].Slug != "square" || deref(locs[0].Incidents12) != march+10 {
		t.Errorf("Locations = %+v, %v; want the square with %d incidents in 12 months", locs, err, march+10)
	}

	// With synthetic rows asked for, June 2024 becomes the latest month.
	s2, err := hotspot.Rebuild(ctx, f.pool, hotspot.Options{Synthetic: true, Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if got := s2.LatestMonth.Format("2006-01"); got != "2024-06" {
		t.Errorf("latest month with synthetic = %s; want 2024-06", got)
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}

func derefF(p *float64) any {
	if p == nil {
		return nil
	}
	return *p
}

// TestRebuildAtomic forces a rebuild to fail at its last step and shows
// the old set still current and whole; and readers running during
// rebuilds never see a mix or an empty set.
func TestRebuildAtomic(t *testing.T) {
	f := handBuilt(t)
	ctx := context.Background()
	first, err := hotspot.Rebuild(ctx, f.pool, hotspot.Options{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	before, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{})
	if err != nil || len(before) == 0 {
		t.Fatalf("Hotspots = %d, %v", len(before), err)
	}
	// New data, so a successful rebuild would change the numbers; then a
	// trigger that makes moving the pointer fail, after every hotspot of
	// the new run has been written.
	mf, mt := month(2024, 3)
	for k := 0; k < 30; k++ {
		f.add(t, "police-uk", "drugs", mf, mt, sqX0+300, sqY0+300, false)
	}
	if _, err := f.pool.Exec(ctx, `CREATE FUNCTION fail_switch() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'forced failure'; END $$;
CREATE TRIGGER fail_switch BEFORE UPDATE ON hotspot_current FOR EACH ROW EXECUTE FUNCTION fail_switch()`); err != nil {
		t.Fatal(err)
	}
	if _, err := hotspot.Rebuild(ctx, f.pool, hotspot.Options{Trigger: "test"}); err == nil {
		t.Fatal("Rebuild with a failing switch succeeded")
	}
	run, err := hotspot.Current(ctx, f.pool)
	if err != nil || run.ID != first.RunID {
		t.Fatalf("current run = %d, %v; want the first, %d", run.ID, err, first.RunID)
	}
	after, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := mustJSON(t, after), mustJSON(t, before); a != b {
		t.Errorf("hotspots changed after a failed rebuild: %d before, %d after", len(before), len(after))
	}
	var runs, orphans int
	if err := f.pool.QueryRow(ctx, `SELECT (SELECT count(*) FROM hotspot_runs), (SELECT count(*) FROM hotspot_sets WHERE run_id <> $1)`, first.RunID).Scan(&runs, &orphans); err != nil {
		t.Fatal(err)
	}
	if runs != 1 || orphans != 0 {
		t.Errorf("after the failure: %d runs, %d sets of other runs; want 1, 0", runs, orphans)
	}
	if _, err := f.pool.Exec(ctx, `DROP TRIGGER fail_switch ON hotspot_current`); err != nil {
		t.Fatal(err)
	}

	// Readers during rebuilds: every read sees one whole set (the same
	// data gives the same count each time), never none, never two.
	second, err := hotspot.Rebuild(ctx, f.pool, hotspot.Options{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(want) == len(before) {
		t.Logf("note: the new data did not change the number of hotspots (%d)", len(want))
	}
	var stop atomic.Bool
	var reads, bad atomic.Int64
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				hs, err := hotspot.Hotspots(ctx, f.pool, hotspot.Filter{})
				reads.Add(1)
				if err != nil || len(hs) != len(want) {
					bad.Add(1)
				}
			}
		}()
	}
	var last hotspot.Summary
	for range 4 {
		if last, err = hotspot.Rebuild(ctx, f.pool, hotspot.Options{Trigger: "test"}); err != nil {
			t.Error(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	if bad.Load() > 0 || reads.Load() == 0 {
		t.Errorf("%d of %d reads during rebuilds saw a partial or empty set", bad.Load(), reads.Load())
	}
	var oldRows int
	if err := f.pool.QueryRow(ctx, `SELECT count(*) FROM hotspots WHERE run_id <> $1`, last.RunID).Scan(&oldRows); err != nil {
		t.Fatal(err)
	}
	if oldRows != 0 || last.RunID <= second.RunID {
		t.Errorf("%d hotspots of old runs left; last run %d", oldRows, last.RunID)
	}
}
