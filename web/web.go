// Package web is the HTTP face of the server: the gorilla/mux router, one
// table of routes with who may use each, the handlers, and the Leaflet app
// embedded from web/static.
//
// Handlers return errors; one adapter (serve) turns an error into a status
// code and a message that helps the client, and logs the detail. No SQL
// text or internal error reaches a client.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"runtime/debug"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/harborough-csp/hotspot/tiles"
)

//go:embed static
var staticFiles embed.FS

// Pinger reports whether the database answers; *pgxpool.Pool is one.
type Pinger interface {
	Ping(ctx context.Context) error
}

// Config is what the web layer needs to know beyond the database.
type Config struct {
	// Basemap is "none" (the default: works offline) or "osm" for
	// OpenStreetMap's raster tiles under the data.
	Basemap string
	// PublicURL is the origin clients reach the server at, for absolute
	// URLs in TileJSON; empty means "from the request's Host".
	PublicURL string
	// TileTimeout bounds one tile query; past it the client gets 503.
	TileTimeout time.Duration
	// RequestTimeout bounds every other request.
	RequestTimeout time.Duration
}

// Validate fills in defaults and checks the configuration, so that a
// mistake is reported before anything slow (starting a database, loading
// data) has happened.
func (c *Config) Validate() error {
	if c.Basemap == "" {
		c.Basemap = "none"
	}
	if c.Basemap != "none" && c.Basemap != "osm" {
		return fmt.Errorf("basemap %q: want none or osm", c.Basemap)
	}
	if c.TileTimeout == 0 {
		c.TileTimeout = 10 * time.Second
	}
	if c.RequestTimeout == 0 {
		c.RequestTimeout = 30 * time.Second
	}
	if c.TileTimeout < 0 || c.RequestTimeout < 0 {
		return fmt.Errorf("timeouts must be positive (tile %v, request %v)", c.TileTimeout, c.RequestTimeout)
	}
	if c.PublicURL != "" {
		u, err := url.Parse(c.PublicURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
			return fmt.Errorf("public URL %q: want http(s)://host[:port][/prefix]", c.PublicURL)
		}
	}
	return nil
}

// Access says who may use a route. Every route declares one.
type Access int

const (
	// accessUnset is the zero value, so that a route that forgets to say
	// who may use it is refused by New rather than silently public.
	accessUnset Access = iota
	// Public routes are open to anyone, signed in or not. They must serve
	// only data that is safe for the public.
	Public
)

func (a Access) String() string {
	switch a {
	case Public:
		return "public"
	}
	return fmt.Sprintf("Access(%d)", int(a))
}

// Route is one entry of the route table.
type Route struct {
	Name   string
	Method string
	Path   string // mux template; a trailing "/" with Prefix true matches a subtree
	Prefix bool
	Access Access
	handle func(http.ResponseWriter, *http.Request) error
}

// Server holds the handlers' dependencies.
type Server struct {
	db     Pinger
	tiles  *tiles.Server
	cfg    Config
	log    *slog.Logger
	static fs.FS
	routes []Route
}

// New returns the server over db (for health checks) and the tile server.
// extra adds routes that other parts of the package build (each declares
// its own access like every other route).
func New(db Pinger, ts *tiles.Server, cfg Config, log *slog.Logger, extra ...Route) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	s := &Server{db: db, tiles: ts, cfg: cfg, log: log, static: static}
	s.routes = []Route{
		{Name: "healthz", Method: http.MethodGet, Path: "/healthz", Access: Public, handle: s.healthz},
		{Name: "config", Method: http.MethodGet, Path: "/api/config", Access: Public, handle: s.config},
		{Name: "tilejson", Method: http.MethodGet, Path: "/tiles/{layer}.json", Access: Public, handle: s.tileJSON},
		{Name: "tile", Method: http.MethodGet, Path: "/tiles/{layer}/{z}/{x}/{y}.mvt", Access: Public, handle: s.tile},
	}
	s.routes = append(s.routes, extra...)
	// The static subtree matches every path, so it goes last.
	s.routes = append(s.routes, Route{Name: "static", Method: http.MethodGet, Path: "/", Prefix: true, Access: Public, handle: s.staticFile})
	if err := checkRoutes(s.routes); err != nil {
		return nil, err
	}
	return s, nil
}

// checkRoutes refuses a route table with a route that declares no access
// or a name used twice.
func checkRoutes(routes []Route) error {
	seen := map[string]bool{}
	for _, r := range routes {
		if r.Access == accessUnset {
			return fmt.Errorf("route %q declares no access", r.Name)
		}
		if seen[r.Name] {
			return fmt.Errorf("route name %q used twice", r.Name)
		}
		seen[r.Name] = true
	}
	return nil
}

// Routes returns the route table, for documentation and for tests that
// walk every route.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// Handler returns the router with the access log and security headers.
func (s *Server) Handler() http.Handler {
	r := mux.NewRouter()
	for _, rt := range s.routes {
		h := s.serve(rt)
		var m *mux.Route
		if rt.Prefix {
			m = r.PathPrefix(rt.Path)
		} else {
			m = r.Path(rt.Path)
		}
		m.Methods(rt.Method, http.MethodHead).Handler(h).Name(rt.Name)
	}
	r.NotFoundHandler = s.serve(Route{Name: "not-found", handle: func(http.ResponseWriter, *http.Request) error {
		return errNotFound
	}})
	r.MethodNotAllowedHandler = s.serve(Route{Name: "method-not-allowed", handle: func(http.ResponseWriter, *http.Request) error {
		return &Error{Status: http.StatusMethodNotAllowed, Message: "method not allowed"}
	}})
	return securityHeaders(r)
}

// Error is an error with the status and message the client should get.
type Error struct {
	Status  int
	Message string
	Err     error // the detail, for the log only
}

func (e *Error) Error() string {
	if e.Err != nil {
		return e.Message + ": " + e.Err.Error()
	}
	return e.Message
}

func (e *Error) Unwrap() error { return e.Err }

var errNotFound = &Error{Status: http.StatusNotFound, Message: "not found"}

// status maps an error to what the client is told.
func status(err error) (int, string) {
	var he *Error
	switch {
	case errors.As(err, &he):
		return he.Status, he.Message
	case errors.Is(err, tiles.ErrBadTile):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, tiles.ErrUnknownLayer):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, context.DeadlineExceeded), isQueryCanceled(err):
		return http.StatusServiceUnavailable, "the query took too long; try a smaller area or a narrower filter"
	case errors.Is(err, context.Canceled):
		return 499, "client closed request" // nginx's code: the client went away
	}
	return http.StatusInternalServerError, "internal error"
}

// isQueryCanceled reports whether PostgreSQL cancelled the statement
// (SQLSTATE 57014): its statement_timeout, the server-side twin of our
// request deadlines.
func isQueryCanceled(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014"
}

// serve adapts a handler that returns an error into an http.Handler, and
// writes the access log line.
func (s *Server) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		// Every request has a deadline; the request's own context also ends
		// when the client hangs up, which cancels its query.
		ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
		defer cancel()
		err := s.call(rt, rec, r.WithContext(ctx))
		if err != nil {
			code, msg := status(err)
			if code >= 500 && code != http.StatusServiceUnavailable {
				s.log.Error("request failed", "route", rt.Name, "path", r.URL.Path, "err", err)
			}
			if !rec.wrote && code != 499 {
				writeJSON(rec, code, map[string]any{"error": msg, "status": code})
			} else if code == 499 {
				rec.status = code
			}
		}
		s.log.Info("request", "method", r.Method, "route", rt.Name, "path", r.URL.Path,
			"status", rec.code(), "bytes", rec.bytes, "ms", float64(time.Since(start).Microseconds())/1000,
			"remote", r.RemoteAddr)
	})
}

// call runs the handler, turning a panic into an error so that the client
// gets a 500 and the log gets the detail and an access line.
func (s *Server) call(rt Route, w http.ResponseWriter, r *http.Request) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return rt.handle(w, r)
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
	}
	n, err := r.ResponseWriter.Write(b)
	r.bytes += n
	return n, err
}

func (r *recorder) code() int {
	if r.status == 0 {
		return http.StatusOK
	}
	return r.status
}

func writeJSON(w http.ResponseWriter, code int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.WriteHeader(code)
	_, err = w.Write(append(b, '\n'))
	return err
}

// contentSecurityPolicy allows only our own scripts and styles; the one
// outside origin is OpenStreetMap's tile server, used only when the
// operator asks for that basemap.
const contentSecurityPolicy = "default-src 'self'; img-src 'self' data: https://tile.openstreetmap.org; " +
	"style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}

// hostPattern is a DNS name or IPv4 address, or a bracketed IPv6 address,
// with an optional port: what a browser sends as Host.
var hostPattern = regexp.MustCompile(`^([A-Za-z0-9.-]{1,253}|\[[0-9A-Fa-f:.]{2,45}\])(:[0-9]{1,5})?$`)

// baseURL is the origin for absolute URLs in responses: the configured
// public URL, or else the request's Host. A Host that is not a plain
// host[:port] is refused, so a client cannot plant markup or another path in
// the URLs we hand out. Behind a proxy, set PublicURL.
func (s *Server) baseURL(r *http.Request) (string, error) {
	if s.cfg.PublicURL != "" {
		return strings.TrimRight(s.cfg.PublicURL, "/"), nil
	}
	if !hostPattern.MatchString(r.Host) {
		return "", &Error{Status: http.StatusBadRequest, Message: "bad Host header"}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host, nil
}
