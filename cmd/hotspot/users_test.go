package main

import (
	"bytes"
	"context"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// hotspot runs the CLI with stdin as standard input and returns the exit
// code and output.
func hotspot(t *testing.T, stdin string, args ...string) (int, string, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		w.WriteString(stdin)
		w.Close()
	}()
	old := os.Stdin
	os.Stdin = r
	defer func() { os.Stdin = old; r.Close() }()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

var generatedPassword = regexp.MustCompile(`password for (\S+) \(shown only now; pass it on safely\): (\S+)`)

// TestUsersCommands drives hotspot users add, list, reset-password and
// disable against a real database, and signs in with what they print.
func TestUsersCommands(t *testing.T) {
	pool := storetest.DB(t)
	dsn := storetest.ConnString(pool)
	ctx := context.Background()
	db := []string{"--database-url", dsn, "--log-level", "warn"}
	// cmd puts the database flags after the two command words: flags come
	// before a command's arguments.
	cmd := func(args ...string) []string {
		return append(append(append([]string(nil), args[:2]...), db...), args[2:]...)
	}

	// A generated password, printed once, works.
	code, out, errs := hotspot(t, "", cmd("users", "add", "--role", "police", "alice")...)
	m := generatedPassword.FindStringSubmatch(out)
	if code != 0 || m == nil || m[1] != "alice" {
		t.Fatalf("users add alice = exit %d\n%s%s; want a generated password", code, out, errs)
	}
	store := auth.New(pool)
	if _, err := store.Login(ctx, "alice", m[2], "127.0.0.1"); err != nil {
		t.Errorf("sign in with the printed password: %v", err)
	}

	// A password from standard input, with its line ending.
	code, out, errs = hotspot(t, "a long passphrase here\r\n", cmd("users", "add", "--role", "analyst", "--password-stdin", "bob")...)
	if code != 0 || strings.Contains(out, "password for") {
		t.Fatalf("users add --password-stdin bob = exit %d\n%s%s; want no password printed", code, out, errs)
	}
	if _, err := store.Login(ctx, "bob", "a long passphrase here", "127.0.0.1"); err != nil {
		t.Errorf("sign in with the stdin password: %v", err)
	}

	for _, tt := range []struct {
		stdin    string
		args     []string
		code     int
		inStderr string
	}{
		{"short\n", []string{"users", "add", "--role", "police", "--password-stdin", "carol"}, 2, "at least 12"},
		{"", []string{"users", "add", "--role", "police", "--password-stdin", "carol"}, 1, "no password"},
		{"", []string{"users", "add", "--role", "chief", "carol"}, 2, "role"},
		{"", []string{"users", "add", "carol"}, 2, "--role is required"},
		{"", []string{"users", "add", "--role", "police", "Carol Smith"}, 2, "user name"},
		{"", []string{"users", "add", "--role", "police", "alice"}, 1, "exists"},
		{"", []string{"users", "disable", "nobody"}, 1, "no such user"},
		{"", []string{"users", "reset-password", "nobody"}, 1, "no such user"},
		{"", []string{"tokens", "add", "--user", "alice"}, 2, "--scope is required"},
		{"", []string{"tokens", "add", "--user", "alice", "--scope", "write"}, 2, "scope"},
		{"", []string{"tokens", "add", "--user", "alice", "--scope", "read", "--expires", "-3d"}, 2, "--expires"},
		{"", []string{"tokens", "add", "--user", "nobody", "--scope", "read"}, 1, "no such user"},
		{"", []string{"tokens", "revoke", "x"}, 2, "token id"},
		{"", []string{"tokens", "revoke", "999"}, 1, "no such token"},
	} {
		code, out, errs := hotspot(t, tt.stdin, cmd(tt.args...)...)
		if code != tt.code || !strings.Contains(errs, tt.inStderr) {
			t.Errorf("hotspot %v = exit %d, stderr %q (stdout %q); want exit %d, stderr containing %q", tt.args, code, errs, out, tt.code, tt.inStderr)
		}
	}

	// reset-password prints a new password; the old one stops working.
	code, out, errs = hotspot(t, "", cmd("users", "reset-password", "alice")...)
	m2 := generatedPassword.FindStringSubmatch(out)
	if code != 0 || m2 == nil || m2[2] == m[2] {
		t.Fatalf("users reset-password alice = exit %d\n%s%s", code, out, errs)
	}
	if _, err := store.Login(ctx, "alice", m[2], "127.0.0.1"); err == nil {
		t.Error("the old password works after reset-password")
	}

	// tokens add prints the token once; list shows it without the secret;
	// revoke stops it.
	code, out, errs = hotspot(t, "", cmd("tokens", "add", "--user", "alice", "--scope", "ingest,read", "--name", "partner feed", "--expires", "30d")...)
	tok := regexp.MustCompile(`hst_[A-Za-z0-9_-]{43}`).FindString(out)
	if code != 0 || tok == "" || !strings.Contains(out, "scopes ingest,read") {
		t.Fatalf("tokens add = exit %d\n%s%s; want a token", code, out, errs)
	}
	if name, _, scopes, _ := store.Token(ctx, tok); name != "alice" || strings.Join(scopes, ",") != "ingest,read" {
		t.Errorf("the printed token = %q %v; want alice's, ingest,read", name, scopes)
	}
	code, out, _ = hotspot(t, "", cmd("tokens", "list")...)
	if code != 0 || !strings.Contains(out, "partner feed") || !strings.Contains(out, "active") || strings.Contains(out, tok[4:]) {
		t.Errorf("tokens list = exit %d\n%s; want the token's label, active, and never its secret", code, out)
	}
	infos, _ := store.Tokens(ctx)
	if code, out, errs := hotspot(t, "", cmd("tokens", "revoke", "1")...); code != 0 || len(infos) != 1 || infos[0].ID != 1 {
		t.Fatalf("tokens revoke 1 = exit %d\n%s%s", code, out, errs)
	}
	if name, _, _, _ := store.Token(ctx, tok); name != "" {
		t.Error("a revoked token still works")
	}

	// disable ends sessions and revokes tokens; list shows it.
	sid, err := store.Login(ctx, "bob", "a long passphrase here", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if code, out, errs := hotspot(t, "", cmd("users", "disable", "bob")...); code != 0 {
		t.Fatalf("users disable bob = exit %d\n%s%s", code, out, errs)
	}
	if name, _, _, _ := store.Session(ctx, sid); name != "" {
		t.Error("bob's session survived users disable")
	}
	code, out, _ = hotspot(t, "", cmd("users", "list")...)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "NAME") ||
		!regexp.MustCompile(`^alice\s+police\s+active\s+\d{4}-\d\d-\d\d \d\d:\d\d\s+\d{4}-`).MatchString(lines[1]) ||
		!regexp.MustCompile(`^bob\s+analyst\s+disabled \d{4}-`).MatchString(lines[2]) {
		t.Errorf("users list = exit %d\n%s; want alice active with a last sign-in, bob disabled", code, out)
	}

	// Every change is in the audit log, under the command line's actor.
	entries, err := auth.AuditLog(ctx, pool, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if strings.HasPrefix(e.Actor, "cli") {
			got = append(got, e.Action)
		}
	}
	want := "user.add user.add user.reset_password token.create token.revoke user.disable"
	if strings.Join(got, " ") != want {
		t.Errorf("command-line audit actions = %v; want %s", got, want)
	}
}

func TestParseExpiry(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"never", 0, true},
		{"90d", 90 * 24 * time.Hour, true},
		{"1d", 24 * time.Hour, true},
		{"12h", 12 * time.Hour, true},
		{"1825d", 1825 * 24 * time.Hour, true},
		{"1826d", 0, false},
		{"0d", 0, false},
		{"0", 0, false},
		{"-3d", 0, false},
		{"-1h", 0, false},
		{"d", 0, false},
		{"9.5d", 0, false},
		{"90 d", 0, false},
		{"", 0, false},
		{"forever", 0, false},
	} {
		got, err := parseExpiry(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("parseExpiry(%q) = %v, %v; want %v, ok %v", tt.in, got, err, tt.want, tt.ok)
		}
	}
}

// FuzzParseExpiry checks that parseExpiry never panics and accepts only
// "never" or a lifetime between zero and five years.
func FuzzParseExpiry(f *testing.F) {
	for _, s := range []string{"90d", "12h", "never", "9999d", "-1d", "1e9h", "2562047h", "0d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := parseExpiry(s)
		if err != nil {
			return
		}
		if (d == 0) != (s == "never") || d < 0 || d > maxExpiry {
			t.Fatalf("parseExpiry(%q) = %v; want never or a lifetime up to five years", s, d)
		}
	})
}

func TestReadPassword(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"secret words here\n", "secret words here"},
		{"secret words here\r\n", "secret words here"},
		{"  spaced  \nsecond line", "  spaced  "},
		{"no newline", "no newline"},
	} {
		got, err := readPassword(strings.NewReader(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("readPassword(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := readPassword(strings.NewReader(strings.Repeat("x", auth.MaxPasswordLen+1))); err == nil {
		t.Error("readPassword(too long) = nil error")
	}
}
