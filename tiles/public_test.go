package tiles_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/tiles"
)

func TestParseMonths(t *testing.T) {
	m := func(s string) time.Time { v, _ := time.Parse("2006-01", s); return v }
	tests := []struct {
		date, from, to string
		want           tiles.Months
		ok             bool
	}{
		{"", "", "", tiles.Months{}, true},
		{"2024-01", "", "", tiles.Months{m("2024-01"), m("2024-01")}, true},
		{"", "2018-10", "2019-02", tiles.Months{m("2018-10"), m("2019-02")}, true},
		{"", "2023-03", "2024-02", tiles.Months{m("2023-03"), m("2024-02")}, true},
		{"", "2023-02", "2024-02", tiles.Months{}, false}, // 13 months
		{"", "2024-02", "2024-01", tiles.Months{}, false},
		{"", "2024-01", "", tiles.Months{}, false},
		{"2024-01", "2024-01", "2024-01", tiles.Months{}, false},
		{"2024-13", "", "", tiles.Months{}, false},
		{"2024-1", "", "", tiles.Months{}, false},
		{"2024-01-01", "", "", tiles.Months{}, false},
	}
	for _, tt := range tests {
		got, err := tiles.ParseMonths(tt.date, tt.from, tt.to)
		if got != tt.want || (err == nil) != tt.ok || (err != nil && !errors.Is(err, tiles.ErrBadMonths)) {
			t.Errorf("ParseMonths(%q, %q, %q) = %v, %v; want %v, ok %v", tt.date, tt.from, tt.to, got, err, tt.want, tt.ok)
		}
	}
}

// publicFixture loads the real reference data and police.uk months,
// rebuilds the public data, and returns the main and public pools.
func publicFixture(t *testing.T) (main, public *pgxpool.Pool) {
	t.Helper()
	data := filepath.Join("..", "..", "shared", "data")
	files, _ := filepath.Glob(filepath.Join(data, "police-uk", "*.csv"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("real data missing (CI is set)")
		}
		t.Skip("real data missing")
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, b := range []struct{ kind, file string }{{"district", "harborough-district.geojson"}, {"ward", "wards2013-harborough.geojson"}} {
		f, err := os.Open(filepath.Join(data, "boundaries", b.file))
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
	if _, err := ingest.ImportPostcodesFile(ctx, pool, filepath.Join(data, "postcodes", "codepoint-open-2025-10-le.csv")); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
	pub, err := anon.PublicPool(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	return pool, pub
}

// TestPublicTiles decodes public tiles over the district's towns and
// checks each feature against the open schema read through the main pool:
// it is a map point, at the map point's place, with exactly the counts of
// open.crimes for the months asked for, and no sensitive category.
func TestPublicTiles(t *testing.T) {
	pool, pub := publicFixture(t)
	ctx := context.Background()
	layer := tiles.NewPublic(pub)
	type point struct {
		ll     orb.Point
		street string
	}
	points := map[uint64]point{}
	rows, err := pool.Query(ctx, `SELECT id, ST_X(geom), ST_Y(geom), street FROM open.map_points`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id uint64
		var p point
		if err := rows.Scan(&id, &p.ll[0], &p.ll[1], &p.street); err != nil {
			t.Fatal(err)
		}
		points[id] = p
	}
	if len(points) == 0 {
		t.Fatal("no map points")
	}
	want := func(id uint64, from, to string) map[string]int {
		m := map[string]int{}
		rows, err := pool.Query(ctx, `SELECT category, count(*) FROM open.crimes WHERE map_point_id = $1
			AND month BETWEEN $2::date AND $3::date GROUP BY 1`, int64(id), from+"-01", to+"-01")
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var c string
			var n int
			if err := rows.Scan(&c, &n); err != nil {
				t.Fatal(err)
			}
			m[c] = n
		}
		return m
	}
	tests := []struct {
		lon, lat float64
		z        maptile.Zoom
		months   tiles.Months
		from, to string
	}{
		{-0.9205, 52.4775, 10, tiles.Months{}, "2024-02", "2024-02"},
		{-0.9205, 52.4775, 13, mustMonths(t, "2024-01", "2024-02"), "2024-01", "2024-02"},
		{-0.9205, 52.4775, 16, mustMonths(t, "2018-10", "2019-02"), "2018-10", "2019-02"},
		{-1.2003, 52.4557, 14, mustMonths(t, "2024-01", "2024-01"), "2024-01", "2024-01"},
		{-0.9205, 52.4775, 22, mustMonths(t, "2018-10", "2019-02"), "2018-10", "2019-02"},
	}
	features := 0
	for _, tt := range tests {
		tile := maptile.At(orb.Point{tt.lon, tt.lat}, tt.z)
		b, err := layer.Tile(ctx, tile, tt.months)
		if err != nil {
			t.Fatalf("Tile(%v) error = %v", tile, err)
		}
		if len(b) == 0 {
			if tt.z < 20 {
				t.Errorf("Tile(%v, %v) is empty; want the town's map points", tile, tt.months)
			}
			continue
		}
		layers, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatal(err)
		}
		if len(layers) != 1 || layers[0].Name != tiles.PublicLayerName {
			t.Fatalf("tile %v layers = %v; want one named public", tile, layers)
		}
		layers.ProjectToWGS84(tile)
		// A tile's resolution is its width over 4096.
		res := 360 / math.Exp2(float64(tt.z)) / tiles.Extent
		for _, f := range layers[0].Features {
			features++
			fid, _ := f.ID.(float64) // orb decodes MVT ids as float64
			id := uint64(fid)
			p, ok := points[id]
			if !ok {
				t.Fatalf("tile %v feature id %v is not a map point", tile, f.ID)
			}
			got := f.Geometry.(orb.Point)
			if math.Abs(got[0]-p.ll[0]) > 2*res || math.Abs(got[1]-p.ll[1]) > 2*res {
				t.Errorf("tile %v feature %d at %v; map point at %v", tile, id, got, p.ll)
			}
			if f.Properties.MustString("street", "") != p.street || f.Properties.MustString("date_from", "") != tt.from ||
				f.Properties.MustString("date_to", "") != tt.to {
				t.Errorf("tile %v feature %d properties %v; want street %q, %s to %s", tile, id, f.Properties, p.street, tt.from, tt.to)
			}
			w := want(id, tt.from, tt.to)
			total := 0
			for c, n := range w {
				total += n
				if got := int(f.Properties.MustFloat64(c, -1)); got != n {
					t.Errorf("tile %v feature %d %s = %d; want %d", tile, id, c, got, n)
				}
			}
			if got := int(f.Properties.MustFloat64("total", -1)); got != total || total == 0 {
				t.Errorf("tile %v feature %d total = %d; want %d (> 0)", tile, id, got, total)
			}
			for _, c := range []string{"violent-crime", "domestic-abuse", "sexual-offences", "hate-crime", "hate-incident"} {
				if _, ok := f.Properties[c]; ok {
					t.Errorf("tile %v feature %d carries sensitive category %s", tile, id, c)
				}
			}
		}
	}
	if features < 20 {
		t.Errorf("features checked = %d; want the towns' map points", features)
	}
	b, ok, err := layer.Bounds(ctx)
	if err != nil || !ok || b[0] > -1.2 || b[2] < -0.8 {
		t.Errorf("Bounds() = %v, %v, %v; want the district's map points", b, ok, err)
	}
	// A tile in the sea is empty.
	if b, err := layer.Tile(ctx, maptile.At(orb.Point{-30, 45}, 12), tiles.Months{}); err != nil || len(b) != 0 {
		t.Errorf("Tile(mid-Atlantic) = %d bytes, %v; want 0", len(b), err)
	}
}

func mustMonths(t *testing.T, from, to string) tiles.Months {
	m, err := tiles.ParseMonths("", from, to)
	if err != nil {
		t.Fatal(fmt.Errorf("ParseMonths(%s, %s): %w", from, to, err))
	}
	return m
}

// TestReferenceLayersUsePublicPool proves that, with a public pool, the
// boundaries layer (which anyone may read) is built as the public role:
// once that role loses its grant, the tile fails.
func TestReferenceLayersUsePublicPool(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	pub, err := anon.PublicPool(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	defer pub.Close()
	srv := tiles.New(pool, tiles.WithPublic(pub))
	tile := maptile.At(orb.Point{-0.92, 52.48}, 10)
	if _, err := srv.Tile(ctx, "boundaries", tile); err != nil {
		t.Fatalf("boundaries tile with the grant: %v", err)
	}
	if _, err := pool.Exec(ctx, `REVOKE SELECT ON boundaries FROM hotspot_public`); err != nil {
		t.Fatal(err)
	}
	defer pool.Exec(ctx, `GRANT SELECT ON boundaries TO hotspot_public`) //nolint:errcheck // the database is dropped anyway
	if _, err := srv.Tile(ctx, "boundaries", tile); err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("boundaries tile after REVOKE = %v; want permission denied (built as the public role)", err)
	}
	if _, err := srv.Bounds(ctx); err == nil {
		t.Error("Bounds after REVOKE = nil error; want permission denied (read as the public role)")
	}
}
