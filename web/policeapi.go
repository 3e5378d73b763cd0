package web

import (
	"container/list"
	"context"
	"errors"
	"fmt"
	"math"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/tiles"
)

// The police.uk-compatible API serves the public data (the open schema,
// which geo/anon builds) with data.police.uk's paths, parameters, JSON
// and limits, so that clients written for data.police.uk work unchanged:
//
//	GET|POST /api/crimes-street/{category}   lat&lng (one mile) or poly; date
//	GET|POST /api/crimes-at-location         location_id, or lat&lng (nearest map point); date
//	GET      /api/crimes-no-location         category, force; date
//	GET      /api/crime-categories           date
//	GET      /api/crime-last-updated
//	GET      /api/crimes-street-dates
//	GET|POST /api/outcomes-at-location       location_id, lat&lng or poly; date
//
// and one extension, /api/area-counts, for the counts by area that carry
// the sensitive categories. Everywhere date=YYYY-MM may be replaced by
// date_from and date_to (at most tiles.MaxMonths months).
//
// Every query goes through the public pool (anon.PublicPool), whose
// database role can read the open schema and the reference tables and
// nothing else; the handlers never see a precise location.

// Limits, as data.police.uk's.
const (
	// policeAPIMaxCrimes: a query matching more crimes answers 503.
	policeAPIMaxCrimes = 10000
	// policeAPIMaxGET: a longer GET request (path and query) answers 400.
	policeAPIMaxGET = 4094
	// policeAPIRate and policeAPIBurst: requests a second per client
	// address, and the burst allowed above that.
	policeAPIRate  = 15
	policeAPIBurst = 30
	// mileMetres is the radius of a lat/lng query.
	mileMetres = 1609.344
	// maxPolyPoints bounds a poly parameter (a POST body can carry a long one).
	maxPolyPoints = 10000
	// maxAPIForm bounds a POST form body.
	maxAPIForm = 1 << 20
	// maxRateClients bounds the rate limiter's memory.
	maxRateClients = 10000
)

// PoliceAPI serves the police.uk-compatible API from the public pool.
type PoliceAPI struct {
	db      *pgxpool.Pool
	limiter *rateLimiter
}

// NewPoliceAPI returns the API over public, which must be the public pool
// (anon.PublicPool), never the main one.
func NewPoliceAPI(public *pgxpool.Pool) *PoliceAPI {
	return &PoliceAPI{db: public, limiter: newRateLimiter(policeAPIRate, policeAPIBurst, maxRateClients, time.Now)}
}

// PoliceAPIRoutes returns the API's routes and the public map page's
// (public.go), each Public, for web.New's extra routes.
func PoliceAPIRoutes(public *pgxpool.Pool) []Route {
	a := NewPoliceAPI(public)
	return append(a.Routes(), a.publicRoutes()...)
}

// Routes returns the API's routes. The POST forms take the same
// parameters in a form body (for polygons too long for a URL); they only
// read, so they declare the read token scope.
func (a *PoliceAPI) Routes() []Route {
	type ep struct {
		name, path string
		h          func(http.ResponseWriter, *http.Request) error
		post       bool
	}
	eps := []ep{
		{"crimes-street", "/api/crimes-street/{category}", a.crimesStreet, true},
		{"crimes-at-location", "/api/crimes-at-location", a.crimesAtLocation, true},
		{"crimes-no-location", "/api/crimes-no-location", a.crimesNoLocation, false},
		{"crime-categories", "/api/crime-categories", a.crimeCategories, false},
		{"crime-last-updated", "/api/crime-last-updated", a.crimeLastUpdated, false},
		{"crimes-street-dates", "/api/crimes-street-dates", a.crimesStreetDates, false},
		{"outcomes-at-location", "/api/outcomes-at-location", a.outcomesAtLocation, true},
		{"area-counts", "/api/area-counts", a.areaCounts, false},
	}
	var rs []Route
	for _, e := range eps {
		h := a.limited(e.h)
		rs = append(rs, Route{Name: "police-api-" + e.name, Method: http.MethodGet, Path: e.path, Access: Public, handle: h})
		if e.post {
			rs = append(rs, Route{Name: "police-api-" + e.name + "-post", Method: http.MethodPost, Path: e.path,
				Access: Public, TokenScope: ScopeRead, handle: h})
		}
	}
	return rs
}

// apiCrime is data.police.uk's crime object.
type apiCrime struct {
	Category        string            `json:"category"`
	LocationType    *string           `json:"location_type"`
	Location        *apiLocation      `json:"location"`
	Context         string            `json:"context"`
	OutcomeStatus   *apiOutcomeStatus `json:"outcome_status"`
	PersistentID    string            `json:"persistent_id"`
	ID              int64             `json:"id"`
	LocationSubtype string            `json:"location_subtype"`
	Month           string            `json:"month"`
}

type apiLocation struct {
	Latitude  string    `json:"latitude"`
	Street    apiStreet `json:"street"`
	Longitude string    `json:"longitude"`
}

type apiStreet struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

type apiOutcomeStatus struct {
	Category string `json:"category"`
	Date     string `json:"date"`
}

// apiOutcome is an element of outcomes-at-location.
type apiOutcome struct {
	Category apiOutcomeCategory `json:"category"`
	Date     string             `json:"date"`
	PersonID *int64             `json:"person_id"`
	Crime    apiOutcomeCrime    `json:"crime"`
}

type apiOutcomeCategory struct {
	Code string `json:"code"`
	Name string `json:"name"`
}

// apiOutcomeCrime is the crime inside an outcome: a crime without
// outcome_status, as data.police.uk has it.
type apiOutcomeCrime struct {
	Category        string       `json:"category"`
	LocationType    string       `json:"location_type"`
	Location        *apiLocation `json:"location"`
	Context         string       `json:"context"`
	PersistentID    string       `json:"persistent_id"`
	ID              int64        `json:"id"`
	LocationSubtype string       `json:"location_subtype"`
	Month           string       `json:"month"`
}

type apiCategory struct {
	URL  string `json:"url"`
	Name string `json:"name"`
}

type apiStreetDate struct {
	Date          string   `json:"date"`
	StopAndSearch []string `json:"stop-and-search"`
}

// apiAreaCount is a cell of /api/area-counts (this server's extension).
type apiAreaCount struct {
	AreaKind   string `json:"area_kind"`
	AreaCode   string `json:"area_code"`
	AreaName   string `json:"area_name"`
	Month      string `json:"month"`
	Category   string `json:"category"`
	Count      *int   `json:"count"`
	Suppressed bool   `json:"suppressed"`
}

// locationTypeForce is data.police.uk's location_type for a force's
// crimes (as opposed to "BTP").
const locationTypeForce = "Force"

// apiParams reads a request's parameters: the URL's for GET (refusing a
// request longer than data.police.uk takes), the form body's and the
// URL's for POST. A parameter the API knows may be given once.
func apiParams(r *http.Request, known ...string) (url.Values, error) {
	var q url.Values
	if r.Method == http.MethodPost {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct != "" && ct != "application/x-www-form-urlencoded" {
			return nil, &Error{Status: http.StatusBadRequest, Message: "POST takes a form body (Content-Type: application/x-www-form-urlencoded) with the same parameters as GET"}
		}
		r.Body = http.MaxBytesReader(nil, r.Body, maxAPIForm)
		if err := r.ParseForm(); err != nil {
			return nil, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("unreadable form body (at most %d bytes of application/x-www-form-urlencoded)", maxAPIForm), Err: err}
		}
		q = r.Form
	} else {
		if n := len(r.URL.RequestURI()); n > policeAPIMaxGET {
			return nil, &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf(
				"GET request of %d characters; at most %d: send long polygons with POST (a form body with the same parameters)", n, policeAPIMaxGET)}
		}
		var err error
		if q, err = url.ParseQuery(r.URL.RawQuery); err != nil {
			return nil, &Error{Status: http.StatusBadRequest, Message: "unreadable query string", Err: err}
		}
	}
	for _, k := range known {
		if len(q[k]) > 1 {
			return nil, apiBadParam("%s is given %d times; give it once", k, len(q[k]))
		}
	}
	return q, nil
}

func apiBadParam(format string, args ...any) error {
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf(format, args...)}
}

// apiWhere is the place a query asks about: a point and radius, a polygon,
// or a map point.
type apiWhere struct {
	lat, lng *float64
	poly     []byte // WKB polygon in WGS84
	location *int64
}

const apiExampleLatLng = "lat=52.4787&lng=-0.9218"
const apiExamplePoly = "poly=52.48,-0.93:52.49,-0.92:52.47,-0.91"

// apiLatLng reads lat and lng, which go together.
func apiLatLng(q url.Values) (lat, lng *float64, err error) {
	ls, gs := q.Get("lat"), q.Get("lng")
	if ls == "" && gs == "" {
		return nil, nil, nil
	}
	if ls == "" || gs == "" {
		return nil, nil, apiBadParam("lat and lng go together, in decimal degrees (%s)", apiExampleLatLng)
	}
	la, err1 := strconv.ParseFloat(ls, 64)
	lo, err2 := strconv.ParseFloat(gs, 64)
	if err1 != nil || err2 != nil || geo.CheckLonLat(orb.Point{lo, la}) != nil {
		return nil, nil, apiBadParam("lat %q and lng %q must be decimal degrees, latitude -90 to 90 and longitude -180 to 180 (%s)", apiCut(ls), apiCut(gs), apiExampleLatLng)
	}
	return &la, &lo, nil
}

// apiPoly reads data.police.uk's poly: lat,lng pairs joined by colons,
// at least three; the polygon closes itself.
func apiPoly(s string) ([]byte, error) {
	pairs := strings.Split(s, ":")
	if len(pairs) > maxPolyPoints {
		return nil, apiBadParam("poly has %d points; at most %d", len(pairs), maxPolyPoints)
	}
	ring := make(orb.Ring, 0, len(pairs)+1)
	for i, p := range pairs {
		la, lo, ok := strings.Cut(strings.TrimSpace(p), ",")
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(la), 64)
		lng, err2 := strconv.ParseFloat(strings.TrimSpace(lo), 64)
		if !ok || err1 != nil || err2 != nil || geo.CheckLonLat(orb.Point{lng, lat}) != nil {
			return nil, apiBadParam("poly point %d %q is not lat,lng in decimal degrees (%s)", i+1, apiCut(p), apiExamplePoly)
		}
		ring = append(ring, orb.Point{lng, lat})
	}
	if len(ring) > 1 && ring[0] == ring[len(ring)-1] {
		ring = ring[:len(ring)-1]
	}
	if len(ring) < 3 {
		return nil, apiBadParam("poly needs at least three lat,lng points joined by colons (%s)", apiExamplePoly)
	}
	ring = append(ring, ring[0])
	return wkb.Marshal(orb.Polygon{ring})
}

// apiPlace reads the place: location_id when allowed, lat and lng, or
// poly when allowed; exactly one of them.
func apiPlace(q url.Values, allowLocation, allowPoly bool) (apiWhere, error) {
	var w apiWhere
	var err error
	w.lat, w.lng, err = apiLatLng(q)
	if err != nil {
		return w, err
	}
	n := 0
	if w.lat != nil {
		n++
	}
	if s := q.Get("poly"); s != "" {
		if !allowPoly {
			return w, apiBadParam("this method takes no poly")
		}
		if w.poly, err = apiPoly(s); err != nil {
			return w, err
		}
		n++
	}
	if s := q.Get("location_id"); s != "" {
		id, err := strconv.ParseInt(s, 10, 64)
		if !allowLocation {
			return w, apiBadParam("this method takes no location_id")
		}
		if err != nil || id <= 0 {
			return w, apiBadParam("location_id %q must be a map point id, a whole number (see street.id in crimes-street)", apiCut(s))
		}
		w.location = &id
		n++
	}
	want := "lat and lng (a one-mile radius)"
	if allowPoly {
		want += ", or poly (" + apiExamplePoly + ")"
	}
	if allowLocation {
		want = "location_id, or " + want
	}
	switch {
	case n == 0:
		return w, apiBadParam("say where: give %s", want)
	case n > 1:
		return w, apiBadParam("give one of %s, not several", want)
	}
	return w, nil
}

// apiCut shortens a parameter echoed in a message.
func apiCut(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// apiMonths reads date or date_from/date_to; the zero range becomes the
// latest month published.
func apiMonths(ctx context.Context, tx pgx.Tx, q url.Values) (from, to time.Time, ok bool, err error) {
	m, err := tiles.ParseMonths(q.Get("date"), q.Get("date_from"), q.Get("date_to"))
	if err != nil {
		return from, to, false, &Error{Status: http.StatusBadRequest, Message: strings.TrimPrefix(err.Error(), tiles.ErrBadMonths.Error()+": "), Err: err}
	}
	if !m.IsZero() {
		return m.From, m.To, true, nil
	}
	var last *time.Time
	if err := tx.QueryRow(ctx, `SELECT last_updated FROM open.meta`).Scan(&last); errors.Is(err, pgx.ErrNoRows) || (err == nil && last == nil) {
		return from, to, false, nil // nothing published yet
	} else if err != nil {
		return from, to, false, err
	}
	return *last, *last, true, nil
}

var apiDateParams = []string{"date", "date_from", "date_to"}

// read runs fn in one read-only snapshot of the public data, so a request
// that asks several questions sees one build of it.
func (a *PoliceAPI) read(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, a.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// apiKnownCategory checks a category slug: all-crime, or one the public data
// knows (sensitive ones included: asked at point level they give []).
func apiKnownCategory(ctx context.Context, tx pgx.Tx, slug string) error {
	if slug == "all-crime" {
		return nil
	}
	var known bool
	err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM open.categories WHERE slug = $1)
		OR EXISTS (SELECT 1 FROM public.categories WHERE slug = $1)`, slug).Scan(&known)
	if err != nil {
		return err
	}
	if !known {
		return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("unknown crime category %q: see /api/crime-categories", apiCut(slug))}
	}
	return nil
}

// apiCrimesSQL selects public crimes at the map points in the place asked
// for: $1..$2 the months, $3 the category, $4/$5 lat/lng (within $9
// metres), $6 a WKB polygon, $7 a map point id (the unused ones NULL), $8
// true for crimes with an outcome only. $10 stops it one row past the
// limit.
const apiCrimesSQL = `
WITH q AS (
	SELECT ST_Transform(ST_SetSRID(ST_MakePoint($5::float8, $4::float8), 4326), 27700) AS centre,
	       ST_Transform(ST_MakeValid(ST_SetSRID(ST_GeomFromWKB($6::bytea), 4326)), 27700) AS poly
),
pts AS (
	SELECT m.id, m.street, ST_X(m.geom) AS lng, ST_Y(m.geom) AS lat
	FROM open.map_points m, q
	WHERE CASE WHEN $7::bigint IS NOT NULL THEN m.id = $7::bigint
	           WHEN q.poly IS NOT NULL THEN ST_Intersects(m.geom_bng, q.poly)
	           ELSE ST_DWithin(m.geom_bng, q.centre, $9::float8) END
)
SELECT c.id, c.category, to_char(c.month, 'YYYY-MM'), c.outcome, c.persistent_id, p.id, p.street, p.lat, p.lng
FROM open.crimes c JOIN pts p ON p.id = c.map_point_id
WHERE c.month BETWEEN $1 AND $2 AND ($3 = 'all-crime' OR c.category = $3) AND ($8 = false OR c.outcome <> '')
ORDER BY c.id
LIMIT $10`

// apiCrimeRow is one row of apiCrimesSQL.
type apiCrimeRow struct {
	id                                     int64
	category, month, outcome, persistentID string
	pointID                                int64
	street                                 string
	lat, lng                               float64
}

func (a *PoliceAPI) crimesAt(ctx context.Context, tx pgx.Tx, from, to time.Time, cat string, w apiWhere, outcomes bool) ([]apiCrimeRow, error) {
	rows, err := tx.Query(ctx, apiCrimesSQL, from, to, cat, w.lat, w.lng, w.poly, w.location, outcomes, mileMetres, policeAPIMaxCrimes+1)
	if err != nil {
		return nil, err
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (apiCrimeRow, error) {
		var c apiCrimeRow
		err := r.Scan(&c.id, &c.category, &c.month, &c.outcome, &c.persistentID, &c.pointID, &c.street, &c.lat, &c.lng)
		return c, err
	})
	if err != nil {
		return nil, err
	}
	if len(out) > policeAPIMaxCrimes {
		return nil, &Error{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf(
			"more than %d crimes match: ask for a smaller area or fewer months", policeAPIMaxCrimes)}
	}
	return out, nil
}

func (c apiCrimeRow) location() *apiLocation {
	return &apiLocation{
		Latitude:  strconv.FormatFloat(c.lat, 'f', 6, 64),
		Longitude: strconv.FormatFloat(c.lng, 'f', 6, 64),
		Street:    apiStreet{ID: c.pointID, Name: "On or near " + c.street},
	}
}

func (c apiCrimeRow) crime() apiCrime {
	lt := locationTypeForce
	out := apiCrime{
		Category: c.category, LocationType: &lt, Location: c.location(),
		PersistentID: c.persistentID, ID: c.id, Month: c.month,
	}
	if c.outcome != "" {
		// The street-level files give the latest outcome without its date;
		// the crime's month stands in for it.
		out.OutcomeStatus = &apiOutcomeStatus{Category: c.outcome, Date: c.month}
	}
	return out
}

func (a *PoliceAPI) crimesStreet(w http.ResponseWriter, r *http.Request) error {
	q, err := apiParams(r, append([]string{"lat", "lng", "poly"}, apiDateParams...)...)
	if err != nil {
		return err
	}
	place, err := apiPlace(q, false, true)
	if err != nil {
		return err
	}
	cat := mux.Vars(r)["category"]
	out := []apiCrime{}
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		if err := apiKnownCategory(r.Context(), tx, cat); err != nil {
			return err
		}
		from, to, ok, err := apiMonths(r.Context(), tx, q)
		if err != nil || !ok {
			return err
		}
		rows, err := a.crimesAt(r.Context(), tx, from, to, cat, place, false)
		for _, c := range rows {
			out = append(out, c.crime())
		}
		return err
	})
	if err != nil {
		return err
	}
	return writeAPI(w, out)
}

// apiNearestPointSQL finds the map point nearest to lat/lng within a mile.
const apiNearestPointSQL = `
SELECT m.id FROM open.map_points m,
	(SELECT ST_Transform(ST_SetSRID(ST_MakePoint($2::float8, $1::float8), 4326), 27700) AS g) p
WHERE ST_DWithin(m.geom_bng, p.g, $3::float8)
ORDER BY m.geom_bng <-> p.g, m.id
LIMIT 1`

// apiNearestPoint turns lat/lng into the nearest map point (data.police.uk's
// "nearest pre-defined location"), and checks a location_id exists. found
// is false when no map point is within a mile of lat/lng.
func apiNearestPoint(ctx context.Context, tx pgx.Tx, w *apiWhere) (found bool, err error) {
	if w.location != nil {
		var ok bool
		if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM open.map_points WHERE id = $1)`, *w.location).Scan(&ok); err != nil {
			return false, err
		}
		if !ok {
			return false, &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("no map point has location_id %d", *w.location)}
		}
		return true, nil
	}
	var id int64
	err = tx.QueryRow(ctx, apiNearestPointSQL, *w.lat, *w.lng, mileMetres).Scan(&id)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	*w = apiWhere{location: &id}
	return true, nil
}

func (a *PoliceAPI) crimesAtLocation(w http.ResponseWriter, r *http.Request) error {
	q, err := apiParams(r, append([]string{"lat", "lng", "location_id"}, apiDateParams...)...)
	if err != nil {
		return err
	}
	place, err := apiPlace(q, true, false)
	if err != nil {
		return err
	}
	out := []apiCrime{}
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		found, err := apiNearestPoint(r.Context(), tx, &place)
		if err != nil || !found {
			return err
		}
		from, to, ok, err := apiMonths(r.Context(), tx, q)
		if err != nil || !ok {
			return err
		}
		rows, err := a.crimesAt(r.Context(), tx, from, to, "all-crime", place, false)
		for _, c := range rows {
			out = append(out, c.crime())
		}
		return err
	})
	if err != nil {
		return err
	}
	return writeAPI(w, out)
}

func (a *PoliceAPI) outcomesAtLocation(w http.ResponseWriter, r *http.Request) error {
	q, err := apiParams(r, append([]string{"lat", "lng", "poly", "location_id"}, apiDateParams...)...)
	if err != nil {
		return err
	}
	place, err := apiPlace(q, true, true)
	if err != nil {
		return err
	}
	out := []apiOutcome{}
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		if place.location != nil {
			if _, err := apiNearestPoint(r.Context(), tx, &place); err != nil {
				return err
			}
		}
		from, to, ok, err := apiMonths(r.Context(), tx, q)
		if err != nil || !ok {
			return err
		}
		rows, err := a.crimesAt(r.Context(), tx, from, to, "all-crime", place, true)
		for _, c := range rows {
			out = append(out, apiOutcome{
				Category: apiOutcomeCategory{Code: outcomeCode(c.outcome), Name: c.outcome},
				Date:     c.month,
				Crime: apiOutcomeCrime{
					Category: c.category, LocationType: locationTypeForce, Location: c.location(),
					PersistentID: c.persistentID, ID: c.id, Month: c.month,
				},
			})
		}
		return err
	})
	if err != nil {
		return err
	}
	return writeAPI(w, out)
}

const apiNoLocationSQL = `
SELECT id, category, to_char(month, 'YYYY-MM'), outcome, persistent_id FROM open.crimes_no_location
WHERE force = $1 AND month BETWEEN $2 AND $3 AND ($4 = 'all-crime' OR category = $4)
ORDER BY id
LIMIT $5`

const apiKnownForceSQL = `SELECT EXISTS (SELECT 1 FROM open.crimes_no_location WHERE force = $1)
	OR EXISTS (SELECT 1 FROM open.meta WHERE force = $1)`

func (a *PoliceAPI) crimesNoLocation(w http.ResponseWriter, r *http.Request) error {
	q, err := apiParams(r, append([]string{"category", "force"}, apiDateParams...)...)
	if err != nil {
		return err
	}
	cat, force := q.Get("category"), q.Get("force")
	if cat == "" || force == "" {
		return apiBadParam("crimes-no-location needs category (a slug from /api/crime-categories, or all-crime) and force (e.g. force=leicestershire)")
	}
	out := []apiCrime{}
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		if err := apiKnownCategory(r.Context(), tx, cat); err != nil {
			return err
		}
		var known bool
		if err := tx.QueryRow(r.Context(), apiKnownForceSQL, force).Scan(&known); err != nil {
			return err
		}
		if !known {
			return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("unknown force %q (this server publishes leicestershire)", apiCut(force))}
		}
		from, to, ok, err := apiMonths(r.Context(), tx, q)
		if err != nil || !ok {
			return err
		}
		rows, err := tx.Query(r.Context(), apiNoLocationSQL, force, from, to, cat, policeAPIMaxCrimes+1)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (apiCrime, error) {
			var c apiCrime
			var outcome string
			err := row.Scan(&c.ID, &c.Category, &c.Month, &outcome, &c.PersistentID)
			if outcome != "" {
				c.OutcomeStatus = &apiOutcomeStatus{Category: outcome, Date: c.Month}
			}
			return c, err
		})
		if err != nil {
			return err
		}
		if len(out) > policeAPIMaxCrimes {
			return &Error{Status: http.StatusServiceUnavailable, Message: fmt.Sprintf("more than %d crimes match: ask for a category or fewer months", policeAPIMaxCrimes)}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []apiCrime{}
	}
	return writeAPI(w, out)
}

const apiCategoriesSQL = `SELECT slug, name FROM open.categories UNION SELECT slug, name FROM public.categories`

func (a *PoliceAPI) crimeCategories(w http.ResponseWriter, r *http.Request) error {
	q, err := apiParams(r, "date")
	if err != nil {
		return err
	}
	if d := q.Get("date"); d != "" {
		if _, err := geo.ParseMonth(d); err != nil {
			return apiBadParam("date %q must be a month, YYYY-MM (e.g. 2024-01)", apiCut(d))
		}
	}
	var cats []apiCategory
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		rows, err := tx.Query(r.Context(), apiCategoriesSQL)
		if err != nil {
			return err
		}
		cats, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (apiCategory, error) {
			var c apiCategory
			err := row.Scan(&c.URL, &c.Name)
			return c, err
		})
		return err
	})
	if err != nil {
		return err
	}
	// data.police.uk's order: all-crime, then its own list, then the rest.
	rank := map[string]int{}
	for i, c := range geo.PoliceUKCategories() {
		rank[c.Slug] = i + 1
	}
	sort.SliceStable(cats, func(i, j int) bool {
		ri, rj := rank[cats[i].URL], rank[cats[j].URL]
		if ri == 0 {
			ri = math.MaxInt
		}
		if rj == 0 {
			rj = math.MaxInt
		}
		if ri != rj {
			return ri < rj
		}
		return cats[i].URL < cats[j].URL
	})
	return writeAPI(w, append([]apiCategory{{URL: "all-crime", Name: "All crime"}}, cats...))
}

func (a *PoliceAPI) crimeLastUpdated(w http.ResponseWriter, r *http.Request) error {
	if _, err := apiParams(r); err != nil {
		return err
	}
	var last *time.Time
	err := a.read(r.Context(), func(tx pgx.Tx) error {
		err := tx.QueryRow(r.Context(), `SELECT last_updated FROM open.meta`).Scan(&last)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	if last == nil {
		return &Error{Status: http.StatusNotFound, Message: "no public data yet: it appears after the next import (hotspot anon rebuild)"}
	}
	return writeAPI(w, map[string]string{"date": last.Format("2006-01-02")})
}

func (a *PoliceAPI) crimesStreetDates(w http.ResponseWriter, r *http.Request) error {
	if _, err := apiParams(r); err != nil {
		return err
	}
	out := []apiStreetDate{}
	err := a.read(r.Context(), func(tx pgx.Tx) error {
		rows, err := tx.Query(r.Context(), `SELECT to_char(m, 'YYYY-MM') FROM open.meta, unnest(months) m ORDER BY m DESC`)
		if err != nil {
			return err
		}
		ms, err := pgx.CollectRows(rows, pgx.RowTo[string])
		for _, m := range ms {
			out = append(out, apiStreetDate{Date: m, StopAndSearch: []string{}})
		}
		return err
	})
	if err != nil {
		return err
	}
	return writeAPI(w, out)
}

const apiAreaCountsSQL = `
SELECT area_kind, area_code, area_name, to_char(month, 'YYYY-MM'), category, count, suppressed
FROM open.area_counts
WHERE month BETWEEN $1 AND $2 AND ($3 = '' OR area_kind = $3) AND ($4 = 'all-crime' OR category = $4)
ORDER BY month, category, area_kind, area_code`

// areaCounts is this server's extension: counts per area, month and
// category, sensitive categories included, with small counts withheld.
// Cells are served one month at a time, never summed over months or
// categories, so nothing can be subtracted to find a withheld count.
func (a *PoliceAPI) areaCounts(w http.ResponseWriter, r *http.Request) error {
	q, err := apiParams(r, append([]string{"area", "category"}, apiDateParams...)...)
	if err != nil {
		return err
	}
	area := q.Get("area")
	if area != "" && area != "district" && area != "ward" {
		return apiBadParam("area %q must be district or ward", apiCut(area))
	}
	cat := q.Get("category")
	if cat == "" {
		cat = "all-crime"
	}
	out := []apiAreaCount{}
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		if err := apiKnownCategory(r.Context(), tx, cat); err != nil {
			return err
		}
		from, to, ok, err := apiMonths(r.Context(), tx, q)
		if err != nil || !ok {
			return err
		}
		rows, err := tx.Query(r.Context(), apiAreaCountsSQL, from, to, area, cat)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (apiAreaCount, error) {
			var c apiAreaCount
			err := row.Scan(&c.AreaKind, &c.AreaCode, &c.AreaName, &c.Month, &c.Category, &c.Count, &c.Suppressed)
			return c, err
		})
		return err
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []apiAreaCount{}
	}
	return writeAPI(w, out)
}

// writeAPI writes a JSON answer that any web page may read, as
// data.police.uk's may: the data is public and no credentials are used.
func writeAPI(w http.ResponseWriter, v any) error {
	w.Header().Set("Access-Control-Allow-Origin", "*")
	return writeJSON(w, http.StatusOK, v)
}

// outcomeCodes are data.police.uk's outcome category codes by name.
var outcomeCodes = map[string]string{
	"Action to be taken by another organisation":          "action-taken-by-another-organisation",
	"Awaiting court outcome":                              "awaiting-court-result",
	"Court case unable to proceed":                        "unable-to-proceed",
	"Court result unavailable":                            "court-result-unavailable",
	"Defendant found not guilty":                          "not-guilty",
	"Defendant sent to Crown Court":                       "sent-to-crown-court",
	"Formal action is not in the public interest":         "formal-action-not-in-public-interest",
	"Further action is not in the public interest":        "further-action-not-in-public-interest",
	"Further investigation is not in the public interest": "further-investigation-not-in-public-interest",
	"Investigation complete; no suspect identified":       "no-further-action",
	"Local resolution":                                    "local-resolution",
	"Offender deprived of property":                       "deprived-of-property",
	"Offender fined":                                      "fined",
	"Offender given a caution":                            "cautioned",
	"Offender given a drugs possession warning":           "drugs-possession-warning",
	"Offender given a penalty notice":                     "penalty-notice-issued",
	"Offender given absolute discharge":                   "absolute-discharge",
	"Offender given community sentence":                   "community-penalty",
	"Offender given conditional discharge":                "conditional-discharge",
	"Offender given suspended prison sentence":            "suspended-sentence",
	"Offender otherwise dealt with":                       "other-court-disposal",
	"Offender ordered to pay compensation":                "compensation",
	"Offender sent to prison":                             "imprisoned",
	"Status update unavailable":                           "status-update-unavailable",
	"Suspect charged":                                     "charged",
	"Suspect charged as part of another case":             "sentenced-in-another-case",
	"Unable to prosecute suspect":                         "unable-to-prosecute",
	"Under investigation":                                 "under-investigation",
}

// outcomeCode returns data.police.uk's code for an outcome name, or the
// name as a slug for one it has not listed.
func outcomeCode(name string) string {
	if c, ok := outcomeCodes[name]; ok {
		return c
	}
	return geo.Slugify(name)
}

// rateLimiter is a token bucket per client address: rate tokens a second,
// up to burst. It remembers at most max clients; past that the one seen
// least recently is forgotten (a forgotten client starts with a full
// bucket, as it would after a pause).
type rateLimiter struct {
	mu          sync.Mutex
	rate, burst float64
	max         int
	now         func() time.Time
	clients     map[string]*list.Element
	recent      *list.List // of *rateBucket, most recent first
}

type rateBucket struct {
	ip     string
	tokens float64
	at     time.Time
}

func newRateLimiter(rate, burst float64, max int, now func() time.Time) *rateLimiter {
	return &rateLimiter{rate: rate, burst: burst, max: max, now: now, clients: map[string]*list.Element{}, recent: list.New()}
}

// allow takes a token for ip, or says how long until one is free.
func (l *rateLimiter) allow(ip string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	e, ok := l.clients[ip]
	if !ok {
		if l.recent.Len() >= l.max {
			old := l.recent.Back()
			l.recent.Remove(old)
			delete(l.clients, old.Value.(*rateBucket).ip)
		}
		e = l.recent.PushFront(&rateBucket{ip: ip, tokens: l.burst, at: now})
		l.clients[ip] = e
	} else {
		l.recent.MoveToFront(e)
	}
	b := e.Value.(*rateBucket)
	if d := now.Sub(b.at).Seconds(); d > 0 {
		b.tokens = math.Min(l.burst, b.tokens+d*l.rate)
	}
	b.at = now
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	return false, time.Duration((1 - b.tokens) / l.rate * float64(time.Second))
}

// rateLimited carries the wait to the Retry-After header (see serve).
type rateLimited struct{ wait time.Duration }

func (e rateLimited) Error() string             { return fmt.Sprintf("rate limited for %v", e.wait) }
func (e rateLimited) RetryAfter() time.Duration { return e.wait }

// limited applies the rate limit to h.
func (a *PoliceAPI) limited(h func(http.ResponseWriter, *http.Request) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		if ok, wait := a.limiter.allow(clientIP(r)); !ok {
			return &Error{Status: http.StatusTooManyRequests, Err: rateLimited{wait},
				Message: fmt.Sprintf("too many requests: at most %d a second with bursts of %d; wait and try again (see Retry-After)", policeAPIRate, policeAPIBurst)}
		}
		return h(w, r)
	}
}
