package geocode

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Gazetteer sources: the gazetteer.source of each loader's rows. A load
// replaces every row of its source in one transaction.
const (
	SourceCities500   = "geonames-cities500"
	SourcePostal      = "geonames-postal"
	SourceNamedPlaces = "places"
	SourceLandmarks   = "landmarks"
	SourcePoliceUK    = "police-uk"
	SourceLLPG        = "llpg"
	SourceLLPGStreets = "llpg-streets"
)

// The GeoNames files in DATA/places.
const (
	Cities500File = "geonames-cities500-harborough-area.tsv"
	PostalFile    = "geonames-postal-LE.tsv"
)

// gazRow is one row to write to the gazetteer.
type gazRow struct {
	kind, ref, name, locality, postcode, house, lsoa string
	points                                           int
	weight                                           float64
	// Either lon/lat (srid 4326) or easting/northing (27700).
	x, y float64
	srid int
}

var gazColumns = []string{"kind", "source", "source_ref", "name", "name_norm", "locality", "locality_norm",
	"postcode", "house", "lsoa_code", "points", "weight", "geom_bng", "geom"}

const createGazStaging = `CREATE TEMP TABLE staging_gazetteer (
	kind text, source_ref text, name text, locality text, postcode text, house text, lsoa text,
	points integer, weight real, x float8, y float8, srid integer) ON COMMIT DROP`

// insertGaz writes staged rows with both projections, the point as
// given transformed exactly by PostGIS.
const insertGaz = `INSERT INTO gazetteer (kind, source, source_ref, name, name_norm, locality, locality_norm,
	postcode, house, lsoa_code, points, weight, geom_bng, geom)
SELECT kind, $1, source_ref, name, name_norm, locality, locality_norm, postcode, house, lsoa, points, weight,
	CASE WHEN srid = 27700 THEN p ELSE ST_Transform(p, 27700) END,
	CASE WHEN srid = 4326 THEN p ELSE ST_Transform(p, 4326) END
FROM (SELECT s.*, n.name_norm, n.locality_norm, ST_SetSRID(ST_MakePoint(x, y), srid) AS p
	FROM staging_gazetteer s JOIN pg_temp.gaz_norms n USING (source_ref)) s
ON CONFLICT (source, source_ref) DO NOTHING`

const bumpGazVersion = `UPDATE gazetteer_version SET version = version + 1, changed_at = now()`

// replaceSource replaces every gazetteer row of source with rows, in one
// transaction, and returns how many were written.
func replaceSource(ctx context.Context, pool *pgxpool.Pool, source string, rows []gazRow) (int, error) {
	var n int
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		n, err = replaceSourceTx(ctx, tx, source, rows)
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("gazetteer %s: %w", source, err)
	}
	return n, nil
}

func replaceSourceTx(ctx context.Context, tx pgx.Tx, source string, rows []gazRow) (int, error) {
	if _, err := tx.Exec(ctx, `DELETE FROM gazetteer WHERE source = $1`, source); err != nil {
		return 0, err
	}
	// A transaction may replace two sources (llpg and llpg-streets).
	if _, err := tx.Exec(ctx, `DROP TABLE IF EXISTS pg_temp.staging_gazetteer, pg_temp.gaz_norms`); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, createGazStaging); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, `CREATE TEMP TABLE gaz_norms (source_ref text PRIMARY KEY, name_norm text, locality_norm text) ON COMMIT DROP`); err != nil {
		return 0, err
	}
	seen := map[string]bool{}
	var staged, norms [][]any
	for _, r := range rows {
		nn := NormaliseName(r.name)
		if nn == "" || seen[r.ref] {
			continue
		}
		seen[r.ref] = true
		w := r.weight
		if w <= 0 || w > 1 {
			w = 1
		}
		p := r.points
		if p <= 0 {
			p = 1
		}
		staged = append(staged, []any{r.kind, r.ref, r.name, r.locality, r.postcode, r.house, r.lsoa, int32(p), float32(w), r.x, r.y, int32(r.srid)})
		norms = append(norms, []any{r.ref, nn, NormaliseName(r.locality)})
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"staging_gazetteer"},
		[]string{"kind", "source_ref", "name", "locality", "postcode", "house", "lsoa", "points", "weight", "x", "y", "srid"},
		pgx.CopyFromRows(staged)); err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"gaz_norms"}, []string{"source_ref", "name_norm", "locality_norm"}, pgx.CopyFromRows(norms)); err != nil {
		return 0, err
	}
	tag, err := tx.Exec(ctx, insertGaz, source)
	if err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, bumpGazVersion); err != nil {
		return 0, err
	}
	return int(tag.RowsAffected()), nil
}

// LoadGeoNames loads both GeoNames files of DATA/places (see
// LoadGeoNamesFile) and returns the rows written per source.
func LoadGeoNames(ctx context.Context, pool *pgxpool.Pool, dir string) (map[string]int, error) {
	out := map[string]int{}
	for _, f := range []string{Cities500File, PostalFile} {
		src, n, err := LoadGeoNamesFile(ctx, pool, filepath.Join(dir, f))
		if err != nil {
			return nil, err
		}
		out[src] = n
	}
	return out, nil
}

// ErrNotGeoNames is returned for a file that is neither GeoNames layout.
var ErrNotGeoNames = errors.New("not a GeoNames cities or postal-code file")

// LoadGeoNamesFile loads one GeoNames file as settlements, recognising it
// by its header: the standard 19-column layout with a header row
// (geonameid, name, ..., latitude, longitude: cities500, weight 1) or the
// postal-code layout (postal_code, place_name, ..., latitude, longitude,
// accuracy: weight 0.8 where GeoNames places the name itself, accuracy
// 4, and 0.5 where the point is a shared outcode centre, accuracy 3).
// It replaces the rows of that source and returns the source and count.
func LoadGeoNamesFile(ctx context.Context, pool *pgxpool.Pool, path string) (string, int, error) {
	recs, head, err := readTSV(path)
	if err != nil {
		return "", 0, err
	}
	has := func(c string) bool {
		for _, h := range head {
			if h == c {
				return true
			}
		}
		return false
	}
	base := filepath.Base(path)
	var rows []gazRow
	var source string
	switch {
	case has("geonameid") && has("name") && has("latitude") && has("longitude"):
		source = SourceCities500
		for i, rec := range recs {
			name := rec["name"]
			la, err1 := strconv.ParseFloat(rec["latitude"], 64)
			lo, err2 := strconv.ParseFloat(rec["longitude"], 64)
			if name == "" || rec["geonameid"] == "" || err1 != nil || err2 != nil || math.Abs(la) > 90 || math.Abs(lo) > 180 {
				return "", 0, fmt.Errorf("%s line %d: bad geonameid, name or coordinates", base, i+2)
			}
			rows = append(rows, gazRow{kind: "place", ref: rec["geonameid"], name: name, locality: name, x: lo, y: la, srid: 4326, weight: 1})
		}
	case has("postal_code") && has("place_name") && has("latitude") && has("longitude"):
		source = SourcePostal
		for i, rec := range recs {
			name := rec["place_name"]
			la, err1 := strconv.ParseFloat(rec["latitude"], 64)
			lo, err2 := strconv.ParseFloat(rec["longitude"], 64)
			if name == "" || err1 != nil || err2 != nil || math.Abs(la) > 90 || math.Abs(lo) > 180 {
				return "", 0, fmt.Errorf("%s line %d: bad name or coordinates", base, i+2)
			}
			w := 0.5
			if rec["accuracy"] == "4" {
				w = 0.8
			}
			rows = append(rows, gazRow{kind: "place", ref: rec["postal_code"] + ":" + name, name: name, locality: name,
				postcode: rec["postal_code"], x: lo, y: la, srid: 4326, weight: w})
		}
	default:
		return "", 0, fmt.Errorf("%s: %w (want a header with geonameid, name, latitude, longitude or postal_code, place_name, latitude, longitude)", base, ErrNotGeoNames)
	}
	n, err := replaceSource(ctx, pool, source, rows)
	return source, n, err
}

// readTSV reads a tab-separated file with a header row into maps.
func readTSV(path string) ([]map[string]string, []string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
	}
	for i := range head {
		head[i] = strings.TrimSpace(strings.TrimPrefix(head[i], "\ufeff"))
	}
	var out []map[string]string
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return out, head, nil
		}
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", filepath.Base(path), err)
		}
		m := map[string]string{}
		for i, h := range head {
			if i < len(rec) {
				m[strings.TrimSpace(h)] = strings.TrimSpace(rec[i])
			}
		}
		out = append(out, m)
	}
}

// namedPlacesSQL reads the plan's named places (geo/places) as points
// inside their outlines: towns and villages are settlements, the rest
// (town centre, park, business park) landmarks. The district is left out.
const namedPlacesSQL = `SELECT slug, name, kind, ST_X(p), ST_Y(p)
FROM (SELECT slug, name, kind, ST_PointOnSurface(geom_bng) AS p FROM places WHERE kind <> 'district') s ORDER BY slug`

// LoadNamedPlaces copies the plan's named places (the places table) and
// the built-in landmarks (Landmarks) into the gazetteer. It returns the
// rows written per source.
func LoadNamedPlaces(ctx context.Context, pool *pgxpool.Pool) (map[string]int, error) {
	out := map[string]int{}
	rs, err := pool.Query(ctx, namedPlacesSQL)
	if err != nil {
		return nil, err
	}
	var rows []gazRow
	for rs.Next() {
		var slug, name, kind string
		var e, n float64
		if err := rs.Scan(&slug, &name, &kind, &e, &n); err != nil {
			rs.Close()
			return nil, err
		}
		gk := "landmark"
		loc := ""
		if kind == "town" || kind == "village" {
			gk, loc = "place", name
		}
		rows = append(rows, gazRow{kind: gk, ref: slug, name: name, locality: loc, x: e, y: n, srid: 27700, weight: 1})
		if kind == "town-centre" {
			// "Town Centre, Market Harborough": the town is the locality.
			rows = append(rows, gazRow{kind: gk, ref: slug + "#town-centre", name: "Town Centre", locality: strings.TrimSuffix(name, " Town Centre"),
				x: e, y: n, srid: 27700, weight: 1})
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if out[SourceNamedPlaces], err = replaceSource(ctx, pool, SourceNamedPlaces, rows); err != nil {
		return nil, err
	}
	rows = rows[:0]
	for _, l := range Landmarks() {
		kind := l.Kind
		if kind == "" {
			kind = "landmark"
		}
		for i, name := range l.Names {
			rows = append(rows, gazRow{kind: kind, ref: l.Ref + "#" + strconv.Itoa(i), name: name, locality: l.Locality,
				x: l.X, y: l.Y, srid: l.SRID, weight: l.Weight})
		}
	}
	if out[SourceLandmarks], err = replaceSource(ctx, pool, SourceLandmarks, rows); err != nil {
		return nil, err
	}
	return out, nil
}

// learnStreetsSQL turns police.uk "On or near <name>" locations into
// gazetteer streets: the distinct map points of each name in Harborough
// District's LSOAs are clustered (points of one name within 1 km are one
// street; 250 m for police.uk's generic names such as "Supermarket", so
// each town's supermarket stays apart), and each cluster becomes one
// entry at its member point nearest the cluster's centroid (a point on
// the street, not between two arms of it), labelled with the nearest
// settlement. $1, when not null, limits learning to those import batch
// files (to keep test months out of the training set).
const learnStreetsSQL = `WITH pts AS (
	SELECT substr(location_text, 12) AS name, geom_bng, lsoa_code
	FROM incidents
	WHERE source = 'police-uk' AND location_text LIKE 'On or near %' AND geom_bng IS NOT NULL
	  AND lsoa_name LIKE 'Harborough %'
	  AND ($1::text[] IS NULL OR batch_id IN (SELECT id FROM import_batches WHERE file_name = ANY($1)))
), dp AS (
	SELECT name, geom_bng, min(lsoa_code) AS lsoa, count(*) AS n FROM pts
	WHERE length(name) > 1 GROUP BY name, geom_bng
), cl AS (
	SELECT dp.*, ST_ClusterDBSCAN(geom_bng, eps := CASE WHEN name ~ '^(Supermarket|Parking Area|Petrol Station|Sports/Recreation Area|Park/Open Space|Police Station|Nightclub|Shopping Area|Hospital|Prison|Theatre/Concert Hall|Further/Higher Educational Building|Airport/Airfield|Bus/Coach Station|Railway Station|Pedestrian Subway)$' THEN 250 ELSE 1000 END, minpoints := 1)
		OVER (PARTITION BY name) AS cid
	FROM dp
), st AS (
	SELECT name, cid, sum(n)::int AS points, ST_Centroid(ST_Collect(geom_bng)) AS c,
		array_agg(geom_bng) AS g, mode() WITHIN GROUP (ORDER BY lsoa) AS lsoa
	FROM cl GROUP BY name, cid
)
SELECT st.name, st.points, st.lsoa, ST_X(r.p), ST_Y(r.p), coalesce(t.name, '')
FROM st
CROSS JOIN LATERAL (SELECT p FROM unnest(st.g) AS p ORDER BY p <-> st.c LIMIT 1) r
LEFT JOIN LATERAL (SELECT name FROM gazetteer
	WHERE kind = 'place' AND source IN ('geonames-cities500', 'places')
	ORDER BY geom_bng <-> r.p LIMIT 1) t ON true
ORDER BY st.name, ST_X(r.p), ST_Y(r.p)`

// LearnStreets (re)builds the police.uk streets from the incidents
// already imported; files, when not empty, limits it to those import
// files (by name). Load the settlements first: they label the streets.
func LearnStreets(ctx context.Context, pool *pgxpool.Pool, files []string) (int, error) {
	var arg any
	if len(files) > 0 {
		arg = files
	}
	rs, err := pool.Query(ctx, learnStreetsSQL, arg)
	if err != nil {
		return 0, fmt.Errorf("learn streets: %w", err)
	}
	var rows []gazRow
	for rs.Next() {
		var r gazRow
		if err := rs.Scan(&r.name, &r.points, &r.lsoa, &r.x, &r.y, &r.locality); err != nil {
			rs.Close()
			return 0, err
		}
		r.kind, r.srid = "street", 27700
		r.ref = fmt.Sprintf("%s@%.0f,%.0f", r.name, r.x, r.y)
		r.weight = 1
		if strings.Contains(r.name, "/") || genericPOI[NormaliseName(r.name)] {
			r.weight = 0.9
		}
		rows = append(rows, r)
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return 0, fmt.Errorf("learn streets: %w", err)
	}
	return replaceSource(ctx, pool, SourcePoliceUK, rows)
}

// genericPOI are police.uk's names for kinds of place rather than
// places; supermarket brands in a location text are matched to the
// nearby "Supermarket".
var genericPOI = map[string]bool{
	"supermarket": true, "parking area": true, "petrol station": true, "nightclub": true,
	"shopping area": true, "hospital": true, "prison": true, "police station": true,
}

var supermarketBrands = map[string]bool{
	"tesco": true, "tesco express": true, "tescos": true, "sainsburys": true, "sainsbury": true,
	"asda": true, "morrisons": true, "aldi": true, "lidl": true, "co op": true, "coop": true,
	"the co op": true, "waitrose": true, "marks and spencer": true, "m and s": true, "iceland": true,
	"spar": true, "one stop": true, "budgens": true, "londis": true, "farmfoods": true,
}

// AddressSummary reports an LLPG address-point load.
type AddressSummary struct {
	Read, Loaded int
	// Streets is how many streets the address points gave (source
	// "llpg-streets").
	Streets int
	// Rejected lists the rows not loaded, with line numbers and reasons.
	Rejected []RowError
}

// RowError is one rejected input row.
type RowError struct {
	Line   int
	Reason string
}

func (e RowError) Error() string { return fmt.Sprintf("line %d: %s", e.Line, e.Reason) }

// ErrNotLLPG is returned for a CSV without the LLPG columns.
var ErrNotLLPG = errors.New("not an address-point CSV")

// llpgColumns are the names accepted for each column (case and spaces
// ignored), the first being the documented one.
var llpgColumns = map[string][]string{
	"uprn":     {"uprn"},
	"address":  {"address", "full_address", "addresstext", "address_text", "addr"},
	"postcode": {"postcode", "post_code", "postcode_locator"},
	"easting":  {"easting", "x_coordinate", "x", "eastings"},
	"northing": {"northing", "y_coordinate", "y", "northings"},
}

// LoadAddressPoints loads a council LLPG address-point CSV (header row;
// columns UPRN, ADDRESS, POSTCODE, EASTING, NORTHING in any order, BNG
// metres) into the gazetteer as source "llpg", replacing any earlier
// load. The first comma-separated part of ADDRESS is the house and
// street ("12 HIGH STREET"), the last the town. Bad rows are reported in
// the summary with their line and reason and not loaded; the good rows
// load in one transaction.
func LoadAddressPoints(ctx context.Context, pool *pgxpool.Pool, r io.Reader) (AddressSummary, error) {
	var sum AddressSummary
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	head, err := cr.Read()
	if err != nil {
		return sum, fmt.Errorf("%w: %v", ErrNotLLPG, err)
	}
	col := map[string]int{}
	for i, h := range head {
		h = strings.ToLower(strings.ReplaceAll(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")), " ", "_"))
		for k, names := range llpgColumns {
			for _, n := range names {
				if h == n {
					if _, dup := col[k]; !dup {
						col[k] = i
					}
				}
			}
		}
	}
	var missing []string
	for _, k := range []string{"uprn", "address", "postcode", "easting", "northing"} {
		if _, ok := col[k]; !ok {
			missing = append(missing, strings.ToUpper(k))
		}
	}
	if len(missing) > 0 {
		return sum, fmt.Errorf("%w: missing columns %s (want UPRN, ADDRESS, POSTCODE, EASTING, NORTHING)", ErrNotLLPG, strings.Join(missing, ", "))
	}
	var rows []gazRow
	seenUPRN := map[string]int{}
	line := 1
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err == nil {
			line, _ = cr.FieldPos(0)
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				sum.Read++
				sum.Rejected = append(sum.Rejected, RowError{Line: pe.Line, Reason: "bad CSV: " + pe.Err.Error()})
				continue
			}
			return sum, err
		}
		sum.Read++
		get := func(k string) string {
			if i := col[k]; i < len(rec) {
				return strings.TrimSpace(rec[i])
			}
			return ""
		}
		row, reason := llpgRow(get("uprn"), get("address"), get("postcode"), get("easting"), get("northing"))
		if first, dup := seenUPRN[row.ref]; reason == "" && dup {
			reason = fmt.Sprintf("UPRN %s repeats line %d", row.ref, first)
		}
		if reason != "" {
			sum.Rejected = append(sum.Rejected, RowError{Line: line, Reason: reason})
			continue
		}
		seenUPRN[row.ref] = line
		rows = append(rows, row)
	}
	streets := llpgStreets(rows)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		n, err := replaceSourceTx(ctx, tx, SourceLLPG, rows)
		if err != nil {
			return err
		}
		sum.Loaded = n
		sum.Streets, err = replaceSourceTx(ctx, tx, SourceLLPGStreets, streets)
		return err
	})
	if err != nil {
		return sum, fmt.Errorf("gazetteer %s: %w", SourceLLPG, err)
	}
	return sum, nil
}

// llpgStreets makes one street entry per street name and town of the
// address points, at the address nearest the mean of the street's
// addresses (a point on the street, as for the police.uk streets): with
// an LLPG loaded every street with an address is known, not only those
// police.uk has named.
func llpgStreets(rows []gazRow) []gazRow {
	type group struct {
		name, town string
		members    []gazRow
	}
	groups := map[string]*group{}
	var order []string
	for _, r := range rows {
		street := r.name
		if m := houseRE.FindStringSubmatch(r.name); m != nil {
			street = m[2]
		}
		key := NormaliseName(street) + "|" + NormaliseName(r.locality)
		g := groups[key]
		if g == nil {
			g = &group{name: street, town: r.locality}
			groups[key] = g
			order = append(order, key)
		}
		g.members = append(g.members, r)
	}
	var out []gazRow
	for _, key := range order {
		g := groups[key]
		var me, mn float64
		for _, r := range g.members {
			me += r.x
			mn += r.y
		}
		me /= float64(len(g.members))
		mn /= float64(len(g.members))
		best := g.members[0]
		for _, r := range g.members[1:] {
			if math.Hypot(r.x-me, r.y-mn) < math.Hypot(best.x-me, best.y-mn) {
				best = r
			}
		}
		out = append(out, gazRow{kind: "street", ref: key, name: g.name, locality: g.town, points: len(g.members),
			x: best.x, y: best.y, srid: 27700, weight: 1})
	}
	return out
}

func llpgRow(uprn, addr, postcode, es, ns string) (gazRow, string) {
	if uprn == "" || len(uprn) > 12 || strings.Trim(uprn, "0123456789") != "" {
		return gazRow{}, "bad UPRN " + strconv.Quote(uprn)
	}
	if addr == "" || len(addr) > MaxTextLen {
		return gazRow{}, "empty or overlong ADDRESS"
	}
	e, err1 := strconv.ParseFloat(es, 64)
	n, err2 := strconv.ParseFloat(ns, 64)
	if err1 != nil || err2 != nil || e <= 0 || e >= 700000 || n <= 0 || n >= 1300000 {
		return gazRow{}, fmt.Sprintf("bad EASTING/NORTHING %q, %q", es, ns)
	}
	pc := ""
	if postcode != "" {
		rs := ParsePostcode(postcode)
		if rs == nil {
			return gazRow{}, "bad POSTCODE " + strconv.Quote(postcode)
		}
		pc = rs[0]
	}
	parts := strings.Split(addr, ",")
	for i := range parts {
		parts[i] = strings.TrimSpace(parts[i])
	}
	first := parts[0]
	// "FLAT 2, 12 HIGH STREET": the part with the street is the first
	// that starts with a number after a flat or unit part.
	for i := 0; i < len(parts)-1; i++ {
		if houseRE.MatchString(parts[i]) && isStreet(parts[i]) {
			first = parts[i]
			break
		}
	}
	town := ""
	if len(parts) > 1 {
		town = parts[len(parts)-1]
	}
	house := ""
	if m := houseRE.FindStringSubmatch(first); m != nil {
		house = m[1]
	}
	name := first
	return gazRow{kind: "address", ref: uprn, name: titleCase(name), locality: titleCase(town), postcode: pc, house: house,
		x: e, y: n, srid: 27700, weight: 1}, ""
}

// titleCase makes "HIGH STREET" "High Street" for labels.
func titleCase(s string) string {
	w := strings.Fields(strings.ToLower(s))
	for i, x := range w {
		if x != "" && x[0] >= 'a' && x[0] <= 'z' {
			w[i] = strings.ToUpper(x[:1]) + x[1:]
		}
	}
	return strings.Join(w, " ")
}

// Counts returns the gazetteer's rows per source.
func Counts(ctx context.Context, pool *pgxpool.Pool) (map[string]int, error) {
	rows, err := pool.Query(ctx, `SELECT source, count(*) FROM gazetteer GROUP BY source`)
	if err != nil {
		return nil, err
	}
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			rows.Close()
			return nil, err
		}
		out[s] = n
	}
	rows.Close()
	return out, rows.Err()
}
