package web

import (
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5"
)

// The public map page's own endpoints, beside the police.uk-compatible
// API and, like it, read through the public pool (so with the role that
// sees only open.* and the reference columns granted by migrations/0006),
// rate-limited and Public:
//
//	GET /api/postcodes/{postcode}   a Code-Point Open postcode's WGS84 point
//	GET /api/place-summaries        public crime counts per named place, date
//	                                or date_from/date_to, with the same months
//	                                a year earlier
//
// A place's count comes from open.crimes at the map points inside its
// outline, so it can never say more than the map points do; and a count
// below the anonymisation minimum (open.meta.min_count) is given as
// "fewer than N", never as the number.

// publicRoutes are the page's endpoints, each Public and rate-limited.
func (a *PoliceAPI) publicRoutes() []Route {
	return []Route{
		{Name: "public-postcode", Method: http.MethodGet, Path: "/api/postcodes/{postcode}", Access: Public, handle: a.limited(a.postcode)},
		{Name: "public-place-summaries", Method: http.MethodGet, Path: "/api/place-summaries", Access: Public, handle: a.limited(a.placeSummaries)},
		{Name: "public-hotspots", Method: http.MethodGet, Path: "/api/public/hotspots", Access: Public, handle: a.limited(a.publicHotspots)},
	}
}

// postcodePattern is a UK postcode unit in its normal form, as the
// postcodes table's CHECK has it.
var postcodePattern = regexp.MustCompile(`^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$`)

// errBadPostcode says how to write a postcode.
var errBadPostcode = errors.New("not a postcode")

// NormalisePostcode returns a postcode in its normal form: capitals, one
// space before the last three characters ("le167ag" → "LE16 7AG").
func NormalisePostcode(s string) (string, error) {
	if len(s) > 16 {
		return "", errBadPostcode
	}
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) < 5 || len(s) > 7 {
		return "", errBadPostcode
	}
	s = s[:len(s)-3] + " " + s[len(s)-3:]
	if !postcodePattern.MatchString(s) {
		return "", errBadPostcode
	}
	return s, nil
}

// apiPostcode is the answer of /api/postcodes/{postcode}.
type apiPostcode struct {
	Postcode  string  `json:"postcode"`
	Latitude  float64 `json:"latitude"`
	Longitude float64 `json:"longitude"`
}

// apiPostcodeSQL reads only the two columns 0006 grants.
const apiPostcodeSQL = `SELECT round(ST_Y(geom)::numeric, 6)::float8, round(ST_X(geom)::numeric, 6)::float8 FROM public.postcodes WHERE postcode = $1`

func (a *PoliceAPI) postcode(w http.ResponseWriter, r *http.Request) error {
	if _, err := apiParams(r); err != nil {
		return err
	}
	raw := mux.Vars(r)["postcode"]
	pc, err := NormalisePostcode(raw)
	if err != nil {
		return apiBadParam("%q is not a UK postcode: write it as an outward and an inward code, e.g. LE16 7AG (spaces and case do not matter)", apiCut(raw))
	}
	out := apiPostcode{Postcode: pc}
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		return tx.QueryRow(r.Context(), apiPostcodeSQL, pc).Scan(&out.Latitude, &out.Longitude)
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return &Error{Status: http.StatusNotFound, Message: fmt.Sprintf("postcode %s is not known here: this server has the current Code-Point Open postcodes of the LE area", pc)}
	}
	if err != nil {
		return err
	}
	return writeAPI(w, out)
}

// apiPlaceSummary is one place of /api/place-summaries.
type apiPlaceSummary struct {
	Slug     string         `json:"slug"`
	Name     string         `json:"name"`
	Kind     string         `json:"kind"`
	Current  apiPeriodCount `json:"current"`
	Previous apiPeriodCount `json:"previous"`
}

// apiPeriodCount is a place's public crimes in a range of months. Count
// is null when the months are not all loaded (NoData) or the count is
// below the minimum (Suppressed); Text says which, for people.
type apiPeriodCount struct {
	DateFrom   string `json:"date_from"`
	DateTo     string `json:"date_to"`
	Count      *int   `json:"count"`
	Suppressed bool   `json:"suppressed"`
	NoData     bool   `json:"no_data"`
	Text       string `json:"text"`
}

// apiPlaceSummariesSQL counts public crimes at the map points inside each
// place, in $1..$2 and in $3..$4.
const apiPlaceSummariesSQL = `
WITH inside AS (
	SELECT p.slug, m.id FROM public.places p JOIN open.map_points m ON ST_Intersects(p.geom, m.geom)
)
SELECT p.slug, p.name, p.kind,
       count(c.id) FILTER (WHERE c.month BETWEEN $1 AND $2)::int,
       count(c.id) FILTER (WHERE c.month BETWEEN $3 AND $4)::int
FROM public.places p
LEFT JOIN inside i ON i.slug = p.slug
LEFT JOIN open.crimes c ON c.map_point_id = i.id AND (c.month BETWEEN $1 AND $2 OR c.month BETWEEN $3 AND $4)
GROUP BY p.slug, p.name, p.kind
ORDER BY p.kind = 'district' DESC, p.name`

func (a *PoliceAPI) placeSummaries(w http.ResponseWriter, r *http.Request) error {
	q, err := apiParams(r, apiDateParams...)
	if err != nil {
		return err
	}
	out := []apiPlaceSummary{}
	err = a.read(r.Context(), func(tx pgx.Tx) error {
		from, to, ok, err := apiMonths(r.Context(), tx, q)
		if err != nil || !ok {
			return err // nothing published yet: no places to count
		}
		var minCount int
		var months []time.Time
		err = tx.QueryRow(r.Context(), `SELECT min_count, months FROM open.meta`).Scan(&minCount, &months)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil // nothing published yet, whatever months were asked for
		}
		if err != nil {
			return err
		}
		loaded := map[time.Time]bool{}
		for _, m := range months {
			loaded[m.UTC()] = true
		}
		pFrom, pTo := from.AddDate(-1, 0, 0), to.AddDate(-1, 0, 0)
		rows, err := tx.Query(r.Context(), apiPlaceSummariesSQL, from, to, pFrom, pTo)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (apiPlaceSummary, error) {
			var s apiPlaceSummary
			var cur, prev int
			err := row.Scan(&s.Slug, &s.Name, &s.Kind, &cur, &prev)
			s.Current = periodCount(from, to, cur, minCount, loaded)
			s.Previous = periodCount(pFrom, pTo, prev, minCount, loaded)
			return s, err
		})
		return err
	})
	if err != nil {
		return err
	}
	if out == nil {
		out = []apiPlaceSummary{}
	}
	return writeAPI(w, out)
}

// periodCount turns a count into what the public may see: nothing when
// any month of the range is not loaded (a part of a range would compare
// badly), "fewer than min" below the minimum count, the number otherwise.
func periodCount(from, to time.Time, n, min int, loaded map[time.Time]bool) apiPeriodCount {
	p := apiPeriodCount{DateFrom: from.Format("2006-01"), DateTo: to.Format("2006-01")}
	for m := from; !m.After(to); m = m.AddDate(0, 1, 0) {
		if !loaded[m.UTC()] {
			p.NoData, p.Text = true, "no data"
			return p
		}
	}
	if n < min {
		p.Suppressed, p.Text = true, fmt.Sprintf("fewer than %d", min)
		return p
	}
	p.Count, p.Text = &n, fmt.Sprint(n)
	return p
}
