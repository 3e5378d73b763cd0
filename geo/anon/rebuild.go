package anon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Defaults of Options.
const (
	// DefaultMinPostcodeUnits is K: each map point stands for at least
	// this many postcode units, so at least this many addresses.
	// police.uk's standard is eight addresses.
	DefaultMinPostcodeUnits = 8
	// DefaultMinCount is the smallest count published in area_counts.
	DefaultMinCount = 3
	// DefaultDistrict is Harborough District's GSS code, as in the
	// boundaries table (kind "district") and Code-Point Open's admin
	// district column.
	DefaultDistrict = "E07000131"
	// DefaultForce is the police force that no-location rows without one
	// of their own are filed under (police.uk's force id).
	DefaultForce = "leicestershire"
)

// sourcePoliceUK is the incidents.source of police.uk rows (ingest's
// SourcePoliceUK; sibling packages do not import each other). Only these
// rows' points may become map points: police.uk has already anonymised
// them, while a partner's point is precise.
const sourcePoliceUK = "police-uk"

// ErrBadOptions is returned for options below the policy's floor.
var ErrBadOptions = errors.New("bad anonymisation options")

// Options configures Rebuild. Zero values take the defaults.
type Options struct {
	// Zero fields keep the previous rebuild's settings (see Rebuild).
	//
	// MinPostcodeUnits is K, at least DefaultMinPostcodeUnits.
	MinPostcodeUnits int
	// MinCount is the smallest published count, at least 3.
	MinCount int
	// District is the GSS code of the district served.
	District string
	// Force is the police.uk force id for no-location rows without one.
	Force string
}

func (o *Options) fill() error {
	if o.MinPostcodeUnits == 0 {
		o.MinPostcodeUnits = DefaultMinPostcodeUnits
	}
	if o.MinCount == 0 {
		o.MinCount = DefaultMinCount
	}
	if o.District == "" {
		o.District = DefaultDistrict
	}
	if o.Force == "" {
		o.Force = DefaultForce
	}
	if o.MinPostcodeUnits < DefaultMinPostcodeUnits {
		return fmt.Errorf("%w: a map point must stand for at least %d postcode units (police.uk's eight addresses); %d is below that",
			ErrBadOptions, DefaultMinPostcodeUnits, o.MinPostcodeUnits)
	}
	if o.MinCount < 3 {
		return fmt.Errorf("%w: the minimum published count must be at least 3 (with 2, a withheld count could only be 1); got %d",
			ErrBadOptions, o.MinCount)
	}
	return nil
}

// Summary reports what Rebuild produced.
type Summary struct {
	// Candidates are police.uk's distinct points inside the district;
	// MapPoints the ones that survived; PostcodeUnits the district's
	// postcode units they stand for.
	Candidates, MapPoints, PostcodeUnits int
	// FewestUnits is the smallest number of units any map point stands for.
	FewestUnits int
	// PublicCrimes are the rows of open.crimes.
	PublicCrimes int
	// Withheld are sensitive incidents inside the district, counted in
	// area_counts only.
	Withheld int
	// NoLocation are the rows of open.crimes_no_location; Unmapped the
	// ones among them that were inside the district but had no map point
	// to go to.
	NoLocation, Unmapped int
	// OutsideDistrict are located incidents outside the district, left out.
	OutsideDistrict int
	// AreaCells are the rows of open.area_counts; Suppressed the ones
	// withheld, of which TotalsWithheld are district totals withheld so
	// that ward counts cannot be worked out.
	AreaCells, Suppressed, TotalsWithheld int
	// Months are the months the data covers, oldest first.
	Months   []time.Time
	Duration time.Duration
	// Notes say what was missing, e.g. no district boundary.
	Notes []string
}

// method is the rule in words, stored in open.meta.
const method = "Map points: police.uk's distinct street points inside the district; each postcode unit of the district " +
	"(Code-Point Open, one unit counted as one address) belongs to its nearest point; while a point has fewer than K units, " +
	"the point with the fewest is removed and its units go to their nearest remaining point. Every incident inside the district " +
	"is moved to its nearest map point. Months only. Sensitive categories only in area_counts. Counts from 1 to min_count-1 are " +
	"withheld, and a district total too unless the withheld ward counts it covers stay undetermined."

// publicZone is the zone a public month is taken in. police.uk's months
// are stored from midnight UTC on the 1st, which is the 1st in London too;
// partners' exact times are UK local time, so an incident at 00:30 BST on
// 1 April (23:30 UTC on 31 March) belongs to April.
const publicZone = "Europe/London"

// rebuildLock serialises rebuilds; any constant not used elsewhere works.
const rebuildLock int64 = 0x416e6f6e526562 // "AnonReb"

// Rebuild rebuilds every table of the open schema from the precise data,
// in one transaction, so readers see the old public data or the new,
// never a mix. It is idempotent: run twice on the same data it writes the
// same rows. It is meant to run after every import.
func Rebuild(ctx context.Context, pool *pgxpool.Pool, opts Options) (Summary, error) {
	// A setting left zero keeps what the last rebuild used (open.meta), so
	// the automatic rebuilds after imports and partner changes never undo
	// an operator's stricter K or minimum count; the defaults apply only
	// when there has been no rebuild yet.
	// Settings given are checked first (the zero ones as defaults).
	probe := opts
	if err := probe.fill(); err != nil {
		return Summary{}, err
	}
	if opts.MinPostcodeUnits == 0 || opts.MinCount == 0 || opts.Force == "" {
		var units, count int32
		var force string
		err := pool.QueryRow(ctx, `SELECT min_postcode_units, min_count, force FROM open.meta`).Scan(&units, &count, &force)
		switch {
		case err == nil:
			if opts.MinPostcodeUnits == 0 {
				opts.MinPostcodeUnits = int(units)
			}
			if opts.MinCount == 0 {
				opts.MinCount = int(count)
			}
			if opts.Force == "" {
				opts.Force = force
			}
		case !errors.Is(err, pgx.ErrNoRows):
			return Summary{}, fmt.Errorf("anon rebuild: previous settings: %w", err)
		}
	}
	if err := opts.fill(); err != nil {
		return Summary{}, err
	}
	start := time.Now()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return Summary{}, fmt.Errorf("anon rebuild: %w", err)
	}
	defer conn.Release()
	// A session lock, taken before the transaction, so the transaction's
	// snapshot starts after the previous rebuild has committed.
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, rebuildLock); err != nil {
		return Summary{}, fmt.Errorf("anon rebuild: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, rebuildLock) //nolint:errcheck // released with the session anyway

	var sum Summary
	for attempt := 0; ; attempt++ {
		sum = Summary{}
		// Repeatable read: every statement sees the same incidents, so the
		// map points, the crimes and the counts agree with each other.
		err = pgx.BeginTxFunc(ctx, conn, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
			return rebuild(ctx, tx, opts, &sum, start)
		})
		var pe *pgconn.PgError
		if err != nil && errors.As(err, &pe) && pe.Code == "40001" && attempt < 3 {
			continue // an import changed data_version under us: start again
		}
		break
	}
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, fmt.Errorf("anon rebuild: %w", err)
	}
	return sum, nil
}

const haveDistrictSQL = `SELECT EXISTS (SELECT 1 FROM boundaries WHERE kind = 'district' AND code = $1)`

// candidatesSQL lists police.uk's distinct points inside the district, at
// police.uk's precision (micro-degrees), with the street name most often
// given for each, and the point in British National Grid.
const candidatesSQL = `
WITH d AS (SELECT geom_bng FROM boundaries WHERE kind = 'district' AND code = $1),
pts AS (
	SELECT round(ST_X(i.geom) * 1e6)::integer AS lon_e6, round(ST_Y(i.geom) * 1e6)::integer AS lat_e6,
	       mode() WITHIN GROUP (ORDER BY i.location_text) AS location
	FROM incidents i, d
	WHERE i.source = $2 AND NOT i.synthetic AND i.geom_bng IS NOT NULL AND ST_Intersects(i.geom_bng, d.geom_bng)
	GROUP BY 1, 2
)
SELECT lon_e6, lat_e6, location, ST_X(p.g), ST_Y(p.g)
FROM pts
CROSS JOIN LATERAL (SELECT ST_Transform(ST_SetSRID(ST_MakePoint((lon_e6 / 1e6)::float8, (lat_e6 / 1e6)::float8), 4326), 27700) AS g) p
ORDER BY lon_e6, lat_e6`

const unitsSQL = `SELECT ST_X(geom_bng), ST_Y(geom_bng) FROM postcodes WHERE district_code = $1 ORDER BY postcode`

const registerPointsSQL = `INSERT INTO map_point_ids (lon_e6, lat_e6)
SELECT * FROM unnest($1::integer[], $2::integer[]) ORDER BY 1, 2
ON CONFLICT (lon_e6, lat_e6) DO NOTHING`

// clearSQL empties the open schema. DELETE, not TRUNCATE: TRUNCATE would
// lock readers out until commit, DELETE lets them read the old rows.
const clearSQL = `DELETE FROM open.crimes; DELETE FROM open.crimes_no_location; DELETE FROM open.area_counts;
DELETE FROM open.map_points; DELETE FROM open.categories; DELETE FROM open.meta`

// wardsSQL keeps the wards of the district (those whose inner point lies
// in it), for map points and area counts.
const wardsSQL = `CREATE TEMP TABLE anon_wards ON COMMIT DROP AS
SELECT w.code, w.name, w.geom_bng
FROM boundaries w JOIN boundaries d ON d.kind = 'district' AND d.code = $1
WHERE w.kind = 'ward' AND ST_Intersects(ST_PointOnSurface(w.geom_bng), d.geom_bng)`

// insertMapPointsSQL writes the map points with their stable ids.
const insertMapPointsSQL = `INSERT INTO open.map_points (id, street, postcode_units, geom, geom_bng, geom_web)
SELECT r.id, v.street, v.units, p.g, ST_Transform(p.g, 27700), ST_Transform(p.g, 3857)
FROM unnest($1::integer[], $2::integer[], $3::text[], $4::integer[]) AS v(lon_e6, lat_e6, street, units)
JOIN map_point_ids r USING (lon_e6, lat_e6)
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint((v.lon_e6 / 1e6)::float8, (v.lat_e6 / 1e6)::float8), 4326) AS g) p`

// wardOfMapPointsSQL gives each map point the ward it lies in (the first
// by code on a shared edge) and then, for a point on a sliver between the
// generalised outlines, the nearest ward. Wards drive the outer loop, so
// PostGIS prepares each outline once and finds its points by index.
const wardOfMapPointsSQL = `UPDATE open.map_points m SET ward_code = x.code
FROM (SELECT DISTINCT ON (mp.id) mp.id, w.code
      FROM anon_wards w JOIN open.map_points mp ON ST_Intersects(w.geom_bng, mp.geom_bng)
      ORDER BY mp.id, w.code) x
WHERE x.id = m.id;
UPDATE open.map_points m SET ward_code = (
	SELECT aw.code FROM anon_wards aw ORDER BY ST_Distance(aw.geom_bng, m.geom_bng), aw.code LIMIT 1)
WHERE m.ward_code = '' AND EXISTS (SELECT 1 FROM anon_wards)`

// snapSQL moves every incident inside the district to its nearest map
// point, by month. From here on nothing reads the incident's point.
// Synthetic rows (hotspot synth, migrations/0004) are made up for tests
// and never published; every statement here leaves them out.
const snapSQL = `CREATE TEMP TABLE anon_snapped ON COMMIT DROP AS
SELECT i.source, i.source_id, i.category, i.outcome, i.falls_within,
       date_trunc('month', i.occurred_from AT TIME ZONE '` + publicZone + `')::date AS month,
       mp.id AS map_point_id, mp.ward_code
FROM incidents i
JOIN boundaries d ON d.kind = 'district' AND d.code = $1 AND ST_Intersects(i.geom_bng, d.geom_bng)
LEFT JOIN LATERAL (
	SELECT m.id, m.ward_code FROM open.map_points m ORDER BY m.geom_bng <-> i.geom_bng LIMIT 1
) mp ON true
WHERE NOT i.synthetic`

const countLocatedSQL = `SELECT count(*) FROM incidents WHERE geom IS NOT NULL AND NOT synthetic`

// categoriesSQL lists every category the public data knows: police.uk's,
// the sensitive ones, and any other found in the incidents.
const categoriesSQL = `INSERT INTO open.categories (slug, name, sensitive)
SELECT s.slug, coalesce(c.name, initcap(replace(s.slug, '-', ' '))), sc.slug IS NOT NULL
FROM (SELECT slug FROM categories UNION SELECT slug FROM sensitive_categories
      UNION SELECT DISTINCT category FROM anon_snapped UNION SELECT DISTINCT category FROM incidents WHERE geom IS NULL AND NOT synthetic) s
LEFT JOIN categories c ON c.slug = s.slug
LEFT JOIN sensitive_categories sc ON sc.slug = s.slug`

// publicID is the persistent_id a row may carry: police.uk's own Crime ID
// (64 hex digits), which police.uk publishes; nothing for anti-social
// behaviour (whose id is ours) or any other source.
const publicID = `CASE WHEN x.source = '` + sourcePoliceUK + `' AND x.source_id ~ '^[0-9a-f]{64}$' THEN x.source_id ELSE '' END`

// publicOutcome passes police.uk's outcome (from police.uk's fixed list)
// and nothing from other sources, whose text is free.
const publicOutcome = `CASE WHEN x.source = '` + sourcePoliceUK + `' THEN x.outcome ELSE '' END`

// Ids are numbered in an order that says nothing about the source: by
// month, place and category, then by a hash of the source's identity.
const insertCrimesSQL = `INSERT INTO open.crimes (id, category, month, map_point_id, outcome, persistent_id)
SELECT row_number() OVER (ORDER BY x.month, x.map_point_id, x.category, md5(x.source || ':' || x.source_id)),
       x.category, x.month, x.map_point_id, ` + publicOutcome + `, ` + publicID + `
FROM anon_snapped x
WHERE x.map_point_id IS NOT NULL
  AND x.category IN (SELECT slug FROM open.categories WHERE NOT sensitive)`

// forceOf turns police.uk's "Falls within" ("Leicestershire Police") into
// police.uk's force id ("leicestershire").
const forceOf = `coalesce(nullif(trim(both '-' from regexp_replace(lower(regexp_replace(x.falls_within,
	'\s+(police service|police|constabulary)$', '', 'i')), '[^a-z0-9]+', '-', 'g')), ''), $1)`

// insertNoLocationSQL files, by force and month, the incidents without a
// location and those in the district that have no map point to go to.
// Ids follow on from open.crimes' so the two never share one.
const insertNoLocationSQL = `INSERT INTO open.crimes_no_location (id, category, month, force, outcome, persistent_id)
SELECT $2::bigint + row_number() OVER (ORDER BY y.month, y.force, y.category, y.h), y.category, y.month, y.force, y.outcome, y.persistent_id
FROM (
	SELECT x.category, x.month, ` + forceOf + ` AS force, ` + publicOutcome + ` AS outcome, ` + publicID + ` AS persistent_id,
	       md5(x.source || ':' || x.source_id) AS h
	FROM (
		SELECT source, source_id, category, outcome, falls_within,
		       date_trunc('month', occurred_from AT TIME ZONE '` + publicZone + `')::date AS month
		FROM incidents WHERE geom IS NULL AND NOT synthetic
		UNION ALL
		SELECT source, source_id, category, outcome, '', month FROM anon_snapped WHERE map_point_id IS NULL
	) x
	WHERE x.category IN (SELECT slug FROM open.categories WHERE NOT sensitive)
) y`

const countSnappedSQL = `SELECT count(*) FILTER (WHERE category IN (SELECT slug FROM open.categories WHERE sensitive)),
	count(*) FILTER (WHERE map_point_id IS NULL AND category IN (SELECT slug FROM open.categories WHERE NOT sensitive))
FROM anon_snapped`

// monthsSQL lists the months the data covers: any month with an incident.
const monthsSQL = `SELECT DISTINCT date_trunc('month', occurred_from AT TIME ZONE '` + publicZone + `')::date FROM incidents WHERE NOT synthetic ORDER BY 1`

const districtNameSQL = `SELECT name FROM boundaries WHERE kind = 'district' AND code = $1`

const wardListSQL = `SELECT code, name FROM anon_wards ORDER BY code`

const categoryListSQL = `SELECT slug FROM open.categories ORDER BY slug`

const snappedCountsSQL = `SELECT coalesce(ward_code, ''), month, category, count(*) FROM anon_snapped GROUP BY 1, 2, 3`

const insertMetaSQL = `INSERT INTO open.meta (built_at, build_ms, last_updated, months, min_postcode_units, min_count, force, method)
VALUES (now(), $1, $2, $3, $4, $5, $6, $7)`

const bumpDataVersionSQL = `UPDATE data_version SET version = version + 1, changed_at = now()`

func rebuild(ctx context.Context, tx pgx.Tx, opts Options, sum *Summary, start time.Time) error {
	var haveDistrict bool
	if err := tx.QueryRow(ctx, haveDistrictSQL, opts.District).Scan(&haveDistrict); err != nil {
		return err
	}
	if !haveDistrict {
		sum.Notes = append(sum.Notes, fmt.Sprintf("no district boundary %s loaded (hotspot import boundaries --kind district): no map points, and no incident is placed in the district", opts.District))
	}
	if _, err := tx.Exec(ctx, clearSQL); err != nil {
		return fmt.Errorf("clear: %w", err)
	}
	if _, err := tx.Exec(ctx, wardsSQL, opts.District); err != nil {
		return fmt.Errorf("wards: %w", err)
	}
	if err := buildMapPoints(ctx, tx, opts, sum); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, snapSQL, opts.District); err != nil {
		return fmt.Errorf("snap: %w", err)
	}
	if _, err := tx.Exec(ctx, categoriesSQL); err != nil {
		return fmt.Errorf("categories: %w", err)
	}
	tag, err := tx.Exec(ctx, insertCrimesSQL)
	if err != nil {
		return fmt.Errorf("crimes: %w", err)
	}
	sum.PublicCrimes = int(tag.RowsAffected())
	if tag, err = tx.Exec(ctx, insertNoLocationSQL, opts.Force, int64(sum.PublicCrimes)); err != nil {
		return fmt.Errorf("crimes without location: %w", err)
	}
	sum.NoLocation = int(tag.RowsAffected())
	if err := tx.QueryRow(ctx, countSnappedSQL).Scan(&sum.Withheld, &sum.Unmapped); err != nil {
		return err
	}
	var located, inDistrict int
	if err := tx.QueryRow(ctx, countLocatedSQL).Scan(&located); err != nil {
		return err
	}
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM anon_snapped`).Scan(&inDistrict); err != nil {
		return err
	}
	sum.OutsideDistrict = located - inDistrict
	if err := buildAreaCounts(ctx, tx, opts, sum); err != nil {
		return err
	}
	var last *time.Time
	if n := len(sum.Months); n > 0 {
		last = &sum.Months[n-1]
	}
	ms := time.Since(start).Milliseconds()
	if _, err := tx.Exec(ctx, insertMetaSQL, int32(ms), last, sum.Months, opts.MinPostcodeUnits, opts.MinCount, opts.Force, method); err != nil {
		return fmt.Errorf("meta: %w", err)
	}
	_, err = tx.Exec(ctx, bumpDataVersionSQL)
	return err
}

// buildMapPoints chooses the map points (ChooseMapPoints) and writes them.
func buildMapPoints(ctx context.Context, tx pgx.Tx, opts Options, sum *Summary) error {
	type cand struct {
		lonE6, latE6 int32
		street       string
	}
	var cands []cand
	var pts []Candidate
	rows, err := tx.Query(ctx, candidatesSQL, opts.District, sourcePoliceUK)
	if err != nil {
		return fmt.Errorf("candidates: %w", err)
	}
	for rows.Next() {
		var c cand
		var p Candidate
		if err := rows.Scan(&c.lonE6, &c.latE6, &c.street, &p.X, &p.Y); err != nil {
			rows.Close()
			return err
		}
		c.street = streetName(c.street)
		cands = append(cands, c)
		pts = append(pts, p)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("candidates: %w", err)
	}
	var units []Unit
	rows, err = tx.Query(ctx, unitsSQL, opts.District)
	if err != nil {
		return fmt.Errorf("postcode units: %w", err)
	}
	for rows.Next() {
		var u Unit
		if err := rows.Scan(&u.X, &u.Y); err != nil {
			rows.Close()
			return err
		}
		units = append(units, u)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("postcode units: %w", err)
	}
	sum.Candidates, sum.PostcodeUnits = len(cands), len(units)
	if len(units) == 0 {
		sum.Notes = append(sum.Notes, fmt.Sprintf("no postcodes of district %s loaded (hotspot import postcodes): no map points", opts.District))
	} else if len(cands) == 0 {
		sum.Notes = append(sum.Notes, "no police.uk points inside the district: no map points")
	}
	chosen := ChooseMapPoints(pts, units, opts.MinPostcodeUnits)
	sum.MapPoints = len(chosen)
	if len(chosen) == 0 {
		return nil
	}
	lons := make([]int32, len(chosen))
	lats := make([]int32, len(chosen))
	streets := make([]string, len(chosen))
	counts := make([]int32, len(chosen))
	sum.FewestUnits = chosen[0].Units
	for i, mp := range chosen {
		c := cands[mp.Candidate]
		lons[i], lats[i], streets[i], counts[i] = c.lonE6, c.latE6, c.street, int32(mp.Units)
		sum.FewestUnits = min(sum.FewestUnits, mp.Units)
	}
	if _, err := tx.Exec(ctx, registerPointsSQL, lons, lats); err != nil {
		return fmt.Errorf("map point ids: %w", err)
	}
	if _, err := tx.Exec(ctx, insertMapPointsSQL, lons, lats, streets, counts); err != nil {
		return fmt.Errorf("map points: %w", err)
	}
	if _, err := tx.Exec(ctx, wardOfMapPointsSQL); err != nil {
		return fmt.Errorf("wards of map points: %w", err)
	}
	return nil
}

// streetName takes police.uk's "On or near Station Road" to "Station
// Road"; the API puts the prefix back, as police.uk does.
func streetName(location string) string {
	s := strings.TrimSpace(location)
	if len(s) >= len("on or near ") && strings.EqualFold(s[:len("on or near ")], "on or near ") {
		s = strings.TrimSpace(s[len("on or near "):])
	}
	if s == "" {
		return "an anonymous map point"
	}
	return s
}

// buildAreaCounts counts the district's incidents (every category) by
// month for the district and for each ward of its map point, applies
// Suppress to each (month, category) group, and writes the cells.
func buildAreaCounts(ctx context.Context, tx pgx.Tx, opts Options, sum *Summary) error {
	rows, err := tx.Query(ctx, monthsSQL)
	if err != nil {
		return err
	}
	sum.Months, err = pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return fmt.Errorf("months: %w", err)
	}
	var districtName string
	if err := tx.QueryRow(ctx, districtNameSQL, opts.District).Scan(&districtName); errors.Is(err, pgx.ErrNoRows) {
		return nil // without the district there is nothing to count
	} else if err != nil {
		return err
	}
	type area struct{ code, name string }
	rows, err = tx.Query(ctx, wardListSQL)
	if err != nil {
		return err
	}
	wards, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (area, error) {
		var a area
		err := r.Scan(&a.code, &a.name)
		return a, err
	})
	if err != nil {
		return fmt.Errorf("wards: %w", err)
	}
	rows, err = tx.Query(ctx, categoryListSQL)
	if err != nil {
		return err
	}
	cats, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return fmt.Errorf("categories: %w", err)
	}
	type key struct {
		ward     string
		month    time.Time
		category string
	}
	const districtKey = "\x00district" // not a ward code
	counts := map[key]int{}
	rows, err = tx.Query(ctx, snappedCountsSQL)
	if err != nil {
		return err
	}
	for rows.Next() {
		var k key
		var n int
		if err := rows.Scan(&k.ward, &k.month, &k.category, &n); err != nil {
			rows.Close()
			return err
		}
		// Every incident counts in the district; one with a map point also
		// in its map point's ward ("" when no wards are loaded).
		counts[k] += n
		counts[key{districtKey, k.month, k.category}] += n
	}
	if err := rows.Err(); err != nil {
		return err
	}
	var out [][]any
	for _, m := range sum.Months {
		for _, c := range cats {
			g := Group{Total: counts[key{districtKey, m, c}], Parts: make([]int, len(wards))}
			for i, w := range wards {
				g.Parts[i] = counts[key{w.code, m, c}]
			}
			pub := Suppress(g, opts.MinCount)
			out = append(out, cell("district", opts.District, districtName, m, c, g.Total, pub.Total))
			if !pub.Total {
				sum.Suppressed++
				if g.Total >= opts.MinCount {
					sum.TotalsWithheld++
				}
			}
			for i, w := range wards {
				out = append(out, cell("ward", w.code, w.name, m, c, g.Parts[i], pub.Parts[i]))
				if !pub.Parts[i] {
					sum.Suppressed++
				}
			}
		}
	}
	n, err := tx.CopyFrom(ctx, pgx.Identifier{"open", "area_counts"},
		[]string{"area_kind", "area_code", "area_name", "month", "category", "count", "suppressed"}, pgx.CopyFromRows(out))
	if err != nil {
		return fmt.Errorf("area counts: %w", err)
	}
	sum.AreaCells = int(n)
	return nil
}

func cell(kind, code, name string, month time.Time, category string, count int, published bool) []any {
	if !published {
		return []any{kind, code, name, month, category, nil, true}
	}
	return []any{kind, code, name, month, category, int32(count), false}
}
