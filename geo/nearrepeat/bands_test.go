package nearrepeat_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/nearrepeat"
)

func TestParseDistanceBands(t *testing.T) {
	tests := []struct {
		in      string
		want    []float64
		wantErr string
	}{
		{"200,400,800,1600", []float64{200, 400, 800, 1600}, ""},
		{" 200m, 0.4km ,1.6KM ", []float64{200, 400, 1600}, ""},
		{"150", []float64{150}, ""},
		{"", nil, "empty"},
		{"200,,400", nil, "empty item"},
		{"400,200", nil, "must increase"},
		{"200,200", nil, "must increase"},
		{"0,200", nil, "must be above"},
		{"-5", nil, "must be above"},
		{"0.4", nil, "must be above"},
		{"200,abc", nil, "not a distance"},
		{"NaN", nil, "not a distance"},
		{"Inf", nil, "not a distance"},
		{"1e9", nil, "at most"},
		{"10d", nil, "not a distance"},
		{strings.Repeat("1,", 30) + "1", nil, "at most 20"},
	}
	for _, tc := range tests {
		got, err := nearrepeat.ParseDistanceBands(tc.in)
		if tc.wantErr != "" {
			if err == nil || !errors.Is(err, nearrepeat.ErrBadBands) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseDistanceBands(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseDistanceBands(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestParseTimeBands(t *testing.T) {
	tests := []struct {
		in      string
		want    nearrepeat.TimeBands
		wantErr string
	}{
		{"15d,29d,57d", nearrepeat.TimeBands{Unit: nearrepeat.Days, Edges: []int{15, 29, 57}}, ""},
		{"1mo, 2mo,4MO", nearrepeat.TimeBands{Unit: nearrepeat.Months, Edges: []int{1, 2, 4}}, ""},
		{"15", nearrepeat.TimeBands{}, "needs a unit"},
		{"15d,2mo", nearrepeat.TimeBands{}, "mixes units"},
		{"0d", nearrepeat.TimeBands{}, "from 1"},
		{"29d,15d", nearrepeat.TimeBands{}, "must increase"},
		{"1.5mo", nearrepeat.TimeBands{}, "whole number"},
		{"121mo", nearrepeat.TimeBands{}, "to 120"},
		{"d", nearrepeat.TimeBands{}, "whole number"},
		{"", nearrepeat.TimeBands{}, "empty"},
	}
	for _, tc := range tests {
		got, err := nearrepeat.ParseTimeBands(tc.in)
		if tc.wantErr != "" {
			if err == nil || !errors.Is(err, nearrepeat.ErrBadBands) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseTimeBands(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseTimeBands(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func TestBandLabels(t *testing.T) {
	db := nearrepeat.DefaultDistanceBands()
	var got []string
	for k := range db.Len() {
		got = append(got, db.Label(k))
	}
	if want := []string{"same point", "0-200 m", "200-400 m", "400-800 m", "800-1600 m", ">=1600 m"}; !reflect.DeepEqual(got, want) {
		t.Errorf("distance labels = %q; want %q", got, want)
	}
	got = nil
	for _, tb := range []nearrepeat.TimeBands{nearrepeat.DefaultDayBands(), nearrepeat.DefaultMonthBands()} {
		for k := range tb.Len() {
			got = append(got, tb.Label(k))
		}
	}
	if want := []string{"0-14 d", "15-28 d", "29-56 d", "57-112 d", ">=113 d", "same month", "1 mo", "2-3 mo", ">=4 mo"}; !reflect.DeepEqual(got, want) {
		t.Errorf("time labels = %q; want %q", got, want)
	}
	for _, c := range []struct {
		d    float64
		want int
	}{{0, 0}, {0.49, 0}, {0.5, 1}, {199.9, 1}, {200, 2}, {1599, 4}, {1600, 5}, {1e6, 5}} {
		if got := db.Band(c.d); got != c.want {
			t.Errorf("Band(%g) = %d; want %d", c.d, got, c.want)
		}
	}
}

// FuzzParseBands: the parsers never panic, and what they accept is valid
// and survives a round trip through String.
func FuzzParseBands(f *testing.F) {
	for _, s := range []string{"200,400,800,1600", "15d,29d,57d", "1mo,2mo,4mo", "0.4km", "", ",", "1e308", "-0", "NaN", "9223372036854775808d", "1mo,1d", "\x00", "２００", "200 ,\t400"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if edges, err := nearrepeat.ParseDistanceBands(s); err == nil {
			db := nearrepeat.DistanceBands{Edges: edges}
			if err := db.Validate(); err != nil {
				t.Fatalf("ParseDistanceBands(%q) = %v, which fails Validate: %v", s, edges, err)
			}
			again, err := nearrepeat.ParseDistanceBands(db.String())
			if err != nil || !reflect.DeepEqual(again, edges) {
				t.Fatalf("round trip of %q: %v, %v; want %v", s, again, err, edges)
			}
		} else if !errors.Is(err, nearrepeat.ErrBadBands) {
			t.Fatalf("ParseDistanceBands(%q) error %v does not wrap ErrBadBands", s, err)
		}
		if tb, err := nearrepeat.ParseTimeBands(s); err == nil {
			if err := tb.Validate(); err != nil {
				t.Fatalf("ParseTimeBands(%q) = %v, which fails Validate: %v", s, tb, err)
			}
			again, err := nearrepeat.ParseTimeBands(tb.String())
			if err != nil || !reflect.DeepEqual(again, tb) {
				t.Fatalf("round trip of %q: %v, %v; want %v", s, again, err, tb)
			}
		} else if !errors.Is(err, nearrepeat.ErrBadBands) {
			t.Fatalf("ParseTimeBands(%q) error %v does not wrap ErrBadBands", s, err)
		}
	})
}
