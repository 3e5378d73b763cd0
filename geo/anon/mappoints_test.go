package anon

import (
	"math"
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestChooseMapPoints(t *testing.T) {
	tests := []struct {
		name  string
		cands []Candidate
		units []Unit
		k     int
		want  []MapPoint
	}{
		{"no candidates", nil, []Unit{{0, 0}}, 1, nil},
		{"too few units", []Candidate{{0, 0}}, []Unit{{0, 0}, {1, 1}}, 3, nil},
		{"one point takes all", []Candidate{{0, 0}, {10, 0}}, []Unit{{1, 0}, {2, 0}, {9, 0}}, 3,
			[]MapPoint{{Candidate: 0, Units: 3}}},
		{"two points each enough", []Candidate{{0, 0}, {10, 0}}, []Unit{{1, 0}, {2, 0}, {8, 0}, {9, 0}}, 2,
			[]MapPoint{{0, 2}, {1, 2}}},
		// The middle point has one unit: it goes, and its unit moves to
		// its own nearest survivor (the right one, 4 away, not the left, 5).
		{"fewest removed first", []Candidate{{0, 0}, {10, 0}, {20, 0}}, []Unit{{0, 0}, {1, 0}, {15, 0}, {19, 0}, {20, 0}}, 2,
			[]MapPoint{{0, 2}, {2, 3}}},
		// Equal distances go to the earlier candidate.
		{"tie to the earlier", []Candidate{{0, 0}, {2, 0}}, []Unit{{1, 0}, {1, 1}}, 1,
			[]MapPoint{{0, 2}}},
		// A candidate with no unit disappears even when the others are fine.
		{"empty candidate removed", []Candidate{{0, 0}, {100, 100}}, []Unit{{0, 0}}, 1,
			[]MapPoint{{0, 1}}},
	}
	for _, tt := range tests {
		got := ChooseMapPoints(tt.cands, tt.units, tt.k)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: ChooseMapPoints() = %v; want %v", tt.name, got, tt.want)
		}
	}
}

// TestChooseMapPointsRandom checks the promise on random layouts, by brute
// force and independently of the function's own bookkeeping: every unit's
// nearest map point is counted, and every map point must have at least k.
func TestChooseMapPointsRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for trial := 0; trial < 200; trial++ {
		nc, nu, k := 1+r.IntN(60), r.IntN(200), 1+r.IntN(12)
		cands := make([]Candidate, nc)
		for i := range cands {
			cands[i] = Candidate{r.Float64() * 1000, r.Float64() * 1000}
		}
		units := make([]Unit, nu)
		for i := range units {
			// Clustered, as postcodes are in towns.
			c := cands[r.IntN(nc)]
			units[i] = Unit{c.X + r.NormFloat64()*40, c.Y + r.NormFloat64()*40}
		}
		got := ChooseMapPoints(cands, units, k)
		if nu < k {
			if got != nil {
				t.Fatalf("trial %d: %d units < k %d but %d map points", trial, nu, k, len(got))
			}
			continue
		}
		if len(got) == 0 {
			t.Fatalf("trial %d: no map points from %d units with k %d", trial, nu, k)
		}
		count := map[int]int{}
		for _, u := range units {
			best, bestD := -1, math.Inf(1)
			for _, mp := range got {
				c := cands[mp.Candidate]
				if d := math.Hypot(c.X-u.X, c.Y-u.Y); d < bestD {
					best, bestD = mp.Candidate, d
				}
			}
			count[best]++
		}
		total := 0
		for _, mp := range got {
			if count[mp.Candidate] != mp.Units || mp.Units < k {
				t.Fatalf("trial %d: map point %d has %d units by brute force, %d reported; want equal and >= %d",
					trial, mp.Candidate, count[mp.Candidate], mp.Units, k)
			}
			total += mp.Units
		}
		if total != nu {
			t.Fatalf("trial %d: map points stand for %d units; want all %d", trial, total, nu)
		}
		if again := ChooseMapPoints(cands, units, k); !reflect.DeepEqual(again, got) {
			t.Fatalf("trial %d: a second run chose differently", trial)
		}
	}
}

func BenchmarkChooseMapPoints(b *testing.B) {
	// The district's size: about 1,100 candidates and 2,700 units.
	r := rand.New(rand.NewPCG(3, 4))
	cands := make([]Candidate, 1129)
	for i := range cands {
		cands[i] = Candidate{r.Float64() * 30000, r.Float64() * 25000}
	}
	units := make([]Unit, 2655)
	for i := range units {
		c := cands[r.IntN(len(cands))]
		units[i] = Unit{c.X + r.NormFloat64()*200, c.Y + r.NormFloat64()*200}
	}
	b.ReportAllocs()
	for b.Loop() {
		ChooseMapPoints(cands, units, 8)
	}
}
