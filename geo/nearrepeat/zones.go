package nearrepeat

import (
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

// Extent returns the reach of the significant cells (ratio above 1 and P
// at most alpha, leaving out the beyond bands); ok is false when there is
// none, and then there are no risk zones.
func (r *Result) Extent(alpha float64) (Extent, bool) {
	e := Extent{Unit: r.Time.Unit}
	for d, row := range r.Cells {
		if r.Distance.Beyond(d) {
			continue
		}
		for t, c := range row {
			if r.Time.Beyond(t) || !c.Significant(alpha) {
				continue
			}
			e.Cells++
			rad := r.Distance.Upper(d)
			if r.Distance.SamePoint && d == 0 {
				rad = r.Distance.Edges[0]
			}
			e.Radius = max(e.Radius, rad)
			e.Window = max(e.Window, r.Time.Upper(t))
		}
	}
	return e, e.Cells > 0
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
