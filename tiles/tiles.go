// Package tiles serves Mapbox Vector Tiles built by PostGIS: the layer
// catalogue, z/x/y parsing, each layer's tile SQL, and TileJSON.
//
// PostGIS builds every tile (ST_TileEnvelope, ST_AsMVTGeom, ST_AsMVT) from
// geometry stored in Web Mercator, so a tile query is an index scan on the
// layer's geom_web column with no per-row transform. Go decides which layer
// and tile to ask for, and checks input before any SQL runs.
package tiles

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/maptile"
)

// MaxZoom is the deepest zoom served. Beyond z22 a tile is a few
// centimetres across, finer than any location in the data.
const MaxZoom = 22

// Extent and Buffer are the MVT tile coordinate space and the margin, in
// those units, of geometry included around each tile so that symbols on a
// tile edge are drawn whole.
const (
	Extent = 4096
	Buffer = 64
)

// ErrBadTile is returned for a z/x/y that is not a tile.
var ErrBadTile = errors.New("bad tile address")

// ErrUnknownLayer is returned for a layer name not in the catalogue.
var ErrUnknownLayer = errors.New("unknown layer")

// ParseTile parses z, x and y path segments. z must be 0..MaxZoom and x, y
// within 0..2^z-1; anything else, including signs, spaces and leading
// zeros, is refused, so one tile has exactly one address (and one cache key).
func ParseTile(z, x, y string) (maptile.Tile, error) {
	zi, err := parseUint(z)
	if err != nil || zi > MaxZoom {
		return maptile.Tile{}, fmt.Errorf("%w: zoom %q must be a whole number from 0 to %d", ErrBadTile, z, MaxZoom)
	}
	n := uint64(1) << zi
	xi, err := parseUint(x)
	if err != nil || xi >= n {
		return maptile.Tile{}, fmt.Errorf("%w: x %q must be a whole number from 0 to %d at zoom %d", ErrBadTile, x, n-1, zi)
	}
	yi, err := parseUint(y)
	if err != nil || yi >= n {
		return maptile.Tile{}, fmt.Errorf("%w: y %q must be a whole number from 0 to %d at zoom %d", ErrBadTile, y, n-1, zi)
	}
	return maptile.New(uint32(xi), uint32(yi), maptile.Zoom(zi)), nil
}

func parseUint(s string) (uint64, error) {
	if s == "" || len(s) > 8 || (len(s) > 1 && s[0] == '0') {
		return 0, strconv.ErrSyntax
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return 0, strconv.ErrSyntax
		}
	}
	return strconv.ParseUint(s, 10, 32)
}

// Layer is one vector tile layer.
type Layer struct {
	// Name is the layer's id in URLs and in the MVT.
	Name        string
	Description string
	MinZoom     int
	MaxZoom     int
	// Fields are the feature properties and their TileJSON types.
	Fields map[string]string
	// sql builds the tile; $1..$3 are z, x, y and $4 the buffer as a
	// fraction of the tile, and it returns one bytea.
	sql string
	// extentSQL returns the layer's data extent in WGS84 as one box2d, or
	// no row when the layer is empty.
	extentSQL string
	// reference marks public reference data (boundaries) that the public
	// database role may read: with a public pool, its tiles are built
	// through that pool, so no public tile ever runs as the main user.
	reference bool
}

// Extent queries. TileJSON bounds tell clients where tiles can have data,
// so they are the layer's own extent: bounding the incidents layer by the
// district would cut off real crimes just over the border at a tile edge.
const (
	incidentsExtentSQL  = `SELECT e FROM (SELECT ST_Extent(geom) AS e FROM incidents) s WHERE e IS NOT NULL`
	boundariesExtentSQL = `SELECT e FROM (SELECT ST_Extent(geom) AS e FROM boundaries) s WHERE e IS NOT NULL`
)

// incidentsSQL builds the incidents layer: one point per incident, with
// what a popup needs. The && on the buffered envelope keeps the query on
// the GiST index of geom_web.
const incidentsSQL = `
WITH env AS (
	SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
	       ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8) AS area
)
SELECT ST_AsMVT(t, 'incidents', 4096, 'geom', 'id') FROM (
	SELECT i.id,
	       ST_AsMVTGeom(i.geom_web, env.tile, 4096, 64, true) AS geom,
	       i.category,
	       coalesce(c.name, i.category) AS category_name,
	       to_char(i.occurred_from AT TIME ZONE 'UTC', 'YYYY-MM') AS month,
	       i.location_text AS location,
	       i.outcome,
	       i.lsoa_name AS lsoa
	FROM incidents i
	JOIN env ON i.geom_web && env.area
	LEFT JOIN categories c ON c.slug = i.category
) t`

// boundariesSQL builds the boundaries layer, simplified to the tile's
// resolution by ST_AsMVTGeom.
const boundariesSQL = `
WITH env AS (
	SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
	       ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8) AS area
)
SELECT ST_AsMVT(t, 'boundaries', 4096, 'geom') FROM (
	SELECT ST_AsMVTGeom(b.geom_web, env.tile, 4096, 64, true) AS geom,
	       b.kind, b.code, b.name
	FROM boundaries b
	JOIN env ON b.geom_web && env.area
) t
WHERE t.geom IS NOT NULL`

// Catalogue returns the layers this server offers.
func Catalogue() []Layer {
	return []Layer{
		{
			Name:        "incidents",
			Description: "Recorded incidents as points, one per incident, with category, month and location text.",
			MinZoom:     0,
			MaxZoom:     MaxZoom,
			Fields: map[string]string{
				"category": "String", "category_name": "String", "month": "String",
				"location": "String", "outcome": "String", "lsoa": "String",
			},
			sql:       incidentsSQL,
			extentSQL: incidentsExtentSQL,
		},
		{
			Name:        "boundaries",
			Description: "Reference areas: the district outline, wards and LSOAs, by kind.",
			MinZoom:     0,
			MaxZoom:     MaxZoom,
			Fields:      map[string]string{"kind": "String", "code": "String", "name": "String"},
			sql:         boundariesSQL,
			extentSQL:   boundariesExtentSQL,
			reference:   true,
		},
		PublicLayer(),
	}
}

// Server builds tiles from the database.
type Server struct {
	pool *pgxpool.Pool
	// public builds the public layer through the public pool; nil: the
	// public layer answers ErrNoPublicPool.
	public *Public
	layers map[string]Layer
	names  []string
}

// Option configures New.
type Option func(*Server)

// WithPublic serves the public layer through public, the pool of the
// public database role (anon.PublicPool). Without it the layer answers
// ErrNoPublicPool; it is never built through the main pool.
func WithPublic(public *pgxpool.Pool) Option {
	return func(s *Server) { s.public = NewPublic(public) }
}

// New returns a tile server over pool with the full catalogue.
func New(pool *pgxpool.Pool, opts ...Option) *Server {
	s := &Server{pool: pool, layers: map[string]Layer{}}
	for _, o := range opts {
		o(s)
	}
	for _, l := range Catalogue() {
		if l.Name == PublicLayerName && s.public == nil {
			continue // offered only with the public pool (WithPublic)
		}
		s.layers[l.Name] = l
		s.names = append(s.names, l.Name)
	}
	sort.Strings(s.names)
	return s
}

// Layer returns the named layer.
func (s *Server) Layer(name string) (Layer, error) {
	l, ok := s.layers[name]
	if !ok {
		return Layer{}, fmt.Errorf("%w %q (layers: %v)", ErrUnknownLayer, name, s.names)
	}
	return l, nil
}

// Names lists the layers in name order.
func (s *Server) Names() []string { return append([]string(nil), s.names...) }

// Tile returns the encoded MVT for one tile of one layer; an empty slice
// means the tile has no features.
func (s *Server) Tile(ctx context.Context, layer string, t maptile.Tile) ([]byte, error) {
	return s.TileMonths(ctx, layer, t, Months{})
}

// TileMonths is Tile for the months m, which only the public layer reads
// (the zero Months: the latest month published). The public layer is
// built through the public pool only.
func (s *Server) TileMonths(ctx context.Context, layer string, t maptile.Tile, m Months) ([]byte, error) {
	l, err := s.Layer(layer)
	if err != nil {
		return nil, err
	}
	if l.Name == PublicLayerName {
		if s.public == nil {
			return nil, ErrNoPublicPool
		}
		return s.public.Tile(ctx, t, m)
	}
	var b []byte
	err = s.poolFor(l).QueryRow(ctx, l.sql, int(t.Z), int(t.X), int(t.Y), float64(Buffer)/Extent).Scan(&b)
	if err != nil {
		return nil, fmt.Errorf("tile %s/%d/%d/%d: %w", layer, t.Z, t.X, t.Y, err)
	}
	return b, nil
}

// poolFor is the pool a layer's queries run on: the public pool for
// reference layers when there is one, else the main pool.
func (s *Server) poolFor(l Layer) *pgxpool.Pool {
	if l.reference && s.public != nil {
		return s.public.pool
	}
	return s.pool
}
