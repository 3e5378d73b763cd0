package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/ingest"
)

func importPoliceUKCommand() *command {
	return &command{
		name:    "police-uk",
		summary: "import data.police.uk street-level crime CSV files",
		usage:   "FILE...",
		help: `Imports data.police.uk street-level CSV files (YYYY-MM-FORCE-street.csv, the
layout with Crime ID, Month, ..., Longitude, Latitude, ..., Context). Each
file is one import batch in one transaction: a failure leaves nothing of it
behind. Malformed rows are quarantined with their line number and reason and
the rest of the file still loads. Importing the same rows again adds
nothing: crimes are matched on their Crime ID, and anti-social behaviour
rows (which have none) on a stable hash of the row and its occurrence in
the file. Rows without coordinates are kept and counted as "without
location". Afterwards the public (anonymised) data is rebuilt, as
'hotspot anon rebuild' does. Exits 1 if any file could not be imported.`,
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
			importErr := importPoliceUK(ctx, g.stdout, db.Pool, args)
			if ctx.Err() != nil {
				return importErr
			}
			// After every import, even a partly failed one, so the public
			// data and the hotspots never lag what the police see.
			return errors.Join(importErr, rebuildDerived(ctx, g.stdout, db.Pool, "import police-uk"))
		},
	}
}

// importPoliceUK imports the files in order, printing a summary of each and
// a total; a file that fails is reported and the rest still run.
func importPoliceUK(ctx context.Context, w io.Writer, pool *pgxpool.Pool, files []string) error {
	var total ingest.Summary
	var failed []string
	for _, f := range files {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		s, err := ingest.ImportPoliceUKFile(ctx, pool, f)
		if err != nil {
			fmt.Fprintf(w, "%s: FAILED: %v\n", f, err)
			failed = append(failed, f)
			continue
		}
		printSummary(w, f, s)
		if err := auth.Audit(ctx, pool, cliActor(), auth.ActionImport, map[string]any{
			"file": f, "batch": s.BatchID, "sha256": s.SHA256, "read": s.Read, "inserted": s.Inserted,
			"already_present": s.AlreadyPresent, "quarantined": s.Quarantined,
		}, ""); err != nil {
			return err
		}
		total.Read += s.Read
		total.Inserted += s.Inserted
		total.AlreadyPresent += s.AlreadyPresent
		total.NoLocation += s.NoLocation
		total.Quarantined += s.Quarantined
	}
	if len(files) > 1 {
		fmt.Fprintf(w, "total: %d files, read %d, inserted %d, already present %d, quarantined %d; without location %d\n",
			len(files)-len(failed), total.Read, total.Inserted, total.AlreadyPresent, total.Quarantined, total.NoLocation)
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d of %d files failed: %s", len(failed), len(files), strings.Join(failed, ", "))
	}
	return nil
}

func printSummary(w io.Writer, name string, s ingest.Summary) {
	fmt.Fprintf(w, "%s: read %d, inserted %d, already present %d, quarantined %d; without location %d (batch %d, %.2fs)\n",
		name, s.Read, s.Inserted, s.AlreadyPresent, s.Quarantined, s.NoLocation, s.BatchID, s.Duration.Seconds())
	if s.Quarantined > 0 {
		var parts []string
		for _, k := range s.Reasons() {
			parts = append(parts, fmt.Sprintf("%s %d", k, s.QuarantinedBy[k]))
		}
		fmt.Fprintf(w, "  quarantined by reason: %s\n", strings.Join(parts, ", "))
	}
}

type boundaryFlags struct {
	kind, codeField, nameField string
}

func importBoundariesCommand() *command {
	return &command{
		name:    "boundaries",
		summary: "import reference areas (district, wards, LSOAs) from GeoJSON",
		usage:   "--kind KIND FILE...",
		help: `Loads a GeoJSON FeatureCollection of polygons in WGS84 (longitude/latitude)
as reference areas of one kind, replacing areas of that kind with the same
code. The code and name come from --code-field and --name-field, or from the
first property that looks like one (ONS's LSOA11CD/LSOA11NM, WD13CD/WD13NM,
lad_code/name). The district outline (kind "district") sets the map's extent.`,
		flags: func(fs *flag.FlagSet) any {
			f := &boundaryFlags{}
			fs.StringVar(&f.kind, "kind", "", "kind of area, e.g. district, ward, lsoa (required)")
			fs.StringVar(&f.codeField, "code-field", "", "property holding each area's code")
			fs.StringVar(&f.nameField, "name-field", "", "property holding each area's name")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*boundaryFlags)
			if f.kind == "" {
				return fmt.Errorf("%w: --kind is required", errUsage)
			}
			if len(args) == 0 {
				return fmt.Errorf("%w: name at least one file", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			var errs []error
			for _, path := range args {
				n, err := importBoundaryFile(ctx, db.Pool, path, f)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", path, err))
					fmt.Fprintf(g.stdout, "%s: FAILED: %v\n", path, err)
					continue
				}
				fmt.Fprintf(g.stdout, "%s: %d %s areas loaded\n", path, n, f.kind)
			}
			return errors.Join(errs...)
		},
	}
}

func importBoundaryFile(ctx context.Context, pool *pgxpool.Pool, path string, f *boundaryFlags) (int, error) {
	file, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer file.Close()
	bs, err := ingest.ReadBoundaries(file, f.codeField, f.nameField)
	if err != nil {
		return 0, err
	}
	return len(bs), ingest.LoadBoundaries(ctx, pool, f.kind, bs)
}
