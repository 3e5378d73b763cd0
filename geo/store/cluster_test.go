package store

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
)

// TestReachable checks the rule that decides whether, under root, the
// cluster can live where it was asked to: every directory on the way must
// be searchable by the server's user.
func TestReachable(t *testing.T) {
	u, err := user.Lookup("nobody")
	if err != nil {
		t.Skip("no user nobody")
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	cred := &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	base := t.TempDir()
	if err := os.Chmod(filepath.Dir(base), 0o755); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		mode os.FileMode
		want bool
	}{
		{0o755, true},
		{0o711, true}, // search without read is enough
		{0o700, false},
		{0o750, false}, // group is root's, not nobody's
	}
	for _, tt := range tests {
		if err := os.Chmod(base, tt.mode); err != nil {
			t.Fatal(err)
		}
		// The data directory need not exist yet: its existing parent decides.
		if got := reachable(filepath.Join(base, "var", "pgdata"), cred); got != tt.want {
			t.Errorf("reachable(under a %o directory) = %v; want %v", tt.mode, got, tt.want)
		}
	}
	os.Chmod(base, 0o700)
}

// TestFindBinDir checks that the server binaries are found on this
// machine (the test command installs them).
func TestFindBinDir(t *testing.T) {
	dir, err := findBinDir()
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal(err)
		}
		t.Skip(err)
	}
	for _, p := range []string{"initdb", "pg_ctl", "postgres"} {
		if _, err := os.Stat(filepath.Join(dir, p)); err != nil {
			t.Errorf("findBinDir() = %s, which lacks %s", dir, p)
		}
	}
	t.Setenv("HOTSPOT_PG_BINDIR", t.TempDir())
	if got, err := findBinDir(); err != nil || got == os.Getenv("HOTSPOT_PG_BINDIR") {
		t.Errorf("findBinDir() with an empty HOTSPOT_PG_BINDIR = %q, %v; want it passed over", got, err)
	}
}
