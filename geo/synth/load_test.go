package synth_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/geo/synth"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// dataDir is the shared real data beside the checkout.
const dataDir = "../../../shared/data"

// needData skips (or, under CI, fails) when the shared data is missing.
func needData(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(dataDir, "police-uk")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no shared data in %s (CI is set, so this fails rather than skips)", dataDir)
		}
		t.Skipf("no shared data in %s", dataDir)
	}
}

func policeFiles(t testing.TB) []string {
	t.Helper()
	needData(t)
	files, _ := filepath.Glob(filepath.Join(dataDir, "police-uk", "*.csv"))
	if len(files) == 0 {
		t.Fatalf("no police.uk files in %s", dataDir)
	}
	return files
}

// importReal loads the real police.uk months (all, or the first n).
func importReal(t testing.TB, pool *pgxpool.Pool, n int) {
	t.Helper()
	files := policeFiles(t)
	if n > 0 && n < len(files) {
		files = files[:n]
	}
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(context.Background(), pool, f); err != nil {
			t.Fatal(err)
		}
	}
}

// loadDistrict loads the real district outline.
func loadDistrict(t testing.TB, pool *pgxpool.Pool) {
	t.Helper()
	needData(t)
	f, err := os.Open(filepath.Join(dataDir, "boundaries", "harborough-district.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	bs, err := ingest.ReadBoundaries(f, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.LoadBoundaries(context.Background(), pool, "district", bs); err != nil {
		t.Fatal(err)
	}
}

func load(t testing.TB, pool *pgxpool.Pool, opts synth.Options) synth.Summary {
	t.Helper()
	s, err := synth.Load(context.Background(), pool, opts)
	if err != nil {
		t.Fatalf("Load(%+v) error: %v", opts, err)
	}
	if s.Generated != s.Inserted+s.AlreadyPresent {
		t.Errorf("Load: generated %d != inserted %d + already present %d", s.Generated, s.Inserted, s.AlreadyPresent)
	}
	return s
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func float(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) float64 {
	t.Helper()
	var f float64
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&f); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return f
}

// synthRows returns every synthetic row as text, in source_id order: the
// fields a user can see, and the three geometries as WKB.
func synthRows(t testing.TB, pool *pgxpool.Pool) []string {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT concat_ws('|', source, source_id, category,
		occurred_from, occurred_to, location_text, outcome, context, lsoa_code, synthetic,
		encode(ST_AsBinary(geom), 'hex'), encode(ST_AsBinary(geom_bng), 'hex'), encode(ST_AsBinary(geom_web), 'hex'))
		FROM incidents WHERE synthetic ORDER BY source_id`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Two runs with the same seed into two fresh databases give the same rows;
// a different seed gives different ones.
func TestLoadDeterministic(t *testing.T) {
	tests := []struct {
		name     string
		setup    func(t testing.TB, pool *pgxpool.Pool)
		fromData bool
	}{
		{"built-in places", func(testing.TB, *pgxpool.Pool) {}, false},
		{"real incidents", func(t testing.TB, pool *pgxpool.Pool) { importReal(t, pool, 2) }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := synth.Options{Incidents: 3000, Seed: 11}
			var runs [][]string
			for _, seed := range []uint64{11, 11, 12} {
				pool := storetest.DB(t)
				tt.setup(t, pool)
				opts.Seed = seed
				if s := load(t, pool, opts); s.FromDatabase != tt.fromData {
					t.Errorf("Load: seeds from the database = %v; want %v", s.FromDatabase, tt.fromData)
				}
				runs = append(runs, synthRows(t, pool))
			}
			a, b, c := runs[0], runs[1], runs[2]
			if len(a) != opts.Incidents || len(b) != len(a) || len(c) != len(a) {
				t.Fatalf("rows = %d, %d, %d; want %d each", len(a), len(b), len(c), opts.Incidents)
			}
			for i := range a {
				if a[i] != b[i] {
					t.Fatalf("seed 11, row %d: first database %q, second %q; want equal", i, a[i], b[i])
				}
			}
			same := 0
			for i := range a {
				// Compare without the source id, which names the seed.
				x, _ := strings.CutPrefix(a[i], "synth|synth-11-")
				y, _ := strings.CutPrefix(c[i], "synth|synth-12-")
				if x == y {
					same++
				}
			}
			if same > len(a)/100 {
				t.Errorf("seeds 11 and 12: %d of %d rows equal; want under 1%%", same, len(a))
			}
		})
	}
}

// A rerun with the same seed and N inserts nothing, by both loading paths.
func TestLoadIdempotent(t *testing.T) {
	tests := []struct {
		name        string
		bulkMin     int
		real        bool
		wantRebuilt bool
	}{
		{"row by row", 1 << 40, false, false},
		{"bulk, empty table", 1, false, true},
		{"bulk, into real data", 1, true, false}, // 3,000 new rows against 59,422: indexes stay
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer synth.SetBulkMin(tt.bulkMin)()
			pool := storetest.DB(t)
			real := 0
			if tt.real {
				importReal(t, pool, 0)
				real = count(t, pool, `SELECT count(*) FROM incidents`)
			}
			version := count(t, pool, `SELECT version FROM data_version`)
			opts := synth.Options{Incidents: 3000, Seed: 7}
			first := load(t, pool, opts)
			afterFirst := count(t, pool, `SELECT version FROM data_version`)
			if first.Inserted != 3000 || first.AlreadyPresent != 0 || first.RebuiltIndexes != tt.wantRebuilt {
				t.Errorf("first Load = inserted %d, present %d, rebuilt %v; want 3000, 0, %v",
					first.Inserted, first.AlreadyPresent, first.RebuiltIndexes, tt.wantRebuilt)
			}
			second := load(t, pool, opts)
			if second.Inserted != 0 || second.AlreadyPresent != 3000 || second.RebuiltIndexes {
				t.Errorf("second Load = inserted %d, present %d, rebuilt %v; want 0, 3000, false",
					second.Inserted, second.AlreadyPresent, second.RebuiltIndexes)
			}
			if got := count(t, pool, `SELECT count(*) FROM incidents`); got != real+3000 {
				t.Errorf("incidents = %d; want %d", got, real+3000)
			}
			// The version moves when data changes (the loader bumps it, and
			// so does the tile-cell trigger), and not when nothing did.
			if afterFirst <= version {
				t.Errorf("data version after the first run = %d; want more than %d", afterFirst, version)
			}
			if got := count(t, pool, `SELECT version FROM data_version`); got != afterFirst {
				t.Errorf("data version after the second run = %d; want %d (unchanged: nothing was inserted)", got, afterFirst)
			}
			var batches []string
			rows, err := pool.Query(context.Background(), `SELECT concat_ws(' ', file_name, rows_read, inserted, already_present, finished_at IS NOT NULL)
				FROM import_batches WHERE source = 'synth' ORDER BY id`)
			if err != nil {
				t.Fatal(err)
			}
			if batches, err = pgx.CollectRows(rows, pgx.RowTo[string]); err != nil {
				t.Fatal(err)
			}
			want := []string{"synth seed=7 n=3000 3000 3000 0 t", "synth seed=7 n=3000 3000 0 3000 t"}
			if strings.Join(batches, "; ") != strings.Join(want, "; ") {
				t.Errorf("import batches = %q; want %q", batches, want)
			}
			// A larger N with the same seed adds only the new rows.
			more := load(t, pool, synth.Options{Incidents: 4000, Seed: 7})
			if more.Inserted != 1000 || more.AlreadyPresent != 3000 {
				t.Errorf("Load(N=4000 after 3000) = inserted %d, present %d; want 1000, 3000", more.Inserted, more.AlreadyPresent)
			}
		})
	}
}

// A bulk load drops indexes and constraints and must put back exactly
// what was there, valid.
func TestBulkRestoresSchema(t *testing.T) {
	defer synth.SetBulkMin(1)()
	pool := storetest.DB(t)
	schema := func() string {
		var s string
		err := pool.QueryRow(context.Background(), `SELECT
			(SELECT string_agg(pg_get_indexdef(i.indexrelid) || CASE WHEN i.indisvalid THEN '' ELSE ' INVALID' END, E'\n'
					ORDER BY pg_get_indexdef(i.indexrelid))
				FROM pg_index i WHERE i.indrelid = 'incidents'::regclass) || E'\n' ||
			(SELECT string_agg(c.conname || ' ' || pg_get_constraintdef(c.oid) || CASE WHEN c.convalidated THEN '' ELSE ' NOT VALID' END, E'\n'
					ORDER BY c.conname)
				FROM pg_constraint c WHERE c.conrelid = 'incidents'::regclass)`).Scan(&s)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	before := schema()
	if s := load(t, pool, synth.Options{Incidents: 2000, Seed: 1}); !s.RebuiltIndexes {
		t.Fatalf("Load into an empty table with bulkMin 1 did not rebuild indexes")
	}
	if after := schema(); after != before {
		t.Errorf("incidents indexes and constraints after a bulk load:\n%s\nwant:\n%s", after, before)
	}
	for _, want := range []string{"incidents_geom_bng_idx", "incidents_geom_web_idx", "incidents_source_key", "incidents_batch_id_fkey", "incidents_synthetic_occurred_idx"} {
		if !strings.Contains(before, want) {
			t.Errorf("schema lacks %s:\n%s", want, before)
		}
	}
	// The restored unique key still refuses a duplicate.
	_, err := pool.Exec(context.Background(), `INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, batch_id)
		SELECT source, source_id, category, occurred_from, occurred_to, batch_id FROM incidents WHERE synthetic LIMIT 1`)
	if err == nil {
		t.Error("duplicate (source, source_id) accepted after a bulk load")
	}
}

func TestLoadReplace(t *testing.T) {
	pool := storetest.DB(t)
	importReal(t, pool, 1)
	real := count(t, pool, `SELECT count(*) FROM incidents`)
	load(t, pool, synth.Options{Incidents: 500, Seed: 1})
	load(t, pool, synth.Options{Incidents: 200, Seed: 2})
	s := load(t, pool, synth.Options{Incidents: 300, Seed: 3, Replace: true})
	if s.Replaced != 700 || s.Inserted != 300 {
		t.Errorf("Load(Replace) = replaced %d, inserted %d; want 700, 300", s.Replaced, s.Inserted)
	}
	if got := count(t, pool, `SELECT count(*) FROM incidents WHERE synthetic`); got != 300 {
		t.Errorf("synthetic rows = %d; want 300", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM incidents WHERE synthetic AND source_id NOT LIKE 'synth-3-%'`); got != 0 {
		t.Errorf("%d synthetic rows of earlier seeds left; want 0", got)
	}
	if got := count(t, pool, `SELECT count(*) FROM incidents WHERE NOT synthetic`); got != real {
		t.Errorf("real rows = %d; want %d untouched", got, real)
	}
	// Replacing with the same seed reloads the same rows.
	again := load(t, pool, synth.Options{Incidents: 300, Seed: 3, Replace: true})
	if again.Replaced != 300 || again.Inserted != 300 {
		t.Errorf("Load(Replace, same seed) = replaced %d, inserted %d; want 300, 300", again.Replaced, again.Inserted)
	}
}

func TestLoadLabelled(t *testing.T) {
	pool := storetest.DB(t)
	importReal(t, pool, 1)
	real := count(t, pool, `SELECT count(*) FROM incidents`)
	s := load(t, pool, synth.Options{Incidents: 1000, Seed: 5})
	checks := []struct {
		what string
		sql  string
		want int
	}{
		{"synthetic rows", `SELECT count(*) FROM incidents WHERE synthetic`, 1000},
		{"synthetic rows labelled", `SELECT count(*) FROM incidents WHERE synthetic AND source = 'synth'
			AND source_id ~ '^synth-5-[1-9][0-9]*$' AND context = 'synthetic' AND batch_id = $1`, 1000},
		{"rows of source synth not flagged", `SELECT count(*) FROM incidents WHERE source = 'synth' AND NOT synthetic`, 0},
		{"real rows flagged", `SELECT count(*) FROM incidents WHERE source <> 'synth' AND synthetic`, 0},
		{"real rows", `SELECT count(*) FROM incidents WHERE NOT synthetic`, real},
		{"synthetic rows with all three geometries", `SELECT count(*) FROM incidents WHERE synthetic AND ST_SRID(geom) = 4326
			AND ST_SRID(geom_bng) = 27700 AND ST_SRID(geom_web) = 3857
			AND ST_DWithin(geom_bng, ST_Transform(geom, 27700), 0.001) AND ST_DWithin(geom_web, ST_Transform(geom, 3857), 0.001)`, 1000},
		{"synthetic rows of unknown category", `SELECT count(*) FROM incidents i WHERE synthetic AND NOT EXISTS (SELECT 1 FROM categories c WHERE c.slug = i.category)`, 0},
	}
	for _, c := range checks {
		var args []any
		if strings.Contains(c.sql, "$1") {
			args = append(args, s.BatchID)
		}
		if got := count(t, pool, c.sql, args...); got != c.want {
			t.Errorf("%s = %d; want %d", c.what, got, c.want)
		}
	}
}

// realCounts reads the real files independently of the importer and the
// generator: Harborough rows with coordinates, by category slug, and the
// street names of every location (any area: a point inside the district
// outline may carry a neighbour's LSOA).
func realCounts(t testing.TB) (byCat map[string]int, total int, streets map[string]bool) {
	t.Helper()
	byCat, streets = map[string]int{}, map[string]bool{}
	for _, path := range policeFiles(t) {
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		r := csv.NewReader(f)
		header, err := r.Read()
		if err != nil {
			t.Fatal(err)
		}
		col := map[string]int{}
		for i, h := range header {
			col[strings.TrimPrefix(h, "\ufeff")] = i
		}
		for {
			rec, err := r.Read()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("%s: %v", path, err)
			}
			streets[strings.ToLower(strings.TrimPrefix(rec[col["Location"]], "On or near "))] = true
			if !strings.HasPrefix(rec[col["LSOA name"]], "Harborough") || rec[col["Longitude"]] == "" {
				continue
			}
			slug, _ := geo.CategorySlug(rec[col["Crime type"]])
			byCat[slug]++
			total++
		}
		f.Close()
	}
	return byCat, total, streets
}

// Seeded from the real months, synthetic crime follows their category
// mix, stays in the district and on their streets, near their points but
// not on them.
func TestRealismRealSeeds(t *testing.T) {
	pool := storetest.DB(t)
	importReal(t, pool, 0)
	loadDistrict(t, pool)
	const n = 20000
	s := load(t, pool, synth.Options{Incidents: n, Seed: 21})
	if !s.FromDatabase {
		t.Fatalf("Load with real incidents loaded used the built-in places")
	}
	byCat, total, streets := realCounts(t)
	for _, c := range geo.PoliceUKCategories() {
		want := float64(byCat[c.Slug]) / float64(total)
		got := float(t, pool, `SELECT count(*) FILTER (WHERE category = $1)::float8 / count(*) FROM incidents WHERE synthetic`, c.Slug)
		if math.Abs(got-want) > 0.015 {
			t.Errorf("share of %s = %.3f; want %.3f ± 0.015 (the real Harborough share)", c.Slug, got, want)
		}
	}
	inside := float(t, pool, `SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM boundaries b WHERE b.kind = 'district' AND ST_Intersects(b.geom_bng, i.geom_bng)))::float8 / count(*)
		FROM incidents i WHERE synthetic`)
	t.Logf("real seeds: inside %.3f", inside)
	if inside < 0.97 {
		t.Errorf("share inside the district = %.3f; want ≥ 0.97", inside)
	}
	near := float(t, pool, `SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM incidents r WHERE NOT r.synthetic AND ST_DWithin(r.geom_bng, i.geom_bng, 200)))::float8 / count(*)
		FROM incidents i WHERE synthetic`)
	t.Logf("real seeds: within 200 m %.4f", near)
	if near < 0.99 {
		t.Errorf("share within 200 m of a real point = %.3f; want ≥ 0.99", near)
	}
	stacked := count(t, pool, `SELECT count(*) FROM incidents i WHERE synthetic AND EXISTS (SELECT 1 FROM incidents r WHERE NOT r.synthetic AND r.geom_bng = i.geom_bng)`)
	if stacked > n/100 {
		t.Errorf("%d synthetic points on a real map point; want under 1%%", stacked)
	}
	// Every address is "[number ]street, town" with a street of the real
	// location texts.
	rows, err := pool.Query(context.Background(), `SELECT DISTINCT location_text FROM incidents WHERE synthetic`)
	if err != nil {
		t.Fatal(err)
	}
	locs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	address := regexp.MustCompile(`^(?:[1-9][0-9]* )?(.+), [A-Z][A-Za-z ]+$`)
	for _, l := range locs {
		m := address.FindStringSubmatch(l)
		if m == nil {
			t.Errorf("location %q is not an address", l)
			continue
		}
		if !streets[strings.ToLower(m[1])] {
			t.Errorf("location %q: street %q is not in the real location texts", l, m[1])
		}
	}
}

// Seeded from the built-in places, with the real district outline loaded:
// the points stay in the district, and the time profiles show, counted
// by PostgreSQL in Europe/London time from the stored rows.
func TestRealismBuiltinSeeds(t *testing.T) {
	pool := storetest.DB(t)
	loadDistrict(t, pool)
	const n = 40000
	from, to := month(2023, 1), month(2025, 1)
	s := load(t, pool, synth.Options{Incidents: n, Seed: 8, From: from, To: to})
	if s.FromDatabase {
		t.Fatalf("Load without incidents said its seeds came from the database")
	}
	share := func(sql string, args ...any) float64 { return float(t, pool, sql, args...) }
	// Local hour and "night-owl" weekday of exact timestamps (periods of
	// one second): those are the moments the profiles shape.
	const exact = `FROM incidents WHERE synthetic AND occurred_to - occurred_from = interval '1 second' AND category = $1`
	const hour = `extract(hour FROM occurred_from AT TIME ZONE 'Europe/London')`
	const owlDay = `extract(isodow FROM (occurred_from AT TIME ZONE 'Europe/London') - interval '6 hours')`
	perDay := func(cat string, months ...int) float64 {
		var days float64
		for _, m := range months {
			for y := 2023; y <= 2024; y++ {
				days += float64(time.Date(y, time.Month(m)+1, 0, 0, 0, 0, 0, time.UTC).Day())
			}
		}
		return share(`SELECT count(*)::float8 FROM incidents WHERE synthetic AND category = $1
			AND extract(month FROM occurred_from AT TIME ZONE 'Europe/London') = ANY($2)`, cat, months) / days
	}
	checks := []struct {
		what     string
		got      float64
		min, max float64
	}{
		{"share inside the district", share(`SELECT count(*) FILTER (WHERE EXISTS (SELECT 1 FROM boundaries b
			WHERE b.kind = 'district' AND ST_Intersects(b.geom_bng, i.geom_bng)))::float8 / count(*) FROM incidents i WHERE synthetic`), 0.9, 1},
		{"share in [from, to)", share(`SELECT count(*) FILTER (WHERE occurred_from >= $1 AND occurred_to <= $2 AND occurred_to > occurred_from)::float8 / count(*)
			FROM incidents WHERE synthetic`, from, to), 1, 1},
		{"share of unknown categories", share(`SELECT count(*) FILTER (WHERE category <> ALL($1))::float8 / count(*) FROM incidents WHERE synthetic`, slugs()), 0, 0},
		{"violent crime: share 21:00-02:59", share(`SELECT count(*) FILTER (WHERE `+hour+` >= 21 OR `+hour+` < 3)::float8 / count(*) `+exact, "violent-crime"), 0.32, 1},
		{"violent crime: share 03:00-08:59", share(`SELECT count(*) FILTER (WHERE `+hour+` BETWEEN 3 AND 8)::float8 / count(*) `+exact, "violent-crime"), 0, 0.12},
		{"violent crime: busiest hour", share(`SELECT `+hour+` `+exact+` GROUP BY 1 ORDER BY count(*) DESC LIMIT 1`, "violent-crime"), 20, 23},
		{"violent crime: Friday and Saturday nights against Monday to Wednesday, per night", share(`SELECT
			(count(*) FILTER (WHERE `+owlDay+` IN (5, 6)) / 2.0) / (count(*) FILTER (WHERE `+owlDay+` IN (1, 2, 3)) / 3.0) `+exact, "violent-crime"), 1.4, 3},
		{"shoplifting: share 08:00-18:59", share(`SELECT count(*) FILTER (WHERE `+hour+` BETWEEN 8 AND 18)::float8 / count(*) `+exact, "shoplifting"), 0.8, 1},
		{"shoplifting: Sundays against other days", share(`SELECT (count(*) FILTER (WHERE `+owlDay+` = 7)) / (count(*) FILTER (WHERE `+owlDay+` <> 7) / 6.0) `+exact, "shoplifting"), 0, 0.7},
		{"vehicle crime: share 22:00-05:59", share(`SELECT count(*) FILTER (WHERE `+hour+` >= 22 OR `+hour+` < 6)::float8 / count(*) `+exact, "vehicle-crime"), 0.5, 1},
		{"anti-social behaviour: share 15:00-21:59", share(`SELECT count(*) FILTER (WHERE `+hour+` BETWEEN 15 AND 21)::float8 / count(*) `+exact, "anti-social-behaviour"), 0.45, 1},
		{"burglary: winter (Nov-Jan) against summer (May-Jul), per day", perDay("burglary", 11, 12, 1) / perDay("burglary", 5, 6, 7), 1.3, 3},
		{"anti-social behaviour: summer (Jun-Aug) against winter (Dec-Feb), per day", perDay("anti-social-behaviour", 6, 7, 8) / perDay("anti-social-behaviour", 12, 1, 2), 1.3, 3},
		{"bicycle theft: summer against winter, per day", perDay("bicycle-theft", 6, 7, 8) / perDay("bicycle-theft", 12, 1, 2), 1.5, 4},
		{"shoplifting in villages (share)", share(`SELECT count(*) FILTER (WHERE location_text LIKE '%, Hallaton' OR location_text LIKE '%, Swinford')::float8 / count(*)
			FROM incidents WHERE synthetic AND category = 'shoplifting'`), 0, 0},
	}
	for _, c := range checks {
		t.Logf("%s = %.3f", c.what, c.got)
		if c.got < c.min || c.got > c.max {
			t.Errorf("%s = %.3f; want %.2f to %.2f", c.what, c.got, c.min, c.max)
		}
	}
}

func slugs() []string {
	var s []string
	for _, c := range geo.PoliceUKCategories() {
		s = append(s, c.Slug)
	}
	return s
}

// BenchmarkSynth loads 100,000 synthetic incidents into a fresh database
// per iteration: from the built-in places into an empty table (a bulk
// load), and from the seven real months (seeds read from 59,422 rows).
func BenchmarkSynth(b *testing.B) {
	const n = 100_000
	for _, bc := range []struct {
		name string
		real bool
	}{{"builtin", false}, {"real", true}} {
		b.Run(bc.name, func(b *testing.B) {
			var total time.Duration
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				pool := storetest.DB(b)
				if bc.real {
					importReal(b, pool, 0)
				}
				b.StartTimer()
				start := time.Now()
				if _, err := synth.Load(context.Background(), pool, synth.Options{Incidents: n, Seed: uint64(i + 1)}); err != nil {
					b.Fatal(err)
				}
				total += time.Since(start)
			}
			b.ReportMetric(float64(n*b.N)/total.Seconds(), "rows/s")
		})
	}
}
