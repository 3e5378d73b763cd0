package places

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Kind is what sort of place a named place is.
type Kind string

// The kinds of named place. The migration's CHECK on places.kind holds the
// same list.
const (
	KindTownCentre   Kind = "town-centre"
	KindPark         Kind = "park"
	KindTown         Kind = "town"
	KindVillage      Kind = "village"
	KindBusinessPark Kind = "business-park"
	KindDistrict     Kind = "district"
)

// AreaBounds returns the smallest and largest area, in km², that an
// outline of this kind can sensibly have in Harborough District. An
// outline outside them is a mistake (a town centre drawn around the whole
// town, a park in the wrong units), so uploads and builds refuse it. The
// district's bounds are its 593 km² ± 10%.
func (k Kind) AreaBounds() (minKm2, maxKm2 float64) {
	switch k {
	case KindTownCentre:
		return 0.01, 5
	case KindPark:
		return 0.001, 5
	case KindTown:
		return 0.5, 60
	case KindVillage:
		return 0.05, 40
	case KindBusinessPark:
		return 0.05, 20
	case KindDistrict:
		return 530, 650
	}
	return 0, 0
}

// Valid reports whether k is one of the kinds above.
func (k Kind) Valid() bool {
	lo, hi := k.AreaBounds()
	return hi > lo
}

// Origin says who made a place's current outline.
type Origin string

// The origins of an outline.
const (
	// OriginBuilt outlines are made by Build from the shared data; a
	// later Build may replace them.
	OriginBuilt Origin = "built"
	// OriginUploaded outlines were uploaded by an admin (Replace); Build
	// leaves them alone unless forced.
	OriginUploaded Origin = "uploaded"
)

// Provenance records how an outline was made.
type Provenance struct {
	Origin Origin
	// Method says, in a sentence or two a person can check, how the
	// outline was made.
	Method string
	// Sources are the files (with the first 16 hex digits of their
	// SHA-256) or references the outline was made from.
	Sources []string
	BuiltAt time.Time
	// BuiltBy is the program or person that made it, e.g. "hotspot places
	// build (cli:root)" or an admin's user name.
	BuiltBy string
}

// Place is one named place.
type Place struct {
	Slug string
	Name string
	Kind Kind
	// Polygon is the outline in WGS84 longitude/latitude.
	Polygon orb.MultiPolygon
	// AreaKm2 is the outline's area measured in British National Grid.
	AreaKm2    float64
	Provenance Provenance
}

// ErrNotFound is returned for a place or category that does not exist.
var ErrNotFound = errors.New("not found")

const selectPlaces = `SELECT slug, name, kind, ST_AsBinary(geom), ST_Area(geom_bng) / 1e6,
	origin, method, sources, built_at, built_by
FROM places`

// List returns every named place, by slug.
func List(ctx context.Context, pool *pgxpool.Pool) ([]Place, error) {
	rows, err := pool.Query(ctx, selectPlaces+` ORDER BY slug`)
	if err != nil {
		return nil, fmt.Errorf("list places: %w", err)
	}
	ps, err := pgx.CollectRows(rows, scanPlace)
	if err != nil {
		return nil, fmt.Errorf("list places: %w", err)
	}
	return ps, nil
}

// Get returns the place with the given slug, or ErrNotFound.
func Get(ctx context.Context, pool *pgxpool.Pool, slug string) (Place, error) {
	rows, err := pool.Query(ctx, selectPlaces+` WHERE slug = $1`, slug)
	if err != nil {
		return Place{}, fmt.Errorf("place %s: %w", slug, err)
	}
	p, err := pgx.CollectExactlyOneRow(rows, scanPlace)
	if errors.Is(err, pgx.ErrNoRows) {
		return Place{}, fmt.Errorf("place %q: %w", slug, ErrNotFound)
	}
	if err != nil {
		return Place{}, fmt.Errorf("place %s: %w", slug, err)
	}
	return p, nil
}

func scanPlace(row pgx.CollectableRow) (Place, error) {
	var p Place
	var kind, origin string
	var b []byte
	if err := row.Scan(&p.Slug, &p.Name, &kind, &b, &p.AreaKm2, &origin,
		&p.Provenance.Method, &p.Provenance.Sources, &p.Provenance.BuiltAt, &p.Provenance.BuiltBy); err != nil {
		return Place{}, err
	}
	p.Kind, p.Provenance.Origin = Kind(kind), Origin(origin)
	g, err := wkb.Unmarshal(b)
	if err != nil {
		return Place{}, fmt.Errorf("place %s: outline: %w", p.Slug, err)
	}
	mp, ok := g.(orb.MultiPolygon)
	if !ok {
		return Place{}, fmt.Errorf("place %s: outline is a %T", p.Slug, g)
	}
	p.Polygon = mp
	return p, nil
}

// History is one outline a place had before, and who replaced it when.
type History struct {
	ID         int64
	Slug       string
	Polygon    orb.MultiPolygon
	Provenance Provenance
	ReplacedAt time.Time
	ReplacedBy string
}

const selectHistory = `SELECT id, slug, ST_AsBinary(geom), origin, method, sources, built_at, built_by, replaced_at, replaced_by
FROM place_history WHERE slug = $1 ORDER BY id`

// PlaceHistory returns the outlines the place had before its current one,
// oldest first.
func PlaceHistory(ctx context.Context, pool *pgxpool.Pool, slug string) ([]History, error) {
	rows, err := pool.Query(ctx, selectHistory, slug)
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", slug, err)
	}
	hs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (History, error) {
		var h History
		var b []byte
		var origin string
		if err := row.Scan(&h.ID, &h.Slug, &b, &origin, &h.Provenance.Method, &h.Provenance.Sources,
			&h.Provenance.BuiltAt, &h.Provenance.BuiltBy, &h.ReplacedAt, &h.ReplacedBy); err != nil {
			return History{}, err
		}
		h.Provenance.Origin = Origin(origin)
		g, err := wkb.Unmarshal(b)
		if err != nil {
			return History{}, err
		}
		h.Polygon, _ = g.(orb.MultiPolygon)
		return h, nil
	})
	if err != nil {
		return nil, fmt.Errorf("history of %s: %w", slug, err)
	}
	return hs, nil
}

// Statements shared by Build and Replace.
const (
	// archivePlace copies a place's current outline and provenance into
	// place_history before it is overwritten.
	archivePlace = `INSERT INTO place_history (slug, name, kind, geom, origin, method, sources, built_at, built_by, replaced_by)
SELECT slug, name, kind, geom, origin, method, sources, built_at, built_by, $2 FROM places WHERE slug = $1`

	// bumpDataVersion tells caches keyed on the data version that data
	// changed (the same statement as geo/ingest's, which this package
	// may not import).
	bumpDataVersion = `UPDATE data_version SET version = version + 1, changed_at = now()`

	// lockKey serialises builds and replacements of places, so two builds
	// at once cannot interleave their archive-then-write steps.
	lockKey int64 = 0x506c61636573 // "Places"
	lockSQL       = `SELECT pg_advisory_xact_lock($1)`
)
