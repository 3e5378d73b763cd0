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
type Cluster struct {
	// Dir is the data directory actually used. It differs from the one asked
	// for when that one cannot be reached by the unprivileged user the
	// server runs as (see Options.DataDir).
	Dir string
	// SocketDir holds the server's unix socket.
	SocketDir string
	// Major is the server's major version, e.g. 15.
	Major int

	bin     string
	runAs   *syscall.Credential // nil: run as ourselves
	started bool                // we started it, so we stop it
	log     *slog.Logger
}

// ClusterOptions configures StartCluster.
type ClusterOptions struct {
	// DataDir is where the cluster lives. When this process runs as root,
	// PostgreSQL runs as an unprivileged user (it refuses root), and that
	// user must be able to reach DataDir; a checkout under a private home
	// folder (/root is 0700) does not allow it. The cluster then lives in
	// /var/lib/hotspot/<hash of DataDir>/ instead, the same place every time,
	// and the choice is logged.
	DataDir string
	// Durable false turns off fsync: right for throw-away test clusters,
	// wrong for anything whose data should survive a power cut.
	Durable bool
	Logger  *slog.Logger
}

// superuser is the cluster's only role. Authentication is "trust" because
// the socket directory is private to the cluster's owner (and root).
const superuser = "hotspot"

// StartCluster starts (or, if it is already running, joins) the cluster in
// opts.DataDir, creating it on first use.
func StartCluster(ctx context.Context, opts ClusterOptions) (*Cluster, error) {
	log := opts.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	bin, err := findBinDir()
	if err != nil {
		return nil, err
	}
	major, err := serverMajor(ctx, bin)
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, Major: major, log: log}

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
	c.Dir = dir
	if err := c.prepareDirs(); err != nil {
		return nil, err
	}

	unlock, err := lockFile(dir + ".lock")
	if err != nil {
		return nil, err
	}
	defer unlock()

	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); errors.Is(err, os.ErrNotExist) {
		log.Info("creating database cluster", "dir", dir)
		if err := c.run(ctx, "initdb", "-D", dir, "-U", superuser, "--auth=trust", "-E", "UTF8", "--no-locale", "--no-instructions"); err != nil {
			return nil, fmt.Errorf("initdb: %w", err)
		}
	}
	if c.running(ctx) {
		log.Info("joining running database cluster", "dir", dir)
		return c, nil
	}
	fsync := "off"
	if opts.Durable {
		fsync = "on"
	}
	settings := strings.Join([]string{
		"-c listen_addresses=''",
		"-c unix_socket_directories='" + c.SocketDir + "'",
		"-c unix_socket_permissions=0700",
		"-c fsync=" + fsync,
		"-c max_connections=200",
		"-c shared_buffers=256MB",
		"-c jit=off", // JIT start-up costs more than it saves on tile-sized queries
	}, " ")
	logFile := filepath.Join(dir, "server.log")
	if err := c.run(ctx, "pg_ctl", "start", "-w", "-t", "60", "-D", dir, "-l", logFile, "-o", settings); err != nil {
		tail := lastLines(logFile, 15)
		return nil, fmt.Errorf("pg_ctl start: %w\n%s", err, tail)
	}
	c.started = true
	log.Info("database cluster started", "dir", dir, "socket", c.SocketDir)
	return c, nil
}

// ConnString returns a libpq connection string for database name.
func (c *Cluster) ConnString(name string) string {
	return fmt.Sprintf("host=%s port=5432 user=%s dbname=%s sslmode=disable", c.SocketDir, superuser, name)
}

// Stop shuts the cluster down if this process started it; a cluster that
// was already running when we came is left for its owner.
func (c *Cluster) Stop(ctx context.Context) error {
	if c == nil || !c.started {
		return nil
	}
	c.started = false
	if !c.running(ctx) {
		return nil
	}
	if err := c.run(ctx, "pg_ctl", "stop", "-w", "-t", "60", "-m", "fast", "-D", c.Dir); err != nil {
		return fmt.Errorf("pg_ctl stop: %w", err)
	}
	c.log.Info("database cluster stopped", "dir", c.Dir)
	return nil
}

func (c *Cluster) running(ctx context.Context) bool {
	if _, err := os.Stat(filepath.Join(c.Dir, "postmaster.pid")); err != nil {
		return false
	}
	return c.run(ctx, "pg_ctl", "status", "-D", c.Dir) == nil
}

// prepareDirs creates the data and socket directories, owned by the user the
// server runs as and closed to everyone else.
func (c *Cluster) prepareDirs() error {
	// Parents must stay traversable for the server's user; only the data
	// directory itself is private.
	if err := os.MkdirAll(filepath.Dir(c.Dir), 0o755); err != nil {
		return fmt.Errorf("create data directory: %w", err)
	}
	if err := os.Mkdir(c.Dir, 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return fmt.Errorf("create data directory: %w", err)
	}
	// A unix socket path is limited to 107 bytes; a deep checkout would
	// overflow it, so long paths get a short private directory in /tmp.
	c.SocketDir = c.Dir
	if len(c.Dir)+len("/.s.PGSQL.5432.lock") > 100 {
		sum := sha256.Sum256([]byte(c.Dir))
		c.SocketDir = filepath.Join(os.TempDir(), "hotspot-pg-"+hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(c.SocketDir, 0o700); err != nil {
			return fmt.Errorf("create socket directory: %w", err)
		}
	}
	for _, d := range []string{c.Dir, c.SocketDir} {
		if err := os.Chmod(d, 0o700); err != nil {
			return err
		}
		if c.runAs != nil {
			if err := os.Chown(d, int(c.runAs.Uid), int(c.runAs.Gid)); err != nil {
				return err
			}
		}
	}
	return nil
}

// run runs one of the server's programs as the cluster's user.
func (c *Cluster) run(ctx context.Context, prog string, args ...string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, prog), args...)
	cmd.Dir = "/" // the server's user may not be able to enter our working directory
	cmd.Env = append(os.Environ(), "LC_ALL=C", "PGTZ=UTC")
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

// findBinDir finds the directory of the system's PostgreSQL server
// programs: $HOTSPOT_PG_BINDIR, then `pg_config --bindir`, then the newest
// /usr/lib/postgresql/*/bin (Debian), then $PATH.
func findBinDir() (string, error) {
	var candidates []string
	if d := os.Getenv("HOTSPOT_PG_BINDIR"); d != "" {
		candidates = append(candidates, d)
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		candidates = append(candidates, strings.TrimSpace(string(out)))
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

// lockFile takes an exclusive flock on path, so that two processes do not
// initialise or start the same cluster at once.
func lockFile(path string) (func(), error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			break
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("lock %s: another process holds it: %w", path, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN) //nolint:errcheck // closing releases it anyway
		f.Close()
	}, nil
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
