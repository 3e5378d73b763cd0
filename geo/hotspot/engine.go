package hotspot

import (
	"math"
	"runtime"
	"sort"
	"sync"
	"time"

	"github.com/paulmach/orb"
)

// Window is one of the standard analysis windows: the Months whole months
// ending with the latest month that has data.
type Window struct {
	Name   string
	Months int
}

// Windows are the standard windows every rebuild analyses.
var Windows = []Window{{"last-1", 1}, {"last-3", 3}, {"last-12", 12}}

// WindowByName returns the standard window called name.
func WindowByName(name string) (Window, bool) {
	for _, w := range Windows {
		if w.Name == name {
			return w, true
		}
	}
	return Window{}, false
}

// history is how many months back from the latest the engine reads: the
// 12-month window's previous window and the window a year before both
// reach 24 months back.
const history = 24

// Methods.
const (
	MethodGiStar = "gi-star"
	MethodKDE    = "kde"
)

// MinHotspotIncidents is the fewest incidents a hotspot polygon must hold
// in its window to be kept. Gi* can call an empty cell hot (its
// neighbours are busy, so its neighbourhood is), and a KDE contour can
// reach into an empty corner; a polygon holding zero or one incident gives
// a campaign nowhere to go, so such parts are dropped (the set's
// parameters count them as dropped_under_min_incidents). The significant
// cells around them still form the hotspots that hold the incidents.
const MinHotspotIncidents = 2

// DefaultKDEShare is the share of a place's area the KDE contour keeps:
// the densest 5%. The scorecard (hotspot evaluate) compares methods at its
// own share.
const DefaultKDEShare = 0.05

// row is one incident of one place, compact: the engine holds a million.
type row struct {
	x, y     float64
	id       int64
	month    int16 // months before the latest month: 0 = latest, up to history-1
	priority int8  // 0 = none
	snapped  bool  // a police.uk anonymised map point
	cat      int16 // index into categories
	// Aoristic key: a month-only record has weekday = hour = -1; a record
	// within one clock hour has all three; anything else has its pieces
	// at pieces[prof : prof+npiece].
	tm, tw, th int8
	npiece     int32
	prof       int32
	cell       int32 // index into the place's study cells
	loc        int32 // index of the distinct point within the place
}

// placeData is one named place with its incidents.
type placeData struct {
	slug string
	area float64 // m²
	geom orb.MultiPolygon
	rows []row
	// locRow[l] is the first row at distinct point l.
	locRow     []int32
	locSnapped []bool // some police.uk record lies on the point
	// start[k] is the first row with priority*history+month = k (see order).
	start [6*history + 1]int
}

// order sorts rows by (priority, month) with a counting sort and records
// where each (priority, month) run starts, so an analysis reads only its
// priority's rows in the months it needs.
func (pd *placeData) order() {
	const keys = 6 * history
	var count [keys + 1]int
	for i := range pd.rows {
		count[int(pd.rows[i].priority)*history+int(pd.rows[i].month)+1]++
	}
	for k := 1; k <= keys; k++ {
		count[k] += count[k-1]
	}
	pd.start = count
	sorted := make([]row, len(pd.rows))
	next := count
	for i := range pd.rows {
		k := int(pd.rows[i].priority)*history + int(pd.rows[i].month)
		sorted[next[k]] = pd.rows[i]
		next[k]++
	}
	pd.rows = sorted
}

// slices returns the rows of priority pr (0: every priority, including
// rows of no priority) whose months (back from the latest) fall in the
// given [from, to) ranges, which must not overlap.
func (pd *placeData) slices(pr int, ranges [][2]int) [][]row {
	var out [][]row
	p0, p1 := pr, pr
	if pr == 0 {
		p0, p1 = 0, 5
	}
	for p := p0; p <= p1; p++ {
		for _, rg := range ranges {
			a, b := max(0, rg[0]), min(history, rg[1])
			if a >= b {
				continue
			}
			if sl := pd.rows[pd.start[p*history+a]:pd.start[p*history+b]]; len(sl) > 0 {
				out = append(out, sl)
			}
		}
	}
	return out
}

// windowRanges are the months an analysis of w reads: the window and the
// previous equal window, [0, 2w), and the window a year earlier,
// [12, 12+w), merged where they overlap.
func windowRanges(w Window) [][2]int {
	if 2*w.Months >= 12 {
		return [][2]int{{0, max(2*w.Months, 12+w.Months)}}
	}
	return [][2]int{{0, 2 * w.Months}, {12, 12 + w.Months}}
}

// index fills locRow and the scratch space from rows (row.loc must be
// set, dense from 0).
func (pd *placeData) index() {
	n := 0
	for i := range pd.rows {
		n = max(n, int(pd.rows[i].loc)+1)
	}
	pd.locRow = make([]int32, n)
	for i := range pd.locRow {
		pd.locRow[i] = -1
	}
	pd.locSnapped = make([]bool, n)
	for i := range pd.rows {
		l := pd.rows[i].loc
		if pd.locRow[l] < 0 {
			pd.locRow[l] = int32(i)
		}
		pd.locSnapped[l] = pd.locSnapped[l] || pd.rows[i].snapped
	}
}

// input is everything the engine computes from.
type input struct {
	latest     time.Time // first instant of the latest month with data (UTC)
	covered    [history]bool
	places     []*placeData
	categories []string
	pieces     []piece
	loc        *time.Location
}

// timeKey fills r's aoristic key for [from, to).
func (in *input) timeKey(r *row, from, to time.Time) {
	r.prof = -1
	d := to.Sub(from)
	if d <= 0 {
		d = time.Nanosecond
	}
	if d <= time.Hour {
		// London's offset from UTC is whole hours, so a local clock hour
		// starts when a UTC hour does.
		lf := from.In(in.loc)
		into := time.Duration(lf.Minute())*time.Minute + time.Duration(lf.Second())*time.Second + time.Duration(lf.Nanosecond())
		if into+d <= time.Hour {
			r.tm, r.tw, r.th = int8(lf.Month()-1), int8(lf.Weekday()), int8(lf.Hour())
			return
		}
	}
	if f := from.UTC(); MonthOnly(from, to) && f.AddDate(0, 1, 0).Equal(to) {
		r.tm, r.tw, r.th = int8(f.Month()-1), -1, -1
		return
	}
	r.prof = int32(len(in.pieces))
	timed := Spread(from, to, in.loc, func(month, weekday, hour int, w float64) {
		in.pieces = append(in.pieces, piece{int8(month - 1), int8(weekday), int8(hour), float32(w)})
	})
	r.npiece = int32(len(in.pieces)) - r.prof
	if !timed {
		r.tw = -1
	} else {
		r.tw = 0
	}
}

// piece is one part of a record's aoristic spread (see Spread).
type piece struct {
	m, wd, h int8
	w        float32
}

// addTo adds r's aoristic weight to p.
func (in *input) addTo(p *Profile, r *row) {
	p.Records++
	if r.prof >= 0 {
		if r.tw >= 0 {
			p.Timed++
		}
		for _, pc := range in.pieces[r.prof : r.prof+r.npiece] {
			w := float64(pc.w)
			p.Month[pc.m] += w
			if pc.wd >= 0 {
				p.Weekday[pc.wd] += w
				p.Hour[pc.h] += w
			}
		}
		return
	}
	p.Month[r.tm]++
	if r.tw >= 0 {
		p.Timed++
		p.Weekday[r.tw]++
		p.Hour[r.th]++
	}
}

// Set is one analysis: a place, a priority, a window and a method, with
// its hotspots.
type Set struct {
	Place    string
	Priority int // 0 = all crime
	Window   string
	From, To time.Time // [From, To) in whole months
	Method   string
	// PlaceIncidents of this priority in the place and window; Prev and
	// YoY the same for the previous equal window and a year earlier
	// (nil when the data does not cover those months).
	PlaceIncidents int
	// Profile is the aoristic profile of those incidents; Monthly their
	// count per month back from the latest (index 0), for last-12 sets.
	Monthly       []int
	Profile       Profile
	PrevIncidents *int
	YoYIncidents  *int
	Parameters    map[string]any
	Hotspots      []*Hotspot
}

// CategoryCount is a category with its count in a hotspot.
type CategoryCount struct {
	Category string `json:"category"`
	Count    int    `json:"count"`
}

// RepeatLocation is a point with at least two incidents in a hotspot.
// Location is filled by the store (the incident's location text).
type RepeatLocation struct {
	X, Y          float64 `json:"-"`
	Lon           float64 `json:"lon"`
	Lat           float64 `json:"lat"`
	Count         int     `json:"count"`
	Location      string  `json:"location"`
	SnappingPoint bool    `json:"snapping_point"`
	ExampleID     int64   `json:"-"`
}

// Hotspot is one hotspot polygon with its numbers.
type Hotspot struct {
	Confidence      int // 90, 95, 99; 0 for KDE
	Rank            int
	Cells           int
	Incidents       int
	AreaM2          float64
	Share           float64
	PrevIncidents   *int
	PrevChange      *float64
	YoYIncidents    *int
	YoYChange       *float64
	Profile         Profile
	TopCategories   []CategoryCount
	RepeatLocations []RepeatLocation
	RepeatPoints    int
	RepeatIncidents int
	MaxZ            *float64
	Geometry        orb.MultiPolygon // EPSG:27700
	// Cells of a Gi* hotspot (for the public side and tests).
	hexCells []Cell
}

// Params are the engine's tunable parameters.
type Params struct {
	KDEShare float64
	Loc      *time.Location
}

// analyse runs every place × priority × window × method on in, the
// analyses in parallel (each reads the shared rows and writes its own
// sets), in a deterministic order.
func analyse(in *input, p Params) []*Set {
	type job struct {
		pd   *placeData
		prep *placePrep
		pr   int
		w    Window
	}
	var jobs []job
	maxLocs := 0
	for _, pd := range in.places {
		prep := preparePlace(pd)
		maxLocs = max(maxLocs, len(pd.locRow))
		for pr := 0; pr <= 5; pr++ {
			for _, w := range Windows {
				jobs = append(jobs, job{pd, prep, pr, w})
			}
		}
	}
	out := make([]*Set, 2*len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range max(1, runtime.GOMAXPROCS(0)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sc := &scratch{locCount: make([]int32, maxLocs)}
			for j := range next {
				jb := jobs[j]
				out[2*j], out[2*j+1] = analyseOne(in, jb.pd, jb.prep, jb.pr, jb.w, p, sc)
			}
		}()
	}
	for j := range jobs {
		next <- j
	}
	close(next)
	wg.Wait()
	return out
}

// scratch is one worker's reusable space for fill.
type scratch struct {
	locCount []int32
	touched  []int32
}

// placePrep is a place's grid and study area, shared by its analyses.
type placePrep struct {
	g     Grid
	cells []Cell
	index map[Cell]int32
	nbrs  [][]int
	band  float64
	n12   int
}

func monthStart(latest time.Time, back int) time.Time {
	return latest.AddDate(0, -back, 0)
}

func (in *input) coveredRange(from, to int) bool { // months back, [from, to)
	if to > history {
		return false
	}
	for m := from; m < to; m++ {
		if !in.covered[m] {
			return false
		}
	}
	return true
}

func preparePlace(pd *placeData) *placePrep {
	// One grid per place, sized from all crime in the last 12 months, so
	// every priority and window of a place is mapped on the same cells.
	n12 := 0
	for i := range pd.rows {
		if pd.rows[i].month < 12 {
			n12++
		}
	}
	g := Grid{Size: CellSize(pd.area, n12)}
	cells := g.ColumnCells(pd.geom)
	index := make(map[Cell]int32, len(cells))
	for i, c := range cells {
		index[c] = int32(i)
	}
	// Incidents whose cell's centre is outside the outline still count:
	// their cell joins the study area.
	for i := range pd.rows {
		r := &pd.rows[i]
		c := g.CellAt(r.x, r.y)
		ci, ok := index[c]
		if !ok {
			ci = int32(len(cells))
			index[c] = ci
			cells = append(cells, c)
		}
		r.cell = ci
	}
	band := g.DefaultBand()
	return &placePrep{g: g, cells: cells, index: index, nbrs: g.Neighbourhoods(cells, band), band: band, n12: n12}
}

func analyseOne(in *input, pd *placeData, pp *placePrep, pr int, w Window, p Params, sc *scratch) (*Set, *Set) {
	g, cells, n12, band := pp.g, pp.cells, pp.n12, pp.band
	base := Set{Place: pd.slug, Priority: pr, Window: w.Name,
		From: monthStart(in.latest, w.Months-1), To: in.latest.AddDate(0, 1, 0)}
	counts := make([]float64, len(cells))
	cur, prev, yoy := 0, 0, 0
	var prof Profile
	var monthly []int
	if w.Months == 12 {
		monthly = make([]int, history)
	}
	for _, sl := range pd.slices(pr, windowRanges(w)) {
		for i := range sl {
			r := &sl[i]
			m := int(r.month)
			if monthly != nil {
				monthly[m]++
			}
			switch {
			case m < w.Months:
				counts[r.cell]++
				cur++
				in.addTo(&prof, r)
			case m < 2*w.Months:
				prev++
			}
			if m >= 12 && m < 12+w.Months {
				yoy++
			}
		}
	}
	base.PlaceIncidents = cur
	base.Profile = prof
	base.Monthly = monthly
	if in.coveredRange(w.Months, 2*w.Months) {
		base.PrevIncidents = &prev
	}
	if in.coveredRange(12, 12+w.Months) {
		base.YoYIncidents = &yoy
	}
	covered := 0
	for m := 0; m < w.Months; m++ {
		if in.covered[m] {
			covered++
		}
	}
	gi := base
	gi.Method = MethodGiStar
	gi.Parameters = map[string]any{"cell_size_m": g.Size, "band_m": band, "cells": len(cells),
		"cell_size_incidents": n12, "levels": Levels, "fdr": "benjamini-hochberg", "weights": "binary, self included",
		"months_with_data": covered}
	kd := base
	kd.Method = MethodKDE
	kd.Parameters = map[string]any{"kernel": "quartic", "share": p.KDEShare, "months_with_data": covered}
	if cur == 0 {
		gi.Parameters["note"] = "no incidents"
		kd.Parameters["note"] = "no incidents"
	} else {
		giStarSet(in, pd, sc, &gi, g, cells, pp.index, pp.nbrs, counts, w, pr)
		kdeSet(in, pd, sc, &kd, g, cells, counts, w, pr, p.KDEShare)
	}
	return &gi, &kd
}

func giStarSet(in *input, pd *placeData, sc *scratch, s *Set, g Grid, cells []Cell, index map[Cell]int32, nbrs [][]int, counts []float64, w Window, pr int) {
	if len(cells) < MinCells {
		s.Parameters["note"] = "fewer cells than MinCells: z-scores are rough"
	}
	z, err := GiStar(counts, nbrs)
	if err != nil {
		s.Parameters["note"] = err.Error()
		return
	}
	p := make([]float64, len(z))
	for i := range z {
		p[i] = PValue(z[i])
	}
	cuts := BHCutoffs(p, Levels)
	bh := map[string]any{}
	// hot[l][cell] = index into s.Hotspots, or -1.
	hot := make([][]int32, len(Levels))
	for li, level := range Levels {
		bh[itoa(level)] = cuts[li]
		hot[li] = make([]int32, len(cells))
		for i := range hot[li] {
			hot[li][i] = -1
		}
		var sig []Cell
		for i := range z {
			if z[i] > 0 && p[i] <= cuts[li] {
				sig = append(sig, cells[i])
			}
		}
		if len(sig) == 0 {
			continue
		}
		for _, group := range Components(sig) {
			h := &Hotspot{Confidence: level, Cells: len(group), hexCells: group}
			mz := math.Inf(-1)
			for _, c := range group {
				ci := index[c]
				hot[li][ci] = int32(len(s.Hotspots))
				mz = math.Max(mz, z[ci])
			}
			h.MaxZ = &mz
			h.AreaM2 = float64(len(group)) * g.CellArea()
			h.Geometry = g.Outline(group)
			s.Hotspots = append(s.Hotspots, h)
		}
	}
	s.Parameters["bh_cutoffs"] = bh
	fill(in, pd, sc, s, w, pr, func(r *row, buf []int32) []int32 {
		for li := range Levels {
			if h := hot[li][r.cell]; h >= 0 {
				buf = append(buf, h)
			}
		}
		return buf
	})
}

func itoa(i int) string {
	return string(rune('0'+i/10)) + string(rune('0'+i%10))
}

func kdeSet(in *input, pd *placeData, sc *scratch, s *Set, g Grid, cells []Cell, counts []float64, w Window, pr int, share float64) {
	// Bandwidth from the window's incidents at their Gi* cell centres
	// (within one cell size of their points): the rule needs distances in
	// kilometres, so this costs nothing in accuracy and keeps it fast.
	var pts []WeightedPoint
	for i, c := range counts {
		if c > 0 {
			x, y := g.Centre(cells[i])
			pts = append(pts, WeightedPoint{x, y, c})
		}
	}
	h := Bandwidth(pts)
	cell := RasterCell(h)
	b := pd.geom.Bound()
	// At most about 250,000 raster cells per analysis.
	if a := b.Max.X() - b.Min.X(); a > 0 {
		if min := math.Sqrt(a * (b.Max.Y() - b.Min.Y()) / 250000); cell < min {
			cell = min
		}
	}
	b = b.Pad(h)
	var kp []WeightedPoint
	for _, sl := range pd.slices(pr, [][2]int{{0, w.Months}}) {
		for i := range sl {
			kp = append(kp, WeightedPoint{sl[i].x, sl[i].y, 1})
		}
	}
	ras := KDEGridded(kp, h, cell, b)
	mask := ras.Mask(pd.geom)
	thr, ok := ras.TopShareThreshold(share, func(i, j int) bool { return mask[j*ras.Cols+i] })
	s.Parameters["bandwidth_m"] = h
	s.Parameters["raster_cell_m"] = cell
	if !ok {
		s.Parameters["note"] = "no density inside the place"
		return
	}
	s.Parameters["threshold_per_km2"] = thr * 1e6
	in4 := make([]bool, len(ras.Density))
	for k, v := range ras.Density {
		in4[k] = mask[k] && v >= thr
	}
	comp := ras.Components(in4)
	groups := map[int32][]int{}
	var order []int32
	for k, c := range comp {
		if c >= 0 {
			if _, ok := groups[c]; !ok {
				order = append(order, c)
			}
			groups[c] = append(groups[c], k)
		}
	}
	// comp ids are assigned in scan order, so order is deterministic.
	hs := make([]int32, len(comp))
	for k := range hs {
		hs[k] = -1
	}
	for _, c := range order {
		ks := groups[c]
		h := &Hotspot{Cells: len(ks), AreaM2: float64(len(ks)) * cell * cell, Geometry: ras.Runs(ks)}
		for _, k := range ks {
			hs[k] = int32(len(s.Hotspots))
		}
		s.Hotspots = append(s.Hotspots, h)
	}
	fill(in, pd, sc, s, w, pr, func(r *row, buf []int32) []int32 {
		i := int(math.Floor((r.x - ras.X0) / ras.Cell))
		j := int(math.Floor((r.y - ras.Y0) / ras.Cell))
		if i < 0 || j < 0 || i >= ras.Cols || j >= ras.Rows {
			return buf
		}
		if h := hs[j*ras.Cols+i]; h >= 0 {
			buf = append(buf, h)
		}
		return buf
	})
}

// fill computes every hotspot's numbers in one pass over the place's
// incidents; of(r, buf) appends to buf the hotspots r's position falls in
// (it must depend on the position only).
func fill(in *input, pd *placeData, sc *scratch, s *Set, w Window, pr int, of func(r *row, buf []int32) []int32) {
	if len(s.Hotspots) == 0 {
		return
	}
	n, nc := len(s.Hotspots), len(in.categories)
	prev := make([]int, n)
	yoy := make([]int, n)
	cats := make([]int, n*nc)
	buf := make([]int32, 0, 4)
	locCount, touched := sc.locCount, sc.touched[:0]
	for _, sl := range pd.slices(pr, windowRanges(w)) {
		for i := range sl {
			r := &sl[i]
			m := int(r.month)
			inCur, inPrev, inYoY := m < w.Months, m >= w.Months && m < 2*w.Months, m >= 12 && m < 12+w.Months
			if !inCur && !inPrev && !inYoY {
				continue
			}
			hs := of(r, buf[:0])
			if len(hs) == 0 {
				continue
			}
			if inCur {
				if locCount[r.loc] == 0 {
					touched = append(touched, r.loc)
				}
				locCount[r.loc]++
			}
			for _, h := range hs {
				if inPrev {
					prev[h]++
				}
				if inYoY {
					yoy[h]++
				}
				if inCur {
					hp := s.Hotspots[h]
					hp.Incidents++
					in.addTo(&hp.Profile, r)
					cats[int(h)*nc+int(r.cat)]++
				}
			}
		}
	}
	// Repeat locations: points with two or more incidents in the window.
	for _, l := range touched {
		k := int(locCount[l])
		locCount[l] = 0
		if k < 2 {
			continue
		}
		r := &pd.rows[pd.locRow[l]]
		for _, h := range of(r, buf[:0]) {
			hp := s.Hotspots[h]
			hp.RepeatPoints++
			hp.RepeatIncidents += k
			hp.RepeatLocations = append(hp.RepeatLocations, RepeatLocation{X: r.x, Y: r.y, Count: k, SnappingPoint: pd.locSnapped[l], ExampleID: r.id})
		}
	}
	sc.touched = touched[:0]
	for h, hs := range s.Hotspots {
		if s.PlaceIncidents > 0 {
			hs.Share = float64(hs.Incidents) / float64(s.PlaceIncidents)
		}
		if s.PrevIncidents != nil {
			v := prev[h]
			hs.PrevIncidents = &v
			hs.PrevChange = change(hs.Incidents, v)
		}
		if s.YoYIncidents != nil {
			v := yoy[h]
			hs.YoYIncidents = &v
			hs.YoYChange = change(hs.Incidents, v)
		}
		for c := 0; c < nc; c++ {
			if k := cats[h*nc+c]; k > 0 {
				hs.TopCategories = append(hs.TopCategories, CategoryCount{in.categories[c], k})
			}
		}
		sort.Slice(hs.TopCategories, func(i, j int) bool {
			a, b := hs.TopCategories[i], hs.TopCategories[j]
			return a.Count > b.Count || (a.Count == b.Count && a.Category < b.Category)
		})
		if len(hs.TopCategories) > 5 {
			hs.TopCategories = hs.TopCategories[:5]
		}
		sort.Slice(hs.RepeatLocations, func(i, j int) bool {
			a, b := hs.RepeatLocations[i], hs.RepeatLocations[j]
			if a.Count != b.Count {
				return a.Count > b.Count
			}
			if a.X != b.X {
				return a.X < b.X
			}
			return a.Y < b.Y
		})
		if len(hs.RepeatLocations) > 10 {
			hs.RepeatLocations = hs.RepeatLocations[:10]
		}
	}
	// Drop parts with fewer than MinHotspotIncidents incidents.
	kept := s.Hotspots[:0]
	dropped := 0
	for _, hs := range s.Hotspots {
		if hs.Incidents >= MinHotspotIncidents {
			kept = append(kept, hs)
		} else {
			dropped++
		}
	}
	s.Hotspots = kept
	if dropped > 0 {
		s.Parameters["dropped_under_min_incidents"] = dropped
	}
	// Rank by incidents within each confidence level.
	byLevel := map[int][]*Hotspot{}
	for _, hs := range s.Hotspots {
		byLevel[hs.Confidence] = append(byLevel[hs.Confidence], hs)
	}
	for _, list := range byLevel {
		sort.SliceStable(list, func(i, j int) bool { return list[i].Incidents > list[j].Incidents })
		for i, hs := range list {
			hs.Rank = i + 1
		}
	}
}

// change is the per-cent change from before to now, nil when before is 0.
func change(now, before int) *float64 {
	if before == 0 {
		return nil
	}
	v := 100 * float64(now-before) / float64(before)
	return &v
}
