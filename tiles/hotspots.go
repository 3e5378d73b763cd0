package tiles

import (
	"context"
	"fmt"
	"net/url"
	"strconv"
)

// The hotspots layer: the hotspot engine's current polygons (geo/hotspot,
// table hotspots) for one place, priority, window and method, with their
// numbers. Repeat locations (points) are not in it: the layer is for the
// police and analysts, and only the police see precise points.

// HotspotFilter selects one analysis of the current hotspot run.
type HotspotFilter struct {
	Location string // a place slug; default the district
	Priority int    // 0 (all crime) to 5
	Window   string // last-1, last-3, last-12
	Method   string // gi-star, kde
}

// ParseHotspotFilter reads location, priority (1-5 or all), window and
// method; anything else, a repeated or a bad value is ErrBadFilter.
func ParseHotspotFilter(q url.Values) (HotspotFilter, error) {
	f := HotspotFilter{Location: "harborough-district", Window: "last-12", Method: "gi-star"}
	for k, vs := range q {
		if len(vs) > 1 {
			return f, fmt.Errorf("%w: %s is given %d times; give it once", ErrBadFilter, k, len(vs))
		}
		v := vs[0]
		switch k {
		case "location":
			if len(v) > 64 || !slugPattern.MatchString(v) {
				return f, fmt.Errorf("%w: location %q: want a place slug such as lutterworth", ErrBadFilter, cut(v))
			}
			f.Location = v
		case "priority":
			if v == "all" {
				f.Priority = 0
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < 0 || n > 5 {
				return f, fmt.Errorf("%w: priority %q: want 1 to 5 or all", ErrBadFilter, cut(v))
			}
			f.Priority = n
		case "window":
			if v != "last-1" && v != "last-3" && v != "last-12" {
				return f, fmt.Errorf("%w: window %q: want last-1, last-3 or last-12", ErrBadFilter, cut(v))
			}
			f.Window = v
		case "method":
			if v != "gi-star" && v != "kde" {
				return f, fmt.Errorf("%w: method %q: want gi-star or kde", ErrBadFilter, cut(v))
			}
			f.Method = v
		default:
			return f, fmt.Errorf("%w: unknown parameter %q: the hotspots layer takes location, priority, window and method", ErrBadFilter, cut(k))
		}
	}
	return f, nil
}

// Key is f for cache keys.
func (f HotspotFilter) Key() string {
	if f.Location == "" {
		return ""
	}
	return fmt.Sprintf("h%s/%d/%s/%s", f.Location, f.Priority, f.Window, f.Method)
}

// hotspotsSQL reads the current run's hotspots of one analysis in the
// tile, in one statement (the pointer and the rows from one snapshot).
const hotspotsSQL = `
WITH env AS (
	SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
	       ST_TileEnvelope($1::int, $2::int, $3::int, margin => $4::float8) AS area
)
SELECT ST_AsMVT(t, 'hotspots', 4096, 'geom', 'id') FROM (
	SELECT h.id, ST_AsMVTGeom(h.geom_web, env.tile, 4096, 64, true) AS geom,
	       s.place, s.priority, s.time_window AS "window", s.method, h.confidence, h.rank, h.incidents,
	       h.area_m2 / 1e6 AS area_km2, h.share, h.prev_change, h.yoy_change, h.peak_month,
	       h.top_categories -> 0 ->> 'category' AS top_category
	FROM hotspot_current c
	JOIN hotspot_sets s ON s.run_id = c.run_id
	JOIN hotspots h ON h.set_id = s.id
	CROSS JOIN env
	WHERE s.place = $5 AND s.priority = $6 AND s.time_window = $7 AND s.method = $8 AND h.geom_web && env.area
) t
WHERE t.geom IS NOT NULL`

const hotspotsExtentSQL = `SELECT e FROM (SELECT ST_Extent(h.geom) AS e FROM hotspot_current c JOIN hotspots h ON h.run_id = c.run_id) s WHERE e IS NOT NULL`

func hotspotsTile(ctx context.Context, s *Server, r Request) ([]byte, string, error) {
	f := r.Hotspots
	if f.Location == "" {
		f, _ = ParseHotspotFilter(nil)
	}
	b, err := queryBytes(ctx, s.pool, hotspotsSQL, int(r.Tile.Z), int(r.Tile.X), int(r.Tile.Y), float64(Buffer)/Extent,
		f.Location, f.Priority, f.Window, f.Method)
	return b, "hotspots", err
}
