// Command hotspot is the Harborough crime-hotspot server: it imports
// incidents into PostGIS and serves them as vector tiles to a Leaflet map.
//
// Run "hotspot --help" for the subcommands and "hotspot CMD --help" for
// each one's flags. Without DATABASE_URL every subcommand uses a private
// PostgreSQL cluster in --data-dir, started on demand from the system's
// PostgreSQL binaries and stopped on exit.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"sort"
	"strings"
	"syscall"
)

// command is one node of the command tree: a leaf runs, a branch lists
// its children. Later subcommands slot in by adding a node to commands().
type command struct {
	name    string
	summary string
	usage   string // the argument synopsis after the command path
	help    string // more text for --help
	flags   func(fs *flag.FlagSet) any
	run     func(ctx context.Context, g *globals, opts any, args []string) error
	sub     []*command
}

func commands() []*command {
	return []*command{
		serveCommand(),
		demoCommand(),
		migrateCommand(),
		{
			name:    "import",
			summary: "import incidents or reference areas from files",
			sub:     []*command{importPoliceUKCommand(), importBoundariesCommand(), importPostcodesCommand(), importPartnerCommand()},
		},
		anonCommand(),
		usersCommand(),
		tokensCommand(),
		placesCommand(),
		prioritiesCommand(),
		categoriesCommand(),
		synthCommand(),
		hotspotsCommand(),
		nearRepeatCommand(),
		evaluateCommand(),
		gazetteerCommand(),
		geocodeCommand(),
		tilesCommand(),
	}
}

// errUsage marks an error in how the command was called: it prints the
// command's usage and exits 2.
var errUsage = errors.New("usage")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// After the first signal, stop listening: a second Ctrl-C then kills
	// the process at once, for when a clean stop takes too long.
	context.AfterFunc(ctx, stop)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// run is main without the exit, so tests can drive the whole CLI.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	root := &command{name: "hotspot", summary: "crime-hotspot mapping server for Harborough District", sub: commands()}
	g := &globals{stdout: stdout, stderr: stderr}
	cmd, path, rest := root, []string{"hotspot"}, args
	for len(cmd.sub) > 0 {
		if len(rest) == 0 || rest[0] == "-h" || rest[0] == "--help" || rest[0] == "help" {
			printBranchHelp(stdout, cmd, path)
			if len(rest) == 0 && cmd != root {
				return 2
			}
			if len(rest) == 0 {
				return 2
			}
			return 0
		}
		next := find(cmd.sub, rest[0])
		if next == nil {
			fmt.Fprintf(stderr, "%s: unknown command %q\n\n", strings.Join(path, " "), rest[0])
			printBranchHelp(stderr, cmd, path)
			return 2
		}
		cmd, path, rest = next, append(path, next.name), rest[1:]
	}

	fs := flag.NewFlagSet(strings.Join(path, " "), flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	g.register(fs)
	var opts any
	if cmd.flags != nil {
		opts = cmd.flags(fs)
	}
	usage := func(w io.Writer) { printLeafHelp(w, cmd, path, fs) }
	if err := fs.Parse(rest); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			usage(stdout)
			return 0
		}
		fmt.Fprintf(stderr, "%s: %v\n\n", strings.Join(path, " "), err)
		usage(stderr)
		return 2
	}
	if err := g.finish(); err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", strings.Join(path, " "), err)
		return 2
	}
	err := cmd.run(ctx, g, opts, fs.Args())
	if err == nil {
		return 0
	}
	if errors.Is(err, errUsage) {
		fmt.Fprintf(stderr, "%s: %v\n\n", strings.Join(path, " "), err)
		usage(stderr)
		return 2
	}
	fmt.Fprintf(stderr, "%s: %v\n", strings.Join(path, " "), err)
	return 1
}

func find(cmds []*command, name string) *command {
	for _, c := range cmds {
		if c.name == name {
			return c
		}
	}
	return nil
}

func printBranchHelp(w io.Writer, cmd *command, path []string) {
	fmt.Fprintf(w, "%s - %s\n\nUsage:\n  %s COMMAND [flags] [args]\n\nCommands:\n", strings.Join(path, " "), cmd.summary, strings.Join(path, " "))
	subs := append([]*command(nil), cmd.sub...)
	sort.Slice(subs, func(i, j int) bool { return subs[i].name < subs[j].name })
	for _, c := range subs {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
	fmt.Fprintf(w, "\nRun '%s COMMAND --help' for a command's flags.\n", strings.Join(path, " "))
	if len(path) == 1 {
		fmt.Fprint(w, globalHelp)
	}
}

const globalHelp = `
Database: with DATABASE_URL set (or --database-url) every command uses that
PostgreSQL server, which must have PostGIS. Without it, a private cluster is
created in --data-dir (default ./var/pgdata, or HOTSPOT_DATA_DIR) from the
system's PostgreSQL binaries, listening only on a unix socket, and stopped
when the command exits. On Debian: apt-get install postgresql-15-postgis-3.
`

func printLeafHelp(w io.Writer, cmd *command, path []string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "%s - %s\n\nUsage:\n  %s [flags] %s\n", strings.Join(path, " "), cmd.summary, strings.Join(path, " "), cmd.usage)
	if cmd.help != "" {
		fmt.Fprintf(w, "\n%s\n", strings.TrimSpace(cmd.help))
	}
	fmt.Fprintf(w, "\nFlags:\n")
	fs.SetOutput(w)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// globals are the flags every leaf command takes.
type globals struct {
	stdout, stderr io.Writer
	databaseURL    string
	dataDir        string
	logLevel       string
	logFormat      string
	log            *slog.Logger
}

func (g *globals) register(fs *flag.FlagSet) {
	fs.StringVar(&g.databaseURL, "database-url", os.Getenv("DATABASE_URL"),
		"PostgreSQL server to use instead of the embedded cluster (env DATABASE_URL)")
	fs.StringVar(&g.dataDir, "data-dir", envOr("HOTSPOT_DATA_DIR", "var/pgdata"),
		"data directory of the embedded PostgreSQL cluster (env HOTSPOT_DATA_DIR)")
	fs.StringVar(&g.logLevel, "log-level", envOr("HOTSPOT_LOG_LEVEL", "info"),
		"log level: debug, info, warn or error (env HOTSPOT_LOG_LEVEL)")
	fs.StringVar(&g.logFormat, "log-format", envOr("HOTSPOT_LOG_FORMAT", "json"),
		"log format on stderr: json or text (env HOTSPOT_LOG_FORMAT)")
}

func (g *globals) finish() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(g.logLevel)); err != nil {
		return fmt.Errorf("--log-level %q: want debug, info, warn or error", g.logLevel)
	}
	hopts := &slog.HandlerOptions{Level: level}
	switch g.logFormat {
	case "json":
		g.log = slog.New(slog.NewJSONHandler(g.stderr, hopts))
	case "text":
		g.log = slog.New(slog.NewTextHandler(g.stderr, hopts))
	default:
		return fmt.Errorf("--log-format %q: want json or text", g.logFormat)
	}
	if g.dataDir == "" && g.databaseURL == "" {
		return errors.New("--data-dir is empty and no DATABASE_URL is set: one of them is needed")
	}
	return nil
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}
