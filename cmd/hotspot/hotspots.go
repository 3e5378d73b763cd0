package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/jackc/pgx/v5/pgxpool"

	geohotspot "github.com/harborough-csp/hotspot/geo/hotspot"
)

func hotspotsCommand() *command {
	return &command{
		name:    "hotspots",
		summary: "build and list the hotspot analysis (Gi* hexagons and KDE contours)",
		sub:     []*command{hotspotsRebuildCommand(), hotspotsListCommand()},
	}
}

type hotspotsRebuildFlags struct {
	synthetic bool
	share     float64
	minCount  int
}

func hotspotsRebuildCommand() *command {
	return &command{
		name:    "rebuild",
		summary: "recompute every place's hotspots and the public hot cells",
		help: `Recomputes, for every named place × priority (1-5 and all crime) × window
(last month, last 3 and last 12 months, counted back from the latest month
with data): Getis-Ord Gi* on a hexagon grid with Benjamini-Hochberg false
discovery rate control, significant hot cells at 90/95/99% merged into
hotspot polygons, and quartic kernel density contours at --kde-share of the
place's area, each hotspot with its numbers (incidents, area, share, trend,
aoristic peaks, top categories, repeat locations). Then rebuilds the public
hot cells (schema open) from the anonymised data, so run 'hotspot anon
rebuild' first if the public data is stale. One transaction: readers see the
old set or the new, never a mix; a failure leaves the old set. 'hotspot
import police-uk' and 'hotspot demo' run it after loading.`,
		flags: func(fs *flag.FlagSet) any {
			f := &hotspotsRebuildFlags{}
			fs.BoolVar(&f.synthetic, "synthetic", false, "include synthetic incidents (hotspot synth); real analyses leave them out")
			fs.Float64Var(&f.share, "kde-share", geohotspot.DefaultKDEShare, "share of each place's area the KDE contour keeps (0-1)")
			fs.IntVar(&f.minCount, "min-count", geohotspot.DefaultMinCount, "smallest count published in the public hot cells (at least 3)")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: rebuild takes no arguments", errUsage)
			}
			f := opts.(*hotspotsRebuildFlags)
			if f.share <= 0 || f.share >= 1 || f.minCount < 3 {
				return fmt.Errorf("%w: --kde-share must be between 0 and 1 and --min-count at least 3", errUsage)
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			s, err := geohotspot.Rebuild(ctx, db.Pool, geohotspot.Options{Synthetic: f.synthetic, KDEShare: f.share, MinCount: f.minCount, Trigger: "cli (" + cliActor() + ")"})
			if err != nil {
				if errors.Is(err, geohotspot.ErrBadOptions) {
					return fmt.Errorf("%w: %v", errUsage, err)
				}
				return err
			}
			printHotspotSummary(g.stdout, s)
			return nil
		},
	}
}

// rebuildHotspots runs the default rebuild after an import or in the demo
// and prints its summary.
func rebuildHotspots(ctx context.Context, w io.Writer, pool *pgxpool.Pool, trigger string) error {
	s, err := geohotspot.Rebuild(ctx, pool, geohotspot.Options{Trigger: trigger})
	if err != nil {
		return err
	}
	printHotspotSummary(w, s)
	return nil
}

func printHotspotSummary(w io.Writer, s geohotspot.Summary) {
	latest := "none (no incidents)"
	if !s.LatestMonth.IsZero() {
		latest = s.LatestMonth.Format("2006-01")
	}
	fmt.Fprintf(w, "hotspots: run %d, latest month %s, %d places, %d incident rows, %d analyses, %d hotspots\n",
		s.RunID, latest, s.Places, s.Incidents, s.Sets, s.Hotspots)
	fmt.Fprintf(w, "public hot cells: %d (%d with the count withheld)\n", s.PublicCells, s.Suppressed)
	fmt.Fprintf(w, "hotspots rebuilt in %.2fs (read %.2fs, compute %.2fs, write %.2fs)\n",
		s.Duration.Seconds(), s.Load.Seconds(), s.Compute.Seconds(), s.Write.Seconds())
}

type hotspotsListFlags struct {
	place, window, method string
	priority              int
	confidence            int
}

func hotspotsListCommand() *command {
	return &command{
		name:    "list",
		summary: "print the current hotspots with their numbers",
		help: `Prints the current run's hotspots as a table: place, priority (0 = all
crime), window, method, confidence, rank, incidents, area, share of the
place's incidents, change against the previous window and a year earlier,
peak month/weekday/hour and the top category. Filters narrow it down.`,
		flags: func(fs *flag.FlagSet) any {
			f := &hotspotsListFlags{}
			fs.StringVar(&f.place, "place", "", "place slug (see hotspot places list)")
			fs.IntVar(&f.priority, "priority", -1, "priority 1-5, 0 for all crime; default every priority")
			fs.StringVar(&f.window, "window", "", "last-1, last-3 or last-12")
			fs.StringVar(&f.method, "method", "", "gi-star or kde")
			fs.IntVar(&f.confidence, "confidence", 0, "Gi* hotspots at this confidence or more (90, 95, 99)")
			return f
		},
		run: func(ctx context.Context, g *globals, opts any, args []string) error {
			if len(args) > 0 {
				return fmt.Errorf("%w: list takes no arguments", errUsage)
			}
			f := opts.(*hotspotsListFlags)
			flt := geohotspot.Filter{Place: f.place, Window: f.window, Method: f.method, MinConfidence: f.confidence}
			if f.priority >= 0 {
				flt.Priority = &f.priority
			}
			db, closeDB, err := g.openDB(ctx)
			if err != nil {
				return err
			}
			defer closeDB()
			run, err := geohotspot.Current(ctx, db.Pool)
			if err != nil {
				return err
			}
			hs, err := geohotspot.Hotspots(ctx, db.Pool, flt)
			if err != nil {
				if errors.Is(err, geohotspot.ErrBadFilter) {
					return fmt.Errorf("%w: %v", errUsage, err)
				}
				return err
			}
			fmt.Fprintf(g.stdout, "run %d (%s, data version %d, synthetic %v): %d hotspots\n", run.ID, run.StartedAt.UTC().Format("2006-01-02 15:04:05Z"), run.DataVersion, run.Synthetic, len(hs))
			tw := tabwriter.NewWriter(g.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "PLACE\tPRI\tWINDOW\tMETHOD\tCONF\tRANK\tINCIDENTS\tKM2\tSHARE\tPREV\tYOY\tPEAK M/D/H\tTOP CATEGORY")
			for _, h := range hs {
				top := "-"
				if len(h.TopCategories) > 0 {
					top = fmt.Sprintf("%s (%d)", h.TopCategories[0].Category, h.TopCategories[0].Count)
				}
				fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%d\t%d\t%.3f\t%.1f%%\t%s\t%s\t%s/%s/%s\t%s\n", h.Place, h.Priority, h.Window, h.Method,
					optInt(h.Confidence), h.Rank, h.Incidents, h.AreaKm2, 100*h.Share, optPct(h.PrevChange, h.PrevIncidents), optPct(h.YoYChange, h.YoYIncidents),
					optInt(h.PeakMonth), optInt(h.PeakWeekday), optInt(h.PeakHour), top)
			}
			return tw.Flush()
		},
	}
}

func optInt(v *int) string {
	if v == nil {
		return "-"
	}
	return strconv.Itoa(*v)
}

// optPct prints a change: "-" without data, "new" when the earlier count
// was 0.
func optPct(p *float64, before *int) string {
	switch {
	case before == nil:
		return "-"
	case p == nil:
		return "new"
	}
	return fmt.Sprintf("%+.0f%%", *p)
}
