package tiles_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"
	"github.com/paulmach/orb/project"

	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/tiles"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func TestParseTile(t *testing.T) {
	tests := []struct {
		z, x, y string
		want    maptile.Tile
		ok      bool
	}{
		{"0", "0", "0", maptile.New(0, 0, 0), true},
		{"11", "1018", "671", maptile.New(1018, 671, 11), true},
		{"22", "4194303", "4194303", maptile.New(4194303, 4194303, 22), true},
		{"1", "2", "0", maptile.Tile{}, false},           // x out of range
		{"1", "0", "2", maptile.Tile{}, false},           // y out of range
		{"23", "0", "0", maptile.Tile{}, false},          // too deep
		{"-1", "0", "0", maptile.Tile{}, false},          // sign
		{"+1", "0", "0", maptile.Tile{}, false},          // sign
		{"01", "0", "0", maptile.Tile{}, false},          // leading zero: one tile, one address
		{"1", " 0", "0", maptile.Tile{}, false},          // space
		{"a", "0", "0", maptile.Tile{}, false},           // not a number
		{"", "0", "0", maptile.Tile{}, false},            // empty
		{"1", "0", "0.5", maptile.Tile{}, false},         // fraction
		{"99999999999", "0", "0", maptile.Tile{}, false}, // overflow
	}
	for _, tt := range tests {
		got, err := tiles.ParseTile(tt.z, tt.x, tt.y)
		if tt.ok && (err != nil || got != tt.want) {
			t.Errorf("ParseTile(%q, %q, %q) = %v, %v; want %v", tt.z, tt.x, tt.y, got, err, tt.want)
		}
		if !tt.ok && !errors.Is(err, tiles.ErrBadTile) {
			t.Errorf("ParseTile(%q, %q, %q) error = %v; want ErrBadTile", tt.z, tt.x, tt.y, err)
		}
	}
}

func FuzzParseTile(f *testing.F) {
	for _, s := range [][3]string{{"0", "0", "0"}, {"22", "4194303", "0"}, {"1", "-0", "0"}, {"\x00", "1", "1"}, {"9", "511", "512"}} {
		f.Add(s[0], s[1], s[2])
	}
	f.Fuzz(func(t *testing.T, z, x, y string) {
		tile, err := tiles.ParseTile(z, x, y)
		if err != nil {
			if !errors.Is(err, tiles.ErrBadTile) {
				t.Fatalf("ParseTile error %v is not ErrBadTile", err)
			}
			return
		}
		if tile.Z > tiles.MaxZoom || uint64(tile.X) >= 1<<tile.Z || uint64(tile.Y) >= 1<<tile.Z {
			t.Fatalf("ParseTile(%q, %q, %q) = %v: out of range", z, x, y, tile)
		}
		// One tile, one address: the canonical spelling parses back the same.
		if strconv.Itoa(int(tile.Z)) != z || strconv.Itoa(int(tile.X)) != x || strconv.Itoa(int(tile.Y)) != y {
			t.Fatalf("ParseTile(%q, %q, %q) = %v: accepted a non-canonical address", z, x, y, tile)
		}
	})
}

const policeFile = "../../shared/data/police-uk/2024-01-leicestershire-street.csv"

// csvPoint is one row of the real file, read independently of the importer.
type csvPoint struct {
	merc     orb.Point
	category string
	month    string
}

func readPoints(t *testing.T) []csvPoint {
	t.Helper()
	f, err := os.Open(policeFile)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data missing (CI is set): %v", err)
		}
		t.Skipf("real data missing: %v", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	var pts []csvPoint
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if rec[4] == "" {
			continue
		}
		lon, _ := strconv.ParseFloat(rec[4], 64)
		lat, _ := strconv.ParseFloat(rec[5], 64)
		pts = append(pts, csvPoint{merc: project.WGS84.ToMercator(orb.Point{lon, lat}), category: rec[9], month: rec[1]})
	}
	return pts
}

// TestIncidentTiles imports a real month and checks, for tiles over
// Harborough at several zooms, that the decoded tile holds exactly the
// file's points that fall in the tile plus its buffer, with the right
// categories and months.
func TestIncidentTiles(t *testing.T) {
	pts := readPoints(t)
	pool := storetest.DB(t)
	ctx := context.Background()
	if _, err := ingest.ImportPoliceUKFile(ctx, pool, policeFile); err != nil {
		t.Fatal(err)
	}
	srv := tiles.New(pool)
	// Market Harborough town centre and Lutterworth.
	for _, c := range []struct {
		lon, lat float64
		z        maptile.Zoom
	}{{-0.9205, 52.4775, 10}, {-0.9205, 52.4775, 12}, {-0.9205, 52.4775, 13}, {-0.9205, 52.4775, 16}, {-1.2003, 52.4557, 14}} {
		tile := maptile.At(orb.Point{c.lon, c.lat}, c.z)
		b, err := srv.Tile(ctx, "incidents", tile)
		if err != nil {
			t.Fatalf("Tile(%v) error: %v", tile, err)
		}
		// Independent expectation: points in the tile's Mercator bound
		// expanded by the buffer (point tiles), or in the tile itself
		// (cluster tiles, whose cells nest in the tile).
		bound := tile.Bound()
		min := project.WGS84.ToMercator(bound.Min)
		max := project.WGS84.ToMercator(bound.Max)
		points := c.z >= tiles.PointMinZoom
		pad := 0.0
		if points {
			pad = (max[0] - min[0]) * tiles.Buffer / tiles.Extent
		}
		var want int
		wantCats := map[string]int{}
		for _, p := range pts {
			x, y := p.merc[0], p.merc[1]
			// Skip points within a millimetre of the edge, where rounding
			// could go either way.
			if near(x, min[0]-pad) || near(x, max[0]+pad) || near(y, min[1]-pad) || near(y, max[1]+pad) {
				t.Logf("point on the edge of %v skipped from the check", tile)
				continue
			}
			if x >= min[0]-pad && x <= max[0]+pad && y >= min[1]-pad && y <= max[1]+pad {
				want++
				wantCats[p.category]++
			}
		}
		if want == 0 {
			t.Fatalf("test tile %v has no points in the file: pick another", tile)
		}
		layers, err := mvt.Unmarshal(b)
		if err != nil {
			t.Fatalf("mvt.Unmarshal(tile %v) error: %v", tile, err)
		}
		if len(layers) != 1 || layers[0].Name != "incidents" {
			t.Fatalf("tile %v layers = %d; want one named incidents", tile, len(layers))
		}
		l := layers[0]
		if !points {
			// Clusters: their counts add up to the file's points in the tile.
			var got int
			for _, f := range l.Features {
				if f.Properties.MustBool("aggregated", false) != true {
					t.Errorf("tile %v feature aggregated = %v; want true below zoom %d", tile, f.Properties["aggregated"], tiles.PointMinZoom)
				}
				got += int(f.Properties.MustFloat64("count", 0))
			}
			if got != want {
				t.Errorf("tile %v cluster counts add up to %d; want %d", tile, got, want)
			}
			continue
		}
		if len(l.Features) != want {
			t.Errorf("tile %v features = %d; want %d", tile, len(l.Features), want)
		}
		gotCats := map[string]int{}
		for _, f := range l.Features {
			if _, ok := f.Geometry.(orb.Point); !ok {
				t.Errorf("tile %v feature geometry %T; want point", tile, f.Geometry)
			}
			if f.ID == nil {
				t.Errorf("tile %v feature without id", tile)
			}
			if m := f.Properties.MustString("month", ""); m != "2024-01" {
				t.Errorf("tile %v feature month = %q; want 2024-01", tile, m)
			}
			if f.Properties.MustBool("aggregated", true) {
				t.Errorf("tile %v point feature says aggregated", tile)
			}
			gotCats[f.Properties.MustString("category_name", "")]++
		}
		for name, n := range wantCats {
			if gotCats[name] != n {
				t.Errorf("tile %v %q features = %d; want %d", tile, name, gotCats[name], n)
			}
		}
	}
	// TileJSON bounds cover every point of the file, even those far outside
	// the district (police.uk files hold other forces' areas too).
	tj, err := srv.TileJSON(ctx, "incidents", "")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pts {
		ll := project.Mercator.ToWGS84(p.merc)
		if ll[0] < tj.Bounds[0]-1e-6 || ll[0] > tj.Bounds[2]+1e-6 || ll[1] < tj.Bounds[1]-1e-6 || ll[1] > tj.Bounds[3]+1e-6 {
			t.Fatalf("point %v outside TileJSON bounds %v", ll, tj.Bounds)
		}
	}
	// A tile in the sea has no features: an empty body.
	b, err := srv.Tile(ctx, "incidents", maptile.At(orb.Point{-30, 45}, 12))
	if err != nil || len(b) != 0 {
		t.Errorf("Tile(mid-Atlantic) = %d bytes, %v; want 0 bytes", len(b), err)
	}
	if _, err := srv.Tile(ctx, "nope", maptile.New(0, 0, 0)); !errors.Is(err, tiles.ErrUnknownLayer) {
		t.Errorf("Tile(unknown layer) error = %v; want ErrUnknownLayer", err)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.001 }

// TestBoundaryTiles loads the real district outline and checks that a
// tile over Market Harborough carries it, and TileJSON's bounds follow it.
func TestBoundaryTiles(t *testing.T) {
	path := filepath.Join("..", "..", "shared", "data", "boundaries", "harborough-district.geojson")
	f, err := os.Open(path)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data missing (CI is set): %v", err)
		}
		t.Skipf("real data missing: %v", err)
	}
	defer f.Close()
	bs, err := ingest.ReadBoundaries(f, "", "")
	if err != nil {
		t.Fatal(err)
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	srv := tiles.New(pool)
	before, err := srv.Bounds(ctx)
	if err != nil || before != tiles.HarboroughBounds() {
		t.Errorf("Bounds() with no district = %v, %v; want %v", before, err, tiles.HarboroughBounds())
	}
	if err := ingest.LoadBoundaries(ctx, pool, "district", bs); err != nil {
		t.Fatal(err)
	}
	b, err := srv.Tile(ctx, "boundaries", maptile.At(orb.Point{-0.95, 52.5}, 9))
	if err != nil {
		t.Fatal(err)
	}
	layers, err := mvt.Unmarshal(b)
	if err != nil || len(layers) != 1 || len(layers[0].Features) != 1 {
		t.Fatalf("boundaries tile = %v layers, %v; want 1 layer with 1 feature", len(layers), err)
	}
	feat := layers[0].Features[0]
	if feat.Properties.MustString("code", "") != "E07000131" || feat.Properties.MustString("kind", "") != "district" {
		t.Errorf("district feature properties = %v; want code E07000131, kind district", feat.Properties)
	}
	tj, err := srv.TileJSON(ctx, "boundaries", "http://example.test")
	if err != nil {
		t.Fatal(err)
	}
	// The outline's extent, from the file: roughly -1.31..-0.71, 52.39..52.69.
	if tj.Bounds[0] > -1.30 || tj.Bounds[0] < -1.31 || tj.Bounds[3] < 52.68 || tj.Bounds[3] > 52.69 {
		t.Errorf("TileJSON bounds = %v; want the district outline's extent", tj.Bounds)
	}
	if tj.TileJSON != "3.0.0" || len(tj.Tiles) != 1 || tj.Tiles[0] != "http://example.test/tiles/boundaries/{z}/{x}/{y}.mvt" {
		t.Errorf("TileJSON = %+v; want version 3.0.0 and the boundaries URL", tj)
	}
	if len(tj.VectorLayers) != 1 || tj.VectorLayers[0].ID != "boundaries" || tj.VectorLayers[0].Fields["code"] != "String" {
		t.Errorf("TileJSON vector_layers = %+v; want boundaries with its fields", tj.VectorLayers)
	}
	// With no incidents, the incidents layer falls back to the district.
	tj, err = srv.TileJSON(ctx, "incidents", "http://example.test")
	if err != nil || tj.Bounds[3] < 52.68 || tj.Bounds[3] > 52.69 || tj.VectorLayers[0].Fields["category"] != "String" {
		t.Errorf("empty incidents TileJSON = %+v, %v; want the district's bounds and the incident fields", tj, err)
	}
}
