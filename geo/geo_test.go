package geo_test

import (
	"errors"
	"math"
	"testing"
	"time"

	"github.com/paulmach/orb"

	"github.com/harborough-csp/hotspot/geo"
)

func TestParseMonth(t *testing.T) {
	tests := []struct {
		in       string
		from, to string
		ok       bool
	}{
		{"2024-01", "2024-01-01", "2024-02-01", true},
		{"2018-12", "2018-12-01", "2019-01-01", true},
		{"2024-02", "2024-02-01", "2024-03-01", true},
		{"2024-13", "", "", false},
		{"2024-00", "", "", false},
		{"2024-1", "", "", false},
		{"24-01", "", "", false},
		{"2024/01", "", "", false},
		{"2024-01-15", "", "", false},
		{"1899-12", "", "", false},
		{"", "", "", false},
		{" 2024-01", "", "", false},
	}
	for _, tt := range tests {
		p, err := geo.ParseMonth(tt.in)
		if !tt.ok {
			if !errors.Is(err, geo.ErrBadMonth) {
				t.Errorf("ParseMonth(%q) error = %v; want ErrBadMonth", tt.in, err)
			}
			continue
		}
		if err != nil || p.From.Format(time.DateOnly) != tt.from || p.To.Format(time.DateOnly) != tt.to || p.Month() != tt.in {
			t.Errorf("ParseMonth(%q) = %v..%v, %v; want %s..%s", tt.in, p.From, p.To, err, tt.from, tt.to)
		}
	}
}

func FuzzParseMonth(f *testing.F) {
	for _, s := range []string{"2024-01", "9999-99", "0000-00", "2024-1\x00", "２０２４-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := geo.ParseMonth(s)
		if err != nil {
			return
		}
		if !p.To.After(p.From) || p.Month() != s || p.From.Day() != 1 {
			t.Fatalf("ParseMonth(%q) = %v..%v: not the month it names", s, p.From, p.To)
		}
	})
}

func TestCategorySlug(t *testing.T) {
	tests := []struct {
		name, slug string
		known      bool
	}{
		{"Anti-social behaviour", "anti-social-behaviour", true},
		{"Violence and sexual offences", "violent-crime", true},
		{"Criminal damage and arson", "criminal-damage-arson", true},
		{" shoplifting ", "shoplifting", true},
		{"Fly-tipping", "fly-tipping", false},
		{"Dog fouling (repeat!)", "dog-fouling-repeat", false},
		{"???", "", false},
	}
	for _, tt := range tests {
		slug, known := geo.CategorySlug(tt.name)
		if slug != tt.slug || known != tt.known {
			t.Errorf("CategorySlug(%q) = %q, %v; want %q, %v", tt.name, slug, known, tt.slug, tt.known)
		}
	}
	// Every police.uk category's slug is its own slugified form or one of
	// police.uk's two irregular slugs, and all are distinct.
	seen := map[string]bool{}
	for _, c := range geo.PoliceUKCategories() {
		if seen[c.Slug] {
			t.Errorf("slug %q listed twice", c.Slug)
		}
		seen[c.Slug] = true
	}
}

func TestCheckLonLat(t *testing.T) {
	tests := []struct {
		p  orb.Point
		ok bool
	}{
		{orb.Point{-0.92, 52.48}, true},
		{orb.Point{-1.89, 52.50}, true}, // Birmingham: other forces' areas are kept
		{orb.Point{180, 90}, true},
		{orb.Point{181, 0}, false},
		{orb.Point{0, -91}, false},
		{orb.Point{math.NaN(), 0}, false},
		{orb.Point{0, math.Inf(1)}, false},
	}
	for _, tt := range tests {
		err := geo.CheckLonLat(tt.p)
		if (err == nil) != tt.ok || (err != nil && !errors.Is(err, geo.ErrBadCoordinate)) {
			t.Errorf("CheckLonLat(%v) = %v; want ok %v", tt.p, err, tt.ok)
		}
	}
}
