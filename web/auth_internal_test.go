package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/tiles"
)

// fakeAuth is a user store with one session and two tokens, for testing
// serve's checks without a database.
type fakeAuth struct{}

func (fakeAuth) Login(context.Context, string, string, string) (string, error) {
	return "", errors.New("not used")
}

func (fakeAuth) Session(_ context.Context, id string) (string, string, string, error) {
	if id == "sess" {
		return "pat", "police", "csrf-1", nil
	}
	return "", "", "", nil
}

func (fakeAuth) Logout(context.Context, string, string) error { return nil }

func (fakeAuth) Token(_ context.Context, tok string) (string, string, []string, error) {
	switch tok {
	case "tok-ingest":
		return "pat", "police", []string{"ingest"}, nil
	case "tok-read":
		return "pat", "police", []string{"read"}, nil
	case "tok-analyst":
		return "ann", "analyst", []string{"ingest"}, nil
	}
	return "", "", nil, nil
}

// TestTokenCallersAndCSRF checks serve's checks on a state-changing route
// that accepts ingest tokens: tokens need the scope and role but no CSRF
// token, sessions need the CSRF token, anyone needs our origin, and HEAD
// never reaches a POST handler.
func TestTokenCallersAndCSRF(t *testing.T) {
	ran := 0
	ingest := Route{Name: "ingest", Method: http.MethodPost, Path: "/api/ingest", Access: Police | Admin, TokenScope: ScopeIngest,
		handle: func(w http.ResponseWriter, r *http.Request) error {
			ran++
			u, _ := UserFrom(r.Context())
			return writeJSON(w, http.StatusOK, map[string]any{"user": u.Name, "token": u.Token})
		}}
	s, err := New(nil, tiles.New(nil), fakeAuth{}, Config{}, discard(), ingest)
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	tests := []struct {
		name   string
		method string
		path   string
		header []string
		want   int
	}{
		{"ingest token, no CSRF token", "POST", "/api/ingest", []string{"Authorization", "Bearer tok-ingest"}, 200},
		{"read token", "POST", "/api/ingest", []string{"Authorization", "Bearer tok-read"}, 403},
		{"analyst's ingest token", "POST", "/api/ingest", []string{"Authorization", "Bearer tok-analyst"}, 403},
		{"ingest token from another origin", "POST", "/api/ingest", []string{"Authorization", "Bearer tok-ingest", "Origin", "http://evil.example"}, 403},
		{"unknown token", "POST", "/api/ingest", []string{"Authorization", "Bearer nope"}, 401},
		{"session without CSRF token", "POST", "/api/ingest", []string{"Cookie", "hotspot_session=sess"}, 403},
		{"session with CSRF token", "POST", "/api/ingest", []string{"Cookie", "hotspot_session=sess", "X-CSRF-Token", "csrf-1"}, 200},
		{"session with our origin", "POST", "/api/ingest", []string{"Cookie", "hotspot_session=sess", "X-CSRF-Token", "csrf-1", "Origin", "http://example.com"}, 200},
		{"anonymous", "POST", "/api/ingest", nil, 401},
		// HEAD falls through to the static files (GET and HEAD), not to the
		// POST handler.
		{"HEAD of a POST route", "HEAD", "/api/ingest", []string{"Cookie", "hotspot_session=sess"}, 404},
		{"ingest-only token on a GET route", "GET", "/api/me", []string{"Authorization", "Bearer tok-ingest"}, 403},
		{"read token on a GET route", "GET", "/api/me", []string{"Authorization", "Bearer tok-read"}, 200},
		{"ingest token on logout", "POST", "/logout", []string{"Authorization", "Bearer tok-ingest"}, 403},
		{"read token on a missing page", "GET", "/no/such/page", []string{"Authorization", "Bearer tok-read"}, 404},
	}
	for _, tt := range tests {
		before := ran
		req := httptest.NewRequest(tt.method, tt.path, nil)
		for i := 0; i+1 < len(tt.header); i += 2 {
			req.Header.Set(tt.header[i], tt.header[i+1])
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != tt.want {
			t.Errorf("%s %s with %s = %d %s; want %d", tt.method, tt.path, tt.name, rec.Code, rec.Body.String(), tt.want)
		}
		if tt.path == "/api/ingest" && (ran > before) != (tt.want == 200) {
			t.Errorf("%s %s with %s: handler ran = %v; want %v", tt.method, tt.path, tt.name, ran > before, tt.want == 200)
		}
	}
}

// TestAccessDeclarations checks that checkRoutes refuses muddled access:
// Public mixed with roles, unknown bits, unknown scopes, no method.
func TestAccessDeclarations(t *testing.T) {
	h := func(http.ResponseWriter, *http.Request) error { return nil }
	ok := Route{Name: "ok", Method: http.MethodGet, Access: Police | Analyst, handle: h}
	if err := checkRoutes([]Route{ok}); err != nil {
		t.Fatalf("checkRoutes(police|analyst) = %v; want nil", err)
	}
	for _, tt := range []struct {
		name string
		r    Route
	}{
		{"public and police", Route{Name: "x", Method: http.MethodGet, Access: Public | Police, handle: h}},
		{"unknown bit", Route{Name: "x", Method: http.MethodGet, Access: 1 << 6, handle: h}},
		{"unknown scope", Route{Name: "x", Method: http.MethodGet, Access: Police, TokenScope: "write", handle: h}},
		{"no method", Route{Name: "x", Access: Police, handle: h}},
		{"no handler", Route{Name: "x", Method: http.MethodGet, Access: Police}},
	} {
		if err := checkRoutes([]Route{tt.r}); err == nil {
			t.Errorf("checkRoutes(%s) = nil; want an error", tt.name)
		}
	}
	for _, tt := range []struct {
		a    Access
		want string
	}{
		{Public, "public"}, {Police, "police"}, {SignedIn, "police|analyst|admin"}, {Police | Admin, "police|admin"}, {0, "unset"},
	} {
		if got := tt.a.String(); got != tt.want {
			t.Errorf("Access(%d).String() = %q; want %q", uint8(tt.a), got, tt.want)
		}
	}
}

// TestEveryLayerHasAccess checks that each layer of the tile catalogue has
// an entry in the layer table, and that a layer without one stops the
// server from starting.
func TestEveryLayerHasAccess(t *testing.T) {
	for _, l := range tiles.Catalogue() {
		if _, ok := layerAccess[l.Name]; !ok {
			t.Errorf("tile layer %q has no entry in layerAccess", l.Name)
		}
	}
	s := &Server{}
	if _, _, err := s.tileRoutes([]string{"boundaries", "secret-layer"}, layerAccess); err == nil || !strings.Contains(err.Error(), "secret-layer") {
		t.Errorf("tileRoutes(with a layer missing from the table) error = %v; want one naming it", err)
	}
	routes, layers, err := s.tileRoutes([]string{"incidents"}, layerAccess)
	if err != nil {
		t.Fatal(err)
	}
	if layers["incidents"] != Police {
		t.Errorf("incidents layer access = %v; want police", layers["incidents"])
	}
	for _, r := range routes {
		if strings.Contains(r.Path, "incidents") && r.Access != Police {
			t.Errorf("route %s (%s) access = %v; want police", r.Name, r.Path, r.Access)
		}
	}
}

// TestSameSitePath checks the validator of the "next" parameter.
func TestSameSitePath(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want bool
	}{
		{"/", true},
		{"/tiles/boundaries.json", true},
		{"/a?b=c#d", true},
		{"/%2F%2Fevil.example", true}, // one path segment on this site
		{"", false},
		{"relative", false},
		{"//evil.example", false},
		{"///evil.example", false},
		{"/\\evil.example", false},
		{"/a\\b", false},
		{"https://evil.example/", false},
		{"javascript:alert(1)", false},
		{"/\t/evil.example", false},
		{"/\n/evil.example", false},
		{"/ /x", false},
		{"/caf\u00e9", false},
		{"/" + strings.Repeat("a", 3000), false},
	} {
		if got := sameSitePath(tt.in); got != tt.want {
			t.Errorf("sameSitePath(%q) = %v; want %v", tt.in, got, tt.want)
		}
	}
	s := &Server{cfg: Config{PublicURL: "https://maps.example.test/hotspot/"}}
	if got := s.safeNext("//evil.example"); got != "/hotspot/" {
		t.Errorf("safeNext under a path prefix = %q; want /hotspot/", got)
	}
}

// FuzzSameSitePath checks that whatever sameSitePath accepts resolves to
// a URL on our own origin, as a browser would resolve it.
func FuzzSameSitePath(f *testing.F) {
	for _, s := range []string{"/", "//x", "/\\x", "/%2F/x", "/..//x", "/./", "http:/x", "/a?//b", "/#//b", "\\\\x", "/@x", "/:x"} {
		f.Add(s)
	}
	base, _ := url.Parse("https://maps.example.test/hotspot/login")
	f.Fuzz(func(t *testing.T, p string) {
		if !sameSitePath(p) {
			return
		}
		u, err := base.Parse(p)
		if err != nil {
			t.Fatalf("sameSitePath(%q) = true but it does not parse: %v", p, err)
		}
		if u.Scheme != base.Scheme || u.Host != base.Host || u.User != nil {
			t.Fatalf("sameSitePath(%q) = true but it resolves to %s", p, u)
		}
		if strings.HasPrefix(p, "//") || strings.ContainsAny(p, "\\\t\r\n ") {
			t.Fatalf("sameSitePath(%q) = true for a path a browser could rewrite", p)
		}
	})
}
