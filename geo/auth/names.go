package auth

import (
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Role is what a user may do. A user has exactly one role; which routes
// each role may use is declared in web's route table.
type Role string

// The roles. Their text is what the users table, the command line and
// web's route table use.
const (
	// Police see precise incidents.
	Police Role = "police"
	// Analyst works with aggregates and hotspots.
	Analyst Role = "analyst"
	// Admin manages users and imports.
	Admin Role = "admin"
)

// Roles lists every role, in a stable order, for help text and tests.
func Roles() []Role { return []Role{Police, Analyst, Admin} }

// ParseRole returns the role named s, or an error listing the roles.
func ParseRole(s string) (Role, error) {
	for _, r := range Roles() {
		if string(r) == s {
			return r, nil
		}
	}
	return "", fmt.Errorf("role %q: want one of police, analyst, admin", s)
}

// Scope limits what an API token may do on top of its user's role, so a
// machine that only uploads cannot also read everything its user can.
type Scope string

// The token scopes.
const (
	// ScopeIngest allows the routes that accept incidents from machines.
	ScopeIngest Scope = "ingest"
	// ScopeRead allows GET routes the token's user's role may use.
	ScopeRead Scope = "read"
)

// ParseScopes parses a comma-separated list of scopes ("ingest,read"),
// returning them sorted and without repeats. At least one is required.
func ParseScopes(s string) ([]Scope, error) {
	seen := map[Scope]bool{}
	for _, part := range strings.Split(s, ",") {
		sc := Scope(strings.TrimSpace(part))
		switch sc {
		case ScopeIngest, ScopeRead:
			seen[sc] = true
		case "":
			// "ingest," is a harmless typo; nothing at all is caught below.
		default:
			return nil, fmt.Errorf("scope %q: want ingest or read", string(sc))
		}
	}
	if len(seen) == 0 {
		return nil, errors.New("no scope given: want ingest, read or ingest,read")
	}
	out := make([]Scope, 0, len(seen))
	for sc := range seen {
		out = append(out, sc)
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, nil
}

// namePattern is what a user name may look like: lower-case, starting with
// a letter or digit, 2 to 63 characters, so names are safe in logs, URLs
// and file names and cannot be confused by case.
var namePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{1,62}$`)

// CheckName says why name cannot be a user name, or returns nil.
func CheckName(name string) error {
	if !namePattern.MatchString(name) {
		return fmt.Errorf("user name %q: use 2 to 63 characters a-z, 0-9, '.', '_' or '-', starting with a letter or digit", name)
	}
	return nil
}

// normalName is how a name typed at the sign-in form is looked up:
// trimmed and lower-cased (names are lower-case), without NUL bytes (which
// PostgreSQL text cannot hold) and cut to a length that is safe to store
// in the rate-limit table and the audit log.
func normalName(name string) string {
	name = strings.ToLower(strings.TrimSpace(strings.ReplaceAll(name, "\x00", "")))
	if len(name) > 64 {
		name = name[:64]
	}
	return strings.ToValidUTF8(name, "\uFFFD")
}
