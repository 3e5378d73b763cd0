package auth_test

import (
	"context"
	"encoding/base64"
	"errors"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/crypto/argon2"

	"github.com/harborough-csp/hotspot/geo/auth"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const pw = "a long enough passphrase"

func actions(t *testing.T, q auth.Querier) []string {
	t.Helper()
	entries, err := auth.AuditLog(context.Background(), q, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		out = append(out, e.Actor+" "+e.Action)
	}
	return out
}

// TestUsers checks adding, listing, disabling and resetting users, and
// that each change is audited.
func TestUsers(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	s := auth.New(pool)
	if err := s.AddUser(ctx, "cli:root", "alice", auth.Police, pw); err != nil {
		t.Fatal(err)
	}
	if err := s.AddUser(ctx, "cli:root", "bob", auth.Analyst, pw); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name, password string
		role           auth.Role
		wantErr        string
	}{
		{"alice", pw, auth.Admin, "exists"},
		{"Bad Name", pw, auth.Admin, "user name"},
		{"carol", "short", auth.Admin, "at least 12"},
		{"carol", pw, auth.Role("chief"), "role"},
	} {
		err := s.AddUser(ctx, "cli:root", tt.name, tt.role, tt.password)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("AddUser(%q, %q) = %v; want an error about %q", tt.name, tt.role, err, tt.wantErr)
		}
	}
	if err := s.AddUser(ctx, "x", "alice", auth.Admin, pw); !errors.Is(err, auth.ErrUserExists) {
		t.Errorf("AddUser(existing) = %v; want ErrUserExists", err)
	}
	users, err := s.Users(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 2 || users[0].Name != "alice" || users[0].Role != auth.Police || users[1].Name != "bob" ||
		users[0].LastLogin != nil || users[0].Disabled != nil {
		t.Fatalf("Users() = %+v; want alice (police) and bob, enabled, never signed in", users)
	}

	// Disabling ends sessions and revokes tokens.
	sid, err := s.Login(ctx, "alice", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	_, tok, err := s.AddToken(ctx, "cli:root", "alice", []auth.Scope{auth.ScopeIngest}, "partner", 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.DisableUser(ctx, "cli:root", "alice"); err != nil {
		t.Fatal(err)
	}
	if name, _, _, err := s.Session(ctx, sid); name != "" || err != nil {
		t.Errorf("Session(after disable) = %q, %v; want none", name, err)
	}
	if name, _, _, err := s.Token(ctx, tok); name != "" || err != nil {
		t.Errorf("Token(after disable) = %q, %v; want none", name, err)
	}
	if _, err := s.Login(ctx, "alice", pw, "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("Login(disabled user, right password) = %v; want ErrBadCredentials", err)
	}
	if err := s.DisableUser(ctx, "x", "nobody"); !errors.Is(err, auth.ErrNoUser) {
		t.Errorf("DisableUser(nobody) = %v; want ErrNoUser", err)
	}
	users, _ = s.Users(ctx)
	if users[0].Disabled == nil || users[0].LastLogin == nil {
		t.Errorf("alice after sign-in and disable = %+v; want last login and disabled set", users[0])
	}

	// A reset ends sessions; the old password stops working.
	sid, err = s.Login(ctx, "bob", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SetPassword(ctx, "cli:root", "bob", "another long passphrase"); err != nil {
		t.Fatal(err)
	}
	if name, _, _, _ := s.Session(ctx, sid); name != "" {
		t.Error("session survived a password reset")
	}
	if _, err := s.Login(ctx, "bob", pw, "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
		t.Errorf("Login(old password) = %v; want ErrBadCredentials", err)
	}
	if _, err := s.Login(ctx, "bob", "another long passphrase", "192.0.2.1"); err != nil {
		t.Errorf("Login(new password) = %v", err)
	}
	if err := s.SetPassword(ctx, "x", "nobody", pw); !errors.Is(err, auth.ErrNoUser) {
		t.Errorf("SetPassword(nobody) = %v; want ErrNoUser", err)
	}
	want := []string{
		"cli:root user.add", "cli:root user.add", "alice login.success", "cli:root token.create",
		"cli:root user.disable", "alice login.failure", "bob login.success", "cli:root user.reset_password",
		"bob login.failure", "bob login.success",
	}
	if got := actions(t, pool); strings.Join(got, "; ") != strings.Join(want, "; ") {
		t.Errorf("audit log =\n%v\nwant\n%v", got, want)
	}
}

// TestSessions checks sign-in, the session lookup, idle and absolute
// expiry, and sign-out.
func TestSessions(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	s := auth.New(pool)
	if err := s.AddUser(ctx, "test", "alice", auth.Police, pw); err != nil {
		t.Fatal(err)
	}
	sid, err := s.Login(ctx, "  Alice ", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	name, role, csrf, err := s.Session(ctx, sid)
	if name != "alice" || role != "police" || len(csrf) != 43 || err != nil {
		t.Fatalf("Session() = %q, %q, %q, %v; want alice, police and a CSRF token", name, role, csrf, err)
	}
	// The database holds the id's hash, not the id.
	var stored []byte
	if err := pool.QueryRow(ctx, `SELECT id_hash FROM sessions`).Scan(&stored); err != nil || strings.Contains(string(stored), sid) || len(stored) != 32 {
		t.Errorf("stored session id = %x (%v); want a 32-byte hash", stored, err)
	}
	for _, id := range []string{"", "nope", sid + "x", strings.Repeat("A", 43), "'; DROP TABLE users; --"} {
		if name, _, _, err := s.Session(ctx, id); name != "" || err != nil {
			t.Errorf("Session(%q) = %q, %v; want none", id, name, err)
		}
	}
	for _, tt := range []struct{ name, sql string }{
		{"idle", `UPDATE sessions SET last_seen_at = now() - interval '2 hours 1 second'`},
		{"absolute", `UPDATE sessions SET expires_at = now()`},
	} {
		sid, err := s.Login(ctx, "alice", pw, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := pool.Exec(ctx, tt.sql); err != nil {
			t.Fatal(err)
		}
		if name, _, _, _ := s.Session(ctx, sid); name != "" {
			t.Errorf("%s-expired session is live", tt.name)
		}
	}
	sid, err = s.Login(ctx, "alice", pw, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	// Just under the idle limit: live, and refreshed.
	if _, err := pool.Exec(ctx, `UPDATE sessions SET last_seen_at = now() - interval '1 hour 59 minutes'`); err != nil {
		t.Fatal(err)
	}
	if name, _, _, _ := s.Session(ctx, sid); name != "alice" {
		t.Fatal("session used 1 h 59 min ago is not live")
	}
	if name, _, _, _ := s.Session(ctx, sid); name != "alice" {
		t.Fatal("a refreshed session is not live")
	}
	if err := s.Logout(ctx, sid, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	if name, _, _, _ := s.Session(ctx, sid); name != "" {
		t.Error("session live after Logout")
	}
	if err := s.Logout(ctx, sid, "192.0.2.1"); err != nil {
		t.Errorf("second Logout = %v; want nil", err)
	}
}

// TestRateLimit checks the failed sign-in limits, that the limit applies
// before the password is checked, that Retry-After is sensible, that a
// success clears the address's failures, and that attempts running at once
// cannot get past the limit.
func TestRateLimit(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	s := auth.New(pool)
	if err := s.AddUser(ctx, "test", "alice", auth.Police, pw); err != nil {
		t.Fatal(err)
	}
	// Four failures, then a success, clear this address's count.
	for i := 0; i < auth.MaxFailuresPerUser-1; i++ {
		if _, err := s.Login(ctx, "alice", "wrong", "192.0.2.1"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("failure %d = %v", i, err)
		}
	}
	if _, err := s.Login(ctx, "alice", pw, "192.0.2.1"); err != nil {
		t.Fatalf("right password after 4 failures = %v; want a session", err)
	}
	// Five failures from two addresses lock the name for everyone.
	for i := 0; i < auth.MaxFailuresPerUser; i++ {
		addr := []string{"192.0.2.1", "198.51.100.7"}[i%2]
		if _, err := s.Login(ctx, "alice", "wrong", addr); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("failure %d = %v", i, err)
		}
	}
	start := time.Now()
	_, err := s.Login(ctx, "alice", pw, "203.0.113.9")
	elapsed := time.Since(start)
	var rl *auth.RateLimitedError
	if !errors.As(err, &rl) || rl.By != "user" {
		t.Fatalf("right password after 5 failures = %v; want a RateLimitedError by user", err)
	}
	if rl.Wait < 14*time.Minute || rl.Wait > auth.FailureWindow {
		t.Errorf("Wait = %v; want just under %v (the failures are seconds old)", rl.Wait, auth.FailureWindow)
	}
	t.Logf("refused in %v", elapsed)
	// Age the failures: once the fifth-newest has left the window, the
	// name is free again.
	if _, err := pool.Exec(ctx, `UPDATE login_failures SET at = at - interval '16 minutes'`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "alice", pw, "203.0.113.9"); err != nil {
		t.Errorf("sign-in after the window = %v; want a session", err)
	}

	// Attempts at once: of 12 concurrent wrong guesses for a fresh name,
	// at most 5 get to a password check; the rest are refused.
	if err := s.AddUser(ctx, "test", "bob", auth.Police, pw); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := 0; i < 12; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			_, err := s.Login(ctx, "bob", "wrong", "10.0.0."+string(rune('a'+i)))
			errs <- err
		}(i)
	}
	wg.Wait()
	close(errs)
	checked := 0
	for err := range errs {
		if errors.Is(err, auth.ErrBadCredentials) {
			checked++
		} else if !errors.As(err, &rl) {
			t.Errorf("concurrent attempt = %v", err)
		}
	}
	if checked > auth.MaxFailuresPerUser {
		t.Errorf("%d of 12 concurrent attempts reached the password check; want at most %d", checked, auth.MaxFailuresPerUser)
	}

	// The address limit, under many names.
	for i := 0; i < auth.MaxFailuresPerAddress; i++ {
		if _, err := s.Login(ctx, "guess"+string(rune('a'+i)), "wrong", "192.0.2.200"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Fatalf("address failure %d = %v", i, err)
		}
	}
	if _, err := s.Login(ctx, "alice", pw, "192.0.2.200"); !errors.As(err, &rl) || rl.By != "address" {
		t.Errorf("sign-in after %d failures from one address = %v; want RateLimitedError by address", auth.MaxFailuresPerAddress, err)
	}
}

// TestTokens checks creating, using, expiring and revoking API tokens,
// and that only a hash is stored.
func TestTokens(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	s := auth.New(pool)
	if err := s.AddUser(ctx, "test", "alice", auth.Analyst, pw); err != nil {
		t.Fatal(err)
	}
	info, tok, err := s.AddToken(ctx, "cli:root", "alice", []auth.Scope{auth.ScopeIngest, auth.ScopeRead}, "partner feed", 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(tok, auth.TokenPrefix) || len(tok) != 47 || info.Expires == nil || info.Expires.Sub(info.Created) != 90*24*time.Hour {
		t.Errorf("AddToken() = %+v, %q; want hst_ and 43 characters, expiring in 90 days", info, tok)
	}
	name, role, scopes, err := s.Token(ctx, tok)
	if name != "alice" || role != "analyst" || strings.Join(scopes, ",") != "ingest,read" || err != nil {
		t.Errorf("Token() = %q, %q, %v, %v; want alice, analyst, ingest,read", name, role, scopes, err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM api_tokens WHERE position($1::bytea IN secret_hash) > 0`, []byte(tok)).Scan(&n); err != nil || n != 0 {
		t.Errorf("the token's text is in the table (%d, %v)", n, err)
	}
	for _, tt := range []struct {
		user   string
		scopes []auth.Scope
		ttl    time.Duration
	}{
		{"nobody", []auth.Scope{auth.ScopeRead}, 0},
		{"alice", nil, 0},
		{"alice", []auth.Scope{"write"}, 0},
		{"alice", []auth.Scope{auth.ScopeRead}, -time.Hour},
	} {
		if _, _, err := s.AddToken(ctx, "x", tt.user, tt.scopes, "", tt.ttl); err == nil {
			t.Errorf("AddToken(%q, %v, %v) = nil error; want a refusal", tt.user, tt.scopes, tt.ttl)
		}
	}
	// Expiry and revocation.
	if _, err := pool.Exec(ctx, `UPDATE api_tokens SET expires_at = now() - interval '1 second' WHERE id = $1`, info.ID); err != nil {
		t.Fatal(err)
	}
	if name, _, _, _ := s.Token(ctx, tok); name != "" {
		t.Error("an expired token works")
	}
	info2, tok2, err := s.AddToken(ctx, "cli:root", "alice", []auth.Scope{auth.ScopeRead}, "", 0)
	if err != nil || info2.Expires != nil {
		t.Fatalf("AddToken(no expiry) = %+v, %v", info2, err)
	}
	if name, _, _, _ := s.Token(ctx, tok2); name != "alice" {
		t.Fatal("a token without expiry does not work")
	}
	if err := s.RevokeToken(ctx, "cli:root", info2.ID); err != nil {
		t.Fatal(err)
	}
	if name, _, _, _ := s.Token(ctx, tok2); name != "" {
		t.Error("a revoked token works")
	}
	if err := s.RevokeToken(ctx, "x", 9999); !errors.Is(err, auth.ErrNoToken) {
		t.Errorf("RevokeToken(9999) = %v; want ErrNoToken", err)
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 2 || list[0].Label != "partner feed" || list[1].Revoked == nil || list[0].LastUsed == nil {
		t.Errorf("Tokens() = %+v, %v; want both, the first used and labelled, the second revoked", list, err)
	}
}

// TestAudit checks the audit row's fields, and that an audit written in a
// transaction that rolls back is gone with it.
func TestAudit(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	if err := auth.Audit(ctx, pool, "importer", auth.ActionImport, map[string]any{"file": "x.csv", "rows": 3, "odd": "nul\x00byte"}, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := auth.Audit(ctx, tx, "importer", auth.ActionImport, nil, ""); err != nil {
			return err
		}
		return errors.New("the import failed")
	})
	if err == nil {
		t.Fatal("transaction did not fail")
	}
	entries, err := auth.AuditLog(ctx, pool, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		t.Fatalf("audit log has %d rows; want 1 (the rolled-back one gone)", len(entries))
	}
	e := entries[0]
	if e.Actor != "importer" || e.Action != "import" || e.Remote != "192.0.2.1" || e.Detail["file"] != "x.csv" ||
		e.Detail["rows"] != float64(3) || e.Detail["odd"] != "nul\u2400byte" || time.Since(e.At) > time.Minute {
		t.Errorf("audit entry = %+v; want importer/import from 192.0.2.1 with the detail", e)
	}
	if err := auth.Audit(ctx, pool, "x", "", nil, ""); err == nil {
		t.Error("Audit(empty action) = nil; want an error")
	}
}

// TestEnsureDemoUsers checks that the demo's users are created, that
// their passwords work, and that a second run replaces the passwords.
func TestEnsureDemoUsers(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	s := auth.New(pool)
	first, err := auth.EnsureDemoUsers(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	if len(first) != 3 {
		t.Fatalf("EnsureDemoUsers() = %d users; want 3", len(first))
	}
	for role, c := range first {
		if c.Name != "demo-"+string(role) || auth.CheckPassword(c.Password) != nil {
			t.Errorf("demo user for %s = %+v", role, c)
		}
		sid, err := s.Login(ctx, c.Name, c.Password, "127.0.0.1")
		if err != nil {
			t.Fatalf("Login(%s) = %v", c.Name, err)
		}
		if _, r, _, _ := s.Session(ctx, sid); r != string(role) {
			t.Errorf("demo user %s has role %q; want %s", c.Name, r, role)
		}
	}
	if err := s.DisableUser(ctx, "test", "demo-police"); err != nil {
		t.Fatal(err)
	}
	second, err := auth.EnsureDemoUsers(ctx, pool)
	if err != nil {
		t.Fatal(err)
	}
	for role, c := range second {
		if c.Password == first[role].Password {
			t.Errorf("demo user %s kept its password", c.Name)
		}
		if _, err := s.Login(ctx, c.Name, first[role].Password, "127.0.0.2"); !errors.Is(err, auth.ErrBadCredentials) {
			t.Errorf("Login(%s, last run's password) = %v; want ErrBadCredentials", c.Name, err)
		}
		if _, err := s.Login(ctx, c.Name, c.Password, "127.0.0.3"); err != nil {
			t.Errorf("Login(%s, new password) = %v (a reset re-enables)", c.Name, err)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != 3 {
		t.Errorf("users after two runs = %d, %v; want 3", n, err)
	}
}

// TestHashUpgrade checks that a password hashed with older parameters is
// re-hashed with the current ones at the next sign-in.
func TestHashUpgrade(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	s := auth.New(pool)
	if err := s.AddUser(ctx, "test", "alice", auth.Police, pw); err != nil {
		t.Fatal(err)
	}
	// A valid hash of pw with weaker parameters (m=64, t=1), as an older
	// release might have stored.
	old := "$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$"
	key := oldKey(pw)
	if _, err := pool.Exec(ctx, `UPDATE users SET password_hash = $1`, old+key); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Login(ctx, "alice", pw, "127.0.0.1"); err != nil {
		t.Fatalf("Login with an old-parameter hash = %v", err)
	}
	var h string
	if err := pool.QueryRow(ctx, `SELECT password_hash FROM users`).Scan(&h); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash after sign-in = %q; want it upgraded to m=19456,t=2,p=1", h)
	}
}

// oldKey is argon2id of password with m=64, t=1, p=1 and the salt
// "somesaltsomesalt", as the hash part of a PHC string.
func oldKey(password string) string {
	key := argon2.IDKey([]byte(password), []byte("somesaltsomesalt"), 1, 64, 1, 32)
	return base64.RawStdEncoding.EncodeToString(key)
}
