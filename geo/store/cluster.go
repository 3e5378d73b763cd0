package store

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// ErrNoPostgres means no PostgreSQL server binaries were found.
var ErrNoPostgres = errors.New("PostgreSQL server binaries (initdb, pg_ctl, postgres) not found")

// Cluster is a private PostgreSQL cluster in a data directory of our own,
// reachable only through a unix socket in a directory only its owner can
// enter. It uses the system's server binaries; it never downloads any.
//
// Several processes may use one cluster at once (a server and an import,
// say). Each holds a shared lock on <Dir>.users from StartCluster until
// Stop, and Stop shuts the server down only when no other process holds
// one: the last user out stops it, whoever started it. A process that dies
// without calling Stop loses its lock with it, so the last well-behaved
// user still stops the server; if the last user dies, the server is left
// running, and the next StartCluster joins it (and its Stop stops it).
type Cluster struct {
	// Dir is the data directory actually used. It differs from the one asked
	// for when that one cannot be reached by the unprivileged user the
	// server runs as (see Options.DataDir).
	Dir string
	// SocketDir holds the server's unix socket.
	SocketDir string
	// Major is the server's major version, e.g. 15.
	Major int

	port  int
	bin   string
	runAs *syscall.Credential // nil: run as ourselves
	users *os.File            // holds our shared lock on Dir+".users"; nil once we have left
	log   *slog.Logger
}

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	// DataDir is where the cluster lives. When this process runs as root,
	// PostgreSQL runs as an unprivileged user (it refuses root), and that
	// user must be able to reach DataDir; a checkout under a private home
	// folder (/root is 0700) does not allow it. The cluster then lives in
	// /var/lib/hotspot/<hash of DataDir>/ instead, the same place every time,
	// and the choice is logged.
	//
	// Every process that calls StartCluster on the same DataDir shares one
	// server, and the server stops when the last of them calls Stop (see
	// Cluster).
	DataDir string
	// Durable false turns off fsync: right for throw-away test clusters,
	// wrong for anything whose data should survive a power cut.
	Durable bool
	Logger  *slog.Logger
}

// superuser is the cluster's only role. Authentication is "trust" because
// the socket directory is private to the cluster's owner (and root).
const superuser = "hotspot"

// port is the port the server is told to use. It only names the socket
// file (there is no TCP listener), but it must be said explicitly: the
// server would otherwise take $PGPORT from its environment.
const port = 5432

// shellUnsafe are the characters a data directory's path must not contain.
// pg_ctl starts the server through /bin/sh with the path in double quotes
// and our -o settings as they are, so these would be read by the shell
// (or, a comma, split the socket directory list) instead of naming a file.
const shellUnsafe = "\"'`$\\,\n"

// StartCluster starts (or, if it is already running, joins) the cluster in
// opts.DataDir, creating it on first use. Either way the caller becomes one
// of the cluster's users and must call Stop when done with it.
//
// If ctx is cancelled while the cluster is being created or started, the
// step under way (initdb, pg_ctl start) is finished rather than killed,
// since a half-made data directory or an orphaned server would outlive us;
// the server is then stopped again and ctx's error returned.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := findBinDir(ctx)
	if err != nil {
		return nil, err
	}
	major, err := serverMajor(ctx, bin)
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, Major: major, port: port, log: log}

	dir, err := filepath.Abs(opts.DataDir)
	if err != nil {
		return nil, err
	}
	if os.Geteuid() == 0 {
		cred, name, err := unprivilegedUser()
		if err != nil {
			return nil, err
		}
		c.runAs = cred
		if !reachable(filepath.Dir(dir), cred) {
			sum := sha256.Sum256([]byte(dir))
			moved := filepath.Join("/var/lib/hotspot", hex.EncodeToString(sum[:6]), "pgdata")
			log.Warn("data directory is not reachable by the database user; using another",
				"asked", dir, "user", name, "using", moved)
			dir = moved
		}
	}
	if strings.ContainsAny(dir, shellUnsafe) {
		return nil, fmt.Errorf("data directory %q: pg_ctl cannot start a server in a path containing any of %q; choose another", dir, shellUnsafe)
	}
	c.Dir = dir
	if err := mkdirAll(filepath.Dir(dir)); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}

	// The start lock makes creating, starting, joining and stopping one
	// thing at a time, so that nobody joins a server that is being stopped.
	start, err := lockFile(ctx, dir+".lock", syscall.LOCK_EX)
	if err != nil {
		return nil, err
	}
	defer start.Close()
	// Only Stop takes the users lock exclusively, and only under the start
	// lock, which we hold: this does not wait.
	if c.users, err = lockFile(ctx, dir+".users", syscall.LOCK_SH); err != nil {
		return nil, err
	}
	if err := c.startLocked(ctx, opts.Durable); err != nil {
		c.release()
		return nil, err
	}
	return c, nil
}

// startLocked creates the cluster if need be and starts its server unless
// it is running already. The caller holds the start lock.
func (c *Cluster) startLocked(ctx context.Context, durable bool) error {
	if err := c.makeDataDir(); err != nil {
		return err
	}
	if _, err := os.Stat(filepath.Join(c.Dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		c.log.Info("creating database cluster", "dir", c.Dir)
		args := []string{"-D", c.Dir, "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"}
		if !durable {
			args = append(args, "--no-sync")
		}
		// initdb killed half-way would leave a directory that is neither
		// empty nor a cluster, on which every later start fails; left to
		// finish (seconds), it either succeeds or removes what it made.
		ictx, cancel := cleanupContext(ctx)
		defer cancel()
		if err := c.run(ictx, "initdb", args...); err != nil {
			return fmt.Errorf("initdb: %w", err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	running, err := c.running(ctx)
	if err != nil {
		return err
	}
	if running {
		if err := c.readPidFile(); err != nil {
			return err
		}
		c.log.Info("joining running database cluster", "dir", c.Dir, "socket", c.SocketDir)
		return nil
	}
	if c.SocketDir, err = c.makeSocketDir(); err != nil {
		return err
	}
	fsync := "off"
	if durable {
		fsync = "on"
	}
	settings := strings.Join([]string{
		"-c port=" + strconv.Itoa(port),
		"-c listen_addresses=''",
		"-c unix_socket_directories='" + c.SocketDir + "'",
		"-c unix_socket_permissions=0700",
		"-c timezone=UTC",
		"-c fsync=" + fsync,
		"-c max_connections=200",
		"-c shared_buffers=256MB",
		"-c jit=off", // JIT start-up costs more than it saves on tile-sized queries
	}, " ")
	logFile := filepath.Join(c.Dir, "server.log")
	// pg_ctl puts the server it forks in a session of its own, so killing
	// pg_ctl would leave a server starting up that we could not reliably
	// find. pg_ctl is therefore left to finish (its -t bounds the wait), and
	// a server it leaves behind on failure or cancellation is stopped.
	sctx, cancel := cleanupContext(ctx)
	defer cancel()
	err = c.run(sctx, "pg_ctl", "start", "-w", "-t", "60", "-D", c.Dir, "-l", logFile, "-o", settings)
	if err != nil {
		err = fmt.Errorf("pg_ctl start: %w\n%s", err, lastLines(logFile, 15))
	} else {
		err = ctx.Err()
	}
	if err != nil {
		stopCtx, cancel := cleanupContext(ctx)
		defer cancel()
		if serr := c.leave(stopCtx); serr != nil {
			err = fmt.Errorf("%w (and stopping it again: %v)", err, serr)
		}
		return err
	}
	c.log.Info("database cluster started", "dir", c.Dir, "socket", c.SocketDir)
	return nil
}

// cleanupContext returns a context for work that must be done even though
// ctx may be cancelled already (stopping a server, finishing initdb),
// bounded so that it cannot hang for ever either.
func cleanupContext(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), 2*time.Minute)
}

// ConnString returns a libpq connection string for database name.
func (c *Cluster) ConnString(name string) string {
	return fmt.Sprintf("host=%s port=%d user=%s dbname=%s sslmode=disable",
		connValue(c.SocketDir), c.port, superuser, connValue(name))
}

// connValue quotes v for a keyword/value connection string, in which a
// space would otherwise end the value (a data directory may well have one).
func connValue(v string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// Stop ends this process's use of the cluster, and shuts the server down if
// no other process uses it any more (see Cluster). Stopping needs a live
// ctx: pass one that outlives a Ctrl-C, such as
// context.WithoutCancel(ctx) with a timeout. After an error Stop may be
// called again; after success it does nothing.
func (c *Cluster) Stop(ctx context.Context) error {
	if c == nil || c.users == nil {
		return nil
	}
	start, err := lockFile(ctx, c.Dir+".lock", syscall.LOCK_EX)
	if err != nil {
		return fmt.Errorf("stop database cluster: %w", err)
	}
	defer start.Close()
	return c.leave(ctx)
}

// leave gives up our use of the cluster and stops the server if no other
// process uses it. The caller holds the start lock; since the users lock is
// taken only under it, the answer cannot change while we act on it.
func (c *Cluster) leave(ctx context.Context) error {
	fd := int(c.users.Fd())
	// The upgrade to an exclusive lock succeeds only if nobody else holds a
	// shared one. flock drops our shared lock before trying, so a failed
	// attempt leaves us holding nothing, which is where we are going.
	if err := syscall.Flock(fd, syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			syscall.Flock(fd, syscall.LOCK_SH) //nolint:errcheck // keep our place for another try
			return fmt.Errorf("lock %s.users: %w", c.Dir, err)
		}
		c.release()
		c.log.Info("database cluster left running for its other users", "dir", c.Dir)
		return nil
	}
	if err := c.shutdown(ctx); err != nil {
		// Back to being one user among others, so that Stop can be retried.
		syscall.Flock(fd, syscall.LOCK_SH) //nolint:errcheck // nobody else can hold it now
		return err
	}
	c.release()
	return nil
}

// release drops our users lock.
func (c *Cluster) release() {
	if c.users != nil {
		c.users.Close() // closing releases the flock
		c.users = nil
	}
}

// shutdown stops the server if it is running, and removes the socket
// directory in /tmp that we made for it, if any.
func (c *Cluster) shutdown(ctx context.Context) error {
	running, err := c.running(ctx)
	if err != nil {
		return err
	}
	if running {
		if err := c.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", c.Dir); err != nil {
			return fmt.Errorf("pg_ctl stop: %w", err)
		}
		c.log.Info("database cluster stopped", "dir", c.Dir)
	}
	if sd := socketDirFor(c.Dir); sd != c.Dir && sd == c.SocketDir {
		os.Remove(sd) //nolint:errcheck // tidiness only; it fails if something is left in it
	}
	return nil
}

// running reports whether the cluster's server is running. pg_ctl status
// exits with 3 for "not running"; any other failure (it could not be run,
// ctx was cancelled, the directory is unreadable) is an error rather than a
// "no", since "no" leads to starting a second server or leaving one running.
func (c *Cluster) running(ctx context.Context) (bool, error) {
	if _, err := os.Stat(filepath.Join(c.Dir, "postmaster.pid")); errors.Is(err, os.ErrNotExist) {
		return false, nil // the server keeps this file for as long as it runs
	}
	err := c.run(ctx, "pg_ctl", "status", "-D", c.Dir)
	var exit *exec.ExitError
	switch {
	case err == nil:
		return true, nil
	case errors.As(err, &exit) && exit.ExitCode() == 3:
		return false, nil
	default:
		return false, fmt.Errorf("is the database cluster running: %w", err)
	}
}

// readPidFile takes the port and socket directory from the running server's
// postmaster.pid (lines 4 and 5), so that a process joining the cluster
// connects where the server really listens, however it was started.
func (c *Cluster) readPidFile() error {
	path := filepath.Join(c.Dir, "postmaster.pid")
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("join running database cluster: %w", err)
	}
	lines := strings.Split(string(b), "\n")
	if len(lines) < 5 || lines[4] == "" {
		return fmt.Errorf("join running database cluster: %s names no unix socket directory", path)
	}
	p, err := strconv.Atoi(strings.TrimSpace(lines[3]))
	if err != nil {
		return fmt.Errorf("join running database cluster: %s: bad port %q", path, lines[3])
	}
	c.port, c.SocketDir = p, lines[4]
	return nil
}

// makeDataDir creates the data directory, owned by the user the server runs
// as and closed to everyone else (PostgreSQL refuses to start otherwise).
func (c *Cluster) makeDataDir() error {
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Chmod(c.Dir, 0o700); err != nil {
		return err
	}
	if c.runAs != nil {
		if err := os.Chown(c.Dir, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
			return err
		}
	}
	return nil
}

// socketDirFor returns where the socket of the cluster in dir goes: dir
// itself, unless the socket's path would be too long for a unix socket
// (107 bytes), as in a deep checkout. Then it is a directory in /tmp named
// after dir, the same for every process whatever its $TMPDIR.
func socketDirFor(dir string) string {
	if len(dir)+len("/.s.PGSQL.5432.lock") <= 100 {
		return dir
	}
	sum := sha256.Sum256([]byte(dir))
	return "/tmp/hotspot-pg-" + hex.EncodeToString(sum[:6])
}

// makeSocketDir creates the socket directory if it is not the data
// directory. Its name in /tmp is predictable, so anyone may have made it
// first: an existing one is used only if it is a real directory (not a
// symlink) owned by the server's user and closed to everyone else, and we
// never chmod or chown an existing one, which as root would follow a
// planted symlink.
func (c *Cluster) makeSocketDir() (string, error) {
	sd := socketDirFor(c.Dir)
	if sd == c.Dir {
		return sd, nil
	}
	uid, gid := os.Geteuid(), os.Getegid()
	if c.runAs != nil {
		uid, gid = int(c.runAs.Uid), int(c.runAs.Gid)
	}
	err := os.Mkdir(sd, 0o700)
	if err == nil {
		// Ours now, and /tmp is sticky: nobody else can swap it for a
		// symlink before we change it.
		if err := os.Chmod(sd, 0o700); err != nil {
			return "", err
		}
		if err := os.Lchown(sd, uid, gid); err != nil {
			return "", err
		}
		return sd, nil
	}
	if !errors.Is(err, os.ErrExist) {
		return "", fmt.Errorf("create socket directory: %w", err)
	}
	st, err := os.Lstat(sd)
	if err != nil {
		return "", fmt.Errorf("create socket directory: %w", err)
	}
	sys, _ := st.Sys().(*syscall.Stat_t)
	if !st.IsDir() || sys == nil || int(sys.Uid) != uid || st.Mode().Perm()&0o077 != 0 {
		return "", fmt.Errorf("socket directory %s already exists and is not a private directory of uid %d (it is a symlink, someone else's, or open to others); remove it if it is not in use", sd, uid)
	}
	return sd, nil
}

// mkdirAll creates dir and its missing parents with mode 0755 whatever the
// umask, since the server's user must be able to pass through them (root's
// umask is often 027 or 077). Directories that already existed are not
// ours to change, and are left as they are.
func mkdirAll(dir string) error {
	var missing []string
	for d := dir; ; d = filepath.Dir(d) {
		_, err := os.Stat(d)
		if err == nil {
			break
		}
		if !errors.Is(err, os.ErrNotExist) {
			return err
		}
		missing = append(missing, d)
		if d == filepath.Dir(d) {
			break
		}
	}
	for i := len(missing) - 1; i >= 0; i-- {
		d := missing[i]
		if err := os.Mkdir(d, 0o755); err != nil {
			if errors.Is(err, os.ErrExist) {
				continue // made by another process at the same moment
			}
			return err
		}
		if err := os.Chmod(d, 0o755); err != nil {
			return err
		}
	}
	return nil
}

// run runs one of the server's programs as the cluster's user.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Dir = "/" // the server's user may not be able to enter our working directory
	cmd.Env = serverEnv()
	// Its own process group: a Ctrl-C in the terminal goes to our process
	// group, and must reach us (who then stop the server in order), not the
	// server directly.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Credential: c.runAs}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// pg_ctl start leaves the server running with our pipes inherited by
	// nobody: it redirects the server's output to the log file with -l.
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w: %s", prog, err, strings.TrimSpace(out.String()))
	}
	return nil
}

// serverEnv is our environment for the server's programs, without the PG*
// variables meant for clients, which the server programs read too: PGPORT
// would move the server's socket, PGDATA the directory pg_ctl acts on.
// LC_ALL=C keeps their messages, and so our errors, in one language.
func serverEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PG") {
			env = append(env, kv)
		}
	}
	return append(env, "LC_ALL=C")
}

// findBinDir finds the directory of the system's PostgreSQL server
// programs: $HOTSPOT_PG_BINDIR, then `pg_config --bindir`, then the newest
// /usr/lib/postgresql/*/bin (Debian), then $PATH.
func findBinDir(ctx context.Context) (string, error) {
	var candidates []string
	if d := os.Getenv("HOTSPOT_PG_BINDIR"); d != "" {
		candidates = append(candidates, d)
	}
	if out, err := exec.CommandContext(ctx, "pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
	} else if ctx.Err() != nil {
		return "", ctx.Err()
	}
	debian, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(debian, func(i, j int) bool { return versionOf(debian[i]) > versionOf(debian[j]) })
	candidates = append(candidates, debian...)
	if p, err := exec.LookPath("initdb"); err == nil {
		candidates = append(candidates, filepath.Dir(p))
	}
	for _, d := range candidates {
		ok := true
		for _, prog := range []string{"initdb", "pg_ctl", "postgres"} {
			if st, err := os.Stat(filepath.Join(d, prog)); err != nil || st.IsDir() {
				ok = false
			}
		}
		if ok {
			return d, nil
		}
	}
	return "", fmt.Errorf("%w: install them (on Debian: apt-get install postgresql-15 postgresql-15-postgis-3) or set HOTSPOT_PG_BINDIR, or point DATABASE_URL at a server with PostGIS", ErrNoPostgres)
}

var debianVersion = regexp.MustCompile(`/postgresql/(\d+)/bin$`)

func versionOf(dir string) int {
	m := debianVersion.FindStringSubmatch(dir)
	if m == nil {
		return 0
	}
	v, _ := strconv.Atoi(m[1])
	return v
}

var serverVersion = regexp.MustCompile(`\(PostgreSQL\) (\d+)`)

func serverMajor(ctx context.Context, bin string) (int, error) {
	out, err := exec.CommandContext(ctx, filepath.Join(bin, "postgres"), "--version").Output()
	if err != nil {
		return 0, fmt.Errorf("postgres --version: %w", err)
	}
	m := serverVersion.FindSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("postgres --version: unexpected output %q", out)
	}
	v, _ := strconv.Atoi(string(m[1]))
	return v, nil
}

// unprivilegedUser picks the account PostgreSQL runs as when we are root:
// $HOTSPOT_PG_USER, else "postgres" (which Debian's packages create), else
// "nobody".
func unprivilegedUser() (*syscall.Credential, string, error) {
	names := []string{"postgres", "nobody"}
	if n := os.Getenv("HOTSPOT_PG_USER"); n != "" {
		names = []string{n}
	}
	for _, n := range names {
		u, err := user.Lookup(n)
		if err != nil {
			continue
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if uid == 0 {
			continue
		}
		return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}, n, nil
	}
	return nil, "", fmt.Errorf("running as root, PostgreSQL needs an unprivileged user to run as, and none of %v exists: create one (useradd --system postgres) or set HOTSPOT_PG_USER", names)
}

// reachable reports whether the user can traverse every directory from / to
// dir (or to its nearest existing ancestor, since the rest we create).
func reachable(dir string, cred *syscall.Credential) bool {
	for d := dir; ; d = filepath.Dir(d) {
		var st syscall.Stat_t
		if err := syscall.Stat(d, &st); err == nil {
			mode := st.Mode
			switch {
			case st.Uid == cred.Uid:
				if mode&0o100 == 0 {
					return false
				}
			case st.Gid == cred.Gid:
				if mode&0o010 == 0 {
					return false
				}
			default:
				if mode&0o001 == 0 {
					return false
				}
			}
		}
		if d == "/" || d == "." {
			return true
		}
	}
}

// lockFile opens path and takes a flock on it, how being syscall.LOCK_EX or
// syscall.LOCK_SH; closing the returned file releases it. It waits while
// another process holds a conflicting lock, until ctx is done (a Ctrl-C
// must not hang) or two minutes have passed (a holder that is stuck should
// give an error, not a silent wait).
func lockFile(ctx context.Context, path string, how int) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	deadline := time.NewTimer(2 * time.Minute)
	defer deadline.Stop()
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		err := syscall.Flock(int(f.Fd()), how|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) && !errors.Is(err, syscall.EINTR) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, ctx.Err())
		case <-deadline.C:
			f.Close()
			return nil, fmt.Errorf("lock %s: another process has held it for two minutes", path)
		case <-tick.C:
		}
	}
}

func lastLines(path string, n int) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
