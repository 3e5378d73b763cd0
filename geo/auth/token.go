package auth

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// TokenPrefix starts every API token, so that a token pasted into the
// wrong place (a log, a chat, a repository) is recognisable by people and
// by secret scanners.
const TokenPrefix = "hst_"

// ErrNoToken is returned when revoking a token id that does not exist.
var ErrNoToken = errors.New("no such token")

// ErrBadToken is returned by ParseToken for text that is not an API token.
var ErrBadToken = errors.New("not a hotspot API token")

// TokenInfo describes an API token, without its secret (which is not
// stored).
type TokenInfo struct {
	ID       int64
	User     string
	Label    string
	Scopes   []Scope
	Created  time.Time
	Expires  *time.Time // nil: never
	LastUsed *time.Time
	Revoked  *time.Time
}

// ParseToken checks that s has the shape of an API token ("hst_" and 43
// base64url characters) and returns the SHA-256 the database keeps for it.
// Only the shape is checked; whether the token is live is Token's job.
func ParseToken(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, TokenPrefix)
	if !ok {
		return nil, ErrBadToken
	}
	h, ok := secretHash(rest)
	if !ok {
		return nil, ErrBadToken
	}
	return h, nil
}

const (
	selectTokenUser = `SELECT id, disabled_at IS NOT NULL FROM users WHERE name = $1`
	insertToken     = `INSERT INTO api_tokens (user_id, label, secret_hash, scopes, expires_at)
VALUES ($1, $2, $3, $4, CASE WHEN $5::float8 > 0 THEN now() + make_interval(secs => $5::float8) END)
RETURNING id, created_at, expires_at`
)

// AddToken creates an API token for user with scopes, a label saying what
// it is for, and a lifetime (0: it never expires), and returns its
// description and the token itself. The token is not stored, only its
// hash: show it to the person once, now.
func (s *Store) AddToken(ctx context.Context, actor, user string, scopes []Scope, label string, ttl time.Duration) (TokenInfo, string, error) {
	info := TokenInfo{User: user, Label: label}
	if len(scopes) == 0 {
		return info, "", errors.New("a token needs at least one scope")
	}
	var names []string
	for _, sc := range scopes {
		if sc != ScopeIngest && sc != ScopeRead {
			return info, "", fmt.Errorf("scope %q: want ingest or read", string(sc))
		}
		names = append(names, string(sc))
	}
	if ttl < 0 {
		return info, "", errors.New("a token's lifetime cannot be negative")
	}
	if len(label) > 200 || strings.ContainsRune(label, 0) {
		return info, "", errors.New("a token's label must be under 200 bytes, without NUL")
	}
	secret, h, err := newSecret()
	if err != nil {
		return info, "", err
	}
	info.Scopes = scopes
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var uid int64
		var disabled bool
		if err := tx.QueryRow(ctx, selectTokenUser, user).Scan(&uid, &disabled); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return ErrNoUser
			}
			return err
		}
		if disabled {
			return fmt.Errorf("user %s is disabled", user)
		}
		if err := tx.QueryRow(ctx, insertToken, uid, label, h, names, seconds(ttl)).Scan(&info.ID, &info.Created, &info.Expires); err != nil {
			return err
		}
		return Audit(ctx, tx, actor, ActionTokenCreate, map[string]any{
			"token_id": info.ID, "user": user, "scopes": names, "label": label, "expires": info.Expires,
		}, "")
	})
	if err != nil {
		return info, "", fmt.Errorf("add token for %s: %w", user, err)
	}
	return info, TokenPrefix + secret, nil
}

const listTokens = `SELECT t.id, u.name, t.label, t.scopes, t.created_at, t.expires_at, t.last_used_at, t.revoked_at
FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id`

// Tokens lists every API token, revoked and expired ones included.
func (s *Store) Tokens(ctx context.Context) ([]TokenInfo, error) {
	rows, err := s.pool.Query(ctx, listTokens)
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	defer rows.Close()
	var out []TokenInfo
	for rows.Next() {
		var t TokenInfo
		var scopes []string
		if err := rows.Scan(&t.ID, &t.User, &t.Label, &scopes, &t.Created, &t.Expires, &t.LastUsed, &t.Revoked); err != nil {
			return nil, fmt.Errorf("list tokens: %w", err)
		}
		for _, sc := range scopes {
			t.Scopes = append(t.Scopes, Scope(sc))
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	return out, nil
}

const revokeToken = `UPDATE api_tokens t SET revoked_at = coalesce(t.revoked_at, now())
FROM users u WHERE t.id = $1 AND u.id = t.user_id RETURNING u.name`

// RevokeToken stops the token with id working at once, on every server.
// Revoking a revoked token is not an error.
func (s *Store) RevokeToken(ctx context.Context, actor string, id int64) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var user string
		if err := tx.QueryRow(ctx, revokeToken, id).Scan(&user); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("revoke token %d: %w", id, ErrNoToken)
			}
			return fmt.Errorf("revoke token %d: %w", id, err)
		}
		return Audit(ctx, tx, actor, ActionTokenRevoke, map[string]any{"token_id": id, "user": user}, "")
	})
}

const (
	selectToken = `SELECT u.name, u.role, t.scopes,
	t.last_used_at IS NULL OR t.last_used_at < now() - make_interval(secs => $2::float8)
FROM api_tokens t JOIN users u ON u.id = t.user_id
WHERE t.secret_hash = $1 AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > now())
	AND u.disabled_at IS NULL`
	touchToken = `UPDATE api_tokens SET last_used_at = now() WHERE secret_hash = $1`
)

// Token returns the user name, role and scopes of a live API token (the
// text after "Bearer "). A malformed, unknown, expired or revoked token,
// or one whose user is disabled, gives an empty name and no error.
func (s *Store) Token(ctx context.Context, token string) (name, role string, scopes []string, err error) {
	h, err := ParseToken(token)
	if err != nil {
		return "", "", nil, nil
	}
	var stale bool
	err = s.pool.QueryRow(ctx, selectToken, h, seconds(touchEvery)).Scan(&name, &role, &scopes, &stale)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", "", nil, nil
	}
	if err != nil {
		return "", "", nil, fmt.Errorf("token: %w", err)
	}
	if stale {
		if _, err := s.pool.Exec(ctx, touchToken, h); err != nil {
			return "", "", nil, fmt.Errorf("token: %w", err)
		}
	}
	return name, role, scopes, nil
}
