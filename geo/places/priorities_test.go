package places_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/paulmach/orb"
	"github.com/paulmach/orb/planar"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// TestPrioritiesSeeded: the five priorities, numbered as the plan does.
func TestPrioritiesSeeded(t *testing.T) {
	pool := storetest.DB(t)
	ps, err := places.Priorities(context.Background(), pool)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"violent crime", "anti-social behaviour", "burglary", "business crime", "drugs"}
	if len(ps) != len(want) {
		t.Fatalf("Priorities() = %d rows; want %d", len(ps), len(want))
	}
	for i, p := range ps {
		if p.ID != i+1 || !strings.Contains(strings.ToLower(p.Name), want[i]) {
			t.Errorf("Priorities()[%d] = %d %q; want %d naming %q", i, p.ID, p.Name, i+1, want[i])
		}
	}
}

// TestEveryPoliceUKCategoryMapped: each of police.uk's categories (the
// parser's list) has a mapping with a note saying why, and the decisions
// the plan makes plain hold.
func TestEveryPoliceUKCategoryMapped(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, c := range geo.PoliceUKCategories() {
		m, err := places.PriorityOf(ctx, pool, c.Slug)
		if err != nil {
			t.Errorf("PriorityOf(%s) = %v; want a mapping", c.Slug, err)
			continue
		}
		if m.Note == "" {
			t.Errorf("PriorityOf(%s) has no note saying why", c.Slug)
		}
	}
	for _, tt := range []struct {
		category string
		priority int
		flags    []string
	}{
		{"violent-crime", 1, nil}, {"anti-social-behaviour", 2, nil}, {"criminal-damage-arson", 2, nil},
		{"burglary", 3, nil}, {"vehicle-crime", 3, nil}, {"theft-from-the-person", 3, nil},
		{"shoplifting", 4, nil}, {"drugs", 5, nil}, {"other-crime", 0, nil},
		{"domestic-abuse", 1, nil}, {"hate-crime", 1, nil}, {"business-burglary", 4, nil}, {"plant-theft", 4, nil},
		{"fly-tipping", 2, []string{"environment"}}, {"dog-fouling", 2, []string{"environment"}},
		{"graffiti", 2, []string{"environment"}}, {"abandoned-vehicle", 2, []string{"environment"}},
		{"alcohol-related-disorder", 2, []string{"alcohol"}},
	} {
		m, err := places.PriorityOf(ctx, pool, tt.category)
		if err != nil || m.Priority != tt.priority || !slices.Equal(m.Flags, append([]string{}, tt.flags...)) {
			t.Errorf("PriorityOf(%s) = %d %v, %v; want %d %v", tt.category, m.Priority, m.Flags, err, tt.priority, tt.flags)
		}
	}
	if _, err := places.PriorityOf(ctx, pool, "no-such-category"); !errors.Is(err, places.ErrNotFound) {
		t.Errorf("PriorityOf(no-such-category) = %v; want ErrNotFound", err)
	}
}

// TestSetMappingRoundTrip sets an existing and a new category and reads
// them back through Mappings and PriorityOf; bad mappings are refused.
func TestSetMappingRoundTrip(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	created, err := places.SetMapping(ctx, pool, places.Mapping{Category: "public-order", Priority: 1, Flags: []string{"alcohol"}, Note: "night-time economy"}, "carol")
	if err != nil || created {
		t.Fatalf("SetMapping(public-order) = %v, %v; want updated", created, err)
	}
	created, err = places.SetMapping(ctx, pool, places.Mapping{Category: "noise-nuisance", Priority: 2, Flags: []string{"environment", "alcohol", "alcohol"}}, "carol")
	if err != nil || !created {
		t.Fatalf("SetMapping(noise-nuisance) = %v, %v; want created", created, err)
	}
	if _, err := places.SetMapping(ctx, pool, places.Mapping{Category: "other-crime", Priority: 0}, "carol"); err != nil {
		t.Fatalf("SetMapping(other-crime, none) = %v", err)
	}
	ms, err := places.Mappings(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]places.Mapping{}
	for _, m := range ms {
		got[m.Category] = m
	}
	for _, tt := range []struct {
		category string
		priority int
		flags    []string
		note     string
	}{
		{"public-order", 1, []string{"alcohol"}, "night-time economy"},
		{"noise-nuisance", 2, []string{"alcohol", "environment"}, ""},
		{"other-crime", 0, []string{}, ""},
	} {
		m, ok := got[tt.category]
		if !ok || m.Priority != tt.priority || !slices.Equal(m.Flags, tt.flags) || m.Note != tt.note || m.UpdatedBy != "carol" ||
			time.Since(m.UpdatedAt) > time.Hour {
			t.Errorf("Mappings()[%s] = %+v; want priority %d, flags %v, note %q, by carol", tt.category, m, tt.priority, tt.flags, tt.note)
		}
		if one, err := places.PriorityOf(ctx, pool, tt.category); err != nil || one.Priority != m.Priority || !slices.Equal(one.Flags, m.Flags) {
			t.Errorf("PriorityOf(%s) = %+v, %v; want it to agree with Mappings", tt.category, one, err)
		}
	}
	if n := len(ms); n != 30 {
		t.Errorf("Mappings() = %d rows; want the 29 seeded and 1 added", n)
	}
	for _, bad := range []places.Mapping{
		{Category: "burglary", Priority: 6},
		{Category: "burglary", Priority: -1},
		{Category: "burglary", Priority: 3, Flags: []string{"weather"}},
		{Category: "Fly Tipping", Priority: 2},
		{Category: "", Priority: 2},
	} {
		if _, err := places.SetMapping(ctx, pool, bad, "carol"); !errors.Is(err, places.ErrBadMapping) {
			t.Errorf("SetMapping(%+v) = %v; want ErrBadMapping", bad, err)
		}
	}
}

func TestParseFlags(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"", []string{}, false}, {"none", []string{}, false}, {"alcohol", []string{"alcohol"}, false},
		{" Environment , alcohol,alcohol", []string{"alcohol", "environment"}, false}, {"alcohol,weather", nil, true}, {",", nil, true},
	} {
		got, err := places.ParseFlags(tt.in)
		if (err != nil) != tt.err || !slices.Equal(got, tt.want) {
			t.Errorf("ParseFlags(%q) = %v, %v; want %v, error %v", tt.in, got, err, tt.want, tt.err)
		}
	}
}

// TestCountByPriority loads the real January 2024 police.uk month's
// Harborough rows straight into incidents, then counts Lutterworth's by
// priority and compares with a count made here: each row's point tested
// against the outline with orb's planar point-in-polygon, its category
// looked up in the mapping table.
func TestCountByPriority(t *testing.T) {
	pool, _ := built(t)
	ctx := context.Background()
	f, err := os.Open(filepath.Join(dataDir, "police-uk/2024-01-leicestershire-street.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	header, err := r.Read()
	if err != nil {
		t.Fatal(err)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimPrefix(h, "\ufeff")] = i
	}
	var batch int64
	if err := pool.QueryRow(ctx, `INSERT INTO import_batches (source, file_name, file_sha256, file_bytes) VALUES ('police-uk', 'test', 'test', 0) RETURNING id`).Scan(&batch); err != nil {
		t.Fatal(err)
	}
	lutt, err := places.Get(ctx, pool, "lutterworth")
	if err != nil {
		t.Fatal(err)
	}
	ms, err := places.Mappings(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	prio := map[string]int{}
	for _, m := range ms {
		prio[m.Category] = m.Priority
	}
	want := map[int]int{}
	var rows [][]any
	for i := 0; ; i++ {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		lon, err1 := strconv.ParseFloat(rec[col["Longitude"]], 64)
		lat, err2 := strconv.ParseFloat(rec[col["Latitude"]], 64)
		if err1 != nil || err2 != nil || !strings.HasPrefix(rec[col["LSOA name"]], "Harborough") {
			continue
		}
		cat, _ := geo.CategorySlug(rec[col["Crime type"]])
		rows = append(rows, []any{"police-uk", "test-" + strconv.Itoa(i), cat, lon, lat, batch})
		if planar.MultiPolygonContains(lutt.Polygon, orb.Point{lon, lat}) {
			want[prio[cat]]++
		}
	}
	if len(want) == 0 {
		t.Fatal("no January 2024 incidents in Lutterworth; the test needs some")
	}
	if _, err := pool.Exec(ctx, `CREATE TABLE test_raw (source text, source_id text, category text, lon float8, lat float8, batch bigint)`); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.CopyFrom(ctx, pgx.Identifier{"test_raw"}, []string{"source", "source_id", "category", "lon", "lat", "batch"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	month := geo.MonthPeriod(2024, time.January)
	if _, err := pool.Exec(ctx, `INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to, geom, geom_bng, geom_web, batch_id)
		SELECT source, source_id, category, $1, $2, g, ST_Transform(g, 27700), ST_Transform(g, 3857), batch
		FROM (SELECT *, ST_SetSRID(ST_MakePoint(lon, lat), 4326) AS g FROM test_raw) r`, month.From, month.To); err != nil {
		t.Fatal(err)
	}
	t.Logf("%d Harborough incidents in January 2024, in Lutterworth by priority: %v", len(rows), want)
	counts, err := places.CountByPriority(ctx, pool, "lutterworth", month)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]int{}
	for _, c := range counts {
		got[c.Priority] = c.Incidents
	}
	for p := 0; p <= 5; p++ {
		if got[p] != want[p] {
			t.Errorf("CountByPriority(lutterworth, 2024-01)[priority %d] = %d; want %d", p, got[p], want[p])
		}
	}
	if c, err := places.CountByPriority(ctx, pool, "lutterworth", geo.MonthPeriod(2024, time.February)); err != nil || len(c) != 0 {
		t.Errorf("CountByPriority(lutterworth, 2024-02) = %v, %v; want nothing", c, err)
	}
	if _, err := places.CountByPriority(ctx, pool, "atlantis", month); !errors.Is(err, places.ErrNotFound) {
		t.Errorf("CountByPriority(atlantis) = %v; want ErrNotFound", err)
	}
}
