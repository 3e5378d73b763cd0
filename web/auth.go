package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Auth is what the web layer needs from the user store: sign-in, sessions
// and API tokens. geo/auth's *Store implements it; web declares it, with
// plain strings, so that neither package imports the other.
type Auth interface {
	// Login checks name and password for a client at remote (an IP
	// address) and starts a session, returning its id for the cookie. The
	// store applies its rate limit before checking the password. A wrong
	// name or password, or a disabled user, is an error with a
	// LoginFailed() bool method; a rate-limited attempt is an error with a
	// RetryAfter() time.Duration method.
	Login(ctx context.Context, name, password, remote string) (session string, err error)
	// Session returns the user name, role and CSRF token of a live
	// session, and keeps it from going idle. An unknown or expired session
	// gives an empty name and no error.
	Session(ctx context.Context, id string) (name, role, csrf string, err error)
	// Logout ends a session.
	Logout(ctx context.Context, id, remote string) error
	// Token returns the user name, role and scopes of a live API token.
	// An unknown, expired or revoked token gives an empty name and no
	// error.
	Token(ctx context.Context, token string) (name, role string, scopes []string, err error)
}

// User is who a request comes from: a person signed in through the login
// page, or a machine holding one of a person's API tokens. Anonymous
// requests have none.
type User struct {
	Name string
	// Role is "police", "analyst" or "admin".
	Role string
	// Token is true when the request authenticated with an API token
	// (Authorization: Bearer) rather than a session cookie.
	Token bool
	// Scopes are the token's scopes ("ingest", "read"); none for a
	// session, which is limited by its role alone.
	Scopes []string

	session string // the session id, to end it at logout
	csrf    string // the session's CSRF token
}

type userKey struct{}

// UserFrom returns the user a request's context carries; ok is false for
// an anonymous request. serve puts the user there before any handler
// runs, so a handler never looks at cookies or headers itself.
func UserFrom(ctx context.Context) (u User, ok bool) {
	p, ok := ctx.Value(userKey{}).(*User)
	if !ok || p == nil {
		return User{}, false
	}
	return *p, true
}

func withUser(ctx context.Context, u *User) context.Context {
	if u == nil {
		return ctx
	}
	return context.WithValue(ctx, userKey{}, u)
}

// roleAccess is the Access bit of each role. An unknown role has none, so
// it can use public routes only.
func roleAccess(role string) Access {
	switch role {
	case "police":
		return Police
	case "analyst":
		return Analyst
	case "admin":
		return Admin
	}
	return 0
}

// allows reports whether u (nil: anonymous) may use a route or layer with
// access a, on role alone.
func (a Access) allows(u *User) bool {
	if a&Public != 0 {
		return true
	}
	return u != nil && a&roleAccess(u.Role) != 0
}

// Token scopes a route can ask for (see Route.TokenScope).
const (
	ScopeRead   = "read"
	ScopeIngest = "ingest"
	// scopeNone marks a route no API token may use.
	scopeNone = "none"
)

// tokenScope is the scope an API token needs for rt: the route's own, or
// "read" for GET routes; other routes take no tokens unless they say so.
func (rt Route) tokenScope() string {
	switch {
	case rt.TokenScope != "":
		return rt.TokenScope
	case rt.Method == http.MethodGet:
		return ScopeRead
	}
	return scopeNone
}

// Cookie names. Under TLS they carry the __Host- prefix, which makes the
// browser insist on Secure, Path=/ and no Domain, so a sibling site cannot
// plant or overwrite them.
const (
	sessionCookie   = "hotspot_session"
	loginCSRFCookie = "hotspot_login_csrf"
	hostPrefix      = "__Host-"
)

// secure reports whether the client reached us over TLS: directly,
// through a trusted proxy that says so (X-Forwarded-Proto), or through a
// proxy the public URL says speaks https.
func (s *Server) secure(r *http.Request) bool {
	if r.TLS != nil || strings.HasPrefix(strings.ToLower(s.cfg.PublicURL), "https:") {
		return true
	}
	p, ok := r.Context().Value(peerKey{}).(peer)
	return ok && p.https
}

func (s *Server) cookieName(r *http.Request, base string) string {
	if s.secure(r) {
		return hostPrefix + base
	}
	return base
}

// cookie returns the value of the named cookie (with the prefix TLS asks
// for), or "".
func (s *Server) cookie(r *http.Request, base string) string {
	c, err := r.Cookie(s.cookieName(r, base))
	if err != nil {
		return ""
	}
	return c.Value
}

// setCookie sets (maxAge > 0) or deletes (maxAge < 0) one of our cookies.
// The session cookie is HttpOnly; the login form's CSRF cookie is not, as
// the double-submit pattern needs the page to read it.
func (s *Server) setCookie(w http.ResponseWriter, r *http.Request, base, value string, maxAge time.Duration, httpOnly bool) {
	c := &http.Cookie{
		Name:     s.cookieName(r, base),
		Value:    value,
		Path:     "/",
		HttpOnly: httpOnly,
		Secure:   s.secure(r),
		SameSite: http.SameSiteLaxMode,
	}
	if maxAge > 0 {
		c.MaxAge = int(maxAge / time.Second)
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// Errors of the access check. 401 says "sign in"; 403 says "you are signed
// in, and may not".
var (
	errSignIn       = &Error{Status: http.StatusUnauthorized, Message: "sign in to use this"}
	errBadToken     = &Error{Status: http.StatusUnauthorized, Message: "the API token is not valid: it may be wrong, expired or revoked"}
	errBadAuthz     = &Error{Status: http.StatusUnauthorized, Message: "the Authorization header must be: Bearer TOKEN"}
	errCSRF         = &Error{Status: http.StatusForbidden, Message: "missing or wrong CSRF token: reload the page and try again"}
	errCrossOrigin  = &Error{Status: http.StatusForbidden, Message: "cross-origin request refused"}
	errTokenRefused = &Error{Status: http.StatusForbidden, Message: "API tokens cannot be used here"}
)

// identify finds who the request comes from: an API token in the
// Authorization header, else a session cookie, else nobody. A bad token is
// an error (the client meant to authenticate and should know it failed);
// a stale session cookie is cleared and the request goes on anonymous.
func (s *Server) identify(w http.ResponseWriter, r *http.Request) (*User, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		token = strings.TrimSpace(token)
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			return nil, errBadAuthz
		}
		name, role, scopes, err := s.auth.Token(r.Context(), token)
		if err != nil {
			return nil, err
		}
		if name == "" {
			return nil, errBadToken
		}
		return &User{Name: name, Role: role, Token: true, Scopes: scopes}, nil
	}
	id := s.cookie(r, sessionCookie)
	if id == "" {
		return nil, nil
	}
	name, role, csrf, err := s.auth.Session(r.Context(), id)
	if err != nil {
		return nil, err
	}
	if name == "" {
		s.setCookie(w, r, sessionCookie, "", -1, true)
		return nil, nil
	}
	return &User{Name: name, Role: role, session: id, csrf: csrf}, nil
}

// authorize applies the route's access to the caller, before the handler
// runs: 401 for anonymous callers of a route that is not public, 403 for
// a role the route does not list or a token without the route's scope,
// and the CSRF and origin checks for requests that change state.
func (s *Server) authorize(rt Route, u *User, r *http.Request) error {
	if !rt.Access.allows(u) {
		if u == nil {
			return errSignIn
		}
		return &Error{Status: http.StatusForbidden, Message: fmt.Sprintf("the %s role may not use this", u.Role)}
	}
	if u != nil && u.Token {
		need := rt.tokenScope()
		if need == scopeNone {
			return errTokenRefused
		}
		if !hasScope(u.Scopes, need) {
			return &Error{Status: http.StatusForbidden, Message: fmt.Sprintf("this API token lacks the %q scope this needs", need)}
		}
	}
	if changesState(r.Method) && !rt.readOnly() {
		return s.checkCSRF(r, u)
	}
	return nil
}

// readOnly reports whether a route that takes POST only reads public
// data: data.police.uk's API accepts its parameters in a form body (for
// polygons too long for a URL). Such a route is Public and declares the
// read token scope; it changes nothing, so there is nothing to forge and
// no CSRF token to ask of anonymous clients.
func (rt Route) readOnly() bool { return rt.Access == Public && rt.TokenScope == ScopeRead }

func hasScope(scopes []string, want string) bool {
	for _, s := range scopes {
		if s == want {
			return true
		}
	}
	return false
}

// changesState reports whether a method may change state, and so needs
// the CSRF checks. GET and HEAD must never change anything.
func changesState(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return false
	}
	return true
}

// maxFormBytes bounds the form bodies read for their csrf_token field.
const maxFormBytes = 64 << 10

// checkCSRF refuses a state-changing request that another site could have
// made the browser send. Any such request whose Origin is not ours, or
// that the browser marks as cross-site, is refused. Token callers are
// otherwise exempt: a browser never attaches an Authorization header on
// its own. A session caller must send the session's CSRF token; an
// anonymous one (the login form) the value of the login CSRF cookie
// (double submit), in the X-CSRF-Token header or the csrf_token form
// field.
func (s *Server) checkCSRF(r *http.Request, u *User) error {
	if o := r.Header.Get("Origin"); o != "" {
		own, err := s.origin(r)
		if err != nil || !strings.EqualFold(o, own) {
			return errCrossOrigin
		}
	}
	if site := r.Header.Get("Sec-Fetch-Site"); site == "cross-site" || site == "same-site" {
		return errCrossOrigin
	}
	if u != nil && u.Token {
		return nil
	}
	presented := r.Header.Get("X-CSRF-Token")
	if presented == "" {
		if ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type")); ct == "application/x-www-form-urlencoded" {
			r.Body = http.MaxBytesReader(nil, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil {
				return &Error{Status: http.StatusBadRequest, Message: "unreadable form", Err: err}
			}
			presented = r.PostForm.Get("csrf_token")
		}
	}
	want := s.cookie(r, loginCSRFCookie)
	if u != nil {
		want = u.csrf
	}
	if want == "" || presented == "" || subtle.ConstantTimeCompare([]byte(want), []byte(presented)) != 1 {
		return errCSRF
	}
	return nil
}

// origin is our own origin (scheme://host[:port]) as the browser sees it:
// the public URL's, or else the request's.
func (s *Server) origin(r *http.Request) (string, error) {
	if s.cfg.PublicURL != "" {
		u, err := url.Parse(s.cfg.PublicURL)
		if err != nil {
			return "", err
		}
		return u.Scheme + "://" + u.Host, nil
	}
	base, err := s.baseURL(r)
	if err != nil {
		return "", err
	}
	return base, nil
}

// retryAfter returns how long a rate-limited client should wait, from an
// error with a RetryAfter method (geo/auth's RateLimitedError).
func retryAfter(err error) (time.Duration, bool) {
	var ra interface{ RetryAfter() time.Duration }
	if errors.As(err, &ra) {
		return ra.RetryAfter(), true
	}
	return 0, false
}

// loginFailed reports whether err says the name or password was wrong.
func loginFailed(err error) bool {
	var lf interface{ LoginFailed() bool }
	return errors.As(err, &lf) && lf.LoginFailed()
}
