// Package geo is the domain's vocabulary: incidents, the periods in which
// they occurred, police.uk crime categories, and coordinate checks. It does
// no I/O; the capability packages below it (geo/ingest, geo/store, ...) do.
//
// Coordinates in this package are WGS84 longitude/latitude (EPSG:4326) as
// orb.Point{lon, lat}. Metric work happens in British National Grid
// (EPSG:27700) and tiles in Web Mercator (EPSG:3857); both are derived in
// PostGIS from the stored WGS84 point, once, when a row is written.
package geo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/paulmach/orb"
)

// Period is the half-open interval [From, To) in which an incident
// occurred. A police.uk record, which gives only a month, spans the whole
// month; a partner record with an exact timestamp spans one second.
type Period struct {
	From time.Time
	To   time.Time
}

// ErrBadMonth is returned by ParseMonth for text that is not YYYY-MM.
var ErrBadMonth = errors.New("month is not YYYY-MM")

// MonthPeriod returns the period covering the whole calendar month, in UTC.
func MonthPeriod(year int, month time.Month) Period {
	from := time.Date(year, month, 1, 0, 0, 0, 0, time.UTC)
	return Period{From: from, To: from.AddDate(0, 1, 0)}
}

// ParseMonth parses police.uk's "YYYY-MM" month into the period it covers.
// Years outside 1900..2999 are refused: they are typing slips, not history.
func ParseMonth(s string) (Period, error) {
	if len(s) != 7 || s[4] != '-' {
		return Period{}, fmt.Errorf("%w: %q", ErrBadMonth, s)
	}
	t, err := time.Parse("2006-01", s)
	if err != nil || t.Year() < 1900 || t.Year() > 2999 {
		return Period{}, fmt.Errorf("%w: %q", ErrBadMonth, s)
	}
	return MonthPeriod(t.Year(), t.Month()), nil
}

// Month returns the period's first month as YYYY-MM.
func (p Period) Month() string { return p.From.UTC().Format("2006-01") }

// ErrBadCoordinate is returned for coordinates outside the valid range of
// longitude and latitude.
var ErrBadCoordinate = errors.New("coordinate out of range")

// CheckLonLat reports whether lon/lat is a valid WGS84 position. It does not
// require the point to be in Harborough: police.uk files hold real crimes in
// other forces' areas and those are kept.
func CheckLonLat(p orb.Point) error {
	lon, lat := p[0], p[1]
	if lon != lon || lat != lat || lon < -180 || lon > 180 || lat < -90 || lat > 90 {
		return fmt.Errorf("%w: lon %v, lat %v", ErrBadCoordinate, lon, lat)
	}
	return nil
}

// Incident is one recorded crime or incident, as the ingest layer hands it
// to the store.
type Incident struct {
	Source   string // where it came from, e.g. "police-uk"
	SourceID string // stable identity within Source; re-imports match on (Source, SourceID)
	Category string // police.uk category slug, e.g. "anti-social-behaviour"
	Occurred Period
	// Point is the WGS84 location; HasPoint is false when the source gave none.
	Point        orb.Point
	HasPoint     bool
	LocationText string // e.g. "On or near High Street"
	LSOACode     string
	LSOAName     string
	Outcome      string
	Context      string
	ReportedBy   string
	FallsWithin  string
}

// Category is a police.uk crime category: its URL slug and its display name.
type Category struct {
	Slug string
	Name string
}

// PoliceUKCategories returns police.uk's street-level crime categories with
// the slugs its API uses (data.police.uk/api/crime-categories). The
// categories table is seeded with the same list (migrations/0001); a test
// keeps the two in step.
func PoliceUKCategories() []Category {
	return []Category{
		{"anti-social-behaviour", "Anti-social behaviour"},
		{"bicycle-theft", "Bicycle theft"},
		{"burglary", "Burglary"},
		{"criminal-damage-arson", "Criminal damage and arson"},
		{"drugs", "Drugs"},
		{"other-theft", "Other theft"},
		{"possession-of-weapons", "Possession of weapons"},
		{"public-order", "Public order"},
		{"robbery", "Robbery"},
		{"shoplifting", "Shoplifting"},
		{"theft-from-the-person", "Theft from the person"},
		{"vehicle-crime", "Vehicle crime"},
		{"violent-crime", "Violence and sexual offences"},
		{"other-crime", "Other crime"},
	}
}

// CategorySlug maps a police.uk "Crime type" name to its slug. A name that
// police.uk has not used before is not an error: it is slugified so the row
// is kept, and known reports whether it was one of PoliceUKCategories.
func CategorySlug(name string) (slug string, known bool) {
	n := strings.TrimSpace(name)
	for _, c := range PoliceUKCategories() {
		if strings.EqualFold(c.Name, n) {
			return c.Slug, true
		}
	}
	return Slugify(n), false
}

// Slugify lower-cases s and joins its runs of letters and digits with '-'.
func Slugify(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(s) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			b.WriteRune(r)
			dash = false
		} else {
			dash = true
		}
	}
	return b.String()
}
