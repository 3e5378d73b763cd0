package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/geocode"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/web"
)

// locator adapts the real geocoder to ingest.Locator, as cmd/hotspot does.
type locator struct{ g *geocode.Geocoder }

func geoQuery(q ingest.LocationQuery) geocode.Query {
	out := geocode.Query{Postcode: q.Postcode, Street: q.Street, Town: q.Town, Easting: q.Easting, Northing: q.Northing, Lat: q.Lat, Lon: q.Lon}
	switch {
	case q.GridRef != "":
		out.Text = q.GridRef
	case q.Text != "":
		out.Text = q.Label()
	}
	return out
}

func (l locator) Locate(ctx context.Context, q ingest.LocationQuery) (ingest.Placement, error) {
	r, err := l.g.Geocode(ctx, geoQuery(q))
	if err != nil {
		return ingest.Placement{}, err
	}
	conv := func(c geocode.Candidate) ingest.Candidate {
		return ingest.Candidate{Method: c.Method, Label: c.Label, EntryID: c.EntryID, Confidence: c.Confidence,
			Lon: c.Lon, Lat: c.Lat, Easting: c.Easting, Northing: c.Northing, InDistrict: c.InDistrict}
	}
	p := ingest.Placement{Status: string(r.Status), Best: conv(r.Best), Reason: r.Reason}
	for _, c := range r.Alternatives {
		p.Alternatives = append(p.Alternatives, conv(c))
	}
	return p, nil
}

func (l locator) Remember(ctx context.Context, q ingest.LocationQuery, c ingest.Candidate, by string) error {
	x := geoQuery(q)
	key := x.Text
	if key == "" {
		key = x.Street + ", " + x.Town + ", " + x.Postcode
	}
	return l.g.Remember(ctx, key, geocode.Candidate{Method: c.Method, Label: c.Label, Lon: c.Lon, Lat: c.Lat}, by)
}

// partnerIngest is the real partner ingest over pool, with the real
// geocoder and geo/auth's audit log.
func partnerIngest(pool *pgxpool.Pool) *ingest.Partner {
	return ingest.NewPartner(pool, locator{geocode.New(pool)}, func(ctx context.Context, tx pgx.Tx, actor, action string, detail map[string]any, remote string) error {
		return auth.Audit(ctx, tx, actor, action, detail, remote)
	})
}

func token(t *testing.T, pool *pgxpool.Pool, user string, role auth.Role, scope auth.Scope) string {
	t.Helper()
	ensureUser(t, pool, user, role)
	_, tok, err := auth.New(pool).AddToken(context.Background(), "test", user, []auth.Scope{scope}, "partner test", 0)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

const batch = `{"source": "bac", "incidents": [
	{"source_id": "BAC-1", "occurred_at": "14/03/2026 14:05", "category": "Shop theft", "easting": 472604, "northing": 286652},
	{"source_id": "BAC-2", "occurred_at": "14/03/2026", "category": "Shoplifting", "location": "the old barn behind the chapel", "town": "Nowhereville"},
	{"source_id": "BAC-3", "occurred_at": "31/02/2026", "category": "Shop theft"},
	{"source_id": "BAC-4", "occurred_at": "15/03/2026", "category": "Trolley rage"}
]}`

type batchAnswer struct {
	Read, Inserted, Updated, Unchanged, Quarantined int
	NeedsReview                                     int            `json:"needs_review"`
	Unmapped                                        map[string]int `json:"unmapped_categories"`
	Results                                         []ingest.RecordResult
}

// TestIncidentsAPI checks POST /api/incidents: who may call it (an admin's
// ingest token or an admin session with its CSRF token; not a read
// token, not another role's token, not anonymous), per-record results,
// and the limits (400, 413, 415).
func TestIncidentsAPI(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	url := ts.URL + "/api/incidents"
	ingestTok := token(t, pool, "council-feed", auth.Admin, auth.ScopeIngest)
	readTok := token(t, pool, "council-reader", auth.Admin, auth.ScopeRead)
	analystTok := token(t, pool, "analyst-feed", auth.Analyst, auth.ScopeIngest)
	jsonHdr := []string{"Content-Type", "application/json"}
	bearer := func(tok string) []string { return append([]string{"Authorization", "Bearer " + tok}, jsonHdr...) }

	for _, tt := range []struct {
		name   string
		c      *http.Client
		header []string
		want   int
	}{
		{"anonymous", http.DefaultClient, jsonHdr, http.StatusUnauthorized},
		{"read token", http.DefaultClient, bearer(readTok), http.StatusForbidden},
		{"analyst's ingest token", http.DefaultClient, bearer(analystTok), http.StatusForbidden},
		{"police session", signInAs(t, ts.URL, pool, "pc-1", auth.Police), jsonHdr, http.StatusForbidden},
		{"admin session without CSRF", signInAs(t, ts.URL, pool, "admin-1", auth.Admin), jsonHdr, http.StatusForbidden},
	} {
		if resp, b := do(t, tt.c, http.MethodPost, url, []byte(batch), tt.header...); resp.StatusCode != tt.want {
			t.Errorf("POST /api/incidents as %s = %d %s; want %d", tt.name, resp.StatusCode, b, tt.want)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM incidents`); n != 0 {
		t.Fatalf("refused callers stored %d incidents", n)
	}

	resp, b := do(t, http.DefaultClient, http.MethodPost, url, []byte(batch), bearer(ingestTok)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/incidents with an ingest token = %d %s", resp.StatusCode, b)
	}
	var a batchAnswer
	if err := json.Unmarshal(b, &a); err != nil {
		t.Fatal(err)
	}
	wantStatus := []string{"inserted", "inserted", "quarantined", "inserted"}
	if a.Read != 4 || a.Inserted != 3 || a.Quarantined != 1 || a.NeedsReview != 1 || a.Unmapped["Trolley rage"] != 1 || len(a.Results) != 4 {
		t.Fatalf("answer = %s; want read 4, inserted 3, quarantined 1, needs review 1, Trolley rage unmapped", b)
	}
	for i, r := range a.Results {
		if r.Status != wantStatus[i] {
			t.Errorf("result %d = %+v; want %s", i, r, wantStatus[i])
		}
	}
	if a.Results[0].Location != ingest.PlaceMatched || a.Results[1].ReviewID == 0 || !strings.Contains(strings.Join(a.Results[2].Errors, ""), "day 31") {
		t.Errorf("results = %+v; want BAC-1 matched, BAC-2 in review, BAC-3's bad day named", a.Results)
	}
	// The same batch from an admin session with its CSRF token: nothing new.
	admin := signInAs(t, ts.URL, pool, "admin-2", auth.Admin)
	resp, b = do(t, admin, http.MethodPost, url, []byte(batch), append(jsonHdr, "X-CSRF-Token", meOf(t, admin, ts.URL).CSRFToken)...)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /api/incidents as an admin session = %d %s", resp.StatusCode, b)
	}
	a = batchAnswer{}
	json.Unmarshal(b, &a)
	if a.Inserted != 0 || a.Updated != 0 || a.Unchanged != 3 {
		t.Errorf("second batch = %s; want 0 inserted, 0 updated, 3 unchanged", b)
	}
	if n := count(t, pool, `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = 'council-feed'`, ingest.ActionImportPartner); n != 1 {
		t.Errorf("audit rows for the token's batch = %d; want 1", n)
	}

	many := make([]string, 5001)
	for i := range many {
		many[i] = fmt.Sprintf(`{"source_id": "%d"}`, i)
	}
	for _, tt := range []struct {
		name, body, ctype string
		want              int
	}{
		{"malformed JSON", `{"source": "bac", "incidents": [`, "application/json", http.StatusBadRequest},
		{"unknown top-level field", `{"source": "bac", "incidents": [{}], "extra": 1}`, "application/json", http.StatusBadRequest},
		{"no records", `{"source": "bac", "incidents": []}`, "application/json", http.StatusBadRequest},
		{"bad source", `{"source": "Police UK!", "incidents": [{}]}`, "application/json", http.StatusBadRequest},
		{"reserved source", `{"source": "police-uk", "incidents": [{}]}`, "application/json", http.StatusBadRequest},
		{"form body", `source=bac`, "application/x-www-form-urlencoded", http.StatusUnsupportedMediaType},
		{"9 MiB body", `{"source": "bac", "incidents": [{"description": "` + strings.Repeat("x", 9<<20) + `"}]}`, "application/json", http.StatusRequestEntityTooLarge},
		{"5001 records", `{"source": "bac", "incidents": [` + strings.Join(many, ",") + `]}`, "application/json", http.StatusRequestEntityTooLarge},
	} {
		resp, b := do(t, http.DefaultClient, http.MethodPost, url, []byte(tt.body), "Authorization", "Bearer "+ingestTok, "Content-Type", tt.ctype)
		if resp.StatusCode != tt.want {
			t.Errorf("POST /api/incidents with %s = %d %.200s; want %d", tt.name, resp.StatusCode, b, tt.want)
		}
	}
	if n := count(t, pool, `SELECT count(*) FROM incidents`); n != 3 {
		t.Errorf("incidents after refused batches = %d; want 3", n)
	}
}

// TestReviewAPI lists the review queue and resolves an item by HTTP: the
// incident is placed, the action audited, and the same record sent again
// is placed by the remembered decision.
func TestReviewAPI(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	ingestTok := token(t, pool, "council-feed", auth.Admin, auth.ScopeIngest)
	post := func() batchAnswer {
		resp, b := do(t, http.DefaultClient, http.MethodPost, ts.URL+"/api/incidents", []byte(batch), "Authorization", "Bearer "+ingestTok, "Content-Type", "application/json")
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("POST /api/incidents = %d %s", resp.StatusCode, b)
		}
		var a batchAnswer
		json.Unmarshal(b, &a)
		return a
	}
	post()

	police := signInAs(t, ts.URL, pool, "pc-1", auth.Police)
	if resp, _ := do(t, police, http.MethodGet, ts.URL+"/api/review", nil); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /api/review as police = %d; want 403", resp.StatusCode)
	}
	analyst := signInAs(t, ts.URL, pool, "analyst-1", auth.Analyst)
	resp, b := do(t, analyst, http.MethodGet, ts.URL+"/api/review", nil)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /api/review = %d %s", resp.StatusCode, b)
	}
	var list struct{ Items []ingest.ReviewItem }
	if err := json.Unmarshal(b, &list); err != nil {
		t.Fatal(err)
	}
	if len(list.Items) != 1 || list.Items[0].SourceID != "BAC-2" || list.Items[0].GeocodeStatus == "" || list.Items[0].Candidates == nil {
		t.Fatalf("review items = %s; want BAC-2 with its geocoder status and candidates", b)
	}
	id := list.Items[0].ID
	csrf := meOf(t, analyst, ts.URL).CSRFToken
	resolve := func(c *http.Client, id int64, body string, hdr ...string) (*http.Response, []byte) {
		return do(t, c, http.MethodPost, fmt.Sprintf("%s/api/review/%d/resolve", ts.URL, id), []byte(body),
			append([]string{"Content-Type", "application/json"}, hdr...)...)
	}
	for _, tt := range []struct {
		name string
		id   int64
		body string
		hdr  []string
		want int
	}{
		{"no CSRF token", id, `{"lat": 52.48, "lon": -0.92}`, nil, http.StatusForbidden},
		{"a candidate it does not have", id, `{"candidate": 7}`, []string{"X-CSRF-Token", csrf}, http.StatusBadRequest},
		{"two forms", id, `{"candidate": 0, "lat": 52.48, "lon": -0.92}`, []string{"X-CSRF-Token", csrf}, http.StatusBadRequest},
		{"lat without lon", id, `{"lat": 52.48}`, []string{"X-CSRF-Token", csrf}, http.StatusBadRequest},
		{"an unknown field", id, `{"x": 1}`, []string{"X-CSRF-Token", csrf}, http.StatusBadRequest},
		{"an unknown item", id + 100, `{"lat": 52.48, "lon": -0.92}`, []string{"X-CSRF-Token", csrf}, http.StatusNotFound},
	} {
		if resp, b := resolve(analyst, tt.id, tt.body, tt.hdr...); resp.StatusCode != tt.want {
			t.Errorf("resolve with %s = %d %s; want %d", tt.name, resp.StatusCode, b, tt.want)
		}
	}
	resp, b = resolve(analyst, id, `{"lat": 52.4781, "lon": -0.9206}`, "X-CSRF-Token", csrf)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("resolve = %d %s", resp.StatusCode, b)
	}
	var lon, lat float64
	var method string
	if err := pool.QueryRow(context.Background(), `SELECT ST_X(geom), ST_Y(geom), location_method FROM incidents WHERE source = 'bac' AND source_id = 'BAC-2'`).Scan(&lon, &lat, &method); err != nil {
		t.Fatal(err)
	}
	if lon != -0.9206 || lat != 52.4781 || method != ingest.MethodManual {
		t.Errorf("BAC-2 after resolve at %v, %v by %q; want -0.9206, 52.4781 by manual", lon, lat, method)
	}
	if n := count(t, pool, `SELECT count(*) FROM audit_log WHERE action = $1 AND actor = 'analyst-1' AND (detail->>'review')::bigint = $2`, ingest.ActionReviewResolve, id); n != 1 {
		t.Errorf("audit rows for the resolve = %d; want 1", n)
	}
	if resp, b := resolve(analyst, id, `{"lat": 52.48, "lon": -0.92}`, "X-CSRF-Token", csrf); resp.StatusCode != http.StatusConflict {
		t.Errorf("second resolve = %d %s; want 409", resp.StatusCode, b)
	}
	a := post()
	if a.NeedsReview != 0 || a.Results[1].Status != "unchanged" || a.Results[1].Method != geocode.MethodRemembered || a.Results[1].ReviewID != 0 {
		t.Errorf("BAC-2 sent again = %+v (needs review %d); want unchanged, placed by the remembered decision, no review item", a.Results[1], a.NeedsReview)
	}
	if resp, b := do(t, analyst, http.MethodGet, ts.URL+"/api/review", nil); !bytes.Contains(b, []byte(`"items":[]`)) {
		t.Errorf("GET /api/review after resolving = %d %s; want no items", resp.StatusCode, b)
	}
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestBrowserReviewPage signs an analyst in through the form, opens the
// review queue in headless Chromium, places one record by typing a point,
// and checks the incident in the database and that the page logged no
// errors.
func TestBrowserReviewPage(t *testing.T) {
	b := newBrowser(t)
	ts, pool, _ := authServer(t, web.Config{}, nil)
	loadDistrict(t, pool)
	ctx := context.Background()
	recs := []json.RawMessage{
		json.RawMessage(`{"source_id": "NW-1", "occurred_at": "14/03/2026 22:00-02:00", "category": "ASB", "location": "behind the old chapel", "town": "Nowhereville"}`),
		json.RawMessage(`{"source_id": "NW-2", "occurred_at": "15/03/2026", "category": "Graffiti", "location": "the bus shelter by the pond", "town": "Nowhereville"}`),
	}
	if _, _, err := partnerIngest(pool).ImportJSON(ctx, "nhw", recs, "test", ""); err != nil {
		t.Fatal(err)
	}
	password := ensureUser(t, pool, "analyst-1", auth.Analyst)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(ts.URL+"/login?next=/review.html")); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the login page", `document.body.dataset.ready === 'true'`, 30*time.Second)
	if err := chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("login-name"), "analyst-1"),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the review page with two items", `location.pathname === '/review.html' && document.body.dataset.ready === 'true'
		&& document.querySelectorAll('.review-item').length === 2`, 30*time.Second)
	first := `.review-item[data-id] input`
	if err := chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.CSS(first+`[aria-label="latitude or easting"]`), "473000"),
		chromedp.SendKeys(chromedp.CSS(first+`[aria-label="longitude or northing"]`), "287500"),
		chromedp.Click(chromedp.CSS(`.review-item .review-place-point`)),
	); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "one item placed", `window.hotspotReview.resolved.length === 1 && document.querySelectorAll('.review-item').length === 1`, 30*time.Second)
	var e, n float64
	var method string
	if err := pool.QueryRow(ctx, `SELECT ST_X(geom_bng), ST_Y(geom_bng), location_method FROM incidents WHERE source = 'nhw' AND source_id = 'NW-1'`).Scan(&e, &n, &method); err != nil {
		t.Fatalf("NW-1 not placed: %v", err)
	}
	if e < 472999.9 || e > 473000.1 || n < 287499.9 || n > 287500.1 || method != ingest.MethodManual {
		t.Errorf("NW-1 at E %.2f N %.2f by %q; want E 473000 N 287500 by manual", e, n, method)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("the review page logged problems: %v", p)
	}
	// The map offers the queue to an analyst.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the review link on the map", `document.getElementById('review-link') && document.getElementById('review-link').getAttribute('href') === 'review.html'`, 30*time.Second)
}
