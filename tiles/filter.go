package tiles

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"
)

// ErrBadFilter is returned by ParseFilter for a query string that cannot
// be served; the message says which parameter and how to write it.
var ErrBadFilter = errors.New("bad filter")

// Filter is what a tile request asks for beyond z/x/y: a date range and
// the categories, given directly or through the plan's priorities. The
// zero Filter asks for everything.
type Filter struct {
	// From is the first day (UTC) and To the day after the last, or zero
	// for an open end. ParseFilter sets Monthly when both ends fall on
	// month boundaries, so that the month aggregates answer exactly.
	From, To time.Time
	// Days says a bound was given as a day (YYYY-MM-DD) rather than a
	// month; the public data is monthly and refuses it.
	Days bool
	// Priorities are plan priorities (1..5), Categories category slugs,
	// each sorted and without repeats. Both given: a category must match
	// both.
	Priorities []int
	Categories []string
}

// MaxCategories bounds the category parameters of one request.
const MaxCategories = 40

var slugPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// filterParams are the query parameters ParseFilter knows.
var filterParams = map[string]bool{"from": true, "to": true, "priority": true, "category": true}

// ParseFilter reads from, to (YYYY-MM or YYYY-MM-DD, inclusive), priority
// (1..5, repeatable) and category (a slug, repeatable) from q. Unknown
// parameters are refused too, so a misspelt filter never quietly gives
// the unfiltered map.
func ParseFilter(q url.Values) (Filter, error) {
	var f Filter
	var unknown []string
	for k := range q {
		if !filterParams[k] {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return f, fmt.Errorf("%w: unknown parameter %q: tiles take from, to (YYYY-MM or YYYY-MM-DD), priority (1-5) and category (a category slug, e.g. burglary)", ErrBadFilter, unknown[0])
	}
	one := func(name string) (string, error) {
		v := q[name]
		if len(v) > 1 {
			return "", fmt.Errorf("%w: %s given %d times; give it once", ErrBadFilter, name, len(v))
		}
		if len(v) == 0 {
			return "", nil
		}
		return v[0], nil
	}
	from, err := one("from")
	if err != nil {
		return f, err
	}
	to, err := one("to")
	if err != nil {
		return f, err
	}
	if from != "" {
		d, days, err := parseDay("from", from)
		if err != nil {
			return f, err
		}
		f.From, f.Days = d, f.Days || days
	}
	if to != "" {
		d, days, err := parseDay("to", to)
		if err != nil {
			return f, err
		}
		// to is inclusive: the day after, or the month after.
		if days {
			f.To = d.AddDate(0, 0, 1)
		} else {
			f.To = d.AddDate(0, 1, 0)
		}
		f.Days = f.Days || days
	}
	if !f.From.IsZero() && !f.To.IsZero() && !f.From.Before(f.To) {
		return f, fmt.Errorf("%w: to %s is before from %s", ErrBadFilter, to, from)
	}
	seenP := map[int]bool{}
	for _, v := range q["priority"] {
		p, err := strconv.Atoi(v)
		if err != nil || p < 1 || p > 5 || strconv.Itoa(p) != v {
			return f, fmt.Errorf("%w: priority %q must be one of the plan's priorities, 1 to 5", ErrBadFilter, cut(v))
		}
		if !seenP[p] {
			seenP[p] = true
			f.Priorities = append(f.Priorities, p)
		}
	}
	sort.Ints(f.Priorities)
	if n := len(q["category"]); n > MaxCategories {
		return f, fmt.Errorf("%w: %d categories; at most %d", ErrBadFilter, n, MaxCategories)
	}
	seenC := map[string]bool{}
	for _, v := range q["category"] {
		if len(v) > 64 || !slugPattern.MatchString(v) {
			return f, fmt.Errorf("%w: category %q must be a category slug in lower case with hyphens, e.g. anti-social-behaviour", ErrBadFilter, cut(v))
		}
		if !seenC[v] {
			seenC[v] = true
			f.Categories = append(f.Categories, v)
		}
	}
	sort.Strings(f.Categories)
	return f, nil
}

// parseDay reads YYYY-MM (the first of the month) or YYYY-MM-DD.
func parseDay(name, s string) (time.Time, bool, error) {
	if len(s) == len("2006-01") {
		if t, err := time.Parse("2006-01", s); err == nil && t.Year() >= 1900 {
			return t, false, nil
		}
	}
	if len(s) == len("2006-01-02") {
		if t, err := time.Parse("2006-01-02", s); err == nil && t.Year() >= 1900 {
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("%w: %s %q must be a month (YYYY-MM, e.g. 2024-01) or a day (YYYY-MM-DD, e.g. 2024-01-15)", ErrBadFilter, name, cut(s))
}

func cut(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// IsZero reports whether f asks for everything.
func (f Filter) IsZero() bool {
	return f.From.IsZero() && f.To.IsZero() && len(f.Priorities) == 0 && len(f.Categories) == 0
}

// Key is f in one canonical spelling, for cache keys: two filters that
// ask for the same thing have the same key.
func (f Filter) Key() string {
	var b strings.Builder
	if !f.From.IsZero() {
		b.WriteString("f" + f.From.Format("20060102"))
	}
	if !f.To.IsZero() {
		b.WriteString("t" + f.To.Format("20060102"))
	}
	for _, p := range f.Priorities {
		b.WriteString("p" + strconv.Itoa(p))
	}
	for _, c := range f.Categories {
		b.WriteString("c" + c)
	}
	return b.String()
}

// span splits f's date range into the whole months that the month
// aggregates answer ([m1, m2], first days; nil when unbounded on that
// side) and up to two partial months at the ends that must be counted
// from the incidents themselves ([start, end) pairs).
type span struct {
	m1, m2  any // *time.Time or nil
	empty   bool
	partial [2][2]any
}

func (f Filter) span() span {
	var s span
	first := func(t time.Time) time.Time { return time.Date(t.Year(), t.Month(), 1, 0, 0, 0, 0, time.UTC) }
	lo, hi := f.From, f.To
	// Whole months: from the first month boundary at or after lo to the
	// last at or before hi.
	var mlo, mhi time.Time
	if !lo.IsZero() {
		mlo = first(lo)
		if !mlo.Equal(lo) {
			mlo = mlo.AddDate(0, 1, 0)
		}
	}
	if !hi.IsZero() {
		mhi = first(hi) // exclusive
	}
	if !lo.IsZero() && !hi.IsZero() && !mlo.Before(mhi) {
		// No whole month inside: all of it is partial.
		s.empty = true
		s.partial[0] = [2]any{lo, hi}
		return s
	}
	if !lo.IsZero() {
		s.m1 = mlo
		if lo.Before(mlo) {
			s.partial[0] = [2]any{lo, mlo}
		}
	}
	if !hi.IsZero() {
		s.m2 = mhi.AddDate(0, -1, 0) // last whole month, inclusive
		if mhi.Before(hi) {
			s.partial[1] = [2]any{mhi, hi}
		}
	}
	return s
}
