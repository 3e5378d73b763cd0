// Package store opens the project's PostgreSQL/PostGIS database: the server
// named by DATABASE_URL, or else a private cluster that it starts itself
// from the system's PostgreSQL binaries (see StartCluster). Either way the
// database gets PostGIS and the embedded migrations before anyone uses it.
// The test helper in store/storetest uses the same mechanism, so tests and
// the demo share one way of getting PostGIS.
package store

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/migrations"
)

// ErrNoPostGIS means the database lacks the PostGIS extension and this
// process could not create it.
var ErrNoPostGIS = errors.New("PostGIS is not available")

// Options configures Open.
type Options struct {
	// DatabaseURL, when set, names the server to use; no cluster is started.
	DatabaseURL string
	// DataDir is the embedded cluster's data directory (without DatabaseURL).
	DataDir string
	// Database is the database name inside the embedded cluster.
	Database string
	// StatementTimeout bounds every statement the pool runs.
	StatementTimeout time.Duration
	// MaxConns caps the pool; 0 keeps pgx's default (4 or the CPU count).
	MaxConns int32
	Logger   *slog.Logger
}

// DB is an open database: a pgx pool, and the embedded cluster behind it
// when there is one (started by us or joined).
type DB struct {
	Pool    *pgxpool.Pool
	Cluster *Cluster // nil with DATABASE_URL
	// Applied lists the migrations Open applied (none if already current).
	Applied []string
}

// Open connects to the database, creating and starting the embedded cluster
// when no DatabaseURL is given, makes sure PostGIS is installed, and applies
// any pending migrations.
func Open(ctx context.Context, opts Options) (*DB, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	db := &DB{}
	// On failure the cluster we joined or started must still be left, and
	// ctx may be what failed (Ctrl-C during start-up): clean up with a
	// context of its own, and say if that went wrong too.
	fail := func(err error) (*DB, error) {
		cctx, cancel := cleanupContext(ctx)
		defer cancel()
		if cerr := db.Close(cctx); cerr != nil {
			err = fmt.Errorf("%w (and closing the database: %v)", err, cerr)
		}
		return nil, err
	}
	dsn := opts.DatabaseURL
	if dsn == "" {
		c, err := StartCluster(ctx, ClusterOptions{DataDir: opts.DataDir, Durable: true, Logger: log})
		if err != nil {
			return nil, err
		}
		db.Cluster = c
		name := opts.Database
		if name == "" {
			name = "hotspot"
		}
		if err := c.CreateDatabase(ctx, name, ""); err != nil {
			return fail(err)
		}
		dsn = c.ConnString(name)
	}
	pool, err := Connect(ctx, dsn, opts)
	if err != nil {
		return fail(err)
	}
	db.Pool = pool
	if err := Prepare(ctx, pool, majorOf(db.Cluster)); err != nil {
		return fail(err)
	}
	applied, err := migrations.Apply(ctx, pool)
	if err != nil {
		return fail(err)
	}
	db.Applied = applied
	if len(applied) > 0 {
		log.Info("applied migrations", "files", applied)
	}
	return db, nil
}

func majorOf(c *Cluster) int {
	if c == nil {
		return 0
	}
	return c.Major
}

// Connect opens a pool with the project's session settings: UTC, a
// statement timeout, and an application name that shows in pg_stat_activity.
func Connect(ctx context.Context, dsn string, opts Options) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// pgx's message can echo the DSN, password included: say less.
		return nil, errors.New("DATABASE_URL is not a valid PostgreSQL connection string")
	}
	timeout := opts.StatementTimeout
	if timeout == 0 {
		timeout = 60 * time.Second
	}
	rp := cfg.ConnConfig.RuntimeParams
	rp["application_name"] = "hotspot"
	rp["timezone"] = "UTC"
	rp["statement_timeout"] = fmt.Sprint(timeout.Milliseconds())
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	return pool, nil
}

// Prepare makes sure PostGIS is installed in the database, creating the
// extension if it can. major is the embedded server's major version (0 for
// an outside server), used to name the package to install.
func Prepare(ctx context.Context, pool *pgxpool.Pool, major int) error {
	const haveSQL = `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'postgis')`
	var have bool
	if err := pool.QueryRow(ctx, haveSQL).Scan(&have); err != nil {
		return fmt.Errorf("check for PostGIS: %w", err)
	}
	if have {
		return nil
	}
	var available bool
	if err := pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'postgis')`).Scan(&available); err != nil {
		return fmt.Errorf("check for PostGIS: %w", err)
	}
	pkg := "postgresql-<version>-postgis-3"
	if major > 0 {
		pkg = fmt.Sprintf("postgresql-%d-postgis-3", major)
	}
	if !available {
		return fmt.Errorf("%w: the PostgreSQL server has no PostGIS extension files; install them (on Debian: apt-get install %s)", ErrNoPostGIS, pkg)
	}
	if _, err := pool.Exec(ctx, `CREATE EXTENSION IF NOT EXISTS postgis`); err != nil {
		// Two first runs at once both find no PostGIS and both create it;
		// IF NOT EXISTS does not cover that race, and the loser fails on a
		// unique index. Look again before blaming privileges.
		if err := pool.QueryRow(ctx, haveSQL).Scan(&have); err == nil && have {
			return nil
		}
		if ctx.Err() != nil { // a Ctrl-C, not a missing privilege
			return fmt.Errorf("create PostGIS: %w", err)
		}
		return fmt.Errorf("%w: the extension is installed on the server but could not be created in this database (%v); ask its owner to run CREATE EXTENSION postgis", ErrNoPostGIS, err)
	}
	return nil
}

// Close closes the pool and leaves the embedded cluster, stopping it if no
// other process uses it (see Cluster). ctx must be live: see Cluster.Stop.
func (db *DB) Close(ctx context.Context) error {
	if db.Pool != nil {
		db.Pool.Close()
	}
	return db.Cluster.Stop(ctx)
}

// CreateDatabase creates database name in the cluster if it does not exist,
// optionally as a copy of template. Two processes may do this at once (two
// first runs): if the other one wins, that is success too.
func (c *Cluster) CreateDatabase(ctx context.Context, name, template string) error {
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return fmt.Errorf("connect to cluster: %w", err)
	}
	defer conn.Close(ctx)
	const existsSQL = `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`
	var exists bool
	if err := conn.QueryRow(ctx, existsSQL, name).Scan(&exists); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	if exists {
		return nil
	}
	sql := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		sql += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if _, err := conn.Exec(ctx, sql); err != nil {
		// The loser of a race gets duplicate_database (42P04) or, when both
		// passed the server's own check, a unique violation on
		// pg_database's name index. Either way the database is there now.
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "42P04" {
			return nil
		}
		if qerr := conn.QueryRow(ctx, existsSQL, name).Scan(&exists); qerr == nil && exists {
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}
