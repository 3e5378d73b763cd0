package anon

import "math"

// Candidate is a possible map point: a police.uk street point inside the
// district, in British National Grid metres.
type Candidate struct {
	X, Y float64
}

// Unit is one postcode unit's point in British National Grid metres.
type Unit struct {
	X, Y float64
}

// MapPoint is a surviving candidate and the postcode units it stands for:
// every unit whose nearest surviving candidate it is.
type MapPoint struct {
	// Candidate is the index of the candidate in the slice given to
	// ChooseMapPoints.
	Candidate int
	Units     int
}

// ChooseMapPoints picks the candidates that become map points, so that
// each one stands for at least k postcode units: the units nearer to it
// than to any other map point (its Voronoi cell among the map points).
// Because every incident is later moved to its nearest map point, the
// place an incident really happened lies in its map point's cell, among
// at least k postcode units.
//
// The rule, which the README states in plain words:
//
//  1. Each unit belongs to its nearest candidate.
//  2. While some candidate has fewer than k units, remove the one with
//     the fewest (ties: the earlier in cands) and give each of its units
//     to the nearest remaining candidate. Removing a point never moves a
//     unit away from another point, so only the removed point's units
//     move, and the counts stay exactly the Voronoi counts.
//  3. The survivors, in the order of cands, are the map points.
//
// Ties in distance go to the earlier candidate, so the result depends on
// the input alone. With fewer than k units in all, or no candidates, no
// point can meet the rule and the result is empty.
//
// Cost: O(len(units) × len(cands)) for the first assignment and for the
// units that move; the district (about 1,100 candidates, 2,700 units)
// takes a few milliseconds. A whole force would want a spatial index.
func ChooseMapPoints(cands []Candidate, units []Unit, k int) []MapPoint {
	if len(cands) == 0 || len(units) < k {
		return nil
	}
	alive := make([]bool, len(cands))
	for i := range alive {
		alive[i] = true
	}
	owner := make([]int, len(units))
	members := make([][]int, len(cands))
	for u, p := range units {
		c := nearest(cands, alive, p.X, p.Y)
		owner[u] = c
		members[c] = append(members[c], u)
	}
	left := len(cands)
	for left > 1 {
		worst := -1
		for c := range cands {
			if alive[c] && (worst < 0 || len(members[c]) < len(members[worst])) {
				worst = c
			}
		}
		if len(members[worst]) >= k {
			break
		}
		alive[worst] = false
		left--
		for _, u := range members[worst] {
			c := nearest(cands, alive, units[u].X, units[u].Y)
			owner[u] = c
			members[c] = append(members[c], u)
		}
		members[worst] = nil
	}
	var out []MapPoint
	for c := range cands {
		if alive[c] && len(members[c]) >= k {
			out = append(out, MapPoint{Candidate: c, Units: len(members[c])})
		}
	}
	return out
}

// nearest returns the index of the live candidate nearest to (x, y), the
// earlier one on a tie.
func nearest(cands []Candidate, alive []bool, x, y float64) int {
	best, bestD := -1, math.Inf(1)
	for c, p := range cands {
		if !alive[c] {
			continue
		}
		dx, dy := p.X-x, p.Y-y
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = c, d
		}
	}
	return best
}
