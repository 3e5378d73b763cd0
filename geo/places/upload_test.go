package places_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo/places"
)

// polygon returns a GeoJSON Polygon geometry with one ring of lon,lat pairs.
func polygon(coords ...float64) string {
	var b strings.Builder
	b.WriteString(`{"type":"Polygon","coordinates":[[`)
	for i := 0; i+1 < len(coords); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "[%v,%v]", coords[i], coords[i+1])
	}
	b.WriteString(`]]}`)
	return b.String()
}

func feature(geometry string) string {
	return `{"type":"Feature","properties":{"name":"x"},"geometry":` + geometry + `}`
}

// box is a closed rectangle from (x0, y0) to (x1, y1), counter-clockwise.
func box(x0, y0, x1, y1 float64) string {
	return polygon(x0, y0, x1, y0, x1, y1, x0, y1, x0, y0)
}

// wellandBox is a plausible surveyed outline of Welland Park: 0.07 km².
var wellandBox = box(-0.9310, 52.4746, -0.9235, 52.4758)

func TestParseUpload(t *testing.T) {
	tests := []struct {
		name, in  string
		wantParts int    // 0: want an error
		wantMsg   string // in the error
	}{
		{"polygon", wellandBox, 1, ""},
		{"feature", feature(wellandBox), 1, ""},
		{"collection of one", `{"type":"FeatureCollection","features":[` + feature(wellandBox) + `]}`, 1, ""},
		{"multipolygon", `{"type":"MultiPolygon","coordinates":[[[[-0.931,52.4746],[-0.9235,52.4746],[-0.9235,52.4758],[-0.931,52.4746]]],[[[-0.92,52.47],[-0.91,52.47],[-0.91,52.48],[-0.92,52.47]]]]}`, 2, ""},
		{"polygon with a hole", `{"type":"Polygon","coordinates":[[[-0.94,52.46],[-0.90,52.46],[-0.90,52.49],[-0.94,52.46]],[[-0.92,52.47],[-0.91,52.47],[-0.91,52.475],[-0.92,52.47]]]}`, 1, ""},
		{"height dropped", `{"type":"Polygon","coordinates":[[[-0.931,52.4746,80],[-0.9235,52.4746,80],[-0.9235,52.4758,81],[-0.931,52.4746,80]]]}`, 1, ""},
		{"crs84 named", `{"type":"Feature","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:OGC:1.3:CRS84"}},"geometry":` + wellandBox + `}`, 1, ""},
		{"point", `{"type":"Point","coordinates":[-0.926,52.475]}`, 0, "Point"},
		{"feature with a point", feature(`{"type":"Point","coordinates":[-0.926,52.475]}`), 0, "Point"},
		{"line", `{"type":"LineString","coordinates":[[-0.926,52.475],[-0.92,52.48]]}`, 0, "LineString"},
		{"british national grid", box(472900, 286900, 473300, 287100), 0, "British National Grid"},
		{"british national grid by crs", `{"type":"FeatureCollection","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::27700"}},"features":[` + feature(wellandBox) + `]}`, 0, "British National Grid"},
		{"other crs", `{"type":"Feature","crs":{"type":"name","properties":{"name":"EPSG:3857"}},"geometry":` + wellandBox + `}`, 0, "3857"},
		{"two features", `{"type":"FeatureCollection","features":[` + feature(wellandBox) + `,` + feature(wellandBox) + `]}`, 0, "2 features"},
		{"empty collection", `{"type":"FeatureCollection","features":[]}`, 0, "0 features"},
		{"unclosed ring", polygon(-0.931, 52.4746, -0.9235, 52.4746, -0.9235, 52.4758, -0.931, 52.4758), 0, "not closed"},
		{"three positions", polygon(-0.931, 52.4746, -0.9235, 52.4746, -0.931, 52.4746), 0, "at least 4"},
		{"one number", `{"type":"Polygon","coordinates":[[[-0.931],[-0.9235,52.4746],[-0.9235,52.4758],[-0.931]]]}`, 0, "want [longitude, latitude]"},
		{"no rings", `{"type":"Polygon","coordinates":[]}`, 0, "no rings"},
		{"no polygons", `{"type":"MultiPolygon","coordinates":[]}`, 0, "empty"},
		{"null geometry", `{"type":"Feature","geometry":null}`, 0, "no geometry"},
		{"strings", `{"type":"Polygon","coordinates":[[["a","b"]]]}`, 0, "coordinates"},
		{"latitude out of range", box(-0.93, 91, -0.92, 92), 0, "longitude/latitude"},
		{"not json", `<kml/>`, 0, "not GeoJSON"},
		{"no type", `{}`, 0, "no \"type\""},
		{"trailing garbage", wellandBox + `}`, 0, "not GeoJSON"},
		{"empty", ``, 0, "empty"},
	}
	for _, tt := range tests {
		mp, err := places.ParseUpload([]byte(tt.in))
		if tt.wantParts == 0 {
			if !errors.Is(err, places.ErrBadUpload) || !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("ParseUpload(%s) = %v; want ErrBadUpload mentioning %q", tt.name, err, tt.wantMsg)
			}
			continue
		}
		if err != nil || len(mp) != tt.wantParts {
			t.Errorf("ParseUpload(%s) = %d polygons, %v; want %d", tt.name, len(mp), err, tt.wantParts)
		}
	}
}

// FuzzParseUpload: whatever the bytes, ParseUpload must not panic, must
// refuse with ErrBadUpload, and anything it accepts must be closed rings of
// at least four WGS84 positions.
func FuzzParseUpload(f *testing.F) {
	for _, s := range []string{
		wellandBox, feature(wellandBox), `{"type":"FeatureCollection","features":[` + feature(wellandBox) + `]}`,
		`{"type":"MultiPolygon","coordinates":[[[[-0.931,52.4746],[-0.9235,52.4746],[-0.9235,52.4758],[-0.931,52.4746]]]]}`,
		`{"type":"Point","coordinates":[0,0]}`, box(472900, 286900, 473300, 287100),
		`{"type":"Polygon","coordinates":[[[1e308,1e308],[-1e308,0],[0,0],[1e308,1e308]]]}`,
		`{"type":"Polygon","coordinates":[[[-0.931,52.4746,1,2,3]]]}`,
		`{"type":"Polygon","coordinates":null}`, `{"type":"Feature","geometry":{"type":"Feature"}}`,
		`{"type":"FeatureCollection","features":[{"type":"FeatureCollection"}]}`,
		`{"type":"Feature","crs":{"properties":{"name":1}},"geometry":null}`,
		`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[`, "\x00", `{"type":"Polygon","coordinates":[[[0,0],[0,0],[0,0],[0,0]]]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		mp, err := places.ParseUpload(b)
		if err != nil {
			if !errors.Is(err, places.ErrBadUpload) {
				t.Fatalf("ParseUpload(%q) = %v; want ErrBadUpload", b, err)
			}
			return
		}
		if len(mp) == 0 {
			t.Fatalf("ParseUpload(%q) accepted an empty outline", b)
		}
		for _, p := range mp {
			for _, r := range p {
				if len(r) < 4 || r[0] != r[len(r)-1] {
					t.Fatalf("ParseUpload(%q) accepted ring %v", b, r)
				}
				for _, pt := range r {
					if !(pt[0] >= -180 && pt[0] <= 180 && pt[1] >= -90 && pt[1] <= 90) {
						t.Fatalf("ParseUpload(%q) accepted position %v", b, pt)
					}
				}
			}
		}
	})
}

// TestReplace uploads an outline for Welland Park and follows it through
// history, a rebuild that keeps it, and a forced rebuild that replaces it.
func TestReplace(t *testing.T) {
	pool, _ := built(t)
	ctx := context.Background()
	before, err := places.Get(ctx, pool, "welland-park")
	if err != nil {
		t.Fatal(err)
	}
	res, err := places.Replace(ctx, pool, "welland-park", []byte(feature(wellandBox)), "alice")
	if err != nil {
		t.Fatalf("Replace(welland-park) = %v", err)
	}
	after, _ := places.Get(ctx, pool, "welland-park")
	if math.Abs(res.OldAreaKm2-before.AreaKm2) > 1e-9 || math.Abs(res.NewAreaKm2-after.AreaKm2) > 1e-9 || res.Parts != 1 || res.Repaired != "" {
		t.Errorf("Replace() = %+v; want old %.4f, new %.4f km², 1 part, not repaired", res, before.AreaKm2, after.AreaKm2)
	}
	// 0.0075° × 0.0012° at 52.475° N: about 510 m × 134 m.
	if after.AreaKm2 < 0.065 || after.AreaKm2 > 0.072 {
		t.Errorf("uploaded outline area = %.4f km²; want about 0.068", after.AreaKm2)
	}
	wantMethod := "Uploaded by alice on " + time.Now().UTC().Format("2006-01-02") + "."
	pv := after.Provenance
	if pv.Origin != places.OriginUploaded || pv.Method != wantMethod || pv.BuiltBy != "alice" ||
		len(pv.Sources) != 1 || !strings.HasPrefix(pv.Sources[0], "upload sha256:") {
		t.Errorf("provenance after upload = %+v; want uploaded, %q, an upload source", pv, wantMethod)
	}
	hs, err := places.PlaceHistory(ctx, pool, "welland-park")
	if err != nil || len(hs) != 1 {
		t.Fatalf("PlaceHistory(welland-park) = %d rows, %v; want 1", len(hs), err)
	}
	if hs[0].Provenance.Method != before.Provenance.Method || hs[0].ReplacedBy != "alice" || !hs[0].Polygon.Equal(before.Polygon) {
		t.Errorf("history row = %+v; want the built outline, replaced by alice", hs[0].Provenance)
	}

	// A rebuild keeps the upload.
	bs, err := places.Build(ctx, pool, sources(t), places.BuildOptions{Actor: actor})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		want := places.ActionUnchanged
		if b.Slug == "welland-park" {
			want = places.ActionKept
		}
		if b.Action != want {
			t.Errorf("Build() after an upload: %s %s; want %s", b.Slug, b.Action, want)
		}
	}
	if p, _ := places.Get(ctx, pool, "welland-park"); !p.Polygon.Equal(after.Polygon) || p.Provenance.Origin != places.OriginUploaded {
		t.Errorf("Build() without force changed the uploaded outline")
	}

	// A forced rebuild replaces it, and the upload goes to history.
	bs, err = places.Build(ctx, pool, sources(t), places.BuildOptions{Actor: actor, Force: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Slug == "welland-park" && b.Action != places.ActionUpdated {
			t.Errorf("Build(force) welland-park %s; want updated", b.Action)
		}
	}
	hs, _ = places.PlaceHistory(ctx, pool, "welland-park")
	if len(hs) != 2 || hs[1].Provenance.Origin != places.OriginUploaded || !hs[1].Polygon.Equal(after.Polygon) {
		t.Errorf("history after a forced rebuild = %d rows; want 2, the upload last", len(hs))
	}
	if p, _ := places.Get(ctx, pool, "welland-park"); p.Provenance.Origin != places.OriginBuilt || math.Abs(p.AreaKm2-before.AreaKm2) > 1e-9 {
		t.Errorf("after a forced rebuild welland-park is %s, %.4f km²; want built, %.4f", p.Provenance.Origin, p.AreaKm2, before.AreaKm2)
	}
}

// TestReplaceRefuses: bad uploads are refused with a message saying why,
// and leave the place and its history as they were.
func TestReplaceRefuses(t *testing.T) {
	pool, _ := built(t)
	ctx := context.Background()
	tests := []struct {
		name, slug, in, actor string
		want                  error
		wantMsg               string
	}{
		{"point", "welland-park", `{"type":"Point","coordinates":[-0.926,52.475]}`, "alice", places.ErrBadUpload, "Point"},
		{"british national grid", "welland-park", box(472900, 286900, 473300, 287100), "alice", places.ErrBadUpload, "British National Grid"},
		{"france", "welland-park", box(2.33, 48.85, 2.36, 48.86), "alice", places.ErrBadUpload, "nowhere near"},
		{"latitude first", "welland-park", polygon(52.4746, -0.931, 52.4746, -0.9235, 52.4758, -0.9235, 52.4758, -0.931, 52.4746, -0.931), "alice", places.ErrBadUpload, "[latitude, longitude]"},
		// A bow-tie (two vertices swapped): repair would make two
		// triangles of a different area, so it is refused.
		{"bow-tie", "welland-park", polygon(-0.931, 52.4746, -0.9235, 52.4758, -0.9235, 52.4746, -0.931, 52.4758, -0.931, 52.4746), "alice", places.ErrBadUpload, "Self-intersection"},
		{"just outside the district", "welland-park", box(-0.80, 52.30, -0.79, 52.31), "alice", places.ErrBadUpload, "outside Harborough District"},
		{"over the A5 into Warwickshire", "magna-park", box(-1.31, 52.45, -1.24, 52.465), "alice", places.ErrBadUpload, "more than 1000 m outside"},
		{"a park of one square metre", "welland-park", box(-0.92600, 52.47500, -0.92599, 52.47501), "alice", places.ErrBadUpload, "a park should be"},
		{"a town centre of 16 km²", "market-harborough-town-centre", box(-0.96, 52.475, -0.90, 52.51), "alice", places.ErrBadUpload, "a town-centre should be"},
		{"flat", "welland-park", polygon(-0.931, 52.4746, -0.927, 52.4746, -0.9235, 52.4746, -0.931, 52.4746), "alice", places.ErrBadUpload, "no area"},
		{"unknown place", "welland-parkk", wellandBox, "alice", places.ErrNotFound, "welland-parkk"},
		{"no actor", "welland-park", wellandBox, " ", nil, "actor"},
	}
	before, _ := places.Get(ctx, pool, "welland-park")
	for _, tt := range tests {
		_, err := places.Replace(ctx, pool, tt.slug, []byte(tt.in), tt.actor)
		if err == nil || (tt.want != nil && !errors.Is(err, tt.want)) || !strings.Contains(err.Error(), tt.wantMsg) {
			t.Errorf("Replace(%s) = %v; want %v mentioning %q", tt.name, err, tt.want, tt.wantMsg)
		}
	}
	if n := historyRows(t, pool); n != 0 {
		t.Errorf("place_history has %d rows after refused uploads; want 0", n)
	}
	if p, _ := places.Get(ctx, pool, "welland-park"); !p.Polygon.Equal(before.Polygon) || p.Provenance.Origin != places.OriginBuilt {
		t.Errorf("a refused upload changed welland-park")
	}
}

// TestReplaceRepairs: an outline whose only fault is a spike (a vertex
// that goes out and back, as editors leave) is repaired without changing
// its area, accepted, and the repair recorded.
func TestReplaceRepairs(t *testing.T) {
	pool, _ := built(t)
	ctx := context.Background()
	spike := polygon(-0.931, 52.4746, -0.9235, 52.4746, -0.9235, 52.4758, -0.9270, 52.4758, -0.9270, 52.4770, -0.9270, 52.4758, -0.931, 52.4758, -0.931, 52.4746)
	res, err := places.Replace(ctx, pool, "welland-park", []byte(spike), "bob")
	if err != nil {
		t.Fatalf("Replace(spike) = %v", err)
	}
	if !strings.Contains(res.Repaired, "Self-intersection") || res.Parts != 1 || res.NewAreaKm2 < 0.065 || res.NewAreaKm2 > 0.072 {
		t.Errorf("Replace(spike) = %+v; want repaired, 1 part, about 0.068 km²", res)
	}
	p, _ := places.Get(ctx, pool, "welland-park")
	if !strings.Contains(p.Provenance.Method, "Repaired") {
		t.Errorf("provenance method %q does not record the repair", p.Provenance.Method)
	}
}
