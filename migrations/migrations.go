// Package migrations holds the database schema as forward-only SQL files,
// embedded in the binary, and applies them in order.
//
// Files are named NNNN_verb_noun.sql. Apply takes a session-level advisory
// lock so that several processes starting at once (a server and an import,
// or parallel test binaries) apply each file exactly once; each file runs in
// its own transaction and is recorded in schema_migrations with its SHA-256,
// so an applied file that was later edited is refused rather than silently
// diverging from the database.
package migrations

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"regexp"
	"sort"
	"strconv"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

//go:embed *.sql
var files embed.FS

// lockKey is the advisory lock that serialises migrations; any constant
// works as long as nothing else in the database uses it.
const lockKey int64 = 0x486f7453706f74 // "HotSpot"

// Migration is one schema file.
type Migration struct {
	Version int
	Name    string
	SQL     string
	SHA256  string
}

var fileName = regexp.MustCompile(`^(\d{4})_([a-z0-9_]+)\.sql$`)

// ErrEdited is returned when a migration that was already applied no longer
// matches the embedded file.
var ErrEdited = errors.New("an applied migration was edited")

// All returns the embedded migrations in version order.
func All() ([]Migration, error) {
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		return nil, err
	}
	var ms []Migration
	seen := map[int]string{}
	for _, e := range entries {
		m := fileName.FindStringSubmatch(e.Name())
		if m == nil {
			return nil, fmt.Errorf("migration file %q is not named NNNN_verb_noun.sql", e.Name())
		}
		v, _ := strconv.Atoi(m[1])
		if other, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %q and %q share version %d", other, e.Name(), v)
		}
		seen[v] = e.Name()
		b, err := files.ReadFile(e.Name())
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(b)
		ms = append(ms, Migration{Version: v, Name: m[2], SQL: string(b), SHA256: hex.EncodeToString(sum[:])})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	return ms, nil
}

const createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer PRIMARY KEY,
	name       text NOT NULL,
	sha256     text NOT NULL,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// Apply brings the database up to the newest embedded migration and returns
// the names of the files it applied (none when it was already current).
func Apply(ctx context.Context, pool *pgxpool.Pool) ([]string, error) {
	ms, err := All()
	if err != nil {
		return nil, err
	}
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return nil, fmt.Errorf("migrate: lock: %w", err)
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey) //nolint:errcheck // released with the session anyway

	if _, err := conn.Exec(ctx, createTable); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	applied := map[int]string{}
	rows, err := conn.Query(ctx, `SELECT version, sha256 FROM schema_migrations`)
	if err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}
	for rows.Next() {
		var v int
		var sum string
		if err := rows.Scan(&v, &sum); err != nil {
			return nil, err
		}
		applied[v] = sum
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("migrate: %w", err)
	}

	var done []string
	for _, m := range ms {
		label := fmt.Sprintf("%04d_%s", m.Version, m.Name)
		if sum, ok := applied[m.Version]; ok {
			if sum != m.SHA256 {
				return done, fmt.Errorf("migrate: %s: %w (forward-only: add a new file instead)", label, ErrEdited)
			}
			continue
		}
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version, name, sha256) VALUES ($1, $2, $3)`, m.Version, m.Name, m.SHA256)
			return err
		})
		if err != nil {
			return done, fmt.Errorf("migrate: %s: %w", label, err)
		}
		done = append(done, label)
	}
	return done, nil
}
