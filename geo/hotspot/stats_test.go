package hotspot

import (
	"math"
	"math/rand/v2"
	"testing"
	"time"
	_ "time/tzdata" // Europe/London on machines without a zoneinfo database

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"
)

func near(a, b, tol float64) bool { return math.Abs(a-b) <= tol }

func TestGridCellAtCentreRoundTrip(t *testing.T) {
	for _, size := range []float64{50, 137.5, 500} {
		g := Grid{Size: size}
		for q := -30; q <= 30; q += 7 {
			for r := -30; r <= 30; r += 5 {
				c := Cell{q, r}
				x, y := g.Centre(c)
				if got := g.CellAt(x, y); got != c {
					t.Errorf("size %v: CellAt(Centre(%v)) = %v; want %v", size, c, got, c)
				}
			}
		}
	}
}

// Every point belongs to the cell whose centre is nearest (the definition
// of a hexagonal tessellation), checked on random points in Harborough.
func TestGridCellAtIsNearestCentre(t *testing.T) {
	g := Grid{Size: 210}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		x, y := 450000+rng.Float64()*30000, 280000+rng.Float64()*30000
		c := g.CellAt(x, y)
		cx, cy := g.Centre(c)
		d := math.Hypot(x-cx, y-cy)
		if d > g.Size+1e-6 {
			t.Fatalf("CellAt(%v,%v) = %v at %v m; want ≤ size %v", x, y, c, d, g.Size)
		}
		for _, o := range []Cell{{c.Q + 1, c.R}, {c.Q - 1, c.R}, {c.Q, c.R + 1}, {c.Q, c.R - 1}, {c.Q + 1, c.R - 1}, {c.Q - 1, c.R + 1}} {
			ox, oy := g.Centre(o)
			if math.Hypot(x-ox, y-oy) < d-1e-6 {
				t.Fatalf("CellAt(%v,%v) = %v but %v is nearer", x, y, c, o)
			}
		}
		if !planar.PolygonContains(g.Polygon(c), orb.Point{x, y}) {
			t.Fatalf("Polygon(CellAt(%v,%v)) does not contain the point", x, y)
		}
	}
}

func TestGridPolygonArea(t *testing.T) {
	g := Grid{Size: 100}
	p := g.Polygon(Cell{3, -2})
	// 3√3/2 · 100² = 25980.76 m²
	if a := planar.Area(p); !near(a, 25980.762, 0.01) || !near(g.CellArea(), 25980.762, 0.01) {
		t.Errorf("area = %v, CellArea = %v; want 25980.762", a, g.CellArea())
	}
	if len(p[0]) != 7 || p[0][0] != p[0][6] {
		t.Errorf("Polygon ring = %v; want 6 corners, closed", p[0])
	}
}

func TestNeighbourhoodsAndSteps(t *testing.T) {
	g := Grid{Size: 100}
	cells := hexagonOf(2) // 19 cells: centre, ring 1 (6), ring 2 (12)
	nb := g.Neighbourhoods(cells, g.DefaultBand())
	sizes := map[int]int{} // ring → neighbourhood size seen
	for i, c := range cells {
		ring := Steps(c, Cell{})
		w := len(nb[i])
		if nb[i][0] != i {
			t.Errorf("neighbourhood of %v does not start with itself", c)
		}
		switch {
		case ring <= 1 && w != 7:
			t.Errorf("ring %d cell %v has %d neighbours; want 7", ring, c, w)
		case ring == 2 && w != 4 && w != 5:
			t.Errorf("ring 2 cell %v has %d neighbours; want 4 (corner) or 5 (edge)", c, w)
		}
		sizes[w]++
		for _, j := range nb[i] {
			if Steps(c, cells[j]) > 1 {
				t.Errorf("%v and %v are %d steps apart but neighbours", c, cells[j], Steps(c, cells[j]))
			}
		}
	}
	// 7 cells of size 7, 6 corners of size 4, 6 edges of size 5.
	if sizes[7] != 7 || sizes[4] != 6 || sizes[5] != 6 {
		t.Errorf("neighbourhood sizes = %v; want 7×7, 6×4, 6×5", sizes)
	}
	// A band of two spacings reaches ring 2 from the centre (and the
	// diagonal cells at 3·Size ≈ 1.73 spacings).
	nb2 := g.Neighbourhoods(cells, 2*g.Spacing()+1e-6)
	if len(nb2[indexOf(cells, Cell{})]) != 19 {
		t.Errorf("band 2 spacings from centre: %d cells; want 19", len(nb2[0]))
	}
}

// hexagonOf returns the cells within k steps of the origin.
func hexagonOf(k int) []Cell {
	var out []Cell
	for q := -k; q <= k; q++ {
		for r := -k; r <= k; r++ {
			if c := (Cell{q, r}); Steps(c, Cell{}) <= k {
				out = append(out, c)
			}
		}
	}
	return out
}

func indexOf(cells []Cell, c Cell) int {
	for i, d := range cells {
		if d == c {
			return i
		}
	}
	return -1
}

func TestCellsIn(t *testing.T) {
	g := Grid{Size: 100}
	b := orb.Bound{Min: orb.Point{1000, 1000}, Max: orb.Point{3000, 2000}}
	cells := g.CellsIn(b)
	// 2 km² / 25,981 m² per cell ≈ 77 cells, give or take the edges.
	if len(cells) < 65 || len(cells) > 90 {
		t.Errorf("CellsIn(2 km²) = %d cells; want about 77", len(cells))
	}
	seen := map[Cell]bool{}
	for _, c := range cells {
		x, y := g.Centre(c)
		if !b.Contains(orb.Point{x, y}) || seen[c] {
			t.Errorf("cell %v (centre %v,%v) outside bound or repeated", c, x, y)
		}
		seen[c] = true
	}
	// Every point of the inner bound lies in a listed cell.
	for x := 1200.0; x <= 2800; x += 37 {
		for y := 1200.0; y <= 1800; y += 41 {
			if !seen[g.CellAt(x, y)] {
				t.Fatalf("point %v,%v's cell %v not listed", x, y, g.CellAt(x, y))
			}
		}
	}
}

func TestCellSize(t *testing.T) {
	tests := []struct {
		area float64
		n    int
		want float64
	}{
		// District: √(593e6 / (5000 · 2.598076)) = 213.6 → 210.
		{593e6, 5000, 210},
		// Town centre: density 21 m, MinCells cap √(0.34e6/(30·2.598)) = 66 m, clamped to 50.
		{0.34e6, 300, 50},
		// A town of 6.23 km² with 400 incidents: √(6.23e6/(400·2.598)) = 77.4 → 80.
		{6.23e6, 400, 80},
		// Sparse: 6.23 km² with 20 incidents: density 346 m, cap √(6.23e6/77.94) = 282.7 → 280.
		{6.23e6, 20, 280},
		// Very sparse district: density 2,675 m, cap 2,758 m, clamped to 500.
		{593e6, 10, 500},
		{0, 10, MaxCellSize},
		{1e6, 0, MaxCellSize},
	}
	for _, tt := range tests {
		if got := CellSize(tt.area, tt.n); got != tt.want {
			t.Errorf("CellSize(%v, %d) = %v; want %v", tt.area, tt.n, got, tt.want)
		}
	}
}

// Gi* on five cells in a line, each a neighbour of the next, by hand:
//
//	x = [1, 2, 10, 2, 1], n = 5
//	Σx = 16, X̄ = 3.2; Σx² = 1+4+100+4+1 = 110; Σx²/n = 22
//	S² = 22 − 3.2² = 22 − 10.24 = 11.76
//	cell 2: neighbourhood {1,2,3}, W = 3, Σwx = 2+10+2 = 14
//	  numerator = 14 − 3.2·3 = 4.4
//	  denominator = S·√((5·3 − 3²)/4) = √(11.76 · 1.5) = √17.64 = 4.2
//	  Gi* = 4.4/4.2 = 1.047619
//	cell 1: {0,1,2}, W = 3, Σwx = 13: (13 − 9.6)/4.2 = 0.809524
//	cell 0: {0,1},   W = 2, Σwx = 3:  (3 − 6.4)/(S·√((10−4)/4)) = −3.4/4.2 = −0.809524
func TestGiStarLine(t *testing.T) {
	x := []float64{1, 2, 10, 2, 1}
	nb := [][]int{{0, 1}, {1, 0, 2}, {2, 1, 3}, {3, 2, 4}, {4, 3}}
	z, err := GiStar(x, nb)
	if err != nil {
		t.Fatal(err)
	}
	want := []float64{-3.4 / 4.2, 3.4 / 4.2, 4.4 / 4.2, 3.4 / 4.2, -3.4 / 4.2}
	for i := range want {
		if !near(z[i], want[i], 1e-9) {
			t.Errorf("Gi*[%d] = %v; want %v", i, z[i], want[i])
		}
	}
}

// Gi* on a real hexagon grid: 19 cells (the origin and two rings), 19
// incidents in the centre cell, none elsewhere, band = one ring:
//
//	n = 19, Σx = 19, X̄ = 1, Σx² = 361, S² = 361/19 − 1 = 18
//	denominator = S·√((n·W − W²)/(n−1)) = √18·√((19W − W²)/18) = √(19W − W²)
//	centre and ring 1 (W = 7, Σwx = 19): (19 − 7)/√(133 − 49) = 12/√84 = 1.309307
//	ring-2 corner (W = 4, Σwx = 0): −4/√(76 − 16) = −4/√60 = −0.516398
//	ring-2 edge   (W = 5, Σwx = 0): −5/√(95 − 25) = −5/√70 = −0.597614
func TestGiStarHexagon(t *testing.T) {
	g := Grid{Size: 100}
	cells := hexagonOf(2)
	x := make([]float64, len(cells))
	x[indexOf(cells, Cell{})] = 19
	nb := g.Neighbourhoods(cells, g.DefaultBand())
	z, err := GiStar(x, nb)
	if err != nil {
		t.Fatal(err)
	}
	for i, c := range cells {
		var want float64
		switch len(nb[i]) {
		case 7:
			want = 12 / math.Sqrt(84)
		case 4:
			want = -4 / math.Sqrt(60)
		case 5:
			want = -5 / math.Sqrt(70)
		}
		if !near(z[i], want, 1e-9) {
			t.Errorf("Gi*(%v, W=%d) = %v; want %v", c, len(nb[i]), z[i], want)
		}
	}
}

func TestGiStarErrors(t *testing.T) {
	if _, err := GiStar([]float64{1, 1, 1, 1}, [][]int{{0}, {1}, {2}, {3}}); err != ErrNoVariance {
		t.Errorf("constant values: err = %v; want ErrNoVariance", err)
	}
	if _, err := GiStar([]float64{1, 2}, [][]int{{0}, {1}}); err != ErrTooFew {
		t.Errorf("two cells: err = %v; want ErrTooFew", err)
	}
	if _, err := GiStar([]float64{1, 2, 3}, [][]int{{1}, {1}, {2}}); err == nil {
		t.Error("neighbourhood without self: no error")
	}
	if _, err := GiStar([]float64{1, 2, 3}, [][]int{{0, 5}, {1}, {2}}); err == nil {
		t.Error("index out of range: no error")
	}
}

func TestPValue(t *testing.T) {
	tests := []struct{ z, p float64 }{
		{0, 1},
		{1.959964, 0.05},
		{-1.959964, 0.05},
		{1.644854, 0.10},
		{2.575829, 0.01},
	}
	for _, tt := range tests {
		if got := PValue(tt.z); !near(got, tt.p, 1e-6) {
			t.Errorf("PValue(%v) = %v; want %v", tt.z, got, tt.p)
		}
	}
}

// The fifteen p-values of Benjamini and Hochberg (1995), section 4.
// At q = 0.05 the critical line k·q/m = k/300: p(4) = 0.0095 ≤ 4/300 =
// 0.0133 but p(5) = 0.0201 > 0.0167, and no later p(k) is under its line
// (p(9) = 0.0459 > 0.03), so the four smallest are discoveries — as in the
// paper, where Bonferroni (0.05/15 = 0.0033) finds only three.
func TestBenjaminiHochbergTextbook(t *testing.T) {
	p := []float64{0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000}
	// Shuffled, to show order does not matter.
	perm := []int{7, 3, 14, 0, 9, 12, 5, 1, 11, 2, 13, 6, 10, 4, 8}
	shuffled := make([]float64, len(p))
	for i, j := range perm {
		shuffled[i] = p[j]
	}
	tests := []struct {
		q      float64
		k      int
		cutoff float64
	}{
		{0.05, 4, 0.0095},
		// q = 0.10: line k/150; p(9) = 0.0459 ≤ 9/150 = 0.06, p(10) = 0.324 > 0.0667.
		{0.10, 9, 0.0459},
		// q = 0.01: line k/1500; p(3) = 0.0019 ≤ 0.002, p(4) = 0.0095 > 0.00267.
		{0.01, 3, 0.0019},
	}
	for _, tt := range tests {
		sig, cut := BenjaminiHochberg(shuffled, tt.q)
		n := 0
		for i, s := range sig {
			if s {
				n++
				if shuffled[i] > tt.cutoff {
					t.Errorf("q=%v: p=%v significant above cutoff %v", tt.q, shuffled[i], tt.cutoff)
				}
			} else if shuffled[i] <= tt.cutoff {
				t.Errorf("q=%v: p=%v not significant at or below cutoff %v", tt.q, shuffled[i], tt.cutoff)
			}
		}
		if n != tt.k || cut != tt.cutoff {
			t.Errorf("BH(q=%v) = %d significant, cutoff %v; want %d, %v", tt.q, n, cut, tt.k, tt.cutoff)
		}
	}
}

// BH rejects all hypotheses up to the largest k under the line, even when
// a smaller rank is above its own line (the step-up property).
func TestBenjaminiHochbergStepUp(t *testing.T) {
	// m = 4, q = 0.2: lines 0.05, 0.10, 0.15, 0.20.
	// p(1) = 0.06 > 0.05 but p(3) = 0.14 ≤ 0.15, so k = 3.
	sig, cut := BenjaminiHochberg([]float64{0.9, 0.06, 0.14, 0.07}, 0.2)
	want := []bool{false, true, true, true}
	for i := range want {
		if sig[i] != want[i] {
			t.Errorf("sig = %v; want %v", sig, want)
			break
		}
	}
	if cut != 0.14 {
		t.Errorf("cutoff = %v; want 0.14", cut)
	}
	if s, c := BenjaminiHochberg(nil, 0.05); len(s) != 0 || c != 0 {
		t.Errorf("BH(nil) = %v, %v; want empty, 0", s, c)
	}
	if s, _ := BenjaminiHochberg([]float64{math.NaN(), 0.001}, 0.05); s[0] || !s[1] {
		t.Errorf("BH with NaN = %v; want [false true]", s)
	}
}

func TestConfidence(t *testing.T) {
	// One test each: BH with m = 1 is the plain test.
	tests := []struct {
		z    float64
		want int
	}{
		{1.5, 0}, {1.7, 90}, {2.0, 95}, {2.6, 99}, {-3, 0},
	}
	for _, tt := range tests {
		if got := Confidence([]float64{tt.z})[0]; got != tt.want {
			t.Errorf("Confidence(%v) = %d; want %d", tt.z, got, tt.want)
		}
	}
	// With 100 tests, z = 2.6 (p = 0.0093) alone among zeros (p = 1):
	// BH's line for rank 1 is q/100, at most 0.1/100 = 0.001 < 0.0093, so
	// the cell that a single test calls 99% hot is not significant at all.
	zs := make([]float64, 100)
	zs[0] = 2.6
	if got := Confidence(zs)[0]; got != 0 {
		t.Errorf("Confidence(2.6 among 100) = %d; want 0 (FDR)", got)
	}
	zs[0] = 4.0 // p = 6.3e-5 < 0.01/100 = 1e-4
	if got := Confidence(zs)[0]; got != 99 {
		t.Errorf("Confidence(4.0 among 100) = %d; want 99", got)
	}
}

func TestQuartic(t *testing.T) {
	h := 200.0
	if got, want := Quartic(0, h), 3/(math.Pi*h*h); !near(got, want, 1e-15) {
		t.Errorf("Quartic(0) = %v; want %v", got, want)
	}
	// d = h/2: (1 − 1/4)² = 9/16 of the peak.
	if got, want := Quartic(100, h), 3/(math.Pi*h*h)*9/16; !near(got, want, 1e-15) {
		t.Errorf("Quartic(h/2) = %v; want %v", got, want)
	}
	if Quartic(h, h) != 0 || Quartic(250, h) != 0 {
		t.Error("Quartic at or beyond h is not 0")
	}
}

func TestKDESymmetric(t *testing.T) {
	// One point of weight 5 at the centre of a 2 km square: the raster is
	// symmetric under reflection in both axes and integrates to 5.
	b := orb.Bound{Min: orb.Point{0, 0}, Max: orb.Point{2000, 2000}}
	h := 400.0
	r := KDE([]WeightedPoint{{1000, 1000, 5}}, h, RasterCell(h), b)
	if r.Cols != 25 || r.Rows != 25 {
		t.Fatalf("raster %d×%d; want 25×25", r.Cols, r.Rows)
	}
	var sum float64
	for j := 0; j < r.Rows; j++ {
		for i := 0; i < r.Cols; i++ {
			v := r.Density[j*r.Cols+i]
			sum += v
			for _, m := range [][2]int{{r.Cols - 1 - i, j}, {i, r.Rows - 1 - j}, {j, i}} {
				if w := r.Density[m[1]*r.Cols+m[0]]; !near(v, w, 1e-15) {
					t.Fatalf("density(%d,%d) = %v but mirror (%d,%d) = %v", i, j, v, m[0], m[1], w)
				}
			}
		}
	}
	if got := sum * r.Cell * r.Cell; !near(got, 5, 0.05) {
		t.Errorf("∑density·area = %v; want 5", got)
	}
	// Two equal points mirrored about x = 1000: the density is mirrored
	// too, and its maxima are at the two points' cells.
	r2 := KDE([]WeightedPoint{{700, 1000, 1}, {1300, 1000, 1}}, h, 80, b)
	for j := 0; j < r2.Rows; j++ {
		for i := 0; i < r2.Cols; i++ {
			if v, w := r2.Density[j*r2.Cols+i], r2.Density[j*r2.Cols+r2.Cols-1-i]; !near(v, w, 1e-15) {
				t.Fatalf("two points: density(%d,%d) = %v, mirror %v", i, j, v, w)
			}
		}
	}
	// The centre pixel (1000±40) is 300 m from each point: 2·K(300).
	if got, want := r2.Density[12*r2.Cols+12], 2*Quartic(300, h); !near(got, want, 1e-15) {
		t.Errorf("density midway = %v; want 2·K(300) = %v", got, want)
	}
}

func TestBandwidth(t *testing.T) {
	ring := func(d float64) []WeightedPoint {
		return []WeightedPoint{{d, 0, 1}, {-d, 0, 1}, {0, d, 1}, {0, -d, 1}}
	}
	// Four points 1,000 m from their mean centre: SD = Dm = 1000;
	// min(1000, 1.2011·1000) = 1000; h = 0.9·1000·4^(−0.2) = 682.07.
	if got := Bandwidth(ring(1000)); !near(got, 0.9*1000*math.Pow(4, -0.2), 1e-9) {
		t.Errorf("Bandwidth(ring 1000) = %v; want 682.07", got)
	}
	if got := Bandwidth(ring(100)); got != MinBandwidth {
		t.Errorf("Bandwidth(ring 100) = %v; want the floor %v", got, MinBandwidth)
	}
	if got := Bandwidth(ring(50000)); got != MaxBandwidth {
		t.Errorf("Bandwidth(ring 50 km) = %v; want the ceiling %v", got, MaxBandwidth)
	}
	if got := Bandwidth(nil); got != MinBandwidth {
		t.Errorf("Bandwidth(nil) = %v; want %v", got, MinBandwidth)
	}
	// Weight 2 on one point is the same as that point twice.
	a := Bandwidth([]WeightedPoint{{0, 0, 2}, {3000, 0, 1}, {0, 2500, 1}})
	b := Bandwidth([]WeightedPoint{{0, 0, 1}, {0, 0, 1}, {3000, 0, 1}, {0, 2500, 1}})
	if !near(a, b, 1e-9) {
		t.Errorf("weighted %v != repeated %v", a, b)
	}
}

func TestTopShareThreshold(t *testing.T) {
	r := Raster{Cols: 5, Rows: 2, Cell: 1, Density: []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}}
	tests := []struct {
		share float64
		want  float64
	}{
		{0.3, 8},  // k = ⌈3⌉ = 3rd highest of 10
		{0.25, 8}, // ⌈2.5⌉ = 3
		{0.01, 10},
		{1, 1},
	}
	for _, tt := range tests {
		if got, ok := r.TopShareThreshold(tt.share, nil); !ok || got != tt.want {
			t.Errorf("TopShareThreshold(%v) = %v, %v; want %v", tt.share, got, ok, tt.want)
		}
	}
	// Only the first row is the study area: 1..5, top 40% = 2 cells → 4.
	got, _ := r.TopShareThreshold(0.4, func(i, j int) bool { return j == 0 })
	if got != 4 {
		t.Errorf("threshold in row 0 = %v; want 4", got)
	}
	// Mostly empty: the threshold never drops to 0.
	z := Raster{Cols: 4, Rows: 1, Density: []float64{0, 0, 3, 0}}
	if got, ok := z.TopShareThreshold(0.9, nil); !ok || got != 3 {
		t.Errorf("sparse threshold = %v, %v; want 3, true", got, ok)
	}
	if _, ok := (Raster{Cols: 2, Rows: 1, Density: []float64{0, 0}}).TopShareThreshold(0.5, nil); ok {
		t.Error("empty raster: ok = true")
	}
}

func TestAoristic(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Fatal(err)
	}
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	type w struct {
		month, weekday, hour map[int]float64
		timed                bool
	}
	tests := []struct {
		name     string
		from, to string
		loc      *time.Location
		want     w
	}{
		{"month only", "2024-01-01T00:00:00Z", "2024-02-01T00:00:00Z", time.UTC,
			w{month: map[int]float64{0: 1}}},
		// January 31 days, February 29 (2024): 31/60 and 29/60.
		{"two months", "2024-01-01T00:00:00Z", "2024-03-01T00:00:00Z", time.UTC,
			w{month: map[int]float64{0: 31.0 / 60, 1: 29.0 / 60}}},
		// Monday 10:00–12:00: half in hour 10, half in 11.
		{"two hours", "2024-01-08T10:00:00Z", "2024-01-08T12:00:00Z", time.UTC,
			w{month: map[int]float64{0: 1}, weekday: map[int]float64{1: 1}, hour: map[int]float64{10: 0.5, 11: 0.5}, timed: true}},
		// Sunday 23:00 to Monday 01:00, across a month end too.
		{"midnight", "2024-03-31T23:00:00Z", "2024-04-01T01:00:00Z", time.UTC,
			w{month: map[int]float64{2: 0.5, 3: 0.5}, weekday: map[int]float64{0: 0.5, 1: 0.5}, hour: map[int]float64{23: 0.5, 0: 0.5}, timed: true}},
		// 22:30–23:30 UTC on Monday 1 July 2024 is 23:30–00:30 BST.
		{"london clock", "2024-07-01T22:30:00Z", "2024-07-01T23:30:00Z", london,
			w{month: map[int]float64{6: 1}, weekday: map[int]float64{1: 0.5, 2: 0.5}, hour: map[int]float64{23: 0.5, 0: 0.5}, timed: true}},
		// An exact timestamp (one second) lands wholly in its hour.
		{"instant", "2024-02-14T18:45:10Z", "2024-02-14T18:45:11Z", time.UTC,
			w{month: map[int]float64{1: 1}, weekday: map[int]float64{3: 1}, hour: map[int]float64{18: 1}, timed: true}},
		// 40 days from 20 January 12:00: 11.5 days in January, 28.5 in
		// February; longer than 31 days, so months only.
		{"forty days", "2024-01-20T12:00:00Z", "2024-02-29T12:00:00Z", time.UTC,
			w{month: map[int]float64{0: 11.5 / 40, 1: 28.5 / 40}}},
		// 15 minutes in hour 9 and 45 in hour 10: a quarter and three quarters.
		{"uneven", "2024-02-14T09:45:00Z", "2024-02-14T10:45:00Z", time.UTC,
			w{month: map[int]float64{1: 1}, weekday: map[int]float64{3: 1}, hour: map[int]float64{9: 0.25, 10: 0.75}, timed: true}},
	}
	check := func(t *testing.T, what string, got []float64, want map[int]float64) {
		for i, v := range got {
			if !near(v, want[i], 1e-9) {
				t.Errorf("%s[%d] = %v; want %v", what, i, v, want[i])
			}
		}
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var p Profile
			p.Add(utc(tt.from), utc(tt.to), tt.loc)
			check(t, "Month", p.Month[:], tt.want.month)
			check(t, "Weekday", p.Weekday[:], tt.want.weekday)
			check(t, "Hour", p.Hour[:], tt.want.hour)
			if p.Records != 1 || (p.Timed == 1) != tt.want.timed {
				t.Errorf("Records, Timed = %v, %v; want 1, timed %v", p.Records, p.Timed, tt.want.timed)
			}
		})
	}
}

func TestProfilePeaks(t *testing.T) {
	var p Profile
	if p.PeakMonth() != 0 || p.PeakWeekday() != -1 || p.PeakHour() != -1 {
		t.Errorf("empty peaks = %d %d %d; want 0 -1 -1", p.PeakMonth(), p.PeakWeekday(), p.PeakHour())
	}
	jan := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for range 3 {
		p.Add(jan.AddDate(0, 5, 0), jan.AddDate(0, 6, 0), time.UTC) // June, month only
	}
	fri := time.Date(2024, 1, 5, 22, 10, 0, 0, time.UTC)
	var q Profile
	q.Add(fri, fri.Add(time.Second), time.UTC)
	p.Merge(q)
	if p.PeakMonth() != 6 || p.PeakWeekday() != int(time.Friday) || p.PeakHour() != 22 {
		t.Errorf("peaks = %d %d %d; want 6 5 22", p.PeakMonth(), p.PeakWeekday(), p.PeakHour())
	}
	if p.Records != 4 || p.Timed != 1 {
		t.Errorf("Records, Timed = %v, %v; want 4, 1", p.Records, p.Timed)
	}
}

// FuzzCellAt checks, for any point and size, that CellAt picks a cell
// whose centre is within Size of the point (no point falls between cells).
func FuzzCellAt(f *testing.F) {
	f.Add(452000.0, 287000.0, 210.0)
	f.Add(0.0, 0.0, 50.0)
	f.Add(-1e6, 3e6, 499.9)
	f.Fuzz(func(t *testing.T, x, y, size float64) {
		if math.IsNaN(x) || math.IsNaN(y) || math.IsNaN(size) || math.Abs(x) > 1e7 || math.Abs(y) > 1e7 || size < 1 || size > 1e4 {
			return
		}
		g := Grid{Size: size}
		cx, cy := g.Centre(g.CellAt(x, y))
		if d := math.Hypot(x-cx, y-cy); d > size*(1+1e-9) {
			t.Fatalf("CellAt(%v, %v) centre %v m away; size %v", x, y, d, size)
		}
	})
}

func TestComponentsAndOutline(t *testing.T) {
	g := Grid{Size: 100}
	// Ring 1 around the origin (a hole in the middle) plus a far cell.
	var cells []Cell
	for _, c := range hexagonOf(1) {
		if c != (Cell{}) {
			cells = append(cells, c)
		}
	}
	cells = append(cells, Cell{10, 10}, Cell{10, 10})
	groups := Components(cells)
	if len(groups) != 2 || len(groups[0]) != 6 || len(groups[1]) != 1 {
		t.Fatalf("Components = %v; want a ring of 6 and a single cell", groups)
	}
	mp := g.Outline(cells)
	if len(mp) != 2 {
		t.Fatalf("Outline = %d polygons; want 2", len(mp))
	}
	ringPoly := mp[0]
	// Outer boundary of ring 1: 18 edges; the hole is the centre cell's 6.
	if len(ringPoly) != 2 || len(ringPoly[0]) != 19 || len(ringPoly[1]) != 7 {
		t.Fatalf("ring outline has rings of %d and %d points; want 19 and 7", len(ringPoly[0]), len(ringPoly[1]))
	}
	// Area = 6 cells exactly (7 cells' outer minus the hole).
	if a := planar.Area(ringPoly); !near(a, 6*g.CellArea(), 1e-6) {
		t.Errorf("ring area = %v; want %v", a, 6*g.CellArea())
	}
	if planar.PolygonContains(ringPoly, orb.Point{0, 0}) {
		t.Error("the hole's centre is inside the outline")
	}
	if ringArea(ringPoly[0]) <= 0 || ringArea(ringPoly[1]) >= 0 {
		t.Error("outer ring not counter-clockwise or hole not clockwise")
	}
	// The single cell's outline is the cell's own hexagon.
	if a := planar.Area(mp[1]); !near(a, g.CellArea(), 1e-6) {
		t.Errorf("single cell area = %v; want %v", a, g.CellArea())
	}
}

func TestColumnCells(t *testing.T) {
	g := Grid{Size: 50}
	// A 1 km square with a 400 m square hole.
	sq := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	mp := orb.MultiPolygon{{sq(450000, 280000, 451000, 281000), sq(450300, 280300, 450700, 280700)}}
	got := g.ColumnCells(mp)
	want := map[Cell]bool{}
	for _, c := range g.CellsIn(mp.Bound()) {
		x, y := g.Centre(c)
		if planar.MultiPolygonContains(mp, orb.Point{x, y}) {
			want[c] = true
		}
	}
	if len(got) != len(want) {
		t.Fatalf("ColumnCells = %d cells; want %d (point-in-polygon)", len(got), len(want))
	}
	for _, c := range got {
		if !want[c] {
			t.Errorf("ColumnCells gave %v, not inside", c)
		}
	}
}

// BHCutoffs agrees with BenjaminiHochberg on the textbook list.
func TestBHCutoffs(t *testing.T) {
	p := []float64{0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344, 0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.000}
	got := BHCutoffs(p, []int{90, 95, 99})
	want := []float64{0.0459, 0.0095, 0.0019}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("BHCutoffs = %v; want %v", got, want)
		}
	}
	if got := BHCutoffs([]float64{0.5, 0.9}, []int{95}); got[0] != -1 {
		t.Errorf("BHCutoffs(nothing significant) = %v; want -1", got)
	}
	if got := BHCutoffs([]float64{0, 0.9}, []int{95}); got[0] != 0 {
		t.Errorf("BHCutoffs(p = 0) = %v; want 0", got)
	}
}

// Outline agrees with orb's point-in-polygon on random points around a
// polygon with a hole and a second part.
func TestOutlineContains(t *testing.T) {
	sq := func(x0, y0, x1, y1 float64) orb.Ring {
		return orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}
	}
	star := orb.Ring{}
	for k := 0; k <= 40; k++ {
		a := 2 * math.Pi * float64(k%40) / 40
		r := 800.0
		if k%2 == 1 {
			r = 300
		}
		star = append(star, orb.Point{5000 + r*math.Cos(a), 5000 + r*math.Sin(a)})
	}
	mp := orb.MultiPolygon{{sq(0, 0, 3000, 3000), sq(1000, 1000, 2000, 2000)}, {star}}
	o := NewOutline(mp)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 50000 {
		x, y := -500+rng.Float64()*7000, -500+rng.Float64()*7000
		if got, want := o.Contains(x, y), planar.MultiPolygonContains(mp, orb.Point{x, y}); got != want {
			t.Fatalf("Contains(%v, %v) = %v; want %v", x, y, got, want)
		}
	}
}
