package ingest

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // Europe/London must resolve on a machine without tzdata

	"github.com/harborough-csp/hotspot/geo"
)

// ErrBadDate is wrapped by the date parsers' errors.
var ErrBadDate = errors.New("bad date")

// London is the zone partners' local times are read in. time/tzdata is
// linked in, so it loads on any machine.
var London = mustZone("Europe/London")

func mustZone(name string) *time.Location {
	l, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return l
}

// maxDateText bounds the text a date field may hold; longer text is
// refused before any pattern runs.
const maxDateText = 80

// precision is how much of a moment a text gave.
type precision int

const (
	precMonth precision = iota + 1
	precDay
	precMinute
	precSecond
)

// moment is a parsed date and optional time, before it becomes a period.
type moment struct {
	y, mo, d  int
	h, mi, s  int
	prec      precision
	zone      *time.Location // nil: London
	hasDate   bool           // false for a bare time ("02:00")
	endOfSpan bool
	isoT      bool // an ISO date and T before the time: a "-01:00" after it is a zone, not a span
}

var monthNames = map[string]int{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8,
	"sep": 9, "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
	"dec": 12, "december": 12,
}

const monthRE = `(jan|january|feb|february|mar|march|apr|april|may|jun|june|jul|july|aug|august|sep|sept|september|oct|october|nov|november|dec|december)\.?`

var (
	weekdayRE = regexp.MustCompile(`^(mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)[a-z]*\.?,?\s+`)
	isoDateRE = regexp.MustCompile(`^(\d{4})-(\d{1,2})-(\d{1,2})`)
	ukDateRE  = regexp.MustCompile(`^(\d{1,2})([/.\-])(\d{1,2})([/.\-])(\d{4}|\d{2})\b`)
	dmyNameRE = regexp.MustCompile(`^(\d{1,2})(?:st|nd|rd|th)?[\s\-]+` + monthRE + `[\s,\-]+(\d{4}|\d{2})\b`)
	mdyNameRE = regexp.MustCompile(`^` + monthRE + `\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})\b`)
	monthYRE  = regexp.MustCompile(`^` + monthRE + `[\s,\-]+(\d{4})$`)
	isoMonRE  = regexp.MustCompile(`^(\d{4})-(\d{1,2})$`)
	ukMonRE   = regexp.MustCompile(`^(\d{1,2})/(\d{4})$`)
	timeRE    = regexp.MustCompile(`^(\d{1,2})[:.](\d{2})(?:[:.](\d{2})(?:\.\d+)?)?\s*(am|pm|a\.m\.|p\.m\.)?`)
	hourAmRE  = regexp.MustCompile(`^(\d{1,2})\s*(am|pm|a\.m\.|p\.m\.)`)
	zoneRE    = regexp.MustCompile(`^(z|utc|gmt|[+\-]\d{2}:?\d{2})`)
	rangeRE   = regexp.MustCompile(`^\s*(-|–|—|to|until|till)\s*`)
	sepRE     = regexp.MustCompile(`^(\s*,\s*|\s+at\s+|\s+|t)`)
)

// ParseOccurred reads the one "occurred at" field of a partner record
// into the period it covers, in the forms people type (UK order, day
// first, never US):
//
//	2026-03-14, 14/03/2026, 14/3/26, 14-03-2026, 14.03.2026, 14 Mar 2026,
//	14th March 2026, Sat 14 March 2026, March 14, 2026       a whole day
//	... with 14:05, 14.05, 2pm, 2:30 pm, 14:05:30, noon       that minute (second)
//	2026-03-14T14:05:00Z, 2026-03-14T14:05+01:00              an explicit zone
//	14/03/2026 22:00-02:00, 14/03/2026 22:00 to 15/03/2026 02:00  a span (overnight
//	                                                          when the end is earlier)
//	March 2026, Mar-2026, 2026-03, 03/2026                    the whole month
//
// Local times are UK local time (GMT or BST, Europe/London). A two-digit
// year is 20yy. A day or month out of range ("03/14/2026", US order) is an
// error saying dates are day first.
func ParseOccurred(s string) (geo.Period, error) {
	t, err := cleanDate(s)
	if err != nil {
		return geo.Period{}, err
	}
	t = timeFirst(t)
	first, rest, err := parseMoment(t, false)
	if err != nil {
		return geo.Period{}, err
	}
	if !first.hasDate {
		return geo.Period{}, fmt.Errorf("%w: %s has a time but no date", ErrBadDate, quoteForReason(s))
	}
	from, to, err := first.period()
	if err != nil {
		return geo.Period{}, err
	}
	if rest == "" {
		return geo.Period{From: from, To: to}, nil
	}
	m := rangeRE.FindStringSubmatch(rest)
	if m == nil {
		return geo.Period{}, fmt.Errorf("%w: %s: cannot read %s", ErrBadDate, quoteForReason(s), quoteForReason(rest))
	}
	second, rest2, err := parseMoment(rest[len(m[0]):], true)
	if err != nil {
		return geo.Period{}, err
	}
	if rest2 != "" {
		return geo.Period{}, fmt.Errorf("%w: %s: cannot read %s", ErrBadDate, quoteForReason(s), quoteForReason(rest2))
	}
	end, err := endOf(first, second)
	if err != nil {
		return geo.Period{}, fmt.Errorf("%w (in %s)", err, quoteForReason(s))
	}
	if !end.After(from) {
		return geo.Period{}, fmt.Errorf("%w: %s ends before it starts", ErrBadDate, quoteForReason(s))
	}
	return geo.Period{From: from, To: end}, nil
}

// ParseOccurredRange reads a record's occurred_from and occurred_to
// fields. from is read as ParseOccurred reads a field; to is the end: a
// date alone means the end of that day, a time that moment, and a bare
// time ("02:00") is on from's day, or the next day when it is earlier
// (overnight). Either may be empty, but not both: an empty to means the
// span from gives; an empty from is an error.
func ParseOccurredRange(fromText, toText string) (geo.Period, error) {
	if strings.TrimSpace(fromText) == "" {
		if strings.TrimSpace(toText) == "" {
			return geo.Period{}, fmt.Errorf("%w: no date given", ErrBadDate)
		}
		return geo.Period{}, fmt.Errorf("%w: occurred_to %s without occurred_from", ErrBadDate, quoteForReason(toText))
	}
	p, err := ParseOccurred(fromText)
	if err != nil || strings.TrimSpace(toText) == "" {
		return p, err
	}
	ft, _ := cleanDate(fromText)
	first, _, _ := parseMoment(ft, false)
	t, err := cleanDate(toText)
	if err != nil {
		return geo.Period{}, err
	}
	second, rest, err := parseMoment(t, true)
	if err != nil {
		return geo.Period{}, err
	}
	if rest != "" {
		return geo.Period{}, fmt.Errorf("%w: occurred_to %s: cannot read %s", ErrBadDate, quoteForReason(toText), quoteForReason(rest))
	}
	end, err := endOf(first, second)
	if err != nil {
		return geo.Period{}, err
	}
	if !end.After(p.From) {
		return geo.Period{}, fmt.Errorf("%w: occurred_to %s is not after occurred_from %s", ErrBadDate, quoteForReason(toText), quoteForReason(fromText))
	}
	return geo.Period{From: p.From, To: end}, nil
}

// timeFirstRE is a time of day written before its date ("22:00 14/03/2026",
// "2pm on 14 March 2026").
var timeFirstRE = regexp.MustCompile(`^(\d{1,2}(?:[:.]\d{2}(?:[:.]\d{2})?)?\s*(?:am|pm|a\.m\.|p\.m\.)?|noon|midday|midnight),?\s+(?:on\s+)?(.+)$`)

// timeFirst moves a leading time after the date it belongs to, when what
// follows it is a date and nothing else; anything else is left for the
// parser to refuse or read as it is.
func timeFirst(t string) string {
	g := timeFirstRE.FindStringSubmatch(t)
	if g == nil || !timeStarts(g[1]) {
		return t
	}
	if m, rest, err := parseMoment(g[2], false); err != nil || rest != "" || m.prec != precDay {
		return t
	}
	return g[2] + " " + g[1]
}

// cleanDate lower-cases and trims a field and refuses what no date is.
func cleanDate(s string) (string, error) {
	if len(s) > maxDateText {
		return "", fmt.Errorf("%w: longer than %d characters", ErrBadDate, maxDateText)
	}
	t := strings.ToLower(strings.Join(strings.Fields(s), " "))
	if t == "" {
		return "", fmt.Errorf("%w: empty", ErrBadDate)
	}
	return t, nil
}

// parseMoment reads a date (unless allowBare and the text starts with a
// time) and an optional time and zone from the start of s, and returns
// what is left.
func parseMoment(s string, allowBare bool) (moment, string, error) {
	orig := s
	var m moment
	s = weekdayRE.ReplaceAllString(s, "")
	matched := false
	bad := func(why string) (moment, string, error) {
		return moment{}, "", fmt.Errorf("%w: %s: %s", ErrBadDate, quoteForReason(orig), why)
	}
	atoi := func(x string) int { n, _ := strconv.Atoi(x); return n }
	year := func(x string) int {
		if len(x) == 2 {
			return 2000 + atoi(x)
		}
		return atoi(x)
	}
	switch {
	case monthYRE.MatchString(s):
		g := monthYRE.FindStringSubmatch(s)
		m.y, m.mo, m.d, m.prec, m.hasDate = atoi(g[2]), monthNames[g[1]], 1, precMonth, true
		s = ""
	case isoMonRE.MatchString(s):
		g := isoMonRE.FindStringSubmatch(s)
		m.y, m.mo, m.d, m.prec, m.hasDate = atoi(g[1]), atoi(g[2]), 1, precMonth, true
		s = ""
	case ukMonRE.MatchString(s):
		g := ukMonRE.FindStringSubmatch(s)
		m.y, m.mo, m.d, m.prec, m.hasDate = atoi(g[2]), atoi(g[1]), 1, precMonth, true
		s = ""
	default:
		if g := isoDateRE.FindStringSubmatch(s); g != nil {
			m.y, m.mo, m.d = atoi(g[1]), atoi(g[2]), atoi(g[3])
			s, matched = s[len(g[0]):], true
			m.isoT = strings.HasPrefix(s, "t")
		} else if g := ukDateRE.FindStringSubmatch(s); g != nil {
			if g[2] != g[4] {
				return bad("mixed separators in the date")
			}
			m.d, m.mo, m.y = atoi(g[1]), atoi(g[3]), year(g[5])
			s, matched = s[len(g[0]):], true
		} else if g := dmyNameRE.FindStringSubmatch(s); g != nil {
			m.d, m.mo, m.y = atoi(g[1]), monthNames[g[2]], year(g[3])
			s, matched = s[len(g[0]):], true
		} else if g := mdyNameRE.FindStringSubmatch(s); g != nil {
			m.mo, m.d, m.y = monthNames[g[1]], atoi(g[2]), atoi(g[3])
			s, matched = s[len(g[0]):], true
		} else if !allowBare {
			return bad("not a date: write it day first, e.g. 14/03/2026, 14 Mar 2026 or 2026-03-14")
		}
		if matched {
			m.hasDate = true
			m.prec = precDay
		}
		if m.hasDate {
			if m.mo < 1 || m.mo > 12 {
				return bad(fmt.Sprintf("month %d: dates are day first (DD/MM/YYYY)", m.mo))
			}
			if m.d < 1 || m.d > daysIn(m.y, m.mo) {
				return bad(fmt.Sprintf("day %d is not in %s %d", m.d, time.Month(m.mo), m.y))
			}
			// A time follows after a space, a comma, "at" or ISO's T.
			if s != "" {
				sep := sepRE.FindString(s)
				if sep == "" || rangeRE.MatchString(s) {
					break
				}
				if !timeStarts(s[len(sep):]) {
					break
				}
				s = s[len(sep):]
			}
		}
		var ok bool
		var err error
		if s, ok, err = m.readTime(s); err != nil {
			return bad(err.Error())
		} else if !ok && !m.hasDate {
			return bad("not a date or a time")
		}
	}
	if m.hasDate && (m.y < 1900 || m.y > 2999) {
		return bad(fmt.Sprintf("year %d is out of range", m.y))
	}
	return m, strings.TrimSpace(s), nil
}

// timeStarts reports whether s begins with something readTime reads.
func timeStarts(s string) bool {
	return timeRE.MatchString(s) || hourAmRE.MatchString(s) ||
		strings.HasPrefix(s, "noon") || strings.HasPrefix(s, "midday") || strings.HasPrefix(s, "midnight")
}

// readTime reads a time of day and an optional zone from the start of s.
func (m *moment) readTime(s string) (string, bool, error) {
	var h, mi, sec int
	var ampm string
	prec := precMinute
	switch {
	case strings.HasPrefix(s, "noon"), strings.HasPrefix(s, "midday"):
		h = 12
		s = strings.TrimPrefix(strings.TrimPrefix(s, "noon"), "midday")
	case strings.HasPrefix(s, "midnight"):
		s = s[len("midnight"):]
	default:
		if g := timeRE.FindStringSubmatch(s); g != nil {
			h, _ = strconv.Atoi(g[1])
			mi, _ = strconv.Atoi(g[2])
			if g[3] != "" {
				sec, _ = strconv.Atoi(g[3])
				prec = precSecond
			}
			ampm = g[4]
			s = s[len(g[0]):]
		} else if g := hourAmRE.FindStringSubmatch(s); g != nil {
			h, _ = strconv.Atoi(g[1])
			ampm = g[2]
			s = s[len(g[0]):]
		} else {
			return s, false, nil
		}
	}
	if ampm != "" {
		if h < 1 || h > 12 {
			return s, false, fmt.Errorf("hour %d with %s", h, ampm)
		}
		if h == 12 {
			h = 0
		}
		if ampm[0] == 'p' {
			h += 12
		}
	}
	if h > 23 || mi > 59 || sec > 59 {
		if h == 24 && mi == 0 && sec == 0 {
			// 24:00 is the end of the day: midnight at its close.
			m.endOfSpan = true
			h = 0
		} else {
			return s, false, fmt.Errorf("time %02d:%02d:%02d out of range", h, mi, sec)
		}
	}
	m.h, m.mi, m.s, m.prec = h, mi, sec, prec
	if z := zoneRE.FindString(strings.TrimLeft(s, " ")); z != "" && m.hasDate && (z[0] != '-' || m.isoT) {
		loc, err := zoneOf(z)
		if err != nil {
			return s, false, err
		}
		m.zone = loc
		s = strings.TrimLeft(s, " ")[len(z):]
	}
	return s, true, nil
}

func zoneOf(z string) (*time.Location, error) {
	switch z {
	case "z", "utc", "gmt":
		return time.UTC, nil
	}
	sign := 1
	if z[0] == '-' {
		sign = -1
	}
	digits := strings.ReplaceAll(z[1:], ":", "")
	hh, _ := strconv.Atoi(digits[:2])
	mm, _ := strconv.Atoi(digits[2:])
	if hh > 14 || mm > 59 {
		return nil, fmt.Errorf("zone %s out of range", z)
	}
	return time.FixedZone(z, sign*(hh*3600+mm*60)), nil
}

func daysIn(y, mo int) int {
	return time.Date(y, time.Month(mo)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func (m moment) loc() *time.Location {
	if m.zone != nil {
		return m.zone
	}
	return London
}

// period is the span a moment covers: its month, its day, its minute or
// its second.
func (m moment) period() (time.Time, time.Time, error) {
	loc := m.loc()
	switch m.prec {
	case precMonth:
		from := time.Date(m.y, time.Month(m.mo), 1, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 1, 0), nil
	case precDay:
		from := time.Date(m.y, time.Month(m.mo), m.d, 0, 0, 0, 0, loc)
		return from, from.AddDate(0, 0, 1), nil
	}
	if m.endOfSpan {
		return time.Time{}, time.Time{}, fmt.Errorf("%w: 24:00 can only end a span", ErrBadDate)
	}
	from := time.Date(m.y, time.Month(m.mo), m.d, m.h, m.mi, m.s, 0, loc)
	if m.prec == precSecond {
		return from, from.Add(time.Second), nil
	}
	return from, from.Add(time.Minute), nil
}

// endOf is the end of a span that starts at first and ends at second: a
// full date ends with its day (or month), a date with a time at that
// moment, and a bare time on first's day, or the next when it is not
// later than first (22:00-02:00 is overnight).
func endOf(first, second moment) (time.Time, error) {
	if second.hasDate {
		if second.prec == precMonth || second.prec == precDay {
			_, to, err := second.period()
			return to, err
		}
		return time.Date(second.y, time.Month(second.mo), second.d, second.h, second.mi, second.s, 0, second.loc()).
			Add(endAdjust(second)), nil
	}
	if first.prec == precMonth {
		return time.Time{}, fmt.Errorf("%w: a span from a whole month cannot end at a time of day", ErrBadDate)
	}
	loc := first.loc()
	start := time.Date(first.y, time.Month(first.mo), first.d, first.h, first.mi, first.s, 0, loc)
	end := time.Date(first.y, time.Month(first.mo), first.d, second.h, second.mi, second.s, 0, loc).Add(endAdjust(second))
	if first.prec == precDay {
		start = time.Date(first.y, time.Month(first.mo), first.d, 0, 0, 0, 0, loc)
	}
	if !end.After(start) {
		end = time.Date(first.y, time.Month(first.mo), first.d+1, second.h, second.mi, second.s, 0, loc).Add(endAdjust(second))
	}
	return end, nil
}

// endAdjust turns 24:00 into the close of the day.
func endAdjust(m moment) time.Duration {
	if m.endOfSpan {
		return 24 * time.Hour
	}
	return 0
}
