package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/store"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/migrations"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestSchema checks that a fresh test database has PostGIS and every
// embedded migration recorded, and that applying again is a no-op.
func TestSchema(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	var version string
	if err := pool.QueryRow(ctx, `SELECT postgis_lib_version()`).Scan(&version); err != nil {
		t.Fatalf("postgis_lib_version() error: %v", err)
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(all) {
		t.Errorf("schema_migrations has %d rows; want %d", n, len(all))
	}
	again, err := migrations.Apply(ctx, pool)
	if err != nil || len(again) != 0 {
		t.Errorf("Apply() again = %v, %v; want nothing applied", again, err)
	}
}

// TestOpenWithoutPostGIS points Open at a database where PostGIS is not
// installed and the role may not create it: the error must say so.
func TestOpenWithoutPostGIS(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, sql := range []string{
		`DROP ROLE IF EXISTS plain_user`,
		`CREATE ROLE plain_user LOGIN NOSUPERUSER`,
		`DROP DATABASE IF EXISTS no_postgis`,
		`CREATE DATABASE no_postgis OWNER plain_user TEMPLATE template0`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		pool.Exec(ctx, `DROP DATABASE IF EXISTS no_postgis WITH (FORCE)`) //nolint:errcheck // cleanup
		pool.Exec(ctx, `DROP ROLE IF EXISTS plain_user`)                  //nolint:errcheck // cleanup
	})
	cfg := pool.Config().ConnConfig
	dsn := fmt.Sprintf("host=%s port=%d user=plain_user dbname=no_postgis sslmode=disable", cfg.Host, cfg.Port)
	db, err := store.Open(ctx, store.Options{DatabaseURL: dsn})
	if err == nil {
		db.Close(ctx)
		t.Fatal("Open(database without PostGIS, unprivileged role) error = nil; want ErrNoPostGIS")
	}
	if !errors.Is(err, store.ErrNoPostGIS) || !strings.Contains(err.Error(), "CREATE EXTENSION postgis") {
		t.Errorf("Open() error = %v; want ErrNoPostGIS telling what to ask for", err)
	}
	if _, err := store.Open(ctx, store.Options{DatabaseURL: "postgres://user:s3cret@[::1"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(bad URL) error = %v; want an error that does not echo the password", err)
	}
}

// TestPrepareRace installs PostGIS into a fresh database from several
// connections at once, as two first runs would: every one must succeed.
func TestPrepareRace(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	name := fmt.Sprintf("hotspot_test_%d_prepare_race", os.Getpid())
	if _, err := pool.Exec(ctx, "CREATE DATABASE "+name+" TEMPLATE template0"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		pool.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)") //nolint:errcheck // cleanup
	})
	cfg := pool.Config()
	cfg.ConnConfig.Database = name
	cfg.MaxConns = 8
	fresh, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Close()
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = store.Prepare(ctx, fresh, 0) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("Prepare() #%d error: %v", i, err)
		}
	}
}

// reachableDir returns a new directory the server's user can reach even
// when we are root (t.TempDir is 0700), removed when the test ends.
func reachableDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hotspot-store-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// startCluster starts a cluster in dir, skipping the test where there is
// no PostgreSQL unless CI is set.
func startCluster(t *testing.T, dir string) *store.Cluster {
	t.Helper()
	c, err := store.StartCluster(context.Background(), store.ClusterOptions{DataDir: dir})
	if errors.Is(err, store.ErrNoPostgres) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// runTestSchema runs TestSchema in a child test process with extra
// environment variables, so that storetest.Main runs start to end there.
func runTestSchema(t *testing.T, env ...string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSchema$", "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "--- PASS: TestSchema") {
		t.Fatalf("child TestSchema: %v\n%s", err, out)
	}
}

// TestMainDropsDatabases runs a test process against an outside server
// (HOTSPOT_TEST_DATABASE_URL): when it ends, no hotspot_test_* database it
// made, the template included, may be left in the server.
func TestMainDropsDatabases(t *testing.T) {
	ctx := context.Background()
	c := startCluster(t, filepath.Join(reachableDir(t), "pg"))
	t.Cleanup(func() { c.Stop(context.Background()) })
	runTestSchema(t, "HOTSPOT_TEST_DATABASE_URL="+c.ConnString("postgres"))
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	rows, _ := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname LIKE 'hotspot\_test\_%'`)
	left, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		t.Fatal(err)
	}
	if len(left) > 0 {
		t.Errorf("databases left in the outside server after the tests: %v; want none", left)
	}
}

// gone reports whether process pid has ended (a zombie has).
func gone(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return true
	}
	_, rest, _ := strings.Cut(string(b), ") ")
	return strings.HasPrefix(rest, "Z")
}

// TestSweepStale leaves behind what killed test processes would, then runs
// a test process that sweeps it: a real abandoned server is stopped and its
// directory removed, but a live process that is not a server, named by a
// stale postmaster.pid, is not signalled, and another user's directory is
// not touched.
func TestSweepStale(t *testing.T) {
	tmp := reachableDir(t)
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	deadPID := []byte(strconv.Itoa(dead.Process.Pid))

	// A stale directory whose postmaster.pid names a process that is not a server.
	sleep := exec.Command("sleep", "60")
	if err := sleep.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sleep.Process.Kill() })
	exited := make(chan struct{})
	go func() { sleep.Wait(); close(exited) }()
	fake := filepath.Join(tmp, "hotspot-test-fake")
	if err := os.MkdirAll(filepath.Join(fake, "pg"), 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(fake, "owner.pid"), deadPID, 0o644)
	os.WriteFile(filepath.Join(fake, "pg", "postmaster.pid"), []byte(strconv.Itoa(sleep.Process.Pid)+"\n"+filepath.Join(fake, "pg")+"\n"), 0o600)

	// A stale directory with its server still running.
	real := filepath.Join(tmp, "hotspot-test-real")
	if err := os.Mkdir(real, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(real, "owner.pid"), deadPID, 0o644)
	c := startCluster(t, filepath.Join(real, "pg"))
	t.Cleanup(func() { c.Stop(context.Background()) }) // fails once swept; only for a failed test
	pm, err := os.ReadFile(filepath.Join(c.Dir, "postmaster.pid"))
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(pm), "\n")
	serverPID, _ := strconv.Atoi(first)

	// Someone else's stale directory (as root only: we cannot chown otherwise).
	other := filepath.Join(tmp, "hotspot-test-other")
	if os.Geteuid() == 0 {
		os.Mkdir(other, 0o755)
		os.WriteFile(filepath.Join(other, "owner.pid"), deadPID, 0o644)
		if err := os.Chown(other, 65534, 65534); err != nil {
			t.Fatal(err)
		}
	}

	runTestSchema(t, "TMPDIR="+tmp, "HOTSPOT_TEST_DATABASE_URL=")

	select {
	case <-exited:
		t.Error("the process named by a stale postmaster.pid, not a server, was killed")
	default:
	}
	for deadline := time.Now().Add(10 * time.Second); !gone(serverPID) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if !gone(serverPID) {
		t.Error("the abandoned server is still running after the sweep")
	}
	for _, d := range []string{fake, real} {
		if _, err := os.Stat(d); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("stale %s after the sweep: %v; want it removed", d, err)
		}
	}
	if os.Geteuid() == 0 {
		if _, err := os.Stat(filepath.Join(other, "owner.pid")); err != nil {
			t.Errorf("another user's directory after the sweep: %v; want it untouched", err)
		}
	}
}
