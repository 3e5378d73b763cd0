// Package evaluate is the hotspot accuracy scorecard: how well the hot
// cells of a training period predict where the crimes of a later test
// period happen, for each hotspot method and each of the plan's
// priorities.
//
// Every method picks cells of one hexagon grid in British National Grid
// (geo/hotspot's Grid, sized by its CellSize rule from the training
// incidents of the whole study area) up to a share of the study area:
//
//   - gi*: cells significant in the training period by Getis-Ord Gi* with
//     Benjamini–Hochberg control (geo/hotspot's Confidence at 90% or
//     more, z > 0), highest z first. It may pick fewer cells than the
//     share allows, when fewer are significant; that is the method's
//     answer, not padded out.
//   - kde: the cells whose centres have the highest quartic kernel
//     density of the training incidents (geo/hotspot's Quartic and
//     Bandwidth rule), zero densities never picked.
//   - naive: the cells with the most training incidents, the baseline
//     any method has to beat; cells with none are never picked.
//
// Ties at the cut (common with few incidents: many cells hold one) are
// broken by the grid's cell order (Q, then R), so a run is repeatable; the
// README says how much that matters.
//
// The study area is the cells whose centre lies in the place's outline,
// together with any cell holding one of the place's incidents (a crime by
// the boundary whose cell's centre is just outside still counts). Every
// cell is a whole hexagon, so the area share is cells picked / cells.
//
// The measures, per method and priority, on the test period:
//
//   - hit rate = test incidents in the picked cells / all test incidents;
//   - area share = picked cells / study cells;
//   - PAI, the Predictive Accuracy Index = hit rate / area share (Chainey,
//     Tompson and Uhlig 2008, "The utility of hotspot mapping for
//     predicting spatial patterns of crime", Security Journal 21, 4–28);
//   - RRI, the Recapture Rate Index = (n2 / n1) / (N2 / N1), where n1 and
//     n2 are the training and test incidents in the picked cells and N1 and
//     N2 all training and test incidents (Levine 2008, "The 'hottest' part
//     of a hotspot: comments on 'The utility of hotspot mapping for
//     predicting spatial patterns of crime'", Security Journal 21(4),
//     295–302). RRI above 1 means the picked cells kept more of their
//     share of crime than the area as a whole did; it is undefined when the
//     picked cells held no training incident.
//
// police.uk's points are anonymised map points: every crime snapped to one
// point falls into the same cell, so a cell's count is the count of its
// map points' crimes, and a hit means "the crime's map point is in a
// picked cell".
package evaluate

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/harborough-csp/hotspot/geo/hotspot"
)

// Incident is one incident as the scorecard sees it: a point in British
// National Grid metres and its plan priority (0 when its category has
// none; it still counts in "all").
type Incident struct {
	X, Y     float64
	Priority int
}

// Method is a way of picking hot cells from training incidents.
type Method string

// The methods, in the order the scorecard prints them.
const (
	GiStar Method = "gi*"
	KDE    Method = "kde"
	Naive  Method = "naive"
)

// Methods lists every method.
func Methods() []Method { return []Method{GiStar, KDE, Naive} }

// Study is the grid over a study area: its cells and where each is.
type Study struct {
	Grid  hotspot.Grid
	Cells []hotspot.Cell
	index map[hotspot.Cell]int
}

// NewStudy lays the grid over area (metres, EPSG:27700): the cells whose
// centre is inside it, plus the cells of the given incidents.
func NewStudy(g hotspot.Grid, area orb.MultiPolygon, incs ...[]Incident) *Study {
	s := &Study{Grid: g, index: map[hotspot.Cell]int{}}
	for _, c := range g.CellsIn(area.Bound()) {
		x, y := g.Centre(c)
		if planar.MultiPolygonContains(area, orb.Point{x, y}) {
			s.add(c)
		}
	}
	for _, set := range incs {
		for _, in := range set {
			s.add(g.CellAt(in.X, in.Y))
		}
	}
	// The grid's cell order, whatever order cells were added in.
	slices.SortFunc(s.Cells, func(a, b hotspot.Cell) int {
		return cmp.Or(cmp.Compare(a.Q, b.Q), cmp.Compare(a.R, b.R))
	})
	for i, c := range s.Cells {
		s.index[c] = i
	}
	return s
}

func (s *Study) add(c hotspot.Cell) {
	if _, ok := s.index[c]; !ok {
		s.index[c] = len(s.Cells)
		s.Cells = append(s.Cells, c)
	}
}

// Counts returns the incidents per study cell; incidents outside the study
// cells are not counted and their number is returned as outside.
func (s *Study) Counts(incs []Incident) (counts []float64, outside int) {
	counts = make([]float64, len(s.Cells))
	for _, in := range incs {
		if i, ok := s.index[s.Grid.CellAt(in.X, in.Y)]; ok {
			counts[i]++
		} else {
			outside++
		}
	}
	return counts, outside
}

// Budget is how many cells an area share allows: ⌊share · cells⌋, at
// least one, so no method ever covers more than the share.
func (s *Study) Budget(share float64) int {
	return max(1, int(math.Floor(share*float64(len(s.Cells))+1e-9)))
}

// top returns the indexes of up to k cells with the highest score among
// those eligible, highest first, ties in cell order.
func top(score []float64, eligible func(i int) bool, k int) []int {
	var idx []int
	for i := range score {
		if eligible(i) {
			idx = append(idx, i)
		}
	}
	slices.SortStableFunc(idx, func(a, b int) int { return cmp.Compare(score[b], score[a]) })
	if len(idx) > k {
		idx = idx[:k]
	}
	return idx
}

// PickNaive picks up to k cells with the most training incidents.
func (s *Study) PickNaive(train []float64, k int) []int {
	return top(train, func(i int) bool { return train[i] > 0 }, k)
}

// PickGiStar picks up to k cells that Gi* finds significantly hot in the
// training counts (BH-controlled, 90% or more), highest z first. With no
// variation in the counts (no incidents) it picks nothing.
func (s *Study) PickGiStar(train []float64, k int) ([]int, error) {
	nbrs := s.Grid.Neighbourhoods(s.Cells, s.Grid.DefaultBand())
	z, err := hotspot.GiStar(train, nbrs)
	if errors.Is(err, hotspot.ErrNoVariance) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	conf := hotspot.Confidence(z)
	return top(z, func(i int) bool { return conf[i] >= hotspot.Levels[0] }, k), nil
}

// PickKDE picks up to k cells with the highest quartic kernel density of
// the training incidents at their centres, with the bandwidth from
// geo/hotspot's rule; it returns the bandwidth used.
func (s *Study) PickKDE(train []Incident, k int) ([]int, float64) {
	pts := weighted(train)
	if len(pts) == 0 {
		return nil, 0
	}
	h := hotspot.Bandwidth(pts)
	dens := s.density(pts, h)
	return top(dens, func(i int) bool { return dens[i] > 0 }, k), h
}

// weighted merges incidents at one point (police.uk's map points) into one
// weighted point, in a fixed order.
func weighted(incs []Incident) []hotspot.WeightedPoint {
	w := map[[2]float64]float64{}
	for _, in := range incs {
		w[[2]float64{in.X, in.Y}]++
	}
	pts := make([]hotspot.WeightedPoint, 0, len(w))
	for p, n := range w {
		pts = append(pts, hotspot.WeightedPoint{X: p[0], Y: p[1], Weight: n})
	}
	slices.SortFunc(pts, func(a, b hotspot.WeightedPoint) int { return cmp.Or(cmp.Compare(a.X, b.X), cmp.Compare(a.Y, b.Y)) })
	return pts
}

// density is the kernel density at each study cell's centre. Points are
// bucketed in squares of side h, so each centre looks at nine squares.
func (s *Study) density(pts []hotspot.WeightedPoint, h float64) []float64 {
	type key struct{ x, y int }
	buckets := map[key][]hotspot.WeightedPoint{}
	for _, p := range pts {
		k := key{int(math.Floor(p.X / h)), int(math.Floor(p.Y / h))}
		buckets[k] = append(buckets[k], p)
	}
	out := make([]float64, len(s.Cells))
	for i, c := range s.Cells {
		x, y := s.Grid.Centre(c)
		kx, ky := int(math.Floor(x/h)), int(math.Floor(y/h))
		var d float64
		for dx := -1; dx <= 1; dx++ {
			for dy := -1; dy <= 1; dy++ {
				for _, p := range buckets[key{kx + dx, ky + dy}] {
					d += p.Weight * hotspot.Quartic(math.Hypot(p.X-x, p.Y-y), h)
				}
			}
		}
		out[i] = d
	}
	return out
}

// Score is how one pick did on the test period.
type Score struct {
	Cells      int     // cells picked
	StudyCells int     // cells in the study area
	AreaShare  float64 // Cells / StudyCells
	TrainTotal float64 // N1: training incidents in the study area
	TestTotal  float64 // N2: test incidents in the study area
	TrainIn    float64 // n1: training incidents in the picked cells
	TestIn     float64 // n2: test incidents in the picked cells (hits)
	HitRate    float64 // n2 / N2
	PAI        float64 // HitRate / AreaShare
	RRI        float64 // (n2/n1) / (N2/N1)
}

// Measure scores the picked cells against the training and test counts.
// Measures that divide by zero (no test incidents, nothing picked, no
// training incidents in the picked cells) are NaN.
func Measure(picked []int, train, test []float64) Score {
	s := Score{Cells: len(picked), StudyCells: len(train)}
	for i := range train {
		s.TrainTotal += train[i]
		s.TestTotal += test[i]
	}
	for _, i := range picked {
		s.TrainIn += train[i]
		s.TestIn += test[i]
	}
	s.AreaShare = ratio(float64(s.Cells), float64(s.StudyCells))
	s.HitRate = ratio(s.TestIn, s.TestTotal)
	s.PAI = ratio(s.HitRate, s.AreaShare)
	s.RRI = ratio(ratio(s.TestIn, s.TrainIn), ratio(s.TestTotal, s.TrainTotal))
	return s
}

func ratio(a, b float64) float64 {
	if b == 0 || math.IsNaN(a) || math.IsNaN(b) {
		return math.NaN()
	}
	return a / b
}

// Row is one line of the scorecard: a method on one priority (0 = all).
type Row struct {
	Priority  int
	Method    Method
	Score     Score
	Bandwidth float64 // the KDE's bandwidth in metres (kde rows only)
	// Picked are the cells the method picked, best first.
	Picked []hotspot.Cell
}

// Scorecard runs every method for each priority (0 meaning all incidents)
// on the study's grid and scores it on the test incidents.
func Scorecard(s *Study, train, test []Incident, priorities []int, share float64) ([]Row, error) {
	if len(s.Cells) < 3 {
		return nil, fmt.Errorf("the study area has %d cells; at least 3 needed", len(s.Cells))
	}
	k := s.Budget(share)
	var rows []Row
	for _, p := range priorities {
		tr, te := ofPriority(train, p), ofPriority(test, p)
		trC, _ := s.Counts(tr)
		teC, _ := s.Counts(te)
		for _, m := range Methods() {
			row := Row{Priority: p, Method: m}
			var picked []int
			switch m {
			case GiStar:
				var err error
				if picked, err = s.PickGiStar(trC, k); err != nil {
					return nil, fmt.Errorf("priority %d: %w", p, err)
				}
			case KDE:
				picked, row.Bandwidth = s.PickKDE(tr, k)
			case Naive:
				picked = s.PickNaive(trC, k)
			}
			row.Score = Measure(picked, trC, teC)
			for _, i := range picked {
				row.Picked = append(row.Picked, s.Cells[i])
			}
			rows = append(rows, row)
		}
	}
	return rows, nil
}

func ofPriority(incs []Incident, p int) []Incident {
	if p == 0 {
		return incs
	}
	var out []Incident
	for _, in := range incs {
		if in.Priority == p {
			out = append(out, in)
		}
	}
	return out
}
