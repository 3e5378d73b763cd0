// Package storetest gives tests a real PostgreSQL/PostGIS database, never a
// mock. A test package calls Main from its TestMain; each test then calls DB
// for a database of its own, migrated and empty, made by copying a template
// (fast: no per-test migration run).
//
// The server is the one named by HOTSPOT_TEST_DATABASE_URL (a superuser
// connection; databases named hotspot_test_* are created in it and dropped
// after), or else a private throw-away cluster started in a temporary
// directory with the same code the demo uses (store.StartCluster) and
// removed when the tests end. Without PostgreSQL and PostGIS the tests skip
// on a laptop but fail when CI is set, so database tests can never silently
// stop running.
package storetest

import (
	"context"
	"errors"
	"fmt"
	neturl "net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/store"
	"github.com/harborough-csp/hotspot/migrations"
)

var (
	inMain   bool
	once     sync.Once
	setupErr error
	admin    func(db string) string // connection string for a database
	cluster  *store.Cluster
	tmpDir   string
	// templateMade says the template database exists and Main must drop it.
	templateMade bool
	counter      atomic.Int64
	prefix       = fmt.Sprintf("hotspot_test_%d_", os.Getpid())
	template     = prefix + "template"
)

// Main runs the tests, then drops the template database and stops and
// removes the test cluster, if one was started.
// Use it as: func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }.
func Main(m *testing.M) int {
	inMain = true
	code := m.Run()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if templateMade {
		// On an outside server nobody else would ever drop it.
		if err := exec(ctx, admin("postgres"), "DROP DATABASE IF EXISTS "+template+" WITH (FORCE)"); err != nil {
			fmt.Fprintln(os.Stderr, "storetest: drop template database:", err)
		}
	}
	if cluster != nil {
		if err := cluster.Stop(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "storetest:", err)
		}
		removeCluster(tmpDir, cluster.Dir)
	}
	return code
}

// DB returns a pool on a fresh, migrated database of the test's own, which
// is dropped when the test ends.
func DB(t testing.TB) *pgxpool.Pool {
	t.Helper()
	if !inMain {
		t.Fatal("storetest.DB needs storetest.Main in the package's TestMain")
	}
	once.Do(setup)
	if setupErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no test database (CI is set, so this fails rather than skips): %v", setupErr)
		}
		t.Skipf("no test database: %v", setupErr)
	}
	ctx := context.Background()
	name := prefix + strconv.FormatInt(counter.Add(1), 10)
	if err := exec(ctx, admin("postgres"), "CREATE DATABASE "+name+" TEMPLATE "+template); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	pool, err := store.Connect(ctx, admin(name), store.Options{StatementTimeout: 2 * time.Minute})
	if err != nil {
		t.Fatalf("connect to test database: %v", err)
	}
	t.Cleanup(func() {
		pool.Close()
		if err := exec(context.Background(), admin("postgres"), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("drop test database: %v", err)
		}
	})
	return pool
}

// ConnString returns the connection string of the database behind pool, for
// tests that start a subprocess or a second pool on it.
func ConnString(pool *pgxpool.Pool) string {
	return admin(pool.Config().ConnConfig.Database)
}

func setup() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if url := os.Getenv("HOTSPOT_TEST_DATABASE_URL"); url != "" {
		admin = func(db string) string { return withDatabase(url, db) }
	} else {
		sweepStale()
		dir, err := os.MkdirTemp("", "hotspot-test-")
		if err != nil {
			setupErr = err
			return
		}
		tmpDir = dir
		os.Chmod(dir, 0o755) //nolint:errcheck // the server's user must traverse it when we are root
		os.WriteFile(filepath.Join(dir, "owner.pid"), []byte(strconv.Itoa(os.Getpid())), 0o644)
		c, err := store.StartCluster(ctx, store.ClusterOptions{DataDir: filepath.Join(dir, "pg")})
		if err != nil {
			setupErr = err
			os.RemoveAll(dir)
			return
		}
		cluster = c
		admin = c.ConnString
		// As root, the cluster may have moved out of dir (see
		// store.ClusterOptions): note where, for Main and sweepStale.
		os.WriteFile(filepath.Join(dir, "datadir"), []byte(c.Dir), 0o644) //nolint:errcheck // then only a moved cluster is not swept
	}
	setupErr = makeTemplate(ctx)
}

// makeTemplate builds the migrated template database once per test process.
// The name carries the process id, so test binaries sharing one outside
// server do not trip over each other.
func makeTemplate(ctx context.Context) error {
	name := template
	exec(ctx, admin("postgres"), "DROP DATABASE IF EXISTS "+name) //nolint:errcheck // may not exist
	if err := exec(ctx, admin("postgres"), "CREATE DATABASE "+name); err != nil {
		return err
	}
	templateMade = true
	pool, err := store.Connect(ctx, admin(name), store.Options{})
	if err != nil {
		return err
	}
	defer pool.Close()
	major := 0
	if cluster != nil {
		major = cluster.Major
	}
	if err := store.Prepare(ctx, pool, major); err != nil {
		return err
	}
	if _, err := migrations.Apply(ctx, pool); err != nil {
		return err
	}
	return nil
}

// withDatabase returns the connection string dsn (URL or key=value form)
// pointed at database db.
func withDatabase(dsn, db string) string {
	if u, err := neturl.Parse(dsn); err == nil && u.Scheme != "" {
		u.Path = "/" + db
		return u.String()
	}
	return dsn + " dbname=" + db // a later key overrides an earlier one
}

func exec(ctx context.Context, dsn, sql string) error {
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, sql)
	return err
}

// sweepStale stops and removes test clusters left behind by test processes
// that were killed before they could clean up. It touches only directories
// of our own user: as root it would otherwise trust (and signal the PIDs
// in, and delete) files that anyone can plant in /tmp.
func sweepStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "hotspot-test-*"))
	for _, d := range dirs {
		st, err := os.Lstat(d)
		if err != nil || !st.IsDir() || st.Sys().(*syscall.Stat_t).Uid != uint32(os.Geteuid()) {
			continue
		}
		b, err := os.ReadFile(filepath.Join(d, "owner.pid"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // owner still alive (EPERM: alive, someone else's)
		}
		dataDir := filepath.Join(d, "pg")
		if b, err := os.ReadFile(filepath.Join(d, "datadir")); err == nil {
			dataDir = string(b)
		}
		if pm, err := os.ReadFile(filepath.Join(dataDir, "postmaster.pid")); err == nil {
			if first, _, ok := strings.Cut(string(pm), "\n"); ok {
				if p, err := strconv.Atoi(first); err == nil && isPostmaster(p, dataDir) {
					syscall.Kill(p, syscall.SIGQUIT) //nolint:errcheck // best effort: immediate shutdown
				}
			}
		}
		removeCluster(d, dataDir)
	}
}

// isPostmaster reports whether process pid is a PostgreSQL server running
// in dataDir. The PID in a stale postmaster.pid may since have been given
// to any process, another test's server included, and must not be killed.
func isPostmaster(pid int, dataDir string) bool {
	proc := "/proc/" + strconv.Itoa(pid)
	comm, err := os.ReadFile(proc + "/comm")
	if err != nil || strings.TrimSpace(string(comm)) != "postgres" {
		return false
	}
	cwd, err := os.Readlink(proc + "/cwd") // the server works in its data directory
	if err != nil {
		return false
	}
	want, err := filepath.EvalSymlinks(dataDir)
	return err == nil && cwd == want
}

// removeCluster removes a test's temporary directory and, if the cluster
// moved out of it to /var/lib/hotspot/<hash>/pgdata (as root; see
// store.ClusterOptions), the directory it moved to, which is made for that
// cluster alone and would otherwise be left behind by every test run.
func removeCluster(tmp, dataDir string) {
	os.RemoveAll(tmp)
	if home := filepath.Dir(dataDir); filepath.Dir(home) == "/var/lib/hotspot" {
		os.RemoveAll(home)
	}
}
