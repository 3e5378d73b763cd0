package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/harborough-csp/hotspot/tiles"
)

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.db.Ping(ctx); err != nil {
		s.log.Warn("health check: database does not answer", "err", err)
		return writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable", "database": "unreachable"})
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok", "database": "ok"})
}

type basemap struct {
	URL         string `json:"url"`
	Attribution string `json:"attribution"`
	MaxZoom     int    `json:"max_zoom"`
}

type appConfig struct {
	Title   string     `json:"title"`
	Center  [2]float64 `json:"center"`
	Zoom    int        `json:"zoom"`
	Bounds  [4]float64 `json:"bounds"`
	Basemap *basemap   `json:"basemap"`
	// IncidentCount is the precise table's total, for callers who may
	// see the incidents layer only: a grand total over every category and
	// month is exactly what the public data withholds (sensitive counts
	// could be had by subtraction).
	IncidentCount *int64 `json:"incident_count,omitempty"`
	Notice        string `json:"notice"`
	// Layers are the tile layers the caller may see.
	Layers []string `json:"layers"`
	// User is who is signed in, or null.
	User *userJSON `json:"user"`
	// Hotspots says which hotspots the caller gets: "staff" (the
	// engine's, GET /api/hotspots), "public" (GET /api/public/hotspots),
	// or "" when this server serves neither.
	Hotspots string `json:"hotspots"`
}

// NoDataNotice is shown on the map when no incidents are loaded.
const NoDataNotice = "No incidents loaded yet. Import police.uk street-level CSV files with: hotspot import police-uk FILE..."

func (s *Server) config(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	b, err := s.tiles.Bounds(ctx)
	if err != nil {
		return err
	}
	n, err := s.tiles.IncidentCount(ctx)
	if err != nil {
		return err
	}
	var user *User
	if u, ok := UserFrom(ctx); ok {
		user = &u
	}
	layers := []string{}
	for _, name := range s.tiles.Names() {
		if a, ok := s.layers[name]; ok && a.allows(user) && s.tiles.Offers(name, audienceOf(user)) {
			layers = append(layers, name)
		}
	}
	c := appConfig{
		Title:  "Harborough crime map",
		Center: [2]float64{(b[0] + b[2]) / 2, (b[1] + b[3]) / 2},
		Zoom:   11,
		Bounds: b,
		Layers: layers,
		User:   publicUser(user),
	}
	if a, ok := s.layers["incidents"]; ok && a.allows(user) {
		c.IncidentCount = &n
	}
	c.Hotspots = s.hotspotsFor(user)
	if n == 0 {
		c.Notice = NoDataNotice
	}
	if s.cfg.Basemap == "osm" {
		c.Basemap = &basemap{
			URL:         "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
			Attribution: `© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors`,
			MaxZoom:     19,
		}
	}
	return writeJSON(w, http.StatusOK, c)
}

// tileJSON describes one layer; each layer has its own route, with its
// own access (see tileRoutes).
func (s *Server) tileJSON(layer string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		base, err := s.baseURL(r)
		if err != nil {
			return err
		}
		tj, err := s.tiles.TileJSON(r.Context(), layer, base)
		if err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, tj)
	}
}

// unknownLayer answers a tile or TileJSON request for a layer that has no
// route of its own: 404, listing the layers. It never serves data, so it
// can be public.
func (s *Server) unknownLayer(w http.ResponseWriter, r *http.Request) error {
	name := mux.Vars(r)["layer"]
	if _, ok := s.layers[name]; ok {
		// A known layer always matches its own route first; reaching here
		// would be a routing bug, and must not serve its data.
		return errNotFound
	}
	return fmt.Errorf("%w %q (layers: %v)", tiles.ErrUnknownLayer, name, s.tiles.Names())
}

// mvtType is the registered media type of Mapbox Vector Tiles.
const mvtType = "application/vnd.mapbox-vector-tile"

// tile serves one layer's tiles; each layer has its own route, with its
// own access (see tileRoutes).
func (s *Server) tile(layer string) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		return s.serveTile(w, r, layer)
	}
}

func (s *Server) serveTile(w http.ResponseWriter, r *http.Request, layer string) error {
	v := mux.Vars(r)
	t, err := tiles.ParseTile(v["z"], v["x"], v["y"])
	if err != nil {
		return err
	}
	l, err := s.tiles.Layer(layer)
	if err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	req := tiles.Request{Layer: layer, Tile: t, Audience: audienceOf(&u)}
	q := r.URL.Query()
	switch l.Params {
	case tiles.FilterParams:
		if req.Filter, err = tiles.ParseFilter(q); err != nil {
			return err
		}
	case tiles.MonthParams:
		if req.Months, err = tiles.ParseMonths(q.Get("date"), q.Get("date_from"), q.Get("date_to")); err != nil {
			return &Error{Status: http.StatusBadRequest, Message: err.Error()}
		}
	case tiles.HotspotParams:
		if req.Hotspots, err = tiles.ParseHotspotFilter(q); err != nil {
			return err
		}
	default:
		if len(r.URL.RawQuery) > 0 {
			return &Error{Status: http.StatusBadRequest, Message: "the " + layer + " layer takes no query parameters"}
		}
	}
	// The request's context carries the client: if it hangs up, the query
	// is cancelled. The timeout turns a runaway query into a 503.
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.TileTimeout)
	defer cancel()
	tile, err := s.tiles.Get(ctx, req)
	if err != nil {
		return err
	}
	h := w.Header()
	body, etag := tile.Body, tile.ETag
	if len(tile.Gzip) > 0 && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		body, etag = tile.Gzip, tile.GzipETag()
		h.Set("Content-Encoding", "gzip")
	}
	h.Set("ETag", etag)
	h.Add("Vary", "Accept-Encoding")
	if l.ByAudience {
		// The same URL gives the police and the public different tiles.
		h.Add("Vary", "Cookie")
		h.Add("Vary", "Authorization")
	}
	if req.Audience == tiles.AudiencePublic {
		// Anyone may see it, so browsers and proxies may keep it a minute;
		// serve makes it private for a signed-in caller whatever we say.
		h.Set("Cache-Control", "public, max-age=60")
	} else {
		h.Set("Cache-Control", "private, no-cache")
	}
	h.Set("X-Tile-Source", tile.Source)
	h.Set("X-Data-Version", strconv.FormatInt(tile.Version, 10))
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, etag) {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNotModified)
		return nil
	}
	if len(tile.Body) == 0 {
		h.Del("Content-Encoding")
		w.WriteHeader(http.StatusNoContent)
		return nil
	}
	h.Set("Content-Type", mvtType)
	h.Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return nil
	}
	_, err = w.Write(body)
	return err
}

// audienceOf is whose tiles a caller gets: police and analysts their own,
// admins and anonymous callers the public's (an admin manages the
// service and sees no more data than the public).
func audienceOf(u *User) tiles.Audience {
	if u != nil {
		switch u.Role {
		case "police":
			return tiles.AudiencePolice
		case "analyst":
			return tiles.AudienceAnalyst
		}
	}
	return tiles.AudiencePublic
}

// acceptsGzip reads Accept-Encoding: gzip (or *) without q=0.
func acceptsGzip(h string) bool {
	for _, part := range strings.Split(h, ",") {
		name, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		name = strings.ToLower(strings.TrimSpace(name))
		if name != "gzip" && name != "x-gzip" && name != "*" {
			continue
		}
		p := strings.ReplaceAll(strings.TrimSpace(params), " ", "")
		if p == "q=0" || p == "q=0.0" || p == "q=0.00" || p == "q=0.000" {
			return false
		}
		return true
	}
	return false
}

func etagMatches(header, etag string) bool {
	for _, part := range strings.Split(header, ",") {
		p := strings.TrimSpace(part)
		if p == etag || p == "*" || strings.TrimPrefix(p, "W/") == etag {
			return true
		}
	}
	return false
}

// staticFile serves the embedded Leaflet app. Files are immutable within a
// build, so their ETag is their content hash.
func (s *Server) staticFile(w http.ResponseWriter, r *http.Request) error {
	name := strings.TrimPrefix(path.Clean("/"+r.URL.Path), "/")
	if name == "" {
		name = "index.html"
	}
	b, err := fs.ReadFile(s.static, name)
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrInvalid) {
		return errNotFound
	}
	if err != nil {
		// A directory, say: there is no listing to show.
		return errNotFound
	}
	sum := sha256.Sum256(b)
	w.Header().Set("ETag", `"`+base64.RawURLEncoding.EncodeToString(sum[:16])+`"`)
	w.Header().Set("Cache-Control", "no-cache")
	http.ServeContent(w, r, name, time.Time{}, bytes.NewReader(b))
	return nil
}

// hotspotsFor is which hotspot API user may use on this server: the
// staff one when its route exists and allows them, else the public one
// when it exists.
func (s *Server) hotspotsFor(user *User) string {
	var staff, public bool
	for _, rt := range s.routes {
		switch rt.Name {
		case "hotspots":
			staff = rt.Access.allows(user)
		case "public-hotspots":
			public = true
		}
	}
	switch {
	case staff:
		return "staff"
	case public:
		return "public"
	}
	return ""
}
