package hotspot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// ErrNoRun is returned when no rebuild has run yet.
var ErrNoRun = errors.New("no hotspots built yet (run hotspot hotspots rebuild)")

// ErrUnknownPlace is returned for a slug that names no place.
var ErrUnknownPlace = errors.New("unknown place")

// ErrBadFilter is returned for a filter value that cannot match (an
// unknown window or method, a priority outside 0..5).
var ErrBadFilter = errors.New("bad hotspot filter")

// Run describes one rebuild.
type Run struct {
	ID          int64      `json:"id"`
	StartedAt   time.Time  `json:"started_at"`
	FinishedAt  *time.Time `json:"finished_at"`
	BuildMS     *int32     `json:"build_ms"`
	DataVersion int64      `json:"data_version"`
	LatestMonth *time.Time `json:"latest_month"`
	Synthetic   bool       `json:"synthetic"`
	Incidents   int32      `json:"incidents"`
	Trigger     string     `json:"trigger"`
}

const runCols = `r.id, r.started_at, r.finished_at, r.build_ms, r.data_version, r.latest_month, r.synthetic, r.incidents, r.trigger`

func scanRun(row pgx.Row) (Run, error) {
	var r Run
	err := row.Scan(&r.ID, &r.StartedAt, &r.FinishedAt, &r.BuildMS, &r.DataVersion, &r.LatestMonth, &r.Synthetic, &r.Incidents, &r.Trigger)
	return r, err
}

const currentSQL = `SELECT ` + runCols + ` FROM hotspot_current c JOIN hotspot_runs r ON r.id = c.run_id`

// Current returns the current run, or ErrNoRun.
func Current(ctx context.Context, q Querier) (Run, error) {
	r, err := scanRun(q.QueryRow(ctx, currentSQL))
	if errors.Is(err, pgx.ErrNoRows) {
		return Run{}, ErrNoRun
	}
	if err != nil {
		return Run{}, fmt.Errorf("current hotspot run: %w", err)
	}
	return r, nil
}

// Querier is what the query functions need: a pool, a connection or a
// transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

var _ Querier = (*pgxpool.Pool)(nil)

// Filter selects hotspots. Zero values match everything, except
// Priority: nil matches every priority, 0 all crime only.
type Filter struct {
	Place         string
	Priority      *int
	Window        string // "last-1", "last-3", "last-12"
	Method        string // "gi-star", "kde"
	MinConfidence int    // Gi* only: 90, 95 or 99; 0 = any (and KDE)
}

func (f Filter) check() error {
	if f.Priority != nil && (*f.Priority < 0 || *f.Priority > 5) {
		return fmt.Errorf("%w: priority %d: want 0 (all crime) to 5", ErrBadFilter, *f.Priority)
	}
	if _, ok := WindowByName(f.Window); f.Window != "" && !ok {
		return fmt.Errorf("%w: window %q: want last-1, last-3 or last-12", ErrBadFilter, f.Window)
	}
	if f.Method != "" && f.Method != MethodGiStar && f.Method != MethodKDE {
		return fmt.Errorf("%w: method %q: want gi-star or kde", ErrBadFilter, f.Method)
	}
	if f.MinConfidence != 0 && f.MinConfidence != 90 && f.MinConfidence != 95 && f.MinConfidence != 99 {
		return fmt.Errorf("%w: confidence %d: want 90, 95 or 99", ErrBadFilter, f.MinConfidence)
	}
	return nil
}

// Feature is a stored hotspot with its numbers and its outline in WGS84,
// ready to be served as a GeoJSON feature.
type Feature struct {
	ID              int64            `json:"id"`
	Place           string           `json:"place"`
	Priority        int              `json:"priority"`
	Window          string           `json:"window"`
	MonthFrom       string           `json:"month_from"` // YYYY-MM
	MonthTo         string           `json:"month_to"`   // YYYY-MM, the last month included
	Method          string           `json:"method"`
	Confidence      *int             `json:"confidence"`
	Rank            int              `json:"rank"`
	Cells           int              `json:"cells"`
	Incidents       int              `json:"incidents"`
	AreaKm2         float64          `json:"area_km2"`
	Share           float64          `json:"share"`
	PrevIncidents   *int             `json:"prev_incidents"`
	PrevChange      *float64         `json:"prev_change_pct"`
	YoYIncidents    *int             `json:"yoy_incidents"`
	YoYChange       *float64         `json:"yoy_change_pct"`
	PeakMonth       *int             `json:"peak_month"`
	PeakWeekday     *int             `json:"peak_weekday"`
	PeakHour        *int             `json:"peak_hour"`
	TopCategories   []CategoryCount  `json:"top_categories"`
	RepeatLocations []RepeatLocation `json:"repeat_locations"`
	RepeatPoints    int              `json:"repeat_points"`
	RepeatIncidents int              `json:"repeat_incidents"`
	MaxZ            *float64         `json:"max_z"`
	Geometry        orb.MultiPolygon `json:"-"`
}

// hotspotsSQL reads the current run's hotspots in one statement, so the
// pointer and the rows come from one snapshot: a rebuild committing
// meanwhile is seen entirely or not at all.
const hotspotsSQL = `SELECT h.id, s.place, s.priority, s.time_window, s.month_from, s.month_to, s.method, h.confidence, h.rank, h.cells,
	h.incidents, h.area_m2, h.share, h.prev_incidents, h.prev_change, h.yoy_incidents, h.yoy_change,
	h.peak_month, h.peak_weekday, h.peak_hour, h.top_categories, h.repeat_locations, h.repeat_points, h.repeat_incidents,
	h.max_z, ST_AsBinary(h.geom)
FROM hotspot_current c
JOIN hotspot_sets s ON s.run_id = c.run_id
JOIN hotspots h ON h.set_id = s.id
WHERE ($1 = '' OR s.place = $1) AND ($2::int IS NULL OR s.priority = $2) AND ($3 = '' OR s.time_window = $3)
  AND ($4 = '' OR s.method = $4) AND ($5 = 0 OR h.confidence >= $5)
ORDER BY s.place, s.priority, s.time_window, s.method, h.confidence NULLS FIRST, h.rank`

// Hotspots lists the current hotspots matching f with their numbers.
// Without a run it returns ErrNoRun.
func Hotspots(ctx context.Context, q Querier, f Filter) ([]Feature, error) {
	if err := f.check(); err != nil {
		return nil, err
	}
	var prio *int32
	if f.Priority != nil {
		v := int32(*f.Priority)
		prio = &v
	}
	rows, err := q.Query(ctx, hotspotsSQL, f.Place, prio, f.Window, f.Method, f.MinConfidence)
	if err != nil {
		return nil, fmt.Errorf("hotspots: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Feature, error) {
		var h Feature
		var pr int16
		var from, to time.Time
		var conf, pm, pw, ph *int16
		var cats, reps, g []byte
		var prev, yoy *int32
		var cells, n, rp, ri, rank int32
		if err := row.Scan(&h.ID, &h.Place, &pr, &h.Window, &from, &to, &h.Method, &conf, &rank, &cells, &n, &h.AreaKm2, &h.Share,
			&prev, &h.PrevChange, &yoy, &h.YoYChange, &pm, &pw, &ph, &cats, &reps, &rp, &ri, &h.MaxZ, &g); err != nil {
			return h, err
		}
		h.Priority, h.Rank, h.Cells, h.Incidents, h.RepeatPoints, h.RepeatIncidents = int(pr), int(rank), int(cells), int(n), int(rp), int(ri)
		h.AreaKm2 /= 1e6
		h.MonthFrom, h.MonthTo = from.Format("2006-01"), to.AddDate(0, -1, 0).Format("2006-01")
		h.Confidence, h.PeakMonth, h.PeakWeekday, h.PeakHour = intp(conf), intp(pm), intp(pw), intp(ph)
		h.PrevIncidents, h.YoYIncidents = int32p(prev), int32p(yoy)
		if err := json.Unmarshal(cats, &h.TopCategories); err != nil {
			return h, err
		}
		if err := json.Unmarshal(reps, &h.RepeatLocations); err != nil {
			return h, err
		}
		geom, err := wkb.Unmarshal(g)
		if err != nil {
			return h, err
		}
		mp, ok := geom.(orb.MultiPolygon)
		if !ok {
			return h, fmt.Errorf("hotspot %d: outline is a %s", h.ID, geom.GeoJSONType())
		}
		h.Geometry = mp
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("hotspots: %w", err)
	}
	if len(out) == 0 {
		if _, err := Current(ctx, q); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func intp(v *int16) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

func int32p(v *int32) *int {
	if v == nil {
		return nil
	}
	i := int(*v)
	return &i
}

// Location is a named place with its headline numbers from the current run.
type Location struct {
	Slug    string  `json:"slug"`
	Name    string  `json:"name"`
	Kind    string  `json:"kind"`
	AreaKm2 float64 `json:"area_km2"`
	// Incidents12 is all crime in the last 12 months (nil without a run).
	Incidents12 *int `json:"incidents_last_12"`
	// Hotspots95 counts the all-crime Gi* hotspots at 95% or more in the
	// last 12 months.
	Hotspots95 int `json:"hotspots_95_last_12"`
}

const locationsSQL = `SELECT p.slug, p.name, p.kind, ST_Area(p.geom_bng) / 1e6, s.place_incidents,
	(SELECT count(*) FROM hotspots h WHERE h.set_id = s.id AND h.confidence >= 95)
FROM places p
LEFT JOIN (SELECT s.* FROM hotspot_sets s JOIN hotspot_current c ON c.run_id = s.run_id
           WHERE s.priority = 0 AND s.time_window = 'last-12' AND s.method = '` + MethodGiStar + `') s ON s.place = p.slug
ORDER BY p.kind = 'district' DESC, p.name`

// Locations lists the named places, the district first.
func Locations(ctx context.Context, q Querier) ([]Location, error) {
	rows, err := q.Query(ctx, locationsSQL)
	if err != nil {
		return nil, fmt.Errorf("locations: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Location, error) {
		var l Location
		var n *int32
		var h int64
		err := row.Scan(&l.Slug, &l.Name, &l.Kind, &l.AreaKm2, &n, &h)
		l.Incidents12, l.Hotspots95 = int32p(n), int(h)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("locations: %w", err)
	}
	return out, nil
}

// PlaceSummary is a place's numbers for the current run.
type PlaceSummary struct {
	Location
	Run Run `json:"run"`
	// Months are the 12 months up to the latest, oldest first (YYYY-MM);
	// ByPriority gives each priority's count per month (priority 0 is all
	// crime), nil for a month the data does not cover.
	Months     []string         `json:"months"`
	ByPriority []PriorityMonths `json:"by_priority"`
	// Windows gives, per priority and standard window, the incidents,
	// trend and aoristic peaks.
	Windows []WindowSummary `json:"windows"`
}

// PriorityMonths is one priority's monthly counts.
type PriorityMonths struct {
	Priority int    `json:"priority"`
	Counts   []*int `json:"counts"`
}

// WindowSummary is one priority × window of a place.
type WindowSummary struct {
	Priority      int      `json:"priority"`
	Window        string   `json:"window"`
	MonthFrom     string   `json:"month_from"`
	MonthTo       string   `json:"month_to"`
	Incidents     int      `json:"incidents"`
	PrevIncidents *int     `json:"prev_incidents"`
	PrevChange    *float64 `json:"prev_change_pct"`
	YoYIncidents  *int     `json:"yoy_incidents"`
	YoYChange     *float64 `json:"yoy_change_pct"`
	PeakMonth     *int     `json:"peak_month"`
	PeakWeekday   *int     `json:"peak_weekday"`
	PeakHour      *int     `json:"peak_hour"`
	Hotspots95    int      `json:"hotspots_95"`
}

const placeSQL = `SELECT slug, name, kind, ST_Area(geom_bng) / 1e6 FROM places WHERE slug = $1`

const windowsSQL = `SELECT s.priority, s.time_window, s.month_from, s.month_to, s.place_incidents, s.prev_incidents, s.yoy_incidents, s.profile,
	(SELECT count(*) FROM hotspots h WHERE h.set_id = s.id AND h.confidence >= 95)
FROM hotspot_sets s JOIN hotspot_current c ON c.run_id = s.run_id
WHERE s.place = $1 AND s.method = '` + MethodGiStar + `'
ORDER BY s.priority, s.month_to - s.month_from, s.time_window`

// monthlySQL gives, per priority, the place's monthly counts stored by
// the run (latest month first) and the run's months with data.
const monthlySQL = `SELECT s.priority, s.monthly, r.months_with_data
FROM hotspot_sets s JOIN hotspot_current c ON c.run_id = s.run_id JOIN hotspot_runs r ON r.id = s.run_id
WHERE s.place = $1 AND s.time_window = 'last-12' AND s.method = '` + MethodGiStar + `' AND s.monthly IS NOT NULL`

// SummaryOf returns a place's summary from the current run: counts by
// priority per month, and per priority and window the trend and peaks.
func SummaryOf(ctx context.Context, pool *pgxpool.Pool, slug string) (PlaceSummary, error) {
	var ps PlaceSummary
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, placeSQL, slug).Scan(&ps.Slug, &ps.Name, &ps.Kind, &ps.AreaKm2)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("%w: %q", ErrUnknownPlace, slug)
		}
		if err != nil {
			return err
		}
		if ps.Run, err = Current(ctx, tx); err != nil {
			return err
		}
		if ps.Run.LatestMonth == nil {
			return nil
		}
		latest := ps.Run.LatestMonth.UTC()
		from := latest.AddDate(0, -11, 0)
		for m := from; !m.After(latest); m = m.AddDate(0, 1, 0) {
			ps.Months = append(ps.Months, m.Format("2006-01"))
		}
		ps.ByPriority = make([]PriorityMonths, 6)
		for p := range ps.ByPriority {
			ps.ByPriority[p] = PriorityMonths{Priority: p, Counts: make([]*int, len(ps.Months))}
		}
		rows, err := tx.Query(ctx, monthlySQL, slug)
		if err != nil {
			return err
		}
		var pr int16
		var monthly []int32
		var withData []time.Time
		_, err = pgx.ForEachRow(rows, []any{&pr, &monthly, &withData}, func() error {
			have := map[string]bool{}
			for _, m := range withData {
				have[m.Format("2006-01")] = true
			}
			for i, m := range ps.Months {
				back := len(ps.Months) - 1 - i
				if have[m] && back < len(monthly) && int(pr) < len(ps.ByPriority) {
					v := int(monthly[back])
					ps.ByPriority[pr].Counts[i] = &v
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		rows, err = tx.Query(ctx, windowsSQL, slug)
		if err != nil {
			return err
		}
		ps.Windows, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (WindowSummary, error) {
			var w WindowSummary
			var p int16
			var mf, mt time.Time
			var cur int32
			var prev, yoy *int32
			var prof []byte
			var h int64
			if err := row.Scan(&p, &w.Window, &mf, &mt, &cur, &prev, &yoy, &prof, &h); err != nil {
				return w, err
			}
			w.Priority, w.Incidents, w.Hotspots95 = int(p), int(cur), int(h)
			w.MonthFrom, w.MonthTo = mf.Format("2006-01"), mt.AddDate(0, -1, 0).Format("2006-01")
			w.PrevIncidents, w.YoYIncidents = int32p(prev), int32p(yoy)
			if w.PrevIncidents != nil {
				w.PrevChange = change(w.Incidents, *w.PrevIncidents)
			}
			if w.YoYIncidents != nil {
				w.YoYChange = change(w.Incidents, *w.YoYIncidents)
			}
			var pj profileJSON
			if err := json.Unmarshal(prof, &pj); err != nil {
				return w, err
			}
			var pf Profile
			copy(pf.Month[:], pj.Month)
			copy(pf.Weekday[:], pj.Weekday)
			copy(pf.Hour[:], pj.Hour)
			if m := pf.PeakMonth(); m > 0 {
				w.PeakMonth = &m
			}
			if d := pf.PeakWeekday(); d >= 0 {
				w.PeakWeekday = &d
			}
			if hr := pf.PeakHour(); hr >= 0 {
				w.PeakHour = &hr
			}
			return w, nil
		})
		if err != nil {
			return err
		}
		for _, w := range ps.Windows {
			if w.Priority == 0 && w.Window == "last-12" {
				n := w.Incidents
				ps.Incidents12, ps.Hotspots95 = &n, w.Hotspots95
			}
		}
		return nil
	})
	if err != nil {
		if errors.Is(err, ErrUnknownPlace) || errors.Is(err, ErrNoRun) {
			return ps, err
		}
		return ps, fmt.Errorf("place summary %s: %w", slug, err)
	}
	return ps, nil
}
