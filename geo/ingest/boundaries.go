package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
	"github.com/paulmach/orb/geojson"
)

// Boundary is one reference area read from a GeoJSON file.
type Boundary struct {
	Code    string
	Name    string
	Polygon orb.MultiPolygon
}

// ErrBadGeoJSON is returned for a boundary file that cannot be used.
var ErrBadGeoJSON = errors.New("bad boundary GeoJSON")

// maxBoundaryBytes caps a boundary file: ONS's full-resolution England
// LSOAs are under this; anything larger is not a boundary file.
const maxBoundaryBytes = 256 << 20

var (
	codeProp = regexp.MustCompile(`(?i)(^code$|cd$|_code$)`)
	nameProp = regexp.MustCompile(`(?i)(^name$|nm$|_name$)`)
)

// ReadBoundaries parses a GeoJSON FeatureCollection of polygons in WGS84.
// Each feature's code and name come from the named properties, or, when
// those are empty, from the first property that looks like one (ONS's
// LSOA11CD/LSOA11NM, WD13CD/WD13NM, or code/name). Every feature must have
// a polygon and a code, and codes must be unique: a file that breaks this
// is refused whole, with the feature that broke it named.
func ReadBoundaries(r io.Reader, codeField, nameField string) ([]Boundary, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBoundaryBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBoundaryBytes {
		return nil, fmt.Errorf("%w: larger than %d MiB", ErrBadGeoJSON, maxBoundaryBytes>>20)
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadGeoJSON, err)
	}
	if len(fc.Features) == 0 {
		return nil, fmt.Errorf("%w: no features", ErrBadGeoJSON)
	}
	seen := map[string]int{}
	out := make([]Boundary, 0, len(fc.Features))
	for i, f := range fc.Features {
		code := property(f.Properties, codeField, codeProp)
		name := property(f.Properties, nameField, nameProp)
		if code == "" {
			return nil, fmt.Errorf("%w: feature %d has no code property (name it with --code-field)", ErrBadGeoJSON, i)
		}
		if j, dup := seen[code]; dup {
			return nil, fmt.Errorf("%w: features %d and %d share code %q", ErrBadGeoJSON, j, i, code)
		}
		seen[code] = i
		if name == "" {
			name = code
		}
		var mp orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			mp = g
		default:
			return nil, fmt.Errorf("%w: feature %d (%s) is a %T, not a polygon", ErrBadGeoJSON, i, code, f.Geometry)
		}
		if err := checkPolygon(mp); err != nil {
			return nil, fmt.Errorf("%w: feature %d (%s): %v", ErrBadGeoJSON, i, code, err)
		}
		out = append(out, Boundary{Code: code, Name: name, Polygon: mp})
	}
	return out, nil
}

func checkPolygon(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return errors.New("empty polygon")
	}
	for _, p := range mp {
		if len(p) == 0 {
			return errors.New("polygon without rings")
		}
		for _, ring := range p {
			if len(ring) < 4 {
				return errors.New("ring with fewer than 4 positions")
			}
			for _, pt := range ring {
				if pt[0] != pt[0] || pt[1] != pt[1] || pt[0] < -180 || pt[0] > 180 || pt[1] < -90 || pt[1] > 90 {
					return fmt.Errorf("position %v is not longitude/latitude (the file must be WGS84)", pt)
				}
			}
		}
	}
	return nil
}

func property(props geojson.Properties, field string, pattern *regexp.Regexp) string {
	if field != "" {
		return strings.TrimSpace(fmt.Sprint(valueOr(props[field])))
	}
	keys := make([]string, 0, len(props))
	for k := range props {
		keys = append(keys, k)
	}
	sort.Strings(keys) // map order must not decide which property wins
	for _, k := range keys {
		if pattern.MatchString(k) {
			if s, ok := props[k].(string); ok && strings.TrimSpace(s) != "" {
				return strings.TrimSpace(s)
			}
		}
	}
	return ""
}

func valueOr(v any) any {
	if v == nil {
		return ""
	}
	return v
}

const upsertBoundary = `INSERT INTO boundaries (kind, code, name, geom)
VALUES ($1, $2, $3, ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_SetSRID(ST_GeomFromWKB($4), 4326)), 3)))
ON CONFLICT (kind, code) DO UPDATE SET name = EXCLUDED.name, geom = EXCLUDED.geom, loaded_at = now()`

// kindPattern keeps boundary kinds to simple words, since they appear in
// URLs and tile properties.
var kindPattern = regexp.MustCompile(`^[a-z][a-z0-9-]{0,31}$`)

// LoadBoundaries stores the areas under kind (e.g. "district", "ward",
// "lsoa") in one transaction, replacing areas of the same kind and code.
func LoadBoundaries(ctx context.Context, pool *pgxpool.Pool, kind string, bs []Boundary) error {
	if !kindPattern.MatchString(kind) {
		return fmt.Errorf("boundary kind %q: use lower-case letters, digits and '-'", kind)
	}
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, b := range bs {
			w, err := wkb.Marshal(b.Polygon)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, upsertBoundary, kind, b.Code, b.Name, w); err != nil {
				return fmt.Errorf("boundary %s: %w", b.Code, err)
			}
		}
		_, err := tx.Exec(ctx, BumpDataVersion)
		return err
	})
}

const haveBoundariesSQL = `SELECT EXISTS (SELECT 1 FROM boundaries WHERE kind = $1)`

// HaveBoundaries reports whether any area of kind is loaded.
func HaveBoundaries(ctx context.Context, pool *pgxpool.Pool, kind string) (bool, error) {
	var have bool
	if err := pool.QueryRow(ctx, haveBoundariesSQL, kind).Scan(&have); err != nil {
		return false, fmt.Errorf("check boundaries: %w", err)
	}
	return have, nil
}
