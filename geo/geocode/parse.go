package geocode

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Kind says what Parse found in a location text.
type Kind int

const (
	// KindNone: no location given (empty, "n/a", "unknown", "-" ...).
	KindNone Kind = iota
	// KindUnknown: something was given, but it is not a location Parse
	// can read (punctuation, a lone number, a text far too long).
	KindUnknown
	// KindLatLon: latitude and longitude (WGS84), decimal or
	// degrees-minutes-seconds, with or without N/S/E/W.
	KindLatLon
	// KindEastNorth: a British National Grid easting and northing in metres.
	KindEastNorth
	// KindGridRef: an OS grid reference ("SP 735 873"), read as the
	// easting and northing of the square's south-west corner.
	KindGridRef
	// KindAddress: words (street, place, town) and/or a postcode.
	KindAddress
)

var kindNames = [...]string{"none", "unknown", "latlon", "eastnorth", "gridref", "address"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// MaxTextLen is the longest location text Parse reads; a longer one is
// KindUnknown ("too long"), never truncated into a wrong match.
const MaxTextLen = 400

// Parsed is what Parse read from one location text. Only the fields of
// its Kind are set.
type Parsed struct {
	Kind Kind
	// Why is a short reason for KindNone and KindUnknown.
	Why string

	// Postcodes are the full postcodes the text may hold, normalised
	// ("LE16 7NJ"), best first: the text as written, then readings that
	// correct O/0 and I/1 slips. Corrected says the first needed one.
	Postcodes []string
	Corrected bool
	// Outward ("LE16") and Sector ("LE16 7") hold a partial postcode
	// when no full one was given.
	Outward, Sector string

	House  string // house number or name ("12", "12a")
	Street string // as written, without the house number ("High St")
	// CrossStreet is the other street of a junction ("junction of High
	// St and Church St"), tried when Street is not known.
	CrossStreet string
	Place       string // a place, landmark or business ("Tesco", "Welland Park")
	Town        string // the last part of the address when there are several
	// Qualifier is the word that located the incident relative to the
	// place ("outside", "on or near", "rear of"), lower case.
	Qualifier string

	// Easting, Northing are BNG metres for KindEastNorth and KindGridRef;
	// Precision is the grid square's side in metres (1 for an E/N pair).
	Easting, Northing, Precision float64
	// Lat, Lon for KindLatLon.
	Lat, Lon float64
}

// noLocation are the texts that say there is no location, after
// lower-casing and dropping punctuation at the ends.
var noLocation = map[string]bool{
	"": true, "na": true, "n/a": true, "n.a": true, "n a": true, "none": true, "nil": true, "null": true,
	"unknown": true, "not known": true, "unk": true, "tbc": true, "tba": true, "no location": true,
	"not given": true, "not stated": true, "not recorded": true, "withheld": true, "no address": true,
	"address unknown": true, "location unknown": true, "unknown location": true, "no fixed abode": true,
	"nfa": true, "various": true, "not applicable": true, "-": true, "--": true, "?": true, "x": true,
}

// Parse reads one location text. It never fails: what it cannot read is
// KindUnknown with a reason, and a text that says there is no location
// is KindNone. Pure Go, no I/O.
func Parse(text string) Parsed {
	t := strings.TrimSpace(text)
	if len(t) > MaxTextLen {
		return Parsed{Kind: KindUnknown, Why: "too long for a location (" + strconv.Itoa(len(t)) + " bytes; at most " + strconv.Itoa(MaxTextLen) + ")"}
	}
	if !utf8.ValidString(t) {
		t = strings.ToValidUTF8(t, " ")
	}
	t = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || r == '\u00a0' || r == '\u2400' || r == '\ufffd' {
			return ' '
		}
		return r
	}, t)
	key := strings.Join(strings.Fields(strings.Trim(strings.ToLower(t), " .,;:!")), " ")
	if noLocation[key] || strings.Trim(key, "-_*?/.x ") == "" {
		return Parsed{Kind: KindNone, Why: "no location given"}
	}
	if p, ok := parseGridRef(t); ok {
		return p
	}
	if p, ok := parseEastNorth(t); ok {
		return p
	}
	if p, ok := parseLatLon(t); ok {
		return p
	}
	return parseAddress(t)
}

// ---- OS grid references ----

var gridRefRE = regexp.MustCompile(`(?i)^(?:(?:os\s*)?(?:grid\s*)?(?:ref(?:erence)?|gr|ngr)?\s*[:.=]?\s*)([HJNOST][A-HJ-Z])\s*([0-9]+)(?:\s+([0-9]+))?$`)

// gridSquare returns the easting and northing (metres) of a 100 km
// square's south-west corner, from its two letters (SP -> 400000, 200000).
func gridSquare(l1, l2 byte) (float64, float64, bool) {
	idx := func(c byte) int {
		if c < 'A' || c > 'Z' || c == 'I' {
			return -1
		}
		i := int(c - 'A')
		if c > 'I' {
			i--
		}
		return i
	}
	i1, i2 := idx(l1), idx(l2)
	if i1 < 0 || i2 < 0 {
		return 0, 0, false
	}
	// The first letter is a 500 km square of a 5x5 grid starting at V
	// (far south-west); S is the square whose corner is the false origin.
	e := float64((i1%5)*500000+(i2%5)*100000) - 1000000
	n := float64((4-i1/5)*500000+(4-i2/5)*100000) - 500000
	if e < 0 || n < 0 || e >= 700000 || n >= 1300000 {
		return 0, 0, false
	}
	return e, n, true
}

func parseGridRef(t string) (Parsed, bool) {
	m := gridRefRE.FindStringSubmatch(strings.TrimSpace(t))
	if m == nil {
		return Parsed{}, false
	}
	letters := strings.ToUpper(m[1])
	e0, n0, ok := gridSquare(letters[0], letters[1])
	if !ok {
		return Parsed{}, false
	}
	var de, dn string
	if m[3] == "" {
		if len(m[2])%2 != 0 {
			return Parsed{}, false
		}
		de, dn = m[2][:len(m[2])/2], m[2][len(m[2])/2:]
	} else {
		de, dn = m[2], m[3]
	}
	if len(de) != len(dn) || len(de) < 2 || len(de) > 5 {
		return Parsed{}, false
	}
	prec := math.Pow10(5 - len(de))
	ve, _ := strconv.Atoi(de)
	vn, _ := strconv.Atoi(dn)
	return Parsed{Kind: KindGridRef, Easting: e0 + float64(ve)*prec, Northing: n0 + float64(vn)*prec, Precision: prec}, true
}

// FormatGridRef writes an easting and northing as a grid reference with
// digits figures per axis (1 to 5), truncating as OS references do.
func FormatGridRef(easting, northing float64, digits int) string {
	if digits < 1 || digits > 5 || easting < 0 || northing < 0 || easting >= 700000 || northing >= 1300000 {
		return ""
	}
	e100, n100 := int(easting)/100000, int(northing)/100000
	// Invert gridSquare: the 500 km and 100 km squares.
	e5, n5 := (e100+10)/5, (n100+5)/5
	l1 := (4-n5)*5 + e5
	l2 := (4-(n100+5)%5)*5 + (e100+10)%5
	letter := func(i int) byte {
		c := byte('A' + i)
		if c >= 'I' {
			c++
		}
		return c
	}
	div := int(math.Pow10(5 - digits))
	re := (int(easting) % 100000) / div
	rn := (int(northing) % 100000) / div
	pad := func(v int) string {
		s := strconv.Itoa(v)
		for len(s) < digits {
			s = "0" + s
		}
		return s
	}
	return string([]byte{letter(l1), letter(l2)}) + " " + pad(re) + " " + pad(rn)
}

// ---- easting / northing pairs ----

var eastNorthRE = regexp.MustCompile(`(?i)^(?:e(?:ast(?:ing)?)?\s*[:=]?\s*)?([0-9]{5,6}(?:\.[0-9]+)?)\s*m?\s*(?:[,;/]\s*|\s+)(?:n(?:orth(?:ing)?)?\s*[:=]?\s*)?([0-9]{5,7}(?:\.[0-9]+)?)\s*m?$`)
var northEastRE = regexp.MustCompile(`(?i)^n(?:orth(?:ing)?)?\s*[:=]?\s*([0-9]{5,7}(?:\.[0-9]+)?)\s*m?\s*(?:[,;/]\s*|\s+)e(?:ast(?:ing)?)?\s*[:=]?\s*([0-9]{5,6}(?:\.[0-9]+)?)\s*m?$`)

func parseEastNorth(t string) (Parsed, bool) {
	t = strings.TrimSpace(t)
	var es, ns string
	if m := eastNorthRE.FindStringSubmatch(t); m != nil {
		es, ns = m[1], m[2]
	} else if m := northEastRE.FindStringSubmatch(t); m != nil {
		es, ns = m[2], m[1]
	} else {
		return Parsed{}, false
	}
	e, err1 := strconv.ParseFloat(es, 64)
	n, err2 := strconv.ParseFloat(ns, 64)
	if err1 != nil || err2 != nil || e < 0 || e >= 700000 || n < 0 || n >= 1300000 {
		return Parsed{}, false
	}
	return Parsed{Kind: KindEastNorth, Easting: e, Northing: n, Precision: 1}, true
}

// ---- latitude / longitude ----

type coordToken struct {
	num   float64
	isNum bool
	hemi  byte // 'N', 'S', 'E', 'W' or 0
	sep   bool // comma, semicolon or slash
	mark  bool // a degree, minute or second mark followed the number
	dec   bool // the number had a decimal point
	neg   bool // the number had a minus sign
}

// tokenizeCoords splits t into numbers, hemisphere letters, separators
// and unit marks; ok is false if anything else is in it.
func tokenizeCoords(t string) ([]coordToken, bool) {
	var toks []coordToken
	rs := []rune(t)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case r == ' ' || r == '\t':
			i++
		case r == ',' || r == ';' || r == '/':
			toks = append(toks, coordToken{sep: true})
			i++
		case r == '°' || r == '\'' || r == '"' || r == '′' || r == '″' || r == 'º' || r == '’' || r == '”':
			if len(toks) > 0 && toks[len(toks)-1].isNum {
				toks[len(toks)-1].mark = true
			}
			i++
		case r == '-' || r == '+' || r == '.' || (r >= '0' && r <= '9'):
			j := i
			if r == '-' || r == '+' {
				j++
			}
			start := j
			dots := 0
			for j < len(rs) && (rs[j] >= '0' && rs[j] <= '9' || rs[j] == '.') {
				if rs[j] == '.' {
					dots++
				}
				j++
			}
			if j == start || dots > 1 || j-start > 20 {
				return nil, false
			}
			v, err := strconv.ParseFloat(string(rs[i:j]), 64)
			if err != nil {
				return nil, false
			}
			toks = append(toks, coordToken{num: v, isNum: true, dec: dots == 1, neg: r == '-'})
			i = j
		case unicode.IsLetter(r):
			j := i
			for j < len(rs) && unicode.IsLetter(rs[j]) {
				j++
			}
			w := strings.ToLower(string(rs[i:j]))
			i = j
			switch w {
			case "n", "north":
				toks = append(toks, coordToken{hemi: 'N'})
			case "s", "south":
				toks = append(toks, coordToken{hemi: 'S'})
			case "e", "east":
				toks = append(toks, coordToken{hemi: 'E'})
			case "w", "west":
				toks = append(toks, coordToken{hemi: 'W'})
			case "d", "deg", "degrees", "m", "min", "mins", "minutes", "sec", "secs", "seconds":
				if len(toks) > 0 && toks[len(toks)-1].isNum {
					toks[len(toks)-1].mark = true
				}
			case "lat", "latitude", "lon", "long", "longitude", "lng", "and":
				toks = append(toks, coordToken{sep: true})
			default:
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return toks, true
}

type coordGroup struct {
	nums []coordToken
	hemi byte
}

func parseLatLon(t string) (Parsed, bool) {
	toks, ok := tokenizeCoords(t)
	if !ok {
		return Parsed{}, false
	}
	var groups []coordGroup
	cur := coordGroup{}
	flush := func() {
		if len(cur.nums) > 0 || cur.hemi != 0 {
			groups = append(groups, cur)
		}
		cur = coordGroup{}
	}
	for _, tk := range toks {
		switch {
		case tk.sep:
			flush()
		case tk.hemi != 0:
			if len(cur.nums) > 0 {
				if cur.hemi != 0 {
					// "N52.1 W0.9": the letter came first, so this one
					// starts the next coordinate.
					flush()
					cur.hemi = tk.hemi
					continue
				}
				cur.hemi = tk.hemi
				flush()
			} else {
				if cur.hemi != 0 {
					return Parsed{}, false
				}
				cur.hemi = tk.hemi
			}
		default:
			cur.nums = append(cur.nums, tk)
		}
	}
	flush()
	// Without separators or letters, split the numbers evenly: 2 = two
	// decimals, 4 = degrees and minutes, 6 = degrees, minutes, seconds.
	if len(groups) == 1 && groups[0].hemi == 0 && len(groups[0].nums)%2 == 0 && len(groups[0].nums) <= 6 {
		h := len(groups[0].nums) / 2
		all := groups[0].nums
		groups = []coordGroup{{nums: all[:h]}, {nums: all[h:]}}
	}
	if len(groups) != 2 {
		return Parsed{}, false
	}
	var vals [2]float64
	hinted := false
	for i, g := range groups {
		if len(g.nums) == 0 || len(g.nums) > 3 {
			return Parsed{}, false
		}
		v := 0.0
		neg := g.nums[0].neg
		for k, n := range g.nums {
			x := math.Abs(n.num)
			if k > 0 && (n.neg || x >= 60) {
				return Parsed{}, false
			}
			if k < len(g.nums)-1 && n.dec {
				return Parsed{}, false
			}
			v += x / math.Pow(60, float64(k))
			if n.mark || n.dec || len(g.nums) > 1 {
				hinted = true
			}
		}
		if neg {
			v = -v
		}
		switch g.hemi {
		case 'S', 'W':
			if neg {
				return Parsed{}, false
			}
			v = -v
		}
		if g.hemi != 0 {
			hinted = true
		}
		vals[i] = v
	}
	// Two bare integers ("12 14") are not coordinates.
	if !hinted {
		return Parsed{}, false
	}
	lat, lon := vals[0], vals[1]
	h0, h1 := groups[0].hemi, groups[1].hemi
	switch {
	case (h0 == 'E' || h0 == 'W') && (h1 == 'N' || h1 == 'S' || h1 == 0):
		lat, lon = vals[1], vals[0]
	case (h0 == 'N' || h0 == 'S') && (h1 == 'N' || h1 == 'S'):
		return Parsed{}, false
	case (h0 == 'E' || h0 == 'W') && (h1 == 'E' || h1 == 'W'):
		return Parsed{}, false
	case h0 == 0 && h1 == 0:
		// Unlabelled: latitude first, unless only the other order is a
		// point in or near Great Britain (people paste "lon, lat" too).
		ukLat := func(v float64) bool { return v >= 49 && v <= 61 }
		ukLon := func(v float64) bool { return v >= -9 && v <= 3 }
		if !(ukLat(lat) && ukLon(lon)) && ukLat(lon) && ukLon(lat) {
			lat, lon = lon, lat
		}
	}
	if math.Abs(lat) > 90 || math.Abs(lon) > 180 || math.IsNaN(lat) || math.IsNaN(lon) {
		return Parsed{}, false
	}
	return Parsed{Kind: KindLatLon, Lat: lat, Lon: lon}, true
}

// ---- postcodes ----

// postcodeAreas are the UK's 121 postcode areas; a postcode-shaped token
// whose letters are not one of them is not taken for a postcode.
var postcodeAreas = func() map[string]bool {
	m := map[string]bool{}
	for _, a := range strings.Fields(`AB AL B BA BB BD BH BL BN BR BS BT CA CB CF CH CM CO CR CT CV CW
		DA DD DE DG DH DL DN DT DY E EC EH EN EX FK FY G GL GU GY HA HD HG HP HR HS HU HX IG IM IP IV
		JE KA KT KW KY L LA LD LE LL LN LS LU M ME MK ML N NE NG NN NP NR NW OL OX PA PE PH PL PO PR
		RG RH RM S SA SE SG SK SL SM SN SO SP SR SS ST SW SY TA TD TF TN TQ TR TS TW UB W WA WC WD WF
		WN WR WS WV YO ZE`) {
		m[a] = true
	}
	return m
}()

// postcodeRE finds postcode-shaped tokens, allowing O and I where digits
// belong and 0 and 1 where letters belong.
var postcodeRE = regexp.MustCompile(`(?i)(?:^|[^A-Z0-9])([A-Z]{1,2})([0-9OI][0-9A-Z]?)\s*([0-9OI][A-Z01]{2})(?:$|[^A-Z0-9])`)
var outwardRE = regexp.MustCompile(`(?i)(?:^|[^A-Z0-9])([A-Z]{1,2})([0-9OI][0-9A-Z]?)(?:\s+([0-9OI]))?\s*$`)

func toDigit(c byte) (byte, int) {
	switch c {
	case 'O':
		return '0', 1
	case 'I':
		return '1', 1
	}
	return c, 0
}

func toLetter(c byte) (byte, int) {
	switch c {
	case '0':
		return 'O', 1
	case '1':
		return 'I', 1
	}
	return c, 0
}

func isDigit(c byte) bool  { return c >= '0' && c <= '9' }
func isLetter(c byte) bool { return c >= 'A' && c <= 'Z' }

// postcodeReadings returns the postcodes an area, district part and
// inward code may spell, fewest corrections first, and whether the first
// needed one.
func postcodeReadings(area, district, inward string) ([]string, bool) {
	area, district, inward = strings.ToUpper(area), strings.ToUpper(district), strings.ToUpper(inward)
	if !postcodeAreas[area] || len(inward) != 3 {
		return nil, false
	}
	in := []byte(inward)
	fixes := 0
	var f int
	in[0], f = toDigit(in[0])
	fixes += f
	for i := 1; i < 3; i++ {
		in[i], f = toLetter(in[i])
		fixes += f
	}
	if !isDigit(in[0]) || !isLetter(in[1]) || !isLetter(in[2]) {
		return nil, false
	}
	d := []byte(district)
	d0, f0 := toDigit(d[0])
	if !isDigit(d0) {
		return nil, false
	}
	type reading struct {
		s     string
		fixes int
	}
	var rs []reading
	add := func(dist string, n int) {
		rs = append(rs, reading{area + dist + " " + string(in), fixes + f0 + n})
	}
	if len(d) == 1 {
		add(string(d0), 0)
	} else {
		c := d[1]
		switch {
		case c == 'O' || c == 'I':
			dc, _ := toDigit(c)
			add(string([]byte{d0, dc}), 1)
			add(string([]byte{d0, c}), 0)
		case isDigit(c) || isLetter(c):
			add(string([]byte{d0, c}), 0)
		default:
			return nil, false
		}
	}
	// Stable: fewest corrections first, and for equal counts the order
	// added (a digit reading before a letter one).
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].fixes < rs[j-1].fixes; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.s
	}
	return out, rs[0].fixes > 0
}

// ParsePostcode reads a postcode on its own, tolerating case, spacing and
// O/0, I/1 slips; it returns the readings best first (empty if none).
func ParsePostcode(s string) []string {
	rs, _ := parsePostcode(s)
	return rs
}

// parsePostcode is ParsePostcode that also says whether the first
// reading corrected a slip.
func parsePostcode(s string) ([]string, bool) {
	s = strings.TrimSpace(s)
	if len(s) > 16 {
		return nil, false
	}
	m := postcodeRE.FindStringSubmatch(s)
	if m == nil {
		return nil, false
	}
	return postcodeReadings(m[1], m[2], m[3])
}

// ---- addresses ----

// qualifiers are the words before the place itself ("outside Tesco").
var qualifiers = []string{
	"on or near", "on/near", "at or near", "in or near", "outside of", "outside", "o/s", "os",
	"near to", "near", "nr", "opposite", "opp", "o/p", "rear of", "r/o", "behind", "junction of",
	"junction with", "jct of", "jct", "j/w", "j/o", "adjacent to", "adjacent", "adj to", "adj",
	"next to", "in front of", "by", "at", "in", "off", "the car park of", "car park of", "corner of",
}

// streetWords end a street name ("Church Street", "Oak Close").
var streetWords = map[string]bool{
	"street": true, "road": true, "lane": true, "avenue": true, "close": true, "drive": true,
	"crescent": true, "way": true, "gardens": true, "grove": true, "place": true, "square": true,
	"terrace": true, "court": true, "walk": true, "rise": true, "view": true, "mews": true,
	"row": true, "hill": true, "parade": true, "gate": true, "leys": true, "croft": true,
	"meadow": true, "meadows": true, "yard": true, "chase": true, "boulevard": true, "end": true,
	"green": true, "fields": true, "paddock": true, "wharf": true, "vale": true, "glade": true,
	"dale": true, "bank": true, "side": true, "nook": true, "spinney": true, "orchard": true,
	"link": true, "circle": true, "approach": true, "villas": true, "cottages": true, "backway": true,
}

// dropParts are address parts that add nothing: the county and country.
var dropParts = map[string]bool{
	"leicestershire": true, "leicester shire": true, "uk": true, "united kingdom": true,
	"england": true, "gb": true, "great britain": true, "northamptonshire": true,
}

var flatRE = regexp.MustCompile(`(?i)^(?:flat|unit|apartment|apt|room|suite|floor)\s+[0-9a-z]+$`)

var houseRE = regexp.MustCompile(`(?i)^(?:(?:flat|unit|apartment|apt)\s+[0-9a-z]+\s*,?\s*)?([0-9]+[a-z]?(?:\s*-\s*[0-9]+[a-z]?)?)\s*,?\s+(.+)$`)

func parseAddress(t string) Parsed {
	p := Parsed{Kind: KindAddress}
	// The postcode first: wherever it stands, take it out of the text.
	if locs := postcodeRE.FindAllStringSubmatchIndex(t, -1); locs != nil {
		for i := len(locs) - 1; i >= 0; i-- {
			m := locs[i]
			rs, corrected := postcodeReadings(t[m[2]:m[3]], t[m[4]:m[5]], t[m[6]:m[7]])
			if rs == nil {
				continue
			}
			if p.Postcodes == nil {
				p.Postcodes, p.Corrected = rs, corrected
			}
			t = t[:m[2]] + " " + t[m[7]:]
		}
	}
	if p.Postcodes == nil {
		if m := outwardRE.FindStringSubmatchIndex(t); m != nil {
			area := strings.ToUpper(t[m[2]:m[3]])
			dist := []byte(strings.ToUpper(t[m[4]:m[5]]))
			dist[0], _ = toDigit(dist[0])
			if postcodeAreas[area] && isDigit(dist[0]) && (len(area) == 2 || m[6] >= 0) {
				p.Outward = area + string(dist)
				if m[6] >= 0 {
					d, _ := toDigit(strings.ToUpper(t[m[6]:m[7]])[0])
					p.Sector = p.Outward + " " + string(d)
				}
				t = t[:m[2]]
			}
		}
	}
	// Parts of the address, commas or line breaks between them.
	var parts []string
	for _, s := range strings.FieldsFunc(t, func(r rune) bool { return r == ',' || r == ';' || r == '\n' || r == '|' }) {
		s = strings.Join(strings.Fields(strings.Trim(s, " .-:()[]\"'")), " ")
		if s == "" || dropParts[strings.ToLower(s)] {
			continue
		}
		parts = append(parts, s)
	}
	if len(parts) > 0 {
		parts[0], p.Qualifier = stripQualifier(parts[0])
		if parts[0] == "" {
			parts = parts[1:]
		}
	}
	if len(parts) == 0 {
		if p.Postcodes == nil && p.Outward == "" {
			return Parsed{Kind: KindNone, Why: "no location given"}
		}
		return p
	}
	if !hasWord(strings.Join(parts, " ")) && p.Postcodes == nil && p.Outward == "" {
		return Parsed{Kind: KindUnknown, Why: "no place name, postcode or coordinates in it"}
	}
	// Several parts: the last is the town unless it is itself a street.
	if len(parts) >= 2 && !isStreet(parts[len(parts)-1]) && !startsWithNumber(parts[len(parts)-1]) {
		p.Town = parts[len(parts)-1]
		parts = parts[:len(parts)-1]
	}
	for _, s := range parts {
		if flatRE.MatchString(s) {
			// "Flat 3": the building's street and number say where.
			continue
		}
		if m := houseRE.FindStringSubmatch(s); m != nil && p.House == "" && p.Street == "" {
			p.House, s = strings.ReplaceAll(m[1], " ", ""), m[2]
		}
		switch {
		case p.Street == "" && isStreet(s):
			p.Street = s
		case p.Street == "" && p.Town == "" && streetThenTown(s) > 0:
			k := streetThenTown(s)
			w := strings.Fields(s)
			p.Street, p.Town = strings.Join(w[:k], " "), strings.Join(w[k:], " ")
		case p.Place == "":
			p.Place = s
		case p.Street == "":
			p.Street = s
		default:
			// A third part (a district of the town, a second street):
			// the locality is the more useful, keep it as the place.
			if p.Town == "" {
				p.Town = s
			}
		}
	}
	// "Junction of X and Y": locate on the first street, keep the other.
	if p.Street != "" {
		if i := strings.Index(strings.ToLower(p.Street), " and "); i > 0 && isStreet(p.Street[:i]) {
			if x := strings.TrimSpace(p.Street[i+5:]); isStreet(x) {
				p.CrossStreet = x
			}
			p.Street = p.Street[:i]
		}
	}
	return p
}

func stripQualifier(s string) (rest, qualifier string) {
	low := strings.ToLower(s)
	for _, q := range qualifiers {
		if strings.HasPrefix(low, q+" ") || low == q {
			return strings.TrimSpace(s[len(q):]), q
		}
	}
	return s, ""
}

func hasWord(s string) bool {
	run := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			run++
			if run >= 2 {
				return true
			}
		} else {
			run = 0
		}
	}
	return false
}

func startsWithNumber(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// isStreet says whether s ends in a street word (after expansion).
func isStreet(s string) bool {
	w := strings.Fields(NormaliseName(s))
	return len(w) >= 2 && streetWords[w[len(w)-1]]
}

// streetThenTown returns k > 0 when the first k words of s are a street
// and the rest a town ("High St Market Harborough"): the last street word
// that is followed by at least one word.
func streetThenTown(s string) int {
	w := strings.Fields(s)
	for k := len(w) - 1; k >= 2; k-- {
		n := NormaliseName(strings.Join(w[:k], " "))
		nw := strings.Fields(n)
		if len(nw) >= 2 && streetWords[nw[len(nw)-1]] {
			return k
		}
	}
	return 0
}
