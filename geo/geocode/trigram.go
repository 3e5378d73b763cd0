package geocode

import (
	"sort"
	"strings"
)

// trigrams returns the sorted, distinct trigrams of a normalised name
// exactly as PostgreSQL's pg_trgm makes them (show_trgm): each word
// padded with two spaces before and one after, every three consecutive
// characters of it, packed into a uint32. The geocoder scores fuzzy
// matches with them in memory, so a batch does not wait on a database
// round trip per typo; TestTrigramSimilarityMatchesPgTrgm checks the
// scores against pg_trgm's similarity() on the real gazetteer.
func trigrams(norm string) []uint32 {
	var out []uint32
	for _, w := range strings.Fields(norm) {
		p := "  " + w + " "
		for i := 0; i+3 <= len(p); i++ {
			out = append(out, uint32(p[i])<<16|uint32(p[i+1])<<8|uint32(p[i+2]))
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	k := 0
	for i, t := range out {
		if i == 0 || t != out[k-1] {
			out[k] = t
			k++
		}
	}
	return out[:k]
}

// similarity is pg_trgm's similarity(a, b): shared trigrams over the
// trigrams of either.
func similarity(a, b []uint32) float64 {
	if len(a) == 0 || len(b) == 0 {
		return 0
	}
	common := 0
	for i, j := 0, 0; i < len(a) && j < len(b); {
		switch {
		case a[i] == b[j]:
			common++
			i++
			j++
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return float64(common) / float64(len(a)+len(b)-common)
}

// editDistance is the optimal-string-alignment distance between a and b
// (insertions, deletions, substitutions and swaps of two neighbouring
// letters each count one), the measure of a typing slip; it stops early
// and returns max+1 once the distance must exceed max.
func editDistance(a, b string, max int) int {
	if d := len(a) - len(b); d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// slipsAllowed is how many typing slips a name of n letters may hold and
// still be taken for itself: one up to 8 letters, two beyond.
func slipsAllowed(n int) int {
	if n <= 8 {
		return 1
	}
	return 2
}
