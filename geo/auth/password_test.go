package auth

import (
	"regexp"
	"strings"
	"testing"
)

var phcPattern = regexp.MustCompile(`^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

// TestHashVerify checks the PHC format, that the right password verifies
// and others do not, and that two hashes of one password differ (salt).
func TestHashVerify(t *testing.T) {
	h, err := Hash("correct horse battery staple")
	if err != nil {
		t.Fatal(err)
	}
	if !phcPattern.MatchString(h) {
		t.Errorf("Hash() = %q; want $argon2id$v=19$m=19456,t=2,p=1$<22 chars>$<43 chars>", h)
	}
	h2, _ := Hash("correct horse battery staple")
	if h == h2 {
		t.Error("two hashes of one password are equal; want a fresh salt each time")
	}
	for _, tt := range []struct {
		pw   string
		want bool
	}{
		{"correct horse battery staple", true},
		{"correct horse battery stapl", false},
		{"Correct horse battery staple", false},
		{"", false},
	} {
		got, err := Verify(h, tt.pw)
		if err != nil || got != tt.want {
			t.Errorf("Verify(h, %q) = %v, %v; want %v", tt.pw, got, err, tt.want)
		}
	}
	// A hash made with other parameters still verifies, from its own
	// string, and is flagged for upgrade.
	old, err := hashWith("pw", Params{Memory: 64, Time: 1, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := Verify(old, "pw"); !ok || err != nil {
		t.Errorf("Verify(hash with m=64,t=1) = %v, %v; want true", ok, err)
	}
	if !needsRehash(old) || needsRehash(h) {
		t.Errorf("needsRehash(old, current) = %v, %v; want true, false", needsRehash(old), needsRehash(h))
	}
}

// TestParsePHC checks that malformed or hostile hash strings are refused.
func TestParsePHC(t *testing.T) {
	good := "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g"
	if _, err := parsePHC(good); err != nil {
		t.Fatalf("parsePHC(good) = %v", err)
	}
	for _, bad := range []string{
		"",
		"plain",
		strings.Replace(good, "argon2id", "argon2i", 1),
		strings.Replace(good, "v=19", "v=16", 1),
		strings.Replace(good, "m=19456", "m=4294967295", 1), // 4 TiB
		strings.Replace(good, "m=19456", "m=019456", 1),
		strings.Replace(good, "m=19456", "m=+19456", 1),
		strings.Replace(good, "m=19456", "m=4", 1),
		strings.Replace(good, "t=2", "t=0", 1),
		strings.Replace(good, "t=2", "t=1000000", 1),
		strings.Replace(good, "p=1", "p=0", 1),
		strings.Replace(good, "p=1", "p=255", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "t=2,m=19456,p=1", 1),
		strings.Replace(good, "m=19456,t=2,p=1", "m=19456,t=2", 1),
		strings.Replace(good, "c29tZXNhbHRzb21lc2FsdA", "c29t", 1),                   // salt too short
		strings.Replace(good, "c29tZXNhbHRzb21lc2FsdA", "c29tZ!==", 1),               // not base64
		strings.Replace(good, "c29tZXNhbHRzb21lc2FsdA", "c29tZXNhbHRzb21lc2FsdB", 1), // non-canonical
		good + "$extra",
		good[:len(good)-20],
	} {
		if _, err := parsePHC(bad); err == nil {
			t.Errorf("parsePHC(%q) = nil error; want ErrBadHash", bad)
		}
		if ok, err := Verify(bad, "pw"); ok || err == nil {
			t.Errorf("Verify(%q) = %v, %v; want false and an error", bad, ok, err)
		}
	}
}

// FuzzParsePHC checks that the parser never panics, accepts only
// parameters within the limits, and that what it accepts formats back to
// the same string.
func FuzzParsePHC(f *testing.F) {
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaGhhc2g")
	f.Add("$argon2id$v=19$m=8,t=1,p=1$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("$argon2id$v=19$m=99999999999,t=2,p=1$$")
	f.Add("$argon2id$$$$$")
	f.Add("$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA==$aGFzaA==")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := parsePHC(s)
		if err != nil {
			return
		}
		p := h.params
		if p.Memory > maxMemory || p.Time < 1 || p.Time > maxTime || p.Threads < 1 || p.Threads > maxThreads {
			t.Fatalf("parsePHC(%q) accepted parameters %+v beyond the limits", s, p)
		}
		if h.String() != s {
			t.Fatalf("parsePHC(%q) formats back as %q; want one spelling per hash", s, h.String())
		}
	})
}

func TestCheckPassword(t *testing.T) {
	for _, tt := range []struct {
		pw string
		ok bool
	}{
		{"short", false},
		{"elevenchars", false},
		{"twelve chars", true},
		{"ünïcödé-wörd", true}, // 12 characters, more bytes
		{strings.Repeat("x", MaxPasswordLen), true},
		{strings.Repeat("x", MaxPasswordLen+1), false},
		{"bad utf-8 \xff\xfe\xfd", false},
	} {
		if err := CheckPassword(tt.pw); (err == nil) != tt.ok {
			t.Errorf("CheckPassword(%.20q) = %v; want ok %v", tt.pw, err, tt.ok)
		}
	}
	if pw := GeneratePassword(); len(pw) < 26 || CheckPassword(pw) != nil {
		t.Errorf("GeneratePassword() = %q; want 26+ characters that pass CheckPassword", pw)
	}
}

func TestCheckName(t *testing.T) {
	for _, tt := range []struct {
		name string
		ok   bool
	}{
		{"alice", true},
		{"demo-police", true},
		{"j.smith_2", true},
		{"a1", true},
		{"a", false},
		{"Alice", false},
		{"-alice", false},
		{".alice", false},
		{"alice smith", false},
		{"alice@example.com", false},
		{"a" + strings.Repeat("b", 62), true},
		{"a" + strings.Repeat("b", 63), false},
		{"", false},
	} {
		if err := CheckName(tt.name); (err == nil) != tt.ok {
			t.Errorf("CheckName(%q) = %v; want ok %v", tt.name, err, tt.ok)
		}
	}
}

func TestParseScopes(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want string // "" for an error
	}{
		{"ingest", "ingest"},
		{"read", "read"},
		{"read,ingest", "ingest,read"},
		{"ingest, read, ingest", "ingest,read"},
		{"ingest,", "ingest"},
		{"", ""},
		{",", ""},
		{"write", ""},
		{"ingest,admin", ""},
	} {
		got, err := ParseScopes(tt.in)
		var s []string
		for _, sc := range got {
			s = append(s, string(sc))
		}
		if (err != nil) != (tt.want == "") || strings.Join(s, ",") != tt.want {
			t.Errorf("ParseScopes(%q) = %v, %v; want %q", tt.in, s, err, tt.want)
		}
	}
}

// FuzzParseScopes checks that whatever ParseScopes accepts is a non-empty,
// sorted set of known scopes.
func FuzzParseScopes(f *testing.F) {
	for _, s := range []string{"ingest", "read,ingest", ",,", "ingest,\x00", " read "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := ParseScopes(s)
		if err != nil {
			return
		}
		if len(got) == 0 || len(got) > 2 {
			t.Fatalf("ParseScopes(%q) = %v; want 1 or 2 scopes", s, got)
		}
		for i, sc := range got {
			if sc != ScopeIngest && sc != ScopeRead || (i > 0 && got[i-1] >= sc) {
				t.Fatalf("ParseScopes(%q) = %v; want sorted known scopes", s, got)
			}
		}
	})
}

// TestParseToken checks the token shape check.
func TestParseToken(t *testing.T) {
	secret, _, err := newSecret()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ParseToken(TokenPrefix + secret); err != nil {
		t.Errorf("ParseToken(a fresh token) = %v", err)
	}
	for _, bad := range []string{
		"", secret, "hst_", "HST_" + secret, TokenPrefix + secret[:42], TokenPrefix + secret + "A",
		TokenPrefix + strings.Repeat("!", 43), TokenPrefix + secret[:42] + "B", // non-canonical last character
	} {
		if _, err := ParseToken(bad); err == nil && bad != TokenPrefix+secret {
			t.Errorf("ParseToken(%q) = nil error; want ErrBadToken", bad)
		}
	}
}

// FuzzParseToken checks that ParseToken never panics and accepts only
// "hst_" and 43 base64url characters, hashing each to 32 bytes.
func FuzzParseToken(f *testing.F) {
	f.Add("hst_" + strings.Repeat("A", 43))
	f.Add("hst_" + strings.Repeat("_", 43))
	f.Add("hst_" + strings.Repeat("=", 43))
	f.Add("hst_\x00")
	f.Fuzz(func(t *testing.T, s string) {
		h, err := ParseToken(s)
		if err != nil {
			return
		}
		if len(h) != 32 || len(s) != len(TokenPrefix)+43 || !strings.HasPrefix(s, TokenPrefix) {
			t.Fatalf("ParseToken(%q) accepted it (hash %d bytes)", s, len(h))
		}
		for _, c := range s[len(TokenPrefix):] {
			if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				t.Fatalf("ParseToken(%q) accepted a character outside base64url", s)
			}
		}
	})
}

// TestJSONBSafe checks that NUL escapes become U+2400 and escaped
// backslashes are left alone.
func TestJSONBSafe(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{`{"a":"x\u0000y"}`, `{"a":"x\u2400y"}`},
		{`{"a":"x\\u0000y"}`, `{"a":"x\\u0000y"}`},
		{`{"a":"\\\u0000"}`, `{"a":"\\\u2400"}`},
		{`{}`, `{}`},
	} {
		if got := string(jsonbSafe([]byte(tt.in))); got != tt.want {
			t.Errorf("jsonbSafe(%s) = %s; want %s", tt.in, got, tt.want)
		}
	}
}
