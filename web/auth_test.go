package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/tiles"
	"github.com/harborough-csp/hotspot/web"
)

// passwords remembers the password of each test user per database, so a
// test can sign the same user in from several clients.
var passwords sync.Map // "pool-pointer/name" → password

// ensureUser creates user name with role in pool's database, once, and
// returns its password.
func ensureUser(t *testing.T, pool *pgxpool.Pool, name string, role auth.Role) string {
	t.Helper()
	// Keyed by database name, not pool address: a later test's pool can be
	// allocated where a closed one was, and must not inherit its users.
	key := pool.Config().ConnConfig.Database + "/" + name
	if pw, ok := passwords.Load(key); ok {
		return pw.(string)
	}
	pw := auth.GeneratePassword()
	if err := auth.New(pool).AddUser(context.Background(), "test", name, role, pw); err != nil {
		t.Fatalf("add user %s: %v", name, err)
	}
	passwords.Store(key, pw)
	return pw
}

// newClient returns a client with its own cookie jar that does not follow
// redirects, so tests see the 303s.
func newClient(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// jarCookie returns the value of the cookie name that c holds for base.
func jarCookie(c *http.Client, base, name string) string {
	u, _ := url.Parse(base)
	for _, ck := range c.Jar.Cookies(u) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

// loginCSRF fetches the sign-in page, as a browser would, and returns the
// login form's CSRF cookie value.
func loginCSRF(t *testing.T, c *http.Client, base string) string {
	t.Helper()
	resp, _ := getWith(t, c, base+"/login")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /login = %d", resp.StatusCode)
	}
	tok := jarCookie(c, base, "hotspot_login_csrf")
	if tok == "" {
		t.Fatal("GET /login set no hotspot_login_csrf cookie")
	}
	return tok
}

// postLogin signs in through POST /login as the page's script does.
func postLogin(t *testing.T, c *http.Client, base, name, password, next string) (*http.Response, []byte) {
	t.Helper()
	tok := loginCSRF(t, c, base)
	if me := meOf(t, c, base); me.CSRFToken != "" {
		tok = me.CSRFToken // signed in already: the session's token
	}
	body, _ := json.Marshal(map[string]string{"name": name, "password": password, "next": next})
	return do(t, c, http.MethodPost, base+"/login", body, "Content-Type", "application/json", "Accept", "application/json", "X-CSRF-Token", tok)
}

// signIn returns a client signed in as the test user of role ("test-"
// + role) through the login route.
func signIn(t *testing.T, base string, pool *pgxpool.Pool, role auth.Role) *http.Client {
	t.Helper()
	name := "test-" + string(role)
	return signInAs(t, base, pool, name, role)
}

func signInAs(t *testing.T, base string, pool *pgxpool.Pool, name string, role auth.Role) *http.Client {
	t.Helper()
	pw := ensureUser(t, pool, name, role)
	c := newClient(t)
	resp, body := postLogin(t, c, base, name, pw, "")
	if resp.StatusCode != 200 {
		t.Fatalf("sign in as %s = %d %s", name, resp.StatusCode, body)
	}
	return c
}

// do sends one request with header pairs and returns the response and body.
func do(t *testing.T, c *http.Client, method, url string, body []byte, header ...string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type me struct {
	User *struct {
		Name string `json:"name"`
		Role string `json:"role"`
	} `json:"user"`
	CSRFToken string `json:"csrf_token"`
}

func meOf(t *testing.T, c *http.Client, base string) me {
	t.Helper()
	resp, body := getWith(t, c, base+"/api/me")
	if resp.StatusCode != 200 {
		t.Fatalf("GET /api/me = %d %s", resp.StatusCode, body)
	}
	var m me
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("GET /api/me = %s: %v", body, err)
	}
	return m
}

func authServer(t *testing.T, cfg web.Config, log *slog.Logger) (*httptest.Server, *pgxpool.Pool, *web.Server) {
	t.Helper()
	pool := storetest.DB(t)
	// Every route the server has: the police.uk API and the public
	// page's (read here through the test's own pool), partner ingest and
	// the analysis API, so TestRouteAccess walks them all.
	routes := append(web.PoliceAPIRoutes(pool), web.PartnerRoutes(partnerIngest(pool))...)
	routes = append(routes, web.AnalysisRoutes(pool)...)
	srv, err := web.New(pool, tiles.New(pool), auth.New(pool), cfg, log, routes...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, pool, srv
}

// concretePath fills a route's template with values that reach its handler.
func concretePath(rt web.Route) string {
	return strings.NewReplacer("{layer}", "nope", "{z}", "11", "{x}", "1018", "{y}", "671", "{id}", "1",
		"{slug}", "harborough-district", "{category}", "all-crime", "{postcode}", "LE167AG").Replace(rt.Path)
}

func roleBit(r auth.Role) web.Access {
	return map[auth.Role]web.Access{auth.Police: web.Police, auth.Analyst: web.Analyst, auth.Admin: web.Admin}[r]
}

// routeScope is the token scope a route needs, as Route documents it.
func routeScope(rt web.Route) string {
	switch {
	case rt.TokenScope != "":
		return rt.TokenScope
	case rt.Method == http.MethodGet:
		return web.ScopeRead
	}
	return "none"
}

func refused(code int) bool { return code == http.StatusUnauthorized || code == http.StatusForbidden }

// TestRouteAccess walks every registered route and proves that anonymous
// callers of a non-public route get 401, signed-in callers whose role the
// route does not list get 403, as sessions and as API tokens, tokens
// without the route's scope get 403, and everyone the route allows is not
// refused.
func TestRouteAccess(t *testing.T) {
	ts, pool, srv := authServer(t, web.Config{}, nil)
	ctx := context.Background()
	store := auth.New(pool)
	tokens := map[auth.Role]map[auth.Scope]string{}
	for _, role := range auth.Roles() {
		name := "walk-" + string(role)
		ensureUser(t, pool, name, role)
		tokens[role] = map[auth.Scope]string{}
		for _, sc := range []auth.Scope{auth.ScopeRead, auth.ScopeIngest} {
			_, tok, err := store.AddToken(ctx, "test", name, []auth.Scope{sc}, "walk", 0)
			if err != nil {
				t.Fatal(err)
			}
			tokens[role][sc] = tok
		}
	}
	// body returns what a route needs to get past its own checks, so that
	// "not refused" means the access check let the request through.
	body := func(rt web.Route, name string) []byte {
		if rt.Name == "login" {
			b, _ := json.Marshal(map[string]string{"name": name, "password": ensureUser(t, pool, name, auth.Police)})
			return b
		}
		return nil
	}
	routes := srv.Routes()
	if len(routes) < 10 {
		t.Fatalf("Routes() has %d routes; want the whole table", len(routes))
	}
	// The declarations themselves, for the routes whose access matters
	// most: the walk below proves enforcement matches the declaration;
	// this pins the declaration.
	declared := map[string]web.Access{
		"tile-incidents": web.Police, "tilejson-incidents": web.Police,
		"tile-boundaries": web.Public, "tilejson-boundaries": web.Public,
		"logout": web.SignedIn, "login": web.Public, "me": web.Public, "config": web.Public,
		"incidents-post": web.Admin, "review-list": web.Analyst | web.Admin, "review-resolve": web.Analyst | web.Admin,
		"hotspots": web.Police | web.Analyst | web.Admin, "locations": web.Police | web.Analyst | web.Admin,
		"location-summary": web.Police | web.Analyst | web.Admin, "public-hotspots": web.Public,
	}
	for _, rt := range routes {
		if want, ok := declared[rt.Name]; ok && rt.Access != want {
			t.Errorf("route %s access = %v; want %v", rt.Name, rt.Access, want)
		}
		delete(declared, rt.Name)
	}
	for name := range declared {
		t.Errorf("route %s is missing from the table", name)
	}
	for _, rt := range routes {
		path := ts.URL + concretePath(rt)
		label := fmt.Sprintf("%s %s (%s, access %v)", rt.Method, concretePath(rt), rt.Name, rt.Access)
		unsafe := rt.Method != http.MethodGet

		// Anonymous, with the login form's CSRF cookie so that only access
		// decides.
		anon := newClient(t)
		hdr := []string{"Content-Type", "application/json", "Accept", "application/json"}
		if unsafe {
			hdr = append(hdr, "X-CSRF-Token", loginCSRF(t, anon, ts.URL))
		}
		resp, b := do(t, anon, rt.Method, path, body(rt, "walk-police"), hdr...)
		switch {
		case rt.Access == web.Public && refused(resp.StatusCode):
			t.Errorf("%s as anonymous = %d %s; want it allowed", label, resp.StatusCode, b)
		case rt.Access != web.Public && resp.StatusCode != http.StatusUnauthorized:
			t.Errorf("%s as anonymous = %d %s; want 401", label, resp.StatusCode, b)
		}
		if rt.Method == http.MethodGet && rt.Access != web.Public {
			if resp, _ := do(t, anon, http.MethodHead, path, nil); resp.StatusCode != http.StatusUnauthorized {
				t.Errorf("HEAD %s as anonymous = %d; want 401", label, resp.StatusCode)
			}
		}

		for _, role := range auth.Roles() {
			name := "walk-" + string(role)
			allowed := rt.Access == web.Public || rt.Access&roleBit(role) != 0

			// A fresh session per route: login and logout change it.
			c := signInAs(t, ts.URL, pool, name, role)
			hdr := []string{"Content-Type", "application/json", "Accept", "application/json"}
			if unsafe {
				hdr = append(hdr, "X-CSRF-Token", meOf(t, c, ts.URL).CSRFToken)
			}
			resp, b := do(t, c, rt.Method, path, body(rt, name), hdr...)
			if allowed && refused(resp.StatusCode) {
				t.Errorf("%s as %s (session) = %d %s; want it allowed", label, role, resp.StatusCode, b)
			}
			if !allowed && resp.StatusCode != http.StatusForbidden {
				t.Errorf("%s as %s (session) = %d %s; want 403", label, role, resp.StatusCode, b)
			}

			for sc, tok := range tokens[role] {
				ok := allowed && routeScope(rt) == string(sc)
				resp, b := do(t, http.DefaultClient, rt.Method, path, body(rt, name),
					"Authorization", "Bearer "+tok, "Content-Type", "application/json", "Accept", "application/json")
				if ok && refused(resp.StatusCode) {
					t.Errorf("%s as %s (token, %s) = %d %s; want it allowed", label, role, sc, resp.StatusCode, b)
				}
				if !ok && resp.StatusCode != http.StatusForbidden {
					t.Errorf("%s as %s (token, %s) = %d %s; want 403", label, role, sc, resp.StatusCode, b)
				}
			}
		}
	}
}

// TestLoginFailuresLookAlike checks that an unknown user, a wrong password
// and a disabled user get the same 401 and the same message, and that
// nothing is set as a session.
func TestLoginFailuresLookAlike(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	pw := ensureUser(t, pool, "alice", auth.Analyst)
	ensureUser(t, pool, "bob", auth.Police)
	if err := auth.New(pool).DisableUser(context.Background(), "test", "bob"); err != nil {
		t.Fatal(err)
	}
	bobPW := ensureUser(t, pool, "bob", auth.Police)
	var first string
	for _, tt := range []struct{ name, password string }{
		{"nobody", pw},
		{"alice", pw + "x"},
		{"bob", bobPW},
	} {
		c := newClient(t)
		resp, body := postLogin(t, c, ts.URL, tt.name, tt.password, "")
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST /login as %s = %d %s; want 401", tt.name, resp.StatusCode, body)
		}
		if first == "" {
			first = string(body)
		} else if string(body) != first {
			t.Errorf("POST /login as %s body = %s; want the same as the others, %s", tt.name, body, first)
		}
		if !strings.Contains(string(body), "wrong user name or password") {
			t.Errorf("POST /login as %s body = %s; want the one message", tt.name, body)
		}
		if jarCookie(c, ts.URL, "hotspot_session") != "" {
			t.Errorf("POST /login as %s set a session cookie", tt.name)
		}
	}
	c := newClient(t)
	resp, body := postLogin(t, c, ts.URL, "ALICE ", pw, "")
	if resp.StatusCode != 200 {
		t.Errorf("POST /login as \"ALICE \" = %d %s; want 200 (names are trimmed and lower-cased)", resp.StatusCode, body)
	}
	for _, tt := range []struct{ body, ct string }{
		{`{"name":"alice"}`, "application/json"},
		{`not json`, "application/json"},
		{`name=alice&password=x`, "text/plain"},
	} {
		c := newClient(t)
		tok := loginCSRF(t, c, ts.URL)
		resp, body := do(t, c, http.MethodPost, ts.URL+"/login", []byte(tt.body), "Content-Type", tt.ct, "X-CSRF-Token", tok)
		if resp.StatusCode != http.StatusBadRequest && resp.StatusCode != http.StatusUnsupportedMediaType {
			t.Errorf("POST /login %s %q = %d %s; want 400 or 415", tt.ct, tt.body, resp.StatusCode, body)
		}
	}
}

// TestLoginRateLimit checks the limit on failed sign-ins: past 5 failures
// for a name, even the right password gets 429 with Retry-After (so the
// limit applies before the password is checked); past 20 failures from an
// address, any name does.
func TestLoginRateLimit(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	pw := ensureUser(t, pool, "carol", auth.Police)
	c := newClient(t)
	for i := 0; i < auth.MaxFailuresPerUser; i++ {
		if resp, body := postLogin(t, c, ts.URL, "carol", "wrong password "+strconv.Itoa(i), ""); resp.StatusCode != 401 {
			t.Fatalf("failure %d = %d %s; want 401", i+1, resp.StatusCode, body)
		}
	}
	resp, body := postLogin(t, c, ts.URL, "carol", pw, "")
	if resp.StatusCode != http.StatusTooManyRequests {
		t.Fatalf("right password after %d failures = %d %s; want 429", auth.MaxFailuresPerUser, resp.StatusCode, body)
	}
	ra, err := strconv.Atoi(resp.Header.Get("Retry-After"))
	if err != nil || ra < 1 || ra > int(auth.FailureWindow.Seconds()) {
		t.Errorf("Retry-After = %q; want 1..%d seconds", resp.Header.Get("Retry-After"), int(auth.FailureWindow.Seconds()))
	}
	if !strings.Contains(string(body), `"status":429`) {
		t.Errorf("429 body = %s; want the JSON error shape", body)
	}

	// The address limit: failures under other names add up.
	ts2, pool2, _ := authServer(t, web.Config{}, nil)
	pw2 := ensureUser(t, pool2, "dave", auth.Police)
	c2 := newClient(t)
	for i := 0; i < auth.MaxFailuresPerAddress; i++ {
		if resp, body := postLogin(t, c2, ts2.URL, "guess"+strconv.Itoa(i), "password", ""); resp.StatusCode != 401 {
			t.Fatalf("address failure %d = %d %s; want 401", i+1, resp.StatusCode, body)
		}
	}
	if resp, body := postLogin(t, c2, ts2.URL, "dave", pw2, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("sign-in after %d failures from one address = %d %s; want 429", auth.MaxFailuresPerAddress, resp.StatusCode, body)
	}
}

// TestSessionCookie checks the cookie's attributes over plain HTTP and
// behind an https public URL, and that the session works from the cookie.
func TestSessionCookie(t *testing.T) {
	for _, tt := range []struct {
		publicURL  string
		name       string
		wantSecure bool
	}{
		{"", "hotspot_session", false},
		{"https://maps.example.test", "__Host-hotspot_session", true},
	} {
		ts, pool, _ := authServer(t, web.Config{PublicURL: tt.publicURL}, nil)
		pw := ensureUser(t, pool, "erin", auth.Police)
		// By hand: a cookie jar would not send Secure cookies over http.
		resp, _ := do(t, http.DefaultClient, http.MethodGet, ts.URL+"/login", nil)
		var csrf *http.Cookie
		for _, c := range resp.Cookies() {
			if strings.HasSuffix(c.Name, "hotspot_login_csrf") {
				csrf = c
			}
		}
		if csrf == nil || csrf.Secure != tt.wantSecure || csrf.Name != strings.Replace(tt.name, "session", "login_csrf", 1) {
			t.Fatalf("public URL %q: login CSRF cookie = %+v; want %s, Secure %v", tt.publicURL, csrf, strings.Replace(tt.name, "session", "login_csrf", 1), tt.wantSecure)
		}
		body, _ := json.Marshal(map[string]string{"name": "erin", "password": pw})
		resp, b := do(t, http.DefaultClient, http.MethodPost, ts.URL+"/login", body,
			"Content-Type", "application/json", "Accept", "application/json",
			"Cookie", csrf.Name+"="+csrf.Value, "X-CSRF-Token", csrf.Value)
		if resp.StatusCode != 200 {
			t.Fatalf("public URL %q: POST /login = %d %s", tt.publicURL, resp.StatusCode, b)
		}
		var sess *http.Cookie
		for _, c := range resp.Cookies() {
			if c.Name == tt.name && c.Value != "" {
				sess = c
			}
		}
		if sess == nil {
			t.Fatalf("public URL %q: no %s cookie in %v", tt.publicURL, tt.name, resp.Header["Set-Cookie"])
		}
		if !sess.HttpOnly || sess.SameSite != http.SameSiteLaxMode || sess.Path != "/" || sess.Secure != tt.wantSecure || sess.MaxAge != 12*3600 {
			t.Errorf("public URL %q: session cookie = %+v; want HttpOnly, SameSite=Lax, Path=/, Secure=%v, Max-Age 12h", tt.publicURL, sess, tt.wantSecure)
		}
		resp, b = do(t, http.DefaultClient, http.MethodGet, ts.URL+"/api/me", nil, "Cookie", sess.Name+"="+sess.Value)
		if !strings.Contains(string(b), `"name":"erin"`) {
			t.Errorf("public URL %q: GET /api/me with the cookie = %d %s; want erin", tt.publicURL, resp.StatusCode, b)
		}
	}
}

// TestSessionExpiry checks idle and absolute expiry, and that a request
// keeps a session from going idle.
func TestSessionExpiry(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	ctx := context.Background()
	c := signIn(t, ts.URL, pool, auth.Police)
	// Used 30 minutes ago: still live, and the request refreshes it.
	if _, err := pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '30 minutes'`); err != nil {
		t.Fatal(err)
	}
	if m := meOf(t, c, ts.URL); m.User == nil {
		t.Fatal("session used 30 minutes ago is not live")
	}
	var fresh bool
	if err := pool.QueryRow(ctx, `SELECT bool_and(last_seen_at > now() - interval '1 minute') FROM sessions`).Scan(&fresh); err != nil || !fresh {
		t.Errorf("last_seen_at not refreshed by a request (%v)", err)
	}
	for _, tt := range []struct{ name, sql string }{
		{"idle", `UPDATE sessions SET last_seen_at = now() - interval '2 hours 1 minute'`},
		{"absolute", `UPDATE sessions SET expires_at = now() - interval '1 second'`},
	} {
		c := signIn(t, ts.URL, pool, auth.Police)
		if _, err := pool.Exec(ctx, tt.sql); err != nil {
			t.Fatal(err)
		}
		resp, body := getWith(t, c, ts.URL+"/api/me")
		if !strings.Contains(string(body), `"user":null`) {
			t.Errorf("%s-expired session: GET /api/me = %s; want user null", tt.name, body)
		}
		if !strings.Contains(strings.Join(resp.Header["Set-Cookie"], ";"), "hotspot_session=;") {
			t.Errorf("%s-expired session: Set-Cookie = %v; want the cookie cleared", tt.name, resp.Header["Set-Cookie"])
		}
		if resp, _ := getWith(t, c, ts.URL+"/tiles/incidents.json"); resp.StatusCode != 401 {
			t.Errorf("%s-expired session: GET incidents TileJSON = %d; want 401", tt.name, resp.StatusCode)
		}
	}
}

// TestCSRF checks that a signed-in state-changing request needs the
// session's CSRF token (header or form field) and our own origin, and
// that the login form needs its double-submit cookie.
func TestCSRF(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	c := signIn(t, ts.URL, pool, auth.Police)
	tok := meOf(t, c, ts.URL).CSRFToken
	if len(tok) < 40 {
		t.Fatalf("csrf_token = %q; want a long random token", tok)
	}
	for _, tt := range []struct {
		name   string
		header []string
	}{
		{"no token", nil},
		{"wrong token", []string{"X-CSRF-Token", tok[:len(tok)-1] + "x"}},
		{"another origin", []string{"X-CSRF-Token", tok, "Origin", "http://evil.example"}},
		{"null origin", []string{"X-CSRF-Token", tok, "Origin", "null"}},
		{"cross-site fetch", []string{"X-CSRF-Token", tok, "Sec-Fetch-Site", "cross-site"}},
	} {
		resp, body := do(t, c, http.MethodPost, ts.URL+"/logout", nil, append([]string{"Accept", "application/json"}, tt.header...)...)
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("POST /logout with %s = %d %s; want 403", tt.name, resp.StatusCode, body)
		}
	}
	if meOf(t, c, ts.URL).User == nil {
		t.Fatal("a refused logout ended the session")
	}
	// The form field works as well as the header; a plain form post is
	// answered with a redirect to the map.
	resp, body := do(t, c, http.MethodPost, ts.URL+"/logout", []byte("csrf_token="+url.QueryEscape(tok)),
		"Content-Type", "application/x-www-form-urlencoded", "Origin", ts.URL)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
		t.Errorf("POST /logout with the form field = %d %s %s; want 303 to /", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	if m := meOf(t, c, ts.URL); m.User != nil {
		t.Errorf("after logout /api/me = %+v; want no user", m.User)
	}
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM sessions`).Scan(&n); err != nil || n != 0 {
		t.Errorf("sessions after logout = %d (%v); want 0", n, err)
	}

	// The login form: the header must match the cookie.
	pw := ensureUser(t, pool, "test-police", auth.Police)
	body, _ = json.Marshal(map[string]string{"name": "test-police", "password": pw})
	anon := newClient(t)
	resp, b := do(t, anon, http.MethodPost, ts.URL+"/login", body, "Content-Type", "application/json")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /login without the CSRF cookie = %d %s; want 403", resp.StatusCode, b)
	}
	cookieTok := loginCSRF(t, anon, ts.URL)
	resp, b = do(t, anon, http.MethodPost, ts.URL+"/login", body, "Content-Type", "application/json", "X-CSRF-Token", cookieTok+"x")
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("POST /login with a header that does not match the cookie = %d %s; want 403", resp.StatusCode, b)
	}
	form := url.Values{"name": {"test-police"}, "password": {pw}, "csrf_token": {cookieTok}, "next": {"/index.html"}}
	resp, b = do(t, anon, http.MethodPost, ts.URL+"/login", []byte(form.Encode()), "Content-Type", "application/x-www-form-urlencoded")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/index.html" {
		t.Errorf("form POST /login = %d Location %q %s; want 303 to /index.html", resp.StatusCode, resp.Header.Get("Location"), b)
	}
}

// TestLoginRedirect checks that the page is sent only to paths on this
// site after signing in.
func TestLoginRedirect(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	pw := ensureUser(t, pool, "frank", auth.Admin)
	for _, tt := range []struct{ next, want string }{
		{"", "/"},
		{"/", "/"},
		{"/tiles/boundaries.json", "/tiles/boundaries.json"},
		{"/?x=1#y", "/?x=1#y"},
		{"//evil.example/", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"javascript:alert(1)", "/"},
		{"/\t/evil.example", "/"},
		{"relative", "/"},
	} {
		c := newClient(t)
		resp, body := postLogin(t, c, ts.URL, "frank", pw, tt.next)
		var got struct {
			Redirect string `json:"redirect"`
		}
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("POST /login next %q = %d %s", tt.next, resp.StatusCode, body)
		}
		if got.Redirect != tt.want {
			t.Errorf("POST /login next %q redirect = %q; want %q", tt.next, got.Redirect, tt.want)
		}
	}
}

// TestBearerTokens checks API tokens on the tile routes: scope and role
// both apply, and a bad, revoked or disabled user's token is refused with
// 401.
func TestBearerTokens(t *testing.T) {
	ts, pool, _ := authServer(t, web.Config{}, nil)
	ctx := context.Background()
	store := auth.New(pool)
	ensureUser(t, pool, "gina", auth.Police)
	ensureUser(t, pool, "hal", auth.Analyst)
	token := func(user string, scopes ...auth.Scope) string {
		_, tok, err := store.AddToken(ctx, "test", user, scopes, "", 0)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	read, ingest, both := token("gina", auth.ScopeRead), token("gina", auth.ScopeIngest), token("gina", auth.ScopeIngest, auth.ScopeRead)
	analyst := token("hal", auth.ScopeRead)
	revoked := token("gina", auth.ScopeRead)
	infos, _ := store.Tokens(ctx)
	if err := store.RevokeToken(ctx, "test", infos[len(infos)-1].ID); err != nil {
		t.Fatal(err)
	}
	tile := ts.URL + "/tiles/incidents/11/1018/671.mvt"
	for _, tt := range []struct {
		name, authz string
		want        int
	}{
		{"police read token", "Bearer " + read, 204},
		{"police ingest+read token", "Bearer " + both, 204},
		{"lower-case scheme", "bearer " + read, 204},
		{"police ingest-only token", "Bearer " + ingest, 403},
		{"analyst read token", "Bearer " + analyst, 403},
		{"revoked token", "Bearer " + revoked, 401},
		{"made-up token", "Bearer hst_" + strings.Repeat("A", 43), 401},
		{"garbage", "Bearer xyz", 401},
		{"basic auth", "Basic Z2luYTpwdw==", 401},
		{"empty bearer", "Bearer ", 401},
	} {
		resp, body := do(t, http.DefaultClient, http.MethodGet, tile, nil, "Authorization", tt.authz)
		if resp.StatusCode != tt.want {
			t.Errorf("GET incidents tile with %s = %d %s; want %d", tt.name, resp.StatusCode, body, tt.want)
		}
		if tt.want == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("GET incidents tile with %s: 401 without WWW-Authenticate", tt.name)
		}
	}
	resp, body := do(t, http.DefaultClient, http.MethodGet, ts.URL+"/api/me", nil, "Authorization", "Bearer "+read)
	if !strings.Contains(string(body), `"user":{"name":"gina","role":"police"}`) || strings.Contains(string(body), "csrf") {
		t.Errorf("GET /api/me with a token = %d %s; want gina, and no CSRF token", resp.StatusCode, body)
	}
	if err := store.DisableUser(ctx, "test", "gina"); err != nil {
		t.Fatal(err)
	}
	if resp, _ := do(t, http.DefaultClient, http.MethodGet, tile, nil, "Authorization", "Bearer "+both); resp.StatusCode != 401 {
		t.Errorf("token of a disabled user = %d; want 401", resp.StatusCode)
	}
}

// TestAuditAndAccessLog checks that sign-in, failure and sign-out reach
// the audit log with the client's address, and that the access log line
// names the user and role.
func TestAuditAndAccessLog(t *testing.T) {
	var logs syncBuffer
	ts, pool, _ := authServer(t, web.Config{}, slog.New(slog.NewJSONHandler(&logs, nil)))
	ctx := context.Background()
	pw := ensureUser(t, pool, "ivy", auth.Police)
	c := newClient(t)
	postLogin(t, c, ts.URL, "ivy", pw+"!", "")
	postLogin(t, c, ts.URL, "ivy", pw, "")
	getWith(t, c, ts.URL+"/tiles/incidents.json")
	do(t, c, http.MethodPost, ts.URL+"/logout", nil, "X-CSRF-Token", meOf(t, c, ts.URL).CSRFToken)
	entries, err := auth.AuditLog(ctx, pool, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Actor == "ivy" {
			got = append(got, e.Action+"@"+e.Remote)
		}
	}
	want := []string{"login.failure@127.0.0.1", "login.success@127.0.0.1", "logout@127.0.0.1"}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("audit log for ivy = %v; want %v", got, want)
	}
	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		var l map[string]any
		if json.Unmarshal([]byte(line), &l) != nil || l["route"] != "tilejson-incidents" {
			continue
		}
		found = true
		if l["user"] != "ivy" || l["role"] != "police" || l["auth"] != "session" || l["status"] != float64(200) {
			t.Errorf("access line = %s; want user ivy, role police, auth session, status 200", line)
		}
	}
	if !found {
		t.Errorf("no access line for tilejson-incidents in:\n%s", logs.String())
	}
}

// syncBuffer is a bytes.Buffer that the server's goroutines may write to
// while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// forwarding is a transport that sends every request as a proxy would
// relay it for the client at ip.
type forwarding struct{ ip, proto string }

func (f forwarding) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", f.ip)
	if f.proto != "" {
		r.Header.Set("X-Forwarded-Proto", f.proto)
	}
	return http.DefaultTransport.RoundTrip(r)
}

// TestTrustedProxy checks the address limit on sign-ins behind a trusted
// proxy: failures count against the client the proxy names, not against
// the proxy, so one visitor's guessing does not lock out everyone else;
// and a proxy that says https gets the Secure __Host- cookie. Without the
// proxy being trusted, the same headers change nothing.
func TestTrustedProxy(t *testing.T) {
	loopback, err := web.ParseTrustedProxies("127.0.0.0/8,::1")
	if err != nil {
		t.Fatal(err)
	}
	ts, pool, _ := authServer(t, web.Config{TrustedProxies: loopback}, nil)
	pw := ensureUser(t, pool, "frank", auth.Police)
	client := func(ip, proto string) *http.Client {
		c := newClient(t)
		c.Transport = forwarding{ip, proto}
		return c
	}
	guesser := client("203.0.113.5", "")
	for i := 0; i < auth.MaxFailuresPerAddress; i++ {
		if resp, body := postLogin(t, guesser, ts.URL, "guess"+strconv.Itoa(i), "password", ""); resp.StatusCode != 401 {
			t.Fatalf("failure %d = %d %s; want 401", i+1, resp.StatusCode, body)
		}
	}
	if resp, body := postLogin(t, guesser, ts.URL, "frank", pw, ""); resp.StatusCode != http.StatusTooManyRequests {
		t.Errorf("the guessing client's next sign-in = %d %s; want 429", resp.StatusCode, body)
	}
	if resp, body := postLogin(t, client("203.0.113.6", ""), ts.URL, "frank", pw, ""); resp.StatusCode != 200 {
		t.Errorf("another client behind the same proxy = %d %s; want 200", resp.StatusCode, body)
	}
	var who string
	if err := pool.QueryRow(context.Background(),
		`SELECT remote_addr FROM audit_log WHERE action = 'login.success' AND actor = 'frank' ORDER BY id DESC LIMIT 1`).Scan(&who); err != nil {
		t.Fatal(err)
	}
	if who != "203.0.113.6" {
		t.Errorf("audit log address = %q; want the client the proxy named, 203.0.113.6", who)
	}

	// https at the proxy: the cookies are Secure and __Host- prefixed.
	resp, _ := do(t, &http.Client{Transport: forwarding{"203.0.113.7", "https"}}, http.MethodGet, ts.URL+"/login", nil)
	if len(resp.Cookies()) == 0 || resp.Cookies()[0].Name != "__Host-hotspot_login_csrf" || !resp.Cookies()[0].Secure {
		t.Errorf("via an https proxy: cookies %v; want a Secure __Host-hotspot_login_csrf", resp.Cookies())
	}

	// Not trusted: the headers are the client's own word and ignored.
	ts2, _, _ := authServer(t, web.Config{}, nil)
	resp, _ = do(t, &http.Client{Transport: forwarding{"203.0.113.7", "https"}}, http.MethodGet, ts2.URL+"/login", nil)
	if len(resp.Cookies()) == 0 || resp.Cookies()[0].Name != "hotspot_login_csrf" || resp.Cookies()[0].Secure {
		t.Errorf("untrusted X-Forwarded-Proto: cookies %v; want plain hotspot_login_csrf", resp.Cookies())
	}
}
