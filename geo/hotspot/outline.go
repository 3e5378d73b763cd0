package hotspot

import (
	"sort"

	"github.com/paulmach/orb"
)

// neighbourOffsets are the axial offsets of the six adjacent cells, in the
// order of the edges they share: edge k joins corner k to corner k+1 of
// Polygon's ring (corner 0 is the east corner), so offset k lies across
// edge k.
var neighbourOffsets = [6]Cell{{1, 0}, {0, 1}, {-1, 1}, {-1, 0}, {0, -1}, {1, -1}}

// Adjacent returns the six cells sharing an edge with c.
func Adjacent(c Cell) [6]Cell {
	var out [6]Cell
	for k, o := range neighbourOffsets {
		out[k] = Cell{c.Q + o.Q, c.R + o.R}
	}
	return out
}

// Components splits cells into groups connected through shared edges,
// each group sorted by (Q, R) and the groups by their first cell, so the
// result does not depend on the input's order. Duplicates are ignored.
func Components(cells []Cell) [][]Cell {
	in := make(map[Cell]bool, len(cells))
	for _, c := range cells {
		in[c] = true
	}
	sorted := make([]Cell, 0, len(in))
	for c := range in {
		sorted = append(sorted, c)
	}
	sortCells(sorted)
	seen := make(map[Cell]bool, len(in))
	var out [][]Cell
	for _, start := range sorted {
		if seen[start] {
			continue
		}
		seen[start] = true
		group := []Cell{start}
		for i := 0; i < len(group); i++ {
			for _, d := range Adjacent(group[i]) {
				if in[d] && !seen[d] {
					seen[d] = true
					group = append(group, d)
				}
			}
		}
		sortCells(group)
		out = append(out, group)
	}
	return out
}

func sortCells(cs []Cell) {
	sort.Slice(cs, func(i, j int) bool {
		if cs[i].Q != cs[j].Q {
			return cs[i].Q < cs[j].Q
		}
		return cs[i].R < cs[j].R
	})
}

// vertex is a hexagon corner on the integer lattice 2x/Size, 2y/(√3·Size),
// so corners shared by adjacent cells compare equal exactly.
type vertex struct{ X, Y int }

var cornerDX = [6]int{2, 1, -1, -2, -1, 1}
var cornerDY = [6]int{0, 1, 1, 0, -1, -1}

func corner(c Cell, k int) vertex {
	return vertex{3*c.Q + cornerDX[k], 2*c.R + c.Q + cornerDY[k]}
}

// Outline returns the union of cells as polygons in metres: one polygon
// per connected group (Components), each with its outer ring
// counter-clockwise and any holes (uncovered cells enclosed by the group)
// clockwise. The union is exact: it follows the cells' edges that no other
// cell of the group shares, so it needs no geometry library, and, since
// three hexagons meet at every corner, rings never touch themselves.
func (g Grid) Outline(cells []Cell) orb.MultiPolygon {
	var out orb.MultiPolygon
	for _, group := range Components(cells) {
		out = append(out, g.outline(group))
	}
	return out
}

func (g Grid) outline(group []Cell) orb.Polygon {
	in := make(map[Cell]bool, len(group))
	for _, c := range group {
		in[c] = true
	}
	next := map[vertex]vertex{}
	var starts []vertex
	for _, c := range group {
		for k, o := range neighbourOffsets {
			if in[Cell{c.Q + o.Q, c.R + o.R}] {
				continue
			}
			a, b := corner(c, k), corner(c, (k+1)%6)
			next[a] = b
			starts = append(starts, a)
		}
	}
	var outer orb.Ring
	var holes []orb.Ring
	used := map[vertex]bool{}
	for _, s := range starts {
		if used[s] {
			continue
		}
		var ring orb.Ring
		for v := s; !used[v]; v = next[v] {
			used[v] = true
			ring = append(ring, orb.Point{float64(v.X) * g.Size / 2, float64(v.Y) * g.Size * sqrt3 / 2})
		}
		ring = append(ring, ring[0])
		if ringArea(ring) > 0 {
			outer = ring
		} else {
			holes = append(holes, ring)
		}
	}
	return append(orb.Polygon{outer}, holes...)
}

// ringArea is the signed (shoelace) area: positive counter-clockwise.
func ringArea(r orb.Ring) float64 {
	var a float64
	for i := 0; i+1 < len(r); i++ {
		a += r[i][0]*r[i+1][1] - r[i+1][0]*r[i][1]
	}
	return a / 2
}

// ColumnCells returns the cells of g whose centres lie inside mp (even-odd
// rule over all rings, so holes are excluded), found a column at a time:
// the centres of a column share one x, so each column needs the rings'
// crossings with one vertical line rather than a point-in-polygon test per
// cell. This is how the engine finds a place's study area.
func (g Grid) ColumnCells(mp orb.MultiPolygon) []Cell {
	b := mp.Bound()
	q0 := int(b.Min[0]/(1.5*g.Size)) - 2
	q1 := int(b.Max[0]/(1.5*g.Size)) + 2
	var out []Cell
	var ys []float64
	for q := q0; q <= q1; q++ {
		x := 1.5 * g.Size * float64(q)
		if x < b.Min[0] || x > b.Max[0] {
			continue
		}
		ys = crossings(mp, x, ys[:0])
		for i := 0; i+1 < len(ys); i += 2 {
			// Centres in this column: y = √3·Size·(r + q/2).
			step := sqrt3 * g.Size
			rlo := int(ceilDiv(ys[i], step) - float64(q)/2 - 1)
			for r := rlo; ; r++ {
				y := step * (float64(r) + float64(q)/2)
				if y > ys[i+1] {
					break
				}
				if y >= ys[i] {
					out = append(out, Cell{q, r})
				}
			}
		}
	}
	return out
}

func ceilDiv(a, b float64) float64 {
	v := a / b
	if v == float64(int(v)) {
		return v
	}
	if v > 0 {
		return float64(int(v) + 1)
	}
	return float64(int(v))
}
