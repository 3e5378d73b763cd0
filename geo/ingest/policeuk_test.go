package ingest

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/harborough-csp/hotspot/geo"
)

const policeUKHeader = "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,Crime type,Last outcome category,Context"

// pukGoodRow has no quotes, so pukRowWith can edit it by splitting on commas.
const pukGoodRow = "abc123,2024-01,Leicestershire Police,Leicestershire Police,-0.921000,52.478000,On or near Coventry Road,E01025889,Harborough 009D,Burglary,Under investigation,"

// pukRowWith returns pukGoodRow with column col (police.uk order) set to val.
func pukRowWith(col int, val string) string {
	f := strings.Split(pukGoodRow, ",")
	f[col] = val
	return strings.Join(f, ",")
}

// pukASBRow is an anti-social behaviour row: no Crime ID, no outcome.
var pukASBRow = pukRowWith(colCrimeID, "")

func init() {
	pukASBRow = strings.Replace(strings.Replace(pukASBRow, "Burglary", "Anti-social behaviour", 1), "Under investigation", "", 1)
}

// readAll parses a whole input, failing the test on any error from Next.
func readAllRecords(t testing.TB, input string) []Record {
	t.Helper()
	p, err := NewPoliceUKReader(strings.NewReader(input))
	if err != nil {
		t.Fatalf("NewPoliceUKReader() error = %v", err)
	}
	var recs []Record
	for i := 0; ; i++ {
		if i > strings.Count(input, "\n")+1 {
			t.Fatalf("Next() returned more records than the input has lines")
		}
		rec, err := p.Next()
		if err == io.EOF {
			return recs
		}
		if err != nil {
			t.Fatalf("Next() error = %v", err)
		}
		recs = append(recs, rec)
	}
}

// wantRec describes one expected record. For good records, empty strings in
// id, cat and loc mean "not checked"; id "asb-*" means any ASB identity.
type wantRec struct {
	line   int
	reason string
	id     string
	cat    string
	loc    string
	pt     string // "yes" or "no" when HasPoint is checked
	raw    string
}

func TestParsePoliceUKRows(t *testing.T) {
	h := policeUKHeader + "\n"
	longField := strings.Repeat("x", 70000)
	var capRows strings.Builder
	capRows.WriteString(h + pukRowWith(colLocation, `"On or near High Street`) + "\n")
	for i := 0; i < 60; i++ {
		capRows.WriteString(pukGoodRow + "\n")
	}
	capWant := []wantRec{{line: 2, reason: "unterminated quoted field", raw: pukRowWith(colLocation, `"On or near High Street`)}}
	for i := 0; i < 60; i++ {
		capWant = append(capWant, wantRec{line: 3 + i, id: "abc123"})
	}
	good := wantRec{id: "abc123", cat: "burglary", loc: "On or near Coventry Road", pt: "yes"}
	at := func(w wantRec, line int) wantRec { w.line = line; return w }
	rej := func(line int, reason string) wantRec { return wantRec{line: line, reason: reason} }

	tests := []struct {
		name  string
		input string
		want  []wantRec
	}{
		{"good row", h + pukGoodRow + "\n", []wantRec{{line: 2, id: "abc123", cat: "burglary", loc: "On or near Coventry Road", pt: "yes", raw: pukGoodRow}}},
		{"no final newline", h + pukGoodRow, []wantRec{{line: 2, id: "abc123", pt: "yes", raw: pukGoodRow}}},
		{"header only", h, nil},
		{"no-location row kept",
			h + "nol1,2024-01,Leicestershire Police,Leicestershire Police,,,No Location,,,Other crime,Under investigation,\n",
			[]wantRec{{line: 2, id: "nol1", cat: "other-crime", loc: "No Location", pt: "no"}}},
		{"asb row gets an identity", h + pukASBRow + "\n", []wantRec{{line: 2, id: "asb-*", cat: "anti-social-behaviour", pt: "yes"}}},
		{"unknown crime type kept, slugified", h + pukRowWith(colCrimeType, "Fraud & Forgery") + "\n", []wantRec{{line: 2, id: "abc123", cat: "fraud-forgery"}}},
		{"crime type in other case", h + pukRowWith(colCrimeType, "VIOLENCE AND SEXUAL OFFENCES") + "\n", []wantRec{{line: 2, cat: "violent-crime"}}},
		{"fields trimmed",
			h + " abc123 , 2024-01 ,Leicestershire Police,Leicestershire Police, -0.921 , 52.478 ,  On or near Coventry Road ,E01025889,Harborough 009D, Burglary ,Under investigation, \n",
			[]wantRec{at(good, 2)}},
		{"minus zero and exponent accepted", h + pukRowWith(colLongitude, "-0") + "\n" + pukRowWith(colLatitude, "5.2478e1") + "\n", []wantRec{{line: 2, pt: "yes"}, {line: 3, pt: "yes"}}},
		{"blank lines skipped", h + "\n" + pukGoodRow + "\n\n   \n" + pukGoodRow + "\n\n", []wantRec{at(good, 3), at(good, 6)}},
		{"quoted comma", h + pukRowWith(colLocation, `"On or near Asda, Thurmaston"`) + "\n" + pukGoodRow + "\n",
			[]wantRec{{line: 2, loc: "On or near Asda, Thurmaston"}, at(good, 3)}},
		{"escaped quotes", h + pukRowWith(colLocation, `"On or near ""The Bell"" Inn"`) + "\n", []wantRec{{line: 2, loc: `On or near "The Bell" Inn`}}},
		{"quoted newline keeps later line numbers", h + pukRowWith(colLocation, "\"On or near\nHigh Street\"") + "\n" + pukGoodRow + "\n" + pukGoodRow + "\n",
			[]wantRec{{line: 2, loc: "On or near\nHigh Street", raw: pukRowWith(colLocation, "\"On or near\nHigh Street\"")}, at(good, 4), at(good, 5)}},
		{"quoted blank lines", h + pukRowWith(colContext, "\"a\n\n\nb\"") + "\n" + pukGoodRow + "\n", []wantRec{{line: 2, id: "abc123"}, at(good, 6)}},
		{"CRLF", strings.ReplaceAll(h+pukGoodRow+"\n"+pukGoodRow+"\n", "\n", "\r\n"), []wantRec{{line: 2, id: "abc123", raw: pukGoodRow}, {line: 3, raw: pukGoodRow}}},
		{"CRLF inside a quoted field", strings.ReplaceAll(h+pukRowWith(colLocation, "\"On or near\nHigh Street\"")+"\n"+pukGoodRow+"\n", "\n", "\r\n"),
			[]wantRec{{line: 2, loc: "On or near\nHigh Street", raw: pukRowWith(colLocation, "\"On or near\r\nHigh Street\"")}, at(good, 4)}},
		{"BOM", "\ufeff" + h + pukGoodRow + "\n", []wantRec{at(good, 2)}},
		{"header in other case with spaces, reordered, quoted, extra column",
			" month ,\"CRIME ID\",Reported By,Falls Within,LATITUDE,longitude,Location,lsoa code,LSOA Name,crime type,LAST OUTCOME CATEGORY,Context ,Extra\n" +
				"2024-01,abc123,Leicestershire Police,Leicestershire Police,52.478,-0.921,On or near Coventry Road,E01025889,Harborough 009D,Burglary,Under investigation,,x\n",
			[]wantRec{at(good, 2)}},
		{"modern header with added grid columns", policeUKHeader + ",Easting,Northing\n" + pukGoodRow + ",1,2\n", []wantRec{at(good, 2)}},

		{"11 columns", h + strings.TrimSuffix(pukGoodRow, ",") + "\n" + pukGoodRow + "\n", []wantRec{rej(2, "wrong column count: 11, want 12"), at(good, 3)}},
		{"13 columns", h + pukGoodRow + ",\n" + pukGoodRow + "\n", []wantRec{rej(2, "wrong column count: 13, want 12"), at(good, 3)}},
		{"only commas", h + ",,,,,,,,,,,\n", []wantRec{rej(2, `bad month ""`)}},
		{"bad month", h + pukRowWith(colMonth, "2024-13") + "\n" + pukGoodRow + "\n", []wantRec{rej(2, `bad month "2024-13"`), at(good, 3)}},
		{"month with day", h + pukRowWith(colMonth, "2024-01-05") + "\n", []wantRec{rej(2, `bad month "2024-01-05"`)}},
		{"bad longitude", h + pukRowWith(colLongitude, "abc") + "\n" + pukGoodRow + "\n", []wantRec{rej(2, `bad longitude "abc"`), at(good, 3)}},
		{"bad latitude", h + pukRowWith(colLatitude, "52.4x") + "\n", []wantRec{rej(2, `bad latitude "52.4x"`)}},
		{"NaN longitude", h + pukRowWith(colLongitude, "NaN") + "\n", []wantRec{rej(2, `bad longitude "NaN"`)}},
		{"Inf latitude", h + pukRowWith(colLatitude, "+Inf") + "\n", []wantRec{rej(2, `bad latitude "+Inf"`)}},
		{"overflowing longitude", h + pukRowWith(colLongitude, "1e309") + "\n", []wantRec{rej(2, `bad longitude "1e309"`)}},
		{"hex longitude", h + pukRowWith(colLongitude, "0x1p-1") + "\n", []wantRec{rej(2, `bad longitude "0x1p-1"`)}},
		{"longitude without latitude", h + pukRowWith(colLatitude, "") + "\n", []wantRec{rej(2, "longitude without latitude")}},
		{"latitude without longitude", h + pukRowWith(colLongitude, " ") + "\n", []wantRec{rej(2, "latitude without longitude")}},
		{"longitude out of range", h + pukRowWith(colLongitude, "181") + "\n", []wantRec{rej(2, "coordinate out of range: lon 181, lat 52.478")}},
		{"latitude out of range", h + pukRowWith(colLatitude, "-90.5") + "\n", []wantRec{rej(2, "coordinate out of range: lon -0.921, lat -90.5")}},
		{"empty crime type", h + pukRowWith(colCrimeType, "  ") + "\n" + pukGoodRow + "\n", []wantRec{rej(2, "empty crime type"), at(good, 3)}},
		{"crime type without letters", h + pukRowWith(colCrimeType, "???") + "\n", []wantRec{rej(2, `bad crime type "???"`)}},
		{"bare quote", h + pukRowWith(colLocation, `On or near "The Bell"`) + "\n" + pukGoodRow + "\n",
			[]wantRec{rej(2, `bad CSV: bare " in non-quoted field`), at(good, 3)}},
		{"text after closing quote", h + pukRowWith(colLocation, `"On or near" Bell`) + "\n" + pukGoodRow + "\n",
			[]wantRec{rej(2, `bad CSV: extraneous or missing " in quoted field`), at(good, 3)}},
		{"invalid UTF-8", h + pukRowWith(colLocation, "On or near \xff") + "\n" + pukGoodRow + "\n", []wantRec{rej(2, "invalid UTF-8"), at(good, 3)}},
		{"NUL byte", h + pukRowWith(colContext, "a\x00b") + "\n" + pukGoodRow + "\n", []wantRec{rej(2, "NUL byte in row"), at(good, 3)}},
		{"unterminated quote at end of input resyncs", h + pukRowWith(colLocation, `"On or near High Street`) + "\n" + pukGoodRow + "\n" + pukGoodRow + "\n",
			[]wantRec{{line: 2, reason: "unterminated quoted field", raw: pukRowWith(colLocation, `"On or near High Street`)}, at(good, 3), at(good, 4)}},
		{"unterminated quote beyond the line cap resyncs", capRows.String(), capWant},
		{"line too long", h + pukRowWith(colLocation, longField) + "\n" + pukGoodRow + "\n",
			[]wantRec{rej(2, "line too long: more than 65536 bytes"), at(good, 3)}},
		{"line too long without newline", h + pukGoodRow + "\n" + longField, []wantRec{at(good, 2), rej(3, "line too long: more than 65536 bytes")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			recs := readAllRecords(t, tt.input)
			if len(recs) != len(tt.want) {
				for _, r := range recs {
					t.Logf("got line %d reason %q", r.Line, r.Reason)
				}
				t.Fatalf("Next() gave %d records; want %d", len(recs), len(tt.want))
			}
			for i, w := range tt.want {
				r := recs[i]
				if r.Line != w.line {
					t.Errorf("record %d: Next() line = %d; want %d", i, r.Line, w.line)
				}
				if r.Reason != w.reason {
					t.Errorf("record %d: Next() reason = %q; want %q", i, r.Reason, w.reason)
				}
				if w.raw != "" && r.Raw != w.raw {
					t.Errorf("record %d: Next() raw = %q; want %q", i, r.Raw, w.raw)
				}
				if r.Reason != "" {
					if !reflect.DeepEqual(r.Incident, geo.Incident{}) {
						t.Errorf("record %d: rejected row has incident %+v; want zero", i, r.Incident)
					}
					continue
				}
				in := r.Incident
				switch {
				case w.id == "asb-*":
					if !strings.HasPrefix(in.SourceID, "asb-") || len(in.SourceID) != 36 {
						t.Errorf("record %d: SourceID = %q; want asb- and 32 hex digits", i, in.SourceID)
					}
				case w.id != "" && in.SourceID != w.id:
					t.Errorf("record %d: SourceID = %q; want %q", i, in.SourceID, w.id)
				}
				if w.cat != "" && in.Category != w.cat {
					t.Errorf("record %d: Category = %q; want %q", i, in.Category, w.cat)
				}
				if w.loc != "" && in.LocationText != w.loc {
					t.Errorf("record %d: LocationText = %q; want %q", i, in.LocationText, w.loc)
				}
				if w.pt != "" && in.HasPoint != (w.pt == "yes") {
					t.Errorf("record %d: HasPoint = %v; want %v", i, in.HasPoint, w.pt == "yes")
				}
				if in.Source != SourcePoliceUK {
					t.Errorf("record %d: Source = %q; want %q", i, in.Source, SourcePoliceUK)
				}
			}
		})
	}
}

func TestParsePoliceUKIncident(t *testing.T) {
	recs := readAllRecords(t, policeUKHeader+"\n"+pukGoodRow+"On a bus\n")
	if len(recs) != 1 {
		t.Fatalf("Next() gave %d records; want 1", len(recs))
	}
	want := geo.Incident{
		Source:       SourcePoliceUK,
		SourceID:     "abc123",
		Category:     "burglary",
		Occurred:     geo.MonthPeriod(2024, 1),
		Point:        orb.Point{-0.921, 52.478},
		HasPoint:     true,
		LocationText: "On or near Coventry Road",
		LSOACode:     "E01025889",
		LSOAName:     "Harborough 009D",
		Outcome:      "Under investigation",
		Context:      "On a bus",
		ReportedBy:   "Leicestershire Police",
		FallsWithin:  "Leicestershire Police",
	}
	if recs[0].Reason != "" || !reflect.DeepEqual(recs[0].Incident, want) {
		t.Errorf("Next() = %+v, reason %q;\nwant %+v", recs[0].Incident, recs[0].Reason, want)
	}
}

func TestParsePoliceUKHeader(t *testing.T) {
	oldHeader := "Month,Reported by,Falls within,Easting,Northing,Location,Crime type,Context\n2011-01,Leicestershire Police,Leicestershire Police,472000,290000,On or near High Street,Burglary,\n"
	tests := []struct {
		name    string
		input   string
		wantErr error  // nil, ErrOldLayout or ErrNotPoliceUK
		wantMsg string // substring of the error message
	}{
		{"canonical", policeUKHeader + "\n", nil, ""},
		{"canonical without newline", policeUKHeader, nil, ""},
		{"BOM and CRLF", "\ufeff" + policeUKHeader + "\r\n", nil, ""},
		{"upper case with spaces", strings.ToUpper(strings.ReplaceAll(policeUKHeader, ",", " ,  ")) + "\n", nil, ""},
		{"leading blank line", "\n" + policeUKHeader + "\n", nil, ""},
		{"old easting/northing layout", oldHeader, ErrOldLayout, "Longitude"},
		{"old layout with crime id and lsoa", strings.Replace(strings.Replace(policeUKHeader, "Longitude", "Easting", 1), "Latitude", "Northing", 1), ErrOldLayout, "data.police.uk"},
		{"missing Context", strings.TrimSuffix(policeUKHeader, ",Context") + "\n", ErrNotPoliceUK, `"Context"`},
		{"missing two columns", strings.Replace(policeUKHeader, "LSOA code,LSOA name,", "", 1), ErrNotPoliceUK, `"LSOA code", "LSOA name"`},
		{"duplicate column", policeUKHeader + ",month\n", ErrNotPoliceUK, "twice"},
		{"empty file", "", ErrNotPoliceUK, "empty"},
		{"only BOM", "\ufeff", ErrNotPoliceUK, "empty"},
		{"only blank lines", "\n\r\n\n", ErrNotPoliceUK, "empty"},
		{"postcode file", "LE16 7AA,10,472985,287214,E92000001,E19000003,E18000004,E10000018,E07000131,E05005460\n", ErrNotPoliceUK, "lacks"},
		{"unterminated quote in header", `"Crime ID,Month` + "\n", ErrNotPoliceUK, "unterminated"},
		{"bad CSV header", `Crime "ID",Month` + "\n", ErrNotPoliceUK, "bare"},
		{"binary", "\x00\x01\x02\xff\xfe", ErrNotPoliceUK, "lacks"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := NewPoliceUKReader(strings.NewReader(tt.input))
			if tt.wantErr == nil {
				if err != nil || p == nil {
					t.Fatalf("NewPoliceUKReader() error = %v; want nil", err)
				}
				return
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("NewPoliceUKReader() error = %v; want errors.Is %v", err, tt.wantErr)
			}
			if p != nil {
				t.Errorf("NewPoliceUKReader() reader = %v; want nil with an error", p)
			}
			if !strings.Contains(err.Error(), tt.wantMsg) {
				t.Errorf("NewPoliceUKReader() error = %q; want it to mention %q", err, tt.wantMsg)
			}
			other := ErrNotPoliceUK
			if tt.wantErr == ErrNotPoliceUK {
				other = ErrOldLayout
			}
			if errors.Is(err, other) {
				t.Errorf("NewPoliceUKReader() error = %v; must not also be %v", err, other)
			}
		})
	}
}

// pukASBWant computes an ASB SourceID from its definition, independently of
// the reader: sha256 over the trimmed fields after Crime ID joined by \x1f,
// then "\x1f" and the occurrence number.
func pukASBWant(row string, n string) string {
	f := strings.Split(row, ",")
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	sum := sha256.Sum256([]byte(strings.Join(f[1:], "\x1f") + "\x1f" + n))
	return "asb-" + hex.EncodeToString(sum[:16])
}

func TestParsePoliceUKASBIdentity(t *testing.T) {
	other := strings.Replace(pukASBRow, "Coventry Road", "Church Street", 1)
	input := policeUKHeader + "\n" + pukASBRow + "\n" + pukASBRow + "\n" + other + "\n" + pukASBRow + "\n"
	ids := func() []string {
		var ids []string
		for _, r := range readAllRecords(t, input) {
			if r.Reason != "" {
				t.Fatalf("Next() reason = %q; want \"\"", r.Reason)
			}
			ids = append(ids, r.Incident.SourceID)
		}
		return ids
	}
	first := ids()
	want := []string{pukASBWant(pukASBRow, "1"), pukASBWant(pukASBRow, "2"), pukASBWant(other, "1"), pukASBWant(pukASBRow, "3")}
	if !reflect.DeepEqual(first, want) {
		t.Errorf("SourceIDs = %q; want %q", first, want)
	}
	seen := map[string]bool{}
	for _, id := range first {
		if seen[id] {
			t.Errorf("SourceID %q given twice; identical rows must not collapse", id)
		}
		seen[id] = true
	}
	if again := ids(); !reflect.DeepEqual(again, first) {
		t.Errorf("second parse SourceIDs = %q; want the same as the first, %q", again, first)
	}
	// Padding is normalised away: the same row with spaces, alone in a file,
	// is the first occurrence of the same key.
	padded := strings.ReplaceAll(pukASBRow, ",", " , ")
	recs := readAllRecords(t, policeUKHeader+"\n"+padded+"\n")
	if len(recs) != 1 || recs[0].Incident.SourceID != first[0] {
		t.Errorf("padded row SourceID = %+v; want %q", recs, first[0])
	}
}

func TestPoliceUKReaderIOError(t *testing.T) {
	boom := errors.New("disk on fire")
	if _, err := NewPoliceUKReader(iotest.ErrReader(boom)); !errors.Is(err, boom) {
		t.Errorf("NewPoliceUKReader() error = %v; want %v", err, boom)
	}
	r := io.MultiReader(strings.NewReader(policeUKHeader+"\n"+pukGoodRow+"\n"+pukGoodRow), iotest.ErrReader(boom))
	p, err := NewPoliceUKReader(iotest.OneByteReader(r))
	if err != nil {
		t.Fatalf("NewPoliceUKReader() error = %v", err)
	}
	if rec, err := p.Next(); err != nil || rec.Reason != "" {
		t.Fatalf("Next() = %+v, %v; want a good row", rec, err)
	}
	for i := 0; i < 2; i++ {
		if _, err := p.Next(); !errors.Is(err, boom) {
			t.Errorf("Next() error = %v; want %v", err, boom)
		}
	}
}

// policeUKDataDir holds the real police.uk files, beside the checkout.
const policeUKDataDir = "../../../shared/data/police-uk"

func policeUKRealFiles(tb testing.TB) []string {
	tb.Helper()
	files, err := filepath.Glob(filepath.Join(policeUKDataDir, "*.csv"))
	if err != nil || len(files) == 0 {
		if os.Getenv("CI") != "" {
			tb.Fatalf("no police.uk files in %s (CI is set, so the real data must be present)", policeUKDataDir)
		}
		tb.Skipf("no police.uk files in %s", policeUKDataDir)
	}
	return files
}

// pukCSVCounts is what encoding/csv, reading a whole file on its own, says the
// reader must find in it.
type pukCSVCounts struct {
	lines     []int    // line each data row starts on
	locations []string // trimmed Location of each row
	noLoc     int      // rows with an empty Longitude
	crimeIDs  map[string]bool
}

func countPoliceUKWithCSV(t *testing.T, path string) pukCSVCounts {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cr := csv.NewReader(f)
	hdr, err := cr.Read()
	if err != nil {
		t.Fatalf("encoding/csv: %v", err)
	}
	col := map[string]int{}
	for i, n := range hdr {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(n, "\ufeff")))] = i
	}
	e := pukCSVCounts{crimeIDs: map[string]bool{}}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			return e
		}
		if err != nil {
			t.Fatalf("encoding/csv: %v", err)
		}
		line, _ := cr.FieldPos(0)
		e.lines = append(e.lines, line)
		e.locations = append(e.locations, strings.TrimSpace(rec[col["location"]]))
		if strings.TrimSpace(rec[col["longitude"]]) == "" {
			e.noLoc++
		}
		if id := strings.TrimSpace(rec[col["crime id"]]); id != "" {
			e.crimeIDs[id] = true
		}
	}
}

func TestPoliceUKReaderRealFiles(t *testing.T) {
	for _, path := range policeUKRealFiles(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			want := countPoliceUKWithCSV(t, path)
			parse := func() []Record {
				f, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer f.Close()
				p, err := NewPoliceUKReader(f)
				if err != nil {
					t.Fatalf("NewPoliceUKReader() error = %v", err)
				}
				var recs []Record
				for {
					rec, err := p.Next()
					if err == io.EOF {
						return recs
					}
					if err != nil {
						t.Fatalf("Next() error = %v", err)
					}
					recs = append(recs, rec)
				}
			}
			recs := parse()
			if len(recs) != len(want.lines) {
				t.Fatalf("Next() gave %d records; encoding/csv counts %d rows", len(recs), len(want.lines))
			}
			noLoc, withID, rejected, dupRaw := 0, 0, 0, 0
			ids := map[string]int{}
			rawASB := map[string]bool{}
			for i, r := range recs {
				if r.Reason != "" {
					rejected++
					if rejected <= 5 {
						t.Errorf("line %d: Next() reason = %q; want \"\" (raw %q)", r.Line, r.Reason, r.Raw)
					}
					continue
				}
				if r.Line != want.lines[i] {
					t.Errorf("record %d: Next() line = %d; encoding/csv says %d", i, r.Line, want.lines[i])
				}
				if r.Incident.LocationText != want.locations[i] {
					t.Errorf("line %d: LocationText = %q; encoding/csv says %q", r.Line, r.Incident.LocationText, want.locations[i])
				}
				if !r.Incident.HasPoint {
					noLoc++
				}
				id := r.Incident.SourceID
				if prev, dup := ids[id]; dup {
					t.Errorf("line %d: SourceID %q already given on line %d", r.Line, id, prev)
				}
				ids[id] = r.Line
				if strings.HasPrefix(id, "asb-") {
					if rawASB[r.Raw] {
						dupRaw++
					}
					rawASB[r.Raw] = true
				} else {
					withID++
					if !want.crimeIDs[id] {
						t.Errorf("line %d: SourceID %q is not a Crime ID of the file", r.Line, id)
					}
				}
			}
			if rejected != 0 {
				t.Errorf("%d rows rejected; want 0", rejected)
			}
			if noLoc != want.noLoc {
				t.Errorf("%d rows without a point; encoding/csv counts %d with empty Longitude", noLoc, want.noLoc)
			}
			if withID != len(want.crimeIDs) {
				t.Errorf("%d rows keyed by Crime ID; encoding/csv counts %d distinct Crime IDs", withID, len(want.crimeIDs))
			}
			again := parse()
			for i := range recs {
				if again[i].Incident.SourceID != recs[i].Incident.SourceID {
					t.Fatalf("line %d: second parse SourceID = %q; want %q", recs[i].Line, again[i].Incident.SourceID, recs[i].Incident.SourceID)
				}
			}
			t.Logf("%d rows, %d without a point, %d Crime IDs, %d exact-duplicate rows without one", len(recs), noLoc, withID, dupRaw)
		})
	}
}

func FuzzPoliceUKReader(f *testing.F) {
	h := policeUKHeader + "\n"
	for _, s := range []string{
		pukGoodRow,
		pukASBRow + "\n" + pukASBRow,
		pukRowWith(colLocation, `"unbalanced`) + "\n" + pukGoodRow,
		pukRowWith(colLocation, `"a""b",""`) + "\n" + pukGoodRow,
		pukRowWith(colLocation, "\"multi\r\nline\"") + "\r\n" + pukGoodRow,
		`"` + "\n" + `"` + "\n" + `""""` + "\n\"\n",
		pukRowWith(colContext, "a\x00b"),
		pukRowWith(colLocation, strings.Repeat("y", 70000)) + "\n" + pukGoodRow,
		pukRowWith(colLocation, "\""+strings.Repeat("z\n", 60)),
		pukRowWith(colLocation, "\xff\xfe\xc3"),
		",,,,,,,,,,,",
		",,,,,,,,,,,,,,,,,,,,,,",
		pukRowWith(colLongitude, "NaN"),
		pukRowWith(colLatitude, "1e309"),
		pukRowWith(colLongitude, "-0"),
		pukRowWith(colCrimeType, "---"),
		pukRowWith(colMonth, "0000-00"),
		"\r\r\n\r",
	} {
		f.Add([]byte(h + s))
	}
	f.Add([]byte("\ufeff" + strings.ReplaceAll(h+pukGoodRow+"\n", "\n", "\r\n")))
	f.Add([]byte("Month,Reported by,Falls within,Easting,Northing,Location,Crime type,Context\n"))
	f.Add([]byte(""))
	// The start of a real file, when there is one, gives the fuzzer real rows.
	if files, _ := filepath.Glob(filepath.Join(policeUKDataDir, "*.csv")); len(files) > 0 {
		if b, err := os.ReadFile(files[len(files)-1]); err == nil {
			f.Add(b[:min(len(b), 4000)])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := NewPoliceUKReader(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, ErrNotPoliceUK) && !errors.Is(err, ErrOldLayout) {
				t.Fatalf("NewPoliceUKReader() error = %v; want ErrNotPoliceUK or ErrOldLayout", err)
			}
			return
		}
		maxRecords := bytes.Count(data, []byte("\n")) + 1
		prev := 1
		for n := 0; ; n++ {
			if n > maxRecords {
				t.Fatalf("Next() gave more records than the input has lines")
			}
			rec, err := p.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("Next() error = %v; want only io.EOF from a bytes.Reader", err)
			}
			if rec.Line < 2 || rec.Line <= prev {
				t.Fatalf("Next() line = %d after line %d; want >= 2 and increasing", rec.Line, prev)
			}
			prev = rec.Line
			if len(rec.Raw) > maxRecordBytes+maxRecordLines {
				t.Fatalf("line %d: Raw is %d bytes; the reader must stay bounded", rec.Line, len(rec.Raw))
			}
			if rec.Reason == "" {
				checkPoliceUKIncident(t, rec, p.width)
			}
		}
	})
}

// checkPoliceUKIncident asserts what Reason == "" promises about a Record.
func checkPoliceUKIncident(t *testing.T, rec Record, width int) {
	t.Helper()
	in := rec.Incident
	if in.Source != SourcePoliceUK || in.SourceID == "" || in.Category == "" {
		t.Fatalf("line %d: good record with Source %q, SourceID %q, Category %q", rec.Line, in.Source, in.SourceID, in.Category)
	}
	if !in.Occurred.To.After(in.Occurred.From) {
		t.Fatalf("line %d: Occurred %v is empty", rec.Line, in.Occurred)
	}
	if in.HasPoint {
		if err := geo.CheckLonLat(in.Point); err != nil {
			t.Fatalf("line %d: good record with %v", rec.Line, err)
		}
	} else if in.Point != (orb.Point{}) {
		t.Fatalf("line %d: Point %v without HasPoint", rec.Line, in.Point)
	}
	for _, s := range []string{in.SourceID, in.Category, in.LocationText, in.LSOACode, in.LSOAName, in.Outcome, in.Context, in.ReportedBy, in.FallsWithin} {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 || s != strings.TrimSpace(s) {
			t.Fatalf("line %d: good record has field %q", rec.Line, s)
		}
	}
	// encoding/csv must agree that Raw is exactly one well-formed row.
	cr := csv.NewReader(strings.NewReader(rec.Raw))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil || len(rows) != 1 || len(rows[0]) != width {
		t.Fatalf("line %d: encoding/csv reads good raw %q as %d rows, %v", rec.Line, rec.Raw, len(rows), err)
	}
}

func BenchmarkPoliceUKReader(b *testing.B) {
	files := policeUKRealFiles(b)
	data, err := os.ReadFile(files[len(files)-1])
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(data)))
	rows := 0
	for b.Loop() {
		p, err := NewPoliceUKReader(bytes.NewReader(data))
		if err != nil {
			b.Fatal(err)
		}
		for {
			rec, err := p.Next()
			if err == io.EOF {
				break
			}
			if err != nil || rec.Reason != "" {
				b.Fatalf("Next() = %q, %v", rec.Reason, err)
			}
			rows++
		}
	}
	b.ReportMetric(float64(rows)/b.Elapsed().Seconds(), "rows/s")
}
