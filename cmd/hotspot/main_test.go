package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const dataDir = "../../../shared/data"

func needData(t *testing.T) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "police-uk", "*.csv"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no police.uk files in %s (CI is set)", dataDir)
		}
		t.Skipf("no police.uk files in %s", dataDir)
	}
	return files
}

// TestHelp checks that hotspot --help and every subcommand's --help
// explain themselves and exit 0, and that mistakes exit 2 with usage.
func TestHelp(t *testing.T) {
	var walk func(path []string, cmds []*command)
	walk = func(path []string, cmds []*command) {
		for _, c := range cmds {
			p := append(append([]string(nil), path...), c.name)
			var out, errb bytes.Buffer
			code := run(context.Background(), append(p, "--help"), &out, &errb)
			if code != 0 {
				t.Errorf("hotspot %s --help exit = %d; want 0 (stderr %s)", strings.Join(p, " "), code, errb.String())
			}
			text := out.String()
			if !strings.Contains(text, "Usage:") || !strings.Contains(text, c.summary) {
				t.Errorf("hotspot %s --help = %q; want usage and the summary", strings.Join(p, " "), text)
			}
			if len(c.sub) == 0 && !strings.Contains(text, "-database-url") {
				t.Errorf("hotspot %s --help lacks the global flags", strings.Join(p, " "))
			}
			walk(p, c.sub)
		}
	}
	walk(nil, commands())

	tests := []struct {
		args     []string
		code     int
		inStderr string
	}{
		{[]string{"--help"}, 0, ""},
		{[]string{}, 2, ""},
		{[]string{"frobnicate"}, 2, `unknown command "frobnicate"`},
		{[]string{"import"}, 2, ""},
		{[]string{"import", "police-uk"}, 2, "name at least one file"},
		{[]string{"import", "boundaries", "x.geojson"}, 2, "--kind is required"},
		{[]string{"serve", "--no-such-flag"}, 2, "flag provided but not defined"},
		{[]string{"serve", "--log-level", "loud"}, 2, "--log-level"},
		{[]string{"migrate", "extra"}, 2, "takes no arguments"},
		// Checked before the database starts: these return at once.
		{[]string{"demo", "--basemap", "google"}, 2, "basemap"},
		{[]string{"serve", "--tile-timeout", "-1s"}, 2, "--tile-timeout must be positive"},
		{[]string{"serve", "--trusted-proxy", "proxy.example"}, 2, "want an address or a CIDR"},
		{[]string{"serve", "--public-url", "example.test"}, 2, "public URL"},
	}
	for _, tt := range tests {
		var out, errb bytes.Buffer
		code := run(context.Background(), tt.args, &out, &errb)
		if code != tt.code || !strings.Contains(errb.String(), tt.inStderr) {
			t.Errorf("hotspot %v = exit %d, stderr %q; want exit %d, stderr containing %q", tt.args, code, errb.String(), tt.code, tt.inStderr)
		}
	}
}

// csvRows counts a file's data rows and rows without coordinates with
// encoding/csv, independently of the importer.
func csvRows(t *testing.T, path string) (rows, noLocation int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	if _, err := r.Read(); err != nil {
		t.Fatal(err)
	}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		rows++
		if rec[4] == "" {
			noLocation++
		}
	}
}

var totalLine = regexp.MustCompile(`total: (\d+) files, read (\d+), inserted (\d+), already present (\d+), quarantined (\d+); without location (\d+)`)

func totals(t *testing.T, out string) [6]int {
	t.Helper()
	m := totalLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no total line in output:\n%s", out)
	}
	var v [6]int
	for i := range v {
		v[i], _ = strconv.Atoi(m[i+1])
	}
	return v
}

// TestImportAllMonths imports all seven real months through the CLI: the
// counts add up to the files' own row counts, and a second import inserts 0.
func TestImportAllMonths(t *testing.T) {
	files := needData(t)
	var rows, noLoc int
	for _, f := range files {
		r, n := csvRows(t, f)
		rows += r
		noLoc += n
	}
	dsn := storetest.ConnString(storetest.DB(t))
	args := append([]string{"import", "police-uk", "--database-url", dsn, "--log-level", "warn"}, files...)

	var out, errb bytes.Buffer
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("hotspot import police-uk = exit %d\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
	}
	got := totals(t, out.String())
	want := [6]int{len(files), rows, rows, 0, 0, noLoc}
	if got != want {
		t.Errorf("first import totals (files, read, inserted, present, quarantined, no location) = %v; want %v", got, want)
	}

	out.Reset()
	errb.Reset()
	if code := run(context.Background(), args, &out, &errb); code != 0 {
		t.Fatalf("second import = exit %d\n%s%s", code, out.String(), errb.String())
	}
	got = totals(t, out.String())
	want = [6]int{len(files), rows, 0, rows, 0, noLoc}
	if got != want {
		t.Errorf("second import totals = %v; want %v", got, want)
	}
}

// TestImportMissingFile checks that a missing file fails the command
// (exit 1) without stopping the other files.
func TestImportMissingFile(t *testing.T) {
	files := needData(t)
	dsn := storetest.ConnString(storetest.DB(t))
	var out, errb bytes.Buffer
	code := run(context.Background(), []string{"import", "police-uk", "--database-url", dsn, "--log-level", "warn", "no-such-file.csv", files[0]}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "no-such-file.csv: FAILED") || !strings.Contains(errb.String(), "1 of 2 files failed") {
		t.Errorf("import with a missing file = exit %d\nstdout %s\nstderr %s; want exit 1 naming the file", code, out.String(), errb.String())
	}
	if !strings.Contains(out.String(), filepath.Base(files[0])) {
		t.Errorf("the good file was not imported after the missing one:\n%s", out.String())
	}
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader in two
// goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var servingLine = regexp.MustCompile(`serving the map at (http://\S+)`)

// startDemo runs hotspot demo with its own embedded cluster and returns
// the server URL, the output, and a stop function that waits for exit.
func startDemo(t *testing.T, dataDir string) (string, *syncBuffer, func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out, errb := &syncBuffer{}, &syncBuffer{}
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"demo", "--data-dir", dataDir, "--data", filepath.Join("..", "..", "..", "shared", "data"),
			"--addr", "127.0.0.1:0", "--log-format", "text"}, out, errb)
	}()
	deadline := time.Now().Add(3 * time.Minute)
	for time.Now().Before(deadline) {
		if m := servingLine.FindStringSubmatch(out.String()); m != nil {
			return m[1], out, func() int { cancel(); return <-done }
		}
		select {
		case code := <-done:
			cancel()
			t.Fatalf("demo exited %d before serving\nstdout:\n%s\nstderr:\n%s", code, out.String(), errb.String())
		case <-time.After(100 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("demo did not serve within 3 minutes\nstdout:\n%s\nstderr:\n%s", out.String(), errb.String())
	return "", nil, nil
}

// TestDemoEmbedded runs the demo as a new user would: a private cluster is
// created, the real data loaded and served; a second run reuses the
// cluster and the data, and each run shuts the cluster down on exit.
func TestDemoEmbedded(t *testing.T) {
	files := needData(t)
	var rows int
	for _, f := range files {
		r, _ := csvRows(t, f)
		rows += r
	}
	t.Setenv("DATABASE_URL", "") // the demo must use its own cluster, whatever the environment says
	// t.TempDir is 0700: as root the server's user could not enter it and
	// the cluster would move elsewhere (see store.ClusterOptions). Open it.
	base, err := os.MkdirTemp("", "hotspot-demo-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(base, "pgdata")

	url, out, stop := startDemo(t, dir)
	if got := demoIncidentCount(t, url, out.String()); got != rows {
		t.Errorf("demo incident_count (as demo-police) = %d; want %d (the files' rows)", got, rows)
	}
	if code := stop(); code != 0 {
		t.Errorf("demo exit after cancel = %d; want 0", code)
	}
	if _, err := os.Stat(filepath.Join(dir, "PG_VERSION")); err != nil {
		t.Fatalf("the cluster is not in --data-dir: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "postmaster.pid")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("postmaster.pid after demo exit: %v; want the cluster stopped", err)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("inserted %d", rows)) {
		t.Errorf("first demo output lacks the import total:\n%s", out.String())
	}
	if !strings.Contains(out.String(), "streets learned from police.uk locations") {
		t.Errorf("first demo did not load the gazetteer:\n%s", out.String())
	}

	start := time.Now()
	url, out, stop = startDemo(t, dir)
	t.Logf("second demo start: %v", time.Since(start))
	if got := demoIncidentCount(t, url, out.String()); got != rows {
		t.Errorf("second demo incident_count = %d; want %d", got, rows)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("%d police.uk files already loaded", len(files))) {
		t.Errorf("second demo did not reuse the data:\n%s", out.String())
	}
	if strings.Contains(out.String(), "loading the gazetteer") {
		t.Errorf("second demo loaded the gazetteer again:\n%s", out.String())
	}
	if code := stop(); code != 0 {
		t.Errorf("second demo exit = %d; want 0", code)
	}
}

func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(bufio.NewReader(resp.Body))
		t.Fatalf("GET %s = %d %s", url, resp.StatusCode, b)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

var demoPolice = regexp.MustCompile(`police\s+demo-police\s+(\S+)`)

// demoIncidentCount signs in as the demo's police user, with the password
// the demo printed, and reads the incident total only police are given.
func demoIncidentCount(t *testing.T, base, out string) int {
	t.Helper()
	m := demoPolice.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("demo printed no demo-police password:\n%s", out)
	}
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := &http.Client{Jar: jar}
	resp, err := c.Get(base + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, _ := neturl.Parse(base)
	var csrf string
	for _, ck := range jar.Cookies(u) {
		if ck.Name == "hotspot_login_csrf" {
			csrf = ck.Value
		}
	}
	body, _ := json.Marshal(map[string]string{"name": "demo-police", "password": m[1]})
	req, _ := http.NewRequest(http.MethodPost, base+"/login", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	req.Header.Set("X-CSRF-Token", csrf)
	resp, err = c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("sign in as demo-police = %d", resp.StatusCode)
	}
	resp, err = c.Get(base + "/api/config")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var cfg struct {
		IncidentCount int `json:"incident_count"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&cfg); err != nil {
		t.Fatal(err)
	}
	return cfg.IncidentCount
}
