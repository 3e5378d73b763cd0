package geocode

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/wkb"
)

// entry is one gazetteer row in memory.
type entry struct {
	id                        int64
	kind, source              string
	name, nameNorm            string
	locality, postcode, house string
	weight                    float64
	points                    int
	e, n, lon, lat            float64
	inDistrict                bool
	trgm                      []uint32 // trigrams(nameNorm)
}

// pcPoint is a postcode unit, or a sector or district centroid.
type pcPoint struct {
	e, n, lon, lat float64
	quality        int
	inDistrict     bool
}

// snapshot is the geocoder's in-memory copy of what it matches against.
type snapshot struct {
	version    version
	postcodes  map[string]*pcPoint // "LE16 7NJ"
	sectors    map[string]*pcPoint // "LE16 7"
	districts  map[string]*pcPoint // "LE16"
	byName     map[string][]*entry // name_norm
	byID       map[int64]*entry
	byKind     map[string][]*entry
	entries    []*entry            // every entry; postings index into it
	postings   map[uint32][]int32  // trigram -> entries holding it
	localities map[string][]*entry // settlements and named places by name_norm
	remembered map[string]Candidate
	district   *area // BNG; nil if no district outline is loaded
}

// area is a multipolygon prepared for fast point-in-polygon tests: the
// bound of the whole and of each ring computed once (orb's RingContains
// recomputes a ring's bound on every call, which dominated loading
// 23,000 postcodes).
type area struct {
	bound orb.Bound
	polys [][]preparedRing // outer ring first, then holes
}

type preparedRing struct {
	bound orb.Bound
	ring  orb.Ring
}

func prepare(mp orb.MultiPolygon) *area {
	a := &area{bound: mp.Bound()}
	for _, p := range mp {
		var rs []preparedRing
		for _, r := range p {
			rs = append(rs, preparedRing{bound: r.Bound(), ring: r})
		}
		a.polys = append(a.polys, rs)
	}
	return a
}

// contains reports whether pt is inside the area (on the boundary
// counts as inside).
func (a *area) contains(pt orb.Point) bool {
	if !a.bound.Contains(pt) {
		return false
	}
	for _, p := range a.polys {
		if len(p) == 0 || !p[0].bound.Contains(pt) || !ringContains(p[0].ring, pt) {
			continue
		}
		inHole := false
		for _, h := range p[1:] {
			if h.bound.Contains(pt) && ringContains(h.ring, pt) {
				inHole = true
				break
			}
		}
		if !inHole {
			return true
		}
	}
	return false
}

// ringContains is the even-odd crossing test.
func ringContains(r orb.Ring, pt orb.Point) bool {
	in := false
	x, y := pt[0], pt[1]
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		xi, yi, xj, yj := r[i][0], r[i][1], r[j][0], r[j][1]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// versionSQL says what the snapshot was made from: the gazetteer's
// version, the postcodes and the district outline (reload all when they
// change), and the newest decision (reload only the decisions).
const versionSQL = `SELECT concat_ws('/',
	(SELECT version FROM gazetteer_version),
	(SELECT count(*) FROM postcodes), (SELECT max(loaded_at) FROM postcodes),
	(SELECT count(*) FROM boundaries WHERE kind = 'district'), (SELECT max(loaded_at) FROM boundaries WHERE kind = 'district')),
	coalesce((SELECT max(id) FROM geocode_decisions), 0)`

// version is what a snapshot was made from.
type version struct {
	data      string // gazetteer, postcodes, district
	decisions int64  // newest decision id
}

func readVersion(ctx context.Context, pool *pgxpool.Pool) (version, error) {
	var v version
	if err := pool.QueryRow(ctx, versionSQL).Scan(&v.data, &v.decisions); err != nil {
		return v, fmt.Errorf("geocode: gazetteer version: %w", err)
	}
	return v, nil
}

const (
	snapPostcodes = `SELECT postcode, quality, easting, northing, ST_X(geom), ST_Y(geom) FROM postcodes`
	snapEntries   = `SELECT id, kind, source, name, name_norm, locality, postcode, house, weight, points,
	ST_X(geom_bng), ST_Y(geom_bng), ST_X(geom), ST_Y(geom) FROM gazetteer`
	snapDecisions = `SELECT DISTINCT ON (text_norm) id, text_norm, method, label, entry_id, easting, northing, lon, lat
FROM geocode_decisions ORDER BY text_norm, decided_at DESC, id DESC`
	snapDistrict = `SELECT ST_AsBinary(ST_Multi(ST_Union(geom_bng))) FROM boundaries WHERE kind = 'district'`
)

// loadSnapshot reads the postcodes, the gazetteer, the decisions and the
// district outline in one repeatable-read transaction, so they agree.
func loadSnapshot(ctx context.Context, pool *pgxpool.Pool) (*snapshot, error) {
	v, err := readVersion(ctx, pool)
	if err != nil {
		return nil, err
	}
	s := &snapshot{
		version:    v,
		postcodes:  map[string]*pcPoint{},
		sectors:    map[string]*pcPoint{},
		districts:  map[string]*pcPoint{},
		byName:     map[string][]*entry{},
		byID:       map[int64]*entry{},
		byKind:     map[string][]*entry{},
		postings:   map[uint32][]int32{},
		localities: map[string][]*entry{},
		remembered: map[string]Candidate{},
	}
	var districtWKB []byte
	if err := pool.QueryRow(ctx, snapDistrict).Scan(&districtWKB); err != nil {
		return nil, fmt.Errorf("geocode: district outline: %w", err)
	}
	if districtWKB != nil {
		g, err := wkb.Unmarshal(districtWKB)
		if err != nil {
			return nil, fmt.Errorf("geocode: district outline: %w", err)
		}
		switch g := g.(type) {
		case orb.MultiPolygon:
			s.district = prepare(g)
		case orb.Polygon:
			s.district = prepare(orb.MultiPolygon{g})
		}
	}

	type sum struct{ e, n, lon, lat, k float64 }
	sectors, districts := map[string]*sum{}, map[string]*sum{}
	rows, err := pool.Query(ctx, snapPostcodes)
	if err != nil {
		return nil, fmt.Errorf("geocode: postcodes: %w", err)
	}
	for rows.Next() {
		var code string
		var q int16
		var e, n int32
		var lon, lat float64
		if err := rows.Scan(&code, &q, &e, &n, &lon, &lat); err != nil {
			rows.Close()
			return nil, err
		}
		p := &pcPoint{e: float64(e), n: float64(n), lon: lon, lat: lat, quality: int(q)}
		p.inDistrict = s.inDistrict(p.e, p.n)
		s.postcodes[code] = p
		sp := strings.IndexByte(code, ' ')
		for key, m := range map[string]map[string]*sum{code[:sp+2]: sectors, code[:sp]: districts} {
			a := m[key]
			if a == nil {
				a = &sum{}
				m[key] = a
			}
			a.e += p.e
			a.n += p.n
			a.lon += lon
			a.lat += lat
			a.k++
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("geocode: postcodes: %w", err)
	}
	// Sector and district centroids: the mean of their units' points
	// (the mean of WGS84 coordinates is as good as a transform over a few
	// kilometres).
	for dst, src := range map[*map[string]*pcPoint]map[string]*sum{&s.sectors: sectors, &s.districts: districts} {
		for k, a := range src {
			p := &pcPoint{e: math.Round(a.e / a.k), n: math.Round(a.n / a.k), lon: a.lon / a.k, lat: a.lat / a.k, quality: 60}
			p.inDistrict = s.inDistrict(p.e, p.n)
			(*dst)[k] = p
		}
	}

	rows, err = pool.Query(ctx, snapEntries)
	if err != nil {
		return nil, fmt.Errorf("geocode: gazetteer: %w", err)
	}
	for rows.Next() {
		e := &entry{}
		var w float32
		if err := rows.Scan(&e.id, &e.kind, &e.source, &e.name, &e.nameNorm, &e.locality, &e.postcode, &e.house,
			&w, &e.points, &e.e, &e.n, &e.lon, &e.lat); err != nil {
			rows.Close()
			return nil, err
		}
		e.weight = float64(w)
		e.inDistrict = s.inDistrict(e.e, e.n)
		e.trgm = trigrams(e.nameNorm)
		s.byKind[e.kind] = append(s.byKind[e.kind], e)
		for _, t := range e.trgm {
			s.postings[t] = append(s.postings[t], int32(len(s.entries)))
		}
		s.entries = append(s.entries, e)
		s.byName[e.nameNorm] = append(s.byName[e.nameNorm], e)
		s.byID[e.id] = e
		if e.kind == "place" {
			s.localities[e.nameNorm] = append(s.localities[e.nameNorm], e)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("geocode: gazetteer: %w", err)
	}

	if s.remembered, err = loadDecisions(ctx, pool, s); err != nil {
		return nil, err
	}
	return s, nil
}

// withDecisions returns a copy of s with the decisions read again: a
// person's decision need not reload the whole gazetteer.
func (s *snapshot) withDecisions(ctx context.Context, pool *pgxpool.Pool, v version) (*snapshot, error) {
	c := *s
	var err error
	if c.remembered, err = loadDecisions(ctx, pool, s); err != nil {
		return nil, err
	}
	c.version = v
	return &c, nil
}

func loadDecisions(ctx context.Context, pool *pgxpool.Pool, s *snapshot) (map[string]Candidate, error) {
	out := map[string]Candidate{}
	rows, err := pool.Query(ctx, snapDecisions)
	if err != nil {
		return nil, fmt.Errorf("geocode: decisions: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var key string
		c := Candidate{Confidence: 1}
		var method string
		if err := rows.Scan(&id, &key, &method, &c.Label, &c.EntryID, &c.Easting, &c.Northing, &c.Lon, &c.Lat); err != nil {
			return nil, err
		}
		c.Method = MethodRemembered
		if c.EntryID == "" {
			c.EntryID = fmt.Sprintf("decision:%d", id)
		}
		if c.Label == "" {
			c.Label = "decided by a person (" + method + ")"
		}
		c.InDistrict = s.inDistrict(c.Easting, c.Northing)
		out[key] = c
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("geocode: decisions: %w", err)
	}
	return out, nil
}

// inDistrict tests a BNG point against the district outline; with no
// outline loaded every point counts as inside (nothing to flag against).
func (s *snapshot) inDistrict(e, n float64) bool {
	if s.district == nil {
		return true
	}
	return s.district.contains(orb.Point{e, n})
}

// splitTown splits "tesco lutterworth" into "tesco" and "lutterworth"
// when the last words name a settlement; the longest such name wins.
func (s *snapshot) splitTown(text string) (rest, town string) {
	w := strings.Fields(NormaliseName(text))
	for k := 1; k < len(w); k++ {
		if _, ok := s.localities[strings.Join(w[k:], " ")]; ok {
			return strings.Join(w[:k], " "), strings.Join(w[k:], " ")
		}
	}
	return text, ""
}

// countsPool holds the per-query counters of shared trigrams.
var countsPool = sync.Pool{New: func() any { return new([]uint16) }}

type fuzzyHit struct {
	e   *entry
	sim float64
	// slip is true when the name is within slipsAllowed typing slips
	// (editDistance) of the entry's: a typo rather than another name.
	slip bool
}

// minSimilarity is the least pg_trgm similarity taken as a typo of a
// name rather than another name.
const minSimilarity = 0.45

// fuzzy scores every entry of the given kinds (within localityRadius
// of a town or the postcode, when there are any) against norm with
// pg_trgm's similarity, and returns those at or above minSimilarity that
// are close to the best, best first.
func (m *matcher) fuzzy(norm string, kinds []string, towns []*entry, pc *pcPoint) ([]fuzzyHit, error) {
	q := trigrams(norm)
	if len(q) == 0 {
		return nil, nil
	}
	var hits []fuzzyHit
	// The points the match must be near, if any.
	var centres [][2]float64
	for _, t := range towns {
		centres = append(centres, [2]float64{t.e, t.n})
	}
	if pc != nil {
		centres = append(centres, [2]float64{pc.e, pc.n})
	}
	const r2 = localityRadius * localityRadius
	wantKind := map[string]bool{}
	for _, k := range kinds {
		wantKind[k] = true
	}
	// Count shared trigrams through the inverted index: only entries
	// sharing at least one trigram are looked at.
	counts := countsPool.Get().(*[]uint16)
	if len(*counts) < len(m.s.entries) {
		*counts = make([]uint16, len(m.s.entries))
	}
	cs := (*counts)[:len(m.s.entries)]
	var touched []int32
	for _, t := range q {
		for _, i := range m.s.postings[t] {
			if cs[i] == 0 {
				touched = append(touched, i)
			}
			cs[i]++
		}
	}
	lq := len(q)
	for _, i := range touched {
		c := int(cs[i])
		cs[i] = 0
		e := m.s.entries[i]
		sim := float64(c) / float64(lq+len(e.trgm)-c)
		if sim < minSimilarity || !wantKind[e.kind] {
			continue
		}
		if len(centres) > 0 {
			near := false
			for _, c := range centres {
				de, dn := e.e-c[0], e.n-c[1]
				if de*de+dn*dn <= r2 {
					near = true
					break
				}
			}
			if !near {
				continue
			}
		}
		allowed := slipsAllowed(len(norm))
		hits = append(hits, fuzzyHit{e: e, sim: sim, slip: editDistance(norm, e.nameNorm, allowed) <= allowed})
	}
	countsPool.Put(counts)
	sort.Slice(hits, func(i, j int) bool {
		a, b := hits[i], hits[j]
		if a.slip != b.slip {
			return a.slip
		}
		if a.sim != b.sim {
			return a.sim > b.sim
		}
		if a.e.points != b.e.points {
			return a.e.points > b.e.points
		}
		return a.e.id < b.e.id
	})
	// Keep the best similarity and those close to it: a much weaker
	// match is another name.
	k := 0
	for _, h := range hits {
		if (h.slip || !hits[0].slip) && h.sim >= hits[0].sim-0.1 && k < 8 {
			hits[k] = h
			k++
		}
	}
	return hits[:k], nil
}

func (m *matcher) fuzzyLocalities(town string) ([]*entry, error) {
	hits, err := m.fuzzy(NormaliseName(town), []string{"place"}, nil, nil)
	if err != nil {
		return nil, err
	}
	var out []*entry
	for _, h := range hits {
		if h.sim >= 0.5 {
			out = append(out, h.e)
		}
	}
	return out, nil
}
