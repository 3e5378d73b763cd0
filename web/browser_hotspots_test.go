package web_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/harborough-csp/hotspot/geo/auth"
)

// TestBrowserHotspots opens the map as an anonymous visitor, who gets the
// public hot cells (counts from the anonymised data, small ones withheld),
// and as an analyst, who gets the engine's hotspots with their numbers and
// can change the method and place; the lists and the map layer follow
// each choice, and nothing goes wrong in the console.
func TestBrowserHotspots(t *testing.T) {
	b := newBrowser(t)
	ts, pool := newPublicFixture(t)

	// The public: hot cells from /api/public/hotspots only.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the public hot spots", `window.hotspot && window.hotspot.hotspots && window.hotspot.hotspots.loads > 0`, 30*time.Second)
	mode, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`window.hotspot.hotspots.mode`))
	if err != nil || mode != "public" {
		t.Fatalf("anonymous hotspot mode = %q, %v; want public", mode, err)
	}
	b.waitFor(t, "public hot cells listed", `window.hotspot.hotspots.features > 0 && document.querySelectorAll('#hotspot-list li').length === window.hotspot.hotspots.features`, 30*time.Second)
	if r := b.Responses("/api/hotspots"); len(r) > 0 {
		t.Errorf("the public page asked for the staff hotspots: %v", r)
	}
	if r := b.Responses("/api/public/hotspots"); len(r) == 0 {
		t.Error("the public page never asked for /api/public/hotspots")
	}
	text, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("hotspot-list")))
	if err != nil || !strings.Contains(text, "confidence") || strings.Contains(text, "incidents") {
		t.Errorf("public hotspot list = %q, %v; want confidence and crime counts, no staff numbers", text, err)
	}
	if n, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#hotspot-method').length`)); err != nil || n != 0 {
		t.Errorf("the public view offers a method choice (%d, %v)", n, err)
	}

	// An analyst: the engine's hotspots with their numbers.
	b.signInThroughForm(t, ts.URL, "test-analyst", ensureUser(t, pool, "test-analyst", auth.Analyst))
	b.waitFor(t, "the analyst's hotspots", `window.hotspot.hotspots && window.hotspot.hotspots.mode === 'staff' && window.hotspot.hotspots.loads > 0`, 30*time.Second)
	b.waitFor(t, "hotspots listed", `window.hotspot.hotspots.features > 0 && document.querySelectorAll('#hotspot-list li').length === window.hotspot.hotspots.features`, 30*time.Second)
	text, err = chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("hotspot-list")))
	if err != nil || !strings.Contains(text, "incidents") || !strings.Contains(text, "% of the place") {
		t.Errorf("analyst hotspot list = %q, %v; want incidents and share of the place", text, err)
	}
	// KDE, then a named place: each change reloads list and layer.
	loads, _ := chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.hotspot.hotspots.loads`))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(function () { var s = document.getElementById('hotspot-method'); s.value = 'kde'; s.dispatchEvent(new Event('change')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "KDE areas", `window.hotspot.hotspots.loads > `+strconv.Itoa(loads)+` && /Kernel density area/.test(document.getElementById('hotspot-list').textContent)`, 30*time.Second)
	b.waitFor(t, "the place list", `document.getElementById('hotspot-place').options.length >= 8`, 30*time.Second)
	loads, _ = chromedp.Run(b.ctx, chromedp.Evaluate[int](`window.hotspot.hotspots.loads`))
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(function () { var s = document.getElementById('hotspot-place'); s.value = 'lutterworth'; s.dispatchEvent(new Event('change')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "Lutterworth's hotspots", `window.hotspot.hotspots.loads > `+strconv.Itoa(loads), 30*time.Second)
	if r := b.Responses("place=lutterworth"); len(r) == 0 {
		t.Error("changing the place did not ask for Lutterworth's hotspots")
	}
	for u, s := range b.Responses("/api/hotspots") {
		if s != 200 {
			t.Errorf("%s = %d; want 200", u, s)
		}
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console problems: %v", p)
	}
	errs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.hotspot.errors.map(String)`))
	if err != nil || len(errs) > 0 {
		t.Errorf("page errors: %v, %v", errs, err)
	}
}
