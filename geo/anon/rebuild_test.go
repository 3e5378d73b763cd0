package anon_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const dataDir = "../../../shared/data"

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
	return files
}

// load imports the district outline, the 2013 wards, the LE postcodes and
// the given police.uk files.
func load(t testing.TB, pool *pgxpool.Pool, files []string) {
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
}

// csvTruth counts the police.uk files with encoding/csv, independently of
// the importer and of Rebuild: Harborough's rows are those whose LSOA name
// starts with "Harborough" (the data README's definition).
type csvTruth struct {
	harborough, harboroughViolent, noLocation, noLocationViolent int
	// byMonthType counts Harborough rows by "YYYY-MM|Crime type".
	byMonthType map[string]int
}

func countTruth(t testing.TB, files []string) csvTruth {
	t.Helper()
	tr := csvTruth{byMonthType: map[string]int{}}
	for _, path := range files {
		f, err := os.Open(path)
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
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			violent := rec[col["Crime type"]] == "Violence and sexual offences"
			if rec[col["Longitude"]] == "" {
				tr.noLocation++
				if violent {
					tr.noLocationViolent++
				}
			}
			if strings.HasPrefix(rec[col["LSOA name"]], "Harborough") {
				tr.harborough++
				if violent {
					tr.harboroughViolent++
				}
				tr.byMonthType[rec[col["Month"]]+"|"+rec[col["Crime type"]]]++
			}
		}
		f.Close()
	}
	return tr
}

func one(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestRebuildRealData rebuilds the public data from the seven real months
// and checks it against counts taken from the CSV files and against the
// policy's promises, recomputed in SQL independently of Rebuild.
func TestRebuildRealData(t *testing.T) {
	files := realFiles(t)
	truth := countTruth(t, files)
	pool := storetest.DB(t)
	load(t, pool, files)
	ctx := context.Background()

	s, err := anon.Rebuild(ctx, pool, anon.Options{})
	if err != nil {
		t.Fatalf("Rebuild() error = %v", err)
	}
	t.Logf("rebuild: %+v", s)
	if s.Candidates != 1129 {
		t.Errorf("candidates = %d; want the 1,129 distinct police.uk points the data README counts", s.Candidates)
	}
	if s.PostcodeUnits != 2655 {
		t.Errorf("postcode units = %d; want 2,655", s.PostcodeUnits)
	}
	if s.MapPoints == 0 || s.MapPoints > 2655/8 || s.FewestUnits < 8 {
		t.Errorf("map points = %d (fewest units %d); want 1..%d, each with >= 8", s.MapPoints, s.FewestUnits, 2655/8)
	}
	if want := truth.harborough - truth.harboroughViolent; s.PublicCrimes != want {
		t.Errorf("public crimes = %d; want %d (Harborough rows %d less violent %d)", s.PublicCrimes, want, truth.harborough, truth.harboroughViolent)
	}
	if s.Withheld != truth.harboroughViolent {
		t.Errorf("withheld = %d; want %d", s.Withheld, truth.harboroughViolent)
	}
	if want := truth.noLocation - truth.noLocationViolent; s.NoLocation != want || s.Unmapped != 0 {
		t.Errorf("no location = %d (unmapped %d); want %d, 0", s.NoLocation, s.Unmapped, want)
	}
	if len(s.Months) != len(files) || len(s.Notes) != 0 {
		t.Errorf("months = %v, notes %v; want %d months and no notes", s.Months, s.Notes, len(files))
	}

	checks := []struct {
		what string
		sql  string
		want int
	}{
		// K, recomputed: every district postcode to its nearest map point.
		{"map points standing for fewer than 8 postcode units", `
			SELECT count(*) FROM (
				SELECT nn.id, count(*) AS n FROM postcodes p
				CROSS JOIN LATERAL (SELECT m.id FROM open.map_points m ORDER BY m.geom_bng <-> p.geom_bng LIMIT 1) nn
				WHERE p.district_code = 'E07000131' GROUP BY nn.id) c
			RIGHT JOIN open.map_points m ON m.id = c.id
			WHERE coalesce(c.n, 0) < 8 OR coalesce(c.n, 0) <> m.postcode_units`, 0},
		{"map points that are not police.uk points", `
			SELECT count(*) FROM open.map_points m WHERE NOT EXISTS (
				SELECT 1 FROM incidents i WHERE i.source = 'police-uk' AND ST_DWithin(i.geom, m.geom, 0.0000005))`, 0},
		{"map points outside the district", `
			SELECT count(*) FROM open.map_points m JOIN boundaries d ON d.kind = 'district' WHERE NOT ST_Intersects(d.geom_bng, m.geom_bng)`, 0},
		{"map points without a ward", `SELECT count(*) FROM open.map_points WHERE ward_code = ''`, 0},
		{"map point streets still saying On or near", `SELECT count(*) FROM open.map_points WHERE street ILIKE 'on or near%' OR street = ''`, 0},
		{"sensitive crimes at point level", `SELECT count(*) FROM open.crimes WHERE category IN (SELECT slug FROM sensitive_categories)`, 0},
		{"sensitive crimes without location", `SELECT count(*) FROM open.crimes_no_location WHERE category IN (SELECT slug FROM sensitive_categories)`, 0},
		{"months that are not the first", `SELECT count(*) FROM (SELECT month FROM open.crimes UNION ALL SELECT month FROM open.crimes_no_location UNION ALL SELECT month FROM open.area_counts) m WHERE extract(day FROM month) <> 1`, 0},
		{"persistent ids that are not police.uk Crime IDs", `SELECT count(*) FROM open.crimes WHERE persistent_id <> '' AND NOT EXISTS (
			SELECT 1 FROM incidents i WHERE i.source = 'police-uk' AND i.source_id = persistent_id)`, 0},
		{"ids shared by the two crime tables", `SELECT count(*) FROM open.crimes c JOIN open.crimes_no_location n USING (id)`, 0},
		// Each police.uk crime went to the map point nearest to its point.
		{"crimes not at their nearest map point", `
			SELECT count(*) FROM open.crimes c JOIN incidents i ON i.source_id = c.persistent_id AND i.source = 'police-uk'
			CROSS JOIN LATERAL (SELECT m.id, m.geom_bng <-> i.geom_bng AS d FROM open.map_points m ORDER BY 2 LIMIT 1) nn
			JOIN open.map_points mine ON mine.id = c.map_point_id
			WHERE nn.id <> c.map_point_id AND (mine.geom_bng <-> i.geom_bng) > nn.d + 0.001`, 0},
		{"withheld cells with a count", `SELECT count(*) FROM open.area_counts WHERE suppressed AND count IS NOT NULL`, 0},
		{"published cells from 1 to 2", `SELECT count(*) FROM open.area_counts WHERE count BETWEEN 1 AND 2`, 0},
		{"wards", `SELECT count(DISTINCT area_code) FROM open.area_counts WHERE area_kind = 'ward'`, 25},
		{"violent crimes in the district's counts", `SELECT coalesce(sum(count), 0) FROM open.area_counts WHERE area_kind = 'district' AND category = 'violent-crime' AND NOT suppressed`, truth.harboroughViolent},
	}
	for _, c := range checks {
		if got := one(t, pool, c.sql); got != c.want {
			t.Errorf("%s = %d; want %d", c.what, got, c.want)
		}
	}
	// The district's published counts match the CSVs month by month, but
	// for two rows on the border: the generalised district outline leaves
	// out a Harborough 004E burglary of 2018-10 (-1.233872, 52.553648) and
	// takes in a Blaby 010A vehicle crime of 2018-11 (-1.181283, 52.529499).
	truth.byMonthType["2018-10|Burglary"]--
	truth.byMonthType["2018-11|Vehicle crime"]++
	rows, err := pool.Query(ctx, `SELECT to_char(a.month, 'YYYY-MM') || '|' || c.name, a.count FROM open.area_counts a
		JOIN categories c ON c.slug = a.category WHERE a.area_kind = 'district' AND NOT a.suppressed`)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for rows.Next() {
		var k string
		var c int
		if err := rows.Scan(&k, &c); err != nil {
			t.Fatal(err)
		}
		if truth.byMonthType[k] != c {
			t.Errorf("district count %s = %d; the CSVs have %d", k, c, truth.byMonthType[k])
		}
		n++
	}
	if n < 60 {
		t.Errorf("published district cells = %d; want most of 7 months × 14 categories", n)
	}
	var months []time.Time
	var k, min int
	if err := pool.QueryRow(ctx, `SELECT months, min_postcode_units, min_count FROM open.meta`).Scan(&months, &k, &min); err != nil {
		t.Fatal(err)
	}
	if len(months) != len(files) || k != 8 || min != 3 {
		t.Errorf("meta = months %v, K %d, min %d; want %d months, 8, 3", months, k, min, len(files))
	}

	// Idempotent: the same data gives the same public tables.
	before := publicDigest(t, pool)
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
	if after := publicDigest(t, pool); after != before {
		t.Errorf("second rebuild changed the public tables:\n%s\n%s", before, after)
	}
}

// publicDigest hashes every open table's rows in order, leaving out when
// the build ran and how long it took.
func publicDigest(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	var d string
	err := pool.QueryRow(context.Background(), `SELECT concat_ws(' ',
		(SELECT md5(string_agg(m::text, ',' ORDER BY id)) FROM open.map_points m),
		(SELECT md5(string_agg(c::text, ',' ORDER BY id)) FROM open.crimes c),
		(SELECT md5(string_agg(n::text, ',' ORDER BY id)) FROM open.crimes_no_location n),
		(SELECT md5(string_agg(a::text, ',' ORDER BY area_kind, area_code, month, category)) FROM open.area_counts a),
		(SELECT md5(string_agg(c::text, ',' ORDER BY slug)) FROM open.categories c),
		(SELECT md5(row(last_updated, months, min_postcode_units, min_count, force, method)::text) FROM open.meta))`).Scan(&d)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRebuildPartnerData adds precise partner incidents (a house's
// coordinates, an exact time, an address in the free text, a sensitive
// category) and checks that nothing precise reaches the public tables.
func TestRebuildPartnerData(t *testing.T) {
	files := realFiles(t)
	pool := storetest.DB(t)
	load(t, pool, files[len(files)-1:])
	ctx := context.Background()
	// A house on Coventry Road, Market Harborough, and an exact minute.
	const insert = `WITH b AS (INSERT INTO import_batches (source, file_name, file_sha256, file_bytes) VALUES ('partner-csp', 'log.csv', 'x', 0) RETURNING id)
	INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, location_text, context, outcome, geom, geom_bng, geom_web, batch_id)
	SELECT 'partner-csp', 'case-' || n || '-' || c, c, '2024-02-14 21:37:00+00', '2024-02-14 21:38:00+00', '12 Coventry Road',
	       'victim at 12 Coventry Road', 'Refused to name suspect', g, ST_Transform(g, 27700), ST_Transform(g, 3857), b.id
	FROM b, generate_series(1, 4) n, unnest(ARRAY['burglary', 'domestic-abuse']) c,
	     LATERAL (SELECT ST_SetSRID(ST_MakePoint(-0.93371 + n * 0.00001, 52.47669), 4326) AS g) p`
	if _, err := pool.Exec(ctx, insert); err != nil {
		t.Fatal(err)
	}
	// Synthetic rows (hotspot synth) are never published: a made-up
	// month of them, with and without a place.
	const synthetic = `WITH b AS (INSERT INTO import_batches (source, file_name, file_sha256, file_bytes) VALUES ('synth', 'synth', 'y', 0) RETURNING id)
	INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, synthetic, geom, geom_bng, geom_web, batch_id)
	SELECT 'synth', 'synth-1-' || n, 'drugs', '2030-05-01 10:00+00', '2030-05-01 10:01+00', true,
	       CASE WHEN n % 2 = 0 THEN g END, CASE WHEN n % 2 = 0 THEN ST_Transform(g, 27700) END, CASE WHEN n % 2 = 0 THEN ST_Transform(g, 3857) END, b.id
	FROM b, generate_series(1, 10) n, LATERAL (SELECT ST_SetSRID(ST_MakePoint(-0.92, 52.48), 4326) AS g) p`
	if _, err := pool.Exec(ctx, synthetic); err != nil {
		t.Fatal(err)
	}
	s, err := anon.Rebuild(ctx, pool, anon.Options{})
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		what string
		sql  string
		want int
	}{
		{"map points at a partner's point", `SELECT count(*) FROM open.map_points m JOIN incidents i ON i.source <> 'police-uk' AND ST_DWithin(i.geom_bng, m.geom_bng, 1)`, 0},
		{"partner burglaries published", `SELECT count(*) FROM open.crimes WHERE category = 'burglary' AND month = '2024-02-01' AND persistent_id = ''`, 4 + one(t, pool, `SELECT count(*) FROM incidents i JOIN boundaries d ON d.kind = 'district' AND ST_Intersects(d.geom_bng, i.geom_bng) WHERE i.source = 'police-uk' AND i.category = 'burglary' AND i.source_id !~ '^[0-9a-f]{64}$'`)},
		{"partner outcome text published", `SELECT count(*) FROM open.crimes WHERE outcome = 'Refused to name suspect'`, 0},
		{"domestic abuse at point level", `SELECT count(*) FROM open.crimes WHERE category = 'domestic-abuse'`, 0},
		{"domestic abuse in the district count", `SELECT count(*) FROM open.area_counts WHERE area_kind = 'district' AND category = 'domestic-abuse' AND month = '2024-02-01' AND count = 4`, 1},
		{"domestic abuse is sensitive", `SELECT count(*) FROM open.categories WHERE slug = 'domestic-abuse' AND sensitive`, 1},
		{"synthetic rows published", `SELECT (SELECT count(*) FROM open.crimes WHERE month = '2030-05-01') + (SELECT count(*) FROM open.crimes_no_location WHERE month = '2030-05-01')
			+ (SELECT count(*) FROM open.area_counts WHERE month = '2030-05-01') + (SELECT count(*) FROM open.meta WHERE '2030-05-01' = ANY (months))`, 0},
	}
	for _, c := range checks {
		if got := one(t, pool, c.sql); got != c.want {
			t.Errorf("%s = %d; want %d", c.what, got, c.want)
		}
	}
	if s.Withheld < 4 {
		t.Errorf("withheld = %d; want at least the 4 domestic-abuse incidents", s.Withheld)
	}
	// The partner's burglaries sit at a map point at least some metres from
	// the house: the nearest map point, not the house.
	if got := one(t, pool, `SELECT count(*) FROM open.crimes c JOIN open.map_points m ON m.id = c.map_point_id
		WHERE c.category = 'burglary' AND ST_DWithin(m.geom, ST_SetSRID(ST_MakePoint(-0.93371, 52.47669), 4326), 0.00005)`); got != 0 {
		t.Errorf("%d burglaries published within 5 m of the house", got)
	}
}

func TestRebuildOptions(t *testing.T) {
	for _, o := range []anon.Options{{MinPostcodeUnits: 5}, {MinCount: 2}} {
		if _, err := anon.Rebuild(context.Background(), nil, o); !errors.Is(err, anon.ErrBadOptions) {
			t.Errorf("Rebuild(%+v) error = %v; want ErrBadOptions", o, err)
		}
	}
}

// TestRebuildKeepsSettings checks that a rebuild with settings left zero
// (every automatic one: after imports, partner batches, review decisions)
// keeps the stricter settings an operator chose last time.
func TestRebuildKeepsSettings(t *testing.T) {
	files := realFiles(t)
	pool := storetest.DB(t)
	ctx := context.Background()
	if _, err := ingest.ImportPoliceUKFile(ctx, pool, files[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{MinPostcodeUnits: 12, MinCount: 5}); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
	if k, m := one(t, pool, `SELECT min_postcode_units FROM open.meta`), one(t, pool, `SELECT min_count FROM open.meta`); k != 12 || m != 5 {
		t.Errorf("after an automatic rebuild: K = %d, min count = %d; want the operator's 12 and 5 kept", k, m)
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{MinCount: 4}); err != nil {
		t.Fatal(err)
	}
	if k, m := one(t, pool, `SELECT min_postcode_units FROM open.meta`), one(t, pool, `SELECT min_count FROM open.meta`); k != 12 || m != 4 {
		t.Errorf("after --min-count 4: K = %d, min count = %d; want 12 kept and 4", k, m)
	}
}

// TestRebuildWithoutReferenceData rebuilds with police.uk data but no
// district or postcodes: no map points, nothing placed, and notes saying
// what to load.
func TestRebuildWithoutReferenceData(t *testing.T) {
	files := realFiles(t)
	pool := storetest.DB(t)
	if _, err := ingest.ImportPoliceUKFile(context.Background(), pool, files[0]); err != nil {
		t.Fatal(err)
	}
	s, err := anon.Rebuild(context.Background(), pool, anon.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.MapPoints != 0 || s.PublicCrimes != 0 || len(s.Notes) < 2 || s.NoLocation == 0 {
		t.Errorf("summary = %+v; want no map points, no public crimes, notes, and the no-location rows", s)
	}
	if got := one(t, pool, `SELECT count(*) FROM open.meta`); got != 1 {
		t.Errorf("meta rows = %d; want 1", got)
	}
}

// TestRebuildIsAtomic reads the public tables while rebuilds run after a
// second month is imported: every read must see the public data of one
// build (crimes, months and map points that belong together), never a mix.
func TestRebuildIsAtomic(t *testing.T) {
	files := realFiles(t)
	pool := storetest.DB(t)
	load(t, pool, files[:1])
	ctx := context.Background()
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
	type state struct{ crimes, months, counts int }
	const read = `SELECT (SELECT count(*) FROM open.crimes), (SELECT cardinality(months) FROM open.meta),
		(SELECT count(*) FROM open.area_counts)`
	var old state
	if err := pool.QueryRow(ctx, read).Scan(&old.crimes, &old.months, &old.counts); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.ImportPoliceUKFile(ctx, pool, files[1]); err != nil {
		t.Fatal(err)
	}
	var stop atomic.Bool
	var wg sync.WaitGroup
	seen := make(chan state, 100000)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !stop.Load() {
				var s state
				var months *int
				if err := pool.QueryRow(ctx, read).Scan(&s.crimes, &months, &s.counts); err != nil {
					t.Error(err)
					return
				}
				if months == nil {
					s.months = -1 // no meta row: a reader saw the tables emptied
				} else {
					s.months = *months
				}
				select {
				case seen <- s:
				default:
				}
			}
		}()
	}
	for i := 0; i < 3; i++ {
		if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
			t.Fatal(err)
		}
	}
	stop.Store(true)
	wg.Wait()
	close(seen)
	var now state
	if err := pool.QueryRow(ctx, read).Scan(&now.crimes, &now.months, &now.counts); err != nil {
		t.Fatal(err)
	}
	if now == old {
		t.Fatalf("the second month changed nothing: %+v", now)
	}
	n := 0
	for s := range seen {
		if s != old && s != now {
			t.Fatalf("a reader saw %+v; want the old %+v or the new %+v", s, old, now)
		}
		n++
	}
	t.Logf("%d reads, each of one build (old %+v, new %+v)", n, old, now)
}

// BenchmarkRebuild times Rebuild on the seven real months.
func BenchmarkRebuild(b *testing.B) {
	files := realFiles(b)
	pool := storetest.DB(b)
	load(b, pool, files)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
			b.Fatal(err)
		}
	}
}
