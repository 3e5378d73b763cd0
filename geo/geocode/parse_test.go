package geocode_test

import (
	"math"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/harborough-csp/hotspot/geo/geocode"
)

func TestParse(t *testing.T) {
	type P = geocode.Parsed
	A := geocode.KindAddress
	tests := []struct {
		in   string
		want P
	}{
		// No location given.
		{"", P{Kind: geocode.KindNone}},
		{"   ", P{Kind: geocode.KindNone}},
		{"n/a", P{Kind: geocode.KindNone}},
		{"N/A.", P{Kind: geocode.KindNone}},
		{"Unknown", P{Kind: geocode.KindNone}},
		{"-", P{Kind: geocode.KindNone}},
		{"not known", P{Kind: geocode.KindNone}},
		{"???", P{Kind: geocode.KindNone}},
		// Given but not understood.
		{"12345", P{Kind: geocode.KindUnknown}},
		{"#@!$%", P{Kind: geocode.KindUnknown}},
		{strings.Repeat("High Street ", 50), P{Kind: geocode.KindUnknown}},
		// Postcodes: case, spacing, O/0 and I/1 slips.
		{"LE16 7NJ", P{Kind: A, Postcodes: []string{"LE16 7NJ"}}},
		{"le167nj", P{Kind: A, Postcodes: []string{"LE16 7NJ"}}},
		{"  le16   7nj ", P{Kind: A, Postcodes: []string{"LE16 7NJ"}}},
		{"LE16 7N1", P{Kind: A, Postcodes: []string{"LE16 7NI"}, Corrected: true}},
		{"LEI6 7NJ", P{Kind: A, Postcodes: []string{"LE16 7NJ"}, Corrected: true}},
		{"LE16 ONJ", P{Kind: A, Postcodes: []string{"LE16 0NJ"}, Corrected: true}},
		{"LE1O 4AA", P{Kind: A, Postcodes: []string{"LE1O 4AA", "LE10 4AA"}}},
		{"LE17 4XT", P{Kind: A, Postcodes: []string{"LE17 4XT"}}},
		{"B1 1AA", P{Kind: A, Postcodes: []string{"B1 1AA"}}},
		{"EC1A 1BB", P{Kind: A, Postcodes: []string{"EC1A 1BB"}}},
		// Partial postcodes.
		{"LE16", P{Kind: A, Outward: "LE16"}},
		{"LE16 7", P{Kind: A, Outward: "LE16", Sector: "LE16 7"}},
		{"Lutterworth LE17", P{Kind: A, Outward: "LE17", Place: "Lutterworth"}},
		// Addresses.
		{"12 High St, Market Harborough LE16 7NJ", P{Kind: A, Postcodes: []string{"LE16 7NJ"}, House: "12", Street: "High St", Town: "Market Harborough"}},
		{"12 High Street, Market Harborough, Leicestershire, LE16 7NJ", P{Kind: A, Postcodes: []string{"LE16 7NJ"}, House: "12", Street: "High Street", Town: "Market Harborough"}},
		{"Flat 3, 12a Church Street, Lutterworth", P{Kind: A, House: "12a", Street: "Church Street", Town: "Lutterworth"}},
		{"High St Market Harborough", P{Kind: A, Street: "High St", Town: "Market Harborough"}},
		{"On or near Church Street", P{Kind: A, Street: "Church Street", Qualifier: "on or near"}},
		{"On or near Supermarket", P{Kind: A, Place: "Supermarket", Qualifier: "on or near"}},
		{"outside Tesco, Lutterworth", P{Kind: A, Place: "Tesco", Town: "Lutterworth", Qualifier: "outside"}},
		{"o/s Tesco, Lutterworth", P{Kind: A, Place: "Tesco", Town: "Lutterworth", Qualifier: "o/s"}},
		{"Welland Park", P{Kind: A, Place: "Welland Park"}},
		{"the Square, Market Harborough", P{Kind: A, Street: "the Square", Town: "Market Harborough"}},
		{"Junction of Leicester Road and Station Road, Lutterworth", P{Kind: A, Street: "Leicester Road", CrossStreet: "Station Road", Town: "Lutterworth", Qualifier: "junction of"}},
		{"rear of 4 Coventry Rd, Lutterworth", P{Kind: A, House: "4", Street: "Coventry Rd", Town: "Lutterworth", Qualifier: "rear of"}},
		{"Magna Park, Lutterworth, LE17 4XT", P{Kind: A, Postcodes: []string{"LE17 4XT"}, Place: "Magna Park", Town: "Lutterworth"}},
		// OS grid references: the square's south-west corner, exactly.
		{"SP 735 873", P{Kind: geocode.KindGridRef, Easting: 473500, Northing: 287300, Precision: 100}},
		{"SP735873", P{Kind: geocode.KindGridRef, Easting: 473500, Northing: 287300, Precision: 100}},
		{"SP 7350 8730", P{Kind: geocode.KindGridRef, Easting: 473500, Northing: 287300, Precision: 10}},
		{"SP7350087300", P{Kind: geocode.KindGridRef, Easting: 473500, Northing: 287300, Precision: 1}},
		{"sp 73500 87300", P{Kind: geocode.KindGridRef, Easting: 473500, Northing: 287300, Precision: 1}},
		{"SP7387", P{Kind: geocode.KindGridRef, Easting: 473000, Northing: 287000, Precision: 1000}},
		{"Grid ref: SP 741 874", P{Kind: geocode.KindGridRef, Easting: 474100, Northing: 287400, Precision: 100}},
		{"TQ 30000 80000", P{Kind: geocode.KindGridRef, Easting: 530000, Northing: 180000, Precision: 1}},
		{"NT 2560 7340", P{Kind: geocode.KindGridRef, Easting: 325600, Northing: 673400, Precision: 10}},
		{"HU 400 400", P{Kind: geocode.KindGridRef, Easting: 440000, Northing: 1140000, Precision: 100}},
		// Easting / northing.
		{"473401, 287452", P{Kind: geocode.KindEastNorth, Easting: 473401, Northing: 287452, Precision: 1}},
		{"473401 287452", P{Kind: geocode.KindEastNorth, Easting: 473401, Northing: 287452, Precision: 1}},
		{"E 473401 N 287452", P{Kind: geocode.KindEastNorth, Easting: 473401, Northing: 287452, Precision: 1}},
		{"Easting: 473401.5, Northing: 287452.25", P{Kind: geocode.KindEastNorth, Easting: 473401.5, Northing: 287452.25, Precision: 1}},
		{"N 287452, E 473401", P{Kind: geocode.KindEastNorth, Easting: 473401, Northing: 287452, Precision: 1}},
		// Latitude / longitude.
		{"52.4775, -0.9213", P{Kind: geocode.KindLatLon, Lat: 52.4775, Lon: -0.9213}},
		{"52.4775 -0.9213", P{Kind: geocode.KindLatLon, Lat: 52.4775, Lon: -0.9213}},
		{"-0.9213, 52.4775", P{Kind: geocode.KindLatLon, Lat: 52.4775, Lon: -0.9213}},
		{"52.4775N 0.9213W", P{Kind: geocode.KindLatLon, Lat: 52.4775, Lon: -0.9213}},
		{"N52.4775 W0.9213", P{Kind: geocode.KindLatLon, Lat: 52.4775, Lon: -0.9213}},
		{"0.9213W, 52.4775N", P{Kind: geocode.KindLatLon, Lat: 52.4775, Lon: -0.9213}},
		{"52°28'39\"N 0°55'17\"W", P{Kind: geocode.KindLatLon, Lat: 52 + 28.0/60 + 39.0/3600, Lon: -(55.0/60 + 17.0/3600)}},
		{"52° 28′ 39″ N, 0° 55′ 17″ W", P{Kind: geocode.KindLatLon, Lat: 52 + 28.0/60 + 39.0/3600, Lon: -(55.0/60 + 17.0/3600)}},
		{"52 28 39 N 0 55 17 W", P{Kind: geocode.KindLatLon, Lat: 52 + 28.0/60 + 39.0/3600, Lon: -(55.0/60 + 17.0/3600)}},
		{"52°28.65'N 0°55.28'W", P{Kind: geocode.KindLatLon, Lat: 52 + 28.65/60, Lon: -(55.28 / 60)}},
		{"lat 52.4775 lon -0.9213", P{Kind: geocode.KindLatLon, Lat: 52.4775, Lon: -0.9213}},
		{"40.7128, -74.0060", P{Kind: geocode.KindLatLon, Lat: 40.7128, Lon: -74.006}},
	}
	for _, tt := range tests {
		got := geocode.Parse(tt.in)
		got.Why = ""
		if !parsedEqual(got, tt.want) {
			t.Errorf("Parse(%q) = %+v; want %+v", tt.in, got, tt.want)
		}
	}
}

func parsedEqual(a, b geocode.Parsed) bool {
	const eps = 1e-9
	if math.Abs(a.Lat-b.Lat) > eps || math.Abs(a.Lon-b.Lon) > eps || math.Abs(a.Easting-b.Easting) > eps ||
		math.Abs(a.Northing-b.Northing) > eps || a.Precision != b.Precision {
		return false
	}
	a.Lat, a.Lon, a.Easting, a.Northing, b.Lat, b.Lon, b.Easting, b.Northing = 0, 0, 0, 0, 0, 0, 0, 0
	return reflect.DeepEqual(a, b)
}

func TestParseReasons(t *testing.T) {
	for _, in := range []string{"", "n/a", "12345", strings.Repeat("x", 401)} {
		if p := geocode.Parse(in); p.Why == "" {
			t.Errorf("Parse(%q).Why is empty; want a reason for kind %v", in, p.Kind)
		}
	}
}

func TestNormaliseName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"High St", "high street"},
		{"High St.", "high street"},
		{"St Mary's Rd", "saint marys road"},
		{"St. Mary’s Road", "saint marys road"},
		{"Adam & Eve St", "adam and eve street"},
		{"Coventry Rd", "coventry road"},
		{"Oak Cl", "oak close"},
		{"Welland Park Ave", "welland park avenue"},
		{"Leicester Rd E", "leicester road east"},
		{"Mkt Harborough", "market harborough"},
		{"Market Harboro", "market harborough"},
		{"  BROUGHTON   ASTLEY ", "broughton astley"},
		{"Café Nero", "cafe nero"},
		{"Sports/Recreation Area", "sports recreation area"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := geocode.NormaliseName(tt.in); got != tt.want {
			t.Errorf("NormaliseName(%q) = %q; want %q", tt.in, got, tt.want)
		}
	}
	if geocode.Normalise("12 High St., Market Harborough") != geocode.Normalise("12 high street market harborough") {
		t.Error("Normalise does not equate two spellings of one address")
	}
}

func TestFormatGridRef(t *testing.T) {
	tests := []struct {
		e, n   float64
		digits int
		want   string
	}{
		{473500, 287300, 3, "SP 735 873"},
		{473500, 287300, 4, "SP 7350 8730"},
		{473512, 287345, 5, "SP 73512 87345"},
		{530000, 180000, 5, "TQ 30000 80000"},
		{325600, 673400, 4, "NT 2560 7340"},
		{440000, 1140000, 3, "HU 400 400"},
		{0, 0, 2, "SV 00 00"},
		{-1, 0, 3, ""},
	}
	for _, tt := range tests {
		if got := geocode.FormatGridRef(tt.e, tt.n, tt.digits); got != tt.want {
			t.Errorf("FormatGridRef(%v, %v, %d) = %q; want %q", tt.e, tt.n, tt.digits, got, tt.want)
		}
	}
	// Every 100 km square of Great Britain round-trips.
	for e := 0.0; e < 700000; e += 100000 {
		for n := 0.0; n < 1300000; n += 100000 {
			ref := geocode.FormatGridRef(e+12345, n+67890, 5)
			p := geocode.Parse(ref)
			if p.Kind != geocode.KindGridRef || p.Easting != e+12345 || p.Northing != n+67890 {
				t.Errorf("Parse(FormatGridRef(%v, %v)) = %q -> %+v", e+12345, n+67890, ref, p)
			}
		}
	}
}

var postcodeShape = regexp.MustCompile(`^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$`)

// FuzzParse: Parse never panics, always says what it found, and what it
// found is in range: postcodes well formed, grid references and E/N in
// Great Britain, latitudes and longitudes on Earth; text that is too long
// is never read as a place.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "n/a", "LE16 7NJ", "le167nj", "LEI6 ONJ", "12 High St, Market Harborough LE16 7NJ",
		"On or near Church Street", "outside Tesco, Lutterworth", "SP 735 873", "SP7350087300",
		"473401, 287452", "52.4775, -0.9213", "52°28'39\"N 0°55'17\"W", "N 287452, E 473401",
		"\x00\xff\xfe", "'; DROP TABLE gazetteer; --", "<script>alert(1)</script>", strings.Repeat("9", 500),
		"SP 1", "SV0000", "-.5 .", "1e308, 1e308", "NaN, NaN", "Inf N Inf E", "99999999999999999999.9 1",
		"Junction of A and B and C, X, Y, Z", ",,,,", "O/S", "LE16 7", "ZZ99 9ZZ",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p := geocode.Parse(s)
		switch p.Kind {
		case geocode.KindNone, geocode.KindUnknown:
			if p.Why == "" {
				t.Errorf("Parse(%q): kind %v without a reason", s, p.Kind)
			}
		case geocode.KindGridRef, geocode.KindEastNorth:
			if !(p.Easting >= 0 && p.Easting < 700000 && p.Northing >= 0 && p.Northing < 1300000) || p.Precision < 1 {
				t.Errorf("Parse(%q) = E %v N %v precision %v: outside Great Britain", s, p.Easting, p.Northing, p.Precision)
			}
		case geocode.KindLatLon:
			if !(math.Abs(p.Lat) <= 90 && math.Abs(p.Lon) <= 180) {
				t.Errorf("Parse(%q) = %v, %v: not on Earth", s, p.Lat, p.Lon)
			}
		case geocode.KindAddress:
			for _, pc := range p.Postcodes {
				if !postcodeShape.MatchString(pc) {
					t.Errorf("Parse(%q): postcode %q is not well formed", s, pc)
				}
			}
			for _, f := range []string{p.House, p.Street, p.Place, p.Town} {
				if !utf8.ValidString(f) {
					t.Errorf("Parse(%q): invalid UTF-8 in %q", s, f)
				}
			}
		default:
			t.Errorf("Parse(%q): unknown kind %v", s, p.Kind)
		}
		if len(strings.TrimSpace(s)) > geocode.MaxTextLen && p.Kind != geocode.KindUnknown {
			t.Errorf("Parse of %d bytes = kind %v; want unknown (too long)", len(s), p.Kind)
		}
		_ = geocode.Normalise(s)
	})
}
