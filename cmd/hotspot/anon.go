package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/ingest"
)

func importPostcodesCommand() *command {
	return &command{
		name:    "postcodes",
		summary: "import OS Code-Point Open postcode CSV files",
		usage:   "FILE...",
		help: `Loads OS Code-Point Open CSV files (no header; columns Postcode,
Positional_quality_indicator, Eastings, Northings, Country_code,
NHS_regional_HA_code, NHS_HA_code, Admin_county_code, Admin_district_code,
Admin_ward_code) into the postcodes table, with each point in British
National Grid, WGS84 and Web Mercator. Postcodes are upserted: a new one is
added, a changed one updated, an identical one left alone, so importing a
file again changes nothing. Bad lines are quarantined with their line number
and reason. The anonymisation step counts the district's postcodes as its
measure of addresses: run 'hotspot anon rebuild' afterwards. Exits 1 if any
file could not be imported.`,
		flags: func(*flag.FlagSet) any { return nil },
		run: func(ctx context.Context, g *globals, _ any, args []string) error {
			if len(args) == 0 {
				return fmt.Errorf("%w: name at least one file", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			return importPostcodes(ctx, g.stdout, db.Pool, args)
		},
	}
}

// importPostcodes imports the files in order, printing a summary of each;
// a file that fails is reported and the rest still run.
func importPostcodes(ctx context.Context, w io.Writer, pool *pgxpool.Pool, files []string) error {
	var failed []string
	for _, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s, err := ingest.ImportPostcodesFile(ctx, pool, f)
		if err != nil {
			fmt.Fprintf(w, "%s: FAILED: %v\n", f, err)
			failed = append(failed, f)
			continue
		}
		fmt.Fprintf(w, "%s: read %d, inserted %d, updated %d, unchanged %d, quarantined %d (batch %d, %.2fs)\n",
			f, s.Read, s.Inserted, s.Updated, s.Unchanged, s.Quarantined, s.BatchID, s.Duration.Seconds())
		if s.Quarantined > 0 {
			var parts []string
			for k, n := range s.QuarantinedBy {
				parts = append(parts, fmt.Sprintf("%s %d", k, n))
			}
			fmt.Fprintf(w, "  quarantined by reason: %s\n", strings.Join(parts, ", "))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files failed: %s", len(failed), len(files), strings.Join(failed, ", "))
	}
	return nil
}

func anonCommand() *command {
	return &command{
		name:    "anon",
		summary: "build the public, anonymised data",
		sub:     []*command{anonRebuildCommand()},
	}
}

type anonFlags struct {
	minUnits, minCount int
	district, force    string
}

func anonRebuildCommand() *command {
	return &command{
		name:    "rebuild",
		summary: "rebuild the public data (schema open) from the precise incidents",
		help: `Rebuilds every table of the schema "open", which the public API and the
public tile layer read, in one transaction: readers see the old public data
or the new, never a mix. Map points are police.uk's street points inside the
district, each standing for at least --min-units postcode units (each counted
as one address); every incident in the district moves to its nearest map
point; dates become months; sensitive categories are only counted by area;
counts below --min-count are withheld. Needs the district outline (import
boundaries --kind district) and the district's postcodes (import postcodes);
without them it says so and publishes no points. Safe to run any time; run
it after every import. --min-units, --min-count and --force, when not given,
keep what the last rebuild used (8, 3 and leicestershire the first time), as
the automatic rebuilds after imports do.`,
		flags: func(fs *flag.FlagSet) any {
			f := &anonFlags{}
			fs.IntVar(&f.minUnits, "min-units", 0, "K: postcode units each map point must stand for (at least 8; default: as last time, else 8)")
			fs.IntVar(&f.minCount, "min-count", 0, "smallest count published by area (at least 3; default: as last time, else 3)")
			fs.StringVar(&f.district, "district", anon.DefaultDistrict, "GSS code of the district served")
			fs.StringVar(&f.force, "force", "", "police.uk force id for no-location rows that name none (default: as last time, else leicestershire)")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: rebuild takes no arguments", errUsage)
			}
			f := opts.(*anonFlags)
			o := anon.Options{MinPostcodeUnits: f.minUnits, MinCount: f.minCount, District: f.district, Force: f.force}
			if (f.minUnits != 0 && f.minUnits < anon.DefaultMinPostcodeUnits) || (f.minCount != 0 && f.minCount < 3) {
				return fmt.Errorf("%w: --min-units must be at least %d and --min-count at least 3", errUsage, anon.DefaultMinPostcodeUnits)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			s, err := anon.Rebuild(ctx, db.Pool, o)
			if err != nil {
				if errors.Is(err, anon.ErrBadOptions) {
					return fmt.Errorf("%w: %v", errUsage, err)
				}
				return err
			}
			printAnonSummary(g.stdout, s)
			return nil
		},
	}
}

func printAnonSummary(w io.Writer, s anon.Summary) {
	fmt.Fprintf(w, "map points: %d (of %d police.uk points in the district; %d postcode units, at least %d per point)\n",
		s.MapPoints, s.Candidates, s.PostcodeUnits, s.FewestUnits)
	fmt.Fprintf(w, "public crimes: %d at map points\n", s.PublicCrimes)
	fmt.Fprintf(w, "sensitive crimes withheld from point level: %d (counted by area only)\n", s.Withheld)
	fmt.Fprintf(w, "no location: %d (of which %d in the district without a map point)\n", s.NoLocation, s.Unmapped)
	fmt.Fprintf(w, "outside the district, left out: %d\n", s.OutsideDistrict)
	fmt.Fprintf(w, "area counts: %d cells, %d suppressed (%d of them district totals withheld against differencing)\n",
		s.AreaCells, s.Suppressed, s.TotalsWithheld)
	var months []string
	for _, m := range s.Months {
		months = append(months, m.Format("2006-01"))
	}
	fmt.Fprintf(w, "months: %s\n", strings.Join(months, ", "))
	for _, n := range s.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	fmt.Fprintf(w, "rebuilt in %.2fs\n", s.Duration.Seconds())
}

// loadDemoPublic loads what the anonymisation step needs from the demo's
// data folder and is not loaded yet (the 2013 wards, the Code-Point Open
// postcodes), then rebuilds the public data, so the demo's public map and
// API have data. Files are matched by checksum, as the police.uk ones are.
func loadDemoPublic(ctx context.Context, g *globals, pool *pgxpool.Pool, dir string) error {
	if err := loadBoundariesOnce(ctx, g, pool, filepath.Join(dir, "boundaries", "wards2013-harborough.geojson"), "ward"); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(dir, "postcodes", "codepoint-open-*.csv"))
	if err != nil {
		return err
	}
	todo, err := notImported(ctx, pool, files)
	if err != nil {
		return err
	}
	if len(todo) > 0 {
		if err := importPostcodes(ctx, g.stdout, pool, todo); err != nil {
			return err
		}
	}
	return rebuildDerived(ctx, g.stdout, pool, "demo")
}
