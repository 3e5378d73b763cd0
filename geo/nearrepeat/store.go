package nearrepeat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"
)

// Query selects the incidents to test.
type Query struct {
	// Categories to take together (category slugs); at least one.
	Categories []string
	// From and To bound the incidents' start: From <= occurred_from < To.
	// Zero values leave that side open.
	From, To time.Time
	// Place is a named place's slug (table places); "" for everywhere.
	Place string
	// Synthetic takes the synthetic rows (hotspot synth) instead of the
	// real ones; real and synthetic are never mixed.
	Synthetic bool
}

// Errors of the database side.
var (
	ErrUnknownPlace    = errors.New("unknown place")
	ErrUnknownCategory = errors.New("unknown category")
)

// Incidents with no location cannot be paired and are left out;
// geom_bng is the stored British National Grid point (see migration 0001).
const selectIncidents = `
SELECT i.id, ST_X(i.geom_bng), ST_Y(i.geom_bng), i.occurred_from, i.occurred_to, i.category
FROM incidents i
WHERE i.category = ANY($1::text[])
  AND i.geom_bng IS NOT NULL
  AND i.synthetic = $2
  AND ($3::timestamptz IS NULL OR i.occurred_from >= $3)
  AND ($4::timestamptz IS NULL OR i.occurred_from < $4)
  AND ($5 = '' OR EXISTS (SELECT 1 FROM places p WHERE p.slug = $5 AND ST_Covers(p.geom_bng, i.geom_bng)))
ORDER BY i.id`

const placeExists = `SELECT EXISTS (SELECT 1 FROM places WHERE slug = $1)`

const categoryKnown = `
SELECT EXISTS (SELECT 1 FROM categories WHERE slug = $1)
    OR EXISTS (SELECT 1 FROM category_priorities WHERE category = $1)`

const priorityCategories = `
SELECT category FROM category_priorities WHERE priority = $1 ORDER BY category`

// Load reads the incidents the query selects, in id order.
func Load(ctx context.Context, pool *pgxpool.Pool, q Query) ([]Incident, error) {
	if len(q.Categories) == 0 {
		return nil, fmt.Errorf("%w: no category given", ErrUnknownCategory)
	}
	for _, c := range q.Categories {
		var ok bool
		if err := pool.QueryRow(ctx, categoryKnown, c).Scan(&ok); err != nil {
			return nil, fmt.Errorf("check category %q: %w", c, err)
		}
		if !ok {
			return nil, fmt.Errorf("%w: %q (see hotspot priorities list)", ErrUnknownCategory, c)
		}
	}
	if q.Place != "" {
		var ok bool
		if err := pool.QueryRow(ctx, placeExists, q.Place).Scan(&ok); err != nil {
			return nil, fmt.Errorf("check place %q: %w", q.Place, err)
		}
		if !ok {
			return nil, fmt.Errorf("%w: %q (see hotspot places list; hotspot places build makes them)", ErrUnknownPlace, q.Place)
		}
	}
	rows, err := pool.Query(ctx, selectIncidents, q.Categories, q.Synthetic, nullTime(q.From), nullTime(q.To), q.Place)
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	incs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Incident, error) {
		var in Incident
		err := row.Scan(&in.ID, &in.X, &in.Y, &in.Occurred.From, &in.Occurred.To, &in.Category)
		in.Occurred.From, in.Occurred.To = in.Occurred.From.UTC(), in.Occurred.To.UTC()
		return in, err
	})
	if err != nil {
		return nil, fmt.Errorf("read incidents: %w", err)
	}
	return incs, nil
}

// PriorityCategories returns the categories that category_priorities maps
// to the plan's priority p (1–5).
func PriorityCategories(ctx context.Context, pool *pgxpool.Pool, p int) ([]string, error) {
	rows, err := pool.Query(ctx, priorityCategories, p)
	if err != nil {
		return nil, fmt.Errorf("categories of priority %d: %w", p, err)
	}
	cs, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("categories of priority %d: %w", p, err)
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("%w: no category has priority %d", ErrUnknownCategory, p)
	}
	return cs, nil
}

func nullTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// The zones are the buffers of the recent incidents, dissolved where they
// overlap (ST_Union) and split into separate polygons (ST_Dump); each
// polygon then counts the incidents it was drawn around and takes the
// latest expiry among them. Buffers are drawn in British National Grid,
// where the radius is in metres, and given back in WGS84 for GeoJSON.
const zonesSQL = `
WITH pts AS (
    SELECT ST_SetSRID(ST_MakePoint(x, y), 27700) AS g, u
    FROM unnest($1::float8[], $2::float8[], $3::timestamptz[]) AS t(x, y, u)
), zones AS (
    SELECT row_number() OVER () AS id, d.geom AS z
    FROM (SELECT (ST_Dump(ST_Union(ST_Buffer(g, $4::float8, 16)))).geom FROM pts) d
)
SELECT ST_AsBinary(ST_Transform(z.z, 4326)), ST_Area(z.z), s.n, s.until
FROM zones z
CROSS JOIN LATERAL (
    SELECT count(*) AS n, max(p.u) AS until FROM pts p WHERE ST_Intersects(z.z, p.g)
) s
ORDER BY z.id`

// Zone is one risk zone: the merged buffers around recent incidents.
type Zone struct {
	Polygon   orb.Polygon // WGS84
	AreaM2    float64
	Incidents int
	Until     time.Time // the latest expiry among its incidents
}

// Zones draws the risk zones of an extent around the recent incidents:
// buffers of the extent's radius, merged where they overlap. They show
// where incidents were, to within the radius, so they are for the police
// and analysts only, never for the public.
func Zones(ctx context.Context, pool *pgxpool.Pool, e Extent, recent []Incident) ([]Zone, error) {
	if len(recent) == 0 || e.Radius <= 0 {
		return nil, nil
	}
	xs, ys, us := make([]float64, len(recent)), make([]float64, len(recent)), make([]time.Time, len(recent))
	for k, in := range recent {
		xs[k], ys[k] = in.X, in.Y
		us[k] = e.Until(TimeIndex(in.Occurred, e.Unit))
	}
	rows, err := pool.Query(ctx, zonesSQL, xs, ys, us, e.Radius)
	if err != nil {
		return nil, fmt.Errorf("draw risk zones: %w", err)
	}
	zones, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Zone, error) {
		var b []byte
		var z Zone
		if err := row.Scan(&b, &z.AreaM2, &z.Incidents, &z.Until); err != nil {
			return z, err
		}
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return z, err
		}
		p, ok := g.(orb.Polygon)
		if !ok {
			return z, fmt.Errorf("zone is a %s, not a polygon", g.GeoJSONType())
		}
		// A millionth of a degree is about 0.1 m: finer would be noise.
		z.Polygon, z.Until = orb.Round(p, 1e6).(orb.Polygon), z.Until.UTC()
		return z, nil
	})
	if err != nil {
		return nil, fmt.Errorf("draw risk zones: %w", err)
	}
	return zones, nil
}

// FeatureCollection gives the zones as GeoJSON features with their
// numbers and the rule that made them.
func FeatureCollection(zones []Zone, e Extent, q Query) *geojson.FeatureCollection {
	fc := geojson.NewFeatureCollection()
	for k, z := range zones {
		f := geojson.NewFeature(z.Polygon)
		f.ID = k + 1
		f.Properties = geojson.Properties{
			"incidents":  z.Incidents,
			"area_m2":    float64(int64(z.AreaM2 + 0.5)),
			"radius_m":   e.Radius,
			"window":     e.Window,
			"unit":       e.Unit.String(),
			"until":      z.Until.Format(time.RFC3339),
			"categories": q.Categories,
		}
		if q.Place != "" {
			f.Properties["place"] = q.Place
		}
		fc.Append(f)
	}
	return fc
}
