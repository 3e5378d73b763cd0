package geocode_test

import (
	"context"
	"testing"

	"github.com/harborough-csp/hotspot/geo/geocode"
)

// benchSets returns labelled sets (a) and (b) from a loaded database.
func benchSets(b *testing.B) (*geocode.Geocoder, map[string][]geocode.Labelled) {
	pool := loaded(b)
	ctx := context.Background()
	a, err := geocode.PostcodeSet(ctx, pool)
	if err != nil {
		b.Fatal(err)
	}
	s, err := geocode.StreetSet(ctx, pool, testMonths)
	if err != nil {
		b.Fatal(err)
	}
	sets := map[string][]geocode.Labelled{}
	for _, l := range append(a, s...) {
		sets[l.Set] = append(sets[l.Set], l)
	}
	g := geocode.New(pool)
	if err := g.Refresh(ctx); err != nil {
		b.Fatal(err)
	}
	return g, sets
}

// BenchmarkGeocode measures geocodes per second on each labelled set,
// run in parallel (b.RunParallel, GOMAXPROCS goroutines).
func BenchmarkGeocode(b *testing.B) {
	g, sets := benchSets(b)
	for _, name := range []string{"postcode/printed", "postcode/in-address", "street/as-written", "street/typo"} {
		set := sets[name]
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			ctx := context.Background()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					if _, err := g.Geocode(ctx, geocode.Query{Text: set[i%len(set)].Text}); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "geocodes/s")
		})
	}
}
