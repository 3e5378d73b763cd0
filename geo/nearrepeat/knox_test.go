package nearrepeat_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/nearrepeat"
)

var day0 = time.Date(2024, 1, 1, 12, 0, 0, 0, time.UTC)

// exact is an incident at x, y metres with an exact time d days after day0.
func exact(id int64, x, y float64, d int) nearrepeat.Incident {
	t := day0.AddDate(0, 0, d)
	return nearrepeat.Incident{ID: id, X: x, Y: y, Occurred: geo.Period{From: t, To: t.Add(time.Second)}, Category: "burglary"}
}

// monthly is an incident at x, y known only to its month, as police.uk
// gives it.
func monthly(id int64, x, y float64, month string) nearrepeat.Incident {
	p, err := geo.ParseMonth(month)
	if err != nil {
		panic(err)
	}
	return nearrepeat.Incident{ID: id, X: x, Y: y, Occurred: p, Category: "burglary"}
}

func observed(r *nearrepeat.Result) [][]int64 {
	out := make([][]int64, len(r.Cells))
	for d, row := range r.Cells {
		out[d] = make([]int64, len(row))
		for t, c := range row {
			out[d][t] = c.Observed
		}
	}
	return out
}

// TestKnoxHandCounted checks the observed table against pairs counted by
// hand on tiny sets.
func TestKnoxHandCounted(t *testing.T) {
	tests := []struct {
		name string
		incs []nearrepeat.Incident
		time nearrepeat.TimeBands
		want [][]int64 // distance rows: same point, 0-200, 200-400, 400-800, 800-1600, >=1600
	}{{
		// Pairs (distance m, days): AB 100,5; AC 0,20; BC 100,15; AD
		// 1000,100; BD 900,95; CD 1000,80; AE 5000,200; BE 4900,195;
		// CE 5000,180; DE 4000,100.
		name: "exact times, day bands",
		incs: []nearrepeat.Incident{
			exact(1, 0, 0, 0), exact(2, 100, 0, 5), exact(3, 0, 0, 20),
			exact(4, 1000, 0, 100), exact(5, 5000, 0, 200),
		},
		time: nearrepeat.DefaultDayBands(), // 0-14, 15-28, 29-56, 57-112, >=113
		want: [][]int64{
			{0, 1, 0, 0, 0},
			{1, 1, 0, 0, 0},
			{0, 0, 0, 0, 0},
			{0, 0, 0, 0, 0},
			{0, 0, 0, 3, 0},
			{0, 0, 0, 1, 3},
		},
	}, {
		// Month differences: AB 0 (same month), AC 1, BC 1, AD 4, BD 4,
		// CD 3. Distances: AB 0 (same point), AC 300, BC 300, AD 500
		// (3-4-5), BD 500, CD 400 (exactly an edge: 400-800).
		name: "month-only, month bands",
		incs: []nearrepeat.Incident{
			monthly(1, 0, 0, "2018-10"), monthly(2, 0, 0, "2018-10"),
			monthly(3, 300, 0, "2018-11"), monthly(4, 300, 400, "2019-02"),
		},
		time: nearrepeat.DefaultMonthBands(), // same month, 1 mo, 2-3 mo, >=4 mo
		want: [][]int64{
			{1, 0, 0, 0},
			{0, 0, 0, 0},
			{0, 2, 0, 0},
			{0, 0, 1, 2},
			{0, 0, 0, 0},
			{0, 0, 0, 0},
		},
	}}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := nearrepeat.Knox(tc.incs, nearrepeat.Options{Time: tc.time, Iterations: 19, Seed: 1})
			if err != nil {
				t.Fatalf("Knox() = %v", err)
			}
			if got := observed(r); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Knox().Observed = %v; want %v", got, tc.want)
			}
			if n := int64(len(tc.incs)); r.Pairs != n*(n-1)/2 {
				t.Errorf("Pairs = %d; want %d", r.Pairs, n*(n-1)/2)
			}
		})
	}
}

// TestKnoxDefaultUnit checks that month-only records get month bands and
// refuse day bands.
func TestKnoxDefaultUnit(t *testing.T) {
	months := []nearrepeat.Incident{monthly(1, 0, 0, "2018-10"), monthly(2, 10, 0, "2018-11"), monthly(3, 20, 0, "2018-12")}
	r, err := nearrepeat.Knox(months, nearrepeat.Options{Iterations: 9})
	if err != nil {
		t.Fatal(err)
	}
	if r.Time.Unit != nearrepeat.Months {
		t.Errorf("Knox(month-only).Time.Unit = %v; want months", r.Time.Unit)
	}
	_, err = nearrepeat.Knox(months, nearrepeat.Options{Time: nearrepeat.DefaultDayBands(), Iterations: 9})
	if !errors.Is(err, nearrepeat.ErrTimeResolution) {
		t.Errorf("Knox(month-only, day bands) = %v; want ErrTimeResolution", err)
	}
	days := []nearrepeat.Incident{exact(1, 0, 0, 0), exact(2, 0, 0, 1), exact(3, 0, 0, 2)}
	if r, err := nearrepeat.Knox(days, nearrepeat.Options{Iterations: 9}); err != nil || r.Time.Unit != nearrepeat.Days {
		t.Errorf("Knox(exact) = %v, %v; want day bands", r, err)
	}
	if _, err := nearrepeat.Knox(days[:2], nearrepeat.Options{}); !errors.Is(err, nearrepeat.ErrTooFewIncidents) {
		t.Errorf("Knox(2 incidents) = %v; want ErrTooFewIncidents", err)
	}
}

// bruteForce is an independent Knox: every pair compared, the same
// permutation streams (seed, iteration) as the package documents.
func bruteForce(incs []nearrepeat.Incident, db nearrepeat.DistanceBands, tb nearrepeat.TimeBands, iters int, seed uint64) (obs []int64, mean []float64, p []float64) {
	nd, nt := db.Len(), tb.Len()
	times := make([]int, len(incs))
	for k, in := range incs {
		times[k] = nearrepeat.TimeIndex(in.Occurred, tb.Unit)
	}
	table := func(ts []int) []int64 {
		out := make([]int64, nd*nt)
		for i := range incs {
			for j := i + 1; j < len(incs); j++ {
				d := math.Hypot(incs[i].X-incs[j].X, incs[i].Y-incs[j].Y)
				dt := ts[i] - ts[j]
				if dt < 0 {
					dt = -dt
				}
				out[db.Band(d)*nt+tb.Band(dt)]++
			}
		}
		return out
	}
	obs = table(times)
	sum, ge := make([]int64, nd*nt), make([]int64, nd*nt)
	for it := range iters {
		ts := append([]int(nil), times...)
		r := rand.New(rand.NewPCG(seed, uint64(it)))
		r.Shuffle(len(ts), func(a, b int) { ts[a], ts[b] = ts[b], ts[a] })
		for k, v := range table(ts) {
			sum[k] += v
			if v >= obs[k] {
				ge[k]++
			}
		}
	}
	mean, p = make([]float64, nd*nt), make([]float64, nd*nt)
	for k := range sum {
		mean[k] = float64(sum[k]) / float64(iters)
		p[k] = float64(1+ge[k]) / float64(1+iters)
	}
	return obs, mean, p
}

// uniform makes n incidents spread evenly over a side×side metre square
// and days days, some of them sharing points as snapped data does.
func uniform(r *rand.Rand, n int, side float64, days int) []nearrepeat.Incident {
	incs := make([]nearrepeat.Incident, 0, n)
	for k := range n {
		if k > 0 && r.IntN(10) == 0 {
			prev := incs[r.IntN(len(incs))]
			incs = append(incs, exact(int64(k), prev.X, prev.Y, r.IntN(days)))
			continue
		}
		incs = append(incs, exact(int64(k), r.Float64()*side, r.Float64()*side, r.IntN(days)))
	}
	return incs
}

// TestKnoxMatchesBruteForce compares the grid-and-permutation table with an
// all-pairs count on random data, cell by cell: observed, expected and p.
func TestKnoxMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	incs := uniform(r, 250, 6000, 200)
	db, tb := nearrepeat.DefaultDistanceBands(), nearrepeat.DefaultDayBands()
	const iters, seed = 49, 42
	res, err := nearrepeat.Knox(incs, nearrepeat.Options{Distance: db, Time: tb, Iterations: iters, Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	obs, mean, p := bruteForce(incs, db, tb, iters, seed)
	nt := tb.Len()
	for d, row := range res.Cells {
		for tt, c := range row {
			k := d*nt + tt
			if c.Observed != obs[k] || math.Abs(c.Expected-mean[k]) > 1e-9 || math.Abs(c.P-p[k]) > 1e-12 {
				t.Errorf("cell %s × %s = obs %d exp %.3f p %.3f; want obs %d exp %.3f p %.3f",
					db.Label(d), tb.Label(tt), c.Observed, c.Expected, c.P, obs[k], mean[k], p[k])
			}
		}
	}
}

// TestKnoxDeterministic: the same seed gives the same table whatever the
// number of workers; another seed gives other expectations.
func TestKnoxDeterministic(t *testing.T) {
	incs := uniform(rand.New(rand.NewPCG(3, 3)), 300, 5000, 120)
	run := func(seed uint64, workers int) *nearrepeat.Result {
		r, err := nearrepeat.Knox(incs, nearrepeat.Options{Iterations: 99, Seed: seed, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a := run(5, 1)
	for _, w := range []int{1, 2, 3, 8} {
		if b := run(5, w); !reflect.DeepEqual(a.Cells, b.Cells) {
			t.Errorf("Knox(seed 5, %d workers) differs from Knox(seed 5, 1 worker)", w)
		}
	}
	if c := run(6, 2); reflect.DeepEqual(a.Cells, c.Cells) {
		t.Errorf("Knox(seed 6) = Knox(seed 5); want different permutations")
	}
}

// planted is a background of uniform burglaries with near repeats planted
// around some of them: each followed by two more within 150 m and 10 days.
func planted(r *rand.Rand, background, seeds int) []nearrepeat.Incident {
	incs := uniform(r, background, 10000, 365)
	id := int64(len(incs))
	for range seeds {
		s := incs[r.IntN(background)]
		sd := int(s.Occurred.From.Sub(day0).Hours() / 24)
		for range 2 {
			ang, dist := r.Float64()*2*math.Pi, 20+r.Float64()*130
			incs = append(incs, exact(id, s.X+dist*math.Cos(ang), s.Y+dist*math.Sin(ang), sd+1+r.IntN(10)))
			id++
		}
	}
	return incs
}

// TestKnoxPlantedPattern: a planted near-repeat pattern is found (the
// 0-200 m, 0-14 day cell significant with a high ratio, and risk zones of
// 200 m and 15 days) and a random pattern is not.
func TestKnoxPlantedPattern(t *testing.T) {
	const alpha = 0.01
	opts := nearrepeat.Options{Iterations: 199, Seed: 11}
	near := func(r *nearrepeat.Result) nearrepeat.Cell { return r.Cells[1][0] } // 0-200 m × 0-14 d

	res, err := nearrepeat.Knox(planted(rand.New(rand.NewPCG(1, 2)), 400, 40), opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := near(res); !c.Significant(alpha) || c.Ratio < 3 || c.P != 1.0/200 {
		t.Errorf("planted: 0-200 m × 0-14 d = obs %d, ratio %.2f, p %.4f; want ratio >= 3, p = 1/200", c.Observed, c.Ratio, c.P)
	}
	e, ok := res.Extent(alpha)
	if !ok || e.Radius != 200 || e.Window != 15 || e.Unit != nearrepeat.Days {
		t.Errorf("planted: Extent(%g) = %+v, %v; want 200 m, 15 days", alpha, e, ok)
	}

	res, err = nearrepeat.Knox(uniform(rand.New(rand.NewPCG(1, 2)), 480, 10000, 365), opts)
	if err != nil {
		t.Fatal(err)
	}
	if c := near(res); c.Significant(0.05) || c.Ratio > 2 {
		t.Errorf("random: 0-200 m × 0-14 d = obs %d, ratio %.2f, p %.4f; want not significant", c.Observed, c.Ratio, c.P)
	}
	for d := 1; d < len(res.Cells)-1; d++ { // the same-point band is ruled by the 10% copies
		for tt := 0; tt < len(res.Cells[d])-1; tt++ {
			if c := res.Cells[d][tt]; c.Significant(0.001) {
				t.Errorf("random: %s × %s significant at 0.001 (obs %d, exp %.1f)", res.Distance.Label(d), res.Time.Label(tt), c.Observed, c.Expected)
			}
		}
	}
}

// TestExtentRecent: the recent incidents are those of the last Window
// units before the end of the period, and a zone lasts Window units from
// its incident.
func TestExtentRecent(t *testing.T) {
	e := nearrepeat.Extent{Radius: 400, Window: 2, Unit: nearrepeat.Months}
	incs := []nearrepeat.Incident{
		monthly(1, 0, 0, "2018-11"), monthly(2, 0, 0, "2018-12"), monthly(3, 0, 0, "2019-01"), monthly(4, 0, 0, "2019-02"),
	}
	end := time.Date(2019, 2, 1, 0, 0, 0, 0, time.UTC) // the period ends with January 2019
	var ids []int64
	for _, in := range e.Recent(incs, end) {
		ids = append(ids, in.ID)
	}
	if !reflect.DeepEqual(ids, []int64{2, 3}) {
		t.Errorf("Recent(..., %s) = %v; want [2 3]", end.Format("2006-01"), ids)
	}
	jan := nearrepeat.TimeIndex(incs[2].Occurred, nearrepeat.Months)
	if got, want := e.Until(jan), time.Date(2019, 3, 1, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Until(2019-01) = %s; want %s", got, want)
	}
}

// BenchmarkKnox times the test with 999 permutations on uniform incidents
// over a district-sized square (25 km × 25 km, a year): 1,000 (about a
// year of Harborough's burglary and vehicle crime) and 10,000. It reports
// the close pairs each permutation recounts.
func BenchmarkKnox(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		incs := uniform(rand.New(rand.NewPCG(9, 9)), n, 25000, 365)
		b.Run(fmt.Sprintf("n=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			var pairs int
			for b.Loop() {
				r, err := nearrepeat.Knox(incs, nearrepeat.Options{Iterations: 999, Seed: 1})
				if err != nil {
					b.Fatal(err)
				}
				pairs = r.ClosePairs
			}
			b.ReportMetric(float64(pairs), "pairs")
		})
	}
}

// TestExtentConnected: the extent follows the significant cells joined to
// the closest, soonest corner, and ignores a lone far cell.
func TestExtentConnected(t *testing.T) {
	const S, N = 0.001, 0.5 // p-values: significant, not
	tests := []struct {
		name   string
		p      [][]float64 // distance rows (same point, 0-200, 200-400, 400-800, 800-1600, beyond) × months (same, 1, 2-3, beyond)
		ok     bool
		radius float64
		window int
		cells  int
	}{
		{"none", [][]float64{{N, N, N, N}, {N, N, N, N}, {N, N, N, N}, {N, N, N, N}, {N, N, N, N}, {S, S, S, S}}, false, 0, 0, 0},
		{"lone far cell", [][]float64{{N, N, N, N}, {N, N, N, N}, {N, N, N, N}, {S, N, N, N}, {N, N, N, N}, {N, N, N, N}}, false, 0, 0, 0},
		{"same point only", [][]float64{{S, N, N, N}, {N, N, N, N}, {N, N, N, N}, {N, N, N, N}, {N, N, N, N}, {N, N, N, N}}, true, 200, 1, 1},
		{"chain", [][]float64{{S, N, N, S}, {S, S, N, N}, {S, N, S, N}, {N, N, N, N}, {S, N, N, N}, {S, N, N, N}}, true, 400, 2, 4},
		{"first band without same point", [][]float64{{N, N, N, N}, {S, N, N, N}, {N, N, N, N}, {N, N, N, N}, {N, N, N, N}, {N, N, N, N}}, true, 200, 1, 1},
	}
	for _, tc := range tests {
		r := &nearrepeat.Result{Distance: nearrepeat.DefaultDistanceBands(), Time: nearrepeat.DefaultMonthBands()}
		for _, row := range tc.p {
			var cells []nearrepeat.Cell
			for _, p := range row {
				cells = append(cells, nearrepeat.Cell{Observed: 10, Expected: 5, Ratio: 2, P: p})
			}
			r.Cells = append(r.Cells, cells)
		}
		e, ok := r.Extent(0.05)
		if ok != tc.ok || e.Radius != tc.radius || e.Window != tc.window || e.Cells != tc.cells {
			t.Errorf("%s: Extent = %+v, %v; want radius %g, window %d, %d cells, %v", tc.name, e, ok, tc.radius, tc.window, tc.cells, tc.ok)
		}
	}
}
