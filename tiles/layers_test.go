package tiles_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/project"

	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/geo/synth"
	"github.com/harborough-csp/hotspot/tiles"
)

// marketHarborough is the town centre, where most of the district's
// incidents are.
var marketHarborough = orb.Point{-0.9205, 52.4775}

func TestParseFilter(t *testing.T) {
	d := func(s string) time.Time { v, _ := time.Parse("2006-01-02", s); return v }
	tests := []struct {
		q    string
		want tiles.Filter
		ok   bool
	}{
		{"", tiles.Filter{}, true},
		{"from=2024-01&to=2024-03", tiles.Filter{From: d("2024-01-01"), To: d("2024-04-01")}, true},
		{"from=2024-01-15&to=2024-01-15", tiles.Filter{From: d("2024-01-15"), To: d("2024-01-16"), Days: true}, true},
		{"to=2024-12", tiles.Filter{To: d("2025-01-01")}, true},
		{"priority=3&priority=1&priority=3", tiles.Filter{Priorities: []int{1, 3}}, true},
		{"category=drugs&category=burglary", tiles.Filter{Categories: []string{"burglary", "drugs"}}, true},
		{"from=2024-03&to=2024-02", tiles.Filter{}, false},
		{"from=2024-13", tiles.Filter{}, false},
		{"from=2024-1", tiles.Filter{}, false},
		{"from=2024-02-30", tiles.Filter{}, false},
		{"from=2024-01&from=2024-02", tiles.Filter{}, false},
		{"priority=0", tiles.Filter{}, false},
		{"priority=6", tiles.Filter{}, false},
		{"priority=01", tiles.Filter{}, false},
		{"priority=two", tiles.Filter{}, false},
		{"category=Burglary", tiles.Filter{}, false},
		{"category=", tiles.Filter{}, false},
		{"category=a%27--", tiles.Filter{}, false},
		{"date=2024-01", tiles.Filter{}, false}, // the public layer's parameter, not this one's
		{"colour=red", tiles.Filter{}, false},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.q)
		got, err := tiles.ParseFilter(q)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, tiles.ErrBadFilter)) {
			t.Errorf("ParseFilter(%q) error = %v; want ok %v", tt.q, err, tt.ok)
			continue
		}
		if tt.ok && got.Key() != tt.want.Key() {
			t.Errorf("ParseFilter(%q) = %+v; want %+v", tt.q, got, tt.want)
		}
		if tt.ok && got.Days != tt.want.Days {
			t.Errorf("ParseFilter(%q).Days = %v; want %v", tt.q, got.Days, tt.want.Days)
		}
	}
}

func FuzzParseFilter(f *testing.F) {
	for _, s := range []string{"", "from=2024-01&to=2024-03", "from=2024-01-15", "priority=3&category=drugs", "to=0000-01", "category=%00", "from=9999-12-31&to=9999-12"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		got, err := tiles.ParseFilter(q)
		if err != nil {
			if !errors.Is(err, tiles.ErrBadFilter) {
				t.Fatalf("ParseFilter(%q) error %v is not ErrBadFilter", s, err)
			}
			return
		}
		if !got.From.IsZero() && !got.To.IsZero() && !got.From.Before(got.To) {
			t.Fatalf("ParseFilter(%q) = %+v: empty range accepted", s, got)
		}
		for _, p := range got.Priorities {
			if p < 1 || p > 5 {
				t.Fatalf("ParseFilter(%q) priority %d", s, p)
			}
		}
		for _, c := range got.Categories {
			if strings.ContainsAny(c, "'\";\\ \x00") {
				t.Fatalf("ParseFilter(%q) category %q", s, c)
			}
		}
	})
}

// TestMortonMatchesDatabase checks the Go cell keys against the
// database's tile_morton, and the levels against tile_cells' CHECK.
func TestMortonMatchesDatabase(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200; i++ {
		cx, cy := r.Uint32N(1<<21), r.Uint32N(1<<21)
		var got int64
		if err := pool.QueryRow(ctx, `SELECT tile_morton($1, $2)`, int32(cx), int32(cy)).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if want := tiles.Morton(cx, cy); got != want {
			t.Fatalf("tile_morton(%d, %d) = %d; Go says %d", cx, cy, got, want)
		}
	}
	var def string
	if err := pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conname = 'tile_cells_level_check'`).Scan(&def); err != nil {
		t.Fatal(err)
	}
	for _, l := range tiles.CellLevels {
		if !strings.Contains(def, itoa(l)) {
			t.Errorf("tile_cells level CHECK %q lacks level %d of tiles.CellLevels", def, l)
		}
	}
}

func itoa(i int) string { b, _ := json.Marshal(i); return string(b) }

// cellsDigest is tile_cells in one string, to compare two ways of
// computing it.
func cellsDigest(t *testing.T, pool *pgxpool.Pool) (string, int64) {
	t.Helper()
	var d string
	var n int64
	err := pool.QueryRow(context.Background(), `SELECT coalesce(md5(string_agg(format('%s/%s/%s/%s/%s/%s/%s/%s', level, key, cx, cy, month, category, n,
		round(sx::numeric, 1) || ',' || round(sy::numeric, 1)), ';' ORDER BY level, key, month, category)), ''), count(*) FROM tile_cells`).Scan(&d, &n)
	if err != nil {
		t.Fatal(err)
	}
	return d, n
}

// TestCellsKeptByTriggers imports real months and synthetic rows, then
// deletes and moves some, and checks after each step that the cells the
// triggers kept equal the cells rebuilt from scratch, and that each step
// moved the data version.
func TestCellsKeptByTriggers(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "police-uk", "2024-0*.csv"))
	if len(files) == 0 {
		t.Skip("real data missing")
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	version := func() int64 {
		var v int64
		if err := pool.QueryRow(ctx, `SELECT version FROM data_version`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	check := func(step string) {
		t.Helper()
		kept, n := cellsDigest(t, pool)
		if _, err := tiles.Refresh(ctx, pool); err != nil {
			t.Fatal(err)
		}
		fresh, m := cellsDigest(t, pool)
		if kept != fresh || n != m {
			t.Errorf("after %s: cells kept by triggers (%d) differ from a refresh (%d)", step, n, m)
		}
		// The finest level's counts add up to the located incidents.
		var cells, located int64
		if err := pool.QueryRow(ctx, `SELECT (SELECT coalesce(sum(n), 0) FROM tile_cells WHERE level = 20), (SELECT count(*) FROM incidents WHERE geom_web IS NOT NULL)`).Scan(&cells, &located); err != nil {
			t.Fatal(err)
		}
		if cells != located {
			t.Errorf("after %s: cells count %d incidents; %d are located", step, cells, located)
		}
	}
	v0 := version()
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
			t.Fatal(err)
		}
	}
	check("police.uk imports")
	if _, err := synth.Load(ctx, pool, synth.Options{Incidents: 3000, Seed: 7}); err != nil {
		t.Fatal(err)
	}
	check("synth")
	v1 := version()
	if v1 <= v0 {
		t.Errorf("data version %d after imports; was %d", v1, v0)
	}
	// A partner feed or geocoder moving and recategorising incidents.
	if _, err := pool.Exec(ctx, `UPDATE incidents SET geom_web = ST_Translate(geom_web, 500, -300), category = 'drugs' WHERE id % 7 = 0`); err != nil {
		t.Fatal(err)
	}
	check("update")
	v2 := version()
	if v2 <= v1 {
		t.Errorf("data version %d after an UPDATE of incidents; was %d", v2, v1)
	}
	if _, err := pool.Exec(ctx, `DELETE FROM incidents WHERE synthetic AND id % 2 = 0`); err != nil {
		t.Fatal(err)
	}
	check("delete")
	if v3 := version(); v3 <= v2 {
		t.Errorf("data version %d after a DELETE; was %d", v3, v2)
	}
	// An edit of the priorities moves the version too (filters read it).
	v4 := version()
	if _, err := pool.Exec(ctx, `UPDATE category_priorities SET priority = 5 WHERE category = 'other-crime'`); err != nil {
		t.Fatal(err)
	}
	if v5 := version(); v5 <= v4 {
		t.Errorf("data version %d after a priorities edit; was %d", v5, v4)
	}
}

// sumCounts decodes a tile and adds up its features' counts.
func sumCounts(t *testing.T, b []byte, layer string) (int, []*mvtFeature) {
	t.Helper()
	if len(b) == 0 {
		return 0, nil
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil {
		t.Fatalf("mvt.Unmarshal: %v", err)
	}
	if len(ls) != 1 || ls[0].Name != layer {
		t.Fatalf("tile layers = %d; want one named %s", len(ls), layer)
	}
	var n int
	var fs []*mvtFeature
	for _, f := range ls[0].Features {
		n += int(f.Properties.MustFloat64("count", 0))
		fs = append(fs, &mvtFeature{props: f.Properties, geom: f.Geometry})
	}
	return n, fs
}

type mvtFeature struct {
	props map[string]any
	geom  orb.Geometry
}

// inTile counts incidents whose Web Mercator point is inside tile t, with
// a WHERE clause, straight from the incidents table.
func inTile(t *testing.T, pool *pgxpool.Pool, tile maptile.Tile, where string, args ...any) int {
	t.Helper()
	var n int
	sql := `SELECT count(*) FROM incidents i WHERE ST_Intersects(i.geom_web, ST_TileEnvelope($1, $2, $3)) AND ` + where
	if err := pool.QueryRow(context.Background(), sql, append([]any{int(tile.Z), int(tile.X), int(tile.Y)}, args...)...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestDensityFilters checks the police density layer's counts against the
// incidents table for each kind of filter, including a day range whose
// ends are partial months (counted from the incidents) around whole ones
// (from the aggregates).
func TestDensityFilters(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "police-uk", "2024-0*.csv"))
	if len(files) == 0 {
		t.Skip("real data missing")
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
			t.Fatal(err)
		}
	}
	// Synthetic rows give exact times, for day ranges.
	if _, err := synth.Load(ctx, pool, synth.Options{Incidents: 4000, Seed: 3,
		From: time.Date(2023, 11, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)}); err != nil {
		t.Fatal(err)
	}
	srv := tiles.New(pool)
	tests := []struct {
		q     string
		where string
		args  []any
	}{
		{"", "true", nil},
		{"category=burglary&category=shoplifting", "category IN ('burglary', 'shoplifting')", nil},
		{"priority=3", "category IN (SELECT category FROM category_priorities WHERE priority = 3)", nil},
		{"priority=2&category=burglary", "false", nil},
		{"from=2024-01&to=2024-01", "occurred_from >= '2024-01-01' AND occurred_from < '2024-02-01'", nil},
		{"from=2023-12-10&to=2024-02-14", "occurred_from >= '2023-12-10' AND occurred_from < '2024-02-15'", nil},
		{"from=2024-01-05&to=2024-01-20&priority=2", "occurred_from >= '2024-01-05' AND occurred_from < '2024-01-21' AND category IN (SELECT category FROM category_priorities WHERE priority = 2)", nil},
		{"to=2023-12-31", "occurred_from < '2024-01-01'", nil},
	}
	for _, z := range []maptile.Zoom{9, 11, 13, 16} {
		tile := maptile.At(marketHarborough, z)
		for _, tt := range tests {
			q, _ := url.ParseQuery(tt.q)
			f, err := tiles.ParseFilter(q)
			if err != nil {
				t.Fatal(err)
			}
			want := inTile(t, pool, tile, tt.where)
			for _, layer := range []string{"density", "incidents"} {
				if layer == "incidents" && z >= tiles.PointMinZoom {
					continue // points: checked by TestIncidentTiles
				}
				tl, err := srv.Get(ctx, tiles.Request{Layer: layer, Tile: tile, Audience: tiles.AudiencePolice, Filter: f})
				if err != nil {
					t.Fatalf("%s %v ?%s: %v", layer, tile, tt.q, err)
				}
				got, _ := sumCounts(t, tl.Body, layer)
				if got != want {
					t.Errorf("%s tile %v ?%s counts %d; the incidents table has %d", layer, tile, tt.q, got, want)
				}
			}
		}
	}
}

// TestPublicDensity checks the public density layer against the open
// data, cell by cell: every count it shows is the open.crimes count of
// the cell's map points, no count below open.meta.min_count is ever
// shown, such cells say suppressed, and sensitive categories are absent.
func TestPublicDensity(t *testing.T) {
	pool, pub := publicFixture(t)
	ctx := context.Background()
	srv := tiles.New(pool, tiles.WithPublic(pub))
	var min int
	if err := pool.QueryRow(ctx, `SELECT min_count FROM open.meta`).Scan(&min); err != nil {
		t.Fatal(err)
	}
	type crime struct {
		merc     orb.Point
		category string
		month    string
	}
	var crimes []crime
	rows, err := pool.Query(ctx, `SELECT ST_X(m.geom), ST_Y(m.geom), c.category, to_char(c.month, 'YYYY-MM') FROM open.crimes c JOIN open.map_points m ON m.id = c.map_point_id`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var c crime
		var ll orb.Point
		if err := rows.Scan(&ll[0], &ll[1], &c.category, &c.month); err != nil {
			t.Fatal(err)
		}
		c.merc = project.WGS84.ToMercator(ll)
		crimes = append(crimes, c)
	}
	if len(crimes) == 0 {
		t.Fatal("no public crimes")
	}
	const half = 20037508.342789244
	for _, tc := range []struct {
		z maptile.Zoom
		q string
	}{{9, ""}, {11, "from=2024-01&to=2024-02"}, {13, "category=shoplifting"}, {15, "priority=2"}, {11, "category=violent-crime"}} {
		tile := maptile.At(marketHarborough, tc.z)
		qv, _ := url.ParseQuery(tc.q)
		f, err := tiles.ParseFilter(qv)
		if err != nil {
			t.Fatal(err)
		}
		tl, err := srv.Get(ctx, tiles.Request{Layer: "density", Tile: tile, Audience: tiles.AudiencePublic, Filter: f})
		if err != nil {
			t.Fatal(err)
		}
		// Independent expectation: the cells, at the layer's level, of
		// the crimes matching the filter.
		level := int(tc.z) + 5
		if level%2 == 1 {
			level++
		}
		if level > 20 {
			level = 20
		}
		w := 2 * half / float64(uint64(1)<<level)
		want := map[[2]int]int{}
		var prio map[string]bool
		if strings.HasPrefix(tc.q, "priority=") {
			prio = map[string]bool{}
			rows, _ := pool.Query(ctx, `SELECT category FROM category_priorities WHERE priority = 2`)
			cs, _ := pgx.CollectRows(rows, pgx.RowTo[string])
			for _, c := range cs {
				prio[c] = true
			}
		}
		bound := tile.Bound()
		tmin := project.WGS84.ToMercator(bound.Min)
		tmax := project.WGS84.ToMercator(bound.Max)
		for _, c := range crimes {
			if c.merc[0] < tmin[0] || c.merc[0] >= tmax[0] || c.merc[1] <= tmin[1] || c.merc[1] > tmax[1] {
				continue
			}
			if len(f.Categories) > 0 && c.category != f.Categories[0] {
				continue
			}
			if prio != nil && !prio[c.category] {
				continue
			}
			if !f.From.IsZero() && (c.month < "2024-01" || c.month > "2024-02") {
				continue
			}
			cell := [2]int{int(math.Floor((c.merc[0] + half) / w)), int(math.Floor((half - c.merc[1]) / w))}
			want[cell]++
		}
		_, fs := sumCounts(t, tl.Body, "density")
		if tc.q == "category=violent-crime" {
			if len(fs) != 0 {
				t.Errorf("public density of a sensitive category has %d cells; want none", len(fs))
			}
			continue
		}
		if len(fs) != len(want) {
			t.Errorf("public density %v ?%s: %d cells; the open data has %d", tile, tc.q, len(fs), len(want))
		}
		var shown, suppressed int
		for _, ft := range fs {
			count, hasCount := ft.props["count"]
			supp, _ := ft.props["suppressed"].(bool)
			switch {
			case supp && hasCount:
				t.Errorf("suppressed cell carries a count %v", count)
			case supp:
				suppressed++
			case !hasCount:
				t.Errorf("cell with neither a count nor suppressed: %v", ft.props)
			default:
				n := int(count.(float64))
				if n < min {
					t.Errorf("public density shows a count of %d, below the minimum %d", n, min)
				}
				shown += n
			}
			// The feature's square, back in Web Mercator, names its cell.
			poly, ok := ft.geom.(orb.Polygon)
			if !ok {
				t.Fatalf("density feature geometry %T; want polygon", ft.geom)
			}
			c := poly.Bound().Center()
			ext := float64(tiles.Extent)
			x := tmin[0] + c[0]/ext*(tmax[0]-tmin[0])
			y := tmax[1] - c[1]/ext*(tmax[1]-tmin[1])
			cell := [2]int{int(math.Floor((x + half) / w)), int(math.Floor((half - y) / w))}
			n, ok := want[cell]
			switch {
			case !ok:
				t.Errorf("public density cell %v has no public crimes", cell)
			case n < min && !supp:
				t.Errorf("cell %v of %d crimes shown", cell, n)
			case n >= min && (supp || int(count.(float64)) != n):
				t.Errorf("cell %v = %v; want count %d", cell, ft.props, n)
			}
		}
		if shown == 0 && tc.z < 13 {
			t.Errorf("public density %v ?%s shows nothing", tile, tc.q)
		}
		t.Logf("z%d ?%s: %d cells, %d crimes shown, %d cells suppressed", tc.z, tc.q, len(fs), shown, suppressed)
	}
	// Day ranges: the public data is monthly.
	_, err = srv.Get(ctx, tiles.Request{Layer: "density", Tile: maptile.At(marketHarborough, 10), Audience: tiles.AudiencePublic,
		Filter: tiles.Filter{From: time.Date(2024, 1, 3, 0, 0, 0, 0, time.UTC), Days: true}})
	if !errors.Is(err, tiles.ErrBadFilter) {
		t.Errorf("public density with a day range: error %v; want ErrBadFilter", err)
	}
	// The public never gets the incidents layer.
	if _, err := srv.Get(ctx, tiles.Request{Layer: "incidents", Tile: maptile.At(marketHarborough, 10), Audience: tiles.AudiencePublic}); !errors.Is(err, tiles.ErrAudience) {
		t.Errorf("incidents for the public: error %v; want ErrAudience", err)
	}
	// Locations: the named places, for anyone, read as the public role.
	if _, err := pool.Exec(ctx, `INSERT INTO places (slug, name, kind, geom, origin, method, sources, built_by)
		VALUES ('test-town', 'Test Town', 'town', ST_Multi(ST_Buffer(ST_SetSRID(ST_MakePoint(-0.9205, 52.4775), 4326), 0.01)), 'built', 'test', '{test}', 'test')`); err != nil {
		t.Fatal(err)
	}
	b, _, err := srv.Build(ctx, tiles.Request{Layer: "locations", Tile: maptile.At(marketHarborough, 12), Audience: tiles.AudiencePublic})
	if err != nil {
		t.Fatal(err)
	}
	ls, err := mvt.Unmarshal(b)
	if err != nil || len(ls) != 1 || len(ls[0].Features) != 1 || ls[0].Features[0].Properties.MustString("name", "") != "Test Town" {
		t.Errorf("locations tile = %v, %v; want Test Town", ls, err)
	}
}

// TestPointBudget fills one tile with more incidents than the point
// budget and checks that the incidents layer serves clusters there, says
// so, and still counts every incident.
func TestPointBudget(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	if _, err := synth.Load(ctx, pool, synth.Options{Incidents: 60000, Seed: 5}); err != nil {
		t.Fatal(err)
	}
	srv := tiles.New(pool)
	var busiest maptile.Tile
	var most int
	for _, p := range []orb.Point{marketHarborough, {-1.2003, 52.4557}, {-1.0755, 52.5333}} {
		tile := maptile.At(p, tiles.PointMinZoom)
		if n := inTile(t, pool, tile, "true"); n > most {
			busiest, most = tile, n
		}
	}
	if most <= tiles.MaxPoints {
		t.Fatalf("busiest tile holds %d incidents; the test needs more than %d", most, tiles.MaxPoints)
	}
	tl, err := srv.Get(ctx, tiles.Request{Layer: "incidents", Tile: busiest, Audience: tiles.AudiencePolice})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tl.Source, "aggregates (") {
		t.Errorf("over-budget tile source = %q; want aggregates with the reason", tl.Source)
	}
	got, fs := sumCounts(t, tl.Body, "incidents")
	if got != most {
		t.Errorf("over-budget tile clusters count %d; the tile holds %d", got, most)
	}
	for _, f := range fs {
		if f.props["aggregated"] != true {
			t.Fatalf("over-budget tile feature %v does not say aggregated", f.props)
		}
	}
	if len(tl.Body) > tiles.MaxTileBytes {
		t.Errorf("tile is %d bytes; budget %d", len(tl.Body), tiles.MaxTileBytes)
	}
	// A narrow filter brings the same tile under budget: points.
	tl, err = srv.Get(ctx, tiles.Request{Layer: "incidents", Tile: busiest, Audience: tiles.AudiencePolice, Filter: tiles.Filter{Categories: []string{"bicycle-theft"}}})
	if err != nil {
		t.Fatal(err)
	}
	if tl.Source != "points" {
		t.Errorf("narrowly filtered tile source = %q; want points", tl.Source)
	}
}

// TestCacheInvalidation serves a tile from the cache, imports a month,
// and checks that the next request gets a new tile with the new data and
// a new ETag, through the version watcher.
func TestCacheInvalidation(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "police-uk", "2024-0*.csv"))
	if len(files) < 2 {
		t.Skip("real data missing")
	}
	pool := storetest.DB(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if _, err := ingest.ImportPoliceUKFile(ctx, pool, files[0]); err != nil {
		t.Fatal(err)
	}
	// Open: the server's own warmed pools, and the watcher on the main one.
	srv, err := tiles.Open(ctx, pool, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	go srv.Watch(ctx)
	req := tiles.Request{Layer: "density", Tile: maptile.At(marketHarborough, 11), Audience: tiles.AudiencePolice}
	a, err := srv.Get(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	b, err := srv.Get(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("second request for the same tile was built again; want it from the cache")
	}
	v0, _ := srv.Version(ctx)
	if _, err := ingest.ImportPoliceUKFile(ctx, pool, files[1]); err != nil {
		t.Fatal(err)
	}
	// The notification arrives at commit; allow it a moment.
	deadline := time.Now().Add(3 * time.Second)
	for {
		v, err := srv.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v != v0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("data version still %d 3 s after an import", v)
		}
		time.Sleep(5 * time.Millisecond)
	}
	c, err := srv.Get(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if c.ETag == a.ETag {
		t.Errorf("ETag %s unchanged after an import", c.ETag)
	}
	before, _ := sumCounts(t, a.Body, "density")
	after, _ := sumCounts(t, c.Body, "density")
	if want := inTile(t, pool, req.Tile, "true"); after != want || after <= before {
		t.Errorf("after the import the tile counts %d (before %d); the table has %d", after, before, want)
	}
}

// TestTilePlans loads real and synthetic incidents and checks with
// EXPLAIN (ANALYZE, FORMAT JSON) that no tile query reads incidents or
// tile_cells with a sequential scan, at low and high zoom, filtered or
// not.
func TestTilePlans(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("..", "..", "shared", "data", "police-uk", "*.csv"))
	if len(files) == 0 {
		t.Skip("real data missing")
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := synth.Load(ctx, pool, synth.Options{Incidents: 60000, Seed: 9}); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `ANALYZE incidents; ANALYZE tile_cells`); err != nil {
		t.Fatal(err)
	}
	day := func(s string) time.Time { v, _ := time.Parse("2006-01-02", s); return v }
	filters := []tiles.Filter{
		{},
		{From: day("2024-01-01"), To: day("2024-07-01"), Categories: []string{"burglary"}},
		{From: day("2024-03-05"), To: day("2024-03-21"), Days: true},
		{From: day("2023-12-20"), To: day("2024-02-10"), Days: true},
	}
	for _, z := range []maptile.Zoom{8, 10, 12, 14, 16} {
		for _, f := range filters {
			plans, err := tiles.ExplainTile(ctx, pool, tiles.Request{Layer: "incidents", Tile: maptile.At(marketHarborough, z), Audience: tiles.AudiencePolice, Filter: f})
			if err != nil {
				t.Fatal(err)
			}
			if len(plans) == 0 {
				t.Fatal("no plans")
			}
			for _, p := range plans {
				var doc []map[string]any
				if err := json.Unmarshal(p, &doc); err != nil {
					t.Fatal(err)
				}
				walkPlan(doc[0]["Plan"].(map[string]any), func(n map[string]any) {
					rel, _ := n["Relation Name"].(string)
					typ, _ := n["Node Type"].(string)
					if (rel == "incidents" || rel == "tile_cells") && strings.Contains(typ, "Seq Scan") {
						t.Errorf("z%d filter %q: %s on %s", z, f.Key(), typ, rel)
					}
				})
			}
		}
	}
}

func walkPlan(n map[string]any, visit func(map[string]any)) {
	visit(n)
	kids, _ := n["Plans"].([]any)
	for _, k := range kids {
		walkPlan(k.(map[string]any), visit)
	}
}
