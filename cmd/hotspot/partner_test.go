package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// TestPartnerCommands drives the command line as an operator would: a
// partner file imported (counts printed, the unmapped wording named),
// imported again (nothing new), its unknown wording mapped (the stored
// record re-categorised), and the usage mistakes refused with exit 2.
func TestPartnerCommands(t *testing.T) {
	dsn := storetest.ConnString(storetest.DB(t))
	hotspot := func(args ...string) (int, string) {
		var out, errb bytes.Buffer
		// The global flags go after the two command words, before the rest.
		full := append(append(append([]string{}, args[:2]...), "--database-url", dsn, "--log-level", "warn"), args[2:]...)
		code := run(context.Background(), full, &out, &errb)
		return code, out.String() + errb.String()
	}
	const file = "../../geo/ingest/testdata/partner-hdc-community-safety.csv"
	code, out := hotspot("import", "partner", "--source", "hdc", file)
	if code != 0 {
		t.Fatalf("import partner = exit %d\n%s", code, out)
	}
	for _, want := range []string{"read 14, inserted 10, updated 0, unchanged 0, quarantined 4", `"Suspicious smell" 1`, "columns not read: Officer", "quarantined by reason:"} {
		if !strings.Contains(out, want) {
			t.Errorf("import partner output lacks %q:\n%s", want, out)
		}
	}
	if code, out = hotspot("import", "partner", "--source", "hdc", file); code != 0 || !strings.Contains(out, "inserted 0, updated 0, unchanged 10, quarantined 4") {
		t.Errorf("second import = exit %d\n%s", code, out)
	}
	if code, out = hotspot("categories", "list"); code != 0 || !strings.Contains(out, "fly-tipping") || !strings.Contains(out, "Suspicious smell") {
		t.Errorf("categories list = exit %d; want the rules and the unmapped wording\n%s", code, out)
	}
	if code, out = hotspot("categories", "map", "--source", "hdc", "Suspicious smell", "drugs"); code != 0 || !strings.Contains(out, "1 stored incidents re-categorised") {
		t.Errorf("categories map = exit %d\n%s", code, out)
	}
	if code, out = hotspot("categories", "list"); code != 0 || !strings.Contains(out, "no unmapped partner categories") {
		t.Errorf("categories list after mapping = exit %d\n%s", code, out)
	}
	if code, out = hotspot("categories", "map", "smell", "no-such-category"); code != 1 || !strings.Contains(out, "not known") {
		t.Errorf("categories map to an unknown category = exit %d; want 1\n%s", code, out)
	}
	for _, args := range [][]string{
		{"import", "partner", file},
		{"import", "partner", "--source", "police-uk", file},
		{"import", "partner", "--source", "hdc"},
		{"categories", "map", "only-one"},
	} {
		if code, out := hotspot(args...); code != 2 {
			t.Errorf("hotspot %s = exit %d; want 2\n%s", strings.Join(args, " "), code, out)
		}
	}
}
