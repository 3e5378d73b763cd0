package evaluate_test

import (
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"

	"github.com/paulmach/orb"

	"github.com/harborough-csp/hotspot/geo/hotspot"
	"github.com/harborough-csp/hotspot/geo/hotspot/evaluate"
)

// TestMeasureHandComputed checks hit rate, area share, PAI and RRI on ten
// cells worked by hand.
func TestMeasureHandComputed(t *testing.T) {
	train := []float64{5, 3, 0, 2, 0, 0, 0, 0, 0, 0} // N1 = 10
	test := []float64{4, 1, 1, 0, 2, 0, 0, 0, 0, 0}  // N2 = 8
	tests := []struct {
		picked                         []int
		share, hit, pai, rri, n1, n2   float64
		wantNaNPAI, wantNaNRRI, nopick bool
	}{
		// Cells 0 and 1: n1 = 8, n2 = 5; share 2/10; hit rate 5/8;
		// PAI = 0.625 / 0.2 = 3.125; RRI = (5/8) / (8/10) = 0.78125.
		{picked: []int{0, 1}, share: 0.2, hit: 0.625, pai: 3.125, rri: 0.78125, n1: 8, n2: 5},
		// Cell 4 alone: n1 = 0, n2 = 2: hit rate 2/8, PAI 0.25/0.1 = 2.5,
		// RRI undefined (no training incident in the pick).
		{picked: []int{4}, share: 0.1, hit: 0.25, pai: 2.5, n1: 0, n2: 2, wantNaNRRI: true},
		// Cells 0, 2, 3: n1 = 7, n2 = 5; share 0.3; hit 0.625; PAI
		// 2.0833; RRI (5/7)/(0.8) = 0.892857.
		{picked: []int{0, 2, 3}, share: 0.3, hit: 0.625, pai: 0.625 / 0.3, rri: (5.0 / 7) / 0.8, n1: 7, n2: 5},
		// Nothing picked: no area, PAI undefined.
		{picked: nil, share: 0, hit: 0, n1: 0, n2: 0, wantNaNPAI: true, wantNaNRRI: true},
	}
	near := func(a, b float64) bool { return math.Abs(a-b) < 1e-12 }
	for _, tc := range tests {
		s := evaluate.Measure(tc.picked, train, test)
		if !near(s.AreaShare, tc.share) || !near(s.HitRate, tc.hit) || s.TrainIn != tc.n1 || s.TestIn != tc.n2 ||
			s.TrainTotal != 10 || s.TestTotal != 8 ||
			(tc.wantNaNPAI != math.IsNaN(s.PAI)) || (!tc.wantNaNPAI && !near(s.PAI, tc.pai)) ||
			(tc.wantNaNRRI != math.IsNaN(s.RRI)) || (!tc.wantNaNRRI && !near(s.RRI, tc.rri)) {
			t.Errorf("Measure(%v) = %+v; want share %g, hit %g, PAI %g, RRI %g, n1 %g, n2 %g", tc.picked, s, tc.share, tc.hit, tc.pai, tc.rri, tc.n1, tc.n2)
		}
	}
}

var grid = hotspot.Grid{Size: 100}

// square is a 2 km × 2 km study area.
var square = orb.MultiPolygon{{{{0, 0}, {2000, 0}, {2000, 2000}, {0, 2000}, {0, 0}}}}

// at puts n incidents of priority p at the centre of cell c.
func at(c hotspot.Cell, n, p int) []evaluate.Incident {
	x, y := grid.Centre(c)
	out := make([]evaluate.Incident, n)
	for i := range out {
		out[i] = evaluate.Incident{X: x + float64(i), Y: y, Priority: p}
	}
	return out
}

func concat(sets ...[]evaluate.Incident) []evaluate.Incident {
	var out []evaluate.Incident
	for _, s := range sets {
		out = append(out, s...)
	}
	return out
}

// TestNaiveHandCounted: the naive method picks the cells with most
// training incidents, ties in cell order (Q, then R), never an empty cell.
func TestNaiveHandCounted(t *testing.T) {
	a, b, c, d := hotspot.Cell{Q: 5, R: 3}, hotspot.Cell{Q: 2, R: 6}, hotspot.Cell{Q: 7, R: 1}, hotspot.Cell{Q: 9, R: 2}
	train := concat(at(a, 3, 3), at(c, 2, 3), at(b, 2, 1), at(d, 1, 3))
	s := evaluate.NewStudy(grid, square, train)
	counts, outside := s.Counts(train)
	if outside != 0 {
		t.Fatalf("Counts: %d outside; want 0", outside)
	}
	tests := []struct {
		k    int
		want []hotspot.Cell
	}{
		{1, []hotspot.Cell{a}},
		{2, []hotspot.Cell{a, b}},    // b and c tie at 2; b has the smaller Q
		{3, []hotspot.Cell{a, b, c}}, //
		{4, []hotspot.Cell{a, b, c, d}},
		{10, []hotspot.Cell{a, b, c, d}}, // empty cells are never picked
	}
	for _, tc := range tests {
		var got []hotspot.Cell
		for _, i := range s.PickNaive(counts, tc.k) {
			got = append(got, s.Cells[i])
		}
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("PickNaive(k=%d) = %v; want %v", tc.k, got, tc.want)
		}
	}
	// Through the scorecard: 3 cells' worth of area share, priority 3
	// only (a, c, d: 3, 2, 1), tested on incidents in a and d.
	share := 3 / float64(len(s.Cells))
	test := concat(at(a, 2, 3), at(d, 1, 3), at(b, 4, 1))
	rows, err := evaluate.Scorecard(s, train, test, []int{3}, share)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.Method != evaluate.Naive {
			continue
		}
		if want := []hotspot.Cell{a, c, d}; !reflect.DeepEqual(r.Picked, want) {
			t.Errorf("naive priority 3 picked %v; want %v", r.Picked, want)
		}
		// Hits 3 of 3; area 3/N; PAI = N/3; RRI = (3/6)/(3/6) = 1.
		if sc := r.Score; sc.TestIn != 3 || sc.HitRate != 1 || math.Abs(sc.PAI-float64(len(s.Cells))/3) > 1e-9 || sc.RRI != 1 {
			t.Errorf("naive priority 3 score = %+v; want 3 hits, hit rate 1, PAI %d/3, RRI 1", sc, len(s.Cells))
		}
	}
}

// TestStudyArea: the study is the cells whose centres are in the area plus
// those of outlying incidents, and the budget never exceeds the share.
func TestStudyArea(t *testing.T) {
	s := evaluate.NewStudy(grid, square)
	n := len(s.Cells)
	// 4 km² of hexagons of 25,981 m² each: about 154 centres inside.
	if want := 4e6 / grid.CellArea(); math.Abs(float64(n)-want) > 0.1*want {
		t.Errorf("NewStudy(2 km square) = %d cells; want about %.0f", n, want)
	}
	out := evaluate.NewStudy(grid, square, []evaluate.Incident{{X: -30, Y: 1000}})
	if len(out.Cells) != n+1 && len(out.Cells) != n {
		t.Errorf("NewStudy with an incident by the edge = %d cells; want %d or %d", len(out.Cells), n, n+1)
	}
	if _, outside := out.Counts([]evaluate.Incident{{X: -30, Y: 1000}, {X: 9000, Y: 9000}}); outside != 1 {
		t.Errorf("Counts: %d outside; want 1 (the far one)", outside)
	}
	for _, c := range []struct {
		share float64
		want  int
	}{{0.03, int(0.03 * float64(n))}, {0.0001, 1}, {0.5, n / 2}} {
		if got := s.Budget(c.share); got != c.want {
			t.Errorf("Budget(%g) = %d; want %d", c.share, got, c.want)
		}
	}
}

// TestMethodsFindPlantedHotspot: on a sparse random background with a
// dense cluster, Gi* and KDE both pick the cluster's cell and score
// a PAI well above 1 on a test period drawn the same way; with nothing in
// training, Gi* and KDE pick nothing rather than failing.
func TestMethodsFindPlantedHotspot(t *testing.T) {
	r := rand.New(rand.NewPCG(4, 4))
	hot := hotspot.Cell{Q: 10, R: 5}
	draw := func() []evaluate.Incident {
		var incs []evaluate.Incident
		for range 40 {
			incs = append(incs, evaluate.Incident{X: r.Float64() * 2000, Y: r.Float64() * 2000, Priority: 2})
		}
		hx, hy := grid.Centre(hot)
		for range 30 {
			incs = append(incs, evaluate.Incident{X: hx + r.NormFloat64()*40, Y: hy + r.NormFloat64()*40, Priority: 2})
		}
		return incs
	}
	train, test := draw(), draw()
	s := evaluate.NewStudy(grid, square, train, test)
	rows, err := evaluate.Scorecard(s, train, test, []int{0, 2, 5}, 0.05)
	if err != nil {
		t.Fatal(err)
	}
	for _, row := range rows {
		switch {
		case row.Priority != 5 && row.Method != evaluate.Naive:
			// Gi* scores a cell's neighbourhood, so a cell beside the
			// cluster may rank first; the cluster's cell must be picked.
			if len(row.Picked) == 0 || !slices.Contains(row.Picked, hot) || hotspot.Steps(row.Picked[0], hot) > 1 ||
				(row.Method == evaluate.KDE && row.Picked[0] != hot) {
				t.Errorf("%s priority %d picked %v; want %v (first for kde, among the first ring for gi*)", row.Method, row.Priority, row.Picked, hot)
			}
			if row.Score.PAI < 5 {
				t.Errorf("%s priority %d PAI = %.2f; want well above 1", row.Method, row.Priority, row.Score.PAI)
			}
		case row.Priority == 5:
			if len(row.Picked) != 0 || !math.IsNaN(row.Score.HitRate) {
				t.Errorf("%s priority 5 (no incidents) = %v, %+v; want nothing picked, hit rate NaN", row.Method, row.Picked, row.Score)
			}
		}
		if row.Score.Cells > s.Budget(0.05) {
			t.Errorf("%s picked %d cells; the budget is %d", row.Method, row.Score.Cells, s.Budget(0.05))
		}
	}
}
