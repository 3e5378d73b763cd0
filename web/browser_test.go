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

// TestBrowserMapPage loads the map over real data in headless Chromium: the
// page must load without console errors, request incident tiles, and draw
// features from them.
func TestBrowserMapPage(t *testing.T) {
	b := newBrowser(t)
	ts, pool := newServer(t, true)
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

	poll := chromedp.WithPollingTimeout(30 * time.Second)
	err = chromedp.Do(b.ctx,
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
