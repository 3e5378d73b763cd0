package tiles_test

import (
	"errors"
	"net/url"
	"testing"

	"github.com/harborough-csp/hotspot/tiles"
)

func TestParseHotspotFilter(t *testing.T) {
	tests := []struct {
		q    string
		ok   bool
		want tiles.HotspotFilter
	}{
		{"", true, tiles.HotspotFilter{Location: "harborough-district", Window: "last-12", Method: "gi-star"}},
		{"location=lutterworth&priority=3&window=last-1&method=kde", true, tiles.HotspotFilter{Location: "lutterworth", Priority: 3, Window: "last-1", Method: "kde"}},
		{"priority=all", true, tiles.HotspotFilter{Location: "harborough-district", Window: "last-12", Method: "gi-star"}},
		{"priority=6", false, tiles.HotspotFilter{}},
		{"priority=3&priority=4", false, tiles.HotspotFilter{}},
		{"window=forever", false, tiles.HotspotFilter{}},
		{"method=hdbscan", false, tiles.HotspotFilter{}},
		{"location=Lutterworth", false, tiles.HotspotFilter{}},
		{"location=a'b", false, tiles.HotspotFilter{}},
		{"from=2024-01", false, tiles.HotspotFilter{}},
	}
	for _, tt := range tests {
		q, _ := url.ParseQuery(tt.q)
		got, err := tiles.ParseHotspotFilter(q)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, tiles.ErrBadFilter)) {
			t.Errorf("ParseHotspotFilter(%q) error = %v; want ok %v", tt.q, err, tt.ok)
			continue
		}
		if tt.ok && got != tt.want {
			t.Errorf("ParseHotspotFilter(%q) = %+v; want %+v", tt.q, got, tt.want)
		}
	}
}

// FuzzParseHotspotFilter: any query string is either refused with
// ErrBadFilter or gives a filter every field of which is one the engine
// stores.
func FuzzParseHotspotFilter(f *testing.F) {
	for _, s := range []string{"", "location=lutterworth&priority=all", "window=last-3&method=kde", "priority=-1", "location=%00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := url.ParseQuery(s)
		if err != nil {
			return
		}
		got, err := tiles.ParseHotspotFilter(q)
		if err != nil {
			if !errors.Is(err, tiles.ErrBadFilter) {
				t.Fatalf("ParseHotspotFilter(%q) error %v is not ErrBadFilter", s, err)
			}
			return
		}
		if got.Priority < 0 || got.Priority > 5 || (got.Window != "last-1" && got.Window != "last-3" && got.Window != "last-12") ||
			(got.Method != "gi-star" && got.Method != "kde") || got.Location == "" || len(got.Location) > 64 {
			t.Fatalf("ParseHotspotFilter(%q) = %+v", s, got)
		}
	})
}
