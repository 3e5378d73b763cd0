package places_test

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// dataDir is the shared real data beside the checkout.
const dataDir = "../../../shared/data"

const actor = "hotspot places build (test)"

var (
	srcOnce sync.Once
	src     *places.Sources
	srcErr  error
)

// sources reads the real data once per test binary, skipping (or, under
// CI, failing) when the shared data is not there.
func sources(t testing.TB) *places.Sources {
	t.Helper()
	if _, err := os.Stat(dataDir); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data missing (CI is set, so this fails rather than skips): %v", err)
		}
		t.Skip(err)
	}
	srcOnce.Do(func() { src, srcErr = places.ReadSources(dataDir) })
	if srcErr != nil {
		t.Fatalf("ReadSources(%s) = %v", dataDir, srcErr)
	}
	return src
}

// built returns a fresh database with the places built from the real data.
func built(t testing.TB) (*pgxpool.Pool, []places.Built) {
	t.Helper()
	s := sources(t)
	pool := storetest.DB(t)
	bs, err := places.Build(context.Background(), pool, s, places.BuildOptions{Actor: actor})
	if err != nil {
		t.Fatalf("Build() = %v", err)
	}
	return pool, bs
}

// geonames reads a point from a GeoNames file without the package's
// parser: the cities file has name in column 2, latitude and longitude in
// 5 and 6; the postal file place name in 3, latitude and longitude in 10
// and 11.
func geonames(t testing.TB, file, name string) [2]float64 {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, file))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	nameCol, latCol := 1, 4
	if strings.Contains(file, "postal") {
		nameCol, latCol = 2, 9
	}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) > latCol+1 && cols[nameCol] == name {
			lat, _ := strconv.ParseFloat(cols[latCol], 64)
			lon, _ := strconv.ParseFloat(cols[latCol+1], 64)
			return [2]float64{lon, lat}
		}
	}
	t.Fatalf("%s not in %s", name, file)
	return [2]float64{}
}

// TestBuildPlaces builds the places from the real data once and checks
// them against facts computed here, independently of the build.
func TestBuildPlaces(t *testing.T) {
	pool, bs := built(t)
	t.Run("outlines", func(t *testing.T) { checkOutlines(t, pool, bs) })
	t.Run("district area", func(t *testing.T) { checkDistrictArea(t, pool) })
	t.Run("magna park postcodes", func(t *testing.T) { checkMagnaParkPostcodes(t, pool) })
	t.Run("in their wards", func(t *testing.T) { checkPlacesInTheirWards(t, pool) })
}

// checkOutlines checks each place: its kind, a valid MultiPolygon, an area
// within bounds a person would accept, lying in the district, holding the
// settlement's GeoNames point (and not a neighbour's), and provenance whose
// files exist with the recorded hash.
func checkOutlines(t *testing.T, pool *pgxpool.Pool, bs []places.Built) {
	ctx := context.Background()
	const cities, postal = "places/geonames-cities500-harborough-area.tsv", "places/geonames-postal-LE.tsv"
	mh := geonames(t, cities, "Market Harborough")
	lutt := geonames(t, cities, "Lutterworth")
	tests := []struct {
		slug         string
		kind         places.Kind
		minKm2       float64
		maxKm2       float64
		contains     [][2]float64
		containsNot  [][2]float64
		wantOutlines int // polygons, or 0 for any
	}{
		{"harborough-district", places.KindDistrict, 587, 599, [][2]float64{mh, lutt, geonames(t, cities, "Fleckney")}, nil, 0},
		{"market-harborough-town-centre", places.KindTownCentre, 0.2, 0.6,
			[][2]float64{mh, {-0.921212, 52.478049} /* police.uk High Street */, {-0.916277, 52.478121} /* St Mary's Road */},
			[][2]float64{{-0.926695, 52.474170} /* Welland Park Road */, {-0.927208, 52.477303} /* the hospital */}, 1},
		// The outdoor gym's point is from a public gym directory, not
		// from the data the outline was drawn on.
		{"welland-park", places.KindPark, 0.04, 0.15, [][2]float64{{-0.925730, 52.475160}}, [][2]float64{mh}, 1},
		{"lutterworth", places.KindTown, 3, 9, [][2]float64{lutt}, [][2]float64{geonames(t, cities, "Gilmorton")}, 1},
		{"broughton-astley", places.KindVillage, 2, 6, [][2]float64{geonames(t, cities, "Broughton Astley")}, nil, 0},
		{"thurnby-scraptoft", places.KindVillage, 1.5, 5, [][2]float64{geonames(t, postal, "Thurnby"), geonames(t, postal, "Scraptoft")},
			[][2]float64{geonames(t, cities, "Houghton on the Hill")}, 0},
		{"fleckney", places.KindVillage, 0.8, 4, [][2]float64{geonames(t, cities, "Fleckney")}, [][2]float64{geonames(t, cities, "Great Glen")}, 0},
		{"magna-park", places.KindBusinessPark, 1, 5, nil, [][2]float64{lutt}, 1},
	}
	if len(bs) != len(tests) {
		t.Errorf("Build() made %d places; want %d", len(bs), len(tests))
	}
	for _, b := range bs {
		if b.Action != places.ActionCreated {
			t.Errorf("Build() on an empty database: %s %s; want created", b.Slug, b.Action)
		}
	}
	for _, tt := range tests {
		t.Run(tt.slug, func(t *testing.T) {
			p, err := places.Get(ctx, pool, tt.slug)
			if err != nil {
				t.Fatalf("Get(%s) = %v", tt.slug, err)
			}
			if p.Kind != tt.kind {
				t.Errorf("Get(%s).Kind = %s; want %s", tt.slug, p.Kind, tt.kind)
			}
			var valid bool
			var typ string
			var srid, parts int
			var km2, outsideKm2 float64
			err = pool.QueryRow(ctx, `SELECT ST_IsValid(p.geom) AND ST_IsValid(p.geom_bng), GeometryType(p.geom), ST_SRID(p.geom), ST_NumGeometries(p.geom),
				ST_Area(ST_Transform(p.geom, 27700)) / 1e6, ST_Area(ST_Difference(p.geom_bng, d.geom_bng)) / 1e6
				FROM places p, places d WHERE p.slug = $1 AND d.slug = 'harborough-district'`, tt.slug).
				Scan(&valid, &typ, &srid, &parts, &km2, &outsideKm2)
			if err != nil {
				t.Fatal(err)
			}
			if !valid || typ != "MULTIPOLYGON" || srid != 4326 {
				t.Errorf("%s outline: valid %v, %s, SRID %d; want a valid MULTIPOLYGON in 4326", tt.slug, valid, typ, srid)
			}
			if tt.wantOutlines > 0 && parts != tt.wantOutlines {
				t.Errorf("%s outline has %d polygons; want %d", tt.slug, parts, tt.wantOutlines)
			}
			if km2 < tt.minKm2 || km2 > tt.maxKm2 {
				t.Errorf("%s area = %.3f km²; want %g to %g", tt.slug, km2, tt.minKm2, tt.maxKm2)
			}
			if math.Abs(km2-p.AreaKm2) > 1e-6 {
				t.Errorf("%s AreaKm2 = %.6f; the outline measures %.6f", tt.slug, p.AreaKm2, km2)
			}
			if outsideKm2 > 1e-6 {
				t.Errorf("%s has %.6f km² outside the district; want none", tt.slug, outsideKm2)
			}
			for _, pt := range tt.contains {
				if !covers(t, pool, tt.slug, pt) {
					t.Errorf("%s does not hold (%.5f, %.5f); want it inside", tt.slug, pt[1], pt[0])
				}
			}
			for _, pt := range tt.containsNot {
				if covers(t, pool, tt.slug, pt) {
					t.Errorf("%s holds (%.5f, %.5f); want it outside", tt.slug, pt[1], pt[0])
				}
			}
			checkProvenance(t, p)
		})
	}
}

func covers(t *testing.T, pool *pgxpool.Pool, slug string, pt [2]float64) bool {
	t.Helper()
	var in bool
	if err := pool.QueryRow(context.Background(), `SELECT ST_Covers(geom, ST_SetSRID(ST_MakePoint($2, $3), 4326)) FROM places WHERE slug = $1`,
		slug, pt[0], pt[1]).Scan(&in); err != nil {
		t.Fatal(err)
	}
	return in
}

// checkProvenance requires a method, sources, a recent build time and the
// actor; each source naming a data file must name a file that exists and
// whose SHA-256 starts with the recorded digits.
func checkProvenance(t *testing.T, p places.Place) {
	t.Helper()
	pv := p.Provenance
	if pv.Origin != places.OriginBuilt || len(pv.Method) < 40 || len(pv.Sources) == 0 || pv.BuiltBy != actor ||
		time.Since(pv.BuiltAt) > time.Hour {
		t.Errorf("%s provenance = %+v; want origin built, a method, sources, built by %q just now", p.Slug, pv, actor)
	}
	files := 0
	for _, s := range pv.Sources {
		path, sum, ok := strings.Cut(s, " sha256:")
		if !ok {
			continue
		}
		files++
		b, err := os.ReadFile(filepath.Join(dataDir, path))
		if err != nil {
			t.Errorf("%s source %q: %v", p.Slug, s, err)
			continue
		}
		got := sha256.Sum256(b)
		if !strings.HasPrefix(hex.EncodeToString(got[:]), sum) || len(sum) != 16 {
			t.Errorf("%s source %q: the file's SHA-256 is %x", p.Slug, s, got)
		}
	}
	if files == 0 && p.Kind != places.KindTownCentre && p.Kind != places.KindPark {
		t.Errorf("%s sources %q name no data file", p.Slug, pv.Sources)
	}
}

// checkDistrictArea: the district place is the published outline, 593 km²
// (data README) ± 1%, and matches the file's own area measured here from
// its GeoJSON text.
func checkDistrictArea(t *testing.T, pool *pgxpool.Pool) {
	ctx := context.Background()
	b, err := os.ReadFile(filepath.Join(dataDir, "boundaries/harborough-district.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil || len(fc.Features) != 1 {
		t.Fatalf("district file: %v, %d features", err, len(fc.Features))
	}
	var placeKm2, fileKm2 float64
	if err := pool.QueryRow(ctx, `SELECT ST_Area(geom_bng) / 1e6, ST_Area(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON($1), 4326), 27700)) / 1e6
		FROM places WHERE slug = 'harborough-district'`, string(fc.Features[0].Geometry)).Scan(&placeKm2, &fileKm2); err != nil {
		t.Fatal(err)
	}
	if math.Abs(placeKm2-593) > 5.93 {
		t.Errorf("district area = %.2f km²; want 593 ± 1%%", placeKm2)
	}
	if math.Abs(placeKm2-fileKm2) > 0.001 {
		t.Errorf("district area = %.4f km²; the file's outline is %.4f", placeKm2, fileKm2)
	}
}

// codePoint reads the LE17 4X.. units from the Code-Point Open file with
// encoding/csv, independently of the package.
func codePoint(t *testing.T, prefix string) (codes []string, eastings, northings []float64) {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, "postcodes/codepoint-open-2025-10-le.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	for {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(rec[0], prefix) {
			e, _ := strconv.ParseFloat(rec[2], 64)
			n, _ := strconv.ParseFloat(rec[3], 64)
			codes, eastings, northings = append(codes, rec[0]), append(eastings, e), append(northings, n)
		}
	}
	return codes, eastings, northings
}

// checkMagnaParkPostcodes: Magna Park lies west of Lutterworth (whose
// GeoNames point is at easting 454,310). The LE17 4X.. units more than
// 1.8 km west of it (easting < 452,500) are the park's, and at least 90%
// of them must be inside; the units in the town (easting > 453,000) must
// all be outside.
func checkMagnaParkPostcodes(t *testing.T, pool *pgxpool.Pool) {
	codes, es, ns := codePoint(t, "LE17 4X")
	if len(codes) != 16 {
		t.Fatalf("Code-Point has %d LE17 4X.. units; the test expects the October 2025 file's 16", len(codes))
	}
	var west, westIn, townIn int
	for i, c := range codes {
		var in bool
		if err := pool.QueryRow(context.Background(), `SELECT ST_Covers(geom_bng, ST_SetSRID(ST_MakePoint($1, $2), 27700)) FROM places WHERE slug = 'magna-park'`,
			es[i], ns[i]).Scan(&in); err != nil {
			t.Fatal(err)
		}
		switch {
		case es[i] < 452500:
			west++
			if in {
				westIn++
			} else {
				t.Logf("%s (%.0f, %.0f) is outside Magna Park", c, es[i], ns[i])
			}
		case es[i] > 453000 && in:
			townIn++
			t.Errorf("%s (%.0f, %.0f), in Lutterworth, is inside Magna Park", c, es[i], ns[i])
		}
	}
	if west == 0 || float64(westIn) < 0.9*float64(west) {
		t.Errorf("Magna Park holds %d of the %d LE17 4X.. units west of easting 452,500; want at least 90%%", westIn, west)
	}
}

// wardGeometries returns, as GeoJSON texts, the geometries of the wards whose
// names start with prefix, read from the ward file here.
func wardGeometries(t *testing.T, prefix string) []string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dataDir, "boundaries/wards2013-harborough.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Properties struct {
				Name string `json:"WD13NM"`
			} `json:"properties"`
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(b, &fc); err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fc.Features {
		if strings.HasPrefix(f.Properties.Name, prefix) {
			out = append(out, string(f.Geometry))
		}
	}
	return out
}

// checkPlacesInTheirWards: Welland Park and the town centre lie within
// Market Harborough's wards; each town or village built from output areas
// lies within its own wards, but for slivers: the 2011 output areas and
// the 2013 wards were generalised separately, so their shared edges
// differ by metres (up to 0.2% of a town's area); 0.5% is allowed.
func checkPlacesInTheirWards(t *testing.T, pool *pgxpool.Pool) {
	for _, tt := range []struct {
		slug, wardPrefix string
		slack            float64 // fraction of the place's area allowed outside
	}{
		{"welland-park", "Market Harborough-", 0},
		{"market-harborough-town-centre", "Market Harborough-", 0},
		{"lutterworth", "Lutterworth ", 0.005},
		{"broughton-astley", "Broughton Astley-", 0.005},
		{"fleckney", "Fleckney", 0.005},
		{"thurnby-scraptoft", "Thurnby and Houghton", 0.005},
	} {
		wards := wardGeometries(t, tt.wardPrefix)
		if len(wards) == 0 {
			t.Fatalf("no wards named %s...", tt.wardPrefix)
		}
		var outsideM2, areaM2 float64
		err := pool.QueryRow(context.Background(), `SELECT ST_Area(ST_Difference(p.geom_bng,
				(SELECT ST_Union(ST_Transform(ST_SetSRID(ST_GeomFromGeoJSON(w), 4326), 27700)) FROM unnest($2::text[]) AS w))),
				ST_Area(p.geom_bng)
			FROM places p WHERE slug = $1`, tt.slug, wards).Scan(&outsideM2, &areaM2)
		if err != nil {
			t.Fatal(err)
		}
		// Transforms round in the last digits: a square metre is nothing.
		if outsideM2 > 1 && outsideM2 > tt.slack*areaM2 {
			t.Errorf("%s reaches %.0f m² (%.2f%%) outside the %s wards; want at most %.1f%%", tt.slug, outsideM2, 100*outsideM2/areaM2, tt.wardPrefix, 100*tt.slack)
		}
	}
}

// TestBuildIdempotent: a second build with the same data changes nothing:
// every place unchanged, no history, the data version untouched.
func TestBuildIdempotent(t *testing.T) {
	pool, _ := built(t)
	ctx := context.Background()
	before := dataVersion(t, pool)
	bs, err := places.Build(ctx, pool, sources(t), places.BuildOptions{Actor: "someone else"})
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range bs {
		if b.Action != places.ActionUnchanged {
			t.Errorf("second Build(): %s %s; want unchanged", b.Slug, b.Action)
		}
	}
	if n := historyRows(t, pool); n != 0 {
		t.Errorf("place_history has %d rows after a rebuild; want 0", n)
	}
	if after := dataVersion(t, pool); after != before {
		t.Errorf("data version %d → %d after an idempotent rebuild; want unchanged", before, after)
	}
	p, _ := places.Get(ctx, pool, "lutterworth")
	if p.Provenance.BuiltBy != actor {
		t.Errorf("lutterworth built by %q after an idempotent rebuild; want the first build's %q", p.Provenance.BuiltBy, actor)
	}
}

func dataVersion(t *testing.T, pool *pgxpool.Pool) int64 {
	t.Helper()
	var v int64
	if err := pool.QueryRow(context.Background(), `SELECT version FROM data_version`).Scan(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func historyRows(t *testing.T, pool *pgxpool.Pool) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), `SELECT count(*) FROM place_history`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestReadSourcesMissing: a data folder without the files is refused with
// ErrBadSource, naming the file.
func TestReadSourcesMissing(t *testing.T) {
	_, err := places.ReadSources(t.TempDir())
	if err == nil || !strings.Contains(err.Error(), "harborough-district.geojson") {
		t.Errorf("ReadSources(empty dir) = %v; want an error naming the district file", err)
	}
}

// TestReadCodePoint checks the Code-Point reader on the real file's count
// (23,249 rows, data README) and on rows it must refuse or skip.
func TestReadCodePoint(t *testing.T) {
	s := sources(t)
	if len(s.Postcodes) != 23249 {
		t.Errorf("ReadSources read %d postcodes; want the file's 23,249", len(s.Postcodes))
	}
	for _, tt := range []struct {
		in      string
		want    int
		wantErr bool
	}{
		{`"LE17 4XA",10,454160,285355,"E92000001","E19000001","E18000004","E10000018","E07000131","E05011973"` + "\n", 1, false},
		{`"le174xa",10,454160,285355` + "\n" + `"LE1 9ZZ",90,0,0` + "\n", 1, false},
		{`"LE17 4XA",10,-1.2,52.4` + "\n", 0, true},
		{`"LE17 4XA",10,NaN,52` + "\n", 0, true},
		{`"LE17 4XA",10` + "\n", 0, true},
		{"", 0, true},
	} {
		pcs, err := places.ReadCodePoint(strings.NewReader(tt.in))
		if (err != nil) != tt.wantErr || len(pcs) != tt.want {
			t.Errorf("ReadCodePoint(%q) = %d units, %v; want %d, error %v", tt.in, len(pcs), err, tt.want, tt.wantErr)
		}
		if len(pcs) == 1 && pcs[0].Code != "LE17 4XA" {
			t.Errorf("ReadCodePoint(%q) code = %q; want LE17 4XA", tt.in, pcs[0].Code)
		}
	}
}
