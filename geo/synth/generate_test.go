package synth_test

import (
	"errors"
	"fmt"
	"math"
	"regexp"
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/synth"
)

func month(y int, m time.Month) time.Time { return time.Date(y, m, 1, 0, 0, 0, 0, time.UTC) }

// generate returns n rows of the built-in seeds.
func generate(t testing.TB, opts synth.Options) []geo.Incident {
	t.Helper()
	g, err := synth.NewGenerator(synth.BuiltinSeeds(), opts)
	if err != nil {
		t.Fatalf("NewGenerator(%+v) error: %v", opts, err)
	}
	var out []geo.Incident
	for g.More() {
		out = append(out, g.Next())
	}
	if len(out) != opts.Incidents {
		t.Fatalf("generated %d rows; want %d", len(out), opts.Incidents)
	}
	return out
}

func TestGeneratorDeterministic(t *testing.T) {
	tests := []struct {
		a, b synth.Options
		same bool
	}{
		{synth.Options{Incidents: 5000, Seed: 1}, synth.Options{Incidents: 5000, Seed: 1}, true},
		{synth.Options{Incidents: 5000, Seed: 42, From: month(2024, 1), To: month(2024, 3)},
			synth.Options{Incidents: 5000, Seed: 42, From: month(2024, 1), To: month(2024, 3)}, true},
		{synth.Options{Incidents: 5000, Seed: 1}, synth.Options{Incidents: 5000, Seed: 2}, false},
		{synth.Options{Incidents: 5000, Seed: 0}, synth.Options{Incidents: 5000, Seed: 1 << 63}, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("seed %d vs %d", tt.a.Seed, tt.b.Seed), func(t *testing.T) {
			a, b := generate(t, tt.a), generate(t, tt.b)
			same := 0
			for i := range a {
				ra, rb := a[i], b[i]
				ra.SourceID, rb.SourceID = "", "" // carries the seed by design
				if fmt.Sprint(ra) == fmt.Sprint(rb) {
					same++
				}
			}
			if tt.same && same != len(a) {
				t.Errorf("same options: %d of %d rows equal; want all", same, len(a))
			}
			if !tt.same && same > len(a)/100 {
				t.Errorf("different seeds: %d of %d rows equal; want under 1%%", same, len(a))
			}
		})
	}
}

// A shorter run is a prefix of a longer one with the same seed, so that
// "--incidents 1000" then "--incidents 2000" adds the second thousand.
func TestGeneratorPrefix(t *testing.T) {
	short := generate(t, synth.Options{Incidents: 1000, Seed: 9})
	long := generate(t, synth.Options{Incidents: 3000, Seed: 9})
	for i := range short {
		if fmt.Sprint(short[i]) != fmt.Sprint(long[i]) {
			t.Fatalf("row %d of 1,000 = %v; of 3,000 = %v; want equal", i+1, short[i], long[i])
		}
	}
}

func TestGeneratorRows(t *testing.T) {
	slugs := map[string]bool{}
	for _, c := range geo.PoliceUKCategories() {
		slugs[c.Slug] = true
	}
	address := regexp.MustCompile(`^([1-9][0-9]{0,2} )?[A-Z][A-Za-z0-9' /-]+, [A-Z][A-Za-z ]+$`)
	periods := []struct{ from, to time.Time }{
		{month(2023, 1), month(2025, 1)},
		{month(2024, 3), month(2024, 4)}, // the spring DST change
		{time.Date(2024, 10, 27, 0, 0, 0, 0, time.UTC), time.Date(2024, 10, 27, 3, 0, 0, 0, time.UTC)}, // three hours of the autumn change
		{time.Date(2024, 7, 5, 14, 0, 0, 0, time.UTC), time.Date(2024, 7, 5, 15, 0, 0, 0, time.UTC)},   // one hour
	}
	for _, p := range periods {
		t.Run(p.from.Format(time.RFC3339)+"/"+p.to.Format(time.RFC3339), func(t *testing.T) {
			rows := generate(t, synth.Options{Incidents: 20000, Seed: 3, From: p.from, To: p.to})
			exact := 0
			for i, in := range rows {
				if want := fmt.Sprintf("synth-3-%d", i+1); in.SourceID != want || in.Source != "synth" {
					t.Fatalf("row %d: source %q, id %q; want synth, %q", i+1, in.Source, in.SourceID, want)
				}
				if !slugs[in.Category] {
					t.Errorf("row %d: category %q is not a police.uk slug", i+1, in.Category)
				}
				o := in.Occurred
				if o.From.Before(p.from) || o.To.After(p.to) || !o.To.After(o.From) {
					t.Fatalf("row %d: period [%v, %v) not a non-empty part of [%v, %v)", i+1, o.From, o.To, p.from, p.to)
				}
				if o.From.Nanosecond() != 0 || o.To.Nanosecond() != 0 {
					t.Errorf("row %d: period [%v, %v) is not in whole seconds", i+1, o.From, o.To)
				}
				if o.To.Sub(o.From) == time.Second {
					exact++
				}
				if !address.MatchString(in.LocationText) {
					t.Errorf("row %d: location %q does not look like an address", i+1, in.LocationText)
				}
				if in.Category == "anti-social-behaviour" && in.Outcome != "" {
					t.Errorf("row %d: anti-social behaviour with outcome %q; police.uk gives none", i+1, in.Outcome)
				}
				if !in.HasPoint || geo.CheckLonLat(in.Point) != nil {
					t.Errorf("row %d: point %v", i+1, in.Point)
				}
			}
			// Most reports give a moment; a good share give a window.
			if share := float64(exact) / float64(len(rows)); share < 0.5 || share > 0.9 {
				t.Errorf("exact timestamps = %.2f of rows; want 0.5 to 0.9", share)
			}
		})
	}
}

// The jitter around a seed is Gaussian with the seed's spread: check its
// standard deviation in metres with a flat-earth conversion of our own.
func TestGeneratorJitter(t *testing.T) {
	seed := synth.Seed{Category: "burglary", Point: [2]float64{-0.9205, 52.4775}, Spread: synth.RealSpread,
		Streets: []string{"High Street"}, Town: "Market Harborough", Weight: 1}
	g, err := synth.NewGenerator([]synth.Seed{seed}, synth.Options{Incidents: 20000, Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	const mPerDegLat = 111_250.0 // at 52.5°N
	mPerDegLon := mPerDegLat * math.Cos(52.4775*math.Pi/180)
	var sx, sy, sxx, syy float64
	stacked := 0
	n := 0
	for g.More() {
		in := g.Next()
		dx := (in.Point[0] - seed.Point[0]) * mPerDegLon
		dy := (in.Point[1] - seed.Point[1]) * mPerDegLat
		if in.Point == seed.Point {
			stacked++
		}
		sx, sy, sxx, syy = sx+dx, sy+dy, sxx+dx*dx, syy+dy*dy
		n++
	}
	fn := float64(n)
	for _, c := range []struct {
		axis    string
		sum, sq float64
	}{{"east", sx, sxx}, {"north", sy, syy}} {
		mean := c.sum / fn
		sd := math.Sqrt(c.sq/fn - mean*mean)
		if math.Abs(mean) > 2 || math.Abs(sd-synth.RealSpread) > 2 {
			t.Errorf("%s offset: mean %.1f m, sd %.1f m; want about 0 and %d", c.axis, mean, sd, synth.RealSpread)
		}
	}
	if stacked > 0 {
		t.Errorf("%d points stacked on the seed point; want 0", stacked)
	}
}

func TestGeneratorBadOptions(t *testing.T) {
	good := synth.BuiltinSeeds()
	tests := []struct {
		name  string
		seeds []synth.Seed
		opts  synth.Options
	}{
		{"no incidents", good, synth.Options{}},
		{"too many", good, synth.Options{Incidents: synth.MaxIncidents + 1}},
		{"empty period", good, synth.Options{Incidents: 1, From: month(2024, 1), To: month(2024, 1)}},
		{"backwards", good, synth.Options{Incidents: 1, From: month(2024, 2), To: month(2024, 1)}},
		{"not whole hours", good, synth.Options{Incidents: 1, From: month(2024, 1).Add(time.Minute), To: month(2024, 2)}},
		{"too long", good, synth.Options{Incidents: 1, From: month(2000, 1), To: month(2030, 1)}},
		{"no seeds", nil, synth.Options{Incidents: 1}},
		{"unknown category", []synth.Seed{{Category: "hate-crime", Streets: []string{"X Road"}, Town: "T", Weight: 1}}, synth.Options{Incidents: 1}},
		{"no street", []synth.Seed{{Category: "burglary", Town: "T", Weight: 1}}, synth.Options{Incidents: 1}},
		{"zero weights", []synth.Seed{{Category: "burglary", Streets: []string{"X Road"}, Town: "T"}}, synth.Options{Incidents: 1}},
		{"NaN weight", []synth.Seed{{Category: "burglary", Streets: []string{"X Road"}, Town: "T", Weight: math.NaN()}}, synth.Options{Incidents: 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := synth.NewGenerator(tt.seeds, tt.opts)
			if !errors.Is(err, synth.ErrBadOptions) {
				t.Errorf("NewGenerator(%s) error = %v; want ErrBadOptions", tt.name, err)
			}
		})
	}
}

func BenchmarkGenerator(b *testing.B) {
	b.ReportAllocs()
	g, err := synth.NewGenerator(synth.BuiltinSeeds(), synth.Options{Incidents: synth.MaxIncidents, Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		g.Next()
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
