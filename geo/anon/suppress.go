package anon

// Group is one additive group of published counts: a total (the district,
// for one month and category) and the parts that add up to it (the
// wards). Suppress decides which of them are published.
type Group struct {
	Total int
	Parts []int
}

// Published says which counts of a Group may be published.
type Published struct {
	Total bool
	Parts []bool
}

// Suppress applies the small-count rule with minimum min to g.
//
// Primary suppression: a count from 1 to min-1 is withheld; 0 and counts
// of min or more are published. So a reader who sees a withheld part
// knows only that it is between 1 and min-1.
//
// Differencing: the parts add up to the total, so a published total
// minus the published parts is the sum S of the n withheld parts. The
// total is published only if that sum leaves every withheld part
// undetermined: n >= 2 and n < S < n·(min-1). (Each withheld part is
// between 1 and min-1; if S = n they are all 1, if S = n·(min-1) all
// min-1, and with n = 1 the part is S. Strictly between, any part can be
// moved up or down by one against another, so each takes at least two
// values.) Otherwise the total is withheld too. No part is ever withheld
// for the total's sake, so what a reader knows of a withheld part is
// always exactly the interval above.
//
// With min <= 2 every count is published: min = 2 would withhold only 1s,
// which a reader could read back.
func Suppress(g Group, min int) Published {
	p := Published{Total: true, Parts: make([]bool, len(g.Parts))}
	if min <= 2 {
		for i := range p.Parts {
			p.Parts[i] = true
		}
		return p
	}
	small := func(c int) bool { return c >= 1 && c < min }
	n, pub := 0, 0
	for i, c := range g.Parts {
		if small(c) {
			n++
			continue
		}
		p.Parts[i] = true
		pub += c
	}
	if small(g.Total) {
		p.Total = false
		return p
	}
	if n > 0 {
		s := g.Total - pub
		p.Total = n >= 2 && s > n && s < n*(min-1)
	}
	return p
}
