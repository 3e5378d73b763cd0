package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math"
	"strings"
	"text/tabwriter"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/hotspot/evaluate"
)

type evaluateFlags struct {
	train, test string
	areaShare   float64
	place       string
	priority    int
	cellSize    float64
}

func evaluateCommand() *command {
	return &command{
		name:    "evaluate",
		summary: "accuracy scorecard: how well each hotspot method's training cells predict the test months",
		usage:   "--train FROM..TO --test FROM..TO [--area-share 0.03] [--place harborough-district] [--priority N]",
		help: `For each method (gi*, kde, naive) and each plan priority (1-5 and all),
picks hexagon cells from the training months' real incidents, up to
--area-share of the place's cells, and scores them on the test months:

  HIT%  test incidents in the picked cells / all test incidents
  AREA% picked cells / all cells of the place
  PAI   hit rate / area share (Chainey, Tompson and Uhlig 2008)
  RRI   (test in picked / train in picked) / (all test / all train)
        (Levine 2008's Recapture Rate Index)

gi*: cells significant (Getis-Ord Gi*, Benjamini-Hochberg, 90% or more, hot)
in training, highest z first; it may pick fewer cells than allowed. kde:
cells with the highest quartic kernel density at their centres. naive: the
cells with most training incidents. All methods share one grid, sized by
the hotspot engine's rule from the training incidents (--cell-size to
override). Months are YYYY-MM; a range is FROM..TO, both included, or one
month. The periods must not overlap.`,
		flags: func(fs *flag.FlagSet) any {
			f := &evaluateFlags{}
			fs.StringVar(&f.train, "train", "", "training months, FROM..TO or YYYY-MM (required)")
			fs.StringVar(&f.test, "test", "", "test months, FROM..TO or YYYY-MM (required)")
			fs.Float64Var(&f.areaShare, "area-share", 0.03, "share of the place's area each method may pick, above 0 and at most 0.5")
			fs.StringVar(&f.place, "place", "harborough-district", "named place (hotspot places list)")
			fs.IntVar(&f.priority, "priority", 0, "one plan priority (1-5) besides all; 0 for every priority")
			fs.Float64Var(&f.cellSize, "cell-size", 0, "hexagon edge in metres; 0 uses the hotspot engine's rule")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			o, err := opts.(*evaluateFlags).options(args)
			if err != nil {
				return err
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			r, err := evaluate.Run(ctx, db.Pool, o)
			if err != nil {
				return err
			}
			printScorecard(g.stdout, r)
			return nil
		},
	}
}

// options checks the flags before the database starts: every mistake is a
// usage error.
func (f *evaluateFlags) options(args []string) (evaluate.Options, error) {
	var o evaluate.Options
	if len(args) > 0 {
		return o, fmt.Errorf("%w: unexpected argument %q", errUsage, args[0])
	}
	var err error
	if o.Train, err = parseMonthRange("--train", f.train); err != nil {
		return o, err
	}
	if o.Test, err = parseMonthRange("--test", f.test); err != nil {
		return o, err
	}
	o.Place, o.AreaShare, o.Priority, o.CellSize = f.place, f.areaShare, f.priority, f.cellSize
	if err := o.Check(); err != nil {
		return o, fmt.Errorf("%w: %v", errUsage, err)
	}
	return o, nil
}

// parseMonthRange reads "YYYY-MM..YYYY-MM" (both months included) or a
// single "YYYY-MM" into the period it covers.
func parseMonthRange(flagName, s string) (geo.Period, error) {
	if s == "" {
		return geo.Period{}, fmt.Errorf("%w: %s is required (FROM..TO or YYYY-MM)", errUsage, flagName)
	}
	from, to, found := strings.Cut(s, "..")
	if !found {
		to = from
	}
	a, err := geo.ParseMonth(strings.TrimSpace(from))
	if err != nil {
		return geo.Period{}, fmt.Errorf("%w: %s %q: want FROM..TO months as YYYY-MM..YYYY-MM: %v", errUsage, flagName, s, err)
	}
	b, err := geo.ParseMonth(strings.TrimSpace(to))
	if err != nil {
		return geo.Period{}, fmt.Errorf("%w: %s %q: want FROM..TO months as YYYY-MM..YYYY-MM: %v", errUsage, flagName, s, err)
	}
	if b.From.Before(a.From) {
		return geo.Period{}, fmt.Errorf("%w: %s %q: %s is before %s", errUsage, flagName, s, strings.TrimSpace(to), strings.TrimSpace(from))
	}
	return geo.Period{From: a.From, To: b.To}, nil
}

func printScorecard(w io.Writer, r *evaluate.Report) {
	month := func(p geo.Period) string {
		last := p.To.AddDate(0, -1, 0).Format("2006-01")
		if first := p.From.Format("2006-01"); first != last {
			return first + ".." + last
		}
		return last
	}
	fmt.Fprintf(w, "Scorecard: %s (%.1f km²), train %s (%d incidents), test %s (%d incidents)\n",
		r.Place, r.PlaceAreaM2/1e6, month(r.Options.Train), r.Train, month(r.Options.Test), r.Test)
	fmt.Fprintf(w, "Grid: hexagons of %g m (%.3f km² each), %d cells; area share %g allows %d cells (%.2f%%).\n",
		r.Grid.Size, r.Grid.CellArea()/1e6, r.StudyCells, r.AreaShare, r.Budget, 100*float64(r.Budget)/float64(r.StudyCells))
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "PRIORITY\tMETHOD\tTRAIN\tTEST\tCELLS\tAREA%\tHITS\tHIT%\tPAI\tRRI\t")
	for _, row := range r.Rows {
		s := row.Score
		p := "all"
		if row.Priority != 0 {
			p = fmt.Sprint(row.Priority)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%.0f\t%d\t%s\t%.0f\t%s\t%s\t%s\t\n", p, row.Method, s.TrainTotal, s.TestTotal,
			s.Cells, fixed(100*s.AreaShare, 2), s.TestIn, fixed(100*s.HitRate, 1), fixed(s.PAI, 2), fixed(s.RRI, 2))
	}
	tw.Flush()
	fmt.Fprintln(w, "- means undefined (no test incidents, no cell picked, or no training incident in the picked cells).")
}

func fixed(v float64, prec int) string {
	if math.IsNaN(v) || math.IsInf(v, 0) {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, v)
}
