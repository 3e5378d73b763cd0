package web

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"log/slog"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/tiles"
)

// newPublicPAPI is newPAPI with the named places built from the real data.
func newPublicPAPI(t *testing.T, extra ...string) *papi {
	t.Helper()
	p := newPAPI(t, papiFiles(t), extra...)
	src, err := places.ReadSources(papiData)
	if err != nil {
		t.Fatalf("places.ReadSources(%s) = %v", papiData, err)
	}
	if _, err := places.Build(context.Background(), p.main, src, places.BuildOptions{Actor: "web public test"}); err != nil {
		t.Fatalf("places.Build() = %v", err)
	}
	return p
}

// codePoint reads postcode's easting and northing from the Code-Point Open
// file itself, not from the database.
func codePoint(t *testing.T, postcode string) (e, n float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(papiData, "postcodes", "codepoint-open-2025-10-le.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r[0] == postcode {
			e, _ = strconv.ParseFloat(r[2], 64)
			n, _ = strconv.ParseFloat(r[3], 64)
			return e, n
		}
	}
	t.Fatalf("%s is not in Code-Point Open", postcode)
	return 0, 0
}

// harboroughCount counts, in the police.uk files themselves, the rows of
// Harborough District (LSOA name "Harborough ...", with coordinates) in
// month that may be shown at a point (not violence and sexual offences).
func harboroughCount(t *testing.T, month string) int {
	t.Helper()
	f, err := os.Open(filepath.Join(papiData, "police-uk", month+"-leicestershire-street.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, r := range rows[1:] {
		if strings.HasPrefix(r[8], "Harborough") && r[4] != "" && r[9] != "Violence and sexual offences" {
			n++
		}
	}
	return n
}

func TestPostcodeEndpoint(t *testing.T) {
	p := newPAPI(t, papiFiles(t))
	e, n := codePoint(t, "LE16 7AG")
	var wantLat, wantLng float64
	if err := p.main.QueryRow(context.Background(), `SELECT ST_Y(g), ST_X(g) FROM (SELECT ST_Transform(ST_SetSRID(ST_MakePoint($1, $2), 27700), 4326) g) s`, e, n).
		Scan(&wantLat, &wantLng); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in   string
		want int
	}{
		{"LE16%207AG", 200},
		{"le167ag", 200},
		{"%20le16%20%207Ag%20", 200},
		{"LE16", 400},
		{"12345", 400},
		{"LE16%207AGX", 400},
		{"LE16-7AG", 400},
		{strings.Repeat("A", 200), 400},
		{"ZZ9%209ZZ", 404},
		{"LE16%209ZZ", 404},
	}
	for _, tt := range tests {
		w := p.do("GET", "/api/postcodes/"+tt.in, "", "")
		if w.Code != tt.want {
			t.Errorf("GET /api/postcodes/%.20s = %d %s; want %d", tt.in, w.Code, w.Body, tt.want)
			continue
		}
		if tt.want != 200 {
			var e struct{ Error string }
			if json.Unmarshal(w.Body.Bytes(), &e); e.Error == "" || (tt.want == 400 && !strings.Contains(e.Error, "LE16 7AG")) {
				t.Errorf("GET /api/postcodes/%.20s: message %q; want one saying how to write a postcode", tt.in, e.Error)
			}
			continue
		}
		var got apiPostcode
		papiDecode(t, w, &got)
		if got.Postcode != "LE16 7AG" || math.Abs(got.Latitude-wantLat) > 2e-6 || math.Abs(got.Longitude-wantLng) > 2e-6 {
			t.Errorf("GET /api/postcodes/%s = %+v; want LE16 7AG at %.6f,%.6f", tt.in, got, wantLat, wantLng)
		}
	}
}

func TestNormalisePostcode(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"LE16 7AG", "LE16 7AG"}, {"le167ag", "LE16 7AG"}, {" e1  6an ", "E1 6AN"}, {"ec1a1bb", "EC1A 1BB"},
		{"", ""}, {"LE16", ""}, {"LE167A1", ""}, {"1E16 7AG", ""}, {"LE16 7AG 1", ""},
	} {
		got, err := NormalisePostcode(tt.in)
		if got != tt.want || (err == nil) != (tt.want != "") {
			t.Errorf("NormalisePostcode(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzNormalisePostcode(f *testing.F) {
	for _, s := range []string{"LE16 7AG", "le167ag", "", " ", "\x00", "ＬＥ16 7AG", "LE16\t7AG", strings.Repeat(" ", 30)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := NormalisePostcode(s)
		if err == nil && !postcodePattern.MatchString(got) {
			t.Errorf("NormalisePostcode(%q) = %q; not a normal postcode", s, got)
		}
		if err == nil {
			if again, _ := NormalisePostcode(got); again != got {
				t.Errorf("NormalisePostcode(%q) = %q, and again %q", s, got, again)
			}
		}
	})
}

func TestPlaceSummaries(t *testing.T) {
	p := newPublicPAPI(t)
	get := func(t *testing.T, query string) []apiPlaceSummary {
		t.Helper()
		var out []apiPlaceSummary
		papiDecode(t, p.do("GET", "/api/place-summaries"+query, "", ""), &out)
		return out
	}
	tests := []struct {
		query          string
		from, to       string
		wantDistrict   int // from the CSV files; 0: do not check
		wantNoData     bool
		wantPrevNoData bool
	}{
		{"", "2024-02", "2024-02", harboroughCount(t, "2024-02"), false, true},
		{"?date=2024-01", "2024-01", "2024-01", harboroughCount(t, "2024-01"), false, true},
		{"?date=2018-11", "2018-11", "2018-11", harboroughCount(t, "2018-11"), false, true},
		{"?date_from=2018-10&date_to=2019-02", "2018-10", "2019-02", 0, false, true},
		{"?date=2019-10", "2019-10", "2019-10", 0, true, false}, // 2018-10 is loaded: the previous year has data
		{"?date_from=2019-01&date_to=2019-03", "2019-01", "2019-03", 0, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get(t, tt.query)
			if len(got) != 8 {
				t.Fatalf("place-summaries%s: %d places; want the 8 built", tt.query, len(got))
			}
			if got[0].Slug != "harborough-district" {
				t.Errorf("first place = %s; want the district first", got[0].Slug)
			}
			for _, s := range got {
				for _, c := range []apiPeriodCount{s.Current, s.Previous} {
					switch {
					case c.NoData:
						if c.Count != nil || c.Text != "no data" {
							t.Errorf("%s %s: no data but %+v", s.Slug, tt.query, c)
						}
					case c.Suppressed:
						if c.Count != nil || c.Text != "fewer than 3" {
							t.Errorf("%s %s: suppressed but %+v", s.Slug, tt.query, c)
						}
					case c.Count == nil || *c.Count < 3 || c.Text != strconv.Itoa(*c.Count):
						t.Errorf("%s %s: %+v; want a count of at least 3, or fewer than 3", s.Slug, tt.query, c)
					}
				}
				if s.Current.DateFrom != tt.from || s.Current.DateTo != tt.to {
					t.Errorf("%s %s: current %s..%s; want %s..%s", s.Slug, tt.query, s.Current.DateFrom, s.Current.DateTo, tt.from, tt.to)
				}
				if s.Current.NoData != tt.wantNoData || s.Previous.NoData != tt.wantPrevNoData {
					t.Errorf("%s %s: no data %v, previous %v; want %v, %v", s.Slug, tt.query, s.Current.NoData, s.Previous.NoData, tt.wantNoData, tt.wantPrevNoData)
				}
			}
			// The file's LSOA name comes from the true location; the
			// district count from the map point, which can lie across the
			// district's edge from it: allow a row or two either way (in
			// these files, 2024-01 and 2024-02 agree exactly, 2018-11 by 1).
			d := got[0].Current
			if tt.wantDistrict > 0 && (d.Count == nil || math.Abs(float64(*d.Count-tt.wantDistrict)) > 2) {
				t.Errorf("district %s = %+v; the police.uk file has %d Harborough rows with a location outside violence and sexual offences", tt.query, d, tt.wantDistrict)
			}
		})
	}
	for _, q := range []string{"?date=2024", "?date_from=2024-01", "?date_from=2023-01&date_to=2024-02", "?date=2024-01&date=2024-02", "?date=2024-01&date_from=2024-01&date_to=2024-02"} {
		if w := p.do("GET", "/api/place-summaries"+q, "", ""); w.Code != http.StatusBadRequest {
			t.Errorf("place-summaries%s = %d %s; want 400", q, w.Code, w.Body)
		}
	}

	t.Run("same months last year", func(t *testing.T) {
		// Publish a 2023-01 that repeats 2024-01 exactly: every place's
		// previous count must then be its current one.
		ctx := context.Background()
		for _, sql := range []string{
			`INSERT INTO open.crimes (id, category, month, map_point_id) SELECT id + 1000000000, category, '2023-01-01', map_point_id FROM open.crimes WHERE month = '2024-01-01'`,
			`UPDATE open.meta SET months = months || '2023-01-01'::date`,
		} {
			if _, err := p.main.Exec(ctx, sql); err != nil {
				t.Fatal(err)
			}
		}
		for _, s := range get(t, "?date=2024-01") {
			if s.Previous.NoData || s.Previous.DateFrom != "2023-01" || s.Previous.Text != s.Current.Text {
				t.Errorf("%s: previous %+v; want the same as current %+v", s.Slug, s.Previous, s.Current)
			}
		}
	})
}

// TestPlaceSummariesEmpty: with no places and nothing published, the
// endpoint answers [] and the postcode endpoint 404.
func TestPlaceSummariesEmpty(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	pub, err := anon.PublicPool(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	srv, err := New(pool, tiles.New(pool, tiles.WithPublic(pub)), auth.New(pool), Config{}, slog.New(slog.DiscardHandler), PoliceAPIRoutes(pub)...)
	if err != nil {
		t.Fatal(err)
	}
	p := &papi{main: pool, public: pub, srv: srv, h: srv.Handler()}
	for _, q := range []string{"", "?date=2024-01"} {
		if w := p.do("GET", "/api/place-summaries"+q, "", ""); w.Code != 200 || strings.TrimSpace(w.Body.String()) != "[]" {
			t.Errorf("place-summaries%s on an empty database = %d %s; want 200 []", q, w.Code, w.Body)
		}
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
	if w := p.do("GET", "/api/place-summaries?date=2024-01", "", ""); w.Code != 200 || strings.TrimSpace(w.Body.String()) != "[]" {
		t.Errorf("place-summaries with no places = %d %s; want 200 []", w.Code, w.Body)
	}
	if w := p.do("GET", "/api/postcodes/LE16%207AG", "", ""); w.Code != http.StatusNotFound {
		t.Errorf("postcode with no postcodes loaded = %d %s; want 404", w.Code, w.Body)
	}
}
