package geocode_test

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/geocode"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// dataDir is the shared real data beside the checkout.
const dataDir = "../../../shared/data"

func needData(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no shared data (CI is set, so this fails rather than skips): %v", err)
		}
		t.Skipf("no shared data: %v", err)
	}
}

var (
	srcOnce sync.Once
	src     *places.Sources
	srcErr  error
)

// trainMonths are the police.uk files the streets are learned from; the
// 2024 months are kept out, to score street matching on (quality set b).
// testMonths are held out.
var testMonths = []string{"2024-01-leicestershire-street.csv", "2024-02-leicestershire-street.csv"}

var trainMonths = []string{
	"2018-10-leicestershire-street.csv", "2018-11-leicestershire-street.csv", "2018-12-leicestershire-street.csv",
	"2019-01-leicestershire-street.csv", "2019-02-leicestershire-street.csv",
}

// loaded returns a database with the real district outline, Code-Point
// Open, all seven police.uk months, the named places and the gazetteer
// (streets learned from the five 2018/19 months only).
func loaded(t testing.TB) *pgxpool.Pool {
	t.Helper()
	needData(t)
	ctx := context.Background()
	pool := storetest.DB(t)
	f, err := os.Open(filepath.Join(dataDir, "boundaries", "harborough-district.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	bs, err := ingest.ReadBoundaries(f, "", "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.LoadBoundaries(ctx, pool, "district", bs); err != nil {
		t.Fatal(err)
	}
	if _, err := ingest.ImportPostcodesFile(ctx, pool, filepath.Join(dataDir, "postcodes", "codepoint-open-2025-10-le.csv")); err != nil {
		t.Fatal(err)
	}
	months, _ := filepath.Glob(filepath.Join(dataDir, "police-uk", "*.csv"))
	sort.Strings(months)
	for _, m := range months {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, m); err != nil {
			t.Fatal(err)
		}
	}
	srcOnce.Do(func() { src, srcErr = places.ReadSources(dataDir) })
	if srcErr != nil {
		t.Fatal(srcErr)
	}
	if _, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "geocode test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := geocode.LoadGeoNames(ctx, pool, filepath.Join(dataDir, "places")); err != nil {
		t.Fatal(err)
	}
	if _, err := geocode.LoadNamedPlaces(ctx, pool); err != nil {
		t.Fatal(err)
	}
	if _, err := geocode.LearnStreets(ctx, pool, trainMonths); err != nil {
		t.Fatal(err)
	}
	return pool
}

// codePoint reads the real Code-Point Open file with encoding/csv, as an
// independent truth for postcode matches: postcode -> easting, northing,
// district.
func codePoint(t testing.TB) map[string][3]string {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, "postcodes", "codepoint-open-2025-10-le.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][3]string{}
	for _, r := range recs {
		out[r[0]] = [3]string{r[2], r[3], r[8]}
	}
	return out
}

// policePoints reads the police.uk points of one "On or near" name from
// the raw training-month CSVs.
func policePoints(t testing.TB, street string) [][2]float64 {
	t.Helper()
	var out [][2]float64
	for _, m := range trainMonths {
		f, err := os.Open(filepath.Join(dataDir, "police-uk", m))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs[1:] {
			if r[6] == "On or near "+street && strings.HasPrefix(r[8], "Harborough") {
				lon, _ := strconv.ParseFloat(r[4], 64)
				lat, _ := strconv.ParseFloat(r[5], 64)
				out = append(out, [2]float64{lon, lat})
			}
		}
	}
	if len(out) == 0 {
		t.Fatalf("no police.uk points for %q", street)
	}
	return out
}

// metres is the great-circle distance between two WGS84 points.
func metres(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371008.8
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

func nearest(c geocode.Candidate, pts [][2]float64) float64 {
	best := math.Inf(1)
	for _, p := range pts {
		best = math.Min(best, metres(c.Lon, c.Lat, p[0], p[1]))
	}
	return best
}

func f64(v float64) *float64 { return &v }

// TestGeocodeRealData loads the real data once and checks geocodes of
// varied real-world forms against independent truths: Code-Point Open
// read from its CSV, police.uk points read from theirs, the station's
// published grid reference, the named places' outlines.
func TestGeocodeRealData(t *testing.T) {
	pool := loaded(t)
	ctx := context.Background()
	g := geocode.New(pool)
	cp := codePoint(t)
	cpCheck := func(pc string) func(*testing.T, geocode.Result) {
		return func(t *testing.T, r geocode.Result) {
			want := cp[pc]
			if got := [2]string{strconv.FormatFloat(r.Best.Easting, 'f', -1, 64), strconv.FormatFloat(r.Best.Northing, 'f', -1, 64)}; got != [2]string{want[0], want[1]} {
				t.Errorf("point %v; want Code-Point's %v", got, want[:2])
			}
			if r.Best.EntryID != "postcode:"+pc {
				t.Errorf("entry %q; want postcode:%s", r.Best.EntryID, pc)
			}
		}
	}
	nearPolice := func(street string, within float64) func(*testing.T, geocode.Result) {
		pts := policePoints(t, street)
		return func(t *testing.T, r geocode.Result) {
			if d := nearest(r.Best, pts); d > within {
				t.Errorf("%.0f m from the nearest police.uk point of %q; want <= %.0f", d, street, within)
			}
		}
	}
	within := func(lon, lat, m float64) func(*testing.T, geocode.Result) {
		return func(t *testing.T, r geocode.Result) {
			if d := metres(r.Best.Lon, r.Best.Lat, lon, lat); d > m {
				t.Errorf("%.0f m from %v, %v; want <= %.0f", d, lat, lon, m)
			}
		}
	}
	inPlace := func(slug string) func(*testing.T, geocode.Result) {
		return func(t *testing.T, r geocode.Result) {
			var in bool
			if err := pool.QueryRow(ctx, `SELECT ST_Contains(geom, ST_SetSRID(ST_MakePoint($1, $2), 4326)) FROM places WHERE slug = $3`,
				r.Best.Lon, r.Best.Lat, slug).Scan(&in); err != nil || !in {
				t.Errorf("point %v, %v not inside place %s (err %v)", r.Best.Lat, r.Best.Lon, slug, err)
			}
		}
	}
	exactEN := func(e, n float64) func(*testing.T, geocode.Result) {
		return func(t *testing.T, r geocode.Result) {
			if r.Best.Easting != e || r.Best.Northing != n {
				t.Errorf("E/N %v, %v; want exactly %v, %v", r.Best.Easting, r.Best.Northing, e, n)
			}
		}
	}
	outside := func(t *testing.T, r geocode.Result) {
		if r.Best.InDistrict {
			t.Error("InDistrict = true; want false (outside Harborough District)")
		}
	}
	minConf := func(c float64) func(*testing.T, geocode.Result) {
		return func(t *testing.T, r geocode.Result) {
			if r.Best.Confidence < c {
				t.Errorf("confidence %v; want >= %v", r.Best.Confidence, c)
			}
		}
	}
	ambiguous := func(t *testing.T, r geocode.Result) {
		if len(r.Alternatives) == 0 || !strings.Contains(r.Reason, "ambiguous") {
			t.Errorf("alternatives %d, reason %q; want ambiguous with alternatives", len(r.Alternatives), r.Reason)
		}
	}
	// A Leicester City postcode, outside the district, from the file.
	var cityPC string
	for pc, v := range cp {
		if v[2] == "E06000016" && (cityPC == "" || pc < cityPC) {
			cityPC = pc
		}
	}
	tests := []struct {
		name   string
		q      geocode.Query
		status geocode.Status
		method string
		checks []func(*testing.T, geocode.Result)
	}{
		{"postcode", geocode.Query{Text: "LE16 7NJ"}, geocode.StatusMatched, "postcode", []func(*testing.T, geocode.Result){cpCheck("LE16 7NJ"), minConf(0.95)}},
		{"postcode compact lower", geocode.Query{Text: "le167nj"}, geocode.StatusMatched, "postcode", []func(*testing.T, geocode.Result){cpCheck("LE16 7NJ")}},
		{"postcode I for 1", geocode.Query{Text: "LEI6 7NJ"}, geocode.StatusMatched, "postcode", []func(*testing.T, geocode.Result){cpCheck("LE16 7NJ")}},
		{"postcode O for 0", geocode.Query{Text: "LE17 4OS"}, "", "", nil}, // filled below if the unit exists
		{"postcode field", geocode.Query{Postcode: "le17 4ae"}, geocode.StatusMatched, "postcode", []func(*testing.T, geocode.Result){cpCheck("LE17 4AE")}},
		{"full address", geocode.Query{Text: "12 High St, Market Harborough LE16 7NJ"}, geocode.StatusMatched, "postcode", []func(*testing.T, geocode.Result){cpCheck("LE16 7NJ"), minConf(0.97)}},
		{"postcode outside district", geocode.Query{Text: cityPC}, geocode.StatusMatched, "postcode", []func(*testing.T, geocode.Result){cpCheck(cityPC), outside}},
		{"sector", geocode.Query{Text: "LE16 7"}, geocode.StatusLowConfidence, "postcode-sector", []func(*testing.T, geocode.Result){within(-0.9205, 52.4776, 3000)}},
		{"district", geocode.Query{Text: "LE16"}, geocode.StatusLowConfidence, "postcode-district", []func(*testing.T, geocode.Result){within(-0.9205, 52.4776, 6000)}},
		{"unknown unit falls back to sector", geocode.Query{Text: "LE16 7ZZ"}, geocode.StatusLowConfidence, "postcode-sector", nil},
		{"street and town", geocode.Query{Text: "High Street, Market Harborough"}, geocode.StatusMatched, "street", []func(*testing.T, geocode.Result){nearPolice("High Street", 400), within(-0.9205, 52.4776, 1500)}},
		{"street abbreviated lower", geocode.Query{Text: "church st lutterworth"}, geocode.StatusMatched, "street", []func(*testing.T, geocode.Result){nearPolice("Church Street", 300), within(-1.20218, 52.45634, 1500)}},
		{"street typo", geocode.Query{Text: "Springfeild St, Market Harborough"}, geocode.StatusMatched, "street-fuzzy", []func(*testing.T, geocode.Result){nearPolice("Springfield Street", 300)}},
		{"street and the town's short name", geocode.Query{Text: "High St, Harborough"}, geocode.StatusMatched, "street", []func(*testing.T, geocode.Result){nearPolice("High Street", 400), within(-0.9205, 52.4776, 1500)}},
		{"junction, second street known", geocode.Query{Text: "junction of Zzyzx Road and Church Street, Lutterworth"}, geocode.StatusMatched, "street", []func(*testing.T, geocode.Result){nearPolice("Church Street", 300)}},
		{"street field with a house number", geocode.Query{Street: "12 Church St", Town: "Lutterworth"}, geocode.StatusMatched, "street", []func(*testing.T, geocode.Result){nearPolice("Church Street", 300)}},
		{"street fields", geocode.Query{Street: "Church St", Town: "Lutterworth"}, geocode.StatusMatched, "street", []func(*testing.T, geocode.Result){within(-1.20218, 52.45634, 1500)}},
		{"police.uk form without a town", geocode.Query{Text: "On or near Church Street"}, geocode.StatusLowConfidence, "street", []func(*testing.T, geocode.Result){ambiguous}},
		{"park", geocode.Query{Text: "Welland Park"}, geocode.StatusMatched, "place", []func(*testing.T, geocode.Result){inPlace("welland-park")}},
		{"business park", geocode.Query{Text: "Magna Park, Lutterworth"}, geocode.StatusMatched, "place", []func(*testing.T, geocode.Result){inPlace("magna-park")}},
		{"station", geocode.Query{Text: "Market Harborough railway station"}, geocode.StatusMatched, "place", []func(*testing.T, geocode.Result){within(-0.9094, 52.48, 150)}},
		{"the square", geocode.Query{Text: "the Square, Market Harborough"}, geocode.StatusMatched, "", []func(*testing.T, geocode.Result){within(-0.9205, 52.4786, 250)}},
		{"town centre", geocode.Query{Text: "Lutterworth town centre"}, geocode.StatusMatched, "place", []func(*testing.T, geocode.Result){within(-1.20218, 52.45634, 500)}},
		{"shop and town", geocode.Query{Text: "outside Tesco, Lutterworth"}, geocode.StatusLowConfidence, "place", []func(*testing.T, geocode.Result){within(-1.20218, 52.45634, 2500)}},
		{"town only", geocode.Query{Text: "Lutterworth"}, geocode.StatusLowConfidence, "place", []func(*testing.T, geocode.Result){within(-1.20218, 52.45634, 1000)}},
		{"unknown street in a town", geocode.Query{Text: "Flibbertigibbet Close, Fleckney"}, geocode.StatusLowConfidence, "locality", []func(*testing.T, geocode.Result){within(-1.04598, 52.53497, 2000)}},
		{"grid ref 8 figures", geocode.Query{Text: "SP 7350 8730"}, geocode.StatusMatched, "gridref", []func(*testing.T, geocode.Result){exactEN(473500, 287300)}},
		{"grid ref 10 figures", geocode.Query{Text: "SP7350087300"}, geocode.StatusMatched, "gridref", []func(*testing.T, geocode.Result){exactEN(473500, 287300), minConf(1)}},
		{"grid ref 4 figures", geocode.Query{Text: "SP7387"}, geocode.StatusLowConfidence, "gridref", []func(*testing.T, geocode.Result){exactEN(473000, 287000)}},
		{"easting northing", geocode.Query{Text: "473401, 287452"}, geocode.StatusMatched, "eastnorth", []func(*testing.T, geocode.Result){exactEN(473401, 287452)}},
		{"easting northing fields", geocode.Query{Easting: f64(473401), Northing: f64(287452)}, geocode.StatusMatched, "eastnorth", []func(*testing.T, geocode.Result){exactEN(473401, 287452)}},
		{"lat lon", geocode.Query{Text: "52.4775, -0.9213"}, geocode.StatusMatched, "latlon", []func(*testing.T, geocode.Result){within(-0.9213, 52.4775, 0.01)}},
		{"lat lon dms", geocode.Query{Text: "52°28'39\"N 0°55'17\"W"}, geocode.StatusMatched, "latlon", []func(*testing.T, geocode.Result){within(-0.92139, 52.47750, 5)}},
		{"lat lon fields", geocode.Query{Lat: f64(52.4775), Lon: f64(-0.9213), Text: "ignored"}, geocode.StatusMatched, "latlon", nil},
		{"lat lon in Wales", geocode.Query{Text: "52.0, -3.0"}, geocode.StatusMatched, "latlon", []func(*testing.T, geocode.Result){outside}},
		{"empty", geocode.Query{}, geocode.StatusNoLocation, "", nil},
		{"n/a", geocode.Query{Text: "n/a"}, geocode.StatusNoLocation, "", nil},
		{"punctuation", geocode.Query{Text: "#@!$%"}, geocode.StatusNotUnderstood, "", nil},
		{"lone number", geocode.Query{Text: "12345"}, geocode.StatusNotUnderstood, "", nil},
		{"enormous", geocode.Query{Text: strings.Repeat("High Street ", 1000)}, geocode.StatusNotUnderstood, "", nil},
		{"hostile", geocode.Query{Text: "'; DROP TABLE gazetteer; --"}, geocode.StatusNotFound, "", nil},
		{"nowhere", geocode.Query{Text: "Zzyzxqq"}, geocode.StatusNotFound, "", nil},
	}
	// "LE17 4OS": only if Code-Point has LE17 40S... it cannot (inward
	// letters); use a real unit with a 0 in it instead.
	for pc := range cp {
		if strings.HasPrefix(pc, "LE17 0") && cp[pc][2] == "E07000131" {
			tests[3].q.Text = "LE17 O" + pc[6:]
			tests[3].status, tests[3].method = geocode.StatusMatched, "postcode"
			tests[3].checks = []func(*testing.T, geocode.Result){cpCheck(pc)}
			break
		}
	}
	for _, tt := range tests {
		if tt.status == "" {
			continue
		}
		t.Run(tt.name, func(t *testing.T) {
			r, err := g.Geocode(ctx, tt.q)
			if err != nil {
				t.Fatalf("Geocode(%+v) = %v", tt.q, err)
			}
			if r.Status != tt.status || (tt.method != "" && r.Best.Method != tt.method) {
				t.Fatalf("Geocode(%q) = %s by %q (%s); want %s by %q", tt.q.Text, r.Status, r.Best.Method, r.Reason, tt.status, tt.method)
			}
			if r.Reason == "" {
				t.Error("no reason")
			}
			placed := r.Status == geocode.StatusMatched || r.Status == geocode.StatusLowConfidence
			if placed != (r.Best.Lat != 0 && r.Best.Label != "") {
				t.Errorf("status %s with best %+v", r.Status, r.Best)
			}
			for _, c := range tt.checks {
				c(t, r)
			}
		})
	}

	t.Run("grid reference round trip", func(t *testing.T) {
		// SP 7350 8730 -> WGS84 -> back: the same easting and northing.
		r, err := g.Geocode(ctx, geocode.Query{Text: "SP 7350 8730"})
		if err != nil {
			t.Fatal(err)
		}
		back, err := g.Geocode(ctx, geocode.Query{Lat: &r.Best.Lat, Lon: &r.Best.Lon})
		if err != nil {
			t.Fatal(err)
		}
		if math.Abs(back.Best.Easting-473500) > 0.001 || math.Abs(back.Best.Northing-287300) > 0.001 {
			t.Errorf("SP 7350 8730 -> %v, %v -> E/N %v, %v; want 473500, 287300", r.Best.Lat, r.Best.Lon, back.Best.Easting, back.Best.Northing)
		}
		// Ordnance Survey's worked example (A guide to coordinate systems
		// in Great Britain): Caister water tower, ETRS89 52°39'28.8282"N
		// 1°42'57.7899"E is National Grid 651409.903, 313177.270 with
		// OSTN15. PostGIS's EPSG:27700 uses a 7-parameter Helmert
		// transformation, good to a few metres.
		ct, err := g.Geocode(ctx, geocode.Query{Text: "52°39'28.8282\"N 1°42'57.7899\"E"})
		if err != nil {
			t.Fatal(err)
		}
		if d := math.Hypot(ct.Best.Easting-651409.903, ct.Best.Northing-313177.270); d > 10 {
			t.Errorf("Caister water tower at %v, %v: %.1f m from OS's 651409.903, 313177.270; want <= 10", ct.Best.Easting, ct.Best.Northing, d)
		}
		// The station's published grid reference and coordinates agree.
		st, err := g.Geocode(ctx, geocode.Query{Text: "SP 741 874"})
		if err != nil {
			t.Fatal(err)
		}
		if d := metres(st.Best.Lon, st.Best.Lat, -0.9094, 52.48); d > 150 {
			t.Errorf("SP 741 874 -> %v, %v: %.0f m from the published 52.48, -0.9094", st.Best.Lat, st.Best.Lon, d)
		}
	})

	t.Run("concurrent with reloads", func(t *testing.T) {
		cg := geocode.New(pool)
		cg.RefreshEvery = time.Millisecond
		stop := make(chan struct{})
		loadErr := make(chan error, 1)
		go func() {
			defer close(loadErr)
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := geocode.LoadNamedPlaces(ctx, pool); err != nil {
					loadErr <- err
					return
				}
			}
		}()
		var wg sync.WaitGroup
		errs := make(chan string, 16)
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < 150; i++ {
					r, err := cg.Geocode(ctx, geocode.Query{Text: []string{"LE16 7NJ", "Welland Park", "church st lutterworth"}[i%3]})
					if err != nil || r.Status != geocode.StatusMatched {
						select {
						case errs <- fmt.Sprintf("%v %s %s", err, r.Status, r.Reason):
						default:
						}
						return
					}
				}
			}()
		}
		wg.Wait()
		close(stop)
		if err := <-loadErr; err != nil {
			t.Fatal(err)
		}
		close(errs)
		for e := range errs {
			t.Errorf("geocode during reloads: %s", e)
		}
	})

	t.Run("trigram similarity is pg_trgm's", func(t *testing.T) {
		rows, err := pool.Query(ctx, `SELECT name_norm FROM gazetteer ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			t.Fatal(err)
		}
		queries := []string{"springfeild street", "hgh street", "church st", "welland prk", "lutterworth", "market harborough town centre", "a", "zz top 99"}
		n := 0
		for _, q := range queries {
			for i, name := range names {
				if i%7 != 0 && !strings.Contains(name, q[:1]) {
					continue
				}
				var want float64
				if err := pool.QueryRow(ctx, `SELECT similarity($1, $2)::float8`, q, name).Scan(&want); err != nil {
					t.Fatal(err)
				}
				if got := geocode.Similarity(q, name); math.Abs(got-want) > 1e-6 {
					t.Errorf("Similarity(%q, %q) = %v; pg_trgm says %v", q, name, got, want)
				}
				n++
			}
		}
		if n < 500 {
			t.Errorf("compared only %d pairs", n)
		}
	})

	t.Run("remember", func(t *testing.T) {
		text := "Behind the old cattle market, Harborough"
		r, err := g.Geocode(ctx, geocode.Query{Text: text})
		if err != nil {
			t.Fatal(err)
		}
		if r.Status == geocode.StatusMatched {
			t.Fatalf("before any decision: %s by %s; want not matched", r.Status, r.Best.Method)
		}
		if err := g.Remember(ctx, text, geocode.Candidate{Easting: 473700, Northing: 287150, Label: "cattle market"}, "test-analyst"); err != nil {
			t.Fatal(err)
		}
		for _, variant := range []string{text, "behind the Old Cattle Market Harborough.", "BEHIND THE OLD CATTLE MARKET,  HARBOROUGH"} {
			r, err := g.Geocode(ctx, geocode.Query{Text: variant})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != geocode.StatusMatched || r.Best.Method != geocode.MethodRemembered || r.Best.Easting != 473700 || r.Best.Confidence != 1 {
				t.Errorf("after Remember, Geocode(%q) = %s %+v; want remembered at 473700, 287150", variant, r.Status, r.Best)
			}
			if r.Best.Lat < 52.47 || r.Best.Lat > 52.49 {
				t.Errorf("remembered point's latitude %v not computed", r.Best.Lat)
			}
		}
		// Another process's geocoder sees it too.
		other := geocode.New(pool)
		if r, err := other.Geocode(ctx, geocode.Query{Text: text}); err != nil || r.Best.Method != geocode.MethodRemembered {
			t.Errorf("a new geocoder: %v, %+v; want remembered", err, r.Best)
		}
		// A later decision wins.
		if err := g.Remember(ctx, text, geocode.Candidate{Lon: -0.92, Lat: 52.478}, "test-admin"); err != nil {
			t.Fatal(err)
		}
		if r, _ := g.Geocode(ctx, geocode.Query{Text: text}); math.Abs(r.Best.Lon+0.92) > 1e-9 {
			t.Errorf("after a second decision: %+v; want lon -0.92", r.Best)
		}
		for _, bad := range []struct {
			text string
			c    geocode.Candidate
			by   string
		}{{"", geocode.Candidate{Easting: 1, Northing: 1}, "x"}, {"x y", geocode.Candidate{}, "x"}, {"x y", geocode.Candidate{Easting: 1, Northing: 1}, ""}, {"x y", geocode.Candidate{Lat: 200, Lon: 1}, "x"}} {
			if err := g.Remember(ctx, bad.text, bad.c, bad.by); err == nil {
				t.Errorf("Remember(%q, %+v, %q) = nil; want an error", bad.text, bad.c, bad.by)
			}
		}
	})

	t.Run("address points", func(t *testing.T) {
		f, err := os.Open("testdata/llpg-sample.csv")
		if err != nil {
			t.Fatal(err)
		}
		sum, err := geocode.LoadAddressPoints(ctx, pool, f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if sum.Read != 8 || sum.Loaded != 4 || len(sum.Rejected) != 4 || sum.Streets != 3 {
			t.Errorf("LoadAddressPoints = read %d, loaded %d, rejected %v, streets %d; want 8, 4, 4, 3", sum.Read, sum.Loaded, sum.Rejected, sum.Streets)
		}
		wantRejected := []string{"6: bad POSTCODE", "7: bad UPRN", "8: bad EASTING/NORTHING", "9: UPRN 100030489001 repeats line 2"}
		for i, r := range sum.Rejected {
			if i < len(wantRejected) && !strings.HasPrefix(strings.TrimPrefix(r.Error(), "line "), wantRejected[i]) {
				t.Errorf("rejected[%d] = %q; want line %s...", i, r.Error(), wantRejected[i])
			}
		}
		// The geocoder checks for a new gazetteer at most once a second.
		if err := g.Refresh(ctx); err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			text   string
			e, n   float64
			method string
		}{
			{"12 High St, Market Harborough", 473302, 287290, geocode.MethodAddress},
			{"12 High Street, Market Harborough LE16 7NJ", 473302, 287290, geocode.MethodAddress},
			{"14 high st market harborough", 473306, 287281, geocode.MethodAddress},
			{"3 Church St, Lutterworth", 454410.5, 284470.25, geocode.MethodAddress},
			// A street police.uk never named near Fleckney, known from
			// its one address point.
			{"Main Street, Fleckney", 464660, 293355, geocode.MethodStreet},
		} {
			r, err := g.Geocode(ctx, geocode.Query{Text: tt.text})
			if err != nil {
				t.Fatal(err)
			}
			if r.Status != geocode.StatusMatched || r.Best.Method != tt.method || r.Best.Easting != tt.e || r.Best.Northing != tt.n {
				t.Errorf("Geocode(%q) = %s %s %v,%v (%s); want matched %s at %v,%v", tt.text, r.Status, r.Best.Method, r.Best.Easting, r.Best.Northing, r.Reason, tt.method, tt.e, tt.n)
			}
		}
		if _, err := geocode.LoadAddressPoints(ctx, pool, strings.NewReader("uprn,address\n1,x\n")); !errors.Is(err, geocode.ErrNotLLPG) {
			t.Errorf("a CSV without POSTCODE, EASTING, NORTHING: %v; want ErrNotLLPG", err)
		}
	})
}

// TestGazetteerLoadTwice: every load replaces its source, so loading
// twice gives the same gazetteer.
func TestGazetteerLoadTwice(t *testing.T) {
	needData(t)
	ctx := context.Background()
	pool := storetest.DB(t)
	for i := 0; i < 2; i++ {
		got, err := geocode.LoadGeoNames(ctx, pool, filepath.Join(dataDir, "places"))
		if err != nil {
			t.Fatal(err)
		}
		// Independent counts: the files' data rows.
		for src, file := range map[string]string{geocode.SourceCities500: geocode.Cities500File, geocode.SourcePostal: geocode.PostalFile} {
			b, err := os.ReadFile(filepath.Join(dataDir, "places", file))
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Count(strings.TrimSpace(string(b)), "\n")
			if got[src] != lines {
				t.Errorf("load %d: %s rows %d; want the file's %d", i+1, src, got[src], lines)
			}
		}
		counts, err := geocode.Counts(ctx, pool)
		if err != nil {
			t.Fatal(err)
		}
		if counts[geocode.SourceCities500] != got[geocode.SourceCities500] {
			t.Errorf("load %d: table holds %d cities500 rows; want %d", i+1, counts[geocode.SourceCities500], got[geocode.SourceCities500])
		}
	}
	if _, _, err := geocode.LoadGeoNamesFile(ctx, pool, filepath.Join(dataDir, "boundaries", "lsoa21-to-lsoa11-harborough.csv")); !errors.Is(err, geocode.ErrNotGeoNames) {
		t.Errorf("LoadGeoNamesFile(a CSV of LSOAs) = %v; want ErrNotGeoNames", err)
	}
}
