package hotspot

import (
	"math"
	"sort"

	"github.com/paulmach/orb"
)

// WeightedPoint is a location (EPSG:27700 metres) with a count: many
// incidents on one police.uk map point are one WeightedPoint.
type WeightedPoint struct {
	X, Y   float64
	Weight float64
}

// Bandwidth bounds (metres).
const (
	MinBandwidth = 100.0
	MaxBandwidth = 1500.0
)

// Bandwidth returns the quartic kernel's radius h for pts by the rule
// ArcGIS's Kernel Density uses by default (a spatial form of Silverman's
// rule of thumb):
//
//	h = 0.9 · min(SD, √(1/ln 2) · Dm) · n^(−0.2)
//
// where n is the total weight, SD the standard distance of the points
// from their weighted mean centre (√(Σw·d²/Σw)) and Dm the weighted median
// of those distances. The median term keeps a few far outliers from
// widening the kernel. The result is clamped to [MinBandwidth,
// MaxBandwidth]: below 100 m the kernel would draw the map points
// themselves (they are snapping points, not exact locations), above
// 1.5 km it would smear a town into the countryside. With no points, or
// all on one spot, it returns MinBandwidth.
func Bandwidth(pts []WeightedPoint) float64 {
	var sw, sx, sy float64
	for _, p := range pts {
		sw += p.Weight
		sx += p.Weight * p.X
		sy += p.Weight * p.Y
	}
	if sw <= 0 {
		return MinBandwidth
	}
	mx, my := sx/sw, sy/sw
	type dw struct{ d, w float64 }
	ds := make([]dw, 0, len(pts))
	var sd2 float64
	for _, p := range pts {
		if p.Weight <= 0 {
			continue
		}
		d := math.Hypot(p.X-mx, p.Y-my)
		ds = append(ds, dw{d, p.Weight})
		sd2 += p.Weight * d * d
	}
	sd := math.Sqrt(sd2 / sw)
	sort.Slice(ds, func(i, j int) bool { return ds[i].d < ds[j].d })
	var acc, dm float64
	for _, e := range ds {
		acc += e.w
		if acc >= sw/2 {
			dm = e.d
			break
		}
	}
	h := 0.9 * math.Min(sd, math.Sqrt(1/math.Ln2)*dm) * math.Pow(sw, -0.2)
	if math.IsNaN(h) {
		return MinBandwidth
	}
	return math.Max(MinBandwidth, math.Min(MaxBandwidth, h))
}

// Quartic returns the quartic (biweight) kernel's value at distance d for
// radius h: 3/(π h²) · (1 − d²/h²)² inside h, 0 outside. It integrates to
// 1 over the plane, so a density summed over cells times the cell area is
// the count of incidents.
func Quartic(d, h float64) float64 {
	if d >= h || h <= 0 {
		return 0
	}
	u := 1 - d*d/(h*h)
	return 3 / (math.Pi * h * h) * u * u
}

// Raster is a square grid of densities (incidents per square metre):
// cell (i, j) covers [X0+i·Cell, X0+(i+1)·Cell) × [Y0+j·Cell, Y0+(j+1)·Cell),
// and Density[j*Cols+i] is the kernel density at its centre.
type Raster struct {
	X0, Y0     float64
	Cell       float64
	Cols, Rows int
	Density    []float64
}

// KDE returns the quartic-kernel density of pts with radius h on a raster
// of square cells of side cell covering bound b. The engine uses
// cell = h/5 (RasterCell), fine enough that a kernel spans ten cells, so
// contours follow the kernel's shape rather than the raster's.
func KDE(pts []WeightedPoint, h, cell float64, b orb.Bound) Raster {
	cols := int(math.Ceil((b.Max[0] - b.Min[0]) / cell))
	rows := int(math.Ceil((b.Max[1] - b.Min[1]) / cell))
	cols, rows = max(cols, 1), max(rows, 1)
	r := Raster{X0: b.Min[0], Y0: b.Min[1], Cell: cell, Cols: cols, Rows: rows, Density: make([]float64, cols*rows)}
	for _, p := range pts {
		if p.Weight == 0 {
			continue
		}
		i0 := max(0, int(math.Floor((p.X-h-r.X0)/cell)))
		i1 := min(cols-1, int(math.Floor((p.X+h-r.X0)/cell)))
		j0 := max(0, int(math.Floor((p.Y-h-r.Y0)/cell)))
		j1 := min(rows-1, int(math.Floor((p.Y+h-r.Y0)/cell)))
		for j := j0; j <= j1; j++ {
			cy := r.Y0 + (float64(j)+0.5)*cell
			for i := i0; i <= i1; i++ {
				cx := r.X0 + (float64(i)+0.5)*cell
				if v := Quartic(math.Hypot(cx-p.X, cy-p.Y), h); v > 0 {
					r.Density[j*cols+i] += p.Weight * v
				}
			}
		}
	}
	return r
}

// RasterCell is the KDE raster's cell side for bandwidth h: h/5.
func RasterCell(h float64) float64 { return h / 5 }

// Centre returns the centre of raster cell (i, j).
func (r Raster) Centre(i, j int) (x, y float64) {
	return r.X0 + (float64(i)+0.5)*r.Cell, r.Y0 + (float64(j)+0.5)*r.Cell
}

// Square returns raster cell (i, j) as a polygon in metres.
func (r Raster) Square(i, j int) orb.Polygon {
	x0, y0 := r.X0+float64(i)*r.Cell, r.Y0+float64(j)*r.Cell
	x1, y1 := x0+r.Cell, y0+r.Cell
	return orb.Polygon{orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}}
}

// TopShareThreshold returns the density above which lie the densest
// share (0 < share ≤ 1) of the cells for which inside(i, j) is true (the
// study area): the k = ⌈share·N⌉-th highest density among those N cells.
// Cells with a density ≥ the threshold form the contour "top share of
// area"; ties at the threshold are all kept, so the kept area can exceed
// the share slightly, never fall short. A threshold of 0 would keep empty
// land, so when the k-th density is 0 the smallest positive density is
// returned instead (the contour then holds less than share). ok is false
// when no cell in the area has a positive density.
func (r Raster) TopShareThreshold(share float64, inside func(i, j int) bool) (threshold float64, ok bool) {
	var vals []float64
	for j := 0; j < r.Rows; j++ {
		for i := 0; i < r.Cols; i++ {
			if inside == nil || inside(i, j) {
				vals = append(vals, r.Density[j*r.Cols+i])
			}
		}
	}
	if len(vals) == 0 {
		return 0, false
	}
	sort.Sort(sort.Reverse(sort.Float64Slice(vals)))
	if vals[0] <= 0 {
		return 0, false
	}
	k := int(math.Ceil(share*float64(len(vals)))) - 1
	k = max(0, min(len(vals)-1, k))
	for k > 0 && vals[k] <= 0 {
		k--
	}
	return vals[k], true
}

// KDEGridded is KDE with every point first moved to the centre of its
// raster cell, so the kernel is applied once per occupied cell rather than
// once per point: a million incidents cost no more than the raster. A
// point moves at most cell/√2 (h/7 with RasterCell), well inside the
// kernel. Points outside b are dropped.
func KDEGridded(pts []WeightedPoint, h, cell float64, b orb.Bound) Raster {
	cols := max(int(math.Ceil((b.Max[0]-b.Min[0])/cell)), 1)
	rows := max(int(math.Ceil((b.Max[1]-b.Min[1])/cell)), 1)
	r := Raster{X0: b.Min[0], Y0: b.Min[1], Cell: cell, Cols: cols, Rows: rows, Density: make([]float64, cols*rows)}
	w := make([]float64, cols*rows)
	for _, p := range pts {
		i := int(math.Floor((p.X - r.X0) / cell))
		j := int(math.Floor((p.Y - r.Y0) / cell))
		if i >= 0 && j >= 0 && i < cols && j < rows {
			w[j*cols+i] += p.Weight
		}
	}
	// The kernel's stencil in cell steps.
	k := int(math.Ceil(h / cell))
	type tap struct {
		di, dj int
		v      float64
	}
	var stencil []tap
	for dj := -k; dj <= k; dj++ {
		for di := -k; di <= k; di++ {
			if v := Quartic(math.Hypot(float64(di)*cell, float64(dj)*cell), h); v > 0 {
				stencil = append(stencil, tap{di, dj, v})
			}
		}
	}
	for j := 0; j < rows; j++ {
		for i := 0; i < cols; i++ {
			wt := w[j*cols+i]
			if wt == 0 {
				continue
			}
			for _, t := range stencil {
				ii, jj := i+t.di, j+t.dj
				if ii >= 0 && jj >= 0 && ii < cols && jj < rows {
					r.Density[jj*cols+ii] += wt * t.v
				}
			}
		}
	}
	return r
}

// crossings appends the y values at which the rings of mp cross the
// vertical line at x (half-open rule, so a vertex is counted once), sorted:
// consecutive pairs bound the inside.
func crossings(mp orb.MultiPolygon, x float64, ys []float64) []float64 {
	for _, p := range mp {
		for _, r := range p {
			for i := 0; i+1 < len(r); i++ {
				a, c := r[i], r[i+1]
				if (a[0] <= x) != (c[0] <= x) {
					t := (x - a[0]) / (c[0] - a[0])
					ys = append(ys, a[1]+t*(c[1]-a[1]))
				}
			}
		}
	}
	sort.Float64s(ys)
	return ys
}

// Mask reports, for each raster cell (index j*Cols+i), whether its centre
// lies inside mp: the study area of a place on the raster.
func (r Raster) Mask(mp orb.MultiPolygon) []bool {
	m := make([]bool, r.Cols*r.Rows)
	var ys []float64
	for i := 0; i < r.Cols; i++ {
		x, _ := r.Centre(i, 0)
		ys = crossings(mp, x, ys[:0])
		for k := 0; k+1 < len(ys); k += 2 {
			j0 := max(0, int(math.Ceil((ys[k]-r.Y0)/r.Cell-0.5)))
			for j := j0; j < r.Rows; j++ {
				_, y := r.Centre(i, j)
				if y > ys[k+1] {
					break
				}
				if y >= ys[k] {
					m[j*r.Cols+i] = true
				}
			}
		}
	}
	return m
}

// Components labels the cells where in is true by 4-connected group
// (cells sharing a side), numbered 0, 1, ... in scan order; other cells
// get -1.
func (r Raster) Components(in []bool) []int32 {
	lab := make([]int32, len(in))
	for k := range lab {
		lab[k] = -1
	}
	var next int32
	var stack []int
	for k, v := range in {
		if !v || lab[k] >= 0 {
			continue
		}
		lab[k] = next
		stack = append(stack[:0], k)
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			i, j := c%r.Cols, c/r.Cols
			for _, d := range [4][2]int{{1, 0}, {-1, 0}, {0, 1}, {0, -1}} {
				ii, jj := i+d[0], j+d[1]
				if ii < 0 || jj < 0 || ii >= r.Cols || jj >= r.Rows {
					continue
				}
				if n := jj*r.Cols + ii; in[n] && lab[n] < 0 {
					lab[n] = next
					stack = append(stack, n)
				}
			}
		}
		next++
	}
	return lab
}

// Runs returns the raster cells ks (indexes j*Cols+i) as rectangles, one
// per horizontal run of adjacent cells: the same area as the squares in
// far fewer pieces, for PostGIS to dissolve into one outline.
func (r Raster) Runs(ks []int) orb.MultiPolygon {
	s := append([]int(nil), ks...)
	sort.Ints(s)
	var out orb.MultiPolygon
	for a := 0; a < len(s); {
		b := a
		for b+1 < len(s) && s[b+1] == s[b]+1 && s[b+1]%r.Cols != 0 {
			b++
		}
		i0, j := s[a]%r.Cols, s[a]/r.Cols
		i1 := s[b] % r.Cols
		x0, y0 := r.X0+float64(i0)*r.Cell, r.Y0+float64(j)*r.Cell
		x1, y1 := r.X0+float64(i1+1)*r.Cell, y0+r.Cell
		out = append(out, orb.Polygon{orb.Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}, {x0, y0}}})
		a = b + 1
	}
	return out
}
