package web_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/hotspot"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/tiles"
	"github.com/harborough-csp/hotspot/web"
)

// chromium finds a headless-capable Chromium: $HOTSPOT_CHROMIUM, then
// Debian's chromium, then the usual names on $PATH.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("HOTSPOT_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("no Chromium found (CI is set, so this fails rather than skips): apt-get install chromium")
	}
	t.Skip("no Chromium found: apt-get install chromium, or set HOTSPOT_CHROMIUM")
	return ""
}

// browser is a headless Chromium page that records console errors,
// uncaught exceptions and responses, for browser tests of every page.
type browser struct {
	ctx       context.Context
	mu        sync.Mutex
	problems  []string
	responses map[string]int64 // URL → status
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox, // CI runs as root, where Chromium's sandbox cannot start
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 800),
		chromedp.UserDataDir(t.TempDir()),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// No timeout on the browser's own context: it would stop the browser.
	// Each step below has its own, and go test's -timeout bounds the rest.
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	b := &browser{ctx: ctx, responses: map[string]int64{}}
	err := chromedp.Listen(ctx, func(ev any) {
		b.mu.Lock()
		defer b.mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.ConsoleAPICalledTypeError || e.Type == runtime.ConsoleAPICalledTypeWarning || e.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.problems = append(b.problems, fmt.Sprintf("console.%s: %s", e.Type, strings.Join(parts, " ")))
			}
		case *runtime.EventExceptionThrown:
			d := e.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.problems = append(b.problems, fmt.Sprintf("exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		case *log.EventEntryAdded:
			if e.Entry.Level == log.EntryLevelError || e.Entry.Level == log.EntryLevelWarning {
				b.problems = append(b.problems, fmt.Sprintf("log %s: %s %s", e.Entry.Level, e.Entry.Text, e.Entry.URL))
			}
		case *network.EventResponseReceived:
			b.responses[e.Response.URL] = e.Response.Status
		}
	})
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	if _, err := chromedp.Call(ctx, log.Enable, cdp.Empty{}); err != nil {
		t.Fatalf("enable log events: %v", err)
	}
	if _, err := chromedp.Call(ctx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("enable network events: %v", err)
	}
	return b
}

func (b *browser) Problems() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.problems...)
}

// Responses returns the statuses of responses whose URL contains part.
func (b *browser) Responses(part string) map[string]int64 {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := map[string]int64{}
	for u, s := range b.responses {
		if strings.Contains(u, part) {
			out[u] = s
		}
	}
	return out
}

// waitFor evaluates expr in the page until it is true, ignoring errors
// while a navigation replaces the page, or fails the test after timeout.
func (b *browser) waitFor(t *testing.T, what, expr string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	var lastErr error
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`!!(`+expr+`)`))
		if err == nil && ok {
			return
		}
		lastErr = err
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatalf("timed out waiting for %s (%s; last error %v); problems: %v", what, expr, lastErr, b.Problems())
}

// signInThroughForm opens the login page and signs in as name with the
// form, as a person would, and waits for the map page it leads to.
func (b *browser) signInThroughForm(t *testing.T, base, name, password string) {
	t.Helper()
	if err := chromedp.Do(b.ctx, chromedp.Navigate(base+"/login")); err != nil {
		t.Fatalf("open the login page: %v", err)
	}
	b.waitFor(t, "the login page", `document.body.dataset.ready === 'true'`, 30*time.Second)
	err := chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("login-name"), name),
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	if err != nil {
		t.Fatalf("fill in the login form: %v; problems: %v", err, b.Problems())
	}
	b.waitFor(t, "the map after signing in",
		`location.pathname === '/' && window.hotspot && window.hotspot.ready && window.hotspot.config.user && window.hotspot.config.user.name === `+jsString(name),
		30*time.Second)
}

func jsString(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// loadDistrict loads the real district outline, so the map has its
// boundary and extent.
func loadDistrict(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	districtFile := "../../shared/data/boundaries/harborough-district.geojson"
	f, err := os.Open(districtFile)
	if err != nil {
		t.Fatal(err)
	}
	bs, err := ingest.ReadBoundaries(f, "", "")
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	if err := ingest.LoadBoundaries(context.Background(), pool, "district", bs); err != nil {
		t.Fatal(err)
	}
}

// TestBrowserMapPage signs in as a police user and loads the map over real
// data in headless Chromium: the page must load without console errors,
// request incident tiles, and draw features from them.
func TestBrowserMapPage(t *testing.T) {
	b := newBrowser(t)
	ts, pool := newServer(t, true)
	loadDistrict(t, pool)
	b.signInThroughForm(t, ts.URL, "test-police", ensureUser(t, pool, "test-police", auth.Police))

	poll := chromedp.WithPollingTimeout(30 * time.Second)
	err := chromedp.Do(b.ctx,
		chromedp.Navigate(ts.URL+"/"),
		chromedp.WaitVisible(chromedp.ID("map")),
	)
	if err != nil {
		t.Fatalf("map page did not load: %v; problems: %v", err, b.Problems())
	}
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[string](`document.body.dataset.ready`, poll)); err != nil {
		t.Fatalf("page did not become ready: %v; problems: %v", err, b.Problems())
	}
	loaded, err := chromedp.Run(b.ctx, chromedp.Poll[int](
		`(window.hotspot && window.hotspot.tilesLoaded && window.hotspot.tilesLoaded.incidents > 0) ? window.hotspot.tilesLoaded.incidents : false`, poll))
	if err != nil {
		t.Fatalf("no incident tile with features was drawn: %v; problems: %v", err, b.Problems())
	}
	// The tiles really came from the server, and came back well.
	tileResponses := b.Responses("/tiles/incidents/")
	ok := 0
	for u, s := range tileResponses {
		if s == 200 {
			ok++
		} else if s != 204 {
			t.Errorf("tile %s = %d; want 200 or 204", u, s)
		}
	}
	if ok == 0 {
		t.Errorf("no incident tile came back 200; responses: %v", tileResponses)
	}
	markers, err := chromedp.Run(b.ctx, chromedp.Evaluate[int](`document.querySelectorAll('#map path, #map canvas').length`))
	if err != nil {
		t.Fatal(err)
	}
	if markers == 0 {
		t.Error("the map has no drawn vector features (no path or canvas in #map)")
	}
	attribution, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(".leaflet-control-attribution")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(attribution, "Open Government Licence") {
		t.Errorf("attribution = %q; want the data's OGL credit", attribution)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console problems on the map page: %v", p)
	}
	// HOTSPOT_SCREENSHOT=file.png keeps a picture of the loaded page, for a
	// person to look at; the assertions above do not depend on it.
	if path := os.Getenv("HOTSPOT_SCREENSHOT"); path != "" {
		// Give the remaining tiles a moment to draw.
		chromedp.Run(b.ctx, chromedp.Poll[bool](`!document.querySelector('.leaflet-tile-loading')`, poll)) //nolint:errcheck // best effort
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	errs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.hotspot.errors.map(String)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("window.hotspot.errors = %v; want none", errs)
	}
	t.Logf("incident tiles with features: %d; tile responses: %d", loaded, len(tileResponses))
}

// TestBrowserLoginPage walks the audiences in headless Chromium: the public
// map shows no incidents layer and a sign-in link; the login page refuses
// a wrong password with a message, and with the right one leads to the map
// with the incidents layer and the user's name; signing out gives the
// public view again.
func TestBrowserLoginPage(t *testing.T) {
	b := newBrowser(t)
	ts, pool := newServer(t, true)
	loadDistrict(t, pool)
	password := ensureUser(t, pool, "test-police", auth.Police)

	// The public view.
	if err := chromedp.Do(b.ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the public map", `window.hotspot && window.hotspot.ready`, 30*time.Second)
	layers, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Object.keys(window.hotspot.layers).sort()`))
	if err != nil {
		t.Fatal(err)
	}
	// This server has no public pool: no anonymised layers (public,
	// the public's density), only the reference ones.
	if strings.Join(layers, ",") != "boundaries,locations" {
		t.Errorf("public map layers = %v; want boundaries and locations only", layers)
	}
	if r := b.Responses("/tiles/incidents"); len(r) > 0 {
		t.Errorf("the public map requested incident data: %v", r)
	}

	// To the login page by the link.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("sign-in"))); err != nil {
		t.Fatalf("no sign-in link on the public map: %v", err)
	}
	b.waitFor(t, "the login page", `location.pathname === '/login' && document.body.dataset.ready === 'true'`, 30*time.Second)

	// A wrong password: a message, no session.
	err = chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("login-name"), "test-police"),
		chromedp.SendKeys(chromedp.ID("login-password"), password+"-wrong"),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the error message", `!document.getElementById('login-error').hidden`, 30*time.Second)
	msg, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("login-error")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(msg, "rong user name or password") {
		t.Errorf("login error = %q; want the wrong-credentials message", msg)
	}
	expected := len(b.Problems()) // Chromium logs the 401 as a failed resource load.
	// HOTSPOT_LOGIN_SCREENSHOT=file.png keeps a picture of the login page
	// with its error, for a person to look at.
	if path := os.Getenv("HOTSPOT_LOGIN_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	// The right password: the map, with incidents and the user's name.
	err = chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("login-password"), password),
		chromedp.Click(chromedp.ID("login-submit")),
	)
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the map after signing in", `location.pathname === '/' && window.hotspot && window.hotspot.ready && window.hotspot.config.user`, 30*time.Second)
	b.waitFor(t, "incident tiles with features", `window.hotspot.tilesLoaded.incidents > 0`, 30*time.Second)
	cookies, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.cookie`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(cookies, "hotspot_session") {
		t.Errorf("document.cookie = %q; the session cookie must be HttpOnly", cookies)
	}
	account, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("account")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(account, "test-police") || !strings.Contains(account, "police") {
		t.Errorf("account text = %q; want the user's name and role", account)
	}

	// Sign out: the public view again.
	if err := chromedp.Do(b.ctx, chromedp.Click(chromedp.ID("sign-out"))); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the public map after signing out",
		`window.hotspot && window.hotspot.ready && window.hotspot.config.user === null && document.getElementById('sign-in')`, 30*time.Second)
	layers, err = chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Object.keys(window.hotspot.layers).sort()`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(layers, ",") != "boundaries,locations" {
		t.Errorf("layers after signing out = %v; want boundaries and locations only", layers)
	}

	problems := b.Problems()
	for i, p := range problems {
		if i < expected && strings.Contains(p, "401") {
			continue // the wrong password's response
		}
		t.Errorf("console problem: %s", p)
	}
	if expected > 1 {
		t.Errorf("problems after one wrong password: %v; want at most the one 401", problems[:expected])
	}
}

// newPublicServer serves the public side over real data: the district,
// the LE postcodes, two police.uk months (2024-01 and 2024-02), the public
// data rebuilt from them, the named places, and the police.uk API and the
// public page's endpoints through the public pool, as hotspot serve does.
func newPublicServer(t *testing.T) *httptest.Server {
	t.Helper()
	ts, _ := newPublicFixture(t)
	return ts
}

// newPublicFixture is the public server over two real months with the
// places, the public data and the hotspots built, and the analysis API
// beside the public routes; it returns the main pool too, for users.
func newPublicFixture(t *testing.T) (*httptest.Server, *pgxpool.Pool) {
	t.Helper()
	const data = "../../shared/data"
	if _, err := os.Stat(filepath.Join(data, "police-uk")); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("real data missing (CI is set): %v", err)
		}
		t.Skipf("real data missing: %v", err)
	}
	pool := storetest.DB(t)
	ctx := context.Background()
	loadDistrict(t, pool)
	if _, err := ingest.ImportPostcodesFile(ctx, pool, filepath.Join(data, "postcodes", "codepoint-open-2025-10-le.csv")); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"2024-01", "2024-02"} {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, filepath.Join(data, "police-uk", m+"-leicestershire-street.csv")); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
	src, err := places.ReadSources(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "browser test"}); err != nil {
		t.Fatal(err)
	}
	pub, err := anon.PublicPool(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pub.Close)
	if _, err := hotspot.Rebuild(ctx, pool, hotspot.Options{Trigger: "browser test"}); err != nil {
		t.Fatal(err)
	}
	srv, err := web.New(pool, tiles.New(pool, tiles.WithPublic(pub)), auth.New(pool), web.Config{}, nil,
		append(web.PoliceAPIRoutes(pub), web.AnalysisRoutes(pool)...)...)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return ts, pool
}

// TestBrowserPublicMap is an anonymous visitor on the public map: the
// public layer's tiles load with features, the month selector re-requests
// them for the month chosen, a postcode search lists crimes near it (or
// says there are none), the places panel fills, and nothing goes wrong in
// the console.
func TestBrowserPublicMap(t *testing.T) {
	b := newBrowser(t)
	ts := newPublicServer(t)
	if err := chromedp.Do(b.ctx, chromedp.Navigate(ts.URL+"/")); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "the public map", `window.hotspot && window.hotspot.ready && window.hotspot.config.user === null`, 30*time.Second)
	layers, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Object.keys(window.hotspot.layers).sort()`))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(layers, ",") != "boundaries,density,locations,public" {
		t.Errorf("public map layers = %v; want boundaries, density, locations and public", layers)
	}
	b.waitFor(t, "public tiles with features", `window.hotspot.tilesLoaded.public > 0`, 30*time.Second)
	if r := b.Responses("/tiles/incidents"); len(r) > 0 {
		t.Errorf("the public map requested incident data: %v", r)
	}

	// The month selector: latest first, and a change re-requests tiles.
	b.waitFor(t, "the month selector", `!document.getElementById('month-select').disabled && document.getElementById('month-select').options.length === 2`, 30*time.Second)
	latest, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.getElementById('month-select').value`))
	if err != nil || latest != "2024-02" {
		t.Errorf("default month = %q, %v; want the latest, 2024-02", latest, err)
	}
	b.waitFor(t, "tiles for the latest month", `performance.getEntriesByType('resource').some(function (e) { return /\/tiles\/public\/.*date=2024-02/.test(e.name); })`, 30*time.Second)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(function () { var s = document.getElementById('month-select'); s.value = '2024-01'; s.dispatchEvent(new Event('change')); return true; })()`)); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "tiles for 2024-01", `performance.getEntriesByType('resource').some(function (e) { return /\/tiles\/public\/.*date=2024-01/.test(e.name); })`, 30*time.Second)
	for u, s := range b.Responses("/tiles/public/") {
		if s != 200 && s != 204 {
			t.Errorf("tile %s = %d; want 200 or 204", u, s)
		}
	}

	// The tile filter panel: choosing a priority and a month range
	// reloads the density tiles with those filters, and they load.
	b.waitFor(t, "the tile filter panel", `!document.getElementById('tile-filters').hidden`, 30*time.Second)
	b.waitFor(t, "unfiltered density tiles", `performance.getEntriesByType('resource').some(function (e) { return /\/tiles\/density\/\d+\/\d+\/\d+\.mvt$/.test(e.name); })`, 30*time.Second)
	if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(function () {
		var s = document.getElementById('filter-priority'); s.value = '2'; s.dispatchEvent(new Event('change'));
		var f = document.getElementById('filter-from'); f.value = '2024-01'; f.dispatchEvent(new Event('change'));
		return true; })()`)); err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "density tiles for priority 2 from 2024-01", `performance.getEntriesByType('resource').some(function (e) { return /\/tiles\/density\/.*\?from=2024-01&priority=2$/.test(e.name); })`, 30*time.Second)
	for u, s := range b.Responses("/tiles/density/") {
		if s != 200 && s != 204 {
			t.Errorf("tile %s = %d; want 200 or 204", u, s)
		}
	}

	// The category filter lists the public categories, not the sensitive.
	cats, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`Array.prototype.map.call(document.getElementById('category-select').options, function (o) { return o.value; })`))
	if err != nil {
		t.Fatal(err)
	}
	if len(cats) < 2 || cats[0] != "all-crime" || strings.Contains(strings.Join(cats, ","), "violent-crime") {
		t.Errorf("category options = %v; want all-crime then the public categories", cats)
	}

	// A postcode search, typed and submitted as a person would.
	err = chromedp.Do(b.ctx,
		chromedp.SendKeys(chromedp.ID("postcode-input"), "le16 7ag"),
		chromedp.Click(chromedp.ID("postcode-submit")),
	)
	if err != nil {
		t.Fatal(err)
	}
	b.waitFor(t, "crimes near LE16 7AG", `!document.getElementById('near-results').hidden &&
		(document.querySelectorAll('#near-list li').length > 0 || !document.getElementById('near-empty').hidden)`, 30*time.Second)
	title, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("near-title")))
	if err != nil || !strings.Contains(title, "LE16 7AG") {
		t.Errorf("near title = %q, %v; want it to name LE16 7AG", title, err)
	}

	// The places panel.
	b.waitFor(t, "the place summaries", `document.querySelectorAll('#places-body tr').length === 8 && !document.getElementById('places-table').hidden`, 30*time.Second)
	text, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.ID("places-body")))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(text, "Lutterworth") || !strings.Contains(text, "no data") {
		t.Errorf("places panel = %q; want Lutterworth, and no data for a year earlier", text)
	}

	// The police layer's category colours are not the public view's key.
	if hidden, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.getElementById('legend-list').hidden`)); err != nil || !hidden {
		t.Errorf("public view shows the incidents layer's category colours (hidden = %v, %v)", hidden, err)
	}
	if p := b.Problems(); len(p) > 0 {
		t.Errorf("console problems on the public map: %v", p)
	}
	errs, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`window.hotspot.errors.map(String)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(errs) > 0 {
		t.Errorf("window.hotspot.errors = %v; want none", errs)
	}
	if path := os.Getenv("HOTSPOT_PUBLIC_SCREENSHOT"); path != "" {
		png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
