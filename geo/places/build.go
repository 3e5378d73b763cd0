package places

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// MinUnitsPerKm2 is the postcode density that separates a town's or
// village's output areas from the countryside around it. In the district's
// 273 output areas, those of built-up streets hold 30 to 500 Code-Point
// Open units per km²; rural ones 0 to 15 (a whole village and its fields);
// the large output areas at a town's edge, which hold new estates and some
// farmland, 18 to 23. At 15 the edges are in and the farms out.
const MinUnitsPerKm2 = 15

// MagnaParkBufferM is how far Magna Park's outline reaches beyond the
// convex hull of its postcode units: a postcode's point sits at the middle
// of its building, and a distribution shed is 200 to 400 m across.
const MagnaParkBufferM = 200

// how is the way a place's outline is made.
type how int

const (
	fromDistrict    how = iota // the district outline as published
	fromOutputAreas            // a built-up area from output areas
	fromPostcodes              // a buffered hull of postcode units
	drawn                      // drawn by hand from known coordinates
)

// spec says how to build one named place. The list is code, not data: it
// is the recipe, and the outlines it makes are data (places table).
type spec struct {
	slug, name string
	kind       Kind
	how        how
	why        string // why this method for this place, for the provenance

	// fromOutputAreas: the wards whose output areas are candidates, and
	// the settlement (GeoNames name and file) the kept group is nearest.
	wards          []string
	wardLabel      string // "the four Lutterworth wards", for the method's first sentence
	seed, seedFile string

	// fromPostcodes: units whose postcode starts with prefix, outside the
	// built outlines of the places named in outside.
	prefix  string
	outside []string

	// drawn: the ring, counter-clockwise, in WGS84, and the references
	// it was drawn from.
	ring orb.Ring
	refs []string
}

// specs are the named places in build order (Magna Park needs Lutterworth
// first).
func specs() []spec {
	return []spec{
		{
			slug: "harborough-district", name: "Harborough District", kind: KindDistrict, how: fromDistrict,
			why: "The whole district, for district-wide figures.",
		},
		{
			slug: "market-harborough-town-centre", name: "Market Harborough town centre", kind: KindTownCentre, how: drawn,
			why: "No published boundary. Drawn around the historic market place and the shopping streets: " +
				"High Street from Bowden Lane and Abbey Street south to The Square and St Dionysius church (52.4776, -0.9205), " +
				"Church Square, Church Street, Adam and Eve Street and Factory Lane, St Mary's Road east to the St Mary's Road East car park, " +
				"and south across the River Welland over the Northampton Road end, the Market Hall and Springfield Street car parks; " +
				"west to The Commons and Yeomanry Court, stopping short of Coventry Road and the hospital. " +
				"Vertices placed on police.uk's street points for those streets (2018-2024 Leicestershire files) and the GeoNames point for the town; " +
				"about 0.34 km², a circle of 330 m radius shaped to the streets. Accuracy about 30 m: replace it with the council's town centre boundary when there is one.",
			ring: orb.Ring{
				{-0.9245, 52.4812}, {-0.9250, 52.4801}, {-0.9258, 52.4786}, {-0.9258, 52.4768}, {-0.9235, 52.4762},
				{-0.9190, 52.4757}, {-0.9150, 52.4762}, {-0.9133, 52.4771}, {-0.9138, 52.4784}, {-0.9160, 52.4791},
				{-0.9188, 52.4793}, {-0.9208, 52.4801}, {-0.9218, 52.4813}, {-0.9245, 52.4812},
			},
			refs: []string{
				"police.uk street points: On or near High Street, The Square, Church Square, Church Street, Adam And Eve Street, Factory Lane, St Mary's Road, Springfield Street, Northampton Road, Abbey Street, Bowden Lane",
				CitiesFile + ": Market Harborough (52.4776, -0.92053)",
				"harborough.gov.uk: Market Harborough Conservation Area character statement",
			},
		},
		{
			slug: "welland-park", name: "Welland Park", kind: KindPark, how: drawn,
			why: "No published boundary. The public park on the west side of Market Harborough: " +
				"bounded west by Farndon Road (its car park, police.uk point 52.47506, -0.93025, inside), " +
				"south by Welland Park Road (the Welland Park Road car park, 52.47444, -0.92544, inside; the road at 52.4742), " +
				"north by the River Welland (which the Logan/Welland ward boundary follows, about 52.4755-52.4761), " +
				"east short of the houses of Walcot Road (52.4753, -0.9210). " +
				"The park's outdoor gym (52.47516, -0.92573) and police.uk's Park/Open Space point (52.47504, -0.92526) lie inside. " +
				"About 8 ha; accuracy about 30 m: replace it with the council's surveyed outline when there is one.",
			ring: orb.Ring{
				{-0.9313, 52.4747}, {-0.9290, 52.4745}, {-0.9258, 52.4743}, {-0.9232, 52.4746},
				{-0.9231, 52.4760}, {-0.9262, 52.4757}, {-0.9290, 52.4757}, {-0.9312, 52.4755}, {-0.9313, 52.4747},
			},
			refs: []string{
				"police.uk street points: On or near Welland Park Road, Park/Open Space, Parking Area, Farndon Road, Walcot Road",
				WardsFile + ": the Market Harborough-Logan/-Welland boundary along the River Welland",
				"michael-milsom.org.uk (Market Harborough U3A tapestry): the river on the park's north boundary, Farndon Road on its west",
			},
		},
		{
			slug: "lutterworth", name: "Lutterworth", kind: KindTown, how: fromOutputAreas,
			why:       "The four Lutterworth wards (11.0 km²) reach west over farmland to Magna Park's edge; their dense output areas follow the town.",
			wards:     []string{"Lutterworth Brookfield", "Lutterworth Orchard", "Lutterworth Springs", "Lutterworth Swift"},
			wardLabel: "the four Lutterworth wards",
			seed:      "Lutterworth", seedFile: CitiesFile,
		},
		{
			slug: "broughton-astley", name: "Broughton Astley", kind: KindVillage, how: fromOutputAreas,
			why:       "The four Broughton Astley wards (10.0 km²) include the fields around the village; their dense output areas follow the village, Sutton in the Elms included.",
			wards:     []string{"Broughton Astley-Astley", "Broughton Astley-Broughton", "Broughton Astley-Primethorpe", "Broughton Astley-Sutton"},
			wardLabel: "the four Broughton Astley wards",
			seed:      "Broughton Astley", seedFile: CitiesFile,
		},
		{
			slug: "thurnby-scraptoft", name: "Thurnby and Scraptoft", kind: KindVillage, how: fromOutputAreas,
			why: "Thurnby, Bushby and Scraptoft are Leicester's eastern edge; their ward, Thurnby and Houghton (23.3 km²), also holds Houghton on the Hill and open country, which the output areas leave out. " +
				"GeoNames cities500 has no Thurnby, so the postal file's Thurnby (accuracy 4) is the seed.",
			wards:     []string{"Thurnby and Houghton"},
			wardLabel: "the Thurnby and Houghton ward",
			seed:      "Thurnby", seedFile: PostalFile,
		},
		{
			slug: "fleckney", name: "Fleckney", kind: KindVillage, how: fromOutputAreas,
			why:       "The Fleckney ward (5.1 km²) includes farmland around the village. The postal file's Fleckney is an outcode centre (accuracy 3), so the cities500 point is the seed.",
			wards:     []string{"Fleckney"},
			wardLabel: "the Fleckney ward",
			seed:      "Fleckney", seedFile: CitiesFile,
		},
		{
			slug: "magna-park", name: "Magna Park", kind: KindBusinessPark, how: fromPostcodes,
			why: "No published boundary. Not every LE17 4X* unit is the park: in the October 2025 file half of them are in Lutterworth's built-up area " +
				"(4XA-4XF north of the centre; 4XJ, 4XL and 4XS at the town's west end), so only those outside Lutterworth's outline are used. " +
				"Park units of other sectors (LE17 4WZ, 4YH, 4YZ) fall inside the result, which bears it out.",
			prefix:  "LE17 4X",
			outside: []string{"lutterworth"},
		},
	}
}

// Action says what a build did to one place.
type Action string

// The actions of a build.
const (
	ActionCreated   Action = "created"
	ActionUpdated   Action = "updated"
	ActionUnchanged Action = "unchanged"
	// ActionKept means an admin's uploaded outline was left in place.
	ActionKept Action = "kept uploaded outline"
)

// BuildOptions control a build.
type BuildOptions struct {
	// Force replaces outlines that admins uploaded, too (they are kept
	// in place_history).
	Force bool
	// Actor names who ran the build, recorded in built_by and history,
	// e.g. "hotspot places build (cli:alice)".
	Actor string
}

// Built is what Build did to one place.
type Built struct {
	Slug    string
	Name    string
	Kind    Kind
	Action  Action
	AreaKm2 float64 // of the outline the place has after the build
	Method  string  // of the outline built (kept outlines keep their own)
}

// ErrBuild is returned when the data does not give a sane outline for a
// place (a ward missing from the file, a town of 300 km²): the build
// writes nothing.
var ErrBuild = errors.New("cannot build place")

// Build makes every named place's outline from the shared data, in one
// transaction, and stores it with its provenance. Running it again with
// the same data changes nothing. An outline an admin uploaded is kept
// unless opts.Force is set; whatever is overwritten goes to place_history.
func Build(ctx context.Context, pool *pgxpool.Pool, src *Sources, opts BuildOptions) ([]Built, error) {
	if strings.TrimSpace(opts.Actor) == "" {
		return nil, errors.New("build places: no actor")
	}
	if err := src.check(); err != nil {
		return nil, err
	}
	var out []Built
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		out = nil
		if _, err := tx.Exec(ctx, lockSQL, lockKey); err != nil {
			return err
		}
		if err := stageSources(ctx, tx, src); err != nil {
			return err
		}
		methods := map[string]string{}
		sources := map[string][]string{}
		for _, s := range specs() {
			m, srcs, err := s.build(ctx, tx, src)
			if err != nil {
				return fmt.Errorf("build %s: %w", s.slug, err)
			}
			methods[s.slug], sources[s.slug] = m, srcs
		}
		changed := false
		for _, s := range specs() {
			b, err := s.store(ctx, tx, methods[s.slug], sources[s.slug], opts)
			if err != nil {
				return fmt.Errorf("store %s: %w", s.slug, err)
			}
			changed = changed || b.Action == ActionCreated || b.Action == ActionUpdated
			out = append(out, b)
		}
		if changed {
			if _, err := tx.Exec(ctx, bumpDataVersion); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// check makes sure every ward and settlement the specs name is in the
// data, so a renamed ward fails loudly instead of making a smaller town.
func (src *Sources) check() error {
	wards := map[string]bool{}
	for _, w := range src.Wards {
		wards[w.Name] = true
	}
	for _, s := range specs() {
		for _, w := range s.wards {
			if !wards[w] {
				return fmt.Errorf("%w %s: ward %q is not in %s", ErrBuild, s.slug, w, WardsFile)
			}
		}
		if s.seed != "" {
			if _, ok := src.settlement(s.seed, s.seedFile); !ok {
				return fmt.Errorf("%w %s: %q is not in %s", ErrBuild, s.slug, s.seed, s.seedFile)
			}
		}
	}
	if len(src.District) == 0 || len(src.OutputAreas) == 0 || len(src.Postcodes) == 0 {
		return fmt.Errorf("%w: the district, output areas and postcodes are all needed", ErrBuild)
	}
	return nil
}

// The staging tables live only for the build's transaction.
const (
	createStage = `CREATE TEMP TABLE places_src_area (
	kind text NOT NULL, code text NOT NULL, name text NOT NULL, wkb bytea NOT NULL,
	geom geometry(MultiPolygon, 4326), geom_bng geometry(MultiPolygon, 27700)
) ON COMMIT DROP;
CREATE TEMP TABLE places_src_postcode_raw (postcode text NOT NULL, easting float8 NOT NULL, northing float8 NOT NULL) ON COMMIT DROP;
CREATE TEMP TABLE places_built (slug text PRIMARY KEY, geom geometry(MultiPolygon, 4326), n integer NOT NULL) ON COMMIT DROP`

	finishStage = `UPDATE places_src_area SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB(wkb, 4326)), 3));
UPDATE places_src_area SET geom_bng = ST_Transform(geom, 27700);
CREATE INDEX ON places_src_area USING gist (geom_bng);
CREATE TEMP TABLE places_src_postcode ON COMMIT DROP AS
	SELECT postcode, ST_SetSRID(ST_MakePoint(easting, northing), 27700)::geometry(Point, 27700) AS geom FROM places_src_postcode_raw;
CREATE INDEX ON places_src_postcode USING gist (geom);
ANALYZE places_src_area;
ANALYZE places_src_postcode`
)

func stageSources(ctx context.Context, tx pgx.Tx, src *Sources) error {
	if _, err := tx.Exec(ctx, createStage); err != nil {
		return fmt.Errorf("stage sources: %w", err)
	}
	var rows [][]any
	for _, set := range []struct {
		kind  string
		areas []Area
	}{{"district", src.District}, {"ward", src.Wards}, {"oa", src.OutputAreas}} {
		for _, a := range set.areas {
			b, err := wkb.Marshal(a.Polygon)
			if err != nil {
				return fmt.Errorf("stage %s %s: %w", set.kind, a.Code, err)
			}
			rows = append(rows, []any{set.kind, a.Code, a.Name, b})
		}
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"places_src_area"}, []string{"kind", "code", "name", "wkb"}, pgx.CopyFromRows(rows)); err != nil {
		return fmt.Errorf("stage areas: %w", err)
	}
	pcs := src.Postcodes
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"places_src_postcode_raw"}, []string{"postcode", "easting", "northing"},
		pgx.CopyFromSlice(len(pcs), func(i int) ([]any, error) {
			return []any{pcs[i].Code, pcs[i].Easting, pcs[i].Northing}, nil
		})); err != nil {
		return fmt.Errorf("stage postcodes: %w", err)
	}
	if _, err := tx.Exec(ctx, finishStage); err != nil {
		return fmt.Errorf("stage sources: %w", err)
	}
	return nil
}

// The SQL of each method. Each writes one row of places_built: the
// outline in WGS84 and a count (areas, units or vertices) for the method
// text. Metric work is done in British National Grid.
const (
	buildDistrict = `INSERT INTO places_built (slug, geom, n)
SELECT $1, ST_Multi(ST_Union(geom ORDER BY code)), count(*) FROM places_src_area WHERE kind = 'district'`

	// The output areas whose representative point lies in the wards and
	// that hold at least $3 units per km²; grouped by touching
	// (DBSCAN with eps 0), the group nearest the seed ($4, $5) kept,
	// joined, and holes filled (a park or a farm enclosed by the town is
	// part of the place); clipped to the district outline, from which the
	// separately generalised output areas stray by a few square metres.
	buildOutputAreas = `WITH ward AS (
	SELECT ST_Union(geom_bng ORDER BY code) AS geom FROM places_src_area WHERE kind = 'ward' AND name = ANY($2::text[])
), dense AS (
	SELECT o.code, o.geom_bng AS geom
	FROM places_src_area o, ward
	WHERE o.kind = 'oa' AND ST_Contains(ward.geom, ST_PointOnSurface(o.geom_bng))
	  AND (SELECT count(*) FROM places_src_postcode p WHERE ST_Intersects(o.geom_bng, p.geom)) >= $3::float8 * ST_Area(o.geom_bng) / 1e6
), grouped AS (
	SELECT code, geom, ST_ClusterDBSCAN(geom, eps => 0, minpoints => 1) OVER () AS grp FROM dense
), seed AS (
	SELECT ST_Transform(ST_SetSRID(ST_MakePoint($4::float8, $5::float8), 4326), 27700) AS geom
), chosen AS (
	SELECT g.code, g.geom FROM grouped g
	WHERE g.grp = (SELECT g2.grp FROM grouped g2, seed ORDER BY ST_Distance(g2.geom, seed.geom), g2.code LIMIT 1)
), joined AS (
	SELECT ST_Union(geom ORDER BY code) AS geom, count(*) AS n FROM chosen
), filled AS (
	SELECT ST_Union(ST_MakePolygon(ST_ExteriorRing(d.geom))) AS geom FROM joined, ST_Dump(joined.geom) d
), district AS (
	SELECT ST_Union(geom_bng) AS geom FROM places_src_area WHERE kind = 'district'
)
INSERT INTO places_built (slug, geom, n)
SELECT $1, ST_Multi(ST_Transform(ST_CollectionExtract(ST_Intersection(filled.geom, district.geom), 3), 4326)), joined.n
FROM filled, joined, district`

	// The units whose postcode starts with $2 and that lie outside the
	// outlines built for the places $3; their convex hull buffered by $4
	// metres, less those outlines, within the district.
	buildPostcodes = `WITH outside AS (
	SELECT ST_Union(ST_Transform(geom, 27700)) AS geom FROM places_built WHERE slug = ANY($3::text[])
), units AS (
	SELECT p.postcode, p.geom FROM places_src_postcode p, outside
	WHERE starts_with(p.postcode, $2) AND (outside.geom IS NULL OR NOT ST_Intersects(outside.geom, p.geom))
), hull AS (
	SELECT ST_Buffer(ST_ConvexHull(ST_Collect(geom ORDER BY postcode)), $4::float8) AS geom, count(*) AS n FROM units
), district AS (
	SELECT ST_Union(geom_bng) AS geom FROM places_src_area WHERE kind = 'district'
)
INSERT INTO places_built (slug, geom, n)
SELECT $1, ST_Multi(ST_Transform(ST_CollectionExtract(ST_Intersection(COALESCE(ST_Difference(hull.geom, outside.geom), hull.geom), district.geom), 3), 4326)), hull.n
FROM hull, district, outside`

	buildDrawn = `INSERT INTO places_built (slug, geom, n)
SELECT $1, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB($2, 4326)), 3)), $3`

	checkBuilt = `SELECT geom IS NOT NULL AND NOT ST_IsEmpty(geom) AND ST_IsValid(geom), COALESCE(ST_Area(ST_Transform(geom, 27700)) / 1e6, 0)
FROM places_built WHERE slug = $1`
)

// build computes the spec's outline into places_built and returns its
// method text and sources.
func (s spec) build(ctx context.Context, tx pgx.Tx, src *Sources) (string, []string, error) {
	var method string
	var sources []string
	var n int
	switch s.how {
	case fromDistrict:
		if _, err := tx.Exec(ctx, buildDistrict, s.slug); err != nil {
			return "", nil, err
		}
		method = "The district outline as published: the union of the 47 2011 LSOAs (ONS generalised clipped boundaries). " + s.why
		sources = []string{src.Source(DistrictFile)}
	case fromOutputAreas:
		st, _ := src.settlement(s.seed, s.seedFile)
		if _, err := tx.Exec(ctx, buildOutputAreas, s.slug, s.wards, float64(MinUnitsPerKm2), st.Point[0], st.Point[1]); err != nil {
			return "", nil, err
		}
		if err := tx.QueryRow(ctx, `SELECT n FROM places_built WHERE slug = $1`, s.slug).Scan(&n); err != nil {
			return "", nil, err
		}
		method = fmt.Sprintf("Built-up area: %d census output areas of %s with at least %d postcode units per km². "+
			"Of the 2011 output areas lying in ward%s %s, those holding at least %d Code-Point Open postcode units per km², "+
			"joined where they touch; the group nearest %s's point in %s (%.5f, %.5f) kept, holes filled, clipped to the district outline. %s",
			n, s.wardLabel, MinUnitsPerKm2, plural(len(s.wards)), quoteList(s.wards), MinUnitsPerKm2, s.seed, s.seedFile, st.Point[1], st.Point[0], s.why)
		sources = []string{src.Source(OutputAreasFile), src.Source(WardsFile), src.Source(src.PostcodeFile()), src.Source(s.seedFile), src.Source(DistrictFile)}
	case fromPostcodes:
		if _, err := tx.Exec(ctx, buildPostcodes, s.slug, s.prefix, s.outside, float64(MagnaParkBufferM)); err != nil {
			return "", nil, err
		}
		if err := tx.QueryRow(ctx, `SELECT n FROM places_built WHERE slug = $1`, s.slug).Scan(&n); err != nil {
			return "", nil, err
		}
		total := 0
		for _, p := range src.Postcodes {
			if strings.HasPrefix(p.Code, s.prefix) {
				total++
			}
		}
		method = fmt.Sprintf("Convex hull of %d postcode units %s*, buffered by %d m. "+
			"The %d of the %d Code-Point Open units %s* that lie outside the built outline of %s, "+
			"their convex hull buffered by %d m, less %s, within the district outline. %s",
			n, s.prefix, MagnaParkBufferM, n, total, s.prefix, strings.Join(s.outside, ", "), MagnaParkBufferM, strings.Join(s.outside, ", "), s.why)
		sources = []string{src.Source(src.PostcodeFile()), src.Source(OutputAreasFile), src.Source(WardsFile), src.Source(CitiesFile), src.Source(DistrictFile)}
	case drawn:
		b, err := wkb.Marshal(orb.Polygon{s.ring})
		if err != nil {
			return "", nil, err
		}
		if _, err := tx.Exec(ctx, buildDrawn, s.slug, b, len(s.ring)-1); err != nil {
			return "", nil, err
		}
		method = fmt.Sprintf("Drawn by hand from known coordinates (%d vertices). %s", len(s.ring)-1, s.why)
		sources = s.refs
	default:
		return "", nil, fmt.Errorf("unknown method %d", s.how)
	}
	var ok bool
	var km2 float64
	if err := tx.QueryRow(ctx, checkBuilt, s.slug).Scan(&ok, &km2); err != nil {
		return "", nil, err
	}
	if !ok {
		return "", nil, fmt.Errorf("%w %s: the data gave no valid outline", ErrBuild, s.slug)
	}
	if lo, hi := s.kind.AreaBounds(); km2 < lo || km2 > hi {
		return "", nil, fmt.Errorf("%w %s: the outline built is %.3f km², outside %g-%g km² for a %s", ErrBuild, s.slug, km2, lo, hi, s.kind)
	}
	return method, sources, nil
}

const (
	selectForStore = `SELECT p.origin, p.name, p.kind, p.method, p.sources,
	ST_Area(ST_SymDifference(p.geom_bng, ST_Transform(b.geom, 27700))), ST_Area(p.geom_bng) / 1e6
FROM places p JOIN places_built b ON b.slug = p.slug WHERE p.slug = $1 FOR UPDATE OF p`

	upsertPlace = `INSERT INTO places (slug, name, kind, geom, origin, method, sources, built_at, built_by)
SELECT $1, $2, $3, geom, 'built', $4, $5, now(), $6 FROM places_built WHERE slug = $1
ON CONFLICT (slug) DO UPDATE SET name = EXCLUDED.name, kind = EXCLUDED.kind, geom = EXCLUDED.geom,
	origin = EXCLUDED.origin, method = EXCLUDED.method, sources = EXCLUDED.sources,
	built_at = EXCLUDED.built_at, built_by = EXCLUDED.built_by
RETURNING ST_Area(geom_bng) / 1e6`
)

// unchangedM2 is the difference in area below which a rebuilt outline
// counts as the one already stored (transforms round in the last digits).
const unchangedM2 = 1.0

// store writes the built outline over the stored one, if it should.
func (s spec) store(ctx context.Context, tx pgx.Tx, method string, sources []string, opts BuildOptions) (Built, error) {
	b := Built{Slug: s.slug, Name: s.name, Kind: s.kind, Method: method}
	var origin, name, kind, oldMethod string
	var oldSources []string
	var diffM2 float64
	err := tx.QueryRow(ctx, selectForStore, s.slug).Scan(&origin, &name, &kind, &oldMethod, &oldSources, &diffM2, &b.AreaKm2)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		b.Action = ActionCreated
	case err != nil:
		return b, err
	case Origin(origin) == OriginUploaded && !opts.Force:
		b.Action = ActionKept
		return b, nil
	case Origin(origin) == OriginBuilt && diffM2 < unchangedM2 && name == s.name && kind == string(s.kind) &&
		oldMethod == method && slices.Equal(oldSources, sources):
		b.Action = ActionUnchanged
		return b, nil
	default:
		b.Action = ActionUpdated
		if _, err := tx.Exec(ctx, archivePlace, s.slug, opts.Actor); err != nil {
			return b, err
		}
	}
	if err := tx.QueryRow(ctx, upsertPlace, s.slug, s.name, string(s.kind), method, sources, opts.Actor).Scan(&b.AreaKm2); err != nil {
		return b, err
	}
	return b, nil
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

func quoteList(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = `"` + s + `"`
	}
	return strings.Join(q, ", ")
}
