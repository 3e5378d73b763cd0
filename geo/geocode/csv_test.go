package geocode_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/geocode"
)

// parseOnly places nothing: it answers from Parse alone, so the CSV
// reader and writer can be fuzzed without a database.
type parseOnly struct{}

func (parseOnly) Geocode(_ context.Context, q geocode.Query) (geocode.Result, error) {
	p := geocode.Parse(q.Text)
	switch p.Kind {
	case geocode.KindNone:
		return geocode.Result{Status: geocode.StatusNoLocation, Reason: p.Why}, nil
	case geocode.KindUnknown:
		return geocode.Result{Status: geocode.StatusNotUnderstood, Reason: p.Why}, nil
	}
	return geocode.Result{Status: geocode.StatusMatched, Best: geocode.Candidate{Method: p.Kind.String(), Label: q.Text, Confidence: 1, Lat: 52, Lon: -1}, Reason: "parsed"}, nil
}

func TestGeocodeCSVShape(t *testing.T) {
	in := "\ufeffid,Address,lat\n" +
		"1,\"12 High St, Market Harborough LE16 7NJ\",x\n" +
		"2,n/a,y\n" +
		"3\n" +
		"4,\"SP 735 873\",z,extra\n" +
		"5,\"unterminated, read to the end as LazyQuotes does\n"
	var out bytes.Buffer
	sum, err := geocode.GeocodeCSV(context.Background(), parseOnly{}, strings.NewReader(in), &out, geocode.CSVOptions{Column: "address", Workers: 3})
	if err != nil {
		t.Fatal(err)
	}
	recs, err := readAll(out.String())
	if err != nil {
		t.Fatalf("output is not CSV: %v\n%s", err, out.String())
	}
	wantHead := "id,Address,lat,geocode_lat,lon,easting,northing,confidence,method,matched,status,reason"
	if got := strings.Join(recs[0], ","); got != wantHead {
		t.Errorf("header %q; want %q", got, wantHead)
	}
	if sum.Rows != 5 || len(recs) != 6 {
		t.Fatalf("rows %d, output records %d; want 5 and 6\n%s", sum.Rows, len(recs), out.String())
	}
	wantStatus := []string{"matched", "no-location", "not-understood", "matched", "matched"}
	for i, r := range recs[1:] {
		if got := r[len(r)-2]; got != wantStatus[i] {
			t.Errorf("row %d status %q; want %q (%v)", i+1, got, wantStatus[i], r)
		}
		if r[0] != strings.Split("1,2,3,4,5", ",")[i] {
			t.Errorf("row %d id %q: rows out of order or changed", i+1, r[0])
		}
	}
	if recs[1][2] != "x" || recs[4][3] != "extra" {
		t.Errorf("passed-through columns changed: %v, %v", recs[1], recs[4])
	}
	if sum.ByStatus[geocode.StatusNotUnderstood] != 1 || sum.ByStatus[geocode.StatusMatched] != 3 {
		t.Errorf("ByStatus = %v", sum.ByStatus)
	}
	for _, bad := range []string{"", "id,name\n1,x\n"} {
		if _, err := geocode.GeocodeCSV(context.Background(), parseOnly{}, strings.NewReader(bad), io.Discard, geocode.CSVOptions{}); !errors.Is(err, geocode.ErrNoColumn) {
			t.Errorf("GeocodeCSV(%q) = %v; want ErrNoColumn", bad, err)
		}
	}
}

func readAll(s string) ([][]string, error) {
	r := csv.NewReader(strings.NewReader(s))
	r.FieldsPerRecord = -1
	return r.ReadAll()
}

// FuzzGeocodeCSV: any input either is refused whole (no header with the
// column) or gives valid CSV with exactly one record per row read, each
// at least as wide as the header, in the order read.
func FuzzGeocodeCSV(f *testing.F) {
	for _, s := range []string{
		"address\nLE16 7NJ\n",
		"id,address\n1,\"a, b\"\n2,\n3\n",
		"address\n\"unterminated\n",
		"ADDRESS,x\r\n\"SP 735 873\",1\r\n",
		"address\n\x00\xff\n",
		"address\n" + strings.Repeat("x,", 1000) + "\n",
		"a\"b,address\n1,2\n",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		sum, err := geocode.GeocodeCSV(context.Background(), parseOnly{}, strings.NewReader(in), &out, geocode.CSVOptions{Workers: 2})
		if err != nil {
			if out.Len() != 0 {
				t.Fatalf("error %v after writing %q", err, out.String())
			}
			return
		}
		recs, err := readAll(out.String())
		if err != nil {
			t.Fatalf("output is not CSV: %v\n%q", err, out.String())
		}
		if len(recs) != sum.Rows+1 {
			t.Fatalf("%d records for %d rows", len(recs), sum.Rows)
		}
		n := 0
		for _, c := range sum.ByStatus {
			n += c
		}
		if n != sum.Rows {
			t.Fatalf("statuses add to %d; rows %d", n, sum.Rows)
		}
		for _, r := range recs[1:] {
			if len(r) < len(recs[0]) {
				t.Fatalf("record %v narrower than the header %v", r, recs[0])
			}
		}
	})
}
