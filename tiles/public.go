package tiles

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/maptile"

	"github.com/harborough-csp/hotspot/geo"
)

// PublicLayerName is the public layer's name in URLs and in the MVT.
const PublicLayerName = "public"

// ErrNoPublicPool is returned for the public layer by a server that was
// not given the public pool: the layer is never built through any other.
var ErrNoPublicPool = errors.New("the public layer is served only through the public database pool")

// MaxMonths is the longest month range a public query may ask for.
const MaxMonths = 12

// ErrBadMonths is returned by ParseMonths for a month or range that
// cannot be served.
var ErrBadMonths = errors.New("bad months")

// Months is an inclusive range of calendar months, each the first of its
// month in UTC. The zero Months means "the latest month published".
type Months struct {
	From, To time.Time
}

// IsZero reports whether m asks for the latest month.
func (m Months) IsZero() bool { return m.From.IsZero() && m.To.IsZero() }

// ParseMonths reads the public API's month parameters: date (one month,
// YYYY-MM, police.uk's parameter) or date_from and date_to (this
// server's extension: an inclusive range of at most MaxMonths months).
// None of them gives the zero Months. Errors wrap ErrBadMonths and say
// which parameter was wrong and how to write it.
func ParseMonths(date, from, to string) (Months, error) {
	month := func(name, s string) (time.Time, error) {
		p, err := geo.ParseMonth(s)
		if err != nil {
			return time.Time{}, fmt.Errorf("%w: %s %q must be a month, YYYY-MM (e.g. 2024-01)", ErrBadMonths, name, s)
		}
		return p.From, nil
	}
	switch {
	case date != "" && (from != "" || to != ""):
		return Months{}, fmt.Errorf("%w: give date, or date_from and date_to, not both", ErrBadMonths)
	case date != "":
		m, err := month("date", date)
		return Months{m, m}, err
	case from == "" && to == "":
		return Months{}, nil
	case from == "" || to == "":
		return Months{}, fmt.Errorf("%w: date_from and date_to go together (date_from=2024-01&date_to=2024-02)", ErrBadMonths)
	}
	f, err := month("date_from", from)
	if err != nil {
		return Months{}, err
	}
	t, err := month("date_to", to)
	if err != nil {
		return Months{}, err
	}
	if t.Before(f) {
		return Months{}, fmt.Errorf("%w: date_to %s is before date_from %s", ErrBadMonths, to, from)
	}
	if n := (t.Year()-f.Year())*12 + int(t.Month()-f.Month()) + 1; n > MaxMonths {
		return Months{}, fmt.Errorf("%w: date_from %s to date_to %s is %d months; at most %d", ErrBadMonths, from, to, n, MaxMonths)
	}
	return Months{f, t}, nil
}

// key is m in one spelling, for cache keys.
func (m Months) key() string {
	if m.IsZero() {
		return ""
	}
	return m.From.Format("200601") + "-" + m.To.Format("200601")
}

// args returns the range as query parameters: NULL for the zero range,
// which the SQL reads as the latest published month.
func (m Months) args() (from, to any) {
	if m.IsZero() {
		return nil, nil
	}
	return m.From, m.To
}

// publicSQL builds the public layer from the open schema only: one point
// per map point with crimes in the months asked for, with its street, the
// months, the total and a count per category (ST_AsMVT spreads the jsonb
// into one property per category). Sensitive categories are not in
// open.crimes at all, so they cannot appear. $5 and $6 are the first and
// last month, NULL for the latest month published.
const publicSQL = `
WITH env AS (
	SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
	       ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8) AS area
),
months AS (
	SELECT coalesce($5::date, (SELECT last_updated FROM open.meta)) AS first,
	       coalesce($6::date, (SELECT last_updated FROM open.meta)) AS last
),
counts AS (
	SELECT c.map_point_id, c.category, count(*)::int AS n
	FROM open.crimes c, months
	WHERE c.month BETWEEN months.first AND months.last
	GROUP BY 1, 2
)
SELECT ST_AsMVT(t, 'public', 4096, 'geom', 'id') FROM (
	SELECT m.id,
	       ST_AsMVTGeom(m.geom_web, env.tile, 4096, 64, true) AS geom,
	       m.street,
	       to_char(months.first, 'YYYY-MM') AS date_from,
	       to_char(months.last, 'YYYY-MM') AS date_to,
	       sum(k.n)::int AS total,
	       jsonb_object_agg(k.category, k.n) AS categories
	FROM open.map_points m
	JOIN env ON m.geom_web && env.area
	JOIN counts k ON k.map_point_id = m.id
	CROSS JOIN months
	GROUP BY m.id, m.geom_web, m.street, env.tile, months.first, months.last
) t`

// publicExtentSQL is the map points' extent in WGS84.
const publicExtentSQL = `SELECT e FROM (SELECT ST_Extent(geom) AS e FROM open.map_points) s WHERE e IS NOT NULL`

// PublicLayer describes the public layer for the catalogue. Its SQL reads
// only the open schema; Public runs it, through the public pool.
func PublicLayer() Layer {
	fields := map[string]string{
		"street": "String", "date_from": "String", "date_to": "String", "total": "Number",
	}
	for _, c := range geo.PoliceUKCategories() {
		fields[c.Slug] = "Number"
	}
	return Layer{
		Audiences: allAudiences,
		Params:    MonthParams,
		build: func(ctx context.Context, s *Server, r Request) ([]byte, string, error) {
			if s.public == nil {
				return nil, "", ErrNoPublicPool
			}
			b, err := s.public.Tile(ctx, r.Tile, r.Months)
			return b, "public map points", err
		},
		Name: PublicLayerName,
		Description: "Anonymous map points (each standing for at least 8 postcode units) with the number of " +
			"non-sensitive crimes per category in the months asked for (date, or date_from and date_to; " +
			"default the latest month). Violence and sexual offences and other sensitive categories are not shown at points.",
		MinZoom:   0,
		MaxZoom:   MaxZoom,
		Fields:    fields,
		extentSQL: publicExtentSQL,
	}
}

// Public builds the public layer's tiles and bounds, and nothing else,
// through the public pool (anon.PublicPool), whose database role can read
// only the open schema and the reference tables.
type Public struct {
	pool *pgxpool.Pool
	l    Layer
}

// NewPublic returns the public layer over the public pool.
func NewPublic(public *pgxpool.Pool) *Public {
	return &Public{pool: public, l: PublicLayer()}
}

// Tile returns the encoded MVT of one public tile for months; an empty
// slice means the tile has no map point with crimes in those months.
func (p *Public) Tile(ctx context.Context, t maptile.Tile, m Months) ([]byte, error) {
	from, to := m.args()
	var b []byte
	err := p.pool.QueryRow(ctx, publicSQL, pgx.QueryExecModeExec, int(t.Z), int(t.X), int(t.Y), float64(Buffer)/Extent, from, to).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("tile %s/%d/%d/%d: %w", PublicLayerName, t.Z, t.X, t.Y, err)
	}
	return b, nil
}

// Bounds returns the map points' extent (west, south, east, north), or
// ok false when there are none.
func (p *Public) Bounds(ctx context.Context) (b [4]float64, ok bool, err error) {
	err = p.pool.QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (`+p.l.extentSQL+`) x(e)`).
		Scan(&b[0], &b[1], &b[2], &b[3])
	if errors.Is(err, pgx.ErrNoRows) {
		return b, false, nil
	}
	if err != nil {
		return b, false, fmt.Errorf("%s bounds: %w", PublicLayerName, err)
	}
	return b, true, nil
}
