package web

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/harborough-csp/hotspot/tiles"
)

// TestStatus checks the one place errors become status codes.
func TestStatus(t *testing.T) {
	tests := []struct {
		err  error
		want int
	}{
		{fmt.Errorf("tile: %w", tiles.ErrBadTile), 400},
		{fmt.Errorf("x: %w", tiles.ErrUnknownLayer), 404},
		{fmt.Errorf("query: %w", context.DeadlineExceeded), 503},
		{fmt.Errorf("query: %w", &pgconn.PgError{Code: "57014", Message: "canceling statement due to statement timeout"}), 503},
		{fmt.Errorf("query: %w", context.Canceled), 499},
		{&Error{Status: 418, Message: "teapot"}, 418},
		{fmt.Errorf("sign in: %w", badLogin{}), 401},
		{fmt.Errorf("sign in: %w", limited{}), 429},
		{errors.New(`ERROR: relation "incidents" does not exist`), 500},
	}
	for _, tt := range tests {
		code, msg := status(tt.err)
		if code != tt.want {
			t.Errorf("status(%v) = %d; want %d", tt.err, code, tt.want)
		}
		if (code == 500 && strings.Contains(msg, "relation")) || strings.Contains(msg, "does not exist") || strings.Contains(msg, "192.0.2.1") {
			t.Errorf("status(%v) message %q leaks the internal error", tt.err, msg)
		}
	}
}

// TestRoutesDeclareAccess checks that a route without an access level, or
// a name used twice, is refused.
func TestRoutesDeclareAccess(t *testing.T) {
	h := func(http.ResponseWriter, *http.Request) error { return nil }
	if err := checkRoutes([]Route{{Name: "a", Access: Public, handle: h}, {Name: "b", handle: h}}); err == nil {
		t.Error("checkRoutes(route without access) = nil; want an error")
	}
	if err := checkRoutes([]Route{{Name: "a", Access: Public, handle: h}, {Name: "a", Access: Public, handle: h}}); err == nil {
		t.Error("checkRoutes(duplicate names) = nil; want an error")
	}
}

// TestPanicIsA500 checks that a handler that panics gives the client a
// plain 500 and keeps the server up.
func TestPanicIsA500(t *testing.T) {
	s := &Server{cfg: Config{RequestTimeout: 1e9}, log: discard()}
	h := s.serve(Route{Name: "boom", Access: Public, handle: func(http.ResponseWriter, *http.Request) error { panic("boom") }})
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/", nil))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "boom") {
		t.Errorf("panicking handler = %d %s; want 500 without the panic text", rec.Code, rec.Body.String())
	}
}

func discard() *slog.Logger { return slog.New(slog.DiscardHandler) }

// badLogin and limited stand for geo/auth's errors, which web recognises
// by their methods.
type badLogin struct{}

func (badLogin) Error() string     { return "wrong user name or password (user does not exist)" }
func (badLogin) LoginFailed() bool { return true }

type limited struct{}

func (limited) Error() string             { return "too many failures for 192.0.2.1" }
func (limited) RetryAfter() time.Duration { return time.Minute }
