package web_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/ingest"
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
	if strings.Join(layers, ",") != "boundaries" {
		t.Errorf("public map layers = %v; want boundaries only", layers)
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
	if strings.Join(layers, ",") != "boundaries" {
		t.Errorf("layers after signing out = %v; want boundaries only", layers)
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
