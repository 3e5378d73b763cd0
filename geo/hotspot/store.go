package hotspot

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London even where the system has no zoneinfo

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// DefaultMinCount is the smallest count the public hotspot cells publish:
// the same floor as geo/anon's area counts (anon.DefaultMinCount; sibling
// packages do not import each other).
const DefaultMinCount = 3

// sourcePoliceUK is incidents.source for police.uk rows, whose points are
// police.uk's anonymised map points (snapping points).
const sourcePoliceUK = "police-uk"

// ErrBadOptions is returned for options out of range.
var ErrBadOptions = errors.New("bad hotspot options")

// Options configures Rebuild. Zero values take the defaults.
type Options struct {
	// Synthetic includes synthetic incidents (hotspot synth). Off by
	// default: analyses of real data leave them out. The public cells
	// are built from the anonymised data, which never has them.
	Synthetic bool
	// KDEShare is the share of each place's area the KDE contour keeps
	// (DefaultKDEShare).
	KDEShare float64
	// MinCount is the smallest published public count (at least 3).
	MinCount int
	// Trigger says what started the rebuild (e.g. "import", "cli").
	Trigger string
	// Location is the clock for weekday and hour peaks (Europe/London).
	Location *time.Location
}

func (o *Options) fill() error {
	if o.KDEShare == 0 {
		o.KDEShare = DefaultKDEShare
	}
	if o.MinCount == 0 {
		o.MinCount = DefaultMinCount
	}
	if o.Trigger == "" {
		o.Trigger = "rebuild"
	}
	if o.Location == nil {
		loc, err := time.LoadLocation("Europe/London")
		if err != nil {
			return err
		}
		o.Location = loc
	}
	if o.KDEShare <= 0 || o.KDEShare >= 1 {
		return fmt.Errorf("%w: KDE area share must be between 0 and 1, got %v", ErrBadOptions, o.KDEShare)
	}
	if o.MinCount < 3 {
		return fmt.Errorf("%w: the minimum public count must be at least 3 (with 2, a withheld count could only be 1); got %d", ErrBadOptions, o.MinCount)
	}
	return nil
}

// Summary reports what Rebuild did.
type Summary struct {
	RunID       int64
	LatestMonth time.Time // zero when there are no incidents
	Places      int
	Incidents   int // incident rows read (an incident in two places counts twice)
	Sets        int
	Hotspots    int // Gi* hotspots over all levels plus KDE contour parts
	PublicCells int
	Suppressed  int // public cells with a withheld count
	Load        time.Duration
	Compute     time.Duration
	Write       time.Duration
	Duration    time.Duration
}

// rebuildLock serialises rebuilds ("HotReb").
const rebuildLock int64 = 0x486f74526562

// Rebuild recomputes every hotspot of every named place × priority (and
// all crime) × standard window × method, and the public hotspot cells,
// and replaces the current set in one transaction: readers see the old set
// or the new, never a mix, and a failure leaves the old set current.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, opts Options) (Summary, error) {
	if err := opts.fill(); err != nil {
		return Summary{}, err
	}
	start := time.Now()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("hotspot rebuild: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, rebuildLock); err != nil {
		return Summary{}, fmt.Errorf("hotspot rebuild: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, rebuildLock) //nolint:errcheck // released with the session anyway
	var sum Summary
	for attempt := 0; ; attempt++ {
		sum = Summary{}
		err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			return rebuild(ctx, tx, opts, &sum)
		})
		var pe *pgconn.PgError
		if err != nil && errors.As(err, &pe) && pe.Code == "40001" && attempt < 3 {
			continue
		}
		break
	}
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, fmt.Errorf("hotspot rebuild: %w", err)
	}
	return sum, nil
}

const latestSQL = `SELECT date_trunc('month', greatest(
	(SELECT max(occurred_from) FROM incidents WHERE NOT synthetic),
	(SELECT max(occurred_from) FROM incidents WHERE synthetic AND $1)) AT TIME ZONE 'UTC')`

const placesSQL = `SELECT slug, ST_AsBinary(geom_bng), ST_Area(geom_bng) FROM places ORDER BY slug`

const prioritiesSQL = `SELECT category, coalesce(priority, 0) FROM category_priorities`

// incidentsSQL streams every located incident of the real data in the 24
// months the windows and their comparisons need; Go decides which places
// each lies in (Outline). The index on (synthetic, occurred_from) finds
// them among any number of synthetic rows.
const incidentsSQL = `SELECT ST_X(i.geom_bng), ST_Y(i.geom_bng), i.id, i.category, i.occurred_from, i.occurred_to, i.source = '` + sourcePoliceUK + `'
FROM incidents i
WHERE NOT i.synthetic AND i.geom_bng IS NOT NULL AND i.occurred_from >= $1 AND i.occurred_from < $2`

// incidentsWithSyntheticSQL is the same with synthetic rows too: most of
// the table, so it is read in table order (index scans are switched off
// for the statement): a million rows fetched through an index in
// occurred_from or spatial order visit the heap at random, measured at
// 13-28 s against 1-2 s.
const incidentsWithSyntheticSQL = `SELECT ST_X(i.geom_bng), ST_Y(i.geom_bng), i.id, i.category, i.occurred_from, i.occurred_to, i.source = '` + sourcePoliceUK + `'
FROM incidents i
WHERE i.geom_bng IS NOT NULL AND i.occurred_from >= $1 AND i.occurred_from < $2`

// pgEpoch is the zero of PostgreSQL's binary timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

func binary64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }

// pgTime decodes a binary timestamptz; ±infinity (and anything past year
// 9999) comes back as ok = false.
func pgTime(b []byte) (t time.Time, ok bool) {
	us := int64(binary64(b))
	const limit = 250000 * 365 * 24 * 3600 * 1000000 // about 250,000 years of microseconds
	if us > limit || us < -limit {
		return time.Time{}, false
	}
	return pgEpoch.Add(time.Duration(us/1000000) * time.Second).Add(time.Duration(us%1000000) * time.Microsecond), true
}

const dataVersionSQL = `SELECT version FROM data_version`

func load(ctx context.Context, tx pgx.Tx, opts Options) (*input, error) {
	in := &input{loc: opts.Location}
	var latest *time.Time
	if err := tx.QueryRow(ctx, latestSQL, opts.Synthetic).Scan(&latest); err != nil {
		return nil, fmt.Errorf("latest month: %w", err)
	}
	pl, err := loadPlaces(ctx, tx)
	if err != nil {
		return nil, err
	}
	in.places = pl
	if latest == nil {
		return in, nil
	}
	in.latest = latest.UTC()
	prio, err := loadPriorities(ctx, tx)
	if err != nil {
		return nil, err
	}
	catIndex := map[string]int16{}
	from := in.latest.AddDate(0, -(history - 1), 0)
	to := in.latest.AddDate(0, 1, 0)
	lm := in.latest.Year()*12 + int(in.latest.Month())
	// Capacity from the planner's row estimate: a million rows appended
	// one by one would be copied over and over.
	var est float64
	if err := tx.QueryRow(ctx, `SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'incidents'::regclass`).Scan(&est); err != nil {
		return nil, fmt.Errorf("incidents estimate: %w", err)
	}
	if !opts.Synthetic {
		est = 0
	}
	q := incidentsSQL
	if opts.Synthetic {
		q = incidentsWithSyntheticSQL
		if _, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = off`); err != nil {
			return nil, err
		}
	}
	rows, err := tx.Query(ctx, q, from, to)
	if err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	all := make([]row, 0, min(int(est), 20_000_000))
	// One bit per place for each kept row.
	stride := (len(in.places) + 63) / 64
	masks := make([]uint64, 0, cap(all)*stride)
	outlines := make([]*Outline, len(in.places))
	for i, pd := range in.places {
		outlines[i] = NewOutline(pd.geom)
	}
	var cat string
	var r row
	var of, ot time.Time
	binary := true
	for _, fd := range rows.FieldDescriptions() {
		binary = binary && fd.Format == pgx.BinaryFormatCode
	}
	names := map[string]string{}
	internCategory := func(b []byte) string {
		if c, ok := names[string(b)]; ok {
			return c
		}
		c := string(b)
		names[c] = c
		return c
	}
	for rows.Next() {
		if binary {
			// Decode PostgreSQL's binary values directly: a million rows
			// through pgx's general Scan cost more than the query.
			v := rows.RawValues()
			if len(v) != 7 || len(v[0]) != 8 || len(v[1]) != 8 || len(v[2]) != 8 || len(v[4]) != 8 || len(v[5]) != 8 || len(v[6]) != 1 {
				rows.Close()
				return nil, errors.New("incidents: unexpected binary row")
			}
			r.x = math.Float64frombits(binary64(v[0]))
			r.y = math.Float64frombits(binary64(v[1]))
			r.id = int64(binary64(v[2]))
			cat = internCategory(v[3])
			var ok bool
			if of, ok = pgTime(v[4]); !ok {
				continue // outside the window's bounds anyway
			}
			if ot, ok = pgTime(v[5]); !ok {
				ot = of.AddDate(1, 0, 0) // an open end: spread over a year
			}
			r.snapped = v[6][0] != 0
		} else if err := rows.Scan(&r.x, &r.y, &r.id, &cat, &of, &ot, &r.snapped); err != nil {
			rows.Close()
			return nil, err
		}
		u := of.UTC()
		m := lm - (u.Year()*12 + int(u.Month()))
		if m < 0 || m >= history {
			continue
		}
		// Any located incident marks its month as covered by the data,
		// whether or not it lies in a place.
		in.covered[m] = true
		// First pass: keep the incident once, with a bit per place it
		// lies in; rows per place are made once their number is known.
		var mask []uint64
		if n := len(masks); n+stride <= cap(masks) {
			mask = masks[n : n+stride]
		} else {
			mask = make([]uint64, stride)
		}
		clear(mask)
		inAny := false
		for pi := range in.places {
			if outlines[pi].Contains(r.x, r.y) {
				mask[pi/64] |= 1 << (pi % 64)
				inAny = true
			}
		}
		if !inAny {
			continue
		}
		r.month = int16(m)
		r.priority = prio[cat]
		ci, ok := catIndex[cat]
		if !ok {
			ci = int16(len(in.categories))
			catIndex[cat] = ci
			in.categories = append(in.categories, cat)
		}
		r.cat = ci
		in.timeKey(&r, of, ot)
		all = append(all, r)
		masks = append(masks, mask...)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("incidents: %w", err)
	}
	if opts.Synthetic {
		if _, err := tx.Exec(ctx, `SET LOCAL enable_indexscan = on`); err != nil {
			return nil, err
		}
	}
	// Second pass: each place's rows, sized exactly, with its distinct
	// points numbered through a map sized up front.
	for pi, pd := range in.places {
		word, bit := pi/64, uint64(1)<<(pi%64)
		n := 0
		for i := range all {
			if masks[i*stride+word]&bit != 0 {
				n++
			}
		}
		pd.rows = make([]row, 0, n)
		lk := make(map[[2]int64]int32, n)
		for i := range all {
			if masks[i*stride+word]&bit == 0 {
				continue
			}
			r := all[i]
			key := [2]int64{int64(math.Round(r.x * 10)), int64(math.Round(r.y * 10))}
			li, ok := lk[key]
			if !ok {
				li = int32(len(lk))
				lk[key] = li
			}
			r.loc = li
			pd.rows = append(pd.rows, r)
		}
	}
	for _, pd := range in.places {
		pd.order()
		pd.index()
	}
	return in, nil
}

const insertRunSQL = `INSERT INTO hotspot_runs (data_version, latest_month, synthetic, incidents, parameters, trigger, months_with_data)
VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`

const insertSetsSQL = `INSERT INTO hotspot_sets (run_id, place, priority, time_window, month_from, month_to, method, place_incidents, prev_incidents, yoy_incidents, profile, parameters, monthly)
SELECT $1, v.place, v.priority, v.time_window, v.month_from, v.month_to, v.method, v.cur, v.prev, v.yoy, v.profile, v.parameters,
	CASE WHEN v.monthly = '' THEN NULL ELSE string_to_array(v.monthly, ',')::integer[] END
FROM unnest($2::text[], $3::smallint[], $4::text[], $5::date[], $6::date[], $7::text[], $8::integer[], $9::integer[], $10::integer[], $11::jsonb[], $12::jsonb[], $13::text[])
	AS v(place, priority, time_window, month_from, month_to, method, cur, prev, yoy, profile, parameters, monthly)`

const setIDsSQL = `SELECT id, place, priority, time_window, method FROM hotspot_sets WHERE run_id = $1`

const stageSQL = `CREATE TEMP TABLE hotspot_stage (
	set_id bigint, confidence smallint, rank integer, cells integer, incidents integer, area_m2 float8, share float8,
	prev_incidents integer, prev_change float8, yoy_incidents integer, yoy_change float8,
	peak_month smallint, peak_weekday smallint, peak_hour smallint, profile jsonb, top_categories jsonb,
	repeat_locations jsonb, repeat_points integer, repeat_incidents integer, max_z float8, dissolve boolean, wkb bytea
) ON COMMIT DROP`

// moveStageSQL writes the staged hotspots. Gi* outlines come exact from
// Grid.Outline; KDE parts come as rectangles that PostGIS dissolves.
const moveStageSQL = `INSERT INTO hotspots (set_id, run_id, confidence, rank, cells, incidents, area_m2, share,
	prev_incidents, prev_change, yoy_incidents, yoy_change, peak_month, peak_weekday, peak_hour, profile, top_categories,
	repeat_locations, repeat_points, repeat_incidents, max_z, geom_bng, geom, geom_web)
SELECT s.set_id, $1, s.confidence, s.rank, s.cells, s.incidents, s.area_m2, s.share,
	s.prev_incidents, s.prev_change, s.yoy_incidents, s.yoy_change, s.peak_month, s.peak_weekday, s.peak_hour, s.profile, s.top_categories,
	s.repeat_locations, s.repeat_points, s.repeat_incidents, s.max_z, g.g, ST_Transform(g.g, 4326), ST_Transform(g.g, 3857)
FROM hotspot_stage s
CROSS JOIN LATERAL (SELECT ST_Multi(CASE WHEN s.dissolve THEN ST_UnaryUnion(ST_GeomFromWKB(s.wkb, 27700))
	ELSE ST_GeomFromWKB(s.wkb, 27700) END)::geometry(MultiPolygon, 27700) AS g) g`

const repeatSQL = `SELECT id, ST_X(geom), ST_Y(geom), location_text FROM incidents WHERE id = ANY($1)`

const switchSQL = `INSERT INTO hotspot_current (run_id) VALUES ($1)
ON CONFLICT (singleton) DO UPDATE SET run_id = excluded.run_id`

// DELETE rather than TRUNCATE, so readers keep reading the old rows until
// the commit.
const (
	deleteOldHotspotsSQL = `DELETE FROM hotspots WHERE run_id <> $1`
	deleteOldSetsSQL     = `DELETE FROM hotspot_sets WHERE run_id <> $1`
)

const finishRunSQL = `UPDATE hotspot_runs SET finished_at = clock_timestamp(), build_ms = $2 WHERE id = $1`

// profileJSON is the stored shape of a Profile.
type profileJSON struct {
	Month   []float64 `json:"month"`
	Weekday []float64 `json:"weekday"`
	Hour    []float64 `json:"hour"`
	Records float64   `json:"records"`
	Timed   float64   `json:"timed"`
}

func (p Profile) toJSON() profileJSON {
	return profileJSON{Month: p.Month[:], Weekday: p.Weekday[:], Hour: p.Hour[:], Records: p.Records, Timed: p.Timed}
}

func rebuild(ctx context.Context, tx pgx.Tx, opts Options, sum *Summary) error {
	t0 := time.Now()
	var version int64
	if err := tx.QueryRow(ctx, dataVersionSQL).Scan(&version); err != nil {
		return fmt.Errorf("data version: %w", err)
	}
	in, err := load(ctx, tx, opts)
	if err != nil {
		return err
	}
	sum.Places = len(in.places)
	for _, pd := range in.places {
		sum.Incidents += len(pd.rows)
	}
	sum.Load = time.Since(t0)
	t1 := time.Now()
	var sets []*Set
	if !in.latest.IsZero() {
		sum.LatestMonth = in.latest
		sets = analyse(in, Params{KDEShare: opts.KDEShare, Loc: opts.Location})
	}
	sum.Compute = time.Since(t1)
	t2 := time.Now()
	params, _ := json.Marshal(map[string]any{
		"windows": Windows, "kde_share": opts.KDEShare, "levels": Levels, "min_cell_m": MinCellSize, "max_cell_m": MaxCellSize,
		"min_cells": MinCells, "min_bandwidth_m": MinBandwidth, "max_bandwidth_m": MaxBandwidth, "min_public_count": opts.MinCount,
		"timezone": opts.Location.String(),
	})
	var latest *time.Time
	if !in.latest.IsZero() {
		latest = &in.latest
	}
	withData := []time.Time{}
	for m := history - 1; m >= 0 && latest != nil; m-- {
		if in.covered[m] {
			withData = append(withData, in.latest.AddDate(0, -m, 0))
		}
	}
	if err := tx.QueryRow(ctx, insertRunSQL, version, latest, opts.Synthetic, sum.Incidents, params, opts.Trigger, withData).Scan(&sum.RunID); err != nil {
		return fmt.Errorf("run: %w", err)
	}
	if err := writeSets(ctx, tx, sum.RunID, sets, sum); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, switchSQL, sum.RunID); err != nil {
		return fmt.Errorf("switch: %w", err)
	}
	for _, q := range []string{deleteOldHotspotsSQL, deleteOldSetsSQL} {
		if _, err := tx.Exec(ctx, q, sum.RunID); err != nil {
			return fmt.Errorf("delete old: %w", err)
		}
	}
	if err := rebuildPublic(ctx, tx, opts, sum); err != nil {
		return err
	}
	sum.Write = time.Since(t2)
	if _, err := tx.Exec(ctx, bumpDataVersionSQL); err != nil {
		return fmt.Errorf("data version: %w", err)
	}
	_, err = tx.Exec(ctx, finishRunSQL, sum.RunID, int32(time.Since(t0).Milliseconds()))
	return err
}

// bumpDataVersionSQL marks the data as changed in the same transaction
// as the new set, so caches keyed on the data version (the hotspots tile
// layer's) never serve the previous run's polygons after it. The run
// keeps the version it read (hotspot_runs.data_version).
const bumpDataVersionSQL = `UPDATE data_version SET version = version + 1, changed_at = now()`

type setKey struct {
	place    string
	priority int
	window   string
	method   string
}

func writeSets(ctx context.Context, tx pgx.Tx, runID int64, sets []*Set, sum *Summary) error {
	sum.Sets = len(sets)
	if len(sets) == 0 {
		return nil
	}
	n := len(sets)
	places, windows, methods := make([]string, n), make([]string, n), make([]string, n)
	prios := make([]int16, n)
	froms, tos := make([]time.Time, n), make([]time.Time, n)
	cur := make([]int32, n)
	prev, yoy := make([]*int32, n), make([]*int32, n)
	profs, params := make([][]byte, n), make([][]byte, n)
	monthly := make([]string, n)
	for i, s := range sets {
		places[i], windows[i], methods[i], prios[i] = s.Place, s.Window, s.Method, int16(s.Priority)
		froms[i], tos[i], cur[i] = s.From, s.To, int32(s.PlaceIncidents)
		prev[i], yoy[i] = i32(s.PrevIncidents), i32(s.YoYIncidents)
		profs[i], _ = json.Marshal(s.Profile.toJSON())
		if s.Monthly != nil {
			parts := make([]string, len(s.Monthly))
			for k, v := range s.Monthly {
				parts[k] = strconv.Itoa(v)
			}
			monthly[i] = strings.Join(parts, ",")
		}
		var err error
		if params[i], err = json.Marshal(s.Parameters); err != nil {
			return fmt.Errorf("set parameters: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, insertSetsSQL, runID, places, prios, windows, froms, tos, methods, cur, prev, yoy, profs, params, monthly); err != nil {
		return fmt.Errorf("sets: %w", err)
	}
	ids := map[setKey]int64{}
	rows, err := tx.Query(ctx, setIDsSQL, runID)
	if err != nil {
		return fmt.Errorf("set ids: %w", err)
	}
	for rows.Next() {
		var id int64
		var k setKey
		var p int16
		if err := rows.Scan(&id, &k.place, &p, &k.window, &k.method); err != nil {
			rows.Close()
			return err
		}
		k.priority = int(p)
		ids[k] = id
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("set ids: %w", err)
	}
	// Repeat locations: their WGS84 point and location text, from one
	// example incident each.
	var exIDs []int64
	for _, s := range sets {
		for _, h := range s.Hotspots {
			for _, r := range h.RepeatLocations {
				exIDs = append(exIDs, r.ExampleID)
			}
		}
	}
	type ex struct {
		lon, lat float64
		text     string
	}
	examples := map[int64]ex{}
	if len(exIDs) > 0 {
		rows, err := tx.Query(ctx, repeatSQL, exIDs)
		if err != nil {
			return fmt.Errorf("repeat locations: %w", err)
		}
		for rows.Next() {
			var id int64
			var e ex
			if err := rows.Scan(&id, &e.lon, &e.lat, &e.text); err != nil {
				rows.Close()
				return err
			}
			examples[id] = e
		}
		if err := rows.Err(); err != nil {
			return fmt.Errorf("repeat locations: %w", err)
		}
	}
	if _, err := tx.Exec(ctx, stageSQL); err != nil {
		return fmt.Errorf("stage: %w", err)
	}
	var src [][]any
	for _, s := range sets {
		setID := ids[setKey{s.Place, s.Priority, s.Window, s.Method}]
		for _, h := range s.Hotspots {
			for i := range h.RepeatLocations {
				e := examples[h.RepeatLocations[i].ExampleID]
				h.RepeatLocations[i].Lon, h.RepeatLocations[i].Lat, h.RepeatLocations[i].Location = e.lon, e.lat, e.text
			}
			prof, _ := json.Marshal(h.Profile.toJSON())
			cats, _ := json.Marshal(nonNil(h.TopCategories))
			reps, _ := json.Marshal(nonNil(h.RepeatLocations))
			b, err := wkb.Marshal(h.Geometry)
			if err != nil {
				return fmt.Errorf("hotspot outline: %w", err)
			}
			var conf *int16
			if h.Confidence > 0 {
				c := int16(h.Confidence)
				conf = &c
			}
			pm := int16(h.Profile.PeakMonth())
			var pw, ph *int16
			if v := h.Profile.PeakWeekday(); v >= 0 {
				x := int16(v)
				pw = &x
			}
			if v := h.Profile.PeakHour(); v >= 0 {
				x := int16(v)
				ph = &x
			}
			var peakMonth *int16
			if pm > 0 {
				peakMonth = &pm
			}
			src = append(src, []any{setID, conf, int32(h.Rank), int32(h.Cells), int32(h.Incidents), h.AreaM2, h.Share,
				i32(h.PrevIncidents), h.PrevChange, i32(h.YoYIncidents), h.YoYChange, peakMonth, pw, ph, prof, cats,
				reps, int32(h.RepeatPoints), int32(h.RepeatIncidents), h.MaxZ, s.Method == MethodKDE, b})
		}
	}
	sum.Hotspots = len(src)
	cols := []string{"set_id", "confidence", "rank", "cells", "incidents", "area_m2", "share", "prev_incidents", "prev_change",
		"yoy_incidents", "yoy_change", "peak_month", "peak_weekday", "peak_hour", "profile", "top_categories", "repeat_locations",
		"repeat_points", "repeat_incidents", "max_z", "dissolve", "wkb"}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"hotspot_stage"}, cols, pgx.CopyFromRows(src)); err != nil {
		return fmt.Errorf("stage hotspots: %w", err)
	}
	if _, err := tx.Exec(ctx, moveStageSQL, runID); err != nil {
		return fmt.Errorf("hotspots: %w", err)
	}
	return nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func i32(p *int) *int32 {
	if p == nil {
		return nil
	}
	v := int32(*p)
	return &v
}

func loadPlaces(ctx context.Context, tx pgx.Tx) ([]*placeData, error) {
	rows, err := tx.Query(ctx, placesSQL)
	if err != nil {
		return nil, fmt.Errorf("places: %w", err)
	}
	defer rows.Close()
	var out []*placeData
	for rows.Next() {
		var pd placeData
		var b []byte
		if err := rows.Scan(&pd.slug, &b, &pd.area); err != nil {
			return nil, err
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return nil, fmt.Errorf("place %s: %w", pd.slug, err)
		}
		switch v := g.(type) {
		case orb.MultiPolygon:
			pd.geom = v
		case orb.Polygon:
			pd.geom = orb.MultiPolygon{v}
		default:
			return nil, fmt.Errorf("place %s: outline is a %s", pd.slug, g.GeoJSONType())
		}
		out = append(out, &pd)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("places: %w", err)
	}
	return out, nil
}

func loadPriorities(ctx context.Context, tx pgx.Tx) (map[string]int8, error) {
	rows, err := tx.Query(ctx, prioritiesSQL)
	if err != nil {
		return nil, fmt.Errorf("priorities: %w", err)
	}
	defer rows.Close()
	prio := map[string]int8{}
	for rows.Next() {
		var c string
		var p int16
		if err := rows.Scan(&c, &p); err != nil {
			return nil, err
		}
		prio[c] = int8(p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("priorities: %w", err)
	}
	return prio, nil
}
