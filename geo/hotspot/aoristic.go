package hotspot

import "time"

// Profile accumulates aoristic weights: each record adds one unit spread
// over the months of the year, weekdays and hours of the day its
// occurrence interval may fall in, in proportion to the time it overlaps
// each. Month[0] is January, Weekday[0] Sunday (time.Weekday), Hour[0] is
// 00:00–00:59.
//
// Records known only to the month (police.uk's) add to Month only: a
// month-long interval says nothing about the weekday or hour, and spreading
// it evenly would only flatten the other records' peaks. The same goes for
// any interval longer than 31 days. Records counts
// every record added, Timed those that also added to Weekday and Hour.
type Profile struct {
	Month   [12]float64
	Weekday [7]float64
	Hour    [24]float64
	Records float64
	Timed   float64
}

// MonthOnly reports whether [from, to) is a whole number of calendar
// months in UTC (from and to both at 00:00 on the 1st), which is how a
// record known only to the month is stored (geo.MonthPeriod).
func MonthOnly(from, to time.Time) bool {
	f, t := from.UTC(), to.UTC()
	start := func(x time.Time) bool {
		return x.Day() == 1 && x.Hour() == 0 && x.Minute() == 0 && x.Second() == 0 && x.Nanosecond() == 0
	}
	return to.After(from) && start(f) && start(t)
}

// Add spreads one record occurring somewhere in [from, to) over the
// profile, reading weekday and hour on the clock of loc (Europe/London for
// Harborough, so a 23:30 BST incident counts at 23, not 22). An empty or
// reversed interval is treated as the instant from. Month-only intervals
// (MonthOnly) add to Month only, each month weighted by its share of the
// interval's duration.
func (p *Profile) Add(from, to time.Time, loc *time.Location) {
	p.Records++
	timed := Spread(from, to, loc, func(month, weekday, hour int, w float64) {
		p.Month[month-1] += w
		if weekday >= 0 {
			p.Weekday[weekday] += w
			p.Hour[hour] += w
		}
	})
	if timed {
		p.Timed++
	}
}

// Spread calls piece for each part of [from, to) lying in one month of the
// year (1-12), weekday (0 = Sunday) and hour on loc's clock, with the
// share w of the interval's duration it covers (the shares sum to 1). For
// a month-only interval (MonthOnly), or one longer than 31 days, weekday
// and hour are -1 and there is one piece per month (UTC months); it then
// returns false ("not timed").
func Spread(from, to time.Time, loc *time.Location, piece func(month, weekday, hour int, w float64)) (timed bool) {
	if loc == nil {
		loc = time.UTC
	}
	if !to.After(from) {
		to = from.Add(time.Nanosecond)
	}
	total := to.Sub(from).Seconds()
	// Whole months, or a span longer than a month, whose weekdays and
	// hours would be all but uniform: months only (and a bounded walk
	// however long the span).
	if MonthOnly(from, to) || to.Sub(from) > 31*24*time.Hour {
		for t := from.UTC(); t.Before(to); {
			next := time.Date(t.Year(), t.Month()+1, 1, 0, 0, 0, 0, time.UTC)
			if next.After(to) {
				next = to
			}
			piece(int(t.Month()), -1, -1, next.Sub(t).Seconds()/total)
			t = next
		}
		return false
	}
	// Walk the interval in local clock hours: each piece lies in one
	// month, weekday and hour.
	t := from.In(loc)
	end := to.In(loc)
	for t.Before(end) {
		next := time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), 0, 0, 0, loc).Add(time.Hour)
		if !next.After(t) { // a DST fold: step an absolute hour
			next = t.Truncate(time.Hour).Add(time.Hour)
		}
		if next.After(end) {
			next = end
		}
		piece(int(t.Month()), int(t.Weekday()), t.Hour(), next.Sub(t).Seconds()/total)
		t = next
	}
	return true
}

// Merge adds q's weights to p.
func (p *Profile) Merge(q Profile) {
	for i := range p.Month {
		p.Month[i] += q.Month[i]
	}
	for i := range p.Weekday {
		p.Weekday[i] += q.Weekday[i]
	}
	for i := range p.Hour {
		p.Hour[i] += q.Hour[i]
	}
	p.Records += q.Records
	p.Timed += q.Timed
}

// Peak returns the index of the largest weight in w, or -1 when all are
// zero. Ties go to the lowest index.
func Peak(w []float64) int {
	best, at := 0.0, -1
	for i, v := range w {
		if v > best+1e-12 {
			best, at = v, i
		}
	}
	return at
}

// PeakMonth returns the peak month (1–12) or 0 without data.
func (p *Profile) PeakMonth() int { return Peak(p.Month[:]) + 1 }

// PeakWeekday returns the peak weekday, or -1 when no timed record was added.
func (p *Profile) PeakWeekday() int { return Peak(p.Weekday[:]) }

// PeakHour returns the peak hour (0–23), or -1 when no timed record was added.
func (p *Profile) PeakHour() int { return Peak(p.Hour[:]) }
