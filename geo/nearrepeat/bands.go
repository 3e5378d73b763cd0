package nearrepeat

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Unit is the unit of the time bands: whole days or calendar months.
type Unit int

// Time units. Days need exact (or nearly exact) times; months suit
// police.uk's month-only records.
const (
	Days Unit = iota + 1
	Months
)

func (u Unit) String() string {
	switch u {
	case Days:
		return "days"
	case Months:
		return "months"
	}
	return "unit(" + strconv.Itoa(int(u)) + ")"
}

// SamePointTolerance is the separation, in metres, below which two
// incidents count as being at the same point. police.uk snaps every crime
// to an anonymous map point, so two crimes at one point may really be a
// street apart: the same-point band keeps those pairs out of the first
// distance band, where they would pass for exact neighbours.
const SamePointTolerance = 0.5

// Limits on band lists, to keep the table readable and a typing slip
// (a stray zero) from asking for thousands of bands.
const (
	MaxBands      = 20
	MaxDistanceM  = 100_000 // 100 km: more than any district is wide
	MaxTimeDays   = 3660    // ten years
	MaxTimeMonths = 120     // ten years
	maxFlagLen    = 512
)

// DistanceBands are the distance classes of the Knox table, in metres:
// [0, Edges[0]), [Edges[0], Edges[1]), ..., and [Edges[last], ∞), the
// "beyond" band. With SamePoint, pairs closer than SamePointTolerance get a
// band of their own in front, and the first band starts just above it.
type DistanceBands struct {
	Edges     []float64
	SamePoint bool
}

// TimeBands are the time classes of the Knox table: [0, Edges[0]),
// [Edges[0], Edges[1]), ..., [Edges[last], ∞) whole days or whole
// calendar months apart. With days, 0–14 days is the band [0, 15).
type TimeBands struct {
	Unit  Unit
	Edges []int
}

// DefaultDistanceBands are sized for a rural district. police.uk's map
// points in Harborough are typically 100–300 m apart in the towns and far
// more in the villages, so a first band under 200 m would measure the
// snapping, not the crime. Doubling from there (200, 400, 800, 1600 m)
// covers the range where near-repeat burglary risk is reported (a few
// hundred metres; Townsley et al. 2003, Johnson et al. 2007) and, in the
// 800–1600 m band, a village's whole extent, beyond which pairs are
// "beyond".
func DefaultDistanceBands() DistanceBands {
	return DistanceBands{Edges: []float64{200, 400, 800, 1600}, SamePoint: true}
}

// DefaultDayBands are two-week steps that double: 0–14, 15–28, 29–56 and
// 57–112 days, then beyond. Near-repeat burglary risk is highest in the
// first two weeks and fades over one to two months (Johnson et al. 2007;
// Bowers and Johnson 2004), so the first bands are fine where the signal
// is and coarse where it is not.
func DefaultDayBands() TimeBands {
	return TimeBands{Unit: Days, Edges: []int{15, 29, 57, 113}}
}

// DefaultMonthBands are for month-only records: the same month, the next
// month, 2–3 months apart, then beyond. Two crimes in the same month may
// be 0 to 30 days apart and two in adjacent months 1 to 61 days apart,
// so these are the finest bands that mean anything for such data.
func DefaultMonthBands() TimeBands {
	return TimeBands{Unit: Months, Edges: []int{1, 2, 4}}
}

// ErrBadBands is wrapped by the band parsers' errors.
var ErrBadBands = errors.New("bad band list")

// ParseDistanceBands parses a comma-separated list of ascending upper edges
// in metres, each optionally suffixed "m" or "km": "200,400,800,1600" gives
// the bands 0–200, 200–400, 400–800, 800–1600 m and beyond 1600 m.
func ParseDistanceBands(s string) ([]float64, error) {
	parts, err := splitList(s)
	if err != nil {
		return nil, err
	}
	edges := make([]float64, 0, len(parts))
	for _, p := range parts {
		mult := 1.0
		num := p
		switch {
		case strings.HasSuffix(p, "km"):
			mult, num = 1000, strings.TrimSuffix(p, "km")
		case strings.HasSuffix(p, "m"):
			num = strings.TrimSuffix(p, "m")
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%w: %q is not a distance in metres (e.g. 200 or 1.6km)", ErrBadBands, p)
		}
		v *= mult
		if v <= SamePointTolerance || v > MaxDistanceM {
			return nil, fmt.Errorf("%w: distance %q must be above %g m and at most %d m", ErrBadBands, p, SamePointTolerance, MaxDistanceM)
		}
		if n := len(edges); n > 0 && v <= edges[n-1] {
			return nil, fmt.Errorf("%w: distances must increase, but %q follows %g m", ErrBadBands, p, edges[n-1])
		}
		edges = append(edges, v)
	}
	return edges, nil
}

// ParseTimeBands parses a comma-separated list of ascending upper edges,
// every one with the same unit suffix: "d" for days or "mo" for calendar
// months. "15d,29d,57d" gives 0–14, 15–28 and 29–56 days and beyond;
// "1mo,2mo,4mo" the same month, the next month, 2–3 months and beyond.
func ParseTimeBands(s string) (TimeBands, error) {
	parts, err := splitList(s)
	if err != nil {
		return TimeBands{}, err
	}
	var tb TimeBands
	for _, p := range parts {
		var unit Unit
		var num string
		switch {
		case strings.HasSuffix(p, "mo"):
			unit, num = Months, strings.TrimSuffix(p, "mo")
		case strings.HasSuffix(p, "d"):
			unit, num = Days, strings.TrimSuffix(p, "d")
		default:
			return TimeBands{}, fmt.Errorf("%w: %q needs a unit: d (days) or mo (months), e.g. 15d or 1mo", ErrBadBands, p)
		}
		if tb.Unit != 0 && unit != tb.Unit {
			return TimeBands{}, fmt.Errorf("%w: %q mixes units: every band must be in %s", ErrBadBands, p, tb.Unit)
		}
		tb.Unit = unit
		v, err := strconv.Atoi(strings.TrimSpace(num))
		limit := MaxTimeDays
		if unit == Months {
			limit = MaxTimeMonths
		}
		if err != nil || v < 1 || v > limit {
			return TimeBands{}, fmt.Errorf("%w: %q must be a whole number of %s from 1 to %d", ErrBadBands, p, unit, limit)
		}
		if n := len(tb.Edges); n > 0 && v <= tb.Edges[n-1] {
			return TimeBands{}, fmt.Errorf("%w: times must increase, but %q follows %d", ErrBadBands, p, tb.Edges[n-1])
		}
		tb.Edges = append(tb.Edges, v)
	}
	return tb, nil
}

func splitList(s string) ([]string, error) {
	if len(s) > maxFlagLen {
		return nil, fmt.Errorf("%w: longer than %d characters", ErrBadBands, maxFlagLen)
	}
	s = strings.TrimSpace(strings.ToLower(s))
	if s == "" {
		return nil, fmt.Errorf("%w: empty: give at least one upper edge", ErrBadBands)
	}
	parts := strings.Split(s, ",")
	if len(parts) > MaxBands {
		return nil, fmt.Errorf("%w: %d bands; at most %d", ErrBadBands, len(parts), MaxBands)
	}
	for i, p := range parts {
		parts[i] = strings.TrimSpace(p)
		if parts[i] == "" {
			return nil, fmt.Errorf("%w: an empty item in %q", ErrBadBands, s)
		}
	}
	return parts, nil
}

// Validate checks the bands (as a parser would have produced them).
func (db DistanceBands) Validate() error {
	if len(db.Edges) == 0 || len(db.Edges) > MaxBands {
		return fmt.Errorf("%w: 1 to %d distance edges needed, got %d", ErrBadBands, MaxBands, len(db.Edges))
	}
	prev := SamePointTolerance
	for _, e := range db.Edges {
		if !(e > prev) || e > MaxDistanceM {
			return fmt.Errorf("%w: distance edges must increase from above %g m to at most %d m: %v", ErrBadBands, SamePointTolerance, MaxDistanceM, db.Edges)
		}
		prev = e
	}
	return nil
}

// Validate checks the bands (as a parser would have produced them).
func (tb TimeBands) Validate() error {
	limit := MaxTimeDays
	switch tb.Unit {
	case Days:
	case Months:
		limit = MaxTimeMonths
	default:
		return fmt.Errorf("%w: time unit must be days or months", ErrBadBands)
	}
	if len(tb.Edges) == 0 || len(tb.Edges) > MaxBands {
		return fmt.Errorf("%w: 1 to %d time edges needed, got %d", ErrBadBands, MaxBands, len(tb.Edges))
	}
	prev := 0
	for _, e := range tb.Edges {
		if e <= prev || e > limit {
			return fmt.Errorf("%w: time edges must increase from 1 to at most %d %s: %v", ErrBadBands, limit, tb.Unit, tb.Edges)
		}
		prev = e
	}
	return nil
}

// Len is the number of distance bands, counting the same-point band and
// the beyond band.
func (db DistanceBands) Len() int {
	n := len(db.Edges) + 1
	if db.SamePoint {
		n++
	}
	return n
}

// Band returns the band index of a separation of d metres.
func (db DistanceBands) Band(d float64) int {
	off := 0
	if db.SamePoint {
		if d < SamePointTolerance {
			return 0
		}
		off = 1
	}
	for i, e := range db.Edges {
		if d < e {
			return i + off
		}
	}
	return len(db.Edges) + off
}

// Beyond reports whether band k is the open-ended last band.
func (db DistanceBands) Beyond(k int) bool { return k == db.Len()-1 }

// Upper returns band k's upper edge in metres (+Inf for beyond).
func (db DistanceBands) Upper(k int) float64 {
	if db.SamePoint {
		if k == 0 {
			return SamePointTolerance
		}
		k--
	}
	if k >= len(db.Edges) {
		return math.Inf(1)
	}
	return db.Edges[k]
}

// Label names band k for a table: "same point", "0–200 m", ">=1600 m".
func (db DistanceBands) Label(k int) string {
	if db.SamePoint {
		if k == 0 {
			return "same point"
		}
		k--
	}
	lo := 0.0
	if k > 0 {
		lo = db.Edges[k-1]
	}
	if k >= len(db.Edges) {
		return fmt.Sprintf(">=%s m", num(lo))
	}
	return fmt.Sprintf("%s-%s m", num(lo), num(db.Edges[k]))
}

func num(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

// Len is the number of time bands, counting the beyond band.
func (tb TimeBands) Len() int { return len(tb.Edges) + 1 }

// Band returns the band index of a separation of dt whole units.
func (tb TimeBands) Band(dt int) int {
	for i, e := range tb.Edges {
		if dt < e {
			return i
		}
	}
	return len(tb.Edges)
}

// Beyond reports whether band k is the open-ended last band.
func (tb TimeBands) Beyond(k int) bool { return k == tb.Len()-1 }

// Upper returns band k's exclusive upper edge in units (-1 for beyond).
func (tb TimeBands) Upper(k int) int {
	if k >= len(tb.Edges) {
		return -1
	}
	return tb.Edges[k]
}

// Label names band k: "0-14 d", "same month", "2-3 mo", ">=57 d".
func (tb TimeBands) Label(k int) string {
	lo := 0
	if k > 0 {
		lo = tb.Edges[k-1]
	}
	suffix := " d"
	if tb.Unit == Months {
		suffix = " mo"
	}
	if k >= len(tb.Edges) {
		return fmt.Sprintf(">=%d%s", lo, suffix)
	}
	hi := tb.Edges[k] - 1
	switch {
	case tb.Unit == Months && lo == 0 && hi == 0:
		return "same month"
	case lo == hi:
		return fmt.Sprintf("%d%s", lo, suffix)
	}
	return fmt.Sprintf("%d-%d%s", lo, hi, suffix)
}

// String gives the bands back in the flag's syntax.
func (tb TimeBands) String() string {
	suffix := "d"
	if tb.Unit == Months {
		suffix = "mo"
	}
	s := make([]string, len(tb.Edges))
	for i, e := range tb.Edges {
		s[i] = strconv.Itoa(e) + suffix
	}
	return strings.Join(s, ",")
}

// String gives the edges back in the flag's syntax.
func (db DistanceBands) String() string {
	s := make([]string, len(db.Edges))
	for i, e := range db.Edges {
		s[i] = num(e)
	}
	return strings.Join(s, ",")
}
