package ingest_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

const square = `{"type":"Polygon","coordinates":[[[-0.93,52.47],[-0.91,52.47],[-0.91,52.49],[-0.93,52.49],[-0.93,52.47]]]}`

func TestReadBoundaries(t *testing.T) {
	tests := []struct {
		name, body string
		codeField  string
		wantCodes  []string
		wantErr    bool
	}{
		{"ons lsoa", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"LSOA11CD":"E01","LSOA11NM":"Harborough 001A"},"geometry":` + square + `}]}`, "", []string{"E01"}, false},
		{"named field", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"id":7,"title":"x"},"geometry":` + square + `}]}`, "id", []string{"7"}, false},
		{"multipolygon", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":"MultiPolygon","coordinates":[[[[-0.93,52.47],[-0.91,52.47],[-0.91,52.49],[-0.93,52.47]]]]}}]}`, "", []string{"A"}, false},
		{"no code", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{},"geometry":` + square + `}]}`, "", nil, true},
		{"duplicate code", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":` + square + `},{"type":"Feature","properties":{"code":"A"},"geometry":` + square + `}]}`, "", nil, true},
		{"point", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":"Point","coordinates":[0,0]}}]}`, "", nil, true},
		{"british national grid", `{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":"Polygon","coordinates":[[[473000,287000],[474000,287000],[474000,288000],[473000,287000]]]}}]}`, "", nil, true},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, "", nil, true},
		{"not json", `<kml/>`, "", nil, true},
	}
	for _, tt := range tests {
		bs, err := ingest.ReadBoundaries(strings.NewReader(tt.body), tt.codeField, "")
		if tt.wantErr {
			if !errors.Is(err, ingest.ErrBadGeoJSON) {
				t.Errorf("ReadBoundaries(%s) error = %v; want ErrBadGeoJSON", tt.name, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ReadBoundaries(%s) error = %v", tt.name, err)
			continue
		}
		var codes []string
		for _, b := range bs {
			codes = append(codes, b.Code)
		}
		if strings.Join(codes, ",") != strings.Join(tt.wantCodes, ",") {
			t.Errorf("ReadBoundaries(%s) codes = %v; want %v", tt.name, codes, tt.wantCodes)
		}
	}
}

// TestLoadRealBoundaries loads the real ward and LSOA files and checks the
// counts against the data README (25 wards, 47 LSOAs) and that the areas
// tile the district: their total area matches the district outline's.
func TestLoadRealBoundaries(t *testing.T) {
	dir := filepath.Join(dataDir, "boundaries")
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data missing (CI is set): %v", err)
		}
		t.Skip(err)
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, f := range []struct {
		file, kind string
		want       int
	}{{"harborough-district.geojson", "district", 1}, {"wards2013-harborough.geojson", "ward", 25}, {"lsoa11-harborough.geojson", "lsoa", 47}} {
		r, err := os.Open(filepath.Join(dir, f.file))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := ingest.ReadBoundaries(r, "", "")
		r.Close()
		if err != nil || len(bs) != f.want {
			t.Fatalf("ReadBoundaries(%s) = %d areas, %v; want %d", f.file, len(bs), err, f.want)
		}
		if err := ingest.LoadBoundaries(ctx, pool, f.kind, bs); err != nil {
			t.Fatal(err)
		}
		// Loading again replaces rather than duplicates.
		if err := ingest.LoadBoundaries(ctx, pool, f.kind, bs); err != nil {
			t.Fatal(err)
		}
		if got := count(t, pool, `SELECT count(*) FROM boundaries WHERE kind = $1`, f.kind); got != f.want {
			t.Errorf("%s boundaries = %d; want %d", f.kind, got, f.want)
		}
	}
	var district, lsoas, wards float64
	if err := pool.QueryRow(ctx, `SELECT sum(ST_Area(geom_bng)) FILTER (WHERE kind = 'district') / 1e6,
		sum(ST_Area(geom_bng)) FILTER (WHERE kind = 'lsoa') / 1e6,
		sum(ST_Area(geom_bng)) FILTER (WHERE kind = 'ward') / 1e6 FROM boundaries`).Scan(&district, &lsoas, &wards); err != nil {
		t.Fatal(err)
	}
	// The data README gives the district as 593 km²; the LSOAs and the
	// wards each cover it.
	if district < 585 || district > 600 || lsoas/district < 0.995 || lsoas/district > 1.005 || wards/district < 0.99 || wards/district > 1.01 {
		t.Errorf("district area = %.1f km², LSOAs = %.1f km², wards = %.1f km²; want about 593 km² each", district, lsoas, wards)
	}
	if err := ingest.LoadBoundaries(ctx, pool, "Bad Kind", nil); err == nil {
		t.Error("LoadBoundaries(kind \"Bad Kind\") error = nil; want a refusal")
	}
}

func FuzzReadBoundaries(f *testing.F) {
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":` + square + `}]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":null},"geometry":null}]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":"Polygon","coordinates":[[]]}}]}`)
	f.Add(`{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"code":"A"},"geometry":{"type":"Polygon","coordinates":[[[1e400,0],[0,0],[0,1],[1e400,0]]]}}]}`)
	f.Add(`{"type":"GeometryCollection"}`)
	f.Add("\x00\xff")
	f.Fuzz(func(t *testing.T, body string) {
		bs, err := ingest.ReadBoundaries(strings.NewReader(body), "", "")
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, b := range bs {
			if b.Code == "" || seen[b.Code] || len(b.Polygon) == 0 {
				t.Fatalf("ReadBoundaries accepted a bad area: %+v", b)
			}
			seen[b.Code] = true
		}
	})
}
