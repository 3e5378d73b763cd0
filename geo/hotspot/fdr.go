package hotspot

import (
	"math"
	"sort"
)

// BenjaminiHochberg controls the false discovery rate at q over the
// p-values p (Benjamini and Hochberg 1995): with the m p-values sorted
// ascending, p(1) ≤ … ≤ p(m), it finds the largest k with
// p(k) ≤ k·q/m and declares the k smallest significant. It returns which
// tests are significant and the cut-off p(k) (0 when none is).
//
// Why: Gi* runs one test per cell, hundreds per place; at 95% one cell in
// twenty would look hot by chance alone. BH keeps the expected share of
// false hot cells among those declared hot at q, and is less severe than
// Bonferroni, which would leave almost nothing. NaN p-values are never
// significant and still count in m (a test that was run).
func BenjaminiHochberg(p []float64, q float64) (significant []bool, cutoff float64) {
	m := len(p)
	significant = make([]bool, m)
	if m == 0 || q <= 0 {
		return significant, 0
	}
	order := make([]int, m)
	for i := range order {
		order[i] = i
	}
	key := func(i int) float64 {
		if math.IsNaN(p[i]) {
			return math.Inf(1)
		}
		return p[i]
	}
	sort.SliceStable(order, func(a, b int) bool { return key(order[a]) < key(order[b]) })
	k := 0
	for rank := m; rank >= 1; rank-- {
		if v := key(order[rank-1]); v <= float64(rank)*q/float64(m) {
			k = rank
			cutoff = v
			break
		}
	}
	for _, i := range order[:k] {
		significant[i] = true
	}
	return significant, cutoff
}

// BHCutoffs returns, for each confidence level (90 for q = 0.10 ...), the
// Benjamini-Hochberg cut-off over p: a test is significant at that level
// exactly when its p-value is at most the cut-off; -1 when no test is
// (BenjaminiHochberg with one sort for every level).
func BHCutoffs(p []float64, levels []int) []float64 {
	s := make([]float64, 0, len(p))
	for _, v := range p {
		if !math.IsNaN(v) {
			s = append(s, v)
		}
	}
	sort.Float64s(s)
	m := float64(len(p))
	out := make([]float64, len(levels))
	for li, level := range levels {
		out[li] = -1
		q := 1 - float64(level)/100
		for rank := len(s); rank >= 1; rank-- {
			if s[rank-1] <= float64(rank)*q/m {
				out[li] = s[rank-1]
				break
			}
		}
	}
	return out
}

// Levels are the confidence levels hot cells are reported at, in percent.
var Levels = []int{90, 95, 99}

// Confidence returns, for each z-score, the highest confidence level (90,
// 95 or 99) at which the cell is a significant hot spot after
// Benjamini-Hochberg control over all of zs at q = 1 − level/100, or 0 when
// it is not significant at 90% or its z is not positive (a cold spot).
func Confidence(zs []float64) []int {
	p := make([]float64, len(zs))
	for i, z := range zs {
		p[i] = PValue(z)
	}
	out := make([]int, len(zs))
	for _, level := range Levels {
		sig, _ := BenjaminiHochberg(p, 1-float64(level)/100)
		for i, s := range sig {
			if s && zs[i] > 0 {
				out[i] = level
			}
		}
	}
	return out
}
