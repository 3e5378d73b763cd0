package nearrepeat

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/harborough-csp/hotspot/geo"
)

// Incident is one incident as the Knox test sees it: where, in British
// National Grid metres (EPSG:27700), and when.
type Incident struct {
	ID       int64
	X, Y     float64
	Occurred geo.Period
	Category string
}

// Options say how to run the test.
type Options struct {
	Distance DistanceBands
	// Time bands; a zero Unit picks DefaultMonthBands when any incident is
	// known only to the month and DefaultDayBands otherwise.
	Time TimeBands
	// Iterations of the Monte Carlo permutation (default 999).
	Iterations int
	// Seed of the permutations: the same seed and data give the same table.
	Seed uint64
	// MaxPairs bounds the pairs closer than the last distance edge, which
	// are held in memory (12 bytes each); default DefaultMaxPairs.
	MaxPairs int
	// Workers run iterations in parallel (default GOMAXPROCS); the result
	// does not depend on it.
	Workers int
}

// Defaults for Options.
const (
	DefaultIterations = 999
	MaxIterations     = 99_999
	DefaultMaxPairs   = 20_000_000
)

// Errors of the test.
var (
	ErrTooFewIncidents = errors.New("too few incidents for a Knox test")
	ErrTooManyPairs    = errors.New("too many close pairs")
	ErrTimeResolution  = errors.New("time bands finer than the incidents' times")
)

// Cell is one distance band × time band cell of the Knox table.
type Cell struct {
	Observed int64
	// Expected is the mean count over the permutations.
	Expected float64
	// Ratio is Observed / Expected (NaN when Expected is 0).
	Ratio float64
	// P is the pseudo p-value (1 + #{simulated >= observed}) / (1 + n),
	// one-sided: small when there are more close pairs than chance gives.
	P float64
}

// Result is the Knox table with what produced it.
type Result struct {
	Incidents  int
	Pairs      int64 // all pairs, n(n-1)/2
	ClosePairs int   // pairs nearer than the last distance edge
	Distance   DistanceBands
	Time       TimeBands
	Iterations int
	Seed       uint64
	// Cells[d][t] for distance band d and time band t.
	Cells [][]Cell
	// First and Last are the earliest and latest time index (days since
	// 1970-01-01 or months since year 0) among the incidents.
	First, Last int
	Elapsed     time.Duration
}

// MonthOnly reports whether a period is too long to be an exact time (a
// police.uk month, or any window over a day).
func MonthOnly(p geo.Period) bool { return p.To.Sub(p.From) > 24*time.Hour }

// TimeIndex is the period's midpoint as whole days since 1970-01-01 (UTC)
// or as months since year 0 (year*12 + month-1). The midpoint of a
// police.uk month lies inside that month.
func TimeIndex(p geo.Period, u Unit) int {
	mid := p.From.Add(p.To.Sub(p.From) / 2).UTC()
	if u == Months {
		return mid.Year()*12 + int(mid.Month()) - 1
	}
	return int(math.Floor(float64(mid.Unix()) / 86400))
}

// MonthIndexTime turns a month index back into the month's first instant.
func MonthIndexTime(m int) time.Time {
	return time.Date(m/12, time.Month(m%12+1), 1, 0, 0, 0, 0, time.UTC)
}

// DayIndexTime turns a day index back into the day's first instant.
func DayIndexTime(d int) time.Time { return time.Unix(int64(d)*86400, 0).UTC() }

// ChooseTimeBands returns the default bands for these incidents: months
// if any is known only to a span of more than a day, days otherwise.
func ChooseTimeBands(incs []Incident) TimeBands {
	for _, in := range incs {
		if MonthOnly(in.Occurred) {
			return DefaultMonthBands()
		}
	}
	return DefaultDayBands()
}

// checkResolution refuses time bands finer than the incidents' times: with
// days, every incident's span must be at most half the narrowest band (so a
// pair's true separation is off by less than one band width); with months,
// at most 31 days.
func checkResolution(incs []Incident, tb TimeBands) error {
	limit := 31 * 24 * time.Hour
	if tb.Unit == Days {
		narrow := tb.Edges[0]
		for i := 1; i < len(tb.Edges); i++ {
			narrow = min(narrow, tb.Edges[i]-tb.Edges[i-1])
		}
		limit = time.Duration(narrow) * 24 * time.Hour / 2
	}
	bad := 0
	for _, in := range incs {
		if in.Occurred.To.Sub(in.Occurred.From) > limit {
			bad++
		}
	}
	if bad == 0 {
		return nil
	}
	if tb.Unit == Days {
		return fmt.Errorf("%w: %d of %d incidents are known only to a span longer than %g days, half the narrowest band (police.uk gives only the month); use month bands such as 1mo,2mo,4mo", ErrTimeResolution, bad, len(incs), limit.Hours()/24)
	}
	return fmt.Errorf("%w: %d of %d incidents are known only to a span longer than a month", ErrTimeResolution, bad, len(incs))
}

// pair is two incidents closer than the last distance edge, with their
// distance band.
type pair struct {
	i, j int32
	row  int32 // the distance band's offset in the flat table: band × time bands
}

// Knox counts pairs of incidents by distance band × time band and compares
// the counts with those of n random permutations of the incidents' times
// over their places (Knox 1964; the Monte Carlo form of Johnson et al.
// 2007). A cell whose count is rarely reached by chance (small P) with a
// ratio above 1 means incidents close in space are also close in time more
// often than their places and times alone explain: a near-repeat pattern.
//
// Pairs farther apart than the last distance edge are never listed: a
// permutation moves times, not places, so the pairs in each distance band
// stay the same, and the beyond row is the fixed total per time band less
// the close rows. Close pairs are found with a square grid of side the last
// edge, so the work grows with the close pairs, not with n².
func Knox(incs []Incident, opts Options) (*Result, error) {
	start := time.Now()
	if len(incs) < 3 {
		return nil, fmt.Errorf("%w: %d (at least 3 needed)", ErrTooFewIncidents, len(incs))
	}
	if len(incs) > math.MaxInt32 {
		return nil, fmt.Errorf("%w: %d incidents", ErrTooManyPairs, len(incs))
	}
	if opts.Distance.Edges == nil {
		opts.Distance = DefaultDistanceBands()
	}
	if err := opts.Distance.Validate(); err != nil {
		return nil, err
	}
	if opts.Time.Unit == 0 {
		opts.Time = ChooseTimeBands(incs)
	}
	if err := opts.Time.Validate(); err != nil {
		return nil, err
	}
	if err := checkResolution(incs, opts.Time); err != nil {
		return nil, err
	}
	if opts.Iterations == 0 {
		opts.Iterations = DefaultIterations
	}
	if opts.Iterations < 1 || opts.Iterations > MaxIterations {
		return nil, fmt.Errorf("iterations must be 1 to %d, got %d", MaxIterations, opts.Iterations)
	}
	if opts.MaxPairs == 0 {
		opts.MaxPairs = DefaultMaxPairs
	}
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	workers = min(workers, opts.Iterations)

	times := make([]int32, len(incs))
	first, last := math.MaxInt, math.MinInt
	for k, in := range incs {
		t := TimeIndex(in.Occurred, opts.Time.Unit)
		times[k] = int32(t)
		first, last = min(first, t), max(last, t)
	}
	pairs, err := closePairs(incs, opts.Distance, opts.Time.Len(), opts.MaxPairs)
	if err != nil {
		return nil, err
	}

	nd, nt := opts.Distance.Len(), opts.Time.Len()
	// lut maps every possible time difference to its band's offset in
	// the flat table, so the hot loop below has no branch but the sign.
	lut := make([]int32, last-first+1)
	for dt := range lut {
		lut[dt] = int32(opts.Time.Band(dt))
	}
	colTotal := timeBandTotals(times, opts.Time)

	count := func(ts []int32, out []int64) {
		clear(out)
		for _, p := range pairs {
			dt := ts[p.i] - ts[p.j]
			if dt < 0 {
				dt = -dt
			}
			out[p.row+lut[dt]]++
		}
		// The beyond row: every pair in a time band that is not close.
		for t := 0; t < nt; t++ {
			close := int64(0)
			for d := 0; d < nd-1; d++ {
				close += out[d*nt+t]
			}
			out[(nd-1)*nt+t] = colTotal[t] - close
		}
	}

	obs := make([]int64, nd*nt)
	count(times, obs)

	// Each iteration draws its permutation from its own stream, seeded
	// by (Seed, iteration), so the table does not depend on how the
	// iterations are shared among workers.
	type acc struct{ sum, ge []int64 }
	accs := make([]acc, workers)
	var wg sync.WaitGroup
	for w := range workers {
		accs[w] = acc{sum: make([]int64, nd*nt), ge: make([]int64, nd*nt)}
		wg.Add(1)
		go func(a acc) {
			defer wg.Done()
			ts := make([]int32, len(times))
			sim := make([]int64, nd*nt)
			for it := w; it < opts.Iterations; it += workers {
				copy(ts, times)
				r := rand.New(rand.NewPCG(opts.Seed, uint64(it)))
				r.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
				count(ts, sim)
				for k, v := range sim {
					a.sum[k] += v
					if v >= obs[k] {
						a.ge[k]++
					}
				}
			}
		}(accs[w])
	}
	wg.Wait()

	res := &Result{
		Incidents: len(incs), Pairs: int64(len(incs)) * int64(len(incs)-1) / 2, ClosePairs: len(pairs),
		Distance: opts.Distance, Time: opts.Time, Iterations: opts.Iterations, Seed: opts.Seed,
		First: first, Last: last,
	}
	res.Cells = make([][]Cell, nd)
	n := float64(opts.Iterations)
	for d := range nd {
		res.Cells[d] = make([]Cell, nt)
		for t := range nt {
			k := d*nt + t
			var sum, ge int64
			for _, a := range accs {
				sum += a.sum[k]
				ge += a.ge[k]
			}
			c := Cell{Observed: obs[k], Expected: float64(sum) / n, P: float64(1+ge) / (1 + n)}
			c.Ratio = math.NaN()
			if c.Expected > 0 {
				c.Ratio = float64(c.Observed) / c.Expected
			}
			res.Cells[d][t] = c
		}
	}
	res.Elapsed = time.Since(start)
	return res, nil
}

// closePairs lists the pairs nearer than the last distance edge R, using a
// grid of R-sided squares: a close pair lies in one square or in two
// neighbouring ones, so each square is compared with itself and four of
// its eight neighbours (the other four compare with it).
func closePairs(incs []Incident, db DistanceBands, nt, maxPairs int) ([]pair, error) {
	r := db.Edges[len(db.Edges)-1]
	type key struct{ x, y int64 }
	cells := map[key][]int32{}
	for k, in := range incs {
		c := key{int64(math.Floor(in.X / r)), int64(math.Floor(in.Y / r))}
		cells[c] = append(cells[c], int32(k))
	}
	// Walk the squares in a fixed order so the pair list, and so the
	// table, never depends on map order.
	keys := make([]key, 0, len(cells))
	for c := range cells {
		keys = append(keys, c)
	}
	sort.Slice(keys, func(a, b int) bool {
		if keys[a].x != keys[b].x {
			return keys[a].x < keys[b].x
		}
		return keys[a].y < keys[b].y
	})
	r2 := r * r
	var pairs []pair
	add := func(i, j int32) error {
		dx, dy := incs[i].X-incs[j].X, incs[i].Y-incs[j].Y
		d2 := dx*dx + dy*dy
		if d2 >= r2 {
			return nil
		}
		if len(pairs) >= maxPairs {
			return fmt.Errorf("%w: more than %d pairs are within %g m; narrow the dates, the place or the last distance band", ErrTooManyPairs, maxPairs, r)
		}
		pairs = append(pairs, pair{i: i, j: j, row: int32(db.Band(math.Sqrt(d2)) * nt)})
		return nil
	}
	for _, c := range keys {
		own := cells[c]
		for a := range own {
			for b := a + 1; b < len(own); b++ {
				if err := add(own[a], own[b]); err != nil {
					return nil, err
				}
			}
		}
		for _, off := range [4]key{{1, -1}, {1, 0}, {1, 1}, {0, 1}} {
			other := cells[key{c.x + off.x, c.y + off.y}]
			for _, i := range own {
				for _, j := range other {
					if err := add(i, j); err != nil {
						return nil, err
					}
				}
			}
		}
	}
	return pairs, nil
}

// timeBandTotals counts all n(n-1)/2 pairs by time band, from the
// histogram of times: the pairs nearer than the last edge are found by a
// sweep over the sorted distinct times, the rest are beyond.
func timeBandTotals(times []int32, tb TimeBands) []int64 {
	hist := map[int32]int64{}
	for _, t := range times {
		hist[t]++
	}
	vals := make([]int32, 0, len(hist))
	for v := range hist {
		vals = append(vals, v)
	}
	sort.Slice(vals, func(a, b int) bool { return vals[a] < vals[b] })
	out := make([]int64, tb.Len())
	lastEdge := int32(tb.Edges[len(tb.Edges)-1])
	var near int64
	for a, v := range vals {
		c := hist[v]
		out[tb.Band(0)] += c * (c - 1) / 2
		near += c * (c - 1) / 2
		for b := a + 1; b < len(vals) && vals[b]-v < lastEdge; b++ {
			k := c * hist[vals[b]]
			out[tb.Band(int(vals[b]-v))] += k
			near += k
		}
	}
	n := int64(len(times))
	out[tb.Len()-1] += n*(n-1)/2 - near
	return out
}

// Significant reports whether a cell shows more pairs than chance at the
// level alpha.
func (c Cell) Significant(alpha float64) bool {
	return c.P <= alpha && float64(c.Observed) > c.Expected
}
