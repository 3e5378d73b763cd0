package ingest_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/harborough-csp/hotspot/geo/ingest"
)

func lon(y int, mo time.Month, d, h, mi int) time.Time {
	return time.Date(y, mo, d, h, mi, 0, 0, ingest.London)
}

type span = [2]time.Time

func TestParseOccurred(t *testing.T) {
	day := func(y int, mo time.Month, d int) [2]time.Time {
		return [2]time.Time{lon(y, mo, d, 0, 0), lon(y, mo, d+1, 0, 0)}
	}
	minute := func(y int, mo time.Month, d, h, mi int) [2]time.Time {
		return [2]time.Time{lon(y, mo, d, h, mi), lon(y, mo, d, h, mi+1)}
	}
	for _, tt := range []struct {
		in   string
		want [2]time.Time
	}{
		{"2026-03-14", day(2026, 3, 14)},
		{"14/03/2026", day(2026, 3, 14)},
		{"14/3/2026", day(2026, 3, 14)},
		{"14/03/26", day(2026, 3, 14)},
		{"14-03-2026", day(2026, 3, 14)},
		{"14.03.2026", day(2026, 3, 14)},
		{"14 Mar 2026", day(2026, 3, 14)},
		{"14th March 2026", day(2026, 3, 14)},
		{"  Sat 14 March 2026 ", day(2026, 3, 14)},
		{"14-Mar-26", day(2026, 3, 14)},
		{"March 14, 2026", day(2026, 3, 14)},
		{"01/02/2026", day(2026, 2, 1)}, // 1 February: day first, never US
		{"14/03/2026 14:05", minute(2026, 3, 14, 14, 5)},
		{"14/03/2026 14.05", minute(2026, 3, 14, 14, 5)},
		{"14/03/2026 2pm", minute(2026, 3, 14, 14, 0)},
		{"14/03/2026 2:30 PM", minute(2026, 3, 14, 14, 30)},
		{"14/03/2026 12am", minute(2026, 3, 14, 0, 0)},
		{"14/03/2026 noon", minute(2026, 3, 14, 12, 0)},
		{"14 Mar 2026 at 9am", minute(2026, 3, 14, 9, 0)},
		{"22:00 14/03/2026", minute(2026, 3, 14, 22, 0)},
		{"2pm on 14 March 2026", minute(2026, 3, 14, 14, 0)},
		{"2026-03-14 14:05:30", span{time.Date(2026, 3, 14, 14, 5, 30, 0, ingest.London), time.Date(2026, 3, 14, 14, 5, 31, 0, ingest.London)}},
		// Summer time: 14:05 in July is 13:05 UTC.
		{"14/07/2026 14:05", span{time.Date(2026, 7, 14, 13, 5, 0, 0, time.UTC), time.Date(2026, 7, 14, 13, 6, 0, 0, time.UTC)}},
		{"2026-07-14T14:05:00Z", span{time.Date(2026, 7, 14, 14, 5, 0, 0, time.UTC), time.Date(2026, 7, 14, 14, 5, 1, 0, time.UTC)}},
		{"2026-07-14T14:05:00-02:00", span{time.Date(2026, 7, 14, 16, 5, 0, 0, time.UTC), time.Date(2026, 7, 14, 16, 5, 1, 0, time.UTC)}},
		{"2026-07-14T14:05+01:00", span{time.Date(2026, 7, 14, 13, 5, 0, 0, time.UTC), time.Date(2026, 7, 14, 13, 6, 0, 0, time.UTC)}},
		// Spans: overnight, with a full end, between days.
		{"14/03/2026 22:00-02:00", span{lon(2026, 3, 14, 22, 0), lon(2026, 3, 15, 2, 0)}},
		{"14/03/2026 22:00 - 23:30", span{lon(2026, 3, 14, 22, 0), lon(2026, 3, 14, 23, 30)}},
		{"14/03/2026 10pm to 2am", span{lon(2026, 3, 14, 22, 0), lon(2026, 3, 15, 2, 0)}},
		{"14/03/2026 22:00 - 15/03/2026 02:00", span{lon(2026, 3, 14, 22, 0), lon(2026, 3, 15, 2, 0)}},
		{"14/03/2026 - 16/03/2026", span{lon(2026, 3, 14, 0, 0), lon(2026, 3, 17, 0, 0)}},
		{"14/03/2026 18:00-24:00", span{lon(2026, 3, 14, 18, 0), lon(2026, 3, 15, 0, 0)}},
		// Whole months.
		{"March 2026", span{lon(2026, 3, 1, 0, 0), lon(2026, 4, 1, 0, 0)}},
		{"mar-2026", span{lon(2026, 3, 1, 0, 0), lon(2026, 4, 1, 0, 0)}},
		{"2026-03", span{lon(2026, 3, 1, 0, 0), lon(2026, 4, 1, 0, 0)}},
		{"03/2026", span{lon(2026, 3, 1, 0, 0), lon(2026, 4, 1, 0, 0)}},
	} {
		p, err := ingest.ParseOccurred(tt.in)
		if err != nil {
			t.Errorf("ParseOccurred(%q) error = %v", tt.in, err)
			continue
		}
		if !p.From.Equal(tt.want[0]) || !p.To.Equal(tt.want[1]) {
			t.Errorf("ParseOccurred(%q) = [%v, %v); want [%v, %v)", tt.in, p.From, p.To, tt.want[0], tt.want[1])
		}
	}
}

func TestParseOccurredRefuses(t *testing.T) {
	for _, in := range []string{
		"", "   ", "03/14/2026", "31/02/2026", "14/03/2026 25:00", "14/03/2026 13pm", "yesterday",
		"14/03-2026", "2026-13-01", "14/03/2026 14:05 blah", "22:00", "0000-01-01",
		"March 2026 - 02:00", "14/03/2026 24:00", "99/99/99",
	} {
		if p, err := ingest.ParseOccurred(in); err == nil {
			t.Errorf("ParseOccurred(%q) = %v; want an error", in, p)
		} else if !errors.Is(err, ingest.ErrBadDate) {
			t.Errorf("ParseOccurred(%q) error = %v; want ErrBadDate", in, err)
		}
	}
}

func TestParseOccurredRange(t *testing.T) {
	for _, tt := range []struct {
		from, to string
		want     [2]time.Time
	}{
		{"14/03/2026 22:00", "02:00", [2]time.Time{lon(2026, 3, 14, 22, 0), lon(2026, 3, 15, 2, 0)}},
		{"14/03/2026 22:00", "15/03/2026 01:30", [2]time.Time{lon(2026, 3, 14, 22, 0), lon(2026, 3, 15, 1, 30)}},
		{"14/03/2026", "16/03/2026", [2]time.Time{lon(2026, 3, 14, 0, 0), lon(2026, 3, 17, 0, 0)}},
		{"14/03/2026 09:00", "", [2]time.Time{lon(2026, 3, 14, 9, 0), lon(2026, 3, 14, 9, 1)}},
		{"March 2026", "April 2026", [2]time.Time{lon(2026, 3, 1, 0, 0), lon(2026, 5, 1, 0, 0)}},
	} {
		p, err := ingest.ParseOccurredRange(tt.from, tt.to)
		if err != nil {
			t.Errorf("ParseOccurredRange(%q, %q) error = %v", tt.from, tt.to, err)
			continue
		}
		if !p.From.Equal(tt.want[0]) || !p.To.Equal(tt.want[1]) {
			t.Errorf("ParseOccurredRange(%q, %q) = [%v, %v); want [%v, %v)", tt.from, tt.to, p.From, p.To, tt.want[0], tt.want[1])
		}
	}
	for _, tt := range [][2]string{{"", ""}, {"", "14/03/2026"}, {"15/03/2026", "14/03/2026"}, {"14/03/2026", "nope"}} {
		if _, err := ingest.ParseOccurredRange(tt[0], tt[1]); err == nil {
			t.Errorf("ParseOccurredRange(%q, %q) error = nil; want one", tt[0], tt[1])
		}
	}
}

// FuzzParseDate checks that no text crashes the date parser and that what
// it accepts is a real, non-empty period within the years it allows.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-03-14", "14/03/26", "14 Mar 2026 2pm", "14/03/2026 22:00-02:00", "March 2026",
		"2026-07-14T14:05:00-02:00", "31/12/2999 23:59-00:01", "24:00", "\x00", "14/03/2026 12.30.45.999 am", "sept 2026"} {
		f.Add(s, "")
	}
	f.Add("14/03/2026 22:00", "02:00")
	f.Fuzz(func(t *testing.T, a, b string) {
		p, err := ingest.ParseOccurred(a)
		if err == nil {
			if !p.To.After(p.From) {
				t.Fatalf("ParseOccurred(%q) = [%v, %v): empty", a, p.From, p.To)
			}
			if y := p.From.Year(); y < 1899 || y > 3000 {
				t.Fatalf("ParseOccurred(%q) year %d", a, y)
			}
		} else if !utf8.ValidString(err.Error()) && utf8.ValidString(a) {
			t.Fatalf("error text not UTF-8: %q", err.Error())
		}
		if p, err := ingest.ParseOccurredRange(a, b); err == nil && !p.To.After(p.From) {
			t.Fatalf("ParseOccurredRange(%q, %q) = [%v, %v): empty", a, b, p.From, p.To)
		}
	})
}

// TestJSONPartnerRecord checks the JSON record reader: strings, numbers
// and null are read; other values, non-objects and a field given twice
// (which encoding/json would silently resolve to the last) are refused
// with a reason.
func TestJSONPartnerRecord(t *testing.T) {
	tests := []struct {
		raw, reason string
	}{
		{`{"source_id": "A1", "occurred_at": "14/03/2026", "category": "ASB", "easting": 473401, "northing": 287452}`, ""},
		{`{"source_id": "A1", "occurred_at": "14/03/2026", "category": "ASB", "postcode": null}`, ""},
		{`{"source_id": "A1", "occurred_at": "14/03/2026", "category": "ASB", "category": "Graffiti"}`, `field "category" is given twice`},
		{`{"id": "A1", "date": "14/03/2026", "type": "ASB", "nested": {"x": 1}}`, "want a string, a number or null"},
		{`["A1"]`, "not a JSON object"},
		{`null`, "not a JSON object"},
	}
	for _, tt := range tests {
		_, reason := ingest.JSONPartnerRecord(json.RawMessage(tt.raw))
		if (tt.reason == "") != (reason == "") || !strings.Contains(reason, tt.reason) {
			t.Errorf("JSONPartnerRecord(%s) reason = %q; want %q", tt.raw, reason, tt.reason)
		}
	}
}
