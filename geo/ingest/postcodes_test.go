package ingest_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// codePointFile is the real Code-Point Open LE file.
var codePointFile = filepath.Join(dataDir, "postcodes", "codepoint-open-2025-10-le.csv")

func codePoint(t testing.TB) string {
	t.Helper()
	if _, err := os.Stat(codePointFile); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("no Code-Point Open file (CI is set, so this fails rather than skips): %v", err)
		}
		t.Skipf("no Code-Point Open file: %v", err)
	}
	return codePointFile
}

const pcGoodRow = `"LE16 7AA",10,473401,287452,"E92000001","E19000001","E18000004","E10000018","E07000131","E05011975"`

func pcRowWith(col int, val string) string {
	f := strings.Split(pcGoodRow, ",")
	f[col] = val
	return strings.Join(f, ",")
}

func TestNormalisePostcode(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"LE16 7AA", "LE16 7AA", true},
		{"le167aa", "LE16 7AA", true},
		{"LE16  7AA", "LE16 7AA", true},
		{"LE1 1AA", "LE1 1AA", true},
		{"B1 1AA", "B1 1AA", true},
		{"W1A 1AA", "W1A 1AA", true},
		{"EC1A 1BB", "EC1A 1BB", true},
		{"LE16", "", false},
		{"LE16 7A", "", false},
		{"LE16 AAA", "", false},
		{"1E16 7AA", "", false},
		{"LE16-7AA", "", false},
		{"LE1667AAA", "", false},
		{"", "", false},
		{"ÉE16 7AA", "", false},
	}
	for _, tt := range tests {
		got, ok := ingest.NormalisePostcode(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalisePostcode(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// TestParsePostcodeRows feeds one line at a time after a good first line
// and checks each line's reason (or its parsed fields).
func TestParsePostcodeRows(t *testing.T) {
	tests := []struct {
		name, row, reason string
	}{
		{"good", pcGoodRow, ""},
		{"unquoted fields", `LE16 7AB,50,473401,287452,E92000001,E19000001,E18000004,E10000018,E07000131,E05011975`, ""},
		{"empty county", pcRowWith(7, `""`), ""},
		{"short row", `"LE16 7AA",10,473401`, "wrong column count: 3, want 10"},
		{"bad postcode", pcRowWith(0, `"LE16"`), `bad postcode "LE16"`},
		{"bad quality", pcRowWith(1, "x"), `bad positional quality "x"`},
		{"quality 90", pcRowWith(1, "90"), "no coordinates"},
		{"zero point", `"LE16 7AA",50,0,0,"E92000001","","","","",""`, "no coordinates"},
		{"bad easting", pcRowWith(2, "47e3"), `bad easting "47e3"`},
		{"bad northing", pcRowWith(3, ""), `bad northing ""`},
		{"outside GB", pcRowWith(2, "900000"), "easting/northing 900000, 287452 outside Great Britain"},
		{"bad area code", pcRowWith(8, `"E07 000131"`), `bad area code "E07 000131"`},
		{"unterminated quote", pcRowWith(0, `"LE16 7AA`), "bad CSV: extraneous or missing \" in quoted field"},
		{"invalid UTF-8", pcRowWith(9, "\"E0501\xff\""), "invalid UTF-8"},
		{"NUL", pcRowWith(9, "\"E05\x00\""), "NUL byte in row"},
		{"too long", pcRowWith(9, strings.Repeat("A", 5000)), "line too long: more than 4096 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := pcGoodRow + "\r\n" + tt.row + "\n" + pcGoodRow + "\n"
			r, err := ingest.NewPostcodeReader(strings.NewReader(in))
			if err != nil {
				t.Fatalf("NewPostcodeReader() error = %v", err)
			}
			var recs []ingest.PostcodeRecord
			for {
				rec, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, rec)
			}
			if len(recs) != 3 {
				t.Fatalf("records = %d; want 3 (the bad line must cost one line only)", len(recs))
			}
			if recs[0].Reason != "" || recs[2].Reason != "" || recs[2].Line != 3 {
				t.Errorf("neighbours = %+v, %+v; want good lines 1 and 3", recs[0], recs[2])
			}
			got := recs[1]
			if got.Line != 2 || got.Reason != tt.reason {
				t.Errorf("line 2 = line %d, reason %q; want line 2, reason %q", got.Line, got.Reason, tt.reason)
			}
		})
	}
	r, _ := ingest.NewPostcodeReader(strings.NewReader(pcGoodRow))
	rec, _ := r.Next()
	want := ingest.Postcode{Postcode: "LE16 7AA", Quality: 10, Easting: 473401, Northing: 287452,
		Country: "E92000001", NHSRegion: "E19000001", NHSHA: "E18000004", County: "E10000018", District: "E07000131", Ward: "E05011975"}
	if rec.Postcode != want || rec.Raw != pcGoodRow {
		t.Errorf("parsed = %+v (raw %q); want %+v", rec.Postcode, rec.Raw, want)
	}
}

func TestPostcodeReaderHeaderAndRefusal(t *testing.T) {
	tests := []struct {
		name, in string
		want     error
		rows     int
	}{
		{"header skipped", "Postcode,Positional_quality_indicator,Eastings,Northings,Country_code,NHS_regional_HA_code,NHS_HA_code,Admin_county_code,Admin_district_code,Admin_ward_code\n" + pcGoodRow + "\n", nil, 1},
		{"short header skipped", "\ufeffPC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\r\n" + pcGoodRow, nil, 1},
		{"police.uk file", "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context\n", ingest.ErrNotCodePoint, 0},
		{"empty", "", ingest.ErrNotCodePoint, 0},
		{"blank lines only", "\n\r\n\n", ingest.ErrNotCodePoint, 0},
	}
	for _, tt := range tests {
		r, err := ingest.NewPostcodeReader(strings.NewReader(tt.in))
		if !errors.Is(err, tt.want) || (err == nil) != (tt.want == nil) {
			t.Errorf("NewPostcodeReader(%s) error = %v; want %v", tt.name, err, tt.want)
			continue
		}
		if err != nil {
			continue
		}
		n := 0
		for {
			rec, err := r.Next()
			if err != nil {
				break
			}
			if rec.Reason != "" {
				t.Errorf("%s: line %d rejected: %s", tt.name, rec.Line, rec.Reason)
			}
			n++
		}
		if n != tt.rows {
			t.Errorf("%s: rows = %d; want %d", tt.name, n, tt.rows)
		}
	}
}

// countCodePoint counts the real file with encoding/csv, independently of
// the reader: rows, and rows in Harborough District.
func countCodePoint(t testing.TB, path string) (rows, harborough int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return rows, harborough
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if rec[8] == "E07000131" {
			harborough++
		}
	}
}

// TestImportRealPostcodes loads the real LE file, checks it against an
// independent count (and the figures the data README gives), and imports
// it again to check that nothing changes.
func TestImportRealPostcodes(t *testing.T) {
	path := codePoint(t)
	rows, harborough := countCodePoint(t, path)
	if rows != 23249 || harborough != 2655 {
		t.Fatalf("encoding/csv count = %d rows, %d in E07000131; the data README says 23,249 and 2,655", rows, harborough)
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	s, err := ingest.ImportPostcodesFile(ctx, pool, path)
	if err != nil {
		t.Fatalf("ImportPostcodesFile() error = %v", err)
	}
	if s.Read != rows || s.Inserted != rows || s.Quarantined != 0 || s.Updated != 0 {
		t.Errorf("first import = read %d, inserted %d, updated %d, quarantined %d (%v); want %d, %d, 0, 0",
			s.Read, s.Inserted, s.Updated, s.Quarantined, s.QuarantinedBy, rows, rows)
	}
	if got := count(t, pool, `SELECT count(*) FROM postcodes`); got != rows {
		t.Errorf("postcodes = %d; want %d", got, rows)
	}
	if got := count(t, pool, `SELECT count(*) FROM postcodes WHERE district_code = 'E07000131'`); got != harborough {
		t.Errorf("postcodes in E07000131 = %d; want %d", got, harborough)
	}
	// The grid point is stored as given; the WGS84 point is where the
	// first row of the file, LE1 1AA (459318, 304176), is: Leicester's
	// High Street, 52.6321 N, 1.1250 W.
	if got := count(t, pool, `SELECT count(*) FROM postcodes WHERE postcode = 'LE1 1AA' AND ST_X(geom_bng) = 459318 AND ST_Y(geom_bng) = 304176
		AND abs(ST_Y(geom) - 52.6321) < 0.0005 AND abs(ST_X(geom) + 1.1250) < 0.0005 AND ST_SRID(geom_web) = 3857`); got != 1 {
		t.Errorf("LE1 1AA is not at 459318, 304176 (52.6321, -1.1250)")
	}
	// Every Harborough postcode lies near the district's outline.
	if got := count(t, pool, `SELECT count(*) FROM postcodes WHERE district_code = 'E07000131'
		AND NOT ST_Intersects(geom, ST_MakeEnvelope(-1.31, 52.35, -0.70, 52.70, 4326))`); got != 0 {
		t.Errorf("%d Harborough postcodes outside the district's box", got)
	}

	again, err := ingest.ImportPostcodesFile(ctx, pool, path)
	if err != nil {
		t.Fatal(err)
	}
	if again.Inserted != 0 || again.Updated != 0 || again.Unchanged != rows {
		t.Errorf("second import = inserted %d, updated %d, unchanged %d; want 0, 0, %d", again.Inserted, again.Updated, again.Unchanged, rows)
	}
	// A postcode that moves is updated in place.
	moved := pcRowWith(2, "473500") + "\n" + pcRowWith(0, `"LE16 7ZZ"`) + "\n" + pcRowWith(0, `"LE16 7ZZ"`) + "\nbad\n"
	s, err = ingest.ImportPostcodes(ctx, pool, "moved.csv", strings.NewReader(moved))
	if err != nil {
		t.Fatal(err)
	}
	if s.Read != 4 || s.Inserted+s.Updated != 2 || s.Quarantined != 2 || s.QuarantinedBy["duplicate postcode"] != 1 || s.QuarantinedBy["wrong column count"] != 1 {
		t.Errorf("moved import = %+v; want read 4, 2 written, 2 quarantined (a duplicate and a short row)", s)
	}
	if got := count(t, pool, `SELECT count(*) FROM postcodes WHERE postcode = 'LE16 7AA' AND easting = 473500 AND ST_X(geom_bng) = 473500`); got != 1 {
		t.Errorf("LE16 7AA not moved to easting 473500")
	}
	if got := count(t, pool, `SELECT count(*) FROM quarantine q JOIN import_batches b ON b.id = q.batch_id WHERE b.source = 'codepoint-open'`); got != 2 {
		t.Errorf("quarantined Code-Point lines = %d; want 2", got)
	}
}

// TestImportPostcodesRefused checks that a wrong file writes nothing.
func TestImportPostcodesRefused(t *testing.T) {
	pool := storetest.DB(t)
	_, err := ingest.ImportPostcodes(context.Background(), pool, "police.csv", strings.NewReader(header))
	if !errors.Is(err, ingest.ErrNotCodePoint) {
		t.Errorf("ImportPostcodes(police.uk file) error = %v; want ErrNotCodePoint", err)
	}
	if got := count(t, pool, `SELECT count(*) FROM import_batches`); got != 0 {
		t.Errorf("import_batches after a refused file = %d; want 0", got)
	}
}

func FuzzPostcodes(f *testing.F) {
	for _, s := range []string{
		pcGoodRow,
		pcGoodRow + "\n" + pcRowWith(0, `"LE16`) + "\n" + pcGoodRow,
		"PC,PQ,EA,NO,CY,RH,LH,CC,DC,WC\n" + pcGoodRow,
		pcRowWith(2, "-0"),
		pcRowWith(2, "+473401"),
		pcRowWith(1, "090"),
		pcRowWith(9, "\"a\"\"b\""),
		pcRowWith(0, "\"le16\t7aa\""),
		pcGoodRow + "\r\r\n\r" + pcGoodRow,
		pcRowWith(9, strings.Repeat("Z", 5000)) + "\n" + pcGoodRow,
		"\xff\xfe" + pcGoodRow,
		",,,,,,,,,",
		"",
	} {
		f.Add([]byte(s))
	}
	if b, err := os.ReadFile(codePointFile); err == nil {
		f.Add(b[:min(len(b), 4000)])
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := ingest.NewPostcodeReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ingest.ErrNotCodePoint) {
				t.Fatalf("NewPostcodeReader() error = %v; want ErrNotCodePoint", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		prev := 0
		for n := 0; ; n++ {
			if n > lines {
				t.Fatal("more records than lines")
			}
			rec, err := r.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next() error = %v; want only io.EOF", err)
			}
			if rec.Line <= prev {
				t.Fatalf("line %d after %d", rec.Line, prev)
			}
			prev = rec.Line
			if len(rec.Raw) > 4096 {
				t.Fatalf("line %d: Raw is %d bytes; the reader must stay bounded", rec.Line, len(rec.Raw))
			}
			if rec.Reason != "" {
				continue
			}
			p := rec.Postcode
			if pc, ok := ingest.NormalisePostcode(p.Postcode); !ok || pc != p.Postcode {
				t.Fatalf("line %d: good record with postcode %q", rec.Line, p.Postcode)
			}
			if p.Easting < 0 || p.Easting > 700000 || p.Northing < 0 || p.Northing > 1300000 || (p.Easting == 0 && p.Northing == 0) {
				t.Fatalf("line %d: good record at %d, %d", rec.Line, p.Easting, p.Northing)
			}
			if p.Quality < 10 || p.Quality >= 90 {
				t.Fatalf("line %d: good record with quality %d", rec.Line, p.Quality)
			}
		}
	})
}
