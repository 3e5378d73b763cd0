package nearrepeat

import (
	"fmt"
	"strings"
	"time"

	"github.com/harborough-csp/hotspot/geo"
)

// Extent is the near-repeat reach a Knox table supports: how far and for
// how long after an incident the risk of another is significantly raised.
type Extent struct {
	// Radius in metres: the upper edge of the farthest distance band with
	// a significant cell. For the same-point band alone it is the first
	// distance edge, since a snapped "same point" stands for anywhere up
	// to the snapping distance.
	Radius float64
	// Window in the time bands' unit: the upper edge of the latest time
	// band with a significant cell.
	Window int
	Unit   Unit
	// Cells is how many cells were significant.
	Cells int
}

// Extent returns the reach of the near-repeat pattern: the significant
// cells (ratio above 1, P at most alpha, the beyond bands left out) that
// are connected, band to adjacent band, to the closest and soonest corner
// of the table (the first time band at the same point or in the first
// distance band). Near-repeat risk decays with distance and time, so a
// lone significant cell far from that corner is more likely one of the
// table's many tests coming up by chance than a pattern, and does not
// stretch the zones. ok is false when the corner itself is not
// significant, and then there are no risk zones.
func (r *Result) Extent(alpha float64) (Extent, bool) {
	e := Extent{Unit: r.Time.Unit}
	nd, nt := r.Distance.Len()-1, r.Time.Len()-1 // without the beyond bands
	sig := func(d, t int) bool { return d >= 0 && d < nd && t >= 0 && t < nt && r.Cells[d][t].Significant(alpha) }
	seen := make([]bool, nd*nt)
	var stack [][2]int
	starts := [][2]int{{0, 0}}
	if r.Distance.SamePoint {
		starts = append(starts, [2]int{1, 0})
	}
	for _, s := range starts {
		if sig(s[0], s[1]) && !seen[s[0]*nt+s[1]] {
			seen[s[0]*nt+s[1]] = true
			stack = append(stack, s)
		}
	}
	for len(stack) > 0 {
		c := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		d, t := c[0], c[1]
		e.Cells++
		rad := r.Distance.Upper(d)
		if r.Distance.SamePoint && d == 0 {
			rad = r.Distance.Edges[0]
		}
		e.Radius = max(e.Radius, rad)
		e.Window = max(e.Window, r.Time.Upper(t))
		for _, n := range [4][2]int{{d - 1, t}, {d + 1, t}, {d, t - 1}, {d, t + 1}} {
			if sig(n[0], n[1]) && !seen[n[0]*nt+n[1]] {
				seen[n[0]*nt+n[1]] = true
				stack = append(stack, n)
			}
		}
	}
	return e, e.Cells > 0
}

// Units names n units: "1 month", "15 days".
func (e Extent) Units(n int) string {
	s := e.Unit.String()
	if n == 1 {
		s = strings.TrimSuffix(s, "s")
	}
	return fmt.Sprintf("%d %s", n, s)
}

// Recent returns the incidents inside the extent's window counted back
// from end (the end of the analysed period): those whose time index is
// within Window units before the index of end's last instant. These are
// the incidents around which a near repeat is still expected.
func (e Extent) Recent(incs []Incident, end time.Time) []Incident {
	last := TimeIndex(geo.Period{From: end.Add(-time.Second), To: end}, e.Unit)
	var out []Incident
	for _, in := range incs {
		t := TimeIndex(in.Occurred, e.Unit)
		if t <= last && t > last-e.Window {
			out = append(out, in)
		}
	}
	return out
}

// Until is when a zone drawn from an incident at time index t stops
// applying: the start of the unit Window units after t.
func (e Extent) Until(t int) time.Time {
	if e.Unit == Months {
		return MonthIndexTime(t + e.Window)
	}
	return DayIndexTime(t + e.Window)
}
