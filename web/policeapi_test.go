package web

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/tiles"
)

// The JSON of data.police.uk's API as its documentation shows it
// (data.police.uk/docs/method/crime-street/ and the other methods). The
// tests decode our answers into these with unknown fields refused, and
// check that every documented key is present, so the shapes match both
// ways.
type (
	docCrime struct {
		Category     string  `json:"category"`
		LocationType *string `json:"location_type"`
		Location     *struct {
			Latitude string `json:"latitude"`
			Street   struct {
				ID   int64  `json:"id"`
				Name string `json:"name"`
			} `json:"street"`
			Longitude string `json:"longitude"`
		} `json:"location"`
		Context       string `json:"context"`
		OutcomeStatus *struct {
			Category string `json:"category"`
			Date     string `json:"date"`
		} `json:"outcome_status"`
		PersistentID    string `json:"persistent_id"`
		ID              int64  `json:"id"`
		LocationSubtype string `json:"location_subtype"`
		Month           string `json:"month"`
	}
	docOutcome struct {
		Category struct {
			Code string `json:"code"`
			Name string `json:"name"`
		} `json:"category"`
		Date     string `json:"date"`
		PersonID *int64 `json:"person_id"`
		Crime    struct {
			Category     string `json:"category"`
			LocationType string `json:"location_type"`
			Location     struct {
				Latitude string `json:"latitude"`
				Street   struct {
					ID   int64  `json:"id"`
					Name string `json:"name"`
				} `json:"street"`
				Longitude string `json:"longitude"`
			} `json:"location"`
			Context         string `json:"context"`
			PersistentID    string `json:"persistent_id"`
			ID              int64  `json:"id"`
			LocationSubtype string `json:"location_subtype"`
			Month           string `json:"month"`
		} `json:"crime"`
	}
	docCategory struct {
		URL  string `json:"url"`
		Name string `json:"name"`
	}
	docStreetDate struct {
		Date          string   `json:"date"`
		StopAndSearch []string `json:"stop-and-search"`
	}
	docLastUpdated struct {
		Date string `json:"date"`
	}
)

// papiDocKeys are the keys each documented object has, all of them always.
var papiDocKeys = map[string][]string{
	"crime":         {"category", "location_type", "location", "context", "outcome_status", "persistent_id", "id", "location_subtype", "month"},
	"location":      {"latitude", "street", "longitude"},
	"street":        {"id", "name"},
	"outcome":       {"category", "date", "person_id", "crime"},
	"outcome-crime": {"category", "location_type", "location", "context", "persistent_id", "id", "location_subtype", "month"},
}

// papi is a server over the real data with the police.uk API mounted.
type papi struct {
	main, public *pgxpool.Pool
	srv          *Server
	h            http.Handler
	n            int // requests made, for distinct client addresses
}

// papiData is the shared real data beside the checkout.
const papiData = "../../shared/data"

func papiFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(papiData, "police-uk", "*.csv"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no police.uk files in %s (CI is set, so this fails rather than skips)", papiData)
		}
		t.Skipf("no police.uk files in %s", papiData)
	}
	return files
}

// newPAPI loads the district and its wards, the LE postcodes and the given
// police.uk months, runs extra SQL on the precise data (synthetic rows),
// rebuilds the public data and serves it.
func newPAPI(t testing.TB, files []string, extra ...string) *papi {
	t.Helper()
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, b := range []struct{ kind, file string }{{"district", "harborough-district.geojson"}, {"ward", "wards2013-harborough.geojson"}} {
		f, err := os.Open(filepath.Join(papiData, "boundaries", b.file))
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
	if _, err := ingest.ImportPostcodesFile(ctx, pool, filepath.Join(papiData, "postcodes", "codepoint-open-2025-10-le.csv")); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
			t.Fatal(err)
		}
	}
	for _, sql := range extra {
		if _, err := pool.Exec(ctx, sql); err != nil {
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
	srv, err := New(pool, papiTiles(pool, pub), auth.New(pool), Config{}, slog.New(slog.DiscardHandler), PoliceAPIRoutes(pub)...)
	if err != nil {
		t.Fatal(err)
	}
	return &papi{main: pool, public: pub, srv: srv, h: srv.Handler()}
}

// papiTiles is the tile server of the fixture. Once tiles.New takes
// options, it is tiles.New(main, tiles.WithPublic(public)), so the public
// layer is served (and attacked by TestPrivacy) over HTTP.
func papiTiles(main, public *pgxpool.Pool) *tiles.Server {
	return tiles.New(main, tiles.WithPublic(public))
}

// do sends one request. Each comes from its own client address unless ip
// is given, so the rate limit is met only where a test means to meet it.
func (p *papi) do(method, target, form, ip string) *httptest.ResponseRecorder {
	var body io.Reader
	if method == http.MethodPost {
		body = strings.NewReader(form)
	}
	r := httptest.NewRequest(method, target, body)
	if method == http.MethodPost {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if ip == "" {
		p.n++
		ip = fmt.Sprintf("10.%d.%d.%d", p.n>>16&255, p.n>>8&255, p.n&255)
	}
	r.RemoteAddr = ip + ":40000"
	w := httptest.NewRecorder()
	p.h.ServeHTTP(w, r)
	return w
}

// papiDecode decodes an answer into v with unknown fields refused.
func papiDecode(t testing.TB, w *httptest.ResponseRecorder, v any) {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Fatalf("Content-Type %q; want JSON", ct)
	}
	dec := json.NewDecoder(bytes.NewReader(w.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("decode %T: %v in %.300s", v, err, w.Body)
	}
}

// papiKeys checks that every object of an array answer has exactly the
// documented keys, nested objects included.
func papiKeys(t testing.TB, body []byte, kind string) {
	t.Helper()
	var items []map[string]json.RawMessage
	if err := json.Unmarshal(body, &items); err != nil {
		t.Fatalf("answer is not an array of objects: %v", err)
	}
	same := func(what string, obj map[string]json.RawMessage, want []string) {
		var got []string
		for k := range obj {
			got = append(got, k)
		}
		sort.Strings(got)
		w := append([]string(nil), want...)
		sort.Strings(w)
		if strings.Join(got, ",") != strings.Join(w, ",") {
			t.Fatalf("%s keys = %v; want %v", what, got, w)
		}
	}
	sub := func(raw json.RawMessage) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if string(raw) == "null" {
			return nil
		}
		if err := json.Unmarshal(raw, &m); err != nil {
			t.Fatalf("%s is not an object: %v", raw, err)
		}
		return m
	}
	for _, it := range items {
		crime := it
		if kind == "outcome" {
			same("outcome", it, papiDocKeys["outcome"])
			crime = sub(it["crime"])
			same("outcome crime", crime, papiDocKeys["outcome-crime"])
		} else {
			same("crime", crime, papiDocKeys["crime"])
		}
		if loc := sub(crime["location"]); loc != nil {
			same("location", loc, papiDocKeys["location"])
			same("street", sub(loc["street"]), papiDocKeys["street"])
		}
	}
}

// mapPoints reads the map points through the main pool: id → "lat,lng" as
// data.police.uk prints them, and the points themselves.
func (p *papi) mapPoints(t testing.TB) (byID map[int64]string, at map[string]int64, pts map[int64][2]float64) {
	t.Helper()
	rows, err := p.main.Query(context.Background(), `SELECT id, ST_Y(geom), ST_X(geom) FROM open.map_points`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	byID, at, pts = map[int64]string{}, map[string]int64{}, map[int64][2]float64{}
	for rows.Next() {
		var id int64
		var lat, lng float64
		if err := rows.Scan(&id, &lat, &lng); err != nil {
			t.Fatal(err)
		}
		k := strconv.FormatFloat(lat, 'f', 6, 64) + "," + strconv.FormatFloat(lng, 'f', 6, 64)
		byID[id], at[k], pts[id] = k, id, [2]float64{lat, lng}
	}
	return byID, at, pts
}

// papiSameJSON reports whether a and b encode alike (they hold pointers, so
// comparing their printed form would compare addresses).
func papiSameJSON(a, b any) bool {
	ja, errA := json.Marshal(a)
	jb, errB := json.Marshal(b)
	return errA == nil && errB == nil && bytes.Equal(ja, jb)
}

// papiHaversine is the great-circle distance in metres, for an expectation
// computed independently of PostGIS.
func papiHaversine(lat1, lng1, lat2, lng2 float64) float64 {
	const r = 6371008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lng2-lng1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// papiSkipWithoutReadPOST skips (fails under CI) when the server's CSRF check
// refuses an anonymous POST to the API: web/auth.go's authorize must let
// a POST route whose token scope is read through without it.
func papiSkipWithoutReadPOST(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	if w.Code == http.StatusForbidden && strings.Contains(w.Body.String(), "CSRF") {
		msg := "anonymous POST refused by the CSRF check: authorize in web/auth.go must skip it for routes with TokenScope ScopeRead (see the report)"
		if os.Getenv("CI") != "" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
}

// TestPoliceAPIProtocol speaks to the API as data.police.uk's clients do
// (the requests of the R package ukpolice and of the Python
// police-api-client: lat/lng and poly, GET and POST, location ids taken
// from an earlier answer), decodes every answer into the documented JSON,
// and checks the crimes against the public tables read through the main
// pool.
func TestPoliceAPIProtocol(t *testing.T) {
	p := newPAPI(t, papiFiles(t))
	ctx := context.Background()
	byID, at, pts := p.mapPoints(t)

	// Market Harborough's centre.
	const lat, lng = 52.4775, -0.9205
	var street []docCrime
	w := p.do("GET", "/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&date=2024-01", "", "")
	papiDecode(t, w, &street)
	papiKeys(t, w.Body.Bytes(), "crime")
	if w.Header().Get("Access-Control-Allow-Origin") != "*" {
		t.Errorf("no Access-Control-Allow-Origin: * on the API")
	}
	// Independently: the public crimes of January 2024 at map points
	// within a mile (haversine), leaving out points within 10 m of the edge.
	rows, err := p.main.Query(ctx, `SELECT map_point_id, count(*) FROM open.crimes WHERE month = '2024-01-01' GROUP BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	perPoint := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			t.Fatal(err)
		}
		perPoint[id] = n
	}
	want, edge := 0, map[int64]bool{}
	for id, n := range perPoint {
		d := papiHaversine(lat, lng, pts[id][0], pts[id][1])
		switch {
		case math.Abs(d-mileMetres) < 10:
			edge[id] = true
		case d < mileMetres:
			want += n
		}
	}
	got := 0
	for _, c := range street {
		if edge[c.Location.Street.ID] {
			continue
		}
		got++
		if c.Month != "2024-01" || c.Category == "violent-crime" || c.LocationType == nil || *c.LocationType != "Force" ||
			!strings.HasPrefix(c.Location.Street.Name, "On or near ") || c.Context != "" {
			t.Errorf("crime %+v; want a January 2024 non-violent crime, location_type Force, street On or near, no context", c)
		}
		if k := c.Location.Latitude + "," + c.Location.Longitude; at[k] != c.Location.Street.ID || byID[c.Location.Street.ID] != k {
			t.Errorf("crime %d at %s with street.id %d; that is not the map point's place", c.ID, k, c.Location.Street.ID)
		}
		if c.PersistentID != "" && len(c.PersistentID) != 64 {
			t.Errorf("crime %d persistent_id %q; want police.uk's 64 hex digits or empty", c.ID, c.PersistentID)
		}
	}
	if got != want || want < 50 {
		t.Errorf("crimes-street within a mile = %d; want %d (from open.crimes, haversine), and a town's worth", got, want)
	}

	// The same area as a polygon, the way ukpolice sends lat/lng vectors,
	// by GET and by POST (police-api-client posts long polygons): a square
	// around the centre, and the answers of both agree.
	poly := "52.47,-0.93:52.47,-0.91:52.485,-0.91:52.485,-0.93"
	var viaGet, viaPost []docCrime
	w = p.do("GET", "/api/crimes-street/burglary?poly="+url.QueryEscape(poly)+"&date=2024-02", "", "")
	papiDecode(t, w, &viaGet)
	for _, c := range viaGet {
		la, _ := strconv.ParseFloat(c.Location.Latitude, 64)
		lo, _ := strconv.ParseFloat(c.Location.Longitude, 64)
		if c.Category != "burglary" || la < 52.47 || la > 52.485 || lo < -0.93 || lo > -0.91 {
			t.Errorf("poly crime %+v outside the square or not a burglary", c)
		}
	}
	t.Run("POST", func(t *testing.T) {
		w := p.do("POST", "/api/crimes-street/burglary", url.Values{"poly": {poly}, "date": {"2024-02"}}.Encode(), "")
		papiSkipWithoutReadPOST(t, w)
		papiDecode(t, w, &viaPost)
		if !papiSameJSON(viaGet, viaPost) || len(viaGet) == 0 {
			t.Errorf("POST poly gave %d crimes, GET %d; want the same, and some", len(viaPost), len(viaGet))
		}
	})

	// crimes-at-location by the street.id of an earlier answer, and by
	// lat/lng (the nearest map point).
	if len(street) == 0 {
		t.Fatal("no crimes in Market Harborough in January 2024")
	}
	first := street[0]
	var atLoc, atLatLng []docCrime
	w = p.do("GET", fmt.Sprintf("/api/crimes-at-location?date=2024-01&location_id=%d", first.Location.Street.ID), "", "")
	papiDecode(t, w, &atLoc)
	papiKeys(t, w.Body.Bytes(), "crime")
	if len(atLoc) != perPoint[first.Location.Street.ID] {
		t.Errorf("crimes-at-location %d = %d crimes; want %d", first.Location.Street.ID, len(atLoc), perPoint[first.Location.Street.ID])
	}
	w = p.do("GET", "/api/crimes-at-location?date=2024-01&lat="+first.Location.Latitude+"&lng="+first.Location.Longitude, "", "")
	papiDecode(t, w, &atLatLng)
	if !papiSameJSON(atLoc, atLatLng) {
		t.Errorf("crimes-at-location by lat/lng differs from by location_id")
	}

	// outcomes-at-location: every crime with an outcome at the place.
	var outcomes []docOutcome
	w = p.do("GET", fmt.Sprintf("/api/outcomes-at-location?date=2024-01&location_id=%d", first.Location.Street.ID), "", "")
	papiDecode(t, w, &outcomes)
	papiKeys(t, w.Body.Bytes(), "outcome")
	withOutcome := 0
	for _, c := range atLoc {
		if c.OutcomeStatus != nil {
			withOutcome++
		}
	}
	if len(outcomes) != withOutcome {
		t.Errorf("outcomes-at-location = %d; want the %d crimes there with an outcome", len(outcomes), withOutcome)
	}
	for _, o := range outcomes {
		if o.Category.Code == "" || o.Category.Name == "" || o.PersonID != nil || o.Date != "2024-01" || o.Crime.Location.Street.ID != first.Location.Street.ID {
			t.Errorf("outcome %+v; want a code, a name, person_id null, date 2024-01, the place", o)
		}
	}

	// crimes-no-location, as police.uk's: the force's crimes without a place.
	var noLoc []docCrime
	w = p.do("GET", "/api/crimes-no-location?category=all-crime&force=leicestershire&date=2024-02", "", "")
	papiDecode(t, w, &noLoc)
	papiKeys(t, w.Body.Bytes(), "crime")
	var wantNoLoc int
	if err := p.main.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE geom IS NULL AND occurred_from = '2024-02-01'
		AND category NOT IN (SELECT slug FROM sensitive_categories)`).Scan(&wantNoLoc); err != nil {
		t.Fatal(err)
	}
	if len(noLoc) != wantNoLoc || wantNoLoc == 0 {
		t.Errorf("crimes-no-location = %d; want %d", len(noLoc), wantNoLoc)
	}
	for _, c := range noLoc {
		if c.Location != nil || c.LocationType != nil || c.Month != "2024-02" {
			t.Fatalf("no-location crime %+v; want location and location_type null", c)
		}
	}

	// The metadata methods.
	var cats []docCategory
	papiDecode(t, p.do("GET", "/api/crime-categories?date=2024-01", "", ""), &cats)
	if len(cats) < 15 || cats[0] != (docCategory{"all-crime", "All crime"}) || cats[1].URL != "anti-social-behaviour" {
		t.Errorf("crime-categories = %v; want All crime first, then police.uk's list", cats)
	}
	var last docLastUpdated
	papiDecode(t, p.do("GET", "/api/crime-last-updated", "", ""), &last)
	if last.Date != "2024-02-01" {
		t.Errorf("crime-last-updated = %q; want 2024-02-01", last.Date)
	}
	var dates []docStreetDate
	w = p.do("GET", "/api/crimes-street-dates", "", "")
	papiDecode(t, w, &dates)
	if len(dates) != 7 || dates[0].Date != "2024-02" || dates[6].Date != "2018-10" || dates[0].StopAndSearch == nil ||
		!strings.Contains(w.Body.String(), `"stop-and-search":[]`) {
		t.Errorf("crimes-street-dates = %v; want the 7 months newest first, each with stop-and-search []", dates)
	}
	// Without date: the latest month, as data.police.uk.
	var latest, feb []docCrime
	papiDecode(t, p.do("GET", "/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205", "", ""), &latest)
	papiDecode(t, p.do("GET", "/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&date=2024-02", "", ""), &feb)
	if !papiSameJSON(latest, feb) || len(feb) == 0 {
		t.Errorf("crimes-street without date differs from date=2024-02, the latest month")
	}
}

// TestPoliceAPIErrors checks the 400s and 404s and that their messages say
// what to send.
func TestPoliceAPIErrors(t *testing.T) {
	p := newPAPI(t, papiFiles(t)[6:])
	long := strings.Repeat("52.47,-0.93:52.48,-0.92:", 200) + "52.46,-0.91"
	tests := []struct {
		method, target, form string
		code                 int
		msg                  string
	}{
		{"GET", "/api/crimes-street/all-crime", "", 400, "say where"},
		{"GET", "/api/crimes-street/all-crime?lat=52.4", "", 400, "lat and lng go together"},
		{"GET", "/api/crimes-street/all-crime?lat=abc&lng=-0.9", "", 400, "decimal degrees"},
		{"GET", "/api/crimes-street/all-crime?lat=95&lng=-0.9", "", 400, "latitude -90 to 90"},
		{"GET", "/api/crimes-street/all-crime?lat=52.4&lng=-0.9&poly=1,1:2,2:3,1", "", 400, "not several"},
		{"GET", "/api/crimes-street/all-crime?poly=52.4,-0.9:52.5,-0.9", "", 400, "at least three"},
		{"GET", "/api/crimes-street/all-crime?poly=52.4,-0.9:52.5:52.4,-0.8", "", 400, "poly point 2"},
		{"GET", "/api/crimes-street/all-crime?lat=52.4&lng=-0.9&date=2024-13", "", 400, "YYYY-MM"},
		{"GET", "/api/crimes-street/all-crime?lat=52.4&lng=-0.9&date=2024-01&date=2024-02", "", 400, "date is given 2 times"},
		{"GET", "/api/crimes-street/all-crime?lat=52.4&lng=-0.9&date_from=2023-01&date_to=2024-02", "", 400, "at most 12"},
		{"GET", "/api/crimes-street/all-crime?lat=52.4&lng=-0.9&date_from=2024-01", "", 400, "go together"},
		{"GET", "/api/crimes-street/all-crime?lat=52.4&lng=-0.9&date=2024-01&date_to=2024-02", "", 400, "not both"},
		{"GET", "/api/crimes-street/no-such-crime?lat=52.4&lng=-0.9", "", 404, "crime-categories"},
		{"GET", "/api/crimes-at-location?location_id=x", "", 400, "location_id"},
		{"GET", "/api/crimes-at-location?location_id=999999999", "", 404, "no map point"},
		{"GET", "/api/crimes-at-location?poly=52.4,-0.9:52.5,-0.9:52.4,-0.8", "", 400, "no poly"},
		{"GET", "/api/crimes-no-location?category=all-crime", "", 400, "force"},
		{"GET", "/api/crimes-no-location?category=all-crime&force=atlantis", "", 404, "unknown force"},
		{"GET", "/api/crime-categories?date=January", "", 400, "YYYY-MM"},
		{"GET", "/api/area-counts?area=county", "", 400, "district or ward"},
		{"GET", "/api/crimes-street/all-crime?poly=" + long, "", 400, "at most 4094: send long polygons with POST"},
		{"POST", "/api/crimes-street/all-crime", "poly=1,1", 400, "at least three"},
	}
	for _, tt := range tests {
		w := p.do(tt.method, tt.target, tt.form, "")
		if tt.method == "POST" {
			if w.Code == http.StatusForbidden && strings.Contains(w.Body.String(), "CSRF") {
				t.Logf("%s %s: refused by the CSRF check (pending the web/auth.go edit)", tt.method, tt.target)
				continue
			}
		}
		if w.Code != tt.code || !strings.Contains(w.Body.String(), tt.msg) {
			t.Errorf("%s %.80s = %d %s; want %d with %q", tt.method, tt.target, w.Code, w.Body, tt.code, tt.msg)
		}
	}
	// The long polygon is fine by POST, with the same parameters.
	t.Run("long poly by POST", func(t *testing.T) {
		w := p.do("POST", "/api/crimes-street/all-crime", "poly="+url.QueryEscape(long)+"&date=2024-02", "")
		papiSkipWithoutReadPOST(t, w)
		var crimes []docCrime
		papiDecode(t, w, &crimes)
	})
}

// TestPoliceAPITooManyCrimes adds 10,001 synthetic crimes in one month at
// one place: asking for them answers 503, as data.police.uk does past
// 10,000; asking for a category that holds fewer answers.
func TestPoliceAPITooManyCrimes(t *testing.T) {
	const synthetic = `WITH b AS (INSERT INTO import_batches (source, file_name, file_sha256, file_bytes) VALUES ('synthetic', 'many', 'x', 0) RETURNING id)
	INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, geom, geom_bng, geom_web, batch_id)
	SELECT 'synthetic', 's' || n, CASE WHEN n <= 100 THEN 'drugs' ELSE 'shoplifting' END, '2024-02-01', '2024-03-01', g, ST_Transform(g, 27700), ST_Transform(g, 3857), b.id
	FROM b, generate_series(1, 10001) n, LATERAL (SELECT ST_SetSRID(ST_MakePoint(-0.9205, 52.4775), 4326) AS g) p`
	p := newPAPI(t, papiFiles(t)[6:], synthetic)
	w := p.do("GET", "/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&date=2024-02", "", "")
	if w.Code != http.StatusServiceUnavailable || !strings.Contains(w.Body.String(), "more than 10000 crimes") {
		t.Errorf("10,001+ crimes = %d %s; want 503 saying more than 10000", w.Code, w.Body)
	}
	var drugs []docCrime
	papiDecode(t, p.do("GET", "/api/crimes-street/drugs?lat=52.4775&lng=-0.9205&date=2024-02", "", ""), &drugs)
	if len(drugs) < 100 {
		t.Errorf("drugs = %d; want the 100 synthetic ones at least", len(drugs))
	}
}

// TestPoliceAPIRateLimit fires requests from one address: the first 30
// (the burst) pass, then 429 with Retry-After; another address is not
// affected.
func TestPoliceAPIRateLimit(t *testing.T) {
	p := newPAPI(t, papiFiles(t)[6:])
	ok, limited := 0, 0
	var retry string
	start := time.Now()
	for i := 0; i < 45; i++ {
		w := p.do("GET", "/api/crime-last-updated", "", "192.0.2.7")
		switch w.Code {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			limited++
			retry = w.Header().Get("Retry-After")
		default:
			t.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
	// The burst passes, and then only the tokens that came back, at 15 a
	// second, while the requests ran.
	refill := int(time.Since(start).Seconds()*policeAPIRate) + 1
	if ok < policeAPIBurst || ok > policeAPIBurst+refill || limited == 0 || retry == "" {
		t.Errorf("45 quick requests: %d passed, %d limited (Retry-After %q); want %d to %d passed, the rest 429 with Retry-After",
			ok, limited, retry, policeAPIBurst, policeAPIBurst+refill)
	}
	if w := p.do("GET", "/api/crime-last-updated", "", "192.0.2.8"); w.Code != http.StatusOK {
		t.Errorf("another client = %d; want 200", w.Code)
	}
}

// TestRateLimiter drives the token bucket with a fake clock: burst,
// refill at the rate, and the bound on how many clients it remembers.
func TestRateLimiter(t *testing.T) {
	now := time.Unix(0, 0)
	l := newRateLimiter(15, 30, 3, func() time.Time { return now })
	for i := 0; i < 30; i++ {
		if ok, _ := l.allow("a"); !ok {
			t.Fatalf("request %d of the burst refused", i+1)
		}
	}
	ok, wait := l.allow("a")
	if ok || wait <= 0 || wait > time.Second/15+time.Millisecond {
		t.Fatalf("31st request = %v, wait %v; want refused, wait about 1/15 s", ok, wait)
	}
	now = now.Add(time.Second)
	n := 0
	for {
		if ok, _ := l.allow("a"); !ok {
			break
		}
		n++
	}
	if n != 15 {
		t.Errorf("after 1 s, %d requests passed; want 15", n)
	}
	for _, ip := range []string{"b", "c", "d"} {
		l.allow(ip)
	}
	if len(l.clients) != 3 || l.recent.Len() != 3 {
		t.Errorf("limiter remembers %d clients; want at most 3", len(l.clients))
	}
	if _, ok := l.clients["a"]; ok {
		t.Errorf("the least recent client was not forgotten")
	}
}

// TestPoliceAPIDateRange checks the date_from/date_to extension: a range
// answers the union of its months, and data.police.uk's single months
// are unchanged.
func TestPoliceAPIDateRange(t *testing.T) {
	p := newPAPI(t, papiFiles(t))
	var byMonth []docCrime
	for _, m := range []string{"2018-10", "2018-11", "2018-12", "2019-01", "2019-02"} {
		var cs []docCrime
		papiDecode(t, p.do("GET", "/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&date="+m, "", ""), &cs)
		byMonth = append(byMonth, cs...)
	}
	var ranged []docCrime
	papiDecode(t, p.do("GET", "/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&date_from=2018-10&date_to=2019-02", "", ""), &ranged)
	ids := func(cs []docCrime) string {
		var s []string
		for _, c := range cs {
			s = append(s, strconv.FormatInt(c.ID, 10))
		}
		sort.Strings(s)
		return strings.Join(s, ",")
	}
	if ids(ranged) != ids(byMonth) || len(ranged) < 100 {
		t.Errorf("range gave %d crimes, the five months %d; want the same crimes", len(ranged), len(byMonth))
	}
	// The extension applies to area counts too, one row per month.
	var cells []struct {
		AreaKind   string `json:"area_kind"`
		AreaCode   string `json:"area_code"`
		AreaName   string `json:"area_name"`
		Month      string `json:"month"`
		Category   string `json:"category"`
		Count      *int   `json:"count"`
		Suppressed bool   `json:"suppressed"`
	}
	papiDecode(t, p.do("GET", "/api/area-counts?area=district&category=violent-crime&date_from=2018-10&date_to=2019-02", "", ""), &cells)
	if len(cells) != 5 || cells[0].Month != "2018-10" || cells[4].Month != "2019-02" {
		t.Errorf("area counts over 5 months = %+v; want one district row a month", cells)
	}
}
