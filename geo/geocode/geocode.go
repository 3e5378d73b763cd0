package geocode

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Query is one location to geocode: free text, or its parts, or
// coordinates. Coordinates, when given, win over text; Postcode, Street
// and Town add to (and override the same parts of) what Text says.
type Query struct {
	Text                   string
	Postcode, Street, Town string
	Easting, Northing      *float64
	Lat, Lon               *float64
}

// Status is the outcome of one geocode.
type Status string

// The statuses. Only StatusMatched should go on the map without a
// person looking at it.
const (
	// StatusMatched: placed with confidence >= MatchThreshold and no
	// rival candidate far from the best.
	StatusMatched Status = "matched"
	// StatusLowConfidence: placed, but vaguely (a postcode sector, a
	// town, a fuzzy match) or ambiguously (Alternatives far apart).
	StatusLowConfidence Status = "low-confidence"
	// StatusNotFound: the text was read (a street, a place, a postcode)
	// but nothing in the gazetteer matches it.
	StatusNotFound Status = "not-found"
	// StatusNotUnderstood: there is text, but not one Parse can read.
	StatusNotUnderstood Status = "not-understood"
	// StatusNoLocation: no location was given (empty, "n/a", "unknown").
	StatusNoLocation Status = "no-location"
)

// MatchThreshold is the confidence at and above which a single,
// unambiguous candidate is StatusMatched.
const MatchThreshold = 0.7

// Methods: how a candidate was found.
const (
	MethodRemembered  = "remembered"
	MethodLatLon      = "latlon"
	MethodEastNorth   = "eastnorth"
	MethodGridRef     = "gridref"
	MethodAddress     = "address"
	MethodPostcode    = "postcode"
	MethodSector      = "postcode-sector"
	MethodDistrict    = "postcode-district"
	MethodStreet      = "street"
	MethodStreetFuzzy = "street-fuzzy"
	MethodPlace       = "place"
	MethodPlaceFuzzy  = "place-fuzzy"
	MethodLocality    = "locality"
)

// Candidate is one place a location may be.
type Candidate struct {
	// Method says how it was found (the Method* constants).
	Method string
	// Label is the gazetteer entry in words ("High Street, Market
	// Harborough", "LE16 7NJ", "SP 7350 8730").
	Label string
	// EntryID names the entry: "postcode:LE16 7NJ", "gazetteer:123",
	// "sector:LE16 7", "decision:5", or "" for coordinates.
	EntryID string
	// Confidence in [0,1]; see the package doc for the scale.
	Confidence        float64
	Lon, Lat          float64 // WGS84
	Easting, Northing float64 // British National Grid
	// InDistrict is false for a point outside Harborough District (the
	// boundaries row of kind 'district'); such points are kept, flagged.
	InDistrict bool
}

// Result is the outcome of one geocode: the best candidate (zero unless
// Status is matched or low-confidence), the others worth a look, and a
// reason in words.
type Result struct {
	Status       Status
	Best         Candidate
	Alternatives []Candidate
	Reason       string
}

// Geocoder matches location text against the gazetteer. It keeps an
// in-memory copy of the postcodes, the gazetteer entries, the district
// outline and the remembered decisions, refreshed when a load or a
// decision changes them (checked at most once a second), and asks
// PostgreSQL for what needs it: pg_trgm fuzzy matches and exact
// ST_Transform conversions. Safe for concurrent use.
type Geocoder struct {
	pool *pgxpool.Pool

	mu        sync.Mutex // guards snap, checkedAt, checking
	snap      *snapshot
	checkedAt time.Time
	checking  bool
	loadMu    sync.Mutex // one version check or load at a time
	// RefreshEvery is how often the geocoder checks whether the
	// gazetteer changed; 0 means every second.
	RefreshEvery time.Duration
}

// New returns a geocoder on pool. It reads nothing until the first
// Geocode.
func New(pool *pgxpool.Pool) *Geocoder {
	return &Geocoder{pool: pool}
}

// ErrTooLong is wrapped by errors about oversized input.
var ErrTooLong = errors.New("too long")

// Geocode places one query. An error means the database failed; every
// kind of bad input is a Result with a Status and a Reason instead.
func (g *Geocoder) Geocode(ctx context.Context, q Query) (Result, error) {
	s, err := g.current(ctx)
	if err != nil {
		return Result{}, err
	}
	m := matcher{g: g, s: s, ctx: ctx}
	return m.geocode(q)
}

// Refresh reloads the in-memory gazetteer now.
func (g *Geocoder) Refresh(ctx context.Context) error {
	s, err := loadSnapshot(ctx, g.pool)
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.snap, g.checkedAt = s, time.Now()
	g.mu.Unlock()
	return nil
}

// current returns the snapshot to match against. At most once per
// RefreshEvery one caller checks the database's version (and reloads if
// it changed) while the others go on with the snapshot they have, so a
// batch never stalls behind the check.
func (g *Geocoder) current(ctx context.Context) (*snapshot, error) {
	every := g.RefreshEvery
	if every <= 0 {
		every = time.Second
	}
	g.mu.Lock()
	s := g.snap
	if s != nil && (g.checking || time.Since(g.checkedAt) < every) {
		g.mu.Unlock()
		return s, nil
	}
	g.checking = true
	g.mu.Unlock()
	defer func() {
		g.mu.Lock()
		g.checking = false
		g.mu.Unlock()
	}()
	// Without a snapshot every caller waits here for the one load.
	g.loadMu.Lock()
	defer g.loadMu.Unlock()
	g.mu.Lock()
	s = g.snap
	fresh := s != nil && time.Since(g.checkedAt) < every
	g.mu.Unlock()
	if fresh {
		return s, nil
	}
	v, err := readVersion(ctx, g.pool)
	if err != nil {
		return nil, err
	}
	switch {
	case s == nil || s.version.data != v.data:
		if s, err = loadSnapshot(ctx, g.pool); err != nil {
			return nil, err
		}
	case s.version.decisions != v.decisions:
		if s, err = s.withDecisions(ctx, g.pool, v); err != nil {
			return nil, err
		}
	}
	g.mu.Lock()
	g.snap, g.checkedAt = s, time.Now()
	g.mu.Unlock()
	return s, nil
}

// reloadDecisions reads the version after a decision was written and
// brings the snapshot up to it (only the decisions, unless more changed).
func (g *Geocoder) reloadDecisions(ctx context.Context) error {
	g.loadMu.Lock()
	defer g.loadMu.Unlock()
	v, err := readVersion(ctx, g.pool)
	if err != nil {
		return err
	}
	g.mu.Lock()
	s := g.snap
	g.mu.Unlock()
	if s != nil && s.version.data == v.data {
		s, err = s.withDecisions(ctx, g.pool, v)
	} else {
		s, err = loadSnapshot(ctx, g.pool)
	}
	if err != nil {
		return err
	}
	g.mu.Lock()
	g.snap, g.checkedAt = s, time.Now()
	g.mu.Unlock()
	return nil
}

const insertDecision = `INSERT INTO geocode_decisions (text_norm, text, method, label, entry_id, easting, northing, lon, lat, decided_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id`

// Remember records a person's decision that text is at c; from then on
// Geocode answers the same normalised text (Normalise) with it first, as
// method "remembered" with confidence 1. by names who decided. c needs
// either Lon/Lat or Easting/Northing; the other pair is computed with
// PostGIS.
func (g *Geocoder) Remember(ctx context.Context, text string, c Candidate, by string) error {
	key := Normalise(text)
	if key == "" {
		return errors.New("remember: the text has no words to remember it by")
	}
	if len(text) > 4*MaxTextLen {
		return fmt.Errorf("remember: text %w (%d bytes)", ErrTooLong, len(text))
	}
	if strings.TrimSpace(by) == "" {
		return errors.New("remember: who decided is required")
	}
	switch {
	case c.Easting != 0 || c.Northing != 0:
		lon, lat, err := toLonLat(ctx, g.pool, c.Easting, c.Northing)
		if err != nil {
			return err
		}
		c.Lon, c.Lat = lon, lat
	case c.Lon != 0 || c.Lat != 0:
		if math.Abs(c.Lat) > 90 || math.Abs(c.Lon) > 180 {
			return fmt.Errorf("remember: %v, %v is not a latitude and longitude", c.Lat, c.Lon)
		}
		e, n, err := toBNG(ctx, g.pool, c.Lon, c.Lat)
		if err != nil {
			return err
		}
		c.Easting, c.Northing = e, n
	default:
		return errors.New("remember: the candidate has no point")
	}
	method := c.Method
	if method == "" {
		method = "manual"
	}
	var id int64
	if err := g.pool.QueryRow(ctx, insertDecision, key, text, method, c.Label, c.EntryID,
		c.Easting, c.Northing, c.Lon, c.Lat, by).Scan(&id); err != nil {
		return fmt.Errorf("remember: %w", err)
	}
	// Make it visible at once to this geocoder (others see it at their
	// next version check).
	if err := g.reloadDecisions(ctx); err != nil {
		return fmt.Errorf("remember: decision stored, but reloading decisions: %w", err)
	}
	return nil
}

const toLonLatSQL = `SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 27700), 4326) p`
const toBNGSQL = `SELECT ST_X(p), ST_Y(p) FROM ST_Transform(ST_SetSRID(ST_MakePoint($1::float8, $2::float8), 4326), 27700) p`

// toLonLat converts a BNG point to WGS84 with PostGIS, so every point
// the geocoder gives agrees with the database's own transforms.
func toLonLat(ctx context.Context, pool *pgxpool.Pool, e, n float64) (lon, lat float64, err error) {
	err = pool.QueryRow(ctx, toLonLatSQL, e, n).Scan(&lon, &lat)
	return
}

func toBNG(ctx context.Context, pool *pgxpool.Pool, lon, lat float64) (e, n float64, err error) {
	err = pool.QueryRow(ctx, toBNGSQL, lon, lat).Scan(&e, &n)
	return
}

// ---- matching ----

type matcher struct {
	g   *Geocoder
	s   *snapshot
	ctx context.Context
}

func (m *matcher) geocode(q Query) (Result, error) {
	// Coordinates given as numbers win.
	if q.Lat != nil && q.Lon != nil {
		return m.fromLatLon(*q.Lat, *q.Lon)
	}
	if q.Easting != nil && q.Northing != nil {
		return m.fromBNG(*q.Easting, *q.Northing, 1, MethodEastNorth)
	}
	text := q.Text
	if strings.TrimSpace(text) == "" {
		text = strings.Join(nonEmpty(q.Street, q.Town, q.Postcode), ", ")
	}
	if key := Normalise(text); key != "" && len(text) <= MaxTextLen {
		if c, ok := m.s.remembered[key]; ok {
			return Result{Status: StatusMatched, Best: c, Reason: "a person placed this text before"}, nil
		}
	}
	p := Parse(q.Text)
	if q.Postcode != "" {
		if rs, corrected := parsePostcode(q.Postcode); rs != nil {
			p.Postcodes, p.Corrected = rs, corrected
		} else if pp := parseAddress(q.Postcode); pp.Outward != "" {
			p.Outward, p.Sector = pp.Outward, pp.Sector
		}
	}
	if st := strings.TrimSpace(q.Street); st != "" {
		// A street column often carries the house number ("12 High St").
		p.Street, p.CrossStreet = st, ""
		if m := houseRE.FindStringSubmatch(st); m != nil {
			p.House, p.Street = strings.ReplaceAll(m[1], " ", ""), m[2]
		}
	}
	if q.Town != "" {
		p.Town = q.Town
	}
	if (q.Postcode != "" || q.Street != "" || q.Town != "") && (p.Kind == KindNone || p.Kind == KindUnknown) {
		p.Kind, p.Why = KindAddress, ""
	}
	switch p.Kind {
	case KindNone:
		return Result{Status: StatusNoLocation, Reason: p.Why}, nil
	case KindUnknown:
		return Result{Status: StatusNotUnderstood, Reason: p.Why}, nil
	case KindLatLon:
		return m.fromLatLon(p.Lat, p.Lon)
	case KindEastNorth:
		return m.fromBNG(p.Easting, p.Northing, 1, MethodEastNorth)
	case KindGridRef:
		return m.fromBNG(p.Easting, p.Northing, p.Precision, MethodGridRef)
	}
	return m.address(p)
}

func nonEmpty(ss ...string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

// gridConfidence: a 10-figure reference (1 m) or an E/N pair is exact,
// coarser squares less so; a 4-figure (1 km) square is low-confidence.
func gridConfidence(precision float64) float64 {
	switch {
	case precision <= 1:
		return 1
	case precision <= 10:
		return 0.95
	case precision <= 100:
		return 0.9
	case precision <= 1000:
		return 0.6
	}
	return 0.3
}

func (m *matcher) fromBNG(e, n, precision float64, method string) (Result, error) {
	if math.IsNaN(e) || math.IsNaN(n) || e < 0 || e >= 700000 || n < 0 || n >= 1300000 {
		return Result{Status: StatusNotUnderstood, Reason: fmt.Sprintf("easting/northing %g, %g is outside Great Britain", e, n)}, nil
	}
	lon, lat, err := toLonLat(m.ctx, m.g.pool, e, n)
	if err != nil {
		return Result{}, err
	}
	label := fmt.Sprintf("%.0f, %.0f", e, n)
	if method == MethodGridRef {
		digits := 5 - int(math.Round(math.Log10(precision)))
		label = FormatGridRef(e, n, digits)
	}
	c := Candidate{Method: method, Label: label, Confidence: gridConfidence(precision),
		Lon: lon, Lat: lat, Easting: e, Northing: n, InDistrict: m.s.inDistrict(e, n)}
	return m.single(c, fmt.Sprintf("converted exactly (precision %g m)", precision)), nil
}

func (m *matcher) fromLatLon(lat, lon float64) (Result, error) {
	if math.IsNaN(lat) || math.IsNaN(lon) || math.Abs(lat) > 90 || math.Abs(lon) > 180 {
		return Result{Status: StatusNotUnderstood, Reason: fmt.Sprintf("%g, %g is not a latitude and longitude", lat, lon)}, nil
	}
	e, n, err := toBNG(m.ctx, m.g.pool, lon, lat)
	if err != nil {
		return Result{}, err
	}
	c := Candidate{Method: MethodLatLon, Label: strconv.FormatFloat(lat, 'f', 6, 64) + ", " + strconv.FormatFloat(lon, 'f', 6, 64),
		Confidence: 1, Lon: lon, Lat: lat, Easting: e, Northing: n, InDistrict: m.s.inDistrict(e, n)}
	return m.single(c, "converted exactly"), nil
}

func (m *matcher) single(c Candidate, reason string) Result {
	st := StatusMatched
	if c.Confidence < MatchThreshold {
		st = StatusLowConfidence
	}
	if !c.InDistrict {
		reason += "; outside Harborough District"
	}
	return Result{Status: st, Best: c, Reason: reason}
}

func (s *snapshot) candidate(e *entry, method string, conf float64) Candidate {
	label := e.name
	if e.locality != "" && e.kind != "place" && !strings.Contains(strings.ToLower(e.name), strings.ToLower(e.locality)) {
		label += ", " + e.locality
	}
	if e.postcode != "" && e.kind == "address" {
		label += " " + e.postcode
	}
	return Candidate{Method: method, Label: label, EntryID: "gazetteer:" + strconv.FormatInt(e.id, 10),
		Confidence: round3(conf * e.weight), Lon: e.lon, Lat: e.lat, Easting: e.e, Northing: e.n, InDistrict: e.inDistrict}
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

func dist(e1, n1, e2, n2 float64) float64 { return math.Hypot(e1-e2, n1-n2) }

// localityRadius is how far from a town's point its streets may lie.
const localityRadius = 4000.0

// address matches the words and postcode of an address.
func (m *matcher) address(p Parsed) (Result, error) {
	s := m.s
	var cands []Candidate
	var reasons []string

	// The postcode: the unit, else its sector, else its district.
	var pc *pcPoint
	pcLabel := ""
	for _, code := range p.Postcodes {
		if pt, ok := s.postcodes[code]; ok {
			pc, pcLabel = pt, code
			break
		}
	}
	if pc != nil {
		conf := 0.95
		if pc.quality > 20 {
			conf = 0.9
		}
		if p.Corrected || pcLabel != p.Postcodes[0] {
			conf -= 0.05
			reasons = append(reasons, "postcode read as "+pcLabel)
		}
		cands = append(cands, Candidate{Method: MethodPostcode, Label: pcLabel, EntryID: "postcode:" + pcLabel,
			Confidence: conf, Lon: pc.lon, Lat: pc.lat, Easting: pc.e, Northing: pc.n, InDistrict: pc.inDistrict})
	} else {
		sector, outward := p.Sector, p.Outward
		if len(p.Postcodes) > 0 {
			code := p.Postcodes[0]
			sector, outward = code[:len(code)-2], code[:strings.IndexByte(code, ' ')]
			reasons = append(reasons, "postcode "+code+" is not in Code-Point Open")
		}
		if c, ok := s.sectors[sector]; ok && sector != "" {
			cands = append(cands, Candidate{Method: MethodSector, Label: sector, EntryID: "sector:" + sector,
				Confidence: 0.6, Lon: c.lon, Lat: c.lat, Easting: c.e, Northing: c.n, InDistrict: c.inDistrict})
		} else if c, ok := s.districts[outward]; ok && outward != "" {
			cands = append(cands, Candidate{Method: MethodDistrict, Label: outward, EntryID: "district:" + outward,
				Confidence: 0.4, Lon: c.lon, Lat: c.lat, Easting: c.e, Northing: c.n, InDistrict: c.inDistrict})
		}
	}

	// The town: its place entries restrict streets and places to it.
	town := p.Town
	place := p.Place
	street := p.Street
	if town == "" && street == "" && place != "" {
		// "Tesco Lutterworth", "Welland Park": a known town at the end?
		if pl, tw := s.splitTown(place); tw != "" {
			place, town = pl, tw
		}
	}
	var towns []*entry
	if town != "" {
		towns = s.localities[NormaliseName(town)]
		if len(towns) == 0 {
			if fz, err := m.fuzzyLocalities(town); err != nil {
				return Result{}, err
			} else {
				towns = fz
			}
		}
		if len(towns) == 0 {
			// An unknown town ("High St, Bowdon Parva") restricts nothing:
			// the street or place is looked for in the whole gazetteer,
			// with the lower confidence of a match without a town.
			reasons = append(reasons, "town "+strconvQuote(town)+" not in the gazetteer")
		}
	}
	near := func(e *entry) bool {
		if len(towns) == 0 && pc == nil {
			return true
		}
		for _, t := range towns {
			if dist(e.e, e.n, t.e, t.n) <= localityRadius {
				return true
			}
		}
		if pc != nil && dist(e.e, e.n, pc.e, pc.n) <= localityRadius {
			return true
		}
		return false
	}
	// closeness lowers a named match's confidence with its distance from
	// the town's (or postcode's) point, so of two "Supermarket"s the one
	// in the town comes first.
	closeness := func(e *entry) float64 {
		d := math.Inf(1)
		for _, t := range towns {
			d = math.Min(d, dist(e.e, e.n, t.e, t.n))
		}
		if pc != nil {
			d = math.Min(d, dist(e.e, e.n, pc.e, pc.n))
		}
		if math.IsInf(d, 1) {
			return 1
		}
		// Within 1.5 km of the town's point is in the town; beyond, up
		// to 15% less at localityRadius.
		return 1 - 0.15*math.Max(0, math.Min((d-agreeDistance)/(localityRadius-agreeDistance), 1))
	}

	// sameTown: of two streets of one name near the town, the one the
	// gazetteer files under that town (an LLPG street, or a police.uk
	// street whose nearest settlement it is) is the likelier; one filed
	// under a neighbouring village loses 20%.
	townNorm := NormaliseName(town)
	sameTown := func(e *entry) float64 {
		if townNorm == "" || e.locality == "" || len(towns) == 0 {
			return 1
		}
		ln := NormaliseName(e.locality)
		if ln == townNorm {
			return 1
		}
		for _, t := range towns {
			// A town's other name ("Harborough") files under its own.
			if ln == t.nameNorm || ln == NormaliseName(t.locality) {
				return 1
			}
		}
		return 0.8
	}

	// Address points and streets. At a junction ("junction of Station
	// Road and Main Street") the second street is tried when the first
	// is not known.
	streets := []string{street}
	if p.CrossStreet != "" {
		streets = append(streets, p.CrossStreet)
	}
	for si, street := range streets {
		if street == "" {
			break
		}
		before := len(cands)
		sn := NormaliseName(street)
		if p.House != "" && si == 0 {
			for _, e := range s.byName[NormaliseName(p.House+" "+street)] {
				if e.kind == "address" && (e.postcode == pcLabel || near(e)) {
					cands = append(cands, s.candidate(e, MethodAddress, 0.98))
				}
			}
		}
		found := 0
		for _, e := range s.byName[sn] {
			if e.kind == "address" || !near(e) {
				continue
			}
			conf := 0.85
			if len(towns) == 0 && pc == nil {
				conf = 0.75
			}
			cands = append(cands, s.candidate(e, MethodStreet, conf*closeness(e)*sameTown(e)))
			found++
		}
		if found == 0 {
			fz, err := m.fuzzy(sn, []string{"street", "landmark", "place"}, towns, pc)
			if err != nil {
				return Result{}, err
			}
			for _, f := range fz {
				cands = append(cands, s.candidate(f.e, MethodStreetFuzzy, fuzzyConfidence(f, len(towns) > 0 || pc != nil)*closeness(f.e)))
			}
			if len(fz) == 0 {
				reasons = append(reasons, "street "+strconvQuote(street)+" not found")
			}
		}
		if len(cands) > before {
			break
		}
	}
	// A place or landmark ("Welland Park", "Tesco").
	if place != "" {
		pn := NormaliseName(place)
		found := 0
		for _, e := range s.byName[pn] {
			if !near(e) {
				continue
			}
			conf := 0.8
			if e.kind == "place" {
				// A settlement's point stands for a whole village or town.
				conf = 0.5
			}
			if e.kind == "street" {
				conf = 0.75
			}
			cands = append(cands, s.candidate(e, MethodPlace, conf*closeness(e)))
			found++
		}
		if found == 0 && supermarketBrands[pn] {
			// police.uk calls every supermarket "Supermarket": near the
			// town, it is probably the one meant, but not surely.
			for _, e := range s.byName["supermarket"] {
				if near(e) && (len(towns) > 0 || pc != nil) {
					cands = append(cands, s.candidate(e, MethodPlace, 0.6*closeness(e)))
					found++
				}
			}
		}
		if found == 0 {
			fz, err := m.fuzzy(pn, []string{"landmark", "place", "street"}, towns, pc)
			if err != nil {
				return Result{}, err
			}
			for _, f := range fz {
				conf := 0.75
				if f.e.kind == "place" {
					conf = 0.5
				}
				cands = append(cands, s.candidate(f.e, MethodPlaceFuzzy, conf/0.8*fuzzyConfidence(f, true)*closeness(f.e)))
			}
			if len(fz) == 0 {
				reasons = append(reasons, "place "+strconvQuote(place)+" not found")
			}
		}
	}
	// Only the town matched: its point, low-confidence.
	if len(cands) == 0 && len(towns) > 0 {
		for _, t := range towns {
			cands = append(cands, s.candidate(t, MethodLocality, 0.45))
		}
		if place != "" || street != "" {
			reasons = append(reasons, "placed at the town only")
		}
	}
	if len(cands) == 0 {
		if len(reasons) == 0 {
			reasons = append(reasons, "nothing in the gazetteer matches")
		}
		return Result{Status: StatusNotFound, Reason: strings.Join(reasons, "; ")}, nil
	}
	return decide(cands, pc != nil, reasons), nil
}

// fuzzyConfidence: a name within a typing slip or two of the entry's
// (editDistance; "Springfeild", "Wariwck") is 0.8, as sure as a typed
// name gets; otherwise the pg_trgm similarity decides, 0.88 × √similarity
// but at most 0.75, so only a close likeness is near matched. Without a
// town or postcode to restrict the search, 15% less.
func fuzzyConfidence(h fuzzyHit, restricted bool) float64 {
	c := math.Min(0.75, 0.88*math.Sqrt(h.sim))
	if h.slip {
		c = 0.8
	}
	if !restricted {
		c *= 0.85
	}
	return c
}

func strconvQuote(s string) string { return strconv.Quote(s) }

// agreeDistance: two candidates this close are the same place.
const agreeDistance = 1500.0

// decide picks the best candidate and the status. A postcode unit and a
// street that agree (within agreeDistance) confirm each other: the more
// precise point (address, else postcode unit) wins with more confidence.
// Candidates that disagree make the result ambiguous.
func decide(cands []Candidate, havePostcode bool, reasons []string) Result {
	// Merge duplicates (the same entry found twice).
	seen := map[string]bool{}
	uniq := cands[:0]
	for _, c := range cands {
		k := c.EntryID
		if k != "" && seen[k] {
			continue
		}
		seen[k] = true
		uniq = append(uniq, c)
	}
	cands = uniq
	precision := func(c Candidate) int {
		switch c.Method {
		case MethodAddress:
			return 0
		case MethodPostcode:
			return 1
		case MethodStreet, MethodStreetFuzzy, MethodPlace, MethodPlaceFuzzy:
			return 2
		case MethodSector:
			return 3
		}
		return 4
	}
	// Corroboration: a postcode (or sector) and a named match near it.
	var pcCand *Candidate
	for i := range cands {
		if cands[i].Method == MethodPostcode || cands[i].Method == MethodSector || cands[i].Method == MethodDistrict {
			pcCand = &cands[i]
		}
	}
	if pcCand != nil {
		for i := range cands {
			c := &cands[i]
			if c == pcCand {
				continue
			}
			radius := agreeDistance
			if pcCand.Method == MethodDistrict {
				radius = 8000
			}
			if dist(c.Easting, c.Northing, pcCand.Easting, pcCand.Northing) <= radius {
				// The named match confirms the postcode, and the
				// postcode the name.
				c.Confidence = round3(math.Min(0.97, c.Confidence+0.1))
				if pcCand.Method == MethodPostcode {
					pcCand.Confidence = round3(math.Min(0.98, pcCand.Confidence+0.03))
				}
			} else if pcCand.Method == MethodPostcode {
				c.Confidence = round3(c.Confidence * 0.6)
			}
		}
	}
	sort.SliceStable(cands, func(i, j int) bool {
		a, b := cands[i], cands[j]
		if math.Abs(a.Confidence-b.Confidence) > 0.02 {
			return a.Confidence > b.Confidence
		}
		return precision(a) < precision(b)
	})
	best := cands[0]
	// A postcode unit, or an address point, beats a street or sector it
	// agrees with: it is the more precise point.
	for _, c := range cands[1:] {
		if precision(c) < precision(best) && c.Confidence >= best.Confidence-0.1 &&
			dist(c.Easting, c.Northing, best.Easting, best.Northing) <= agreeDistance {
			best = c
		}
	}
	var alts []Candidate
	ambiguous := false
	for _, c := range cands {
		if c.EntryID == best.EntryID && c.Method == best.Method {
			continue
		}
		far := dist(c.Easting, c.Northing, best.Easting, best.Northing) > agreeDistance
		if far && c.Confidence >= best.Confidence-0.15 {
			ambiguous = true
		}
		if len(alts) < 5 {
			alts = append(alts, c)
		}
	}
	r := Result{Status: StatusMatched, Best: best, Alternatives: alts}
	switch {
	case ambiguous:
		r.Status = StatusLowConfidence
		reasons = append([]string{"ambiguous: candidates more than 1.5 km apart"}, reasons...)
	case best.Confidence < MatchThreshold:
		r.Status = StatusLowConfidence
	}
	if !best.InDistrict {
		reasons = append(reasons, "outside Harborough District")
	}
	r.Reason = strings.Join(append([]string{"by " + best.Method + " " + strconv.Quote(best.Label)}, reasons...), "; ")
	return r
}
