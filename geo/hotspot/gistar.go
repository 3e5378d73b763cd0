package hotspot

import (
	"errors"
	"math"
)

// ErrNoVariance is returned by GiStar when every value is the same, so no
// cell can stand out (including the case of no incidents at all).
var ErrNoVariance = errors.New("hotspot: all values equal, Gi* undefined")

// ErrTooFew is returned by GiStar for fewer than three cells.
var ErrTooFew = errors.New("hotspot: Gi* needs at least three cells")

// GiStar returns the Getis-Ord Gi* z-score of every cell, with binary
// weights: w_ij = 1 when j is in nbrs[i], else 0. nbrs[i] must list i
// itself (the "star": a cell is part of its own neighbourhood), as
// Grid.Neighbourhoods does; indexes out of range are an error.
//
// With n cells, values x, mean X̄ = Σx/n, S = √(Σx²/n − X̄²), and for cell i
// W = Σ_j w_ij (its neighbourhood's size; binary weights give Σ w² = W):
//
//	Gi* = (Σ_j w_ij x_j − X̄·W) / (S · √((n·W − W²)/(n−1)))
//
// (Getis and Ord 1992; Ord and Getis 1995, the form ArcGIS's Hot Spot
// Analysis uses). Under the null hypothesis of no spatial association it is
// approximately standard normal. A cell whose neighbourhood is the whole
// area (n·W = W²) has no variance to test and gets z = 0.
func GiStar(x []float64, nbrs [][]int) ([]float64, error) {
	n := len(x)
	if n < 3 {
		return nil, ErrTooFew
	}
	if len(nbrs) != n {
		return nil, errors.New("hotspot: GiStar needs one neighbourhood per value")
	}
	var sum, sum2 float64
	for _, v := range x {
		sum += v
		sum2 += v * v
	}
	nf := float64(n)
	mean := sum / nf
	s := math.Sqrt(math.Max(0, sum2/nf-mean*mean))
	if s == 0 || s < 1e-12*math.Max(1, math.Abs(mean)) {
		return nil, ErrNoVariance
	}
	z := make([]float64, n)
	for i, nb := range nbrs {
		var local float64
		self := false
		for _, j := range nb {
			if j < 0 || j >= n {
				return nil, errors.New("hotspot: GiStar neighbour index out of range")
			}
			if j == i {
				self = true
			}
			local += x[j]
		}
		if !self {
			return nil, errors.New("hotspot: GiStar neighbourhood must include the cell itself")
		}
		w := float64(len(nb))
		den2 := (nf*w - w*w) / (nf - 1)
		if den2 <= 0 {
			continue
		}
		z[i] = (local - mean*w) / (s * math.Sqrt(den2))
	}
	return z, nil
}

// PValue returns the two-sided p-value of a standard normal z-score,
// P(|Z| ≥ |z|) = erfc(|z|/√2). Two-sided, as in ArcGIS's Hot Spot Analysis,
// because the test asks "is this neighbourhood unusual", hot or cold; the
// engine then keeps the hot (z > 0) ones.
func PValue(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}
