package web

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// sessionMaxAge is how long the browser keeps the session cookie: the
// session's absolute lifetime. The store enforces both expiries itself;
// this only saves sending a cookie that cannot work.
const sessionMaxAge = 12 * time.Hour

// loginCSRFMaxAge is how long a login form stays usable.
const loginCSRFMaxAge = time.Hour

// maxLoginBytes bounds a sign-in request's body.
const maxLoginBytes = 16 << 10

// userJSON is a user as the page sees it.
type userJSON struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

func publicUser(u *User) *userJSON {
	if u == nil {
		return nil
	}
	return &userJSON{Name: u.Name, Role: u.Role}
}

// meJSON is GET /api/me's answer. CSRFToken is the session's token, which
// the page sends back on requests that change state (sign out); it is
// empty for anonymous and token callers.
type meJSON struct {
	User      *userJSON `json:"user"`
	CSRFToken string    `json:"csrf_token,omitempty"`
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) error {
	u, ok := UserFrom(r.Context())
	if !ok {
		return writeJSON(w, http.StatusOK, meJSON{})
	}
	return writeJSON(w, http.StatusOK, meJSON{User: publicUser(&u), CSRFToken: u.csrf})
}

// loginPage serves the sign-in form, and gives the browser the login
// form's CSRF cookie (double submit: the form's script sends the cookie's
// value back in a header, which another site cannot read to forge).
func (s *Server) loginPage(w http.ResponseWriter, r *http.Request) error {
	if !validToken(s.cookie(r, loginCSRFCookie)) {
		b := make([]byte, 32)
		if _, err := rand.Read(b); err != nil {
			return err
		}
		s.setCookie(w, r, loginCSRFCookie, base64.RawURLEncoding.EncodeToString(b), loginCSRFMaxAge, false)
	}
	page, err := fs.ReadFile(s.static, "login.html")
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	http.ServeContent(w, r, "login.html", time.Time{}, bytes.NewReader(page))
	return nil
}

// validToken reports whether s looks like a token we issue (43 base64url
// characters), so a planted cookie of another shape is replaced.
func validToken(s string) bool {
	if len(s) != 43 {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(s)
	return err == nil
}

// loginRequest is the sign-in form: JSON from the page's script, or a
// plain form post.
type loginRequest struct {
	Name     string `json:"name"`
	Password string `json:"password"`
	Next     string `json:"next"`
}

// loginResponse tells the page who is signed in and where to go.
type loginResponse struct {
	User      *userJSON `json:"user"`
	CSRFToken string    `json:"csrf_token,omitempty"`
	Redirect  string    `json:"redirect"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) error {
	var in loginRequest
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ct {
	case "application/json":
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxLoginBytes))
		if err := dec.Decode(&in); err != nil {
			return &Error{Status: http.StatusBadRequest, Message: "the sign-in request is not the JSON object {name, password, next}", Err: err}
		}
	case "application/x-www-form-urlencoded":
		r.Body = http.MaxBytesReader(w, r.Body, maxLoginBytes)
		if err := r.ParseForm(); err != nil {
			return &Error{Status: http.StatusBadRequest, Message: "unreadable form", Err: err}
		}
		in = loginRequest{Name: r.PostForm.Get("name"), Password: r.PostForm.Get("password"), Next: r.PostForm.Get("next")}
	default:
		return &Error{Status: http.StatusUnsupportedMediaType, Message: "send the sign-in as application/json or a form"}
	}
	if strings.TrimSpace(in.Name) == "" || in.Password == "" {
		return &Error{Status: http.StatusBadRequest, Message: "enter a user name and a password"}
	}
	ctx := r.Context()
	id, err := s.auth.Login(ctx, in.Name, in.Password, clientIP(r))
	if err != nil {
		return err // serve: 401 for wrong credentials, 429 when rate-limited
	}
	// Signing in while signed in replaces the old session rather than
	// leaving it alive behind the new one; a failed attempt (above) keeps
	// it, so a mistyped password does not sign anyone out.
	if old, ok := UserFrom(ctx); ok && old.session != "" {
		if err := s.auth.Logout(ctx, old.session, clientIP(r)); err != nil {
			return err
		}
	}
	name, role, csrf, err := s.auth.Session(ctx, id)
	if err != nil {
		return err
	}
	s.setCookie(w, r, sessionCookie, id, sessionMaxAge, true)
	s.setCookie(w, r, loginCSRFCookie, "", -1, false)
	next := s.safeNext(in.Next)
	if !wantsJSON(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return writeJSON(w, http.StatusOK, loginResponse{User: &userJSON{Name: name, Role: role}, CSRFToken: csrf, Redirect: next})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) error {
	u, ok := UserFrom(r.Context())
	if ok && u.session != "" {
		if err := s.auth.Logout(r.Context(), u.session, clientIP(r)); err != nil {
			return err
		}
	}
	s.setCookie(w, r, sessionCookie, "", -1, true)
	next := s.home()
	if !wantsJSON(r) {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return nil
	}
	return writeJSON(w, http.StatusOK, loginResponse{Redirect: next})
}

// wantsJSON reports whether the client is the page's script (which asks
// for JSON) rather than a plain form post (which wants a redirect).
func wantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json") ||
		strings.HasPrefix(r.Header.Get("Content-Type"), "application/json")
}

// home is the map page's path: "/" or the public URL's path prefix.
func (s *Server) home() string {
	if s.cfg.PublicURL != "" {
		if u, err := url.Parse(s.cfg.PublicURL); err == nil && u.Path != "" {
			return strings.TrimRight(u.Path, "/") + "/"
		}
	}
	return "/"
}

// safeNext returns where to send the browser after signing in: next if it
// is a path on this site, else the map page. Only a relative path that
// starts with a single "/" passes, so "//evil.example", "/\evil.example",
// "https://evil.example" and "javascript:..." all fall back home, and so
// does anything with a backslash, a control character or a space, which
// browsers strip or rewrite before resolving.
func (s *Server) safeNext(next string) string {
	if sameSitePath(next) {
		return next
	}
	return s.home()
}

func sameSitePath(p string) bool {
	if p == "" || len(p) > 2048 || p[0] != '/' {
		return false
	}
	if len(p) > 1 && (p[1] == '/' || p[1] == '\\') {
		return false
	}
	for i := 0; i < len(p); i++ {
		if c := p[i]; c <= ' ' || c == '\\' || c >= 0x7f {
			return false
		}
	}
	u, err := url.Parse(p)
	return err == nil && u.Scheme == "" && u.Host == "" && u.User == nil && u.Opaque == "" && strings.HasPrefix(u.Path, "/")
}
