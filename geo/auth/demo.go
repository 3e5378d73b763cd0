package auth

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Credentials are a user name and password, as the demo prints them.
type Credentials struct {
	Name     string
	Password string
}

// DemoUser is the name of the demo's user with role r: "demo-police",
// "demo-analyst" or "demo-admin".
func DemoUser(r Role) string { return "demo-" + string(r) }

const upsertDemoUser = `INSERT INTO users (name, role, password_hash) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET role = EXCLUDED.role, password_hash = EXCLUDED.password_hash,
	password_changed_at = now(), disabled_at = NULL
RETURNING id, (xmax = 0)`

// EnsureDemoUsers creates the demo's three users (demo-police,
// demo-analyst, demo-admin), or resets them if they exist, with fresh
// random passwords, and returns the credentials so the demo can print
// them. A reset re-enables the user and ends their sessions, so last
// run's passwords stop working. Only the demo calls this: "hotspot serve"
// never creates users by itself.
func EnsureDemoUsers(ctx context.Context, pool *pgxpool.Pool) (map[Role]Credentials, error) {
	s := New(pool)
	out := map[Role]Credentials{}
	hashes := map[Role]string{}
	for _, role := range Roles() {
		pw := GeneratePassword()
		h, err := s.hash(ctx, pw)
		if err != nil {
			return nil, err
		}
		out[role] = Credentials{Name: DemoUser(role), Password: pw}
		hashes[role] = h
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for _, role := range Roles() {
			name := DemoUser(role)
			var id int64
			var created bool
			if err := tx.QueryRow(ctx, upsertDemoUser, name, string(role), hashes[role]).Scan(&id, &created); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, deleteUserSessions, id); err != nil {
				return err
			}
			action := ActionPasswordReset
			if created {
				action = ActionUserAdd
			}
			if err := Audit(ctx, tx, "demo", action, map[string]any{"user": name, "role": role}, ""); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("demo users: %w", err)
	}
	return out, nil
}
