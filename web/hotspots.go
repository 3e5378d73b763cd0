package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"

	"github.com/harborough-csp/hotspot/geo/hotspot"
)

// The analysis API: the hotspot engine's current run (geo/hotspot) for
// the people who plan campaigns from it.
//
//	GET /api/hotspots                  hotspot polygons with their numbers (GeoJSON);
//	                                   ?location (or place), priority, window, method, confidence
//	GET /api/locations                 the named places with headline numbers
//	GET /api/locations/{slug}/summary  one place: counts by priority and month,
//	                                   trend and peaks per priority and window
//
// Police, analysts and admins only: a hotspot's numbers are computed from
// the precise incidents, sensitive categories included, and its repeat
// locations are points. The public's hotspots are a different product,
// computed from the anonymised data alone (GET /api/public/hotspots, in
// public.go's spirit, through the public pool).

// analysisAccess is who may use the analysis API.
const analysisAccess = Police | Analyst | Admin

// AnalysisRoutes returns the analysis API's routes for web.New's extra
// routes. Tokens with the read scope may use them.
func AnalysisRoutes(pool *pgxpool.Pool) []Route {
	a := &analysis{db: pool}
	return []Route{
		{Name: "hotspots", Method: http.MethodGet, Path: "/api/hotspots", Access: analysisAccess, TokenScope: ScopeRead, handle: a.hotspots},
		{Name: "locations", Method: http.MethodGet, Path: "/api/locations", Access: analysisAccess, TokenScope: ScopeRead, handle: a.locations},
		{Name: "location-summary", Method: http.MethodGet, Path: "/api/locations/{slug}/summary", Access: analysisAccess, TokenScope: ScopeRead, handle: a.summary},
	}
}

type analysis struct{ db *pgxpool.Pool }

// strictQuery parses the query string and refuses names it does not know
// and names given twice, so a typo ("priorty=3") is a 400 that says what
// is allowed rather than a silently unfiltered answer.
func strictQuery(r *http.Request, known ...string) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, &Error{Status: http.StatusBadRequest, Message: "unreadable query string", Err: err}
	}
	for k, vs := range q {
		if !slices.Contains(known, k) {
			if len(known) == 0 {
				return nil, apiBadParam("unknown parameter %q: this takes none", apiCut(k))
			}
			return nil, apiBadParam("unknown parameter %q: want %s", apiCut(k), strings.Join(known, ", "))
		}
		if len(vs) > 1 {
			return nil, apiBadParam("%s is given %d times; give it once", k, len(vs))
		}
	}
	return q, nil
}

// hotspotFilter reads location (or its alias place), priority, window,
// method and confidence.
func hotspotFilter(q url.Values) (hotspot.Filter, error) {
	f := hotspot.Filter{Place: q.Get("location"), Window: q.Get("window"), Method: q.Get("method")}
	if p := q.Get("place"); p != "" {
		if f.Place != "" {
			return f, apiBadParam("location and place are the same parameter: give one")
		}
		f.Place = p
	}
	switch p := q.Get("priority"); p {
	case "":
	case "all":
		f.Priority = new(int)
	default:
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > 5 {
			return f, apiBadParam("priority %q: want 1 to 5 (the plan's priorities) or all (0)", apiCut(p))
		}
		f.Priority = &n
	}
	if c := q.Get("confidence"); c != "" {
		n, err := strconv.Atoi(c)
		if err != nil || (n != 90 && n != 95 && n != 99) {
			return f, apiBadParam("confidence %q: want 90, 95 or 99", apiCut(c))
		}
		f.MinConfidence = n
	}
	return f, nil
}

// analysisError turns the engine's errors into statuses that help.
func analysisError(err error) error {
	switch {
	case errors.Is(err, hotspot.ErrBadFilter):
		return &Error{Status: http.StatusBadRequest, Message: strings.TrimPrefix(err.Error(), hotspot.ErrBadFilter.Error()+": "), Err: err}
	case errors.Is(err, hotspot.ErrUnknownPlace):
		return &Error{Status: http.StatusNotFound, Message: err.Error() + ": GET /api/locations lists the places", Err: err}
	case errors.Is(err, hotspot.ErrNoRun):
		return &Error{Status: http.StatusNotFound, Message: "no hotspots have been built yet: an admin runs hotspot hotspots rebuild (imports do it too)", Err: err}
	}
	return err
}

type featureCollection struct {
	Type     string `json:"type"`
	Features []any  `json:"features"`
	// Extra top-level members (RFC 7946 §6.1 allows them).
	Run  any `json:"run,omitempty"`
	Meta any `json:"meta,omitempty"`
}

type feature[P any] struct {
	Type       string            `json:"type"`
	ID         any               `json:"id,omitempty"`
	Geometry   *geojson.Geometry `json:"geometry"`
	Properties P                 `json:"properties"`
}

func (a *analysis) hotspots(w http.ResponseWriter, r *http.Request) error {
	q, err := strictQuery(r, "location", "place", "priority", "window", "method", "confidence")
	if err != nil {
		return err
	}
	f, err := hotspotFilter(q)
	if err != nil {
		return err
	}
	if f.Place != "" {
		if err := a.checkPlace(r, f.Place); err != nil {
			return err
		}
	}
	// The run and its rows from one snapshot.
	var run hotspot.Run
	var hs []hotspot.Feature
	err = pgx.BeginTxFunc(r.Context(), a.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var err error
		if run, err = hotspot.Current(r.Context(), tx); err != nil {
			return err
		}
		hs, err = hotspot.Hotspots(r.Context(), tx, f)
		return err
	})
	if err != nil {
		return analysisError(err)
	}
	out := featureCollection{Type: "FeatureCollection", Features: make([]any, 0, len(hs)), Run: run}
	u, _ := UserFrom(r.Context())
	for _, h := range hs {
		if u.Role != "police" {
			// Repeat locations are points with their location text (a
			// partner's typed address), of any category: precise
			// incidents, which only the police see. Others get the counts.
			h.RepeatLocations = []hotspot.RepeatLocation{}
		}
		out.Features = append(out.Features, feature[hotspot.Feature]{Type: "Feature", ID: h.ID, Geometry: geojson.NewGeometry(orb.Round(h.Geometry.Clone())), Properties: h})
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, out)
}

// checkPlace answers 404 for a place that does not exist, rather than an
// empty collection that looks like "no hotspots there".
func (a *analysis) checkPlace(r *http.Request, slug string) error {
	var ok bool
	if err := a.db.QueryRow(r.Context(), `SELECT EXISTS (SELECT 1 FROM places WHERE slug = $1)`, slug).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return analysisError(fmt.Errorf("%w: %q", hotspot.ErrUnknownPlace, apiCut(slug)))
	}
	return nil
}

func (a *analysis) locations(w http.ResponseWriter, r *http.Request) error {
	if _, err := strictQuery(r); err != nil {
		return err
	}
	ls, err := hotspot.Locations(r.Context(), a.db)
	if err != nil {
		return analysisError(err)
	}
	return writeJSON(w, http.StatusOK, ls)
}

func (a *analysis) summary(w http.ResponseWriter, r *http.Request) error {
	if _, err := strictQuery(r); err != nil {
		return err
	}
	slug := mux.Vars(r)["slug"]
	if len(slug) > 64 {
		return analysisError(fmt.Errorf("%w: %q", hotspot.ErrUnknownPlace, apiCut(slug)))
	}
	s, err := hotspot.SummaryOf(r.Context(), a.db, slug)
	if err != nil {
		return analysisError(err)
	}
	return writeJSON(w, http.StatusOK, s)
}

// Public hotspots: the hot cells geo/hotspot computed from the anonymised
// data alone (open.hotspot_cells), read through the public pool. Each is
// a hexagon significant at 90% or more after FDR control, with its count,
// or no count ("fewer than N") when it is below the minimum.

// publicHotspotCell is one cell as the public gets it.
type publicHotspotCell struct {
	Place      string `json:"place"`
	Priority   int    `json:"priority"`
	Window     string `json:"window"`
	MonthFrom  string `json:"month_from"`
	MonthTo    string `json:"month_to"`
	Confidence int    `json:"confidence"`
	Count      *int   `json:"count"`
	Suppressed bool   `json:"suppressed"`
	CountText  string `json:"count_text"`
}

type publicHotspotMeta struct {
	BuiltAt     time.Time `json:"built_at"`
	LatestMonth *string   `json:"latest_month"`
	MinCount    int       `json:"min_count"`
	Method      string    `json:"method"`
}

const publicMetaSQL = `SELECT built_at, to_char(latest_month, 'YYYY-MM'), min_count, method FROM open.hotspot_meta`

const publicCellsSQL = `SELECT place, priority, time_window, to_char(month_from, 'YYYY-MM'), to_char(month_to - interval '1 month', 'YYYY-MM'),
	confidence, count, suppressed, ST_AsBinary(geom)
FROM open.hotspot_cells
WHERE place = $1 AND priority = $2 AND time_window = $3 AND confidence >= $4
ORDER BY confidence DESC, count DESC NULLS LAST`

// publicHotspots serves GET /api/public/hotspots?place=&priority=&window=&confidence=.
func (a *PoliceAPI) publicHotspots(w http.ResponseWriter, r *http.Request) error {
	q, err := strictQuery(r, "location", "place", "priority", "window", "confidence")
	if err != nil {
		return err
	}
	f, err := hotspotFilter(q)
	if err != nil {
		return err
	}
	place := f.Place
	if place == "" {
		place = "harborough-district"
	}
	prio := 0
	if f.Priority != nil {
		prio = *f.Priority
	}
	window := q.Get("window")
	if window == "" {
		window = "last-12"
	}
	if _, ok := hotspot.WindowByName(window); !ok {
		return apiBadParam("window %q: want last-1, last-3 or last-12", apiCut(window))
	}
	conf := max(f.MinConfidence, 90)
	out := featureCollection{Type: "FeatureCollection", Features: []any{}}
	err = pgx.BeginTxFunc(r.Context(), a.db, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		var m publicHotspotMeta
		err := tx.QueryRow(r.Context(), publicMetaSQL).Scan(&m.BuiltAt, &m.LatestMonth, &m.MinCount, &m.Method)
		if errors.Is(err, pgx.ErrNoRows) {
			return &Error{Status: http.StatusNotFound, Message: "no public hotspots have been built yet"}
		}
		if err != nil {
			return err
		}
		out.Meta = m
		rows, err := tx.Query(r.Context(), publicCellsSQL, place, prio, window, conf)
		if err != nil {
			return err
		}
		var c publicHotspotCell
		var pr, cf int16
		var n *int32
		var g []byte
		_, err = pgx.ForEachRow(rows, []any{&c.Place, &pr, &c.Window, &c.MonthFrom, &c.MonthTo, &cf, &n, &c.Suppressed, &g}, func() error {
			geom, err := wkb.Unmarshal(g)
			if err != nil {
				return err
			}
			cell := c
			cell.Priority, cell.Confidence = int(pr), int(cf)
			if n != nil {
				v := int(*n)
				cell.Count = &v
				cell.CountText = strconv.Itoa(v)
			} else {
				cell.CountText = fmt.Sprintf("fewer than %d", m.MinCount)
			}
			out.Features = append(out.Features, feature[publicHotspotCell]{Type: "Feature", Geometry: geojson.NewGeometry(orb.Round(geom)), Properties: cell})
			return nil
		})
		return err
	})
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/geo+json")
	return writeJSON(w, http.StatusOK, out)
}
