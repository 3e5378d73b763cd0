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
// The role is set as a connection parameter, so it is the session's
// default: even a RESET ROLE leaves it in place. AfterConnect then checks
// that the connection really is the public role and read-only before the
// pool hands it out, in case something between us and the server (a
// connection pooler, say) dropped the parameters. Close the pool when
// done; it does not close main.
func PublicPool(ctx context.Context, main *pgxpool.Pool) (*pgxpool.Pool, error) {
	cfg := main.Config()
	rp := cfg.ConnConfig.RuntimeParams
	if rp == nil {
		rp = map[string]string{}
		cfg.ConnConfig.RuntimeParams = rp
	}
	rp["role"] = PublicRole
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
