package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/jackc/pgx/v5"
)

// Session lifetimes. A session ends 12 hours after sign-in whatever
// happens (a shift), and after 2 hours without a request (a computer left
// signed in).
const (
	SessionLifetime = 12 * time.Hour
	SessionIdle     = 2 * time.Hour
)

// The sign-in rate limit: at most this many failed attempts per user name,
// and per client address, within FailureWindow. Past either, attempts are
// refused before any password is checked, so guessing costs the attacker
// time and the server no argon2 work.
const (
	MaxFailuresPerUser    = 5
	MaxFailuresPerAddress = 20
	FailureWindow         = 15 * time.Minute
)

// touchEvery is how stale last_seen_at may get before a request refreshes
// it: idle expiry does not need to-the-second precision, and this keeps
// a page's dozens of tile requests from each writing the sessions row.
const touchEvery = time.Minute

// loginFailed is the error of a sign-in with a wrong name or password, or
// for a disabled user: one error for all three, so that the answer does
// not tell an attacker which names exist.
type loginFailed struct{}

func (loginFailed) Error() string { return "wrong user name or password" }

// LoginFailed marks the error for packages that recognise it by its method
// rather than import this one (web turns it into 401).
func (loginFailed) LoginFailed() bool { return true }

// ErrBadCredentials is returned by Login for an unknown user, a wrong
// password or a disabled user alike. Test for it with errors.Is.
var ErrBadCredentials error = loginFailed{}

// RateLimitedError is returned by Login when too many attempts failed
// recently for the user name or the client address.
type RateLimitedError struct {
	// Wait is how long until an attempt will be considered again.
	Wait time.Duration
	// By is "user" or "address": which limit was reached.
	By string
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("too many failed sign-ins for this %s; try again in %s", map[string]string{"user": "user name", "address": "address"}[e.By], e.Wait.Round(time.Second))
}

// RetryAfter is how long the client should wait, for a Retry-After header.
func (e *RateLimitedError) RetryAfter() time.Duration { return e.Wait }

// secretLen is the length of session ids, CSRF tokens and API token
// secrets: 32 random bytes, far beyond guessing.
const secretLen = 32

// newSecret returns 32 random bytes as unpadded base64url text, and the
// SHA-256 of that text, which is what the database keeps.
func newSecret() (text string, hash []byte, err error) {
	b := make([]byte, secretLen)
	if _, err := rand.Read(b); err != nil {
		return "", nil, err
	}
	text = base64.RawURLEncoding.EncodeToString(b)
	sum := sha256.Sum256([]byte(text))
	return text, sum[:], nil
}

// secretHash checks that s looks like a secret made by newSecret (43
// base64url characters, canonical) and returns its SHA-256; ok is false
// for anything else, so garbage never reaches the database.
func secretHash(s string) (hash []byte, ok bool) {
	if len(s) != base64.RawURLEncoding.EncodedLen(secretLen) {
		return nil, false
	}
	b, err := base64.RawURLEncoding.Strict().DecodeString(s)
	if err != nil || len(b) != secretLen {
		return nil, false
	}
	sum := sha256.Sum256([]byte(s))
	return sum[:], true
}

func seconds(d time.Duration) float64 { return d.Seconds() }

const (
	pruneFailures = `DELETE FROM login_failures WHERE at < now() - make_interval(secs => $1::float8)`
	insertAttempt = `INSERT INTO login_failures (user_name, remote_addr) VALUES ($1, $2) RETURNING id`
	deleteAttempt = `DELETE FROM login_failures WHERE id = $1`
	countFailures = `SELECT
	(SELECT count(*) FROM login_failures WHERE user_name = $1 AND at > now() - make_interval(secs => $3::float8)),
	(SELECT count(*) FROM login_failures WHERE remote_addr = $2 AND at > now() - make_interval(secs => $3::float8))`
	// waitUser and waitAddress: once n >= limit failures are in the window,
	// attempts resume when the limit-th newest of them leaves it.
	waitUser = `SELECT coalesce(extract(epoch FROM (
	SELECT at FROM login_failures WHERE user_name = $1 AND at > now() - make_interval(secs => $2::float8)
	ORDER BY at DESC OFFSET $3 LIMIT 1) + make_interval(secs => $2::float8) - now()), 0)::float8`
	waitAddress = `SELECT coalesce(extract(epoch FROM (
	SELECT at FROM login_failures WHERE remote_addr = $1 AND at > now() - make_interval(secs => $2::float8)
	ORDER BY at DESC OFFSET $3 LIMIT 1) + make_interval(secs => $2::float8) - now()), 0)::float8`
	selectLoginUser = `SELECT id, role, password_hash, disabled_at IS NOT NULL FROM users WHERE name = $1`
	clearFailures   = `DELETE FROM login_failures WHERE user_name = $1 AND remote_addr = $2`
	recordLogin     = `UPDATE users SET last_login_at = now() WHERE id = $1`
	upgradeHash     = `UPDATE users SET password_hash = $3 WHERE id = $1 AND password_hash = $2`
	pruneSessions   = `DELETE FROM sessions WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => $1::float8)`
	insertSession   = `INSERT INTO sessions (id_hash, user_id, csrf_token, expires_at, remote_addr)
VALUES ($1, $2, $3, now() + make_interval(secs => $4::float8), $5)`
)

// Login checks a sign-in attempt from the client at remote (an IP
// address) and, if the name and password are right and the user is
// enabled, starts a session and returns its id, the value of the session
// cookie. Every attempt is audited.
//
// The rate limit is checked first, before any password work: past it,
// Login returns a *RateLimitedError. A wrong name or password, or a
// disabled user, gives ErrBadCredentials.
func (s *Store) Login(ctx context.Context, name, password, remote string) (string, error) {
	name, remote = normalName(name), noNUL(remote)
	if _, err := s.pool.Exec(ctx, pruneFailures, seconds(FailureWindow)); err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	// Record the attempt before counting, so attempts running at the same
	// time each see the others: at most the limit get to a password check.
	var attempt int64
	if err := s.pool.QueryRow(ctx, insertAttempt, name, remote).Scan(&attempt); err != nil {
		return "", fmt.Errorf("sign in: %w", err)
	}
	forget := func() {
		// Best effort, even if the request is gone: a failed lookup should
		// not count against the user.
		s.pool.Exec(context.WithoutCancel(ctx), deleteAttempt, attempt) //nolint:errcheck // expires with the window anyway
	}
	var byUser, byAddr int
	if err := s.pool.QueryRow(ctx, countFailures, name, remote, seconds(FailureWindow)).Scan(&byUser, &byAddr); err != nil {
		forget()
		return "", fmt.Errorf("sign in: %w", err)
	}
	if byUser > MaxFailuresPerUser || byAddr > MaxFailuresPerAddress {
		forget()
		return "", s.refuse(ctx, name, remote, byUser > MaxFailuresPerUser, byAddr > MaxFailuresPerAddress)
	}

	var (
		id       int64
		role     string
		stored   string
		disabled bool
	)
	err := s.pool.QueryRow(ctx, selectLoginUser, name).Scan(&id, &role, &stored, &disabled)
	found := err == nil
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		forget()
		return "", fmt.Errorf("sign in: %w", err)
	}
	hash := stored
	if !found {
		hash = dummy()
	}
	ok, err := s.verify(ctx, hash, password)
	if err != nil {
		forget()
		return "", fmt.Errorf("sign in %s: stored password: %w", name, err)
	}
	reason := ""
	switch {
	case !found:
		reason = "unknown user"
	case !ok:
		reason = "wrong password"
	case disabled:
		reason = "disabled"
	case len(password) > MaxPasswordLen:
		reason = "password too long"
	}
	if reason != "" {
		// The attempt's row stays: it is now a failure.
		if err := Audit(ctx, s.pool, name, ActionLoginFailure, map[string]any{"reason": reason}, remote); err != nil {
			return "", err
		}
		return "", ErrBadCredentials
	}

	sid, sidHash, err := newSecret()
	if err != nil {
		forget()
		return "", err
	}
	csrf, _, err := newSecret()
	if err != nil {
		forget()
		return "", err
	}
	var upgraded string
	if needsRehash(stored) {
		if upgraded, err = s.hash(ctx, password); err != nil {
			forget()
			return "", err
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, deleteAttempt, attempt); err != nil {
			return err
		}
		// Success clears this address's failures for the name, not other
		// addresses': someone guessing from elsewhere keeps their count.
		if _, err := tx.Exec(ctx, clearFailures, name, remote); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, recordLogin, id); err != nil {
			return err
		}
		if upgraded != "" {
			if _, err := tx.Exec(ctx, upgradeHash, id, stored, upgraded); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, pruneSessions, seconds(SessionIdle)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, insertSession, sidHash, id, csrf, seconds(SessionLifetime), remote); err != nil {
			return err
		}
		return Audit(ctx, tx, name, ActionLoginSuccess, map[string]any{"role": role}, remote)
	})
	if err != nil {
		forget()
		return "", fmt.Errorf("sign in %s: %w", name, err)
	}
	return sid, nil
}

// refuse builds the rate-limit error, with how long until the limit that
// was reached lets an attempt through again, and audits the refusal.
func (s *Store) refuse(ctx context.Context, name, remote string, user, address bool) error {
	e := &RateLimitedError{}
	var wait float64
	if user {
		e.By = "user"
		if err := s.pool.QueryRow(ctx, waitUser, name, seconds(FailureWindow), MaxFailuresPerUser-1).Scan(&wait); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
	}
	if address {
		var w float64
		if err := s.pool.QueryRow(ctx, waitAddress, remote, seconds(FailureWindow), MaxFailuresPerAddress-1).Scan(&w); err != nil {
			return fmt.Errorf("sign in: %w", err)
		}
		if w > wait || e.By == "" {
			wait, e.By = math.Max(w, wait), "address"
		}
	}
	e.Wait = max(time.Second, time.Duration(math.Ceil(wait))*time.Second)
	if err := Audit(ctx, s.pool, name, ActionLoginFailure, map[string]any{"reason": "rate limited", "limit": e.By}, remote); err != nil {
		return err
	}
	return e
}

const (
	selectSession = `SELECT u.name, u.role, s.csrf_token, s.last_seen_at < now() - make_interval(secs => $3::float8)
FROM sessions s JOIN users u ON u.id = s.user_id
WHERE s.id_hash = $1 AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2::float8)
	AND u.disabled_at IS NULL`
	touchSession = `UPDATE sessions SET last_seen_at = now() WHERE id_hash = $1`
)

// Session returns the user name and role of the live session with id, and
// the session's CSRF token, and keeps the session from going idle. An
// unknown, expired or idle session, or one of a disabled user, gives an
// empty name and no error: the caller is then anonymous.
func (s *Store) Session(ctx context.Context, id string) (name, role, csrf string, err error) {
	h, ok := secretHash(id)
	if !ok {
		return "", "", "", nil
	}
	var stale bool
	err = s.pool.QueryRow(ctx, selectSession, h, seconds(SessionIdle), seconds(touchEvery)).Scan(&name, &role, &csrf, &stale)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", "", nil
	}
	if err != nil {
		return "", "", "", fmt.Errorf("session: %w", err)
	}
	if stale {
		if _, err := s.pool.Exec(ctx, touchSession, h); err != nil {
			return "", "", "", fmt.Errorf("session: %w", err)
		}
	}
	return name, role, csrf, nil
}

const deleteSession = `DELETE FROM sessions s USING users u WHERE s.id_hash = $1 AND u.id = s.user_id RETURNING u.name`

// Logout ends the session with id and audits it; ending a session that
// does not exist (any more) is not an error.
func (s *Store) Logout(ctx context.Context, id, remote string) error {
	h, ok := secretHash(id)
	if !ok {
		return nil
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var name string
		err := tx.QueryRow(ctx, deleteSession, h).Scan(&name)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("sign out: %w", err)
		}
		return Audit(ctx, tx, name, ActionLogout, nil, noNUL(remote))
	})
}
