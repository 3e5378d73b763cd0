package ingest_test

import (
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// dataDir is the shared real data beside the checkout.
const dataDir = "../../../shared/data"

// policeFiles returns the real police.uk files, skipping (or, under CI,
// failing) when the shared data is not there.
func policeFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "police-uk", "*.csv"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no police.uk files in %s (CI is set, so this fails rather than skips)", dataDir)
		}
		t.Skipf("no police.uk files in %s", dataDir)
	}
	return files
}

// csvCounts counts a police.uk file independently of the importer: data
// rows, rows without coordinates, and rows per Crime type.
type csvCounts struct {
	rows, noLocation int
	byType           map[string]int
}

func countCSV(t testing.TB, path string) csvCounts {
	t.Helper()
	f, err := os.Open(path)
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
		col[h] = i
	}
	c := csvCounts{byType: map[string]int{}}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		c.rows++
		if rec[col["Longitude"]] == "" {
			c.noLocation++
		}
		c.byType[rec[col["Crime type"]]]++
	}
	return c
}

func count(t testing.TB, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	if err := pool.QueryRow(context.Background(), sql, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

// TestImportRealFileTwice imports a real month, checks the counts against
// an independent count of the CSV, and checks that a second import of the
// same file adds nothing.
func TestImportRealFileTwice(t *testing.T) {
	files := policeFiles(t)
	pool := storetest.DB(t)
	ctx := context.Background()
	path := files[len(files)-1]
	want := countCSV(t, path)

	s, err := ingest.ImportPoliceUKFile(ctx, pool, path)
	if err != nil {
		t.Fatalf("ImportPoliceUKFile(%s) error: %v", path, err)
	}
	if s.Read != want.rows || s.Inserted != want.rows || s.AlreadyPresent != 0 || s.Quarantined != 0 || s.NoLocation != want.noLocation {
		t.Errorf("first import = read %d, inserted %d, present %d, quarantined %d, no location %d; want read %d, inserted %d, 0, 0, no location %d",
			s.Read, s.Inserted, s.AlreadyPresent, s.Quarantined, s.NoLocation, want.rows, want.rows, want.noLocation)
	}
	if got := count(t, pool, `SELECT count(*) FROM incidents`); got != want.rows {
		t.Errorf("incidents rows = %d; want %d", got, want.rows)
	}
	if got := count(t, pool, `SELECT count(*) FROM incidents WHERE geom IS NULL`); got != want.noLocation {
		t.Errorf("incidents without geometry = %d; want %d", got, want.noLocation)
	}
	// Every category's count matches the file's Crime type column.
	for name, n := range want.byType {
		if got := count(t, pool, `SELECT count(*) FROM incidents i JOIN categories c ON c.slug = i.category WHERE c.name = $1`, name); got != n {
			t.Errorf("incidents of %q = %d; want %d", name, got, n)
		}
	}
	// The derived geometries are really in their systems: BNG in metres
	// near Harborough, Web Mercator in metres from the equator.
	if got := count(t, pool, `SELECT count(*) FROM incidents WHERE geom IS NOT NULL AND (ST_SRID(geom_bng) <> 27700 OR ST_SRID(geom_web) <> 3857 OR ST_X(geom_bng) < 0 OR ST_Y(geom_web) < 6000000)`); got != 0 {
		t.Errorf("%d incidents with wrong derived geometry", got)
	}

	again, err := ingest.ImportPoliceUKFile(ctx, pool, path)
	if err != nil {
		t.Fatalf("second ImportPoliceUKFile error: %v", err)
	}
	if again.Inserted != 0 || again.AlreadyPresent != want.rows || again.Read != want.rows {
		t.Errorf("second import = read %d, inserted %d, present %d; want read %d, inserted 0, present %d",
			again.Read, again.Inserted, again.AlreadyPresent, want.rows, want.rows)
	}
	if got := count(t, pool, `SELECT count(*) FROM incidents`); got != want.rows {
		t.Errorf("incidents after re-import = %d; want %d", got, want.rows)
	}
	if got := count(t, pool, `SELECT count(*) FROM import_batches WHERE finished_at IS NOT NULL AND file_sha256 <> ''`); got != 2 {
		t.Errorf("finished batches with a checksum = %d; want 2", got)
	}
}

const header = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n"

// TestImportQuarantine loads a file with good and malformed rows: the bad
// ones are kept with line number and reason, the good ones load.
func TestImportQuarantine(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	body := header +
		"a1,2024-01,Leicestershire Police,Leicestershire Police,-0.921,52.478,On or near High Street,E01025800,Harborough 010B,Burglary,Under investigation,\n" + // line 2 good
		"a2,2024-13,Leicestershire Police,Leicestershire Police,-0.921,52.478,On or near High Street,E01025800,Harborough 010B,Burglary,,\n" + // 3 bad month
		"a3,2024-01,Leicestershire Police,Leicestershire Police,abc,52.478,On or near X,E01025800,Harborough 010B,Drugs,,\n" + // 4 bad lon
		"a4,2024-01,Leicestershire Police\n" + // 5 short row
		",2024-01,Leicestershire Police,Leicestershire Police,,,No location,,,Anti-social behaviour,,\n" + // 6 good, no location
		"a5,2024-01,Leicestershire Police,Leicestershire Police,-0.93,52.47,\"On or near Bath Street, Market Harborough\",E01025800,Harborough 010B,Vehicle crime,,\n" + // 7 good, quoted comma
		"a6,2024-01,P,P,-0.93,52.47,On or near Caf\xe9,E01025800,Harborough 010B,Drugs,,\n" + // 8 Latin-1 byte: invalid UTF-8
		"a7,2024-01,P,P,-0.93,52.47,On or near \x00,E01025800,Harborough 010B,Drugs,,\n" // 9 NUL byte
	s, err := ingest.ImportPoliceUK(ctx, pool, "mixed.csv", strings.NewReader(body))
	if err != nil {
		t.Fatalf("ImportPoliceUK error: %v", err)
	}
	if s.Read != 8 || s.Inserted != 3 || s.Quarantined != 5 || s.NoLocation != 1 {
		t.Errorf("summary = read %d, inserted %d, quarantined %d, no location %d; want 8, 3, 5, 1", s.Read, s.Inserted, s.Quarantined, s.NoLocation)
	}
	rows, err := pool.Query(ctx, `SELECT line_no, reason, raw FROM quarantine WHERE batch_id = $1 ORDER BY line_no`, s.BatchID)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	wantLines := []int{3, 4, 5, 8, 9}
	i := 0
	for rows.Next() {
		var line int
		var reason, raw string
		if err := rows.Scan(&line, &reason, &raw); err != nil {
			t.Fatal(err)
		}
		if i >= len(wantLines) || line != wantLines[i] || reason == "" || !strings.HasPrefix(raw, "a") {
			t.Errorf("quarantine row %d = line %d, reason %q, raw %q; want line %v with a reason and its raw text", i, line, reason, raw, wantLines)
		}
		i++
	}
	if i != len(wantLines) {
		t.Errorf("quarantine rows = %d; want %d", i, len(wantLines))
	}
	if got := count(t, pool, `SELECT count(*) FROM incidents WHERE location_text = 'On or near Bath Street, Market Harborough'`); got != 1 {
		t.Errorf("quoted location rows = %d; want 1", got)
	}
}

// failingReader returns its data and then an I/O error, as a file on a
// failing disk or a dropped upload would.
type failingReader struct{ r io.Reader }

func (f *failingReader) Read(p []byte) (int, error) {
	n, err := f.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("disk on fire")
	}
	return n, err
}

// TestImportAtomic checks that a file that fails part-way leaves nothing
// behind: no incidents, no quarantine rows, no batch.
func TestImportAtomic(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	body := header + strings.Repeat("x1,2024-01,P,P,-0.92,52.48,On or near A,E1,Harborough 001A,Drugs,,\n", 1) +
		"x2,bad,P,P,-0.92,52.48,On or near A,E1,Harborough 001A,Drugs,,\n"
	_, err := ingest.ImportPoliceUK(ctx, pool, "broken.csv", &failingReader{strings.NewReader(body)})
	if err == nil {
		t.Fatal("ImportPoliceUK(failing reader) error = nil; want the read error")
	}
	for _, table := range []string{"incidents", "quarantine", "import_batches"} {
		if got := count(t, pool, `SELECT count(*) FROM `+table); got != 0 {
			t.Errorf("%s rows after failed import = %d; want 0", table, got)
		}
	}
}

// TestImportRefusesOtherFiles checks that a file that is not a police.uk
// street file is refused before anything is written.
func TestImportRefusesOtherFiles(t *testing.T) {
	pool := storetest.DB(t)
	tests := []struct {
		name, body string
		want       error
	}{
		{"old layout", "Crime ID,Month,Reported by,Falls within,Easting,Northing,Location,Crime type,Context\n", ingest.ErrOldLayout},
		{"postcodes", "\"LE16 7AA\",10,473000,287000,\"E92000001\"\n", ingest.ErrNotPoliceUK},
		{"empty", "", ingest.ErrNotPoliceUK},
	}
	for _, tt := range tests {
		_, err := ingest.ImportPoliceUK(context.Background(), pool, tt.name, strings.NewReader(tt.body))
		if !errors.Is(err, tt.want) {
			t.Errorf("ImportPoliceUK(%s) error = %v; want %v", tt.name, err, tt.want)
		}
	}
	if got := count(t, pool, `SELECT count(*) FROM import_batches`); got != 0 {
		t.Errorf("import_batches after refused files = %d; want 0", got)
	}
}

// BenchmarkImportPoliceUK measures import throughput on the real files:
// each iteration loads all of them into an empty database.
func BenchmarkImportPoliceUK(b *testing.B) {
	files := policeFiles(b)
	var rows int
	for _, f := range files {
		rows += countCSV(b, f).rows
	}
	b.ReportAllocs()
	ctx := context.Background()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		pool := storetest.DB(b)
		b.StartTimer()
		for _, f := range files {
			if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
