package hotspot_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/hotspot"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const dataDir = "../../../shared/data"

var (
	srcOnce sync.Once
	src     *places.Sources
	srcErr  error
)

// realFiles returns the real police.uk months, skipping (failing under CI)
// when the shared data is absent.
func realFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "police-uk", "*.csv"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no police.uk files in %s (CI is set, so this fails rather than skips)", dataDir)
		}
		t.Skipf("no police.uk files in %s", dataDir)
	}
	sort.Strings(files)
	return files
}

// loadReal loads the district and wards, the LE postcodes, the given
// police.uk files and the named places, and rebuilds the public data.
func loadReal(t testing.TB, pool *pgxpool.Pool, files []string) {
	t.Helper()
	ctx := context.Background()
	for _, b := range []struct{ kind, file string }{
		{"district", "harborough-district.geojson"},
		{"ward", "wards2013-harborough.geojson"},
	} {
		f, err := os.Open(filepath.Join(dataDir, "boundaries", b.file))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := ingest.ReadBoundaries(f, "", "")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := ingest.LoadBoundaries(ctx, pool, b.kind, bs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ingest.ImportPostcodesFile(ctx, pool, filepath.Join(dataDir, "postcodes", "codepoint-open-2025-10-le.csv")); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
			t.Fatal(err)
		}
	}
	srcOnce.Do(func() { src, srcErr = places.ReadSources(dataDir) })
	if srcErr != nil {
		t.Fatal(srcErr)
	}
	if _, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "hotspot test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
}

// TestRebuildReal rebuilds on the seven real police.uk months and checks
// the result against PostGIS's own counts, and the public cells against
// the privacy policy.
func TestRebuildReal(t *testing.T) {
	files := realFiles(t)
	pool := storetest.DB(t)
	loadReal(t, pool, files)
	ctx := context.Background()
	s, err := hotspot.Rebuild(ctx, pool, hotspot.Options{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("real data: %d rows, %d analyses, %d hotspots, %d public cells (%d withheld) in %v",
		s.Incidents, s.Sets, s.Hotspots, s.PublicCells, s.Suppressed, s.Duration)
	if s.LatestMonth.Format("2006-01") != "2024-02" {
		t.Fatalf("latest month = %v; want 2024-02", s.LatestMonth)
	}
	t.Run("place incidents match PostGIS", func(t *testing.T) {
		// Each set's place_incidents against ST_Intersects over the same
		// months and priority, computed by PostGIS, not by the engine.
		rows, err := pool.Query(ctx, `SELECT s.place, s.priority, s.time_window, s.place_incidents,
	(SELECT count(*) FROM incidents i JOIN places pl ON pl.slug = s.place AND ST_Intersects(pl.geom_bng, i.geom_bng)
	 LEFT JOIN category_priorities cp ON cp.category = i.category
	 WHERE NOT i.synthetic AND i.occurred_from >= s.month_from AND i.occurred_from < s.month_to
	   AND (s.priority = 0 OR cp.priority = s.priority))
FROM hotspot_sets s WHERE s.method = 'gi-star'`)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			var place, window string
			var prio int16
			var got int32
			var want int64
			if err := rows.Scan(&place, &prio, &window, &got, &want); err != nil {
				t.Fatal(err)
			}
			n++
			if int64(got) != want {
				t.Errorf("%s priority %d %s: place_incidents = %d; PostGIS counts %d", place, prio, window, got, want)
			}
		}
		if n != 8*6*3 {
			t.Errorf("%d Gi* sets; want 8 places × 6 × 3 windows = 144", n)
		}
	})
	t.Run("hotspot incidents match their outlines", func(t *testing.T) {
		// Incidents in each hotspot's window and priority that PostGIS finds
		// inside its outline: the same as the stored count, give or take
		// points exactly on an edge.
		var bad, total int
		err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE x.n <> x.incidents), count(*) FROM (
	SELECT h.incidents, (SELECT count(*) FROM incidents i LEFT JOIN category_priorities cp ON cp.category = i.category
		WHERE ST_Intersects(h.geom_bng, i.geom_bng) AND NOT i.synthetic AND i.occurred_from >= s.month_from AND i.occurred_from < s.month_to
		AND (s.priority = 0 OR cp.priority = s.priority)
		AND EXISTS (SELECT 1 FROM places pl WHERE pl.slug = s.place AND ST_Intersects(pl.geom_bng, i.geom_bng))) AS n
	FROM hotspots h JOIN hotspot_sets s ON s.id = h.set_id WHERE s.method = 'gi-star') x`).Scan(&bad, &total)
		if err != nil {
			t.Fatal(err)
		}
		if total == 0 || bad > total/100 {
			t.Errorf("%d of %d Gi* hotspots disagree with PostGIS's count inside their outline", bad, total)
		}
	})
	t.Run("public cells", func(t *testing.T) { checkPublic(t, pool, s) })
	t.Run("public cells ignore sensitive crimes", func(t *testing.T) { checkPublicIgnoresSensitive(t, pool) })
}

// checkPublic checks open.hotspot_cells against the policy: counts under
// the minimum withheld, counts equal to the public data's own (open.crimes
// at map points), readable by the public role, and the private tables not.
func checkPublic(t *testing.T, pool *pgxpool.Pool, s hotspot.Summary) {
	ctx := context.Background()
	if s.PublicCells == 0 {
		t.Fatal("no public hot cells on the real data")
	}
	var small, wrong, total, withheld int
	err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE c.count BETWEEN 1 AND 2),
	count(*) FILTER (WHERE (c.count IS NOT NULL AND c.count <> x.n) OR (c.count IS NULL AND x.n NOT BETWEEN 1 AND 2)),
	count(*), count(*) FILTER (WHERE c.suppressed)
FROM open.hotspot_cells c
CROSS JOIN LATERAL (SELECT count(*) AS n FROM open.crimes cr JOIN open.map_points mp ON mp.id = cr.map_point_id
	LEFT JOIN category_priorities cp ON cp.category = cr.category
	WHERE ST_Intersects(c.geom, mp.geom) AND cr.month >= c.month_from AND cr.month < c.month_to
	  AND (c.priority = 0 OR cp.priority = c.priority)
	  AND EXISTS (SELECT 1 FROM places pl WHERE pl.slug = c.place AND ST_Intersects(pl.geom_bng, mp.geom_bng))) x`).Scan(&small, &wrong, &total, &withheld)
	if err != nil {
		t.Fatal(err)
	}
	if small > 0 {
		t.Errorf("%d public cells publish a count from 1 to 2", small)
	}
	// A map point exactly on a hexagon's edge may be counted on either
	// side by PostGIS; allow a handful.
	if wrong > total/100 {
		t.Errorf("%d of %d public cells disagree with open.crimes' count (or are withheld without being small)", wrong, total)
	}
	if total != s.PublicCells || withheld != s.Suppressed {
		t.Errorf("public cells %d (withheld %d); summary says %d (%d)", total, withheld, s.PublicCells, s.Suppressed)
	}
	pub, err := anon.PublicPool(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	var n int
	if err := pub.QueryRow(ctx, `SELECT count(*) FROM open.hotspot_cells`).Scan(&n); err != nil || n != total {
		t.Errorf("public role reads %d cells, %v; want %d", n, err, total)
	}
	for _, table := range []string{"hotspots", "hotspot_sets", "hotspot_runs", "hotspot_current"} {
		if err := pub.QueryRow(ctx, `SELECT count(*) FROM public.`+table).Scan(&n); err == nil {
			t.Errorf("public role can read %s", table)
		}
	}
}

// checkPublicIgnoresSensitive adds forty violent crimes (a sensitive
// category) at one point and rebuilds: the private analysis finds them,
// the public cells do not change at all.
func checkPublicIgnoresSensitive(t *testing.T, pool *pgxpool.Pool) {
	ctx := context.Background()
	snapshot := func() string {
		var s string
		if err := pool.QueryRow(ctx, `SELECT coalesce(string_agg(concat_ws(' ', place, priority, time_window, confidence, count, ST_AsText(geom, 6)), E'\n'
			ORDER BY place, priority, time_window, ST_AsText(geom, 6)), '') FROM open.hotspot_cells`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := snapshot()
	// The quietest police.uk point in the district in February 2024.
	_, err := pool.Exec(ctx, `INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, geom, geom_bng, geom_web, batch_id)
SELECT 'police-uk', 'sensitive-test-' || k, 'violent-crime', '2024-02-01', '2024-03-01', p.geom, p.geom_bng, p.geom_web, p.batch_id
FROM (SELECT i.geom, i.geom_bng, i.geom_web, i.batch_id FROM incidents i JOIN places pl ON pl.slug = 'harborough-district' AND ST_Intersects(pl.geom_bng, i.geom_bng)
      WHERE i.occurred_from = '2024-02-01' ORDER BY (SELECT count(*) FROM incidents j WHERE ST_DWithin(j.geom_bng, i.geom_bng, 500)), i.id LIMIT 1) p,
     generate_series(1, 40) k`)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := hotspot.Rebuild(ctx, pool, hotspot.Options{Trigger: "test"}); err != nil {
		t.Fatal(err)
	}
	var private int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM hotspots h JOIN hotspot_sets s ON s.id = h.set_id
		WHERE s.place = 'harborough-district' AND s.priority = 1 AND s.time_window = 'last-1' AND s.method = 'gi-star'
		  AND EXISTS (SELECT 1 FROM incidents i WHERE i.source_id = 'sensitive-test-1' AND ST_Intersects(h.geom_bng, i.geom_bng))`).Scan(&private); err != nil {
		t.Fatal(err)
	}
	if private == 0 {
		t.Error("the private analysis does not find forty violent crimes at one point")
	}
	if after := snapshot(); after != before {
		t.Errorf("public cells changed when only sensitive crimes were added")
	}
}

// TestPublicMinimumFollowsAnon checks that the public hot cells never
// publish a count the anonymised data withholds: after an operator raises
// the minimum with anon rebuild --min-count 6, the hot cells use 6 too.
func TestPublicMinimumFollowsAnon(t *testing.T) {
	files := realFiles(t)
	pool := storetest.DB(t)
	loadReal(t, pool, files)
	ctx := context.Background()
	if _, err := anon.Rebuild(ctx, pool, anon.Options{MinCount: 6}); err != nil {
		t.Fatal(err)
	}
	s, err := hotspot.Rebuild(ctx, pool, hotspot.Options{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	var min, low, withheld int
	if err := pool.QueryRow(ctx, `SELECT min_count FROM open.hotspot_meta`).Scan(&min); err != nil {
		t.Fatal(err)
	}
	if err := pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE count BETWEEN 1 AND 5), count(*) FILTER (WHERE suppressed) FROM open.hotspot_cells`).Scan(&low, &withheld); err != nil {
		t.Fatal(err)
	}
	if min != 6 || low != 0 || s.PublicCells == 0 || withheld == 0 {
		t.Errorf("after anon --min-count 6: hot cells' minimum %d, %d counts of 1-5 published, %d withheld of %d cells; want 6, none, some, some",
			min, low, withheld, s.PublicCells)
	}
}
