package hotspot

import (
	"math"

	"github.com/paulmach/orb"
)

// Cell is one hexagon of a Grid in axial coordinates: Q counts columns
// (eastwards), R the slanted rows. Cells are comparable and usable as map
// keys; the pair is the cell's id for a given grid size.
type Cell struct {
	Q, R int
}

// Grid is a flat-topped hexagon grid in British National Grid metres
// (EPSG:27700) with its origin at the projection's false origin (0, 0), so
// two grids of the same Size share their cells whatever data they were
// built for. Size is the hexagon's edge length, which is also the distance
// from its centre to each corner (PostGIS's ST_HexagonGrid uses the same
// meaning of size).
type Grid struct {
	Size float64
}

var sqrt3 = math.Sqrt(3)

// CellArea is the area of one hexagon in square metres: (3√3/2)·Size².
func (g Grid) CellArea() float64 { return 1.5 * sqrt3 * g.Size * g.Size }

// Spacing is the distance between the centres of two adjacent cells: √3·Size.
func (g Grid) Spacing() float64 { return sqrt3 * g.Size }

// CellAt returns the cell holding the point x, y (metres). Points on a
// shared edge go to one of the two cells deterministically.
func (g Grid) CellAt(x, y float64) Cell {
	// Fractional axial coordinates of a flat-topped grid, then cube rounding.
	q := (2.0 / 3.0 * x) / g.Size
	r := (-1.0/3.0*x + sqrt3/3.0*y) / g.Size
	return cubeRound(q, r)
}

func cubeRound(q, r float64) Cell {
	s := -q - r
	rq, rr, rs := math.Round(q), math.Round(r), math.Round(s)
	dq, dr, ds := math.Abs(rq-q), math.Abs(rr-r), math.Abs(rs-s)
	switch {
	case dq > dr && dq > ds:
		rq = -rr - rs
	case dr > ds:
		rr = -rq - rs
	}
	return Cell{Q: int(rq), R: int(rr)}
}

// Centre returns the centre of cell c in metres.
func (g Grid) Centre(c Cell) (x, y float64) {
	x = g.Size * 1.5 * float64(c.Q)
	y = g.Size * sqrt3 * (float64(c.R) + float64(c.Q)/2)
	return x, y
}

// Polygon returns cell c as a closed ring of six corners, counter-clockwise
// from the east corner, in EPSG:27700 metres.
func (g Grid) Polygon(c Cell) orb.Polygon {
	cx, cy := g.Centre(c)
	ring := make(orb.Ring, 7)
	for i := 0; i < 6; i++ {
		a := math.Pi / 3 * float64(i)
		ring[i] = orb.Point{cx + g.Size*math.Cos(a), cy + g.Size*math.Sin(a)}
	}
	ring[6] = ring[0]
	return orb.Polygon{ring}
}

// Steps returns the number of cell steps between a and b (0 for the same
// cell, 1 for the six adjacent cells).
func Steps(a, b Cell) int {
	dq, dr := a.Q-b.Q, a.R-b.R
	ds := -dq - dr
	return (abs(dq) + abs(dr) + abs(ds)) / 2
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}

// CellsIn returns every cell whose centre lies in the rectangle b (metres),
// in a stable order (by Q, then R). The engine keeps those whose centre
// falls inside a place's outline: that is the study area, empty cells
// included, which Gi* needs.
func (g Grid) CellsIn(b orb.Bound) []Cell {
	q0 := int(math.Floor(b.Min[0]/(1.5*g.Size))) - 1
	q1 := int(math.Ceil(b.Max[0]/(1.5*g.Size))) + 1
	var out []Cell
	for q := q0; q <= q1; q++ {
		r0 := int(math.Floor(b.Min[1]/(sqrt3*g.Size)-float64(q)/2)) - 1
		r1 := int(math.Ceil(b.Max[1]/(sqrt3*g.Size)-float64(q)/2)) + 1
		for r := r0; r <= r1; r++ {
			c := Cell{q, r}
			x, y := g.Centre(c)
			if x >= b.Min[0] && x <= b.Max[0] && y >= b.Min[1] && y <= b.Max[1] {
				out = append(out, c)
			}
		}
	}
	return out
}

// Neighbourhoods returns, for each cell of cells, the indexes (into cells)
// of the cells whose centres lie within band metres of its centre, itself
// included: the fixed distance-band neighbourhood that GiStar takes.
// Cells not in the list (outside the study area) are not neighbours.
func (g Grid) Neighbourhoods(cells []Cell, band float64) [][]int {
	index := make(map[Cell]int, len(cells))
	for i, c := range cells {
		index[c] = i
	}
	k := int(math.Floor(band/g.Spacing())) + 1 // no cell further than k steps can be in the band
	out := make([][]int, len(cells))
	for i, c := range cells {
		cx, cy := g.Centre(c)
		nb := []int{i}
		for dq := -k; dq <= k; dq++ {
			for dr := -k; dr <= k; dr++ {
				if dq == 0 && dr == 0 {
					continue
				}
				d := Cell{c.Q + dq, c.R + dr}
				j, ok := index[d]
				if !ok {
					continue
				}
				x, y := g.Centre(d)
				if math.Hypot(x-cx, y-cy) <= band+1e-9 {
					nb = append(nb, j)
				}
			}
		}
		out[i] = nb
	}
	return out
}

// Cell-size rule bounds (metres of hexagon edge).
const (
	// MinCellSize: police.uk's anonymous map points in Market Harborough
	// town centre lie about 50 m apart; smaller cells would only isolate
	// single snapping points, not find a place.
	MinCellSize = 50.0
	// MaxCellSize: a 500 m hexagon (0.65 km²) is already the size of a
	// village centre; larger ones blur a town's streets into one cell and
	// give a campaign no place to go.
	MaxCellSize = 500.0
	// MinCells: Gi* compares each neighbourhood with the study area's mean
	// and spread, which needs enough cells to estimate; below about 30 the
	// z-scores are not meaningful.
	MinCells = 30
)

// CellSize returns the hexagon edge length for a study area of area square
// metres holding n incidents. The rule:
//
//  1. density: the size at which a cell holds one incident on average,
//     √(area / (n · 3√3/2)), so a typical cell is neither mostly empty nor
//     a lump of the whole place;
//  2. at most the size that still gives MinCells cells in the area,
//     √(area / (MinCells · 3√3/2)), so Gi* has a mean and spread to compare
//     against;
//  3. clamped to [MinCellSize, MaxCellSize]; the lower bound wins over rule
//     2, so a tiny place (Welland Park, 0.08 km²) gets few 50 m cells and
//     the engine reports how many.
//
// Then rounded to a whole 10 m, so a rebuild with slightly more data keeps
// the same grid and its cells stay comparable from run to run. With no
// incidents or no area the answer is MaxCellSize.
//
// Worked cases: the district (593 km², about 5,000 incidents in 12
// months) gives √(593e6/(5000·2.598)) = 214 → 210 m; Market Harborough
// town centre (0.34 km², about 300 incidents) gives 21 m by density, 66 m
// by the MinCells cap, clamped to 50 m.
func CellSize(area float64, n int) float64 {
	if area <= 0 || n <= 0 {
		return MaxCellSize
	}
	hexUnit := 1.5 * sqrt3
	s := math.Sqrt(area / (float64(n) * hexUnit))
	if cap := math.Sqrt(area / (MinCells * hexUnit)); s > cap {
		s = cap
	}
	s = math.Max(MinCellSize, math.Min(MaxCellSize, s))
	return math.Round(s/10) * 10
}

// DefaultBand returns the distance band the engine uses for Gi* on g: each
// cell's own six adjacent cells (centres √3·Size away) and no further, so a
// neighbourhood is the cell and its first ring of seven cells. A ring is
// the smallest band in which every cell has neighbours, and keeps a hot
// spot as small as the grid can show it.
func (g Grid) DefaultBand() float64 { return g.Spacing() * 1.01 }
