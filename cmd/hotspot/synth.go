package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/synth"
)

type synthFlags struct {
	incidents int
	seed      uint64
	from, to  string
	replace   bool
}

func synthCommand() *command {
	return &command{
		name:    "synth",
		summary: "generate realistic synthetic incidents for scale tests",
		usage:   "--incidents N --seed S [--from YYYY-MM] [--to YYYY-MM] [--replace]",
		help: `Generates N made-up incidents and loads them, labelled: synthetic = true,
source "synth", source_id "synth-S-n", context "synthetic". Real analyses
filter them out on the synthetic column.

Places follow the real incidents in Harborough District already loaded
(police.uk's map points and streets, weighted by how many incidents of each
category each point has, jittered by about 40 m), or built-in towns and
villages of the district when there are none. Times are exact or short
periods between the first day of --from and the last of --to, shaped by
month, weekday and hour per category (see the geo/synth package doc).

The same --seed and --incidents give the same rows, so a rerun inserts
nothing; --replace deletes every earlier synthetic row first. The run is
one transaction and one import batch. A large run locks the incidents
table while it rebuilds the table's indexes.`,
		flags: func(fs *flag.FlagSet) any {
			f := &synthFlags{}
			fs.IntVar(&f.incidents, "incidents", 0, "number of incidents to generate (required)")
			fs.Uint64Var(&f.seed, "seed", 1, "random seed: the same seed and --incidents give the same rows")
			fs.StringVar(&f.from, "from", synth.DefaultFrom.Format("2006-01"), "first month of the period, YYYY-MM")
			fs.StringVar(&f.to, "to", synth.DefaultTo.AddDate(0, -1, 0).Format("2006-01"), "last month of the period, YYYY-MM")
			fs.BoolVar(&f.replace, "replace", false, "delete every earlier synthetic incident first")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			f := opts.(*synthFlags)
			o, err := f.options(args)
			if err != nil {
				return err
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			s, err := synth.Load(ctx, db.Pool, o)
			if err != nil {
				return err
			}
			printSynthSummary(g.stdout, s)
			return auth.Audit(ctx, db.Pool, cliActor(), auth.ActionImport, map[string]any{
				"source": synth.Source, "batch": s.BatchID, "seed": strconv.FormatUint(s.Seed, 10),
				"generated": s.Generated, "inserted": s.Inserted, "already_present": s.AlreadyPresent,
				"replaced": s.Replaced,
			}, "")
		},
	}
}

// options checks the flags and turns them into synth.Options; mistakes are
// usage errors, found before the database starts.
func (f *synthFlags) options(args []string) (synth.Options, error) {
	if len(args) > 0 {
		return synth.Options{}, fmt.Errorf("%w: unexpected argument %q", errUsage, args[0])
	}
	if f.incidents < 1 || f.incidents > synth.MaxIncidents {
		return synth.Options{}, fmt.Errorf("%w: --incidents must be 1 to %d", errUsage, synth.MaxIncidents)
	}
	from, err := geo.ParseMonth(f.from)
	if err != nil {
		return synth.Options{}, fmt.Errorf("%w: --from: %v", errUsage, err)
	}
	to, err := geo.ParseMonth(f.to)
	if err != nil {
		return synth.Options{}, fmt.Errorf("%w: --to: %v", errUsage, err)
	}
	if to.From.Before(from.From) {
		return synth.Options{}, fmt.Errorf("%w: --to %s is before --from %s", errUsage, f.to, f.from)
	}
	if to.To.Sub(from.From) > synth.MaxSpan {
		return synth.Options{}, fmt.Errorf("%w: --from to --to spans more than 20 years", errUsage)
	}
	return synth.Options{Incidents: f.incidents, Seed: f.seed, From: from.From, To: to.To, Replace: f.replace}, nil
}

func printSynthSummary(w io.Writer, s synth.Summary) {
	seeds := "built-in places"
	if s.FromDatabase {
		seeds = "real incidents"
	}
	fmt.Fprintf(w, "synth seed=%d: generated %d, inserted %d, already present %d", s.Seed, s.Generated, s.Inserted, s.AlreadyPresent)
	if s.Replaced > 0 {
		fmt.Fprintf(w, ", replaced %d earlier", s.Replaced)
	}
	fmt.Fprintf(w, "; %d seed points (%s); batch %d; %.2fs, %.0f rows/s", s.Seeds, seeds, s.BatchID, s.Duration.Seconds(), s.RowsPerSecond())
	if s.RebuiltIndexes {
		fmt.Fprint(w, " (indexes rebuilt)")
	}
	fmt.Fprintln(w)
}
