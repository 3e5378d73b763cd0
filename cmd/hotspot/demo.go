package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/web"
)

type demoFlags struct {
	serveFlags
	data string
}

// defaultDemoData is the shared data folder beside the checkout.
const defaultDemoData = "../shared/data"

func demoCommand() *command {
	return &command{
		name:    "demo",
		summary: "load the real Harborough data and serve the map",
		help: `Starts the database (the embedded cluster unless DATABASE_URL is set),
applies migrations, loads the district outline and every police.uk file
in DATA/police-uk/*.csv that is not loaded yet, creates (or resets) one
demo user per role (demo-police, demo-analyst, demo-admin) with fresh
passwords that it prints, and serves the map (as 'hotspot serve'). A file whose checksum matches a finished import is
skipped, so a second run starts in seconds. Without a data folder the map
starts empty, with a notice saying how to import.

DATA is laid out as ../shared/data is: police-uk/*.csv and
boundaries/harborough-district.geojson.`,
		flags: func(fs *flag.FlagSet) any {
			f := &demoFlags{}
			f.serveFlags.register(fs)
			fs.StringVar(&f.data, "data", envOr("HOTSPOT_DEMO_DATA", defaultDemoData), "folder of real data to load (env HOTSPOT_DEMO_DATA)")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: demo takes no arguments", errUsage)
			}
			f := opts.(*demoFlags)
			cfg, err := f.serveFlags.config()
			if err != nil {
				return err
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			if err := loadDemoData(ctx, g, db.Pool, f.data); err != nil {
				return err
			}
			creds, err := auth.EnsureDemoUsers(ctx, db.Pool)
			if err != nil {
				return err
			}
			fmt.Fprintln(g.stdout, "demo users (new passwords each run; sign in at /login):")
			for _, r := range auth.Roles() {
				fmt.Fprintf(g.stdout, "  %-8s %-14s %s\n", r, creds[r].Name, creds[r].Password)
			}
			return serveHTTP(ctx, g, db.Pool, f.addr, cfg)
		},
	}
}

func loadDemoData(ctx context.Context, g *globals, pool *pgxpool.Pool, dir string) error {
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(g.stdout, "no data folder at %s: the map starts empty.\n%s\n", dir, web.NoDataNotice)
		return nil
	}
	if err := loadBoundariesOnce(ctx, g, pool, filepath.Join(dir, "boundaries", "harborough-district.geojson"), "district"); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "police-uk", "*.csv"))
	if err != nil {
		return err
	}
	sort.Strings(files)
	todo, err := notImported(ctx, pool, files)
	if err != nil {
		return err
	}
	if skipped := len(files) - len(todo); skipped > 0 {
		fmt.Fprintf(g.stdout, "%d police.uk files already loaded\n", skipped)
	}
	if len(todo) > 0 {
		if err := importPoliceUK(ctx, g.stdout, pool, todo); err != nil {
			return err
		}
	}
	if err := loadDemoPlaces(ctx, g, pool, dir); err != nil {
		return err
	}
	if err := loadDemoPublic(ctx, g, pool, dir); err != nil {
		return err
	}
	return loadDemoGazetteer(ctx, g, pool, dir)
}

// loadDemoPlaces builds the plan's named places from the data folder the
// first time; later runs keep them (and any outline an admin uploaded).
func loadDemoPlaces(ctx context.Context, g *globals, pool *pgxpool.Pool, dir string) error {
	have, err := places.List(ctx, pool)
	if err != nil || len(have) > 0 {
		return err
	}
	src, err := places.ReadSources(dir)
	if err != nil {
		fmt.Fprintf(g.stdout, "named places not built: %v\n", err)
		return nil
	}
	built, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "hotspot demo (" + cliActor() + ")"})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "built %d named places\n", len(built))
	return nil
}

// loadBoundariesOnce loads the areas in path as kind unless some of that
// kind are loaded already, or the file is absent.
func loadBoundariesOnce(ctx context.Context, g *globals, pool *pgxpool.Pool, path, kind string) error {
	have, err := ingest.HaveBoundaries(ctx, pool, kind)
	if err != nil || have {
		return err
	}
	if _, err := os.Stat(path); err != nil {
		return nil
	}
	n, err := importBoundaryFile(ctx, pool, path, &boundaryFlags{kind: kind})
	if err != nil {
		return err
	}
	fmt.Fprintf(g.stdout, "loaded %d %s areas from %s\n", n, kind, path)
	return nil
}

// notImported returns the files whose checksum no finished import has.
func notImported(ctx context.Context, pool *pgxpool.Pool, files []string) ([]string, error) {
	var todo []string
	for _, f := range files {
		done, err := alreadyImported(ctx, pool, f)
		if err != nil {
			return nil, err
		}
		if !done {
			todo = append(todo, f)
		}
	}
	return todo, nil
}

// alreadyImported reports whether a finished import batch has the file's
// checksum.
func alreadyImported(ctx context.Context, pool *pgxpool.Pool, path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		return false, err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return false, err
	}
	return ingest.Imported(ctx, pool, hex.EncodeToString(h.Sum(nil)))
}
