package store

import (
	"context"
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// TestReachable checks the rule that decides whether, under root, the
// cluster can live where it was asked to: every directory on the way must
// be searchable by the server's user.
func TestReachable(t *testing.T) {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	base := t.TempDir()
	if err := os.Chmod(filepath.Dir(base), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode os.FileMode
		want bool
	}{
		{0o755, true},
		{0o711, true}, // search without read is enough
		{0o700, false},
		{0o750, false}, // group is root's, not nobody's
	}
	for _, tt := range tests {
		if err := os.Chmod(base, tt.mode); err != nil {
			t.Fatal(err)
		}
		// The data directory need not exist yet: its existing parent decides.
		if got := reachable(filepath.Join(base, "var", "pgdata"), cred); got != tt.want {
			t.Errorf("reachable(under a %o directory) = %v; want %v", tt.mode, got, tt.want)
		}
	}
	os.Chmod(base, 0o700)
}

// TestFindBinDir checks that the server binaries are found on this
// machine (the test command installs them).
func TestFindBinDir(t *testing.T) {
	ctx := context.Background()
	dir, err := findBinDir(ctx)
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("findBinDir() = %s, which lacks %s", dir, p)
		}
	}
	t.Setenv("HOTSPOT_PG_BINDIR", t.TempDir())
	if got, err := findBinDir(ctx); err != nil || got == os.Getenv("HOTSPOT_PG_BINDIR") {
		t.Errorf("findBinDir() with an empty HOTSPOT_PG_BINDIR = %q, %v; want it passed over", got, err)
	}
}

// baseDir returns a new directory the server's user can reach (t.TempDir
// is 0700, and as root the cluster would move out of it), removed when the
// test ends, after the test's clusters have stopped.
func baseDir(t *testing.T) string {
	t.Helper()
	base, err := os.MkdirTemp("", "hotspot-store-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	return base
}

// start starts (or joins) the cluster in dir, skipping the test without
// PostgreSQL unless CI is set, and leaves it when the test ends.
func start(t *testing.T, dir string) *Cluster {
	t.Helper()
	c, err := StartCluster(context.Background(), ClusterOptions{DataDir: dir})
	if errors.Is(err, ErrNoPostgres) && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	if err != nil {
		t.Fatalf("StartCluster(%s) error: %v", dir, err)
	}
	t.Cleanup(func() {
		if err := c.Stop(context.Background()); err != nil {
			t.Errorf("Stop() error: %v", err)
		}
	})
	return c
}

// ping connects to database postgres through c and runs a query.
func ping(c *Cluster) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, c.ConnString("postgres"))
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	var one int
	return conn.QueryRow(ctx, `SELECT 1`).Scan(&one)
}

// serverUp reports whether the server of the cluster in dir is running, by
// its postmaster.pid, which it removes when it stops.
func serverUp(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "postmaster.pid"))
	return err == nil
}

// TestSharedCluster checks that one cluster serves several users: the one
// that started it leaving does not stop it under the one that joined; the
// last one leaving does.
func TestSharedCluster(t *testing.T) {
	dir := filepath.Join(baseDir(t), "pg")
	a := start(t, dir)
	b := start(t, dir) // joins
	if err := a.Stop(context.Background()); err != nil {
		t.Fatalf("a.Stop() error: %v", err)
	}
	if err := ping(b); err != nil {
		t.Fatalf("after the starter's Stop, the joiner's query error: %v; want the server still up", err)
	}
	if err := b.Stop(context.Background()); err != nil {
		t.Fatalf("b.Stop() error: %v", err)
	}
	if serverUp(dir) {
		t.Error("after the last user's Stop, postmaster.pid exists; want the server stopped")
	}
	if err := a.Stop(context.Background()); err != nil {
		t.Errorf("second a.Stop() error: %v; want nil", err)
	}
}

// TestStopTakesStartLock checks that Stop waits for a StartCluster in
// progress (here: the start lock held), so that nobody joins a server that
// is being stopped, and that it gives up when its context ends.
func TestStopTakesStartLock(t *testing.T) {
	dir := filepath.Join(baseDir(t), "pg")
	c := start(t, dir)
	lock, err := lockFile(context.Background(), dir+".lock", syscall.LOCK_EX)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if err := c.Stop(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Stop() while the start lock is held = %v; want it to wait, then DeadlineExceeded", err)
	}
	if !serverUp(dir) {
		t.Error("Stop() that could not take the start lock stopped the server")
	}
	lock.Close()
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("Stop() after the lock is free error: %v", err)
	}
	if serverUp(dir) {
		t.Error("Stop() after the lock is free left the server running")
	}
}

// TestStopCancelled checks that Stop with a cancelled context reports an
// error rather than mistaking "could not ask" for "not running", and can be
// called again.
func TestStopCancelled(t *testing.T) {
	dir := filepath.Join(baseDir(t), "pg")
	c := start(t, dir)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := c.Stop(ctx); err == nil {
		t.Error("Stop(cancelled context) = nil; want an error, since the server could not be stopped")
	}
	if !serverUp(dir) {
		t.Fatal("Stop(cancelled context) stopped the server after all")
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatalf("Stop() again error: %v", err)
	}
	if serverUp(dir) {
		t.Error("Stop() again left the server running")
	}
}

// cancelWhen returns a context that is cancelled as soon as file appears,
// and a func to call when the work it is passed to has returned.
func cancelWhen(file string, delay time.Duration) (context.Context, func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
			}
			if _, err := os.Stat(file); err == nil {
				select {
				case <-done:
				case <-time.After(delay):
					cancel()
				}
				return
			}
		}
	}()
	return ctx, func() { close(done); cancel() }
}

// TestStartClusterCancelled cancels StartCluster in the middle of initdb
// (when it writes PG_VERSION) and then of pg_ctl start (when the server
// writes postmaster.pid; initdb's bootstrap writes one too, hence the
// order): it must report the cancellation, leave no server running, and
// leave a data directory that the next start can use.
func TestStartClusterCancelled(t *testing.T) {
	if _, err := findBinDir(context.Background()); err != nil && os.Getenv("CI") == "" {
		t.Skip(err)
	}
	dir := filepath.Join(baseDir(t), "pg")
	for _, file := range []string{"PG_VERSION", "postmaster.pid"} {
		ctx, done := cancelWhen(filepath.Join(dir, file), 0)
		c, err := StartCluster(ctx, ClusterOptions{DataDir: dir})
		done()
		if err == nil {
			c.Stop(context.Background())
			t.Fatalf("StartCluster(cancelled at %s) error = nil; want context.Canceled", file)
		}
		if !errors.Is(err, context.Canceled) {
			t.Errorf("StartCluster(cancelled at %s) error = %v; want context.Canceled", file, err)
		}
		if serverUp(dir) {
			t.Fatalf("after StartCluster(cancelled at %s), postmaster.pid exists; want no server left running", file)
		}
		c = start(t, dir)
		if err := ping(c); err != nil {
			t.Errorf("StartCluster after one cancelled at %s: query error %v", file, err)
		}
		if err := c.Stop(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestOpenCancelled cancels Open at moments from the server's start to the
// migrations, as a Ctrl-C during start-up would: whatever the moment, no
// server may be left running.
func TestOpenCancelled(t *testing.T) {
	dir := filepath.Join(baseDir(t), "pg")
	// Create the cluster first: initdb's bootstrap writes a postmaster.pid
	// too, which would start the clock below too early.
	if err := start(t, dir).Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	pidFile := filepath.Join(dir, "postmaster.pid")
	for _, delay := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond, time.Second} {
		ctx, done := cancelWhen(pidFile, delay)
		db, err := Open(ctx, Options{DataDir: dir})
		done()
		if err == nil { // finished before the cancellation came
			if err := db.Close(context.Background()); err != nil {
				t.Errorf("Close() error: %v", err)
			}
		} else {
			t.Logf("Open() cancelled %v after the server started: %v", delay, err)
		}
		if serverUp(dir) {
			t.Fatalf("after Open() cancelled %v after the server started, postmaster.pid exists; want the server stopped", delay)
		}
	}
}

// TestStartClusterIgnoresPGEnv starts a cluster with client variables set
// that the server programs would also read: the server must still listen
// where ConnString says. The data directory's name has a space, which
// ConnString must quote.
func TestStartClusterIgnoresPGEnv(t *testing.T) {
	t.Setenv("PGPORT", "5433")
	t.Setenv("PGDATA", "/nonexistent")
	t.Setenv("PGHOST", "/nonexistent")
	t.Setenv("PGUSER", "nobody")
	dir := filepath.Join(baseDir(t), "my data")
	c := start(t, dir)
	if _, err := os.Stat(filepath.Join(c.SocketDir, ".s.PGSQL.5432")); err != nil {
		t.Errorf("socket for port 5432: %v", err)
	}
	if err := ping(c); err != nil {
		t.Errorf("query through ConnString() = %q: %v", c.ConnString("postgres"), err)
	}
}

// TestStartClusterRefusesUnsafePath checks that a data directory path that
// pg_ctl's shell would misread is refused before anything is created.
func TestStartClusterRefusesUnsafePath(t *testing.T) {
	dir := filepath.Join(baseDir(t), "a$HOME", "pg")
	_, err := StartCluster(context.Background(), ClusterOptions{DataDir: dir})
	if err == nil || !strings.Contains(err.Error(), "pg_ctl cannot start") {
		t.Errorf("StartCluster(%q) error = %v; want a refusal", dir, err)
	}
	if _, err := os.Stat(filepath.Dir(dir)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("StartCluster(%q) created its parent (%v); want nothing created", dir, err)
	}
}

// TestConnString checks that ConnString survives socket directories and
// database names with spaces, quotes and backslashes.
func TestConnString(t *testing.T) {
	c := &Cluster{SocketDir: `/tmp/my data/it's\here`, port: port}
	for _, name := range []string{"hotspot", "two words", `it's`} {
		cfg, err := pgconn.ParseConfig(c.ConnString(name))
		if err != nil {
			t.Errorf("ParseConfig(ConnString(%q)) error: %v", name, err)
			continue
		}
		if cfg.Host != c.SocketDir || cfg.Port != port || cfg.Database != name || cfg.User != superuser {
			t.Errorf("ParseConfig(ConnString(%q)) = host %q port %d db %q user %q; want %q %d %q %q",
				name, cfg.Host, cfg.Port, cfg.Database, cfg.User, c.SocketDir, port, name, superuser)
		}
	}
}

// serverUID returns the uid the server runs as, as StartCluster picks it.
func serverUID(t *testing.T) (uid, gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		return os.Geteuid(), os.Getegid()
	}
	cred, _, err := unprivilegedUser()
	if err != nil {
		t.Skip(err)
	}
	return int(cred.Uid), int(cred.Gid)
}

// TestSocketDir checks the socket directory in /tmp that a data directory
// with a long path gets: it is used and removed by the last user, and a
// directory planted under its predictable name is refused, not taken over.
func TestSocketDir(t *testing.T) {
	base := baseDir(t)
	dir := filepath.Join(base, strings.Repeat("long-", 20), "pg")
	sd := socketDirFor(dir)
	if !strings.HasPrefix(sd, "/tmp/hotspot-pg-") {
		t.Fatalf("socketDirFor(%d-byte path) = %s; want one in /tmp", len(dir), sd)
	}
	os.RemoveAll(sd)
	t.Cleanup(func() { os.RemoveAll(sd) })
	t.Setenv("TMPDIR", base) // must not matter

	c := start(t, dir)
	if c.SocketDir != sd {
		t.Errorf("SocketDir = %s; want %s", c.SocketDir, sd)
	}
	if err := ping(c); err != nil {
		t.Fatalf("query: %v", err)
	}
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sd); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("socket directory after the last Stop: %v; want it removed", err)
	}

	uid, gid := serverUID(t)
	victim := filepath.Join(base, "victim")
	tests := []struct {
		name  string
		plant func() error
		ok    bool
	}{
		{"symlink", func() error { return os.Symlink(victim, sd) }, false},
		{"open to others", func() error {
			if err := os.Mkdir(sd, 0o755); err != nil {
				return err
			}
			return os.Chown(sd, uid, gid)
		}, false},
		{"someone else's", func() error {
			if err := os.Mkdir(sd, 0o700); err != nil {
				return err
			}
			return os.Chown(sd, uid+1, gid)
		}, false},
		{"left by an earlier run", func() error {
			if err := os.Mkdir(sd, 0o700); err != nil {
				return err
			}
			return os.Chown(sd, uid, gid)
		}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := os.Mkdir(victim, 0o755); err != nil {
				t.Fatal(err)
			}
			defer os.RemoveAll(victim)
			defer os.RemoveAll(sd)
			if err := tt.plant(); err != nil {
				t.Skipf("cannot plant: %v", err)
			}
			c, err := StartCluster(context.Background(), ClusterOptions{DataDir: dir})
			if err == nil {
				defer c.Stop(context.Background())
			}
			if tt.ok && err != nil {
				t.Errorf("StartCluster() with a valid leftover socket directory error: %v", err)
			}
			if !tt.ok && (err == nil || !strings.Contains(err.Error(), sd)) {
				t.Errorf("StartCluster() with a planted %s error = %v; want a refusal naming it", sd, err)
			}
			st, err := os.Stat(victim)
			if err != nil || st.Mode().Perm() != 0o755 || int(st.Sys().(*syscall.Stat_t).Uid) != os.Geteuid() {
				t.Errorf("symlink target after StartCluster: %v, %v; want it untouched (0755, ours)", st.Mode(), err)
			}
		})
	}
}

// TestJoinReadsPidFile joins a server started by hand with another port
// and socket directory: the joiner must connect where the server listens,
// not where it would have put it.
func TestJoinReadsPidFile(t *testing.T) {
	base := baseDir(t)
	dir := filepath.Join(base, "pg")
	c := start(t, dir)
	if err := c.Stop(context.Background()); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(base, "elsewhere")
	if err := os.Mkdir(sock, 0o700); err != nil {
		t.Fatal(err)
	}
	uid, gid := serverUID(t)
	if err := os.Chown(sock, uid, gid); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	opts := "-c port=5544 -c listen_addresses='' -c unix_socket_directories='" + sock + "'"
	if err := c.run(ctx, "pg_ctl", "start", "-w", "-D", dir, "-l", filepath.Join(dir, "server.log"), "-o", opts); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.run(ctx, "pg_ctl", "stop", "-m", "immediate", "-D", dir) }) //nolint:errcheck // if the test failed before stopping it

	joined := start(t, dir)
	if joined.SocketDir != sock || joined.port != 5544 {
		t.Errorf("joined SocketDir, port = %s, %d; want %s, 5544", joined.SocketDir, joined.port, sock)
	}
	if err := ping(joined); err != nil {
		t.Errorf("query through the joined cluster: %v", err)
	}
	if err := joined.Stop(ctx); err != nil {
		t.Fatal(err)
	}
	if serverUp(dir) {
		t.Error("the last user's Stop left the server running")
	}
}

// TestStartClusterUmask starts a cluster under a strict umask, as root's
// often is: the directories made on the way to the data directory must
// still let the server's user through, and existing ones keep their mode.
func TestStartClusterUmask(t *testing.T) {
	base := baseDir(t)
	if err := os.Chmod(base, 0o711); err != nil {
		t.Fatal(err)
	}
	old := syscall.Umask(0o077)
	defer syscall.Umask(old)
	dir := filepath.Join(base, "var", "lib", "pg")
	c := start(t, dir)
	if err := ping(c); err != nil {
		t.Errorf("query: %v", err)
	}
	for _, d := range []string{filepath.Join(base, "var"), filepath.Join(base, "var", "lib")} {
		if st, err := os.Stat(d); err != nil || st.Mode().Perm() != 0o755 {
			t.Errorf("mode of created parent %s = %v, %v; want 0755", d, st.Mode(), err)
		}
	}
	if st, err := os.Stat(base); err != nil || st.Mode().Perm() != 0o711 {
		t.Errorf("mode of existing %s = %v, %v; want 0711 kept", base, st.Mode(), err)
	}
}

// TestLockFile checks that shared locks coexist, that an exclusive one
// waits for them, and that the wait ends with the context.
func TestLockFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.lock")
	ctx := context.Background()
	a, err := lockFile(ctx, path, syscall.LOCK_SH)
	if err != nil {
		t.Fatal(err)
	}
	b, err := lockFile(ctx, path, syscall.LOCK_SH)
	if err != nil {
		t.Fatalf("second shared lock: %v", err)
	}
	defer b.Close()
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	began := time.Now()
	if f, err := lockFile(short, path, syscall.LOCK_EX); !errors.Is(err, context.DeadlineExceeded) {
		if f != nil {
			f.Close()
		}
		t.Errorf("exclusive lock while shared ones are held = %v; want DeadlineExceeded", err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("lockFile() returned %v after its context ended; want at once", d)
	}
	a.Close()
	b.Close()
	f, err := lockFile(ctx, path, syscall.LOCK_EX)
	if err != nil {
		t.Fatalf("exclusive lock once the shared ones are gone: %v", err)
	}
	f.Close()
}

// TestCreateDatabaseRace creates one database from several goroutines at
// once, as two first runs would: every one must succeed.
func TestCreateDatabaseRace(t *testing.T) {
	c := start(t, filepath.Join(baseDir(t), "pg"))
	var wg sync.WaitGroup
	errs := make([]error, 8)
	for i := range errs {
		wg.Go(func() { errs[i] = c.CreateDatabase(context.Background(), "raced", "") })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("CreateDatabase(raced) #%d error: %v", i, err)
		}
	}
}
