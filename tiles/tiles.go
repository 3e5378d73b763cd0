// Package tiles serves Mapbox Vector Tiles built by PostGIS: the layer
// catalogue, z/x/y parsing, each layer's tile SQL, and TileJSON.
//
// PostGIS builds every tile (ST_TileEnvelope, ST_AsMVTGeom, ST_AsMVT) from
// geometry stored in Web Mercator, so a tile query is an index scan on the
// layer's geom_web column with no per-row transform. Go decides which layer
// and tile to ask for, and checks input before any SQL runs.
package tiles

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
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

// Audience is who a tile is made for. web maps a caller's role to one;
// a layer may give each audience different data (density: the precise
// counts for police and analysts, the anonymised ones for the public).
type Audience string

// The audiences.
const (
	AudiencePublic  Audience = "public"
	AudiencePolice  Audience = "police"
	AudienceAnalyst Audience = "analyst"
)

// ErrAudience is returned for a layer asked for by an audience it is not
// made for; web's route table should have refused the caller first.
var ErrAudience = errors.New("layer not offered to this audience")

// Params says which query parameters a layer takes.
type Params int

const (
	// NoParams: the layer takes none.
	NoParams Params = iota
	// FilterParams: from, to, priority and category (ParseFilter).
	FilterParams
	// MonthParams: date, or date_from and date_to (ParseMonths), as
	// police.uk's API.
	MonthParams
	// HotspotParams: location, priority, window and method
	// (ParseHotspotFilter).
	HotspotParams
)

// Layer is one vector tile layer: one entry of the catalogue.
type Layer struct {
	// Name is the layer's id in URLs and in the MVT.
	Name        string
	Description string
	MinZoom     int
	MaxZoom     int
	// Fields are the feature properties and their TileJSON types.
	Fields map[string]string
	// Audiences are the audiences the layer is made for.
	Audiences []Audience
	// Params are the query parameters the layer takes.
	Params Params
	// ByAudience says the layer's content depends on the audience (it is
	// then part of the cache key; otherwise audiences share tiles).
	ByAudience bool
	// build makes one tile and says where it came from ("points",
	// "aggregates", ...).
	build func(ctx context.Context, s *Server, r Request) ([]byte, string, error)
	// extentSQL returns the layer's data extent in WGS84 as one box2d, or
	// no row when the layer is empty; empty: the district's extent.
	extentSQL string
	// publicPool says the public audience's tiles are read through the
	// public pool: without one, the layer is not offered to the public.
	publicPool bool
	// reference marks public reference data (boundaries, places) that
	// the public database role may read: with a public pool, its tiles
	// and extent are read through that pool, so no public tile ever runs
	// as the main user.
	reference bool
}

// Offers reports whether the layer is made for audience a.
func (l Layer) Offers(a Audience) bool {
	for _, x := range l.Audiences {
		if x == a {
			return true
		}
	}
	return false
}

// Extent queries. TileJSON bounds tell clients where tiles can have data,
// so they are the layer's own extent: bounding the incidents layer by the
// district would cut off real crimes just over the border at a tile edge.
const (
	incidentsExtentSQL  = `SELECT e FROM (SELECT ST_Extent(geom) AS e FROM incidents) s WHERE e IS NOT NULL`
	boundariesExtentSQL = `SELECT e FROM (SELECT ST_Extent(geom) AS e FROM boundaries) s WHERE e IS NOT NULL`
	locationsExtentSQL  = `SELECT e FROM (SELECT ST_Extent(geom) AS e FROM public.places) s WHERE e IS NOT NULL`
)

// NaiveIncidentsSQL is what a generic table-layer tile server does: every
// incident in the tile as a point, whatever the zoom. The benchmark runs
// it beside the real layers as the baseline; no route serves it.
const NaiveIncidentsSQL = `
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
	WHERE ($5::timestamptz IS NULL OR i.occurred_from >= $5::timestamptz)
	  AND ($6::timestamptz IS NULL OR i.occurred_from < $6::timestamptz)
	  AND ($7::text[] IS NULL OR i.category = ANY ($7::text[]))
) t`

// pointsSQL is the incidents layer's point tile: one point per incident,
// with what a popup needs, on the GiST index of geom_web (the && on the
// buffered envelope). $5, $6 bound occurred_from, $7 the categories.
const pointsSQL = `
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
	       i.lsoa_name AS lsoa,
	       1 AS count,
	       false AS aggregated
	FROM incidents i
	JOIN env ON i.geom_web && env.area
	LEFT JOIN categories c ON c.slug = i.category
	WHERE ($5::timestamptz IS NULL OR i.occurred_from >= $5::timestamptz)
	  AND ($6::timestamptz IS NULL OR i.occurred_from < $6::timestamptz)
	  AND ($7::text[] IS NULL OR i.category = ANY ($7::text[]))
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

// locationsSQL builds the named places layer from the columns of places
// that the public role may read (migrations 0006): slug, name, kind and
// the WGS84 outline, projected here (there are a few dozen places).
const locationsSQL = `
WITH env AS (
	SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
	       ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8) AS area
)
SELECT ST_AsMVT(t, 'locations', 4096, 'geom') FROM (
	SELECT ST_AsMVTGeom(ST_Transform(p.geom, 3857), env.tile, 4096, 64, true) AS geom,
	       p.slug, p.name, p.kind
	FROM public.places p
	JOIN env ON p.geom && ST_Transform(env.area, 4326)
) t
WHERE t.geom IS NOT NULL`

// The incidents layer's point budget: from PointMinZoom a tile holds
// points when at most MaxPoints incidents match in it; otherwise, and
// below that zoom, it holds clusters (one point per grid cell with its
// count), and every feature says which ("aggregated"). MaxTileBytes is
// the size every tile stays under.
//
// 1,500 points keeps a cold point tile under 50 ms at the 95th
// percentile: on a million incidents (hotspot tiles bench, z13-z16, two
// alternating runs each) the p95 was 84-108 ms at z13 and z15 with 5,000,
// 92-100 ms at z13 with 2,500, and 8-24 ms with 1,500.
const (
	PointMinZoom = 13
	MaxPoints    = 1500
	MaxTileBytes = 500 << 10
)

var allAudiences = []Audience{AudiencePublic, AudiencePolice, AudienceAnalyst}

// Catalogue returns the layers this server offers. Adding a layer is one
// entry here (its SQL and fields) and one line in web's layer access
// table, which decides who may call its routes.
func Catalogue() []Layer {
	return []Layer{
		{
			Name: "incidents",
			Description: "Recorded incidents. From zoom 13, where a tile holds at most 1,500 matching incidents, one point per " +
				"incident with category, month and location text; otherwise one point per grid cell at the mean position of its " +
				"incidents, with their count (aggregated true). Filters: from, to, priority, category.",
			MinZoom: 0,
			MaxZoom: MaxZoom,
			Fields: map[string]string{
				"category": "String", "category_name": "String", "month": "String",
				"location": "String", "outcome": "String", "lsoa": "String",
				"count": "Number", "aggregated": "Boolean", "level": "Number",
			},
			Audiences: []Audience{AudiencePolice},
			Params:    FilterParams,
			build:     incidentsTile,
			extentSQL: incidentsExtentSQL,
		},
		{
			Name: "density",
			Description: "Incident counts per square grid cell (32 to 64 cells across a tile; level is the cell's size as a zoom). " +
				"Police and analysts: every incident. The public: the anonymised public crimes only, by month, with a count below " +
				"the minimum withheld (suppressed true, no count). Filters: from, to, priority, category.",
			MinZoom:    0,
			MaxZoom:    MaxZoom,
			Fields:     map[string]string{"count": "Number", "suppressed": "Boolean", "level": "Number"},
			Audiences:  allAudiences,
			Params:     FilterParams,
			ByAudience: true,
			publicPool: true,
			build:      densityTile,
		},
		{
			Name: "hotspots",
			Description: "The current hotspot run's polygons for one analysis, with their numbers (incidents, km², share of the " +
				"place's incidents, change on the previous window and a year earlier in %, peak month, top category). " +
				"Parameters: location (a place slug; default the district), priority (1-5 or all), window (last-1, last-3, " +
				"last-12) and method (gi-star or kde). Repeat locations are not in tiles.",
			MinZoom: 0,
			MaxZoom: MaxZoom,
			Fields: map[string]string{
				"place": "String", "priority": "Number", "window": "String", "method": "String", "confidence": "Number",
				"rank": "Number", "incidents": "Number", "area_km2": "Number", "share": "Number", "prev_change": "Number",
				"yoy_change": "Number", "peak_month": "Number", "top_category": "String",
			},
			Audiences: []Audience{AudiencePolice, AudienceAnalyst},
			Params:    HotspotParams,
			build:     hotspotsTile,
			extentSQL: hotspotsExtentSQL,
		},
		{
			Name:        "locations",
			Description: "Named places: the district, towns, villages, Market Harborough town centre, Welland Park, Magna Park.",
			MinZoom:     0,
			MaxZoom:     MaxZoom,
			Fields:      map[string]string{"slug": "String", "name": "String", "kind": "String"},
			Audiences:   allAudiences,
			build:       sqlTile(locationsSQL),
			extentSQL:   locationsExtentSQL,
			reference:   true,
		},
		{
			Name:        "boundaries",
			Description: "Reference areas: the district outline, wards and LSOAs, by kind.",
			MinZoom:     0,
			MaxZoom:     MaxZoom,
			Fields:      map[string]string{"kind": "String", "code": "String", "name": "String"},
			Audiences:   allAudiences,
			build:       sqlTile(boundariesSQL),
			extentSQL:   boundariesExtentSQL,
			reference:   true,
		},
		PublicLayer(),
	}
}

// sqlTile builds a tile with one query of z, x, y and the buffer.
func sqlTile(sql string) func(ctx context.Context, s *Server, r Request) ([]byte, string, error) {
	return func(ctx context.Context, s *Server, r Request) ([]byte, string, error) {
		l, _ := s.Layer(r.Layer)
		b, err := queryBytes(ctx, s.poolFor(l), sql, int(r.Tile.Z), int(r.Tile.X), int(r.Tile.Y), float64(Buffer)/Extent)
		return b, "table", err
	}
}

// Request is one tile asked for.
type Request struct {
	Layer    string
	Tile     maptile.Tile
	Audience Audience
	// Filter is for layers with FilterParams, Months for MonthParams,
	// Hotspots for HotspotParams.
	Filter   Filter
	Months   Months
	Hotspots HotspotFilter
}

// Tile is an encoded tile with what HTTP needs to serve it.
type Tile struct {
	// Body is the MVT (empty: no features); Gzip the same, gzipped.
	Body, Gzip []byte
	// ETag is a strong validator of Body (the gzipped form's is ETag
	// with "-gzip" before the closing quote).
	ETag string
	// Source says what the tile was made from: "points", "aggregates",
	// "aggregates (N matching incidents: over the point budget)",
	// "table".
	Source string
	// Version is the data version it was made at.
	Version int64
}

func (t *Tile) bytes() int64 { return int64(len(t.Body)+len(t.Gzip)+len(t.ETag)+len(t.Source)) + 64 }

// Server builds tiles from the database and caches them.
type Server struct {
	pool *pgxpool.Pool
	// public builds the public layer through the public pool; nil: the
	// public layer answers ErrNoPublicPool.
	public   *Public
	layers   map[string]Layer
	names    []string
	cache    *Cache
	versions *Versions
	prio     priorityCache
	// owned are the pools Open made, for Close.
	owned []*pgxpool.Pool
}

// Option configures New.
type Option func(*Server)

// WithPublic serves the public layer through public, the pool of the
// public database role (anon.PublicPool). Without it the layer answers
// ErrNoPublicPool; it is never built through the main pool.
func WithPublic(public *pgxpool.Pool) Option {
	return func(s *Server) { s.public = NewPublic(public) }
}

// WithCache sets the cache size in bytes (default DefaultCacheBytes).
func WithCache(bytes int64) Option {
	return func(s *Server) { s.cache = NewCache(bytes) }
}

// New returns a tile server over pool with the full catalogue. Call
// Watch to follow the data version by notification, and Warm before
// serving.
func New(pool *pgxpool.Pool, opts ...Option) *Server {
	s := &Server{pool: pool, layers: map[string]Layer{}, cache: NewCache(DefaultCacheBytes), versions: NewVersions(pool)}
	for _, o := range opts {
		o(s)
	}
	for _, l := range Catalogue() {
		if l.Name == PublicLayerName && s.public == nil {
			continue // offered only with the public pool (WithPublic)
		}
		if l.publicPool && s.public == nil {
			var auds []Audience
			for _, a := range l.Audiences {
				if a != AudiencePublic {
					auds = append(auds, a)
				}
			}
			l.Audiences = auds
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

// Offers reports whether this server makes the layer for audience a
// (a layer whose public data needs the public pool does not, without it).
func (s *Server) Offers(layer string, a Audience) bool {
	l, ok := s.layers[layer]
	return ok && l.Offers(a)
}

// Names lists the layers in name order.
func (s *Server) Names() []string { return append([]string(nil), s.names...) }

// Cache is the server's tile cache.
func (s *Server) Cache() *Cache { return s.cache }

// Watch follows the data version by LISTEN/NOTIFY until ctx ends (see
// Versions); run it in its own goroutine.
func (s *Server) Watch(ctx context.Context) { s.versions.Watch(ctx) }

// Version returns the current data version.
func (s *Server) Version(ctx context.Context) (int64, error) { return s.versions.Current(ctx) }

// Tile returns the encoded MVT for one tile of one layer, unfiltered, as
// the police see it, uncached; an empty slice means no features.
func (s *Server) Tile(ctx context.Context, layer string, t maptile.Tile) ([]byte, error) {
	b, _, err := s.Build(ctx, Request{Layer: layer, Tile: t, Audience: AudiencePolice})
	return b, err
}

// TileMonths is Tile for the public layer's months m (the zero Months:
// the latest month published).
func (s *Server) TileMonths(ctx context.Context, layer string, t maptile.Tile, m Months) ([]byte, error) {
	b, _, err := s.Build(ctx, Request{Layer: layer, Tile: t, Audience: AudiencePublic, Months: m})
	return b, err
}

// Build makes one tile without the cache, and says what from.
func (s *Server) Build(ctx context.Context, r Request) ([]byte, string, error) {
	l, err := s.Layer(r.Layer)
	if err != nil {
		return nil, "", err
	}
	if !l.Offers(r.Audience) {
		if l.publicPool && r.Audience == AudiencePublic && s.public == nil {
			return nil, "", ErrNoPublicPool
		}
		return nil, "", fmt.Errorf("%w: %s for %s", ErrAudience, l.Name, r.Audience)
	}
	b, src, err := l.build(ctx, s, r)
	if err != nil {
		return nil, "", fmt.Errorf("tile %s/%d/%d/%d: %w", r.Layer, r.Tile.Z, r.Tile.X, r.Tile.Y, err)
	}
	return b, src, nil
}

// Get returns one tile from the cache, or builds and caches it. The key
// holds the data version read before the build, so a tile made before an
// import is never served after it.
func (s *Server) Get(ctx context.Context, r Request) (*Tile, error) {
	l, err := s.Layer(r.Layer)
	if err != nil {
		return nil, err
	}
	v, err := s.versions.Current(ctx)
	if err != nil {
		return nil, err
	}
	aud := Audience("all")
	if l.ByAudience {
		aud = r.Audience
		if aud == AudienceAnalyst && l.Offers(AudiencePolice) {
			aud = AudiencePolice // analysts see what police see in aggregates
		}
	}
	key := fmt.Sprintf("%s|%s|%d/%d/%d|%s|%s|%s|%d", l.Name, aud, r.Tile.Z, r.Tile.X, r.Tile.Y, r.Filter.Key(), r.Months.key(), r.Hotspots.Key(), v)
	if t, ok := s.cache.get(key); ok {
		return t, nil
	}
	b, src, err := s.Build(ctx, r)
	if err != nil {
		return nil, err
	}
	t, err := encode(b, src, v)
	if err != nil {
		return nil, err
	}
	s.cache.put(key, t)
	return t, nil
}

// encode makes the gzipped form and the ETag.
func encode(b []byte, src string, v int64) (*Tile, error) {
	sum := sha256.Sum256(b)
	t := &Tile{Body: b, Source: src, Version: v, ETag: `"` + base64.RawURLEncoding.EncodeToString(sum[:16]) + `"`}
	if len(b) > 0 {
		var buf bytes.Buffer
		zw, err := gzip.NewWriterLevel(&buf, gzip.BestSpeed)
		if err != nil {
			return nil, err
		}
		if _, err := zw.Write(b); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		t.Gzip = buf.Bytes()
	}
	return t, nil
}

// GzipETag is the ETag of the gzipped form.
func (t *Tile) GzipETag() string { return strings.TrimSuffix(t.ETag, `"`) + `-gzip"` }

// poolFor is the pool a layer's queries run on: the public pool for
// reference layers when there is one, else the main pool.
func (s *Server) poolFor(l Layer) *pgxpool.Pool {
	if l.reference && s.public != nil {
		return s.public.pool
	}
	return s.pool
}

// incidentsTile is the incidents layer: points where the point budget
// allows, clusters otherwise.
func incidentsTile(ctx context.Context, s *Server, r Request) ([]byte, string, error) {
	cats, err := s.categories(ctx, r.Filter)
	if err != nil {
		return nil, "", err
	}
	src := "aggregates"
	if r.Tile.Z >= PointMinZoom {
		lo, hi := keyRange(r.Tile, countLevel(r.Tile.Z))
		m1, m2 := monthBounds(r.Filter)
		var n int64
		if err := s.pool.QueryRow(ctx, countSQL, pgx.QueryExecModeExec, countLevel(r.Tile.Z), lo, hi, m1, m2, catsArg(cats)).Scan(&n); err != nil {
			return nil, "", err
		}
		if n <= MaxPoints {
			b, err := queryBytes(ctx, s.pool, pointsSQL, int(r.Tile.Z), int(r.Tile.X), int(r.Tile.Y), float64(Buffer)/Extent,
				timeArg(r.Filter.From), timeArg(r.Filter.To), catsArg(cats))
			if err != nil || len(b) <= MaxTileBytes {
				return b, "points", err
			}
			src = fmt.Sprintf("aggregates (%d bytes of points: over the tile budget)", len(b))
		} else {
			src = fmt.Sprintf("aggregates (up to %d matching incidents: over the point budget of %d)", n, MaxPoints)
		}
	}
	b, err := queryBytes(ctx, s.pool, clusterSQL, cellArgs(r.Tile, clusterLevel(r.Tile.Z), r.Filter, cats)...)
	return b, src, err
}

// densityTile is the density layer: precise cells for police and
// analysts, the anonymised cells, through the public pool, for the rest.
func densityTile(ctx context.Context, s *Server, r Request) ([]byte, string, error) {
	cats, err := s.categories(ctx, r.Filter)
	if err != nil {
		return nil, "", err
	}
	l := densityLevel(r.Tile.Z)
	if r.Audience == AudiencePolice || r.Audience == AudienceAnalyst {
		b, err := queryBytes(ctx, s.pool, densitySQL, cellArgs(r.Tile, l, r.Filter, cats)...)
		return b, "aggregates", err
	}
	if s.public == nil {
		return nil, "", ErrNoPublicPool
	}
	if r.Filter.Days {
		return nil, "", fmt.Errorf("%w: the public data is by month: give from and to as YYYY-MM", ErrBadFilter)
	}
	lo, hi := keyRange(r.Tile, l)
	m1, m2 := monthBounds(r.Filter)
	b, err := queryBytes(ctx, s.public.pool, publicDensitySQL, int(r.Tile.Z), int(r.Tile.X), int(r.Tile.Y), l, lo, hi, m1, m2, catsArg(cats))
	return b, "public aggregates", err
}

func timeArg(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t
}

func catsArg(cats []string) any {
	if cats == nil {
		return nil
	}
	return cats
}

// Warm opens every connection of the pools and, on a pool made by Open,
// each connection has run every tile query once (see warmConn). On a pool
// made elsewhere it runs a first ST_Transform on each, which is the
// largest part: PostGIS sets up its projection cache per connection.
func (s *Server) Warm(ctx context.Context) error {
	pools := []*pgxpool.Pool{s.pool}
	if s.public != nil {
		pools = append(pools, s.public.pool)
	}
	for _, p := range pools {
		n := int(p.Config().MaxConns)
		conns := make([]*pgxpool.Conn, 0, n)
		for i := 0; i < n; i++ {
			c, err := p.Acquire(ctx)
			if err != nil {
				for _, c := range conns {
					c.Release()
				}
				return fmt.Errorf("warm pool: %w", err)
			}
			conns = append(conns, c)
		}
		var err error
		for _, c := range conns {
			if err == nil {
				_, err = c.Exec(ctx, `SELECT ST_Transform(ST_Transform(ST_SetSRID(ST_MakePoint(-0.92, 52.48), 4326), 3857), 4326)`)
			}
			c.Release()
		}
		if err != nil {
			return fmt.Errorf("warm pool: %w", err)
		}
	}
	return nil
}

// Open returns a tile server with pools of its own, cloned from main and
// public (anon.PublicPool) with the same settings and role, but made for
// tiles: connections live for a day rather than pgx's hour and are all
// kept open (MinConns = MaxConns), and every new connection runs each
// tile query once, on an empty tile, before it serves: the first query on
// a connection pays for PostGIS's projection set-up and the catalogue
// caches (measured: 30-40 ms of planning on a fresh connection against
// 0.3 ms after), which no request should. Close closes the pools.
func Open(ctx context.Context, main, public *pgxpool.Pool, opts ...Option) (*Server, error) {
	own, err := tilePool(ctx, main, mainWarmSQL)
	if err != nil {
		return nil, err
	}
	var pub *pgxpool.Pool
	if public != nil {
		if pub, err = tilePool(ctx, public, publicWarmSQL); err != nil {
			own.Close()
			return nil, err
		}
		opts = append([]Option{WithPublic(pub)}, opts...)
	}
	s := New(own, opts...)
	// The version watcher holds a connection for good: it takes it from
	// the main pool, so every tile connection stays free for tiles.
	s.versions = NewVersions(main)
	s.owned = []*pgxpool.Pool{own}
	if pub != nil {
		s.owned = append(s.owned, pub)
	}
	if err := s.Warm(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the pools Open made.
func (s *Server) Close() {
	for _, p := range s.owned {
		p.Close()
	}
}

// The tile queries each new connection runs once, on an empty tile (the
// top-left corner of zoom 22, in the Arctic Ocean).
var (
	mainWarmSQL = []warmQuery{
		{countSQL, []any{20, int64(0), int64(1), nil, nil, nil}},
		{pointsSQL, []any{22, 0, 0, 0.0, nil, nil, nil}},
		{clusterSQL, cellArgs(maptile.New(0, 0, 22), 20, Filter{}, nil)},
		{densitySQL, cellArgs(maptile.New(0, 0, 22), 20, Filter{}, nil)},
		{NaiveIncidentsSQL, []any{22, 0, 0, 0.0, nil, nil, nil}},
		{prioritiesSQL, nil},
	}
	publicWarmSQL = []warmQuery{
		{publicDensitySQL, []any{22, 0, 0, 20, int64(0), int64(1), nil, nil, nil}},
		{publicSQL, []any{22, 0, 0, 0.0, nil, nil}},
		{boundariesSQL, []any{22, 0, 0, 0.0}},
		{locationsSQL, []any{22, 0, 0, 0.0}},
	}
)

type warmQuery struct {
	sql  string
	args []any
}

func tilePool(ctx context.Context, from *pgxpool.Pool, warm []warmQuery) (*pgxpool.Pool, error) {
	cfg := from.Config()
	cfg.MaxConnLifetime = 24 * time.Hour
	cfg.MaxConnLifetimeJitter = time.Hour
	cfg.MaxConnIdleTime = 24 * time.Hour
	cfg.MinConns = cfg.MaxConns
	// A request that ends (the client hung up, or the tile deadline
	// passed) sends PostgreSQL a cancel request, which stops the query
	// there and keeps the warmed connection; pgx's default only stops
	// waiting and closes the connection, leaving the query running.
	cfg.ConnConfig.BuildContextWatcherHandler = func(c *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: c, DeadlineDelay: time.Second}
	}
	prev := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		if prev != nil {
			if err := prev(ctx, c); err != nil {
				return err
			}
		}
		for _, q := range warm {
			rows, err := c.Query(ctx, q.sql, append([]any{pgx.QueryExecModeExec}, q.args...)...)
			if err != nil {
				return fmt.Errorf("warm tile connection: %w", err)
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return fmt.Errorf("warm tile connection: %w", err)
			}
		}
		return nil
	}
	p, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("tile pool: %w", err)
	}
	return p, nil
}

// Naive builds the tile as NaiveIncidentsSQL does, for the benchmark's
// baseline: every matching incident in the tile, as a point.
func (s *Server) Naive(ctx context.Context, t maptile.Tile, f Filter) ([]byte, error) {
	cats, err := s.categories(ctx, f)
	if err != nil {
		return nil, err
	}
	return queryBytes(ctx, s.pool, NaiveIncidentsSQL, int(t.Z), int(t.X), int(t.Y), float64(Buffer)/Extent,
		timeArg(f.From), timeArg(f.To), catsArg(cats))
}
