package places

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// Limits on an uploaded outline. The district outline, the largest place,
// is 27 kB and 1,500 vertices as published; a surveyed park or town centre
// is far smaller.
const (
	MaxUploadBytes    = 8 << 20
	MaxUploadVertices = 200_000
)

// NearDistrictM is how far outside the district outline an uploaded
// outline may reach: the published outline is generalised (tens of
// metres), and a place at the edge, such as Magna Park by the A5, may
// straddle it a little.
const NearDistrictM = 1000

// RepairTolerance is the largest relative change of area that repairing
// an invalid outline (ST_MakeValid) may make for the upload to be
// accepted. Tiny slivers and spikes, which editors leave behind, repair
// with no change of area and are accepted; a ring that crosses itself
// (a bow-tie, from swapped vertices) repairs into different shapes with
// a different area, and is refused so that a person fixes it.
const RepairTolerance = 0.005

// ErrBadUpload is returned for an uploaded outline that cannot be used;
// the message says why, in words an admin can act on.
var ErrBadUpload = errors.New("bad outline")

func badUpload(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadUpload, fmt.Sprintf(format, args...))
}

// ParseUpload reads an outline uploaded as GeoJSON: a Polygon or
// MultiPolygon geometry, a Feature with one, or a FeatureCollection of
// exactly one such Feature, in WGS84 longitude/latitude (RFC 7946; a "crs"
// member, if present, must name WGS84). Rings must be closed and have at
// least four positions; a third coordinate (height) is dropped. It checks
// only the form: Replace checks the shape against the district.
func ParseUpload(b []byte) (orb.MultiPolygon, error) {
	if len(b) > MaxUploadBytes {
		return nil, badUpload("the file is %d bytes; at most %d MiB is accepted", len(b), MaxUploadBytes>>20)
	}
	if len(b) == 0 {
		return nil, badUpload("the file is empty")
	}
	var top struct {
		Type        string            `json:"type"`
		CRS         json.RawMessage   `json:"crs"`
		Geometry    json.RawMessage   `json:"geometry"`
		Features    []json.RawMessage `json:"features"`
		Coordinates json.RawMessage   `json:"coordinates"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return nil, badUpload("not GeoJSON: %v", jsonMessage(err))
	}
	if err := checkCRS(top.CRS); err != nil {
		return nil, err
	}
	switch top.Type {
	case "FeatureCollection":
		if len(top.Features) != 1 {
			return nil, badUpload("the FeatureCollection holds %d features; upload exactly one polygon feature", len(top.Features))
		}
		var f struct {
			Type     string          `json:"type"`
			Geometry json.RawMessage `json:"geometry"`
		}
		if err := json.Unmarshal(top.Features[0], &f); err != nil {
			return nil, badUpload("the feature is not GeoJSON: %v", jsonMessage(err))
		}
		if f.Type != "Feature" {
			return nil, badUpload("the FeatureCollection holds a %q, not a Feature", f.Type)
		}
		return parseGeometry(f.Geometry)
	case "Feature":
		return parseGeometry(top.Geometry)
	case "Polygon", "MultiPolygon":
		return parseGeometry(b)
	case "":
		return nil, badUpload("not GeoJSON: no \"type\"")
	default:
		return nil, notPolygon(top.Type)
	}
}

func notPolygon(typ string) error {
	switch typ {
	case "Point", "MultiPoint", "LineString", "MultiLineString", "GeometryCollection":
		return badUpload("the geometry is a %s; an outline must be a Polygon or MultiPolygon", typ)
	}
	if len(typ) > 40 {
		typ = typ[:40] + "..."
	}
	return badUpload("unknown GeoJSON type %q; an outline must be a Polygon or MultiPolygon", typ)
}

// checkCRS accepts no crs member, or one naming WGS84 (RFC 7946 dropped
// crs, but QGIS and ogr2ogr still write it, and it tells us when a file is
// in British National Grid).
func checkCRS(raw json.RawMessage) error {
	if len(raw) == 0 || string(raw) == "null" {
		return nil
	}
	var crs struct {
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &crs); err != nil {
		return badUpload("the \"crs\" member is not understood; export as WGS84 (EPSG:4326) without it")
	}
	name := strings.ToUpper(crs.Properties.Name)
	switch {
	case strings.Contains(name, "CRS84"), strings.HasSuffix(name, ":4326"), strings.HasSuffix(name, "::4326"):
		return nil
	case strings.Contains(name, "27700"):
		return badUpload("the file is in British National Grid (EPSG:27700); export it as WGS84 (EPSG:4326) longitude/latitude")
	}
	if len(name) > 60 {
		name = name[:60] + "..."
	}
	return badUpload("the file's coordinate system is %q; export it as WGS84 (EPSG:4326) longitude/latitude", name)
}

// parseGeometry reads a Polygon or MultiPolygon geometry object. Positions
// are decoded as plain numbers so that their count can be checked (orb
// would silently take [x] as [x, 0]).
func parseGeometry(raw json.RawMessage) (orb.MultiPolygon, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, badUpload("the feature has no geometry")
	}
	var g struct {
		Type        string          `json:"type"`
		Coordinates json.RawMessage `json:"coordinates"`
		CRS         json.RawMessage `json:"crs"`
	}
	if err := json.Unmarshal(raw, &g); err != nil {
		return nil, badUpload("the geometry is not GeoJSON: %v", jsonMessage(err))
	}
	if err := checkCRS(g.CRS); err != nil {
		return nil, err
	}
	var polys [][][][]float64
	switch g.Type {
	case "Polygon":
		var p [][][]float64
		if err := json.Unmarshal(g.Coordinates, &p); err != nil {
			return nil, badUpload("the Polygon's coordinates are not an array of rings of [longitude, latitude] positions")
		}
		polys = [][][][]float64{p}
	case "MultiPolygon":
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return nil, badUpload("the MultiPolygon's coordinates are not an array of polygons of rings of [longitude, latitude] positions")
		}
	default:
		return nil, notPolygon(g.Type)
	}
	if len(polys) == 0 {
		return nil, badUpload("the geometry is empty")
	}
	mp := make(orb.MultiPolygon, 0, len(polys))
	vertices := 0
	for i, p := range polys {
		if len(p) == 0 {
			return nil, badUpload("polygon %d has no rings", i+1)
		}
		poly := make(orb.Polygon, 0, len(p))
		for j, r := range p {
			where := fmt.Sprintf("polygon %d, ring %d", i+1, j+1)
			if len(polys) == 1 {
				where = fmt.Sprintf("ring %d", j+1)
			}
			if len(r) < 4 {
				return nil, badUpload("%s has %d positions; a ring needs at least 4 (the last repeating the first)", where, len(r))
			}
			vertices += len(r)
			if vertices > MaxUploadVertices {
				return nil, badUpload("the outline has more than %d vertices; simplify it", MaxUploadVertices)
			}
			ring := make(orb.Ring, len(r))
			for k, pos := range r {
				if len(pos) < 2 || len(pos) > 3 {
					return nil, badUpload("%s, position %d has %d coordinates; want [longitude, latitude]", where, k+1, len(pos))
				}
				x, y := pos[0], pos[1]
				if math.IsNaN(x) || math.IsNaN(y) || x < -180 || x > 180 || y < -90 || y > 90 {
					if x >= 0 && x <= 800000 && y >= 0 && y <= 1400000 {
						return nil, badUpload("%s, position %d is (%g, %g): that is not longitude/latitude but looks like British National Grid eastings/northings; export the file as WGS84 (EPSG:4326)", where, k+1, x, y)
					}
					return nil, badUpload("%s, position %d is (%g, %g): not a WGS84 longitude/latitude", where, k+1, x, y)
				}
				ring[k] = orb.Point{x, y}
			}
			if ring[0] != ring[len(ring)-1] {
				return nil, badUpload("%s is not closed: its last position must repeat its first", where)
			}
			poly = append(poly, ring)
		}
		mp = append(mp, poly)
	}
	return mp, nil
}

// jsonMessage shortens a decoding error to what helps a person: the
// standard library's messages name Go types.
func jsonMessage(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("invalid JSON at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		if te.Field != "" {
			return fmt.Sprintf("%q has the wrong type", te.Field)
		}
		return "a member has the wrong type"
	}
	return "invalid JSON"
}

// harboroughRegion is a generous box around the district (which spans
// about -1.35..-0.75 E, 52.36..52.70 N): an upload outside it is refused
// before PostGIS projects anything, so an outline in France or at the
// poles gets a clear answer, not a projection error.
var harboroughRegion = orb.Bound{Min: orb.Point{-2.5, 51.5}, Max: orb.Point{0.5, 53.5}}

// ReplaceResult says what Replace did.
type ReplaceResult struct {
	Slug       string
	OldAreaKm2 float64
	NewAreaKm2 float64
	Parts      int // polygons in the stored outline
	// Repaired is PostGIS's reason the upload was invalid (e.g. "Ring
	// Self-intersection at longitude -0.927, latitude 52.4758") when it
	// was repaired, or "".
	Repaired string
}

const (
	selectForReplace = `SELECT kind, ST_Area(geom_bng) / 1e6 FROM places WHERE slug = $1 FOR UPDATE`

	// checkUpload measures the uploaded outline ($1, WKB in WGS84) as
	// given and as repaired, against the district outline (the district
	// place, or else the district boundary).
	checkUpload = `WITH up AS (
	SELECT ST_GeomFromWKB($1, 4326) AS g
), detail AS (
	SELECT g, ST_IsValidDetail(g) AS d FROM up
), fixed AS (
	SELECT g, (d).valid AS valid,
	       COALESCE((d).reason || COALESCE(format(' at longitude %s, latitude %s',
	           round(ST_X((d).location)::numeric, 5), round(ST_Y((d).location)::numeric, 5)), ''), '') AS reason,
	       ST_Multi(ST_CollectionExtract(ST_MakeValid(g), 3)) AS f
	FROM detail
), district AS (
	SELECT COALESCE((SELECT ST_Union(geom_bng) FROM places WHERE kind = 'district'),
	                (SELECT ST_Union(geom_bng) FROM boundaries WHERE kind = 'district')) AS geom
), m AS (
	SELECT fixed.*, ST_Transform(g, 27700) AS g_bng, ST_Transform(f, 27700) AS f_bng, district.geom AS d
	FROM fixed, district
)
SELECT valid, reason, ST_IsEmpty(f) OR NOT ST_IsValid(f), ST_NumGeometries(f),
       ST_Area(g_bng) / 1e6, ST_Area(f_bng) / 1e6,
       d IS NOT NULL,
       COALESCE(ST_Intersects(d, f_bng), false),
       COALESCE(ST_Covers(ST_Buffer(d, $2::float8, 'quad_segs=2'), f_bng), false),
       COALESCE(ST_Distance(d, f_bng), 0) / 1000
FROM m`

	updateUploaded = `UPDATE places SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(ST_GeomFromWKB($2, 4326)), 3)),
	origin = 'uploaded', method = $3, sources = $4, built_at = now(), built_by = $5
WHERE slug = $1
RETURNING ST_Area(geom_bng) / 1e6, ST_NumGeometries(geom)`
)

// Replace puts an admin's uploaded outline (GeoJSON, see ParseUpload) in
// place of the place's current one, which goes to place_history. The
// outline must be polygons in WGS84, valid (or repairable without changing
// its area, see RepairTolerance), within NearDistrictM of the district,
// and of a sane area for the place's kind (Kind.AreaBounds). Its
// provenance becomes "uploaded by <actor> on <date>", and a later Build
// leaves it alone unless forced. Errors are ErrNotFound for an unknown
// slug and ErrBadUpload, with a message for the admin, for an outline
// that is refused; nothing is written then.
func Replace(ctx context.Context, pool *pgxpool.Pool, slug string, geojson []byte, actor string) (ReplaceResult, error) {
	res := ReplaceResult{Slug: slug}
	if err := checkActor(actor); err != nil {
		return res, err
	}
	mp, err := ParseUpload(geojson)
	if err != nil {
		return res, err
	}
	if b := mp.Bound(); !b.Intersects(harboroughRegion) {
		if swapped := (orb.Bound{Min: orb.Point{b.Min[1], b.Min[0]}, Max: orb.Point{b.Max[1], b.Max[0]}}); swapped.Intersects(harboroughRegion) {
			return res, badUpload("the outline lies at %.2f, %.2f: its positions look like [latitude, longitude]; GeoJSON wants [longitude, latitude]", b.Center()[0], b.Center()[1])
		}
		return res, badUpload("the outline lies at longitude %.2f, latitude %.2f, nowhere near Harborough District", b.Center()[0], b.Center()[1])
	}
	w, err := wkb.Marshal(mp)
	if err != nil {
		return res, badUpload("cannot encode the outline: %v", err)
	}
	sum := sha256.Sum256(geojson)
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockSQL, lockKey); err != nil {
			return err
		}
		var kind string
		err := tx.QueryRow(ctx, selectForReplace, slug).Scan(&kind, &res.OldAreaKm2)
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("place %q: %w", slug, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var (
			valid, broken, haveDistrict, intersects, near bool
			reason                                        string
			parts                                         int
			rawKm2, fixedKm2, distKm                      float64
		)
		if err := tx.QueryRow(ctx, checkUpload, w, float64(NearDistrictM)).Scan(&valid, &reason, &broken, &parts,
			&rawKm2, &fixedKm2, &haveDistrict, &intersects, &near, &distKm); err != nil {
			return err
		}
		switch {
		case broken:
			return badUpload("the outline has no area (%s)", reason)
		case !valid && math.Abs(fixedKm2-rawKm2) > RepairTolerance*fixedKm2:
			return badUpload("the outline is invalid (%s); repairing it would change its area from %.4f to %.4f km², so fix it (a ring that crosses itself usually has two vertices swapped)", reason, rawKm2, fixedKm2)
		case !haveDistrict:
			return fmt.Errorf("replace %s: no district outline to check against: run hotspot places build first", slug)
		case !intersects:
			return badUpload("the outline lies %.1f km outside Harborough District", distKm)
		case !near:
			return badUpload("the outline reaches more than %d m outside Harborough District", NearDistrictM)
		}
		if lo, hi := Kind(kind).AreaBounds(); fixedKm2 < lo || fixedKm2 > hi {
			return badUpload("the outline is %.4f km²; a %s should be %g to %g km²", fixedKm2, kind, lo, hi)
		}
		if !valid {
			res.Repaired = reason
		}
		method := fmt.Sprintf("Uploaded by %s on %s.", actor, time.Now().UTC().Format("2006-01-02"))
		if res.Repaired != "" {
			method += fmt.Sprintf(" Repaired on upload with ST_MakeValid (%s); the area changed by less than %.1f%%.", res.Repaired, RepairTolerance*100)
		}
		sources := []string{fmt.Sprintf("upload sha256:%s (%d bytes)", hex.EncodeToString(sum[:8]), len(geojson))}
		if _, err := tx.Exec(ctx, archivePlace, slug, actor); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, updateUploaded, slug, w, method, sources, actor).Scan(&res.NewAreaKm2, &res.Parts); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, bumpDataVersion)
		return err
	})
	if err != nil {
		return ReplaceResult{Slug: slug}, err
	}
	return res, nil
}

// checkActor keeps the names written into provenance and history to
// something a person can read.
func checkActor(actor string) error {
	if strings.TrimSpace(actor) == "" || len(actor) > 128 || !utf8.ValidString(actor) {
		return errors.New("replace: the actor must be a name of 1 to 128 characters")
	}
	for _, r := range actor {
		if unicode.IsControl(r) {
			return errors.New("replace: the actor's name has a control character")
		}
	}
	return nil
}
