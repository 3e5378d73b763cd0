package auth

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Querier runs a query: a *pgxpool.Pool, a *pgx.Conn or a pgx.Tx.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// ErrNoUser is returned when a named user does not exist.
var ErrNoUser = errors.New("no such user")

// ErrUserExists is returned when adding a user whose name is taken.
var ErrUserExists = errors.New("a user with that name exists")

// Store is the users, sessions and tokens in one database. It is safe for
// concurrent use, and several Stores (several servers) may share a
// database.
type Store struct {
	pool *pgxpool.Pool
	// hashing bounds the argon2 computations running at once: each takes
	// 19 MiB, and a burst of sign-in attempts must not take the server's
	// memory with it.
	hashing chan struct{}
}

// New returns the store over pool.
func New(pool *pgxpool.Pool) *Store {
	return &Store{pool: pool, hashing: make(chan struct{}, max(2, runtime.NumCPU()))}
}

// User is one row of the users table, as the command line lists it.
type User struct {
	Name      string
	Role      Role
	Created   time.Time
	LastLogin *time.Time // nil before the first sign-in
	Disabled  *time.Time // nil while the user may sign in
}

// hash runs Hash under the concurrency bound.
func (s *Store) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquire(ctx); err != nil {
		return "", err
	}
	defer s.release()
	return Hash(password)
}

// verify runs Verify under the concurrency bound.
func (s *Store) verify(ctx context.Context, stored, password string) (bool, error) {
	if err := s.acquire(ctx); err != nil {
		return false, err
	}
	defer s.release()
	return Verify(stored, password)
}

func (s *Store) acquire(ctx context.Context) error {
	select {
	case s.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) release() { <-s.hashing }

var (
	dummyOnce sync.Once
	dummyHash string
)

// dummy returns a hash of a random password, verified when a sign-in names
// a user that does not exist, so that such an attempt takes as long as one
// with a wrong password and timing does not reveal which names exist.
func dummy() string {
	dummyOnce.Do(func() {
		h, err := Hash(GeneratePassword())
		if err != nil {
			panic(fmt.Sprintf("auth: hash a random password: %v", err))
		}
		dummyHash = h
	})
	return dummyHash
}

const insertUser = `INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3)
ON CONFLICT (name) DO NOTHING`

// AddUser creates a user with a role and a password, which must pass
// CheckPassword; actor and the audit log record who did it.
func (s *Store) AddUser(ctx context.Context, actor, name string, role Role, password string) error {
	if err := CheckName(name); err != nil {
		return err
	}
	if _, err := ParseRole(string(role)); err != nil {
		return err
	}
	if err := CheckPassword(password); err != nil {
		return err
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, insertUser, name, string(role), h)
		if err != nil {
			return fmt.Errorf("add user %s: %w", name, err)
		}
		if tag.RowsAffected() == 0 {
			return fmt.Errorf("add user %s: %w", name, ErrUserExists)
		}
		return Audit(ctx, tx, actor, ActionUserAdd, map[string]any{"user": name, "role": role}, "")
	})
}

const listUsers = `SELECT name, role, created_at, last_login_at, disabled_at FROM users ORDER BY name`

// Users lists every user, disabled ones included, by name.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.pool.Query(ctx, listUsers)
	if err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	var out []User
	for rows.Next() {
		var u User
		var role string
		if err := rows.Scan(&u.Name, &role, &u.Created, &u.LastLogin, &u.Disabled); err != nil {
			rows.Close()
			return nil, fmt.Errorf("list users: %w", err)
		}
		u.Role = Role(role)
		out = append(out, u)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	return out, nil
}

const (
	disableUser        = `UPDATE users SET disabled_at = coalesce(disabled_at, now()) WHERE name = $1 RETURNING id`
	deleteUserSessions = `DELETE FROM sessions WHERE user_id = $1`
	revokeUserTokens   = `UPDATE api_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`
	setPassword        = `UPDATE users SET password_hash = $2, password_changed_at = now() WHERE name = $1 RETURNING id`
)

// DisableUser stops a user signing in, ends their sessions and revokes
// their API tokens, in one transaction, so nothing they started survives.
// Disabling a disabled user is not an error (it revokes again).
func (s *Store) DisableUser(ctx context.Context, actor, name string) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, disableUser, name).Scan(&id); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("disable %s: %w", name, ErrNoUser)
			}
			return fmt.Errorf("disable %s: %w", name, err)
		}
		sessions, err := tx.Exec(ctx, deleteUserSessions, id)
		if err != nil {
			return fmt.Errorf("disable %s: %w", name, err)
		}
		tokens, err := tx.Exec(ctx, revokeUserTokens, id)
		if err != nil {
			return fmt.Errorf("disable %s: %w", name, err)
		}
		return Audit(ctx, tx, actor, ActionUserDisable, map[string]any{
			"user": name, "sessions_ended": sessions.RowsAffected(), "tokens_revoked": tokens.RowsAffected(),
		}, "")
	})
}

// SetPassword gives a user a new password (which must pass CheckPassword)
// and ends their sessions, so that whoever knew the old one is signed out.
// It does not re-enable a disabled user.
func (s *Store) SetPassword(ctx context.Context, actor, name, password string) error {
	if err := CheckPassword(password); err != nil {
		return err
	}
	h, err := s.hash(ctx, password)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, setPassword, name, h).Scan(&id); err != nil {
			if errors.Is(err, pgx.ErrNoRows) {
				return fmt.Errorf("reset password of %s: %w", name, ErrNoUser)
			}
			return fmt.Errorf("reset password of %s: %w", name, err)
		}
		sessions, err := tx.Exec(ctx, deleteUserSessions, id)
		if err != nil {
			return fmt.Errorf("reset password of %s: %w", name, err)
		}
		return Audit(ctx, tx, actor, ActionPasswordReset, map[string]any{"user": name, "sessions_ended": sessions.RowsAffected()}, "")
	})
}
