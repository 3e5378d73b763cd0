package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/hotspot"
)

// analysisFixture is the public fixture (seven real months, places, the
// public data) with the analysis API beside the public routes, and an
// analyst's read token.
type analysisFixture struct {
	*papi
	h     http.Handler
	token string
}

func newAnalysisFixture(t *testing.T) *analysisFixture {
	t.Helper()
	p := newPublicPAPI(t)
	ctx := context.Background()
	store := auth.New(p.main)
	if err := store.AddUser(ctx, "test", "ana", auth.Analyst, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	_, tok, err := store.AddToken(ctx, "test", "ana", []auth.Scope{auth.ScopeRead}, "analysis test", 0)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(p.main, papiTiles(p.main, p.public), store, Config{}, slog.New(slog.DiscardHandler),
		append(PoliceAPIRoutes(p.public), AnalysisRoutes(p.main)...)...)
	if err != nil {
		t.Fatal(err)
	}
	return &analysisFixture{papi: p, h: srv.Handler(), token: tok}
}

// get sends a GET, with the analyst's token when signed is set.
func (f *analysisFixture) get(target string, signed bool) (int, []byte) {
	r := httptest.NewRequest(http.MethodGet, target, nil)
	if signed {
		r.Header.Set("Authorization", "Bearer "+f.token)
	}
	f.n++
	r.RemoteAddr = "10.9.0." + string(rune('0'+f.n%10)) + ":1234"
	w := httptest.NewRecorder()
	f.h.ServeHTTP(w, r)
	return w.Code, w.Body.Bytes()
}

// TestAnalysisAPI checks the analysis endpoints over the real months:
// 404 before any rebuild, then GeoJSON that matches the stored run, the
// filters, and a 400 or 404 that says what to send for every mistake.
func TestAnalysisAPI(t *testing.T) {
	f := newAnalysisFixture(t)
	ctx := context.Background()
	for _, target := range []string{"/api/hotspots", "/api/public/hotspots"} {
		if code, body := f.get(target, true); code != http.StatusNotFound || !strings.Contains(string(body), "built yet") {
			t.Errorf("%s before any rebuild = %d %s; want 404 saying nothing is built yet", target, code, body)
		}
	}
	if _, err := hotspot.Rebuild(ctx, f.main, hotspot.Options{Trigger: "web test"}); err != nil {
		t.Fatal(err)
	}

	errs := []struct {
		target string
		code   int
		says   string
	}{
		{"/api/hotspots?priorty=3", 400, "priorty\\\": want location, place, priority, window, method, confidence"},
		{"/api/hotspots?location=lutterworth&place=fleckney", 400, "give one"},
		{"/api/hotspots?location=atlantis", 404, "GET /api/locations lists the places"},
		{"/api/hotspots?priority=9", 400, "want 1 to 5"},
		{"/api/hotspots?priority=3&priority=4", 400, "given 2 times"},
		{"/api/hotspots?window=last-2", 400, "want last-1, last-3 or last-12"},
		{"/api/hotspots?method=hdbscan", 400, "want gi-star or kde"},
		{"/api/hotspots?confidence=80", 400, "want 90, 95 or 99"},
		{"/api/hotspots?place=atlantis", 404, "GET /api/locations lists the places"},
		{"/api/locations?x=1", 400, "takes none"},
		{"/api/locations/atlantis/summary", 404, "unknown place"},
		{"/api/public/hotspots?window=forever", 400, "want last-1, last-3 or last-12"},
		{"/api/public/hotspots?method=kde", 400, "unknown parameter"},
	}
	for _, tt := range errs {
		code, body := f.get(tt.target, true)
		if code != tt.code || !strings.Contains(string(body), tt.says) {
			t.Errorf("%s = %d %s; want %d saying %q", tt.target, code, body, tt.code, tt.says)
		}
	}

	// The hotspots served are the stored run's, filter by filter.
	type fc struct {
		Type     string `json:"type"`
		Run      hotspot.Run
		Features []struct {
			Type     string          `json:"type"`
			ID       int64           `json:"id"`
			Geometry json.RawMessage `json:"geometry"`
			Props    hotspot.Feature `json:"properties"`
		} `json:"features"`
	}
	filters := []struct {
		query string
		where string
	}{
		{"", "true"},
		{"?place=harborough-district&priority=all&window=last-12&method=gi-star", "s.place = 'harborough-district' AND s.priority = 0 AND s.time_window = 'last-12' AND s.method = 'gi-star'"},
		{"?location=lutterworth&priority=3&window=last-3", "s.place = 'lutterworth' AND s.priority = 3 AND s.time_window = 'last-3'"},
		{"?method=kde&window=last-1", "s.method = 'kde' AND s.time_window = 'last-1'"},
		{"?confidence=99", "h.confidence >= 99"},
	}
	for _, tt := range filters {
		code, body := f.get("/api/hotspots"+tt.query, true)
		var got fc
		if code != 200 || json.Unmarshal(body, &got) != nil || got.Type != "FeatureCollection" {
			t.Fatalf("/api/hotspots%s = %d %.300s", tt.query, code, body)
		}
		var want int
		if err := f.main.QueryRow(ctx, `SELECT count(*) FROM hotspot_current c JOIN hotspot_sets s ON s.run_id = c.run_id
			JOIN hotspots h ON h.set_id = s.id WHERE `+tt.where).Scan(&want); err != nil {
			t.Fatal(err)
		}
		if len(got.Features) != want {
			t.Errorf("/api/hotspots%s: %d features; the current run holds %d", tt.query, len(got.Features), want)
		}
		for _, ft := range got.Features {
			var n, cells int
			if err := f.main.QueryRow(ctx, `SELECT incidents, cells FROM hotspots WHERE id = $1`, ft.ID).Scan(&n, &cells); err != nil {
				t.Fatal(err)
			}
			if ft.Props.Incidents != n || ft.Props.Cells != cells || ft.Type != "Feature" {
				t.Errorf("hotspot %d served as %+v; stored incidents %d, cells %d", ft.ID, ft.Props, n, cells)
			}
			g, err := geojson.UnmarshalGeometry(ft.Geometry)
			if err != nil || g.Type != "MultiPolygon" {
				t.Errorf("hotspot %d geometry %.100s: %v; want a GeoJSON MultiPolygon", ft.ID, ft.Geometry, err)
			}
		}
	}
	if code, body := f.get("/api/hotspots?place=harborough-district&priority=all&window=last-12&method=gi-star", true); code == 200 {
		var got fc
		_ = json.Unmarshal(body, &got)
		if len(got.Features) == 0 {
			t.Error("no all-crime Gi* hotspot in the district over 12 months: the real data has clear ones (Market Harborough, Lutterworth)")
		}
	}

	// Repeat locations are precise points: the police get them, analysts
	// (and their tokens) only the counts.
	store := auth.New(f.main)
	if err := store.AddUser(ctx, "test", "pc", auth.Police, "correct horse battery staple"); err != nil {
		t.Fatal(err)
	}
	_, policeTok, err := store.AddToken(ctx, "test", "pc", []auth.Scope{auth.ScopeRead}, "analysis test", 0)
	if err != nil {
		t.Fatal(err)
	}
	repeats := func(tok string) (points, listed int) {
		r := httptest.NewRequest(http.MethodGet, "/api/hotspots?window=last-12", nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		var got fc
		if w.Code != 200 || json.Unmarshal(w.Body.Bytes(), &got) != nil {
			t.Fatalf("/api/hotspots = %d %.200s", w.Code, w.Body.Bytes())
		}
		for _, ft := range got.Features {
			points += ft.Props.RepeatPoints
			listed += len(ft.Props.RepeatLocations)
		}
		return points, listed
	}
	if points, listed := repeats(policeTok); points == 0 || listed == 0 {
		t.Errorf("police: %d repeat points, %d listed; want some of each on the real data", points, listed)
	}
	if points, listed := repeats(f.token); points == 0 || listed != 0 {
		t.Errorf("analyst: %d repeat points, %d listed; want the counts and no locations", points, listed)
	}

	// Locations and a summary.
	code, body := f.get("/api/locations", true)
	var ls []hotspot.Location
	if code != 200 || json.Unmarshal(body, &ls) != nil || len(ls) < 8 || ls[0].Slug != "harborough-district" {
		t.Fatalf("/api/locations = %d %.300s; want the 8 places, the district first", code, body)
	}
	code, body = f.get("/api/locations/lutterworth/summary", true)
	var sum hotspot.PlaceSummary
	if code != 200 || json.Unmarshal(body, &sum) != nil || sum.Slug != "lutterworth" || len(sum.Months) != 12 || len(sum.Windows) == 0 {
		t.Fatalf("/api/locations/lutterworth/summary = %d %.300s", code, body)
	}
}

// TestPublicHotspots checks every public hot cell the API serves, for
// every place, priority and window: a count is at least the minimum,
// withheld (or 0: an empty cell Gi* finds hot for its neighbours), and
// is exactly what the public data (open.crimes at the map
// points inside the cell) already says, so the cells tell nobody more
// than the anonymised map does.
func TestPublicHotspots(t *testing.T) {
	f := newAnalysisFixture(t)
	ctx := context.Background()
	if _, err := hotspot.Rebuild(ctx, f.main, hotspot.Options{Trigger: "web test"}); err != nil {
		t.Fatal(err)
	}
	var minCount int
	if err := f.main.QueryRow(ctx, `SELECT min_count FROM open.hotspot_meta`).Scan(&minCount); err != nil {
		t.Fatal(err)
	}
	var places []string
	rows, _ := f.main.Query(ctx, `SELECT slug FROM places ORDER BY slug`)
	for rows.Next() {
		var s string
		_ = rows.Scan(&s)
		places = append(places, s)
	}
	if rows.Err() != nil || len(places) < 8 {
		t.Fatalf("places: %v %v", places, rows.Err())
	}
	month := regexp.MustCompile(`^\d{4}-\d{2}$`)
	served := 0
	for _, pl := range places {
		for _, pr := range []string{"all", "1", "2", "3", "4", "5"} {
			for _, win := range []string{"last-1", "last-3", "last-12"} {
				target := "/api/public/hotspots?place=" + pl + "&priority=" + pr + "&window=" + win
				code, body := f.get(target, false)
				var got struct {
					Features []struct {
						Geometry json.RawMessage   `json:"geometry"`
						Props    publicHotspotCell `json:"properties"`
					} `json:"features"`
					Meta publicHotspotMeta `json:"meta"`
				}
				if code != 200 || json.Unmarshal(body, &got) != nil {
					t.Fatalf("%s = %d %.300s", target, code, body)
				}
				served += len(got.Features)
				for _, c := range got.Features {
					p := c.Props
					if g, err := geojson.UnmarshalGeometry(c.Geometry); err != nil || g.Type != "Polygon" || len(g.Coordinates.(orb.Polygon)[0]) != 7 {
						t.Errorf("%s: geometry %.100s (%v); want a hexagon", target, c.Geometry, err)
					}
					switch {
					case p.Count == nil && !p.Suppressed, p.Count != nil && p.Suppressed:
						t.Errorf("%s: count %v with suppressed %v", target, p.Count, p.Suppressed)
					case p.Count != nil && *p.Count > 0 && *p.Count < minCount:
						// 0 is allowed: Gi* may find an empty cell hot for
						// its neighbours, and 0 tells nobody about anyone.
						t.Errorf("%s: a count of %d, below the minimum %d", target, *p.Count, minCount)
					case p.Confidence != 90 && p.Confidence != 95 && p.Confidence != 99:
						t.Errorf("%s: confidence %d", target, p.Confidence)
					case !month.MatchString(p.MonthFrom) || !month.MatchString(p.MonthTo):
						t.Errorf("%s: period %s..%s is not months", target, p.MonthFrom, p.MonthTo)
					}
				}
			}
		}
	}
	if served == 0 {
		t.Fatal("no public hot cell served anywhere: the check above checked nothing")
	}
	// Each published count against the public data itself.
	var bad, checked int
	err := f.main.QueryRow(ctx, `
		WITH cell AS (
			SELECT h.*, (SELECT count(*) FROM open.crimes c JOIN open.map_points mp ON mp.id = c.map_point_id
				JOIN places pl ON pl.slug = h.place AND ST_Intersects(pl.geom_bng, mp.geom_bng)
				LEFT JOIN category_priorities cp ON cp.category = c.category
				WHERE ST_Covers(h.geom, mp.geom) AND c.month >= h.month_from AND c.month < h.month_to
				  AND (h.priority = 0 OR cp.priority = h.priority)) AS public_count
			FROM open.hotspot_cells h)
		SELECT count(*) FILTER (WHERE (count IS NOT NULL AND count <> public_count) OR (count IS NULL AND public_count >= $1)), count(*)
		FROM cell`, minCount).Scan(&bad, &checked)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d of %d public hot cells publish a count other than the public data's own", bad, checked)
	}
	// And each outline is a cell of a fixed hexagon grid (flat-topped,
	// origin at the National Grid's), to within a millimetre: its corners
	// are arithmetic on the cell size, so no corner can carry where a
	// crime was.
	rows, err = f.main.Query(ctx, `SELECT ST_AsBinary(ST_Transform(geom, 27700)) FROM open.hotspot_cells`)
	if err != nil {
		t.Fatal(err)
	}
	offGrid := 0
	var g []byte
	_, err = pgx.ForEachRow(rows, []any{&g}, func() error {
		geom, err := wkb.Unmarshal(g)
		if err != nil {
			return err
		}
		ring := geom.(orb.Polygon)[0]
		var cx, cy float64
		for _, p := range ring[:6] {
			cx, cy = cx+p[0]/6, cy+p[1]/6
		}
		size := math.Hypot(ring[1][0]-ring[0][0], ring[1][1]-ring[0][1])
		grid := hotspot.Grid{Size: math.Round(size)}
		want := grid.Polygon(grid.CellAt(cx, cy))[0]
		for i, p := range ring[:6] {
			match := false
			for _, w := range want {
				if math.Hypot(p[0]-w[0], p[1]-w[1]) < 0.001 {
					match = true
				}
			}
			if !match {
				offGrid++
				t.Errorf("public hot cell corner %d at %v is not a corner of the %v m grid's cell %v", i, p, grid.Size, want)
				break
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d public hot cells served, %d checked against open.crimes, %d off the grid", served, checked, offGrid)
}

// TestHotspotTiles decodes the hotspots tile layer with orb: for an
// analyst, the features of a tile are exactly the current run's hotspots
// of the asked analysis that touch it, with their numbers; bad parameters
// are 400s; and a rebuild changes the ETag (the data version moves).
func TestHotspotTiles(t *testing.T) {
	f := newAnalysisFixture(t)
	ctx := context.Background()
	if _, err := hotspot.Rebuild(ctx, f.main, hotspot.Options{Trigger: "web test"}); err != nil {
		t.Fatal(err)
	}
	get := func(target string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, target, nil)
		r.Header.Set("Authorization", "Bearer "+f.token)
		w := httptest.NewRecorder()
		f.h.ServeHTTP(w, r)
		return w
	}
	checked := 0
	for _, tt := range []struct {
		z, x, y uint32
		query   string
		where   string
	}{
		{10, 508, 335, "", "s.place = 'harborough-district' AND s.priority = 0 AND s.time_window = 'last-12' AND s.method = 'gi-star'"},
		{10, 508, 335, "?location=harborough-district&priority=all&window=last-1&method=kde", "s.place = 'harborough-district' AND s.priority = 0 AND s.time_window = 'last-1' AND s.method = 'kde'"},
		{12, 2012, 1351, "?location=lutterworth&window=last-3", "s.place = 'lutterworth' AND s.priority = 0 AND s.time_window = 'last-3' AND s.method = 'gi-star'"},
		{8, 127, 83, "?priority=1", "s.place = 'harborough-district' AND s.priority = 1 AND s.time_window = 'last-12' AND s.method = 'gi-star'"},
	} {
		target := fmt.Sprintf("/tiles/hotspots/%d/%d/%d.mvt%s", tt.z, tt.x, tt.y, tt.query)
		w := get(target)
		if w.Code != 200 && w.Code != 204 {
			t.Fatalf("%s = %d %s", target, w.Code, w.Body)
		}
		got := map[uint64]int{}
		if w.Code == 200 {
			layers, err := mvt.Unmarshal(w.Body.Bytes())
			if err != nil || len(layers) != 1 || layers[0].Name != "hotspots" {
				t.Fatalf("%s: %v layers, %v", target, len(layers), err)
			}
			for _, ft := range layers[0].Features {
				var id uint64
				switch v := ft.ID.(type) {
				case uint64:
					id = v
				case float64:
					id = uint64(v)
				case int64:
					id = uint64(v)
				default:
					t.Fatalf("%s: feature id %v is a %T", target, ft.ID, ft.ID)
				}
				n, _ := ft.Properties["incidents"].(float64)
				got[id] = int(n)
				if _, ok := ft.Geometry.(orb.MultiPolygon); !ok {
					if _, ok := ft.Geometry.(orb.Polygon); !ok {
						t.Errorf("%s: feature %d is a %T", target, id, ft.Geometry)
					}
				}
			}
		}
		rows, err := f.main.Query(ctx, `SELECT h.id, h.incidents FROM hotspot_current c JOIN hotspot_sets s ON s.run_id = c.run_id
			JOIN hotspots h ON h.set_id = s.id
			WHERE `+tt.where+` AND h.geom_web && ST_TileEnvelope($1, $2, $3, margin => 64.0 / 4096)
			  AND ST_AsMVTGeom(h.geom_web, ST_TileEnvelope($1, $2, $3), 4096, 64, true) IS NOT NULL`, int(tt.z), int(tt.x), int(tt.y))
		if err != nil {
			t.Fatal(err)
		}
		want := map[uint64]int{}
		var id int64
		var n int32
		_, err = pgx.ForEachRow(rows, []any{&id, &n}, func() error { want[uint64(id)] = int(n); return nil })
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: features (id: incidents) %v; the run holds %v", target, got, want)
		}
		checked += len(want)
	}
	if checked == 0 {
		t.Fatal("no hotspot in any tile asked for: the check checked nothing")
	}
	for _, bad := range []string{"?window=forever", "?priority=9", "?from=2024-01", "?location=Lutterworth"} {
		if w := get("/tiles/hotspots/10/508/335.mvt" + bad); w.Code != 400 {
			t.Errorf("hotspot tile %s = %d %s; want 400", bad, w.Code, w.Body)
		}
	}
	before := get("/tiles/hotspots/10/508/335.mvt")
	if _, err := hotspot.Rebuild(ctx, f.main, hotspot.Options{Trigger: "web test again"}); err != nil {
		t.Fatal(err)
	}
	// The tile server reads the data version at most once a second; the
	// rebuild moved it, so the tile is made again from the new run (whose
	// hotspots have new ids) rather than served from the cache.
	time.Sleep(1100 * time.Millisecond)
	after := get("/tiles/hotspots/10/508/335.mvt")
	if before.Header().Get("X-Data-Version") == after.Header().Get("X-Data-Version") || before.Header().Get("ETag") == after.Header().Get("ETag") {
		t.Errorf("after a rebuild: data version %s -> %s, ETag %s -> %s; want both changed",
			before.Header().Get("X-Data-Version"), after.Header().Get("X-Data-Version"), before.Header().Get("ETag"), after.Header().Get("ETag"))
	}
}
