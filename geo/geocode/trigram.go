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
