package web

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/encoding/mvt"
	"github.com/paulmach/orb/maptile"

	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/tiles"
)

// privacyPartner adds precise partner records inside the district: exact
// houses, an exact minute, an address in the free text, ids of the
// partner's own, in a sensitive and a non-sensitive category (the street
// is made up, so that any trace of it in an answer is a leak). Nothing of
// them but month, category and map point may come out.
const privacyPartner = `WITH b AS (INSERT INTO import_batches (source, file_name, file_sha256, file_bytes) VALUES ('partner-csp', 'cases.csv', 'p', 0) RETURNING id)
INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, location_text, context, outcome, geom, geom_bng, geom_web, batch_id)
SELECT 'partner-csp', 'CASE-' || n || '-' || c, c, '2024-01-14 21:37:00+00', '2024-01-14 21:38:00+00',
       n || ' Xyzzy Close', 'victim lives at ' || n || ' Xyzzy Close', 'Xyzzy declined to support', g, ST_Transform(g, 27700), ST_Transform(g, 3857), b.id
FROM b, generate_series(1, 6) n, unnest(ARRAY['domestic-abuse', 'criminal-damage-arson', 'hate-crime']) c,
     LATERAL (SELECT ST_SetSRID(ST_MakePoint(-0.93371 + n * 0.00007, 52.47669 + n * 0.00003), 4326) AS g) p`

// privacySynthetic adds rows that hotspot synth would make (synthetic,
// precise, exact times, addresses): they must not appear at all.
const privacySynthetic = `WITH b AS (INSERT INTO import_batches (source, file_name, file_sha256, file_bytes) VALUES ('synth', 'synth', 's', 0) RETURNING id)
INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, location_text, context, synthetic, geom, geom_bng, geom_web, batch_id)
SELECT 'synth', 'synth-7-' || n, 'burglary', '2030-05-01 10:00+00', '2030-05-01 10:01+00', n || ' Synthville Road', 'Synthville', true,
       g, ST_Transform(g, 27700), ST_Transform(g, 3857), b.id
FROM b, generate_series(1, 20) n, LATERAL (SELECT ST_SetSRID(ST_MakePoint(-0.9205 + n * 0.0001, 52.4775), 4326) AS g) p`

// privacyAttack is the state of one attack run: what the public may
// legitimately see, read through the main pool, and the tally.
type privacyAttack struct {
	t       *testing.T
	p       *papi
	attacks int
	leaks   int
	// points are the map points: "lat,lng" as the API prints them → id.
	points map[string]int64
	pts    map[int64][2]float64
	// sensitive slugs, police.uk's Crime IDs, and the minimum count.
	sensitive map[string]bool
	policeIDs map[string]bool
	minCount  int
	// perPoint counts public crimes by map point, month and category.
	perPoint map[string]int
	months   []string
}

func (a *privacyAttack) leak(format string, args ...any) {
	a.t.Helper()
	a.leaks++
	a.t.Errorf("LEAK: "+format, args...)
}

// privacyFiner finds a date finer than a month: a day, a time.
var privacyFiner = regexp.MustCompile(`\d{4}-\d{2}-\d{2}|\b\d{1,2}:\d{2}:\d{2}\b|T\d{2}:\d{2}`)

// get makes one attack request and applies the checks every public answer
// must pass, whatever it is: no date finer than a month, nothing of the
// partner's precise records.
func (a *privacyAttack) get(method, target, form string) *privacyAnswer {
	a.t.Helper()
	a.attacks++
	w := a.p.do(method, target, form, "")
	body := w.Body.String()
	if m := privacyFiner.FindString(body); m != "" && !strings.HasPrefix(target, "/api/crime-last-updated") {
		a.leak("%s %.100s: a date finer than a month %q", method, target, m)
	}
	for _, s := range []string{"Xyzzy", "CASE-", "victim", "21:37", "partner", "Synthville", "synth-", "2030-05"} {
		if strings.Contains(body, s) {
			a.leak("%s %.100s: partner detail %q in the answer", method, target, s)
		}
	}
	return &privacyAnswer{code: w.Code, body: w.Body.Bytes(), header: w.Header()}
}

type privacyAnswer struct {
	code   int
	body   []byte
	header http.Header
}

// crimes checks a crimes answer: every crime at a map point (exactly its
// printed place and id), by month, of a category that may be shown at a
// point, with no persistent_id but police.uk's; and whole map points only,
// so no two overlapping queries can tell more than the map points do.
// cat and months are what was asked, for the whole-point check.
func (a *privacyAttack) crimes(target string, ans *privacyAnswer, cat string, months []string) int {
	a.t.Helper()
	if ans.code == http.StatusServiceUnavailable || ans.code == http.StatusBadRequest || ans.code == http.StatusNotFound {
		return 0
	}
	if ans.code != http.StatusOK {
		a.t.Fatalf("%s = %d %s", target, ans.code, ans.body)
	}
	var cs []docCrime
	if err := json.Unmarshal(ans.body, &cs); err != nil {
		a.t.Fatalf("%s: %v", target, err)
	}
	got := map[int64]int{}
	for _, c := range cs {
		if a.sensitive[c.Category] {
			a.leak("%s: sensitive %s crime %d at point level", target, c.Category, c.ID)
		}
		if len(c.Month) != 7 {
			a.leak("%s: month %q is not YYYY-MM", target, c.Month)
		}
		if c.PersistentID != "" && !a.policeIDs[c.PersistentID] {
			a.leak("%s: persistent_id %q is not a police.uk Crime ID", target, c.PersistentID)
		}
		if c.Context != "" {
			a.leak("%s: context %q", target, c.Context)
		}
		if c.Location == nil {
			if c.LocationType != nil {
				a.leak("%s: a crime without location has location_type %q", target, *c.LocationType)
			}
			continue // crimes-no-location
		}
		k := c.Location.Latitude + "," + c.Location.Longitude
		if id, ok := a.points[k]; !ok || id != c.Location.Street.ID {
			a.leak("%s: crime %d at %s (street.id %d), which is not a map point", target, c.ID, k, c.Location.Street.ID)
		}
		got[c.Location.Street.ID]++
	}
	for id, n := range got {
		want := 0
		for _, m := range months {
			want += a.perPoint[fmt.Sprintf("%d|%s|%s", id, m, cat)]
		}
		if n != want {
			a.leak("%s: %d crimes at map point %d; the point has %d for %s %v: an answer must hold whole map points", target, n, id, want, cat, months)
		}
	}
	return len(cs)
}

// TestPrivacy attacks the whole public surface with the real data and
// precise partner records loaded, and must learn no more than the policy
// allows: no coordinate but a map point's, no date finer than a month, no
// sensitive category at point level, no persistent_id but police.uk's,
// and no withheld count that subtraction can recover.
func TestPrivacy(t *testing.T) {
	files := papiFiles(t)
	p := newPAPI(t, files, privacyPartner, privacySynthetic)
	src, err := places.ReadSources(papiData)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := places.Build(context.Background(), p.main, src, places.BuildOptions{Actor: "privacy test"}); err != nil {
		t.Fatal(err)
	}
	a := &privacyAttack{t: t, p: p, sensitive: map[string]bool{}, policeIDs: map[string]bool{}, perPoint: map[string]int{}}
	ctx := context.Background()
	_, a.points, a.pts = p.mapPoints(t)
	if len(a.points) < 100 {
		t.Fatalf("only %d map points", len(a.points))
	}
	// What the public may see, read through the main pool.
	q := func(sql string, each func(vals []any)) {
		rows, err := p.main.Query(ctx, sql)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			v, err := rows.Values()
			if err != nil {
				t.Fatal(err)
			}
			each(v)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	q(`SELECT slug FROM sensitive_categories`, func(v []any) { a.sensitive[v[0].(string)] = true })
	q(`SELECT source_id FROM incidents WHERE source = 'police-uk'`, func(v []any) { a.policeIDs[v[0].(string)] = true })
	q(`SELECT map_point_id, to_char(month, 'YYYY-MM'), category, count(*)::int FROM open.crimes GROUP BY 1, 2, 3`, func(v []any) {
		k := fmt.Sprintf("%d|%s|", v[0], v[1])
		a.perPoint[k+v[2].(string)] += int(v[3].(int32))
		a.perPoint[k+"all-crime"] += int(v[3].(int32))
	})
	q(`SELECT to_char(unnest(months), 'YYYY-MM') FROM open.meta`, func(v []any) { a.months = append(a.months, v[0].(string)) })
	q(`SELECT min_count FROM open.meta`, func(v []any) { a.minCount = int(v[0].(int32)) })
	var cats []string
	q(`SELECT slug FROM open.categories UNION SELECT 'all-crime' UNION SELECT slug FROM sensitive_categories ORDER BY 1`, func(v []any) { cats = append(cats, v[0].(string)) })
	// The precise places an attacker would aim at: the partner's houses
	// and every original police.uk point of a sensitive crime.
	var targets [][2]float64
	q(`SELECT DISTINCT ST_Y(i.geom), ST_X(i.geom) FROM incidents i JOIN boundaries d ON d.kind = 'district' AND ST_Intersects(d.geom_bng, i.geom_bng)
		WHERE i.source <> 'police-uk' OR i.category IN (SELECT slug FROM sensitive_categories)`, func(v []any) {
		targets = append(targets, [2]float64{v[0].(float64), v[1].(float64)})
	})
	t.Logf("%d map points, %d precise targets, %d categories, months %v", len(a.points), len(targets), len(cats), a.months)

	towns := [][2]float64{{52.4775, -0.9205}, {52.4557, -1.2003}, {52.5494, -1.1744}, {52.5303, -1.0096}} // Market Harborough, Lutterworth, Broughton Astley, Fleckney
	ranges := [][2]string{{"2018-10", "2019-02"}, {"2024-01", "2024-02"}}
	monthsOf := func(from, to string) []string {
		var out []string
		for _, m := range a.months {
			if m >= from && m <= to {
				out = append(out, m)
			}
		}
		return out
	}

	t.Run("every category, month and town", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		for _, c := range cats {
			for _, town := range towns {
				for _, m := range a.months {
					target := fmt.Sprintf("/api/crimes-street/%s?lat=%v&lng=%v&date=%s", c, town[0], town[1], m)
					n := a.crimes(target, a.get("GET", target, ""), c, []string{m})
					if a.sensitive[c] && n != 0 {
						a.leak("%s: %d sensitive crimes", target, n)
					}
				}
				for _, r := range ranges {
					target := fmt.Sprintf("/api/crimes-street/%s?lat=%v&lng=%v&date_from=%s&date_to=%s", c, town[0], town[1], r[0], r[1])
					a.crimes(target, a.get("GET", target, ""), c, monthsOf(r[0], r[1]))
				}
			}
			for _, m := range a.months {
				target := fmt.Sprintf("/api/crimes-no-location?category=%s&force=leicestershire&date=%s", c, m)
				n := a.crimes(target, a.get("GET", target, ""), c, nil)
				if a.sensitive[c] && n != 0 {
					a.leak("%s: %d sensitive crimes without location", target, n)
				}
			}
		}
		// The whole district in one polygon, for each sensitive category.
		district := "52.38,-1.27:52.38,-0.72:52.66,-0.72:52.66,-1.27"
		for c := range a.sensitive {
			for _, r := range ranges {
				target := fmt.Sprintf("/api/crimes-street/%s?poly=%s&date_from=%s&date_to=%s", c, district, r[0], r[1])
				if n := a.crimes(target, a.get("GET", target, ""), c, monthsOf(r[0], r[1])); n != 0 {
					a.leak("%s: %d sensitive crimes in the district", target, n)
				}
			}
		}
	})

	t.Run("tiny polygons around precise places", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		// A square of about 2 m around each target, and a 20 m one, in
		// each month range: an answer may hold only whole map points that
		// happen to lie inside.
		for _, tg := range targets {
			for _, half := range []float64{0.00001, 0.0001} {
				poly := fmt.Sprintf("%f,%f:%f,%f:%f,%f:%f,%f", tg[0]-half, tg[1]-half, tg[0]-half, tg[1]+half, tg[0]+half, tg[1]+half, tg[0]+half, tg[1]-half)
				for _, r := range ranges {
					target := "/api/crimes-street/all-crime?poly=" + poly + "&date_from=" + r[0] + "&date_to=" + r[1]
					a.crimes(target, a.get("GET", target, ""), "all-crime", monthsOf(r[0], r[1]))
				}
			}
			// And crimes-at-location and outcomes-at-location aimed at the
			// house itself: they answer with the nearest map point.
			for _, r := range ranges {
				target := fmt.Sprintf("/api/crimes-at-location?lat=%f&lng=%f&date_from=%s&date_to=%s", tg[0], tg[1], r[0], r[1])
				a.crimes(target, a.get("GET", target, ""), "all-crime", monthsOf(r[0], r[1]))
				target = fmt.Sprintf("/api/outcomes-at-location?lat=%f&lng=%f&date_from=%s&date_to=%s", tg[0], tg[1], r[0], r[1])
				a.outcomes(target, a.get("GET", target, ""))
			}
		}
	})

	t.Run("differencing overlapping areas and months", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		// Two overlapping squares and their intersection, by every town:
		// A + B - (A ∪ B) would isolate the intersection, which must be
		// whole map points (checked by crimes) and equal to asking for the
		// intersection directly.
		for _, town := range towns {
			for _, m := range a.months {
				sq := func(dLat, dLng, h float64) string {
					la, lo := town[0]+dLat, town[1]+dLng
					return fmt.Sprintf("%f,%f:%f,%f:%f,%f:%f,%f", la-h, lo-h, la-h, lo+h, la+h, lo+h, la+h, lo-h)
				}
				ids := func(poly string) map[int64]bool {
					target := "/api/crimes-street/all-crime?poly=" + poly + "&date=" + m
					ans := a.get("GET", target, "")
					a.crimes(target, ans, "all-crime", []string{m})
					var cs []docCrime
					json.Unmarshal(ans.body, &cs) //nolint:errcheck // checked by crimes
					out := map[int64]bool{}
					for _, c := range cs {
						out[c.ID] = true
					}
					return out
				}
				A, B := ids(sq(0, 0, 0.004)), ids(sq(0.002, 0.002, 0.004))
				I := ids(fmt.Sprintf("%f,%f:%f,%f:%f,%f:%f,%f", town[0]-0.002, town[1]-0.002, town[0]-0.002, town[1]+0.004,
					town[0]+0.004, town[1]+0.004, town[0]+0.004, town[1]-0.002))
				for id := range I {
					if !A[id] || !B[id] {
						a.leak("crime %d in the intersection but not in both squares", id)
					}
				}
				for id := range A {
					if B[id] && !I[id] {
						a.leak("crime %d in both squares but not their intersection: answers depend on more than the map point", id)
					}
				}
			}
		}
		// Months: a range answers exactly its months' answers together.
		for _, town := range towns {
			for _, r := range ranges {
				base := fmt.Sprintf("/api/crimes-street/all-crime?lat=%v&lng=%v", town[0], town[1])
				whole := map[int64]bool{}
				var cs []docCrime
				json.Unmarshal(a.get("GET", base+"&date_from="+r[0]+"&date_to="+r[1], "").body, &cs) //nolint:errcheck // an empty answer fails below
				for _, c := range cs {
					whole[c.ID] = true
				}
				n := 0
				for _, m := range monthsOf(r[0], r[1]) {
					var one []docCrime
					json.Unmarshal(a.get("GET", base+"&date="+m, "").body, &one) //nolint:errcheck // as above
					for _, c := range one {
						n++
						if !whole[c.ID] {
							a.leak("crime %d of %s missing from the range %v", c.ID, m, r)
						}
					}
				}
				if n != len(whole) {
					a.leak("range %v near %v holds %d crimes; its months %d", r, town, len(whole), n)
				}
			}
		}
	})

	t.Run("repeated and conflicting filters", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		for _, target := range []string{
			"/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&date=2024-01&date=2024-02",
			"/api/crimes-street/burglary?lat=52.4775&lng=-0.9205&lat=52.48&lng=-0.92",
			"/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&poly=52.47,-0.93:52.47,-0.91:52.48,-0.91",
			"/api/crimes-street/all-crime?lat=52.4775&lng=-0.9205&date=2024-01&date_from=2018-10&date_to=2024-02",
			"/api/crimes-no-location?category=burglary&category=violent-crime&force=leicestershire",
			"/api/area-counts?category=violent-crime&category=burglary",
			"/api/crimes-at-location?location_id=1&location_id=2",
		} {
			if ans := a.get("GET", target, ""); ans.code != http.StatusBadRequest {
				a.leak("%s = %d; want 400, not a merged answer", target, ans.code)
			}
		}
		// The same parameter in the URL and the form body of a POST.
		ans := a.get("POST", "/api/crimes-street/all-crime?date=2024-01", "date=2024-02&lat=52.4775&lng=-0.9205")
		if ans.code != http.StatusBadRequest && !(ans.code == http.StatusForbidden && strings.Contains(string(ans.body), "CSRF")) {
			a.leak("date in URL and body = %d; want 400", ans.code)
		}
	})

	t.Run("area counts and subtraction", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		var cells []apiAreaCount
		for _, r := range ranges {
			ans := a.get("GET", "/api/area-counts?date_from="+r[0]+"&date_to="+r[1], "")
			var part []apiAreaCount
			if err := json.Unmarshal(ans.body, &part); err != nil {
				t.Fatal(err)
			}
			cells = append(cells, part...)
		}
		// Every sensitive category, asked for alone, gives the same cells.
		for c := range a.sensitive {
			a.get("GET", "/api/area-counts?category="+c, "")
		}
		type group struct {
			total      *int
			totalKnown bool
			parts      []*int
		}
		groups := map[string]*group{}
		shown := 0
		for _, c := range cells {
			if c.Category == "all-crime" {
				a.leak("an all-crime count by area: categories could be subtracted from it")
			}
			if c.Suppressed != (c.Count == nil) {
				a.leak("cell %+v: suppressed and count disagree", c)
			}
			if c.Count != nil && *c.Count >= 1 && *c.Count < a.minCount {
				a.leak("cell %+v: a count below %d is shown", c, a.minCount)
			}
			k := c.Month + "|" + c.Category
			g := groups[k]
			if g == nil {
				g = &group{}
				groups[k] = g
			}
			if c.AreaKind == "district" {
				g.total, g.totalKnown = c.Count, true
			} else {
				g.parts = append(g.parts, c.Count)
			}
			if c.Count != nil {
				shown++
			}
		}
		// Subtraction: district minus the shown wards is the sum S of the
		// n withheld wards, each from 1 to min-1. The attacker recovers a
		// ward when only one split is possible: n = 1, S = n, or
		// S = n·(min-1). Enumerate the splits rather than trust the rule.
		recoverable := 0
		for k, g := range groups {
			if !g.totalKnown || g.total == nil {
				continue
			}
			s, n := *g.total, 0
			for _, p := range g.parts {
				if p == nil {
					n++
				} else {
					s -= *p
				}
			}
			if n == 0 {
				if s != 0 {
					a.leak("group %s: wards do not add up to the district (%d over)", k, s)
				}
				continue
			}
			a.attacks++
			values := make([]map[int]bool, n)
			for i := range values {
				values[i] = map[int]bool{}
			}
			split := make([]int, n)
			var walk func(i, left int)
			walk = func(i, left int) {
				if i == n-1 {
					if left >= 1 && left < a.minCount {
						split[i] = left
						for j, v := range split {
							values[j][v] = true
						}
					}
					return
				}
				for v := 1; v < a.minCount && v <= left; v++ {
					split[i] = v
					walk(i+1, left-v)
				}
			}
			walk(0, s)
			for i := range values {
				if len(values[i]) < 2 {
					recoverable++
					a.leak("group %s: district %d less shown wards leaves %d over %d withheld wards; ward %d can only be %v", k, *g.total, s, n, i, values[i])
				}
			}
		}
		t.Logf("%d cells (%d shown), %d groups, %d recoverable", len(cells), shown, len(groups), recoverable)
		// A sensitive category's ward cannot be rebuilt from points either:
		// no endpoint shows them at a point (checked above), so nothing
		// adds up to a ward.
	})

	t.Run("postcodes and place summaries", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		// Every 25th postcode of the LE area, and every one in the
		// district: the answer is the postcode's Code-Point Open point
		// (public open data) and nothing else.
		type pc struct {
			lat, lng float64
		}
		want := map[string]pc{}
		q(`SELECT postcode, ST_Y(geom), ST_X(geom) FROM (SELECT *, row_number() OVER (ORDER BY postcode) n FROM postcodes) s
			WHERE n % 25 = 0 OR district_code = 'E07000131'`, func(v []any) {
			want[v[0].(string)] = pc{v[1].(float64), v[2].(float64)}
		})
		for code, w := range want {
			target := "/api/postcodes/" + strings.ReplaceAll(strings.ToLower(code), " ", "")
			ans := a.get("GET", target, "")
			var got map[string]any
			if ans.code != http.StatusOK || json.Unmarshal(ans.body, &got) != nil {
				t.Fatalf("%s = %d %s", target, ans.code, ans.body)
			}
			lat, _ := got["latitude"].(float64)
			lng, _ := got["longitude"].(float64)
			if len(got) != 3 || got["postcode"] != code || math.Abs(lat-w.lat) > 1e-6 || math.Abs(lng-w.lng) > 1e-6 {
				a.leak("%s = %s; want only %s at its Code-Point point %v", target, ans.body, code, w)
			}
		}
		for _, target := range []string{"/api/postcodes/LE16%207AG'%20OR%201=1--", "/api/postcodes/%25", "/api/postcodes/LE16%207AG?date=2024-01-14"} {
			if ans := a.get("GET", target, ""); ans.code != http.StatusBadRequest && ans.code != http.StatusNotFound && ans.code != http.StatusOK {
				a.leak("%s = %d %s", target, ans.code, ans.body)
			}
		}
		t.Logf("%d postcodes asked for", len(want))
		// Place summaries for the latest month, every month and range:
		// counts of public crimes only, never one below the minimum.
		queries := []string{""}
		for _, m := range a.months {
			queries = append(queries, "?date="+m)
		}
		for _, r := range ranges {
			queries = append(queries, "?date_from="+r[0]+"&date_to="+r[1])
		}
		listed := 0
		for _, query := range queries {
			target := "/api/place-summaries" + query
			ans := a.get("GET", target, "")
			a.coordinates(target, ans.body)
			var ss []apiPlaceSummary
			if ans.code != http.StatusOK || json.Unmarshal(ans.body, &ss) != nil {
				t.Fatalf("%s = %d %s", target, ans.code, ans.body)
			}
			listed += len(ss)
			for _, s := range ss {
				for _, c := range []apiPeriodCount{s.Current, s.Previous} {
					if c.Count != nil && *c.Count < a.minCount {
						a.leak("%s: %s has a count of %d, below the minimum %d", target, s.Slug, *c.Count, a.minCount)
					}
					if c.Count == nil && !c.Suppressed && !c.NoData {
						a.leak("%s: %s has no count and no reason", target, s.Slug)
					}
					if len(c.DateFrom) != 7 || len(c.DateTo) != 7 {
						a.leak("%s: %s period %s..%s is not months", target, s.Slug, c.DateFrom, c.DateTo)
					}
				}
			}
		}
		if listed == 0 {
			t.Error("place-summaries listed no places: the attack missed them")
		}
	})

	t.Run("public tiles at every zoom", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		a.tiles(targets)
	})

	t.Run("every other public endpoint", func(t *testing.T) {
		a.t = t // leaks fail the subtest that found them
		for _, target := range []string{"/api/crime-categories", "/api/crime-last-updated", "/api/crimes-street-dates", "/api/config", "/healthz",
			"/tiles/boundaries.json", "/tiles/public.json", "/api/area-counts"} {
			ans := a.get("GET", target, "")
			if target == "/api/crime-last-updated" && !strings.Contains(string(ans.body), `-01"`) {
				a.leak("%s = %s; want the first of a month", target, ans.body)
			}
			a.coordinates(target, ans.body)
		}
		for _, target := range []string{"/tiles/incidents.json", "/tiles/incidents/12/2035/1346.mvt"} {
			if ans := a.get("GET", target, ""); ans.code != http.StatusUnauthorized && ans.code != http.StatusNotFound {
				a.leak("%s as the public = %d; want refused", target, ans.code)
			}
		}
		var cfg struct {
			Layers []string `json:"layers"`
		}
		json.Unmarshal(a.get("GET", "/api/config", "").body, &cfg) //nolint:errcheck // an empty list fails below
		for _, l := range cfg.Layers {
			if l == "incidents" {
				a.leak("/api/config offers the public the incidents layer")
			}
		}
		// Boundary tiles carry the public outlines and nothing else: no
		// points at all.
		for z := 8; z <= 16; z += 2 {
			tile := maptile.At(orb.Point{-0.9205, 52.4775}, maptile.Zoom(z))
			ans := a.get("GET", fmt.Sprintf("/tiles/boundaries/%d/%d/%d.mvt", tile.Z, tile.X, tile.Y), "")
			if ans.code == http.StatusNoContent {
				continue
			}
			layers, err := mvt.Unmarshal(ans.body)
			if err != nil {
				t.Fatalf("boundaries tile: %v", err)
			}
			for _, l := range layers {
				for _, f := range l.Features {
					switch f.Geometry.(type) {
					case orb.Polygon, orb.MultiPolygon, orb.LineString, orb.MultiLineString:
					default:
						a.leak("boundaries tile %v holds a %T", tile, f.Geometry)
					}
				}
			}
		}
	})

	a.t = t
	t.Logf("privacy: %d attacks, %d leaks", a.attacks, a.leaks)
	if testing.Verbose() {
		fmt.Printf("privacy: %d attacks, %d leaks\n", a.attacks, a.leaks)
	}
}

// outcomes checks an outcomes answer as crimes does.
func (a *privacyAttack) outcomes(target string, ans *privacyAnswer) {
	a.t.Helper()
	if ans.code != http.StatusOK {
		return
	}
	var os []docOutcome
	if err := json.Unmarshal(ans.body, &os); err != nil {
		a.t.Fatalf("%s: %v", target, err)
	}
	for _, o := range os {
		c := o.Crime
		if a.sensitive[c.Category] {
			a.leak("%s: sensitive outcome", target)
		}
		if c.PersistentID != "" && !a.policeIDs[c.PersistentID] {
			a.leak("%s: persistent_id %q", target, c.PersistentID)
		}
		if id, ok := a.points[c.Location.Latitude+","+c.Location.Longitude]; !ok || id != c.Location.Street.ID {
			a.leak("%s: outcome at %s,%s, not a map point", target, c.Location.Latitude, c.Location.Longitude)
		}
	}
}

// coordinates checks a JSON answer that is not a crimes list: any
// latitude/longitude pair in it must be a map point. Bounding boxes and
// centres (config, TileJSON) are extents of the public outlines and of
// the map points, not places of crimes, and are allowed.
func (a *privacyAttack) coordinates(target string, body []byte) {
	a.t.Helper()
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return
	}
	var walk func(key string, v any)
	walk = func(key string, v any) {
		switch x := v.(type) {
		case map[string]any:
			if la, ok := x["latitude"]; ok {
				k := fmt.Sprint(la) + "," + fmt.Sprint(x["longitude"])
				if _, ok := a.points[k]; !ok {
					a.leak("%s: coordinate %s is not a map point", target, k)
				}
			}
			for k, e := range x {
				walk(k, e)
			}
		case []any:
			if key != "bounds" && key != "center" && len(x) == 2 {
				if la, ok := x[0].(float64); ok {
					if lo, ok := x[1].(float64); ok && math.Abs(la) <= 90 && math.Abs(lo) <= 180 && la != math.Trunc(la) {
						a.leak("%s: %q holds a coordinate pair %v", target, key, x)
					}
				}
			}
			for _, e := range x {
				walk(key, e)
			}
		}
	}
	walk("", v)
}

// tiles attacks the public layer at every zoom from 0 to 22: every tile
// over the district down to z12, and from z13 the tiles over each map
// point and each precise target, in the default month and both ranges.
// Every feature must be a map point with the point's id, place and the
// counts open.crimes gives it, and no sensitive category.
func (a *privacyAttack) tiles(targets [][2]float64) {
	t := a.t
	overHTTP := false
	for _, rt := range a.p.srv.Routes() {
		if rt.Name == "tile-"+tiles.PublicLayerName {
			overHTTP = true
		}
	}
	direct := tiles.NewPublic(a.p.public)
	if !overHTTP {
		t.Logf("the public layer has no HTTP route yet (tiles.go edit pending): attacking it through tiles.Public, the code the route calls")
	}
	monthSets := []struct {
		query  string
		months tiles.Months
		list   []string
	}{{"", tiles.Months{}, a.months[len(a.months)-1:]}}
	for _, r := range [][2]string{{"2018-10", "2019-02"}, {"2024-01", "2024-02"}} {
		m, err := tiles.ParseMonths("", r[0], r[1])
		if err != nil {
			t.Fatal(err)
		}
		var list []string
		for _, mo := range a.months {
			if mo >= r[0] && mo <= r[1] {
				list = append(list, mo)
			}
		}
		monthSets = append(monthSets, struct {
			query  string
			months tiles.Months
			list   []string
		}{"?date_from=" + r[0] + "&date_to=" + r[1], m, list})
	}
	set := map[maptile.Tile]bool{}
	bound := orb.Bound{Min: orb.Point{-1.27, 52.38}, Max: orb.Point{-0.72, 52.66}}
	for z := maptile.Zoom(0); z <= 12; z++ {
		min, max := maptile.At(orb.Point{bound.Min[0], bound.Max[1]}, z), maptile.At(orb.Point{bound.Max[0], bound.Min[1]}, z)
		for x := min.X; x <= max.X; x++ {
			for y := min.Y; y <= max.Y; y++ {
				set[maptile.New(x, y, z)] = true
			}
		}
	}
	var aims []orb.Point
	for _, p := range a.pts {
		aims = append(aims, orb.Point{p[1], p[0]})
	}
	for _, tg := range targets {
		aims = append(aims, orb.Point{tg[1], tg[0]})
	}
	for z := maptile.Zoom(13); z <= tiles.MaxZoom; z++ {
		for _, p := range aims {
			set[maptile.At(p, z)] = true
		}
	}
	list := make([]maptile.Tile, 0, len(set))
	for tl := range set {
		list = append(list, tl)
	}
	sort.Slice(list, func(i, j int) bool {
		if list[i].Z != list[j].Z {
			return list[i].Z < list[j].Z
		}
		return list[i].X < list[j].X || (list[i].X == list[j].X && list[i].Y < list[j].Y)
	})
	allowed := map[string]bool{"street": true, "date_from": true, "date_to": true, "total": true}
	features := 0
	start := time.Now()
	for _, ms := range monthSets {
		for _, tl := range list {
			if ms.query != "" && tl.Z > 16 {
				continue // the ranges down to z16; the latest month to z22
			}
			var b []byte
			if overHTTP {
				ans := a.get("GET", fmt.Sprintf("/tiles/public/%d/%d/%d.mvt%s", tl.Z, tl.X, tl.Y, ms.query), "")
				switch ans.code {
				case http.StatusOK:
					b = ans.body
				case http.StatusNoContent:
				default:
					t.Fatalf("public tile %v = %d %s", tl, ans.code, ans.body)
				}
			} else {
				a.attacks++
				var err error
				if b, err = direct.Tile(context.Background(), tl, ms.months); err != nil {
					t.Fatal(err)
				}
			}
			if len(b) == 0 {
				continue
			}
			layers, err := mvt.Unmarshal(b)
			if err != nil {
				t.Fatalf("tile %v: %v", tl, err)
			}
			layers.ProjectToWGS84(tl)
			res := 360 / math.Exp2(float64(tl.Z)) / tiles.Extent
			for _, l := range layers {
				for _, f := range l.Features {
					features++
					fid, _ := f.ID.(float64)
					id := int64(fid)
					p, ok := a.pts[id]
					pt, isPoint := f.Geometry.(orb.Point)
					if !ok || !isPoint || math.Abs(pt[0]-p[1]) > 2*res || math.Abs(pt[1]-p[0]) > 2*res {
						a.leak("tile %v: feature %v at %v is not map point %d (%v)", tl, f.ID, f.Geometry, id, p)
						continue
					}
					total := 0
					for k, v := range f.Properties {
						if a.sensitive[k] {
							a.leak("tile %v: sensitive %s at map point %d", tl, k, id)
						}
						if allowed[k] {
							if s, ok := v.(string); ok && k != "street" && len(s) != 7 {
								a.leak("tile %v: %s %q is not YYYY-MM", tl, k, s)
							}
							continue
						}
						n, _ := v.(float64)
						want := 0
						for _, m := range ms.list {
							want += a.perPoint[fmt.Sprintf("%d|%s|%s", id, m, k)]
						}
						if int(n) != want {
							a.leak("tile %v: map point %d %s = %v; open.crimes has %d", tl, id, k, v, want)
						}
						total += int(n)
					}
					if got, _ := f.Properties["total"].(float64); int(got) != total {
						a.leak("tile %v: map point %d total %v; categories add to %d", tl, id, f.Properties["total"], total)
					}
				}
			}
		}
	}
	t.Logf("%d public tiles (z0-z%d) × %d month sets, %d features, %v", len(list), tiles.MaxZoom, len(monthSets), features, time.Since(start).Round(time.Millisecond))
	if features < 100 {
		t.Errorf("only %d features seen: the attack missed the data", features)
	}
}
