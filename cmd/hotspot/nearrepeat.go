package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/paulmach/orb/geojson"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/nearrepeat"
)

type nearRepeatFlags struct {
	category      string
	priority      int
	from, to      string
	distanceBands string
	timeBands     string
	samePoint     bool
	iterations    int
	seed          uint64
	place         string
	alpha         float64
	zones         string
	synthetic     bool
}

// defaultNearRepeatCategories are the plan's near-repeat crimes.
const defaultNearRepeatCategories = "burglary,vehicle-crime"

func nearRepeatCommand() *command {
	return &command{
		name:    "nearrepeat",
		summary: "Knox near-repeat test for burglary and vehicle crime, with risk zones",
		usage:   "[--category burglary,vehicle-crime | --priority 3] [--from YYYY-MM --to YYYY-MM] [--distance-bands 200,400,800,1600] [--time-bands 1mo,2mo,4mo] [--iterations 999] [--seed 1] [--place harborough-district] [--zones FILE.geojson]",
		help: `Counts pairs of incidents by distance band × time band (Knox test) and
compares each count with its mean over --iterations random permutations of
the incidents' times among their places: RATIO is observed / expected, P is
(1 + permutations reaching the observed count) / (1 + iterations). A cell
marked * has RATIO > 1 and P <= --alpha: incidents that close in space are
that close in time more often than chance.

Each --category is tested on its own; --priority N tests all the categories
the priorities table maps to N together. Real incidents only, unless
--synthetic (then synthetic only).

Bands are upper edges: --distance-bands 200,400,800,1600 (metres; "m" or
"km" suffixes allowed) gives same point, 0-200, 200-400, 400-800,
800-1600 m and beyond; --time-bands 15d,29d,57d,113d gives 0-14, 15-28,
29-56, 57-112 days and beyond, and 1mo,2mo,4mo the same month, the next
month, 2-3 months and beyond. Without --time-bands, month bands are used
when any incident is known only to its month (police.uk), day bands
otherwise; day bands on month-only records are refused, as is any band
finer than the data.

police.uk data: months only, so a "same month" pair may be 0-30 days apart;
and crimes are snapped to anonymous map points, so same-point pairs (a band
of their own, --same-point) mean "same street or block", and distances
under about 200 m measure the snapping.

The near-repeat extent is read from the significant cells joined, band to
adjacent band, to the closest and soonest cell (same point or first distance
band, first time band): the farthest distance edge and the latest time edge
among them. A lone significant cell elsewhere is taken for chance.

--zones FILE.geojson writes risk zones: the incidents of the extent's last
time window (counted back from the end of --to, or of the latest month with
data) buffered by its distance, merged where they overlap, with incident
counts and the date until which each applies. They show where crimes were
to within the radius: for police and analysts only.`,
		flags: func(fs *flag.FlagSet) any {
			f := &nearRepeatFlags{}
			fs.StringVar(&f.category, "category", "", "category slugs, comma-separated, each tested on its own (default "+defaultNearRepeatCategories+")")
			fs.IntVar(&f.priority, "priority", 0, "test all categories of this plan priority (1-5) together, instead of --category")
			fs.StringVar(&f.from, "from", "", "first month, YYYY-MM (default: the earliest data)")
			fs.StringVar(&f.to, "to", "", "last month, YYYY-MM (default: the latest data)")
			fs.StringVar(&f.distanceBands, "distance-bands", nearrepeat.DefaultDistanceBands().String(), "upper edges of the distance bands in metres")
			fs.StringVar(&f.timeBands, "time-bands", "", "upper edges of the time bands, e.g. 15d,29d,57d or 1mo,2mo,4mo (default: chosen by the data's time resolution)")
			fs.BoolVar(&f.samePoint, "same-point", true, "give pairs at the same point a band of their own")
			fs.IntVar(&f.iterations, "iterations", nearrepeat.DefaultIterations, "Monte Carlo permutations")
			fs.Uint64Var(&f.seed, "seed", 1, "random seed of the permutations: the same seed gives the same table")
			fs.StringVar(&f.place, "place", "harborough-district", `named place (hotspot places list); "" for every incident`)
			fs.Float64Var(&f.alpha, "alpha", 0.05, "significance level for the * marks and the risk zones")
			fs.StringVar(&f.zones, "zones", "", "write the risk zones to this GeoJSON file")
			fs.BoolVar(&f.synthetic, "synthetic", false, "analyse the synthetic incidents instead of the real ones")
			return f
		},
		run: runNearRepeat,
	}
}

// nearRepeatPlan is the checked form of the flags.
type nearRepeatPlan struct {
	groups   [][]string // category sets, one test each
	priority int
	from, to time.Time // [from, to); zero = open
	opts     nearrepeat.Options
	flags    *nearRepeatFlags
}

// plan checks the flags before the database starts: every mistake is a
// usage error.
func (f *nearRepeatFlags) plan(args []string) (*nearRepeatPlan, error) {
	if len(args) > 0 {
		return nil, fmt.Errorf("%w: unexpected argument %q", errUsage, args[0])
	}
	p := &nearRepeatPlan{flags: f, priority: f.priority}
	switch {
	case f.priority != 0 && f.category != "":
		return nil, fmt.Errorf("%w: give --category or --priority, not both", errUsage)
	case f.priority != 0:
		if f.priority < 1 || f.priority > 5 {
			return nil, fmt.Errorf("%w: --priority must be 1 to 5", errUsage)
		}
	default:
		cats := f.category
		if cats == "" {
			cats = defaultNearRepeatCategories
		}
		for _, c := range strings.Split(cats, ",") {
			c = strings.TrimSpace(c)
			if c == "" || geo.Slugify(c) != c {
				return nil, fmt.Errorf("%w: --category %q: want category slugs such as burglary,vehicle-crime", errUsage, cats)
			}
			p.groups = append(p.groups, []string{c})
		}
	}
	var err error
	if p.from, p.to, err = monthRange(f.from, f.to); err != nil {
		return nil, err
	}
	edges, err := nearrepeat.ParseDistanceBands(f.distanceBands)
	if err != nil {
		return nil, fmt.Errorf("%w: --distance-bands: %v", errUsage, err)
	}
	p.opts.Distance = nearrepeat.DistanceBands{Edges: edges, SamePoint: f.samePoint}
	if f.timeBands != "" {
		if p.opts.Time, err = nearrepeat.ParseTimeBands(f.timeBands); err != nil {
			return nil, fmt.Errorf("%w: --time-bands: %v", errUsage, err)
		}
	}
	if f.iterations < 1 || f.iterations > nearrepeat.MaxIterations {
		return nil, fmt.Errorf("%w: --iterations must be 1 to %d", errUsage, nearrepeat.MaxIterations)
	}
	p.opts.Iterations, p.opts.Seed = f.iterations, f.seed
	if !(f.alpha > 0 && f.alpha < 1) {
		return nil, fmt.Errorf("%w: --alpha must be between 0 and 1", errUsage)
	}
	if f.zones != "" && len(p.groups) > 1 {
		// One file per test keeps each zone's rule in one place.
		return nil, fmt.Errorf("%w: --zones needs a single --category (or --priority)", errUsage)
	}
	return p, nil
}

// monthRange turns optional --from and --to months into [from, to), the
// end being the first instant after the --to month.
func monthRange(fromS, toS string) (from, to time.Time, err error) {
	if fromS != "" {
		p, err := geo.ParseMonth(fromS)
		if err != nil {
			return from, to, fmt.Errorf("%w: --from: %v", errUsage, err)
		}
		from = p.From
	}
	if toS != "" {
		p, err := geo.ParseMonth(toS)
		if err != nil {
			return from, to, fmt.Errorf("%w: --to: %v", errUsage, err)
		}
		to = p.To
	}
	if !from.IsZero() && !to.IsZero() && !to.After(from) {
		return from, to, fmt.Errorf("%w: --to %s is before --from %s", errUsage, toS, fromS)
	}
	return from, to, nil
}

func runNearRepeat(ctx context.Context, g *globals, opts any, args []string) error {
	p, err := opts.(*nearRepeatFlags).plan(args)
	if err != nil {
		return err
	}
	db, closeDB, err := g.openDB(ctx)
	if err != nil {
		return err
	}
	defer closeDB()
	if p.priority != 0 {
		cats, err := nearrepeat.PriorityCategories(ctx, db.Pool, p.priority)
		if err != nil {
			return err
		}
		p.groups = [][]string{cats}
	}
	for k, cats := range p.groups {
		if k > 0 {
			fmt.Fprintln(g.stdout)
		}
		q := nearrepeat.Query{Categories: cats, From: p.from, To: p.to, Place: p.flags.place, Synthetic: p.flags.synthetic}
		incs, err := nearrepeat.Load(ctx, db.Pool, q)
		if err != nil {
			return err
		}
		res, err := nearrepeat.Knox(incs, p.opts)
		if err != nil {
			return fmt.Errorf("%s: %w", strings.Join(cats, ","), err)
		}
		printKnox(g.stdout, q, res, p.flags.alpha)
		if p.flags.zones == "" {
			continue
		}
		e, ok := res.Extent(p.flags.alpha)
		var zones []nearrepeat.Zone
		var recent []nearrepeat.Incident
		if ok {
			end := p.to
			if end.IsZero() {
				end = lastEnd(res)
			}
			recent = e.Recent(incs, end)
			if zones, err = nearrepeat.Zones(ctx, db.Pool, e, recent); err != nil {
				return err
			}
		}
		if err := writeGeoJSON(p.flags.zones, nearrepeat.FeatureCollection(zones, e, q)); err != nil {
			return err
		}
		if ok {
			fmt.Fprintf(g.stdout, "risk zones: %d polygons around %d recent incidents (%g m, %s), written to %s\n",
				len(zones), len(recent), e.Radius, e.Units(e.Window), p.flags.zones)
		} else {
			fmt.Fprintf(g.stdout, "risk zones: none (no significant near-repeat cell); an empty collection written to %s\n", p.flags.zones)
		}
	}
	return nil
}

// lastEnd is the end of the latest day or month among the incidents.
func lastEnd(res *nearrepeat.Result) time.Time {
	if res.Time.Unit == nearrepeat.Months {
		return nearrepeat.MonthIndexTime(res.Last + 1)
	}
	return nearrepeat.DayIndexTime(res.Last + 1)
}

func printKnox(w io.Writer, q nearrepeat.Query, res *nearrepeat.Result, alpha float64) {
	where := q.Place
	if where == "" {
		where = "all places"
	}
	first, last := nearrepeat.DayIndexTime(res.First).Format("2006-01-02"), nearrepeat.DayIndexTime(res.Last).Format("2006-01-02")
	if res.Time.Unit == nearrepeat.Months {
		first, last = nearrepeat.MonthIndexTime(res.First).Format("2006-01"), nearrepeat.MonthIndexTime(res.Last).Format("2006-01")
	}
	kind := "real"
	if q.Synthetic {
		kind = "synthetic"
	}
	fmt.Fprintf(w, "Knox test: %s in %s, %s to %s: %d %s incidents, %d pairs (%d within %g m), %d permutations, seed %d\n",
		strings.Join(q.Categories, "+"), where, first, last, res.Incidents, kind, res.Pairs, res.ClosePairs,
		res.Distance.Edges[len(res.Distance.Edges)-1], res.Iterations, res.Seed)
	if res.Time.Unit == nearrepeat.Months {
		fmt.Fprintln(w, "Times are months only: time bands count calendar months apart (a same-month pair is 0-30 days apart).")
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "DISTANCE\tTIME\tOBSERVED\tEXPECTED\tRATIO\tP\t\t")
	for d, row := range res.Cells {
		for t, c := range row {
			ratio := "-"
			if !math.IsNaN(c.Ratio) {
				ratio = fmt.Sprintf("%.2f", c.Ratio)
			}
			mark := ""
			if !res.Distance.Beyond(d) && !res.Time.Beyond(t) && c.Significant(alpha) {
				mark = "*"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%.1f\t%s\t%.3f\t%s\t\n", res.Distance.Label(d), res.Time.Label(t), c.Observed, c.Expected, ratio, c.P, mark)
		}
	}
	tw.Flush()
	if e, ok := res.Extent(alpha); ok {
		fmt.Fprintf(w, "Near-repeat extent at alpha %g: within %g m and %s (%d significant %s joined to the closest, soonest band).\n", alpha, e.Radius, e.Units(e.Window), e.Cells, plural(e.Cells, "cell", "cells"))
	} else {
		fmt.Fprintf(w, "No near-repeat pattern at alpha %g: the closest, soonest band is not significant.\n", alpha)
	}
}

// writeGeoJSON writes the collection to a temporary file beside path and
// renames it into place, so a failure never leaves half a file.
func writeGeoJSON(path string, fc *geojson.FeatureCollection) error {
	b, err := json.Marshal(fc)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".zones-*.geojson")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
