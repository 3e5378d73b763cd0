package synth

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"time"

	"github.com/paulmach/orb"

	"github.com/harborough-csp/hotspot/geo"
)

// Source is the incidents.source of synthetic rows. Their source_id is
// "synth-<seed>-<n>" (n counting from 1), so a rerun with the same seed
// matches the rows it made before.
const Source = "synth"

// Context is the context text of every synthetic row, so that a row that
// somehow travels without its flag still says what it is.
const Context = "synthetic"

// Defaults for Options.
var (
	DefaultFrom = time.Date(2023, time.January, 1, 0, 0, 0, 0, time.UTC)
	DefaultTo   = time.Date(2025, time.January, 1, 0, 0, 0, 0, time.UTC) // up to the end of 2024-12
)

// Limits on Options: bounds on memory and time, not on realism.
const (
	MaxIncidents = 50_000_000
	MaxSpan      = 20 * 366 * 24 * time.Hour
)

// RealSpread is the standard deviation, in metres, of the jitter around a
// real incident's point: enough that synthetic points do not stack on
// police.uk's map points, small enough to stay on the same street.
const RealSpread = 40

// ErrBadOptions is returned for options Generate or Load cannot use.
var ErrBadOptions = errors.New("bad synth options")

// Options says what to generate.
type Options struct {
	// Incidents is how many rows to generate (N).
	Incidents int
	// Seed seeds the random numbers: the same Seed, Incidents, period and
	// seed points give the same rows.
	Seed uint64
	// From and To bound the occurred periods: every row lies within
	// [From, To). Both must be whole UTC hours; zero values take
	// DefaultFrom and DefaultTo.
	From, To time.Time
	// Replace deletes every earlier synthetic row (any seed) first.
	Replace bool
}

func (o *Options) check() error {
	if o.From.IsZero() {
		o.From = DefaultFrom
	}
	if o.To.IsZero() {
		o.To = DefaultTo
	}
	o.From, o.To = o.From.UTC(), o.To.UTC()
	switch {
	case o.Incidents < 1 || o.Incidents > MaxIncidents:
		return fmt.Errorf("%w: incidents %d: want 1 to %d", ErrBadOptions, o.Incidents, MaxIncidents)
	case !o.From.Before(o.To):
		return fmt.Errorf("%w: from %s is not before to %s", ErrBadOptions, o.From.Format(time.RFC3339), o.To.Format(time.RFC3339))
	case o.To.Sub(o.From) > MaxSpan:
		return fmt.Errorf("%w: period longer than 20 years", ErrBadOptions)
	case !o.From.Truncate(time.Hour).Equal(o.From) || !o.To.Truncate(time.Hour).Equal(o.To):
		return fmt.Errorf("%w: from and to must be whole hours", ErrBadOptions)
	}
	return nil
}

// Seed is a point around which synthetic incidents of one category
// cluster: a real incident's map point (with how many real incidents of
// the category it has as its weight), or a built-in place.
type Seed struct {
	Category string
	Point    orb.Point // WGS84 lon/lat
	// Spread is the standard deviation of the Gaussian jitter, in metres
	// on the ground (British National Grid's scale at the district is
	// 0.9997, so this is the same σ in EPSG:27700).
	Spread float64
	// Streets are the street or place names an address may use; the
	// generator picks one per row.
	Streets []string
	// Town ends each address.
	Town   string
	Weight float64
}

// BuiltinSeeds returns the fallback seeds: every built-in place (see
// places) crossed with the district's category mix, weighted by the
// place's size, the category's share and what kind of place it is.
func BuiltinSeeds() []Seed {
	var total float64
	for _, c := range categoryMix {
		total += c.weight
	}
	var seeds []Seed
	for _, pl := range places {
		for _, c := range categoryMix {
			w := pl.weight * c.weight / total * pl.kind.categoryFactor(c.text)
			if w <= 0 {
				continue
			}
			seeds = append(seeds, Seed{Category: c.text, Point: pl.point, Spread: pl.spread,
				Streets: pl.streets, Town: pl.town, Weight: w})
		}
	}
	return seeds
}

// Generator makes synthetic incidents one at a time, deterministically:
// its output depends only on the seeds (in order) and the options.
type Generator struct {
	opts  Options
	rng   *rand.Rand
	seeds []Seed
	cum   []float64             // cumulative seed weights
	byCat map[string]*timeTable // lookup only
	n     int
	seedS string
}

// timeTable is one category's profile laid over the hours of the period.
type timeTable struct {
	p        *profile
	cum      []float64 // cumulative weight per UTC hour from From
	outcomes []float64 // cumulative outcome weights
}

// NewGenerator returns a generator of opts.Incidents rows drawn from
// seeds. Every seed's category must be a police.uk slug.
func NewGenerator(seeds []Seed, opts Options) (*Generator, error) {
	if err := opts.check(); err != nil {
		return nil, err
	}
	if len(seeds) == 0 {
		return nil, fmt.Errorf("%w: no seeds", ErrBadOptions)
	}
	g := &Generator{
		opts:  opts,
		rng:   rand.New(rand.NewPCG(opts.Seed, 0x9e3779b97f4a7c15)),
		seeds: seeds,
		cum:   make([]float64, len(seeds)),
		byCat: map[string]*timeTable{},
		seedS: strconv.FormatUint(opts.Seed, 10),
	}
	hours := int(opts.To.Sub(opts.From) / time.Hour)
	var sum float64
	for i, s := range seeds {
		if !(s.Weight >= 0) || math.IsInf(s.Weight, 0) {
			return nil, fmt.Errorf("%w: seed %d has weight %v", ErrBadOptions, i, s.Weight)
		}
		if len(s.Streets) == 0 || s.Town == "" {
			return nil, fmt.Errorf("%w: seed %d has no street or no town", ErrBadOptions, i)
		}
		sum += s.Weight
		g.cum[i] = sum
		if g.byCat[s.Category] != nil {
			continue
		}
		p := profiles[s.Category]
		if p == nil {
			return nil, fmt.Errorf("%w: seed %d: category %q is not a police.uk category", ErrBadOptions, i, s.Category)
		}
		t := &timeTable{p: p, cum: make([]float64, hours)}
		var c float64
		for h := range hours {
			c += p.weightAt(opts.From.Add(time.Duration(h) * time.Hour))
			t.cum[h] = c
		}
		c = 0
		for _, o := range p.outcomes {
			c += o.weight
			t.outcomes = append(t.outcomes, c)
		}
		g.byCat[s.Category] = t
	}
	if !(sum > 0) {
		return nil, fmt.Errorf("%w: the seeds' weights add up to %v", ErrBadOptions, sum)
	}
	return g, nil
}

// More reports whether Next has rows left to give.
func (g *Generator) More() bool { return g.n < g.opts.Incidents }

// Next returns the next synthetic incident (the n-th, from 1). Its
// period lies within [From, To) and spans one second for an exact time or
// minutes to hours for a reported window.
func (g *Generator) Next() geo.Incident {
	g.n++
	r := g.rng
	s := &g.seeds[pick(g.cum, r.Float64())]
	tab := g.byCat[s.Category]
	p := tab.p

	pt := offset(s.Point, r.NormFloat64()*s.Spread, r.NormFloat64()*s.Spread)

	h := pick(tab.cum, r.Float64())
	t := g.opts.From.Add(time.Duration(h)*time.Hour + time.Duration(r.IntN(3600))*time.Second)
	period := geo.Period{From: t, To: t.Add(time.Second)}
	if p.window > 0 && r.Float64() < p.window {
		// Log-uniform length: as many "between 13:00 and 14:00" as
		// "between 18:00 and 04:00" reports, per doubling.
		length := float64(p.minWin) * math.Exp(r.Float64()*math.Log(float64(p.maxWin)/float64(p.minWin)))
		from := t.Add(-time.Duration(r.Float64() * length)).Truncate(time.Minute)
		to := from.Add(time.Duration(length).Round(time.Minute))
		if !to.After(t) {
			to = t.Add(time.Second)
		}
		period = geo.Period{From: maxTime(from, g.opts.From), To: minTime(to, g.opts.To)}
	}

	street := s.Streets[0]
	if len(s.Streets) > 1 {
		street = s.Streets[r.IntN(len(s.Streets))]
	}
	var loc string
	if isPlaceType(street) {
		loc = street + ", " + s.Town
	} else {
		// House numbers: mostly low, as most streets are short.
		num := 1 + min(int(r.ExpFloat64()*20), 198)
		loc = strconv.Itoa(num) + " " + street + ", " + s.Town
	}
	var outcome string
	if len(tab.outcomes) > 0 {
		outcome = p.outcomes[pick(tab.outcomes, r.Float64())].text
	}
	return geo.Incident{
		Source:       Source,
		SourceID:     "synth-" + g.seedS + "-" + strconv.Itoa(g.n),
		Category:     s.Category,
		Occurred:     period,
		Point:        pt,
		HasPoint:     true,
		LocationText: loc,
		Outcome:      outcome,
		Context:      Context,
	}
}

// pick returns the index of the first cumulative weight above u×total:
// each index with the probability of its own weight; weight 0, never.
func pick(cum []float64, u float64) int {
	x := u * cum[len(cum)-1]
	return sort.Search(len(cum), func(i int) bool { return cum[i] > x })
}

// WGS84 ellipsoid.
const (
	wgs84A  = 6378137.0
	wgs84E2 = 0.00669437999014
)

// offset moves p by dx metres east and dy metres north, using the
// ellipsoid's radii of curvature at p: exact to millimetres over the few
// hundred metres of a jitter. Results are rounded to 1e-6 degrees (11 cm),
// the precision police.uk publishes.
func offset(p orb.Point, dx, dy float64) orb.Point {
	lat := p[1] * math.Pi / 180
	s := math.Sin(lat)
	w := math.Sqrt(1 - wgs84E2*s*s)
	n := wgs84A / w
	m := wgs84A * (1 - wgs84E2) / (w * w * w)
	lon := p[0] + dx/(n*math.Cos(lat))*180/math.Pi
	la := p[1] + dy/m*180/math.Pi
	return orb.Point{math.Round(lon*1e6) / 1e6, math.Round(la*1e6) / 1e6}
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
