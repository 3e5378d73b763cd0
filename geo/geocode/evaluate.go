package geocode

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Labelled is one location text with the point it is known to be at.
type Labelled struct {
	Set  string // which set and variant: "postcode/compact", "street/typo", ...
	Text string
	Want string // the entry expected, where exact identity matters ("postcode:LE16 7NJ")
	E, N float64
}

// SetScore is the quality of the geocoder on one labelled set.
type SetScore struct {
	Set     string
	N       int
	Matched int // StatusMatched
	Placed  int // matched or low-confidence: a point was given
	Exact   int // Best.EntryID == Want (sets with a Want)
	// Median and P90 error, metres, over the placed ones.
	MedianM, P90M float64
	// Methods counts the best candidates' methods ("-" for none), and
	// MethodMedianM is the median error of each method's placements.
	Methods       map[string]int
	MethodMedianM map[string]float64
}

// Evaluation is the result of Evaluate.
type Evaluation struct {
	Sets    []SetScore
	Queries int
	Elapsed time.Duration
	PerSec  float64
	Workers int
}

// districtPostcodesSQL: Harborough District's postcode units (Code-Point
// Open's admin district E07000131).
const districtPostcodesSQL = `SELECT postcode, easting, northing FROM postcodes WHERE district_code = 'E07000131' ORDER BY postcode`

// PostcodeSet builds labelled set (a): every Harborough District postcode
// written four ways people write them: as printed, lower case without
// the space, with an O for a 0 or an I for a 1 where the postcode has
// one, and at the end of an address line.
func PostcodeSet(ctx context.Context, pool *pgxpool.Pool) ([]Labelled, error) {
	rows, err := pool.Query(ctx, districtPostcodesSQL)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Labelled
	for rows.Next() {
		var pc string
		var e, n int32
		if err := rows.Scan(&pc, &e, &n); err != nil {
			return nil, err
		}
		want := "postcode:" + pc
		add := func(set, text string) {
			out = append(out, Labelled{Set: "postcode/" + set, Text: text, Want: want, E: float64(e), N: float64(n)})
		}
		add("printed", pc)
		add("compact", strings.ToLower(strings.ReplaceAll(pc, " ", "")))
		if s := slip(pc); s != "" {
			add("slip", s)
		}
		add("in-address", "Flat 2, 14 Anywhere Road, "+pc)
	}
	return out, rows.Err()
}

// slip puts one O for a 0 or I for a 1 into a postcode's digits, or ""
// when it has neither.
func slip(pc string) string {
	b := []byte(pc)
	for i := len(b) - 1; i >= 0; i-- {
		switch b[i] {
		case '0':
			b[i] = 'O'
			return string(b)
		case '1':
			b[i] = 'I'
			return string(b)
		}
	}
	return ""
}

// streetSetSQL: the distinct police.uk "On or near" locations of the
// given import files inside Harborough District's LSOAs, each with the
// town of its LSOA (the settlement nearest the centre of the LSOA's
// incident points).
const streetSetSQL = `WITH t AS (
	SELECT DISTINCT substr(i.location_text, 12) AS street, i.geom_bng, i.lsoa_code
	FROM incidents i JOIN import_batches b ON b.id = i.batch_id
	WHERE b.file_name = ANY($1) AND i.source = 'police-uk' AND i.location_text LIKE 'On or near %'
	  AND i.geom_bng IS NOT NULL AND i.lsoa_name LIKE 'Harborough %'
), l AS (
	SELECT lsoa_code, ST_Centroid(ST_Collect(geom_bng)) AS c FROM incidents
	WHERE lsoa_name LIKE 'Harborough %' AND geom_bng IS NOT NULL GROUP BY lsoa_code
)
SELECT t.street, ST_X(t.geom_bng), ST_Y(t.geom_bng), coalesce(town.name, '')
FROM t JOIN l USING (lsoa_code)
LEFT JOIN LATERAL (SELECT name FROM gazetteer WHERE kind = 'place' AND source IN ('geonames-cities500', 'places')
	ORDER BY geom_bng <-> l.c LIMIT 1) town ON true
ORDER BY 1, 2, 3`

// StreetSet builds labelled set (b) from the police.uk locations of the
// given import files (months the streets were not learned from): each
// "<street>, <LSOA's town>" as written, in lower case with the usual
// abbreviations, and with one typo (two letters swapped).
func StreetSet(ctx context.Context, pool *pgxpool.Pool, files []string) ([]Labelled, error) {
	rows, err := pool.Query(ctx, streetSetSQL, files)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Labelled
	for rows.Next() {
		var street, town string
		var e, n float64
		if err := rows.Scan(&street, &e, &n, &town); err != nil {
			return nil, err
		}
		text := street
		if town != "" {
			text += ", " + town
		}
		out = append(out, Labelled{Set: "street/as-written", Text: text, E: e, N: n})
		out = append(out, Labelled{Set: "street/abbreviated", Text: strings.ToLower(abbreviate(street) + ", " + town), E: e, N: n})
		if ty := typo(street); ty != street {
			out = append(out, Labelled{Set: "street/typo", Text: ty + ", " + town, E: e, N: n})
		}
	}
	return out, rows.Err()
}

var shortForms = map[string]string{"street": "St", "road": "Rd", "avenue": "Ave", "close": "Cl", "lane": "Ln", "drive": "Dr", "crescent": "Cres", "gardens": "Gdns", "place": "Pl", "square": "Sq", "court": "Ct", "terrace": "Terr"}

func abbreviate(s string) string {
	w := strings.Fields(s)
	if len(w) > 1 {
		if sf, ok := shortForms[strings.ToLower(w[len(w)-1])]; ok {
			w[len(w)-1] = sf
		}
	}
	return strings.Join(w, " ")
}

// typo swaps two letters in the middle of the longest word, the most
// common slip in typed names; words under five letters are left alone.
func typo(s string) string {
	w := strings.Fields(s)
	best := -1
	for i, x := range w {
		if len(x) >= 5 && (best < 0 || len(x) > len(w[best])) {
			best = i
		}
	}
	if best < 0 {
		return s
	}
	b := []byte(w[best])
	k := len(b) / 2
	b[k], b[k+1] = b[k+1], b[k]
	w[best] = string(b)
	return strings.Join(w, " ")
}

// Evaluate geocodes every labelled text with workers at once and scores
// each set: match rate, exact-entry rate, median and 90th-percentile
// error in metres; and the throughput over all of them.
func Evaluate(ctx context.Context, g *Geocoder, sets []Labelled, workers int) (Evaluation, error) {
	if workers <= 0 {
		workers = 8
	}
	if err := g.Refresh(ctx); err != nil {
		return Evaluation{}, err
	}
	results := make([]Result, len(sets))
	var next int
	var mu sync.Mutex
	var firstErr error
	var wg sync.WaitGroup
	start := time.Now()
	for k := 0; k < workers; k++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				i := next
				next++
				mu.Unlock()
				if i >= len(sets) {
					return
				}
				r, err := g.Geocode(ctx, Query{Text: sets[i].Text})
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = err
					}
					next = len(sets)
					mu.Unlock()
					return
				}
				results[i] = r
			}
		}()
	}
	wg.Wait()
	el := time.Since(start)
	if firstErr != nil {
		return Evaluation{}, firstErr
	}
	ev := Evaluation{Queries: len(sets), Elapsed: el, PerSec: float64(len(sets)) / el.Seconds(), Workers: workers}
	by := map[string]*SetScore{}
	errs := map[string][]float64{}
	methodErrs := map[string]map[string][]float64{}
	var order []string
	for i, l := range sets {
		sc := by[l.Set]
		if sc == nil {
			sc = &SetScore{Set: l.Set, Methods: map[string]int{}}
			by[l.Set] = sc
			order = append(order, l.Set)
		}
		sc.N++
		r := results[i]
		m := r.Best.Method
		if m == "" {
			m = "-"
		}
		sc.Methods[m]++
		if r.Status == StatusMatched {
			sc.Matched++
		}
		if r.Status == StatusMatched || r.Status == StatusLowConfidence {
			sc.Placed++
			d := dist(r.Best.Easting, r.Best.Northing, l.E, l.N)
			errs[l.Set] = append(errs[l.Set], d)
			if methodErrs[l.Set] == nil {
				methodErrs[l.Set] = map[string][]float64{}
			}
			methodErrs[l.Set][m] = append(methodErrs[l.Set][m], d)
			if l.Want != "" && r.Best.EntryID == l.Want {
				sc.Exact++
			}
		}
	}
	for _, s := range order {
		sc := by[s]
		sc.MedianM, sc.P90M = percentile(errs[s], 0.5), percentile(errs[s], 0.9)
		sc.MethodMedianM = map[string]float64{}
		for m, es := range methodErrs[s] {
			sc.MethodMedianM[m] = percentile(es, 0.5)
		}
		ev.Sets = append(ev.Sets, *sc)
	}
	return ev, nil
}

func percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	i := int(math.Ceil(p*float64(len(s)))) - 1
	if i < 0 {
		i = 0
	}
	return s[i]
}

// String formats the evaluation as a table.
func (ev Evaluation) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%-22s %6s %9s %9s %9s %10s %10s\n", "SET", "N", "MATCHED", "PLACED", "EXACT", "MEDIAN_M", "P90_M")
	for _, s := range ev.Sets {
		exact := "-"
		if strings.HasPrefix(s.Set, "postcode/") {
			exact = fmt.Sprintf("%.2f%%", 100*float64(s.Exact)/float64(s.N))
		}
		fmt.Fprintf(&b, "%-22s %6d %8.2f%% %8.2f%% %9s %10.0f %10.0f\n", s.Set, s.N,
			100*float64(s.Matched)/float64(s.N), 100*float64(s.Placed)/float64(s.N), exact, s.MedianM, s.P90M)
	}
	fmt.Fprintln(&b, "methods of the best candidates (count, median error):")
	for _, s := range ev.Sets {
		ms := make([]string, 0, len(s.Methods))
		for m := range s.Methods {
			ms = append(ms, m)
		}
		sort.Slice(ms, func(i, j int) bool {
			return s.Methods[ms[i]] > s.Methods[ms[j]] || s.Methods[ms[i]] == s.Methods[ms[j]] && ms[i] < ms[j]
		})
		var parts []string
		for _, m := range ms {
			if med, ok := s.MethodMedianM[m]; ok {
				parts = append(parts, fmt.Sprintf("%s %d (%.0f m)", m, s.Methods[m], med))
			} else {
				parts = append(parts, fmt.Sprintf("%s %d", m, s.Methods[m]))
			}
		}
		fmt.Fprintf(&b, "  %-22s %s\n", s.Set, strings.Join(parts, ", "))
	}
	fmt.Fprintf(&b, "%d geocodes in %.2fs with %d workers: %.0f geocodes/s\n", ev.Queries, ev.Elapsed.Seconds(), ev.Workers, ev.PerSec)
	return b.String()
}
