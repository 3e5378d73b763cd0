package anon

import (
	"reflect"
	"testing"
)

func TestSuppress(t *testing.T) {
	tests := []struct {
		name string
		g    Group
		min  int
		want Published
	}{
		{"all large", Group{10, []int{4, 6}}, 3, Published{true, []bool{true, true}}},
		{"zeros are published", Group{5, []int{0, 5, 0}}, 3, Published{true, []bool{true, true, true}}},
		{"small total", Group{2, []int{1, 1}}, 3, Published{false, []bool{false, false}}},
		// One withheld part: the total would give it away.
		{"one small part", Group{7, []int{2, 5}}, 3, Published{false, []bool{false, true}}},
		// Two withheld parts summing to 2: both must be 1.
		{"two ones", Group{7, []int{1, 1, 5}}, 3, Published{false, []bool{false, false, true}}},
		// Two summing to 4 with min 3: both must be 2.
		{"two twos", Group{9, []int{2, 2, 5}}, 3, Published{false, []bool{false, false, true}}},
		// Two summing to 3: 1+2 or 2+1. The total may stay.
		{"one and two", Group{8, []int{1, 2, 5}}, 3, Published{true, []bool{false, false, true}}},
		{"three small", Group{9, []int{1, 1, 2, 5}}, 3, Published{true, []bool{false, false, false, true}}},
		{"min 5", Group{19, []int{3, 4, 12}}, 5, Published{true, []bool{false, false, true}}},
		{"min 5, both at the top", Group{20, []int{4, 4, 12}}, 5, Published{false, []bool{false, false, true}}},
		{"no parts", Group{2, nil}, 3, Published{false, []bool{}}},
		{"min 2 publishes all", Group{2, []int{1, 1}}, 2, Published{true, []bool{true, true}}},
	}
	for _, tt := range tests {
		if got := Suppress(tt.g, tt.min); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Suppress(%v, %d) = %v; want %v", tt.name, tt.g, tt.min, got, tt.want)
		}
	}
}

// TestSuppressResistsDifferencing plays the strongest reader: one who
// knows the rule, sees every published count, and tries every assignment
// of the withheld counts that the rule would have published exactly so.
// For every group of up to four parts with counts up to 7, every withheld
// count must still have at least two possible values.
func TestSuppressResistsDifferencing(t *testing.T) {
	groups := 0
	for _, min := range []int{3, 4, 5} {
		for n := 0; n <= 4; n++ {
			parts := make([]int, n)
			var walk func(i int)
			walk = func(i int) {
				if i < n {
					for v := 0; v <= 7; v++ {
						parts[i] = v
						walk(i + 1)
					}
					return
				}
				total := 0
				for _, v := range parts {
					total += v
				}
				g := Group{Total: total, Parts: append([]int(nil), parts...)}
				groups++
				checkUndetermined(t, g, min)
			}
			walk(0)
		}
	}
	t.Logf("%d groups attacked", groups)
}

// checkUndetermined enumerates the assignments of g's withheld counts that
// agree with everything published about g, and fails if one withheld
// count (a part or the total) has a single possible value.
func checkUndetermined(t *testing.T, g Group, min int) {
	t.Helper()
	pub := Suppress(g, min)
	var hidden []int
	for i, ok := range pub.Parts {
		if !ok {
			hidden = append(hidden, i)
		}
	}
	if len(hidden) == 0 && pub.Total {
		return
	}
	// Candidates for a withheld count: 0 to the largest any part could be.
	const top = 7 + 7*4
	seen := make([]map[int]bool, len(hidden))
	for i := range seen {
		seen[i] = map[int]bool{}
	}
	totals := map[int]bool{}
	trial := append([]int(nil), g.Parts...)
	var walk func(j int)
	walk = func(j int) {
		if j < len(hidden) {
			for v := 0; v <= min; v++ { // a withheld part is below min
				trial[hidden[j]] = v
				walk(j + 1)
			}
			return
		}
		for tot := 0; tot <= top; tot++ {
			if pub.Total && tot != g.Total {
				continue
			}
			sum := 0
			for _, v := range trial {
				sum += v
			}
			if tot != sum {
				continue
			}
			if !reflect.DeepEqual(Suppress(Group{tot, trial}, min), pub) {
				continue
			}
			for i, h := range hidden {
				seen[i][trial[h]] = true
			}
			totals[tot] = true
		}
	}
	walk(0)
	for i, h := range hidden {
		if len(seen[i]) < 2 {
			t.Errorf("Suppress(%v, %d) = %v: withheld part %d can only be %v", g, min, pub, h, seen[i])
		}
	}
	if !pub.Total && len(totals) < 2 {
		t.Errorf("Suppress(%v, %d) = %v: withheld total can only be %v", g, min, pub, totals)
	}
}
