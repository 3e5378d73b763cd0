// Package web is the HTTP face of the server: the gorilla/mux router, one
// table of routes with who may use each, the handlers, the sign-in page,
// and the Leaflet app embedded from web/static.
//
// Handlers return errors; one adapter (serve) turns an error into a status
// code and a message that helps the client, and logs the detail. No SQL
// text or internal error reaches a client.
//
// serve is also where access is enforced, so that no handler can forget
// it: before a handler runs, serve finds the caller (an API token in
// "Authorization: Bearer", else a session cookie, else anonymous), puts
// them in the request's context (UserFrom), and applies the route's
// declared Access (401 for anonymous callers of a non-public route, 403
// for a role the route does not list), the token scope the route needs,
// and, on requests that change state, the origin and CSRF checks. Tile
// layers get one route each, with the layer's access, so the precise
// incidents layer is the police's by construction.
//
// Users, sessions and tokens live in PostgreSQL behind the Auth interface,
// which geo/auth implements; this package does not import it.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"net/url"
	"regexp"
	"runtime/debug"
	"strconv"
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
	// TrustedProxies are the reverse proxies whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed (see proxy.go). Empty: none.
	TrustedProxies []netip.Prefix
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

// Access says who may use a route: Public (anyone, signed in or not), or a
// set of roles, e.g. Police|Analyst. Every route declares one; the zero
// value is invalid, so a route that forgets is refused when the server
// starts rather than being open by accident. serve enforces it before the
// handler runs; handlers never check roles themselves.
type Access uint8

const (
	// Public routes are open to anyone, signed in or not. They must serve
	// only data that is safe for the public.
	Public Access = 1 << iota
	// Police may see precise incidents.
	Police
	// Analyst works with aggregates and hotspots.
	Analyst
	// Admin manages users and data.
	Admin

	// SignedIn is every role: any user who has signed in.
	SignedIn = Police | Analyst | Admin

	// accessUnset is the zero value: a route without declared access.
	accessUnset Access = 0
	// accessAll is every bit a route may use.
	accessAll = Public | SignedIn
)

func (a Access) String() string {
	if a == accessUnset {
		return "unset"
	}
	var parts []string
	for _, b := range []struct {
		bit  Access
		name string
	}{{Public, "public"}, {Police, "police"}, {Analyst, "analyst"}, {Admin, "admin"}} {
		if a&b.bit != 0 {
			parts = append(parts, b.name)
		}
	}
	if a&^accessAll != 0 {
		parts = append(parts, fmt.Sprintf("Access(%#x)", uint8(a&^accessAll)))
	}
	return strings.Join(parts, "|")
}

// Route is one entry of the route table.
type Route struct {
	Name   string
	Method string
	Path   string // mux template; a trailing "/" with Prefix true matches a subtree
	Prefix bool
	// Access is who may use the route.
	Access Access
	// TokenScope is the scope an API token needs to call the route (its
	// user's role must also be allowed). Empty means "read" for GET
	// routes; other routes take no API tokens unless they name a scope
	// (ScopeIngest for machine uploads).
	TokenScope string
	handle     func(http.ResponseWriter, *http.Request) error
}

// Server holds the handlers' dependencies.
type Server struct {
	db     Pinger
	tiles  *tiles.Server
	auth   Auth
	cfg    Config
	log    *slog.Logger
	static fs.FS
	routes []Route
	// layers is each tile layer's access, from layerAccess.
	layers map[string]Access
}

// layerAccess says who may see each tile layer. A layer of the tile
// catalogue missing here stops the server from starting, so that a new
// layer cannot become public by accident.
//
// A layer whose tiles differ by audience (tiles.Layer.ByAudience) may be
// Public here: the tile server then gives each caller their audience's
// data (audienceOf), and checkLayerAccess makes sure that every role the
// entry lets in, and the public if it is Public, has data of its own in
// the layer, so that no role falls through to someone else's.
var layerAccess = map[string]Access{
	"incidents":  Police,           // precise points
	"hotspots":   Police | Analyst, // the engine's polygons from the precise data (no repeat-location points)
	"density":    Public,           // police and analysts: counts of every incident; the rest: anonymised counts from open.*, small ones withheld
	"locations":  Public,           // named places, through the public pool
	"boundaries": Public,
	"public":     Public, // anonymised: map points and counts from open.*, through the public pool
}

// New returns the server over db (for health checks), the tile server and
// the user store. extra adds routes that other parts of the package build
// (each declares its own access like every other route).
func New(db Pinger, ts *tiles.Server, users Auth, cfg Config, log *slog.Logger, extra ...Route) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if users == nil {
		return nil, errors.New("web.New: no user store (Auth) given")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	static, err := fs.Sub(staticFiles, "static")
	if err != nil {
		return nil, err
	}
	s := &Server{db: db, tiles: ts, auth: users, cfg: cfg, log: log, static: static}
	var names []string
	for _, l := range tiles.Catalogue() {
		names = append(names, l.Name)
		if err := checkLayerAccess(l, layerAccess); err != nil {
			return nil, err
		}
	}
	tileRoutes, layers, err := s.tileRoutes(names, layerAccess)
	if err != nil {
		return nil, err
	}
	s.layers = layers
	s.routes = []Route{
		{Name: "healthz", Method: http.MethodGet, Path: "/healthz", Access: Public, handle: s.healthz},
		{Name: "config", Method: http.MethodGet, Path: "/api/config", Access: Public, handle: s.config},
		{Name: "me", Method: http.MethodGet, Path: "/api/me", Access: Public, handle: s.me},
		{Name: "login-page", Method: http.MethodGet, Path: "/login", Access: Public, handle: s.loginPage},
		{Name: "login", Method: http.MethodPost, Path: "/login", Access: Public, handle: s.login},
		{Name: "logout", Method: http.MethodPost, Path: "/logout", Access: SignedIn, handle: s.logout},
	}
	s.routes = append(s.routes, tileRoutes...)
	s.routes = append(s.routes, extra...)
	// The static subtree matches every path, so it goes last.
	s.routes = append(s.routes, Route{Name: "static", Method: http.MethodGet, Path: "/", Prefix: true, Access: Public, handle: s.staticFile})
	if err := checkRoutes(s.routes); err != nil {
		return nil, err
	}
	return s, nil
}

// tileRoutes declares one tile route and one TileJSON route per layer,
// each with that layer's access from table, so that the router, not the
// handler, keeps a precise layer from the public. A layer without an entry
// is an error. Two catch-all routes come after them and answer 404 with
// the layer list for any other name; they serve no data.
func (s *Server) tileRoutes(names []string, table map[string]Access) ([]Route, map[string]Access, error) {
	var routes []Route
	layers := map[string]Access{}
	for _, name := range names {
		a, ok := table[name]
		if !ok {
			return nil, nil, fmt.Errorf("tile layer %q has no access in web's layer table: say who may see it", name)
		}
		layers[name] = a
		routes = append(routes,
			Route{Name: "tilejson-" + name, Method: http.MethodGet, Path: "/tiles/" + name + ".json", Access: a, handle: s.tileJSON(name)},
			Route{Name: "tile-" + name, Method: http.MethodGet, Path: "/tiles/" + name + "/{z}/{x}/{y}.mvt", Access: a, handle: s.tile(name)},
		)
	}
	routes = append(routes,
		Route{Name: "tilejson-unknown", Method: http.MethodGet, Path: "/tiles/{layer}.json", Access: Public, handle: s.unknownLayer},
		Route{Name: "tile-unknown", Method: http.MethodGet, Path: "/tiles/{layer}/{z}/{x}/{y}.mvt", Access: Public, handle: s.unknownLayer},
	)
	return routes, layers, nil
}

// checkLayerAccess refuses a layer whose access lets in a caller for
// whose audience (audienceOf) the layer has no data.
func checkLayerAccess(l tiles.Layer, table map[string]Access) error {
	a, ok := table[l.Name]
	if !ok {
		return nil // tileRoutes reports it
	}
	need := map[tiles.Audience]bool{}
	if a&Public != 0 || a&Admin != 0 {
		need[tiles.AudiencePublic] = true
	}
	if a&Public != 0 || a&Police != 0 {
		need[tiles.AudiencePolice] = true
	}
	if a&Public != 0 || a&Analyst != 0 {
		need[tiles.AudienceAnalyst] = true
	}
	for _, aud := range []tiles.Audience{tiles.AudiencePublic, tiles.AudiencePolice, tiles.AudienceAnalyst} {
		if need[aud] && !l.Offers(aud) {
			return fmt.Errorf("tile layer %q: access %v lets in the %s audience, which the layer has no data for", l.Name, a, aud)
		}
	}
	return nil
}

// checkRoutes refuses a route table with a route that declares no access,
// an access that mixes Public with roles (which would mean "anyone") or
// has unknown bits, an unknown token scope, or a name used twice.
func checkRoutes(routes []Route) error {
	seen := map[string]bool{}
	for _, r := range routes {
		if r.Access == accessUnset {
			return fmt.Errorf("route %q declares no access", r.Name)
		}
		if r.Method == "" || r.handle == nil {
			return fmt.Errorf("route %q declares no method or handler", r.Name)
		}
		if r.Access&^accessAll != 0 || (r.Access&Public != 0 && r.Access != Public) {
			return fmt.Errorf("route %q: access %v: want Public alone, or a set of roles", r.Name, r.Access)
		}
		switch r.TokenScope {
		case "", ScopeRead, ScopeIngest, scopeNone:
		default:
			return fmt.Errorf("route %q: unknown token scope %q", r.Name, r.TokenScope)
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
		methods := []string{rt.Method}
		if rt.Method == http.MethodGet {
			// HEAD only where GET is: a HEAD that reached a POST handler
			// would change state without the CSRF check.
			methods = append(methods, http.MethodHead)
		}
		m.Methods(methods...).Handler(h).Name(rt.Name)
	}
	r.NotFoundHandler = s.serve(Route{Name: "not-found", Access: Public, handle: func(http.ResponseWriter, *http.Request) error {
		return errNotFound
	}})
	r.MethodNotAllowedHandler = s.serve(Route{Name: "method-not-allowed", Access: Public, handle: func(http.ResponseWriter, *http.Request) error {
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
	case loginFailed(err):
		// One message for an unknown user, a wrong password and a
		// disabled user: the answer must not say which names exist.
		return http.StatusUnauthorized, "wrong user name or password"
	case isRateLimited(err):
		return http.StatusTooManyRequests, "too many failed sign-ins: wait and try again (see Retry-After)"
	case errors.Is(err, tiles.ErrBadTile), errors.Is(err, tiles.ErrBadFilter):
		return http.StatusBadRequest, err.Error()
	case errors.Is(err, tiles.ErrNoPublicPool):
		return http.StatusServiceUnavailable, "the public data is not available from this server"
	case errors.Is(err, tiles.ErrAudience):
		return http.StatusForbidden, "this layer is not available to you"
	case errors.Is(err, tiles.ErrUnknownLayer):
		return http.StatusNotFound, err.Error()
	case errors.Is(err, context.DeadlineExceeded), isQueryCanceled(err):
		return http.StatusServiceUnavailable, "the query took too long; try a smaller area or a narrower filter"
	case errors.Is(err, context.Canceled):
		return 499, "client closed request" // nginx's code: the client went away
	}
	return http.StatusInternalServerError, "internal error"
}

func isRateLimited(err error) bool {
	_, ok := retryAfter(err)
	return ok
}

// isQueryCanceled reports whether PostgreSQL cancelled the statement
// (SQLSTATE 57014): its statement_timeout, the server-side twin of our
// request deadlines.
func isQueryCanceled(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "57014"
}

// serve adapts a handler that returns an error into an http.Handler. It
// is where access is enforced: it finds who the request comes from, puts
// them in the context (UserFrom), applies the route's access, token scope
// and CSRF checks, and only then runs the handler. It turns errors into
// status codes and writes the access log line, with the user.
func (s *Server) serve(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w}
		// Every request has a deadline; the request's own context also ends
		// when the client hangs up, which cancels its query.
		ctx, cancel := context.WithTimeout(withPeer(r.Context(), s.peerOf(r)), s.cfg.RequestTimeout)
		r = r.WithContext(ctx)
		defer cancel()
		var u *User
		err := s.call(rec, r, func(w http.ResponseWriter, r *http.Request) error {
			var err error
			if u, err = s.identify(w, r); err != nil {
				return err
			}
			rec.private = u != nil || (rt.Method != "" && rt.Access != Public)
			r = r.WithContext(withUser(r.Context(), u))
			// The router's fallbacks (not found, method not allowed) have
			// no method and serve nothing; every declared route has one.
			if rt.Method != "" {
				if err := s.authorize(rt, u, r); err != nil {
					return err
				}
			}
			return rt.handle(w, r)
		})
		if err != nil {
			code, msg := status(err)
			if code >= 500 && code != http.StatusServiceUnavailable {
				s.log.Error("request failed", "route", rt.Name, "path", r.URL.Path, "err", err)
			}
			if !rec.wrote && code != 499 {
				if d, ok := retryAfter(err); ok {
					rec.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(d.Seconds()))))
				}
				if code == http.StatusUnauthorized {
					rec.Header().Set("WWW-Authenticate", `Bearer realm="hotspot"`)
				}
				writeJSON(rec, code, map[string]any{"error": msg, "status": code})
			} else if code == 499 {
				rec.status = code
			}
		}
		var name, role, via string
		if u != nil {
			name, role, via = u.Name, u.Role, "session"
			if u.Token {
				via = "token"
			}
		}
		s.log.Info("request", "method", r.Method, "route", rt.Name, "path", r.URL.Path,
			"status", rec.code(), "bytes", rec.bytes, "ms", float64(time.Since(start).Microseconds())/1000,
			"remote", clientIP(r), "user", name, "role", role, "auth", via)
	})
}

// call runs h, turning a panic into an error so that the client gets a
// 500 and the log gets the detail and an access line.
func (s *Server) call(w http.ResponseWriter, r *http.Request, h func(http.ResponseWriter, *http.Request) error) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}()
	return h(w, r)
}

type recorder struct {
	http.ResponseWriter
	status int
	bytes  int
	wrote  bool
	// private marks a response made for a signed-in caller or from a
	// restricted route: no shared cache may keep it, whatever the handler
	// said, or a proxy could hand a police tile to the public.
	private bool
}

func (r *recorder) WriteHeader(code int) {
	if !r.wrote {
		r.status, r.wrote = code, true
		r.markPrivate()
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) markPrivate() {
	if r.private {
		h := r.Header()
		h.Set("Cache-Control", "private, no-cache")
		h.Add("Vary", "Cookie")
		h.Add("Vary", "Authorization")
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.status, r.wrote = http.StatusOK, true
		r.markPrivate()
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
	if p, ok := r.Context().Value(peerKey{}).(peer); r.TLS != nil || (ok && p.https) {
		// Directly, or through a trusted proxy that says the client spoke
		// https: the browser's Origin and TileJSON's URLs are https too.
		scheme = "https"
	}
	return scheme + "://" + r.Host, nil
}
