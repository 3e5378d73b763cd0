package synth

import (
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo"
)

// ukOffset must agree with the time zone database's Europe/London for
// every hour the generator may use.
func TestUKOffset(t *testing.T) {
	london, err := time.LoadLocation("Europe/London")
	if err != nil {
		t.Skipf("no time zone database: %v", err)
	}
	for h := time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC); h.Year() < 2040; h = h.Add(time.Hour) {
		_, off := h.In(london).Zone()
		if got := ukOffset(h); got != time.Duration(off)*time.Second {
			t.Fatalf("ukOffset(%v) = %v; want %v", h, got, time.Duration(off)*time.Second)
		}
	}
}

// sunDown against the almanac: London's sunrise and sunset (UTC) on the
// solstices and equinoxes of 2024, moved for Market Harborough's 0.8°
// west (3 minutes later) and 1° north (about 6 minutes more night in
// December, less in June). That is good to a few minutes, so the check
// is a quarter of an hour either side.
func TestSunDown(t *testing.T) {
	tests := []struct {
		date            string
		sunrise, sunset string
	}{
		{"2024-12-21", "08:13", "15:50"},
		{"2024-06-20", "03:40", "20:30"},
		{"2024-03-20", "06:05", "18:17"},
		{"2024-09-22", "05:50", "18:01"},
	}
	for _, tt := range tests {
		for _, c := range []struct {
			clock string
			shift time.Duration
			down  bool
		}{
			{tt.sunrise, -15 * time.Minute, true}, {tt.sunrise, 15 * time.Minute, false},
			{tt.sunset, -15 * time.Minute, false}, {tt.sunset, 15 * time.Minute, true},
		} {
			at, err := time.Parse("2006-01-02 15:04", tt.date+" "+c.clock)
			if err != nil {
				t.Fatal(err)
			}
			at = at.Add(c.shift)
			if got := sunDown(at); got != c.down {
				t.Errorf("sunDown(%v) = %v; want %v", at, got, c.down)
			}
		}
	}
}

func TestProfilesCoverCategories(t *testing.T) {
	for _, c := range geo.PoliceUKCategories() {
		p := profiles[c.Slug]
		if p == nil {
			t.Errorf("no profile for %q", c.Slug)
			continue
		}
		if p.window > 0 && !(p.minWin > 0 && p.minWin < p.maxWin) {
			t.Errorf("%s: window %v to %v", c.Slug, p.minWin, p.maxWin)
		}
	}
	if len(profiles) != len(geo.PoliceUKCategories()) {
		t.Errorf("%d profiles; want one per police.uk category (%d)", len(profiles), len(geo.PoliceUKCategories()))
	}
	for _, c := range categoryMix {
		if profiles[c.text] == nil {
			t.Errorf("category mix names %q, which has no profile", c.text)
		}
	}
}

func TestStreetName(t *testing.T) {
	tests := []struct {
		in, want string
		place    bool
	}{
		{"On or near High Street", "High Street", false},
		{"On or near St Mary'S Road", "St Mary's Road", false},
		{"On or near Simon'S Orchard", "Simon's Orchard", false},
		{"On or near Supermarket", "Supermarket", true},
		{"On or near Sports/Recreation Area", "Sports/Recreation Area", true},
		{"On or near A4303", "A4303", true},
		{"On or near Abbey Street", "Abbey Street", false},
		{"On or near Bank Street", "Bank Street", false},
		{"On or near Magna Park", "Magna Park", false},
		{"On or near ", "", false},
		{"No Location", "", false},
		{"12 High Street, Market Harborough", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		got := streetName(tt.in)
		if got != tt.want {
			t.Errorf("streetName(%q) = %q; want %q", tt.in, got, tt.want)
		}
		if got != "" && isPlaceType(got) != tt.place {
			t.Errorf("isPlaceType(%q) = %v; want %v", got, !tt.place, tt.place)
		}
	}
}

func TestNearestPlace(t *testing.T) {
	for _, p := range places {
		// A point 100 m north of a place is nearest to it, unless another
		// place lies within 200 m (Market Harborough's centre and town).
		q := offset(p.point, 0, 100)
		if got := nearestPlace(q); places[got].town != p.town {
			t.Errorf("nearestPlace(100 m north of %s) = %s; want a place in %s", p.name, places[got].name, p.town)
		}
	}
}
