package anon

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// PublicRole is the database role public requests run as (created by
// migrations/0003). It may read the open schema and the public reference
// tables, and nothing else.
const PublicRole = "hotspot_public"

// ErrNoPublicRole means a connection could not take the public role: the
// server's database user is not a member of it.
var ErrNoPublicRole = errors.New("cannot take the public database role")

// PublicPool returns a second pool on main's database, with main's
// connection settings, whose every connection runs as PublicRole with
// search_path "open, public" (PostGIS's functions live in public) and
// read-only transactions. Handlers of public routes use only this pool,
// so whatever SQL they run, PostgreSQL refuses to show them incidents,
// quarantine, import batches, postcodes or users.
//
// The pool logs in as PublicRole itself when the server lets it
// (migrations/0007 makes the role LOGIN; the embedded cluster trusts its
// private socket), so the session has no other role to switch back to:
// not even SET ROLE NONE reaches the precise tables. Where that login is
// refused (an outside server that wants a password for it), it falls back
// to logging in as main's user with the role set as a connection
// parameter: RESET ROLE still leaves it in place, but SET ROLE NONE would
// not, so there the guarantee rests on handlers running only constant SQL.
// AfterConnect checks that each connection really is the public role and
// read-only before the pool hands it out, in case something between us and
// the server (a connection pooler, say) dropped the parameters. Close the
// pool when done; it does not close main.
func PublicPool(ctx context.Context, main *pgxpool.Pool) (*pgxpool.Pool, error) {
	login := main.Config()
	login.ConnConfig.User = PublicRole
	login.ConnConfig.Password = ""
	if pool, err := publicPool(ctx, login, false); err == nil {
		return pool, nil
	}
	return publicPool(ctx, main.Config(), true)
}

// publicPool opens a pool on cfg whose sessions run as PublicRole: by
// logging in as it, or, with setRole, by a role connection parameter.
func publicPool(ctx context.Context, cfg *pgxpool.Config, setRole bool) (*pgxpool.Pool, error) {
	rp := cfg.ConnConfig.RuntimeParams
	if rp == nil {
		rp = map[string]string{}
		cfg.ConnConfig.RuntimeParams = rp
	}
	if setRole {
		rp["role"] = PublicRole
	}
	rp["search_path"] = "open, public"
	rp["default_transaction_read_only"] = "on"
	rp["application_name"] = "hotspot-public"
	prev := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, conn *pgx.Conn) error {
		if prev != nil {
			if err := prev(ctx, conn); err != nil {
				return err
			}
		}
		var user, readOnly string
		err := conn.QueryRow(ctx, `SELECT current_user, current_setting('default_transaction_read_only')`).Scan(&user, &readOnly)
		if err != nil {
			return err
		}
		if user != PublicRole || readOnly != "on" {
			return fmt.Errorf("%w: the connection runs as %q (read-only %s)", ErrNoPublicRole, user, readOnly)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("public pool: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("public pool: %w (the database user must be a member of %s: GRANT %s TO <user>)", err, PublicRole, PublicRole)
	}
	return pool, nil
}
