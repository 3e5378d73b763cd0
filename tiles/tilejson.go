package tiles

import (
	"context"
	"errors"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"
)

// Attribution is the credit the data's licences ask for wherever it is shown.
const Attribution = `Contains public sector information licensed under the ` +
	`<a href="https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/">Open Government Licence v3.0</a>. ` +
	`Crime data: <a href="https://data.police.uk/">data.police.uk</a>. ` +
	`Contains OS data © Crown copyright and database right 2025. ` +
	`Contains Royal Mail data © Royal Mail copyright and database right 2025. ` +
	`Contains National Statistics data © Crown copyright and database right. ` +
	`Place names © <a href="https://www.geonames.org/">GeoNames</a> (CC BY 4.0).`

// HarboroughBounds returns the district's extent (west, south, east,
// north), used until a district boundary is loaded.
func HarboroughBounds() [4]float64 { return [4]float64{-1.2680, 52.3840, -0.7210, 52.6570} }

// VectorLayer describes one MVT layer inside a TileJSON document.
type VectorLayer struct {
	ID          string            `json:"id"`
	Description string            `json:"description,omitempty"`
	MinZoom     int               `json:"minzoom"`
	MaxZoom     int               `json:"maxzoom"`
	Fields      map[string]string `json:"fields"`
}

// TileJSON is a TileJSON 3.0.0 document.
type TileJSON struct {
	TileJSON     string        `json:"tilejson"`
	Name         string        `json:"name"`
	Description  string        `json:"description,omitempty"`
	Version      string        `json:"version"`
	Attribution  string        `json:"attribution"`
	Scheme       string        `json:"scheme"`
	Tiles        []string      `json:"tiles"`
	MinZoom      int           `json:"minzoom"`
	MaxZoom      int           `json:"maxzoom"`
	Bounds       [4]float64    `json:"bounds"`
	Center       [3]float64    `json:"center"`
	VectorLayers []VectorLayer `json:"vector_layers"`
}

const boundsSQL = `
SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e)
FROM (SELECT ST_Extent(geom) AS e FROM boundaries WHERE kind = 'district') s
WHERE e IS NOT NULL`

// Bounds returns the district's extent from the loaded boundary, or
// HarboroughBounds when none is loaded.
func (s *Server) Bounds(ctx context.Context) ([4]float64, error) {
	var b [4]float64
	// The district outline is reference data: read it as the public role
	// when there is a public pool, since anyone may ask for it.
	err := s.poolFor(Layer{reference: true}).QueryRow(ctx, boundsSQL).Scan(&b[0], &b[1], &b[2], &b[3])
	if err != nil {
		if errors.Is(err, pgx.ErrNoRows) {
			return HarboroughBounds(), nil
		}
		return b, fmt.Errorf("bounds: %w", err)
	}
	return b, nil
}

// IncidentCount returns how many incidents are stored, located or not.
func (s *Server) IncidentCount(ctx context.Context) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, countIncidentsSQL).Scan(&n); err != nil {
		return 0, fmt.Errorf("count incidents: %w", err)
	}
	return n, nil
}

const countIncidentsSQL = `SELECT count(*) FROM incidents`

// layerBounds returns the layer's data extent, or the district's when the
// layer is empty.
func (s *Server) layerBounds(ctx context.Context, l Layer) ([4]float64, error) {
	if l.Name == PublicLayerName {
		if s.public == nil {
			return [4]float64{}, ErrNoPublicPool
		}
		b, ok, err := s.public.Bounds(ctx)
		if err != nil || ok {
			return b, err
		}
		return s.Bounds(ctx)
	}
	if l.extentSQL == "" {
		return s.Bounds(ctx)
	}
	var b [4]float64
	err := s.poolFor(l).QueryRow(ctx, `SELECT ST_XMin(e), ST_YMin(e), ST_XMax(e), ST_YMax(e) FROM (`+l.extentSQL+`) x(e)`).
		Scan(&b[0], &b[1], &b[2], &b[3])
	if errors.Is(err, pgx.ErrNoRows) {
		return s.Bounds(ctx)
	}
	if err != nil {
		return b, fmt.Errorf("%s bounds: %w", l.Name, err)
	}
	return b, nil
}

// TileJSON describes layer; baseURL is the server's external origin and
// path prefix, e.g. "http://127.0.0.1:8080".
func (s *Server) TileJSON(ctx context.Context, layer, baseURL string) (TileJSON, error) {
	l, err := s.Layer(layer)
	if err != nil {
		return TileJSON{}, err
	}
	b, err := s.layerBounds(ctx, l)
	if err != nil {
		return TileJSON{}, err
	}
	fields := make(map[string]string, len(l.Fields))
	keys := make([]string, 0, len(l.Fields))
	for k := range l.Fields {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fields[k] = l.Fields[k]
	}
	return TileJSON{
		TileJSON:    "3.0.0",
		Name:        l.Name,
		Description: l.Description,
		Version:     "1.0.0",
		Attribution: Attribution,
		Scheme:      "xyz",
		Tiles:       []string{fmt.Sprintf("%s/tiles/%s/{z}/{x}/{y}.mvt", baseURL, l.Name)},
		MinZoom:     l.MinZoom,
		MaxZoom:     l.MaxZoom,
		Bounds:      b,
		Center:      [3]float64{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2, 11},
		VectorLayers: []VectorLayer{{
			ID: l.Name, Description: l.Description, MinZoom: l.MinZoom, MaxZoom: l.MaxZoom, Fields: fields,
		}},
	}, nil
}
