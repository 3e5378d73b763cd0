package main

import (
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/harborough-csp/hotspot"

// TestImportDirection keeps the layering of the GUIDE true: cmd → web →
// tiles, geo/* → geo; gorilla/mux only in web; no pgx in geo itself;
// sibling capability packages apart; nothing imports cmd.
func TestImportDirection(t *testing.T) {
	out, err := exec.Command("go", "list", "-json", "../../...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	n := 0
	for {
		var p struct {
			ImportPath string
			Imports    []string
		}
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		n++
		pkg := strings.TrimPrefix(p.ImportPath, module)
		for _, imp := range p.Imports {
			dep := strings.TrimPrefix(imp, module)
			local := dep != imp
			switch {
			case strings.HasPrefix(imp, "github.com/gorilla/mux") && !strings.HasPrefix(pkg, "/web"):
				t.Errorf("%s imports gorilla/mux; only web may", p.ImportPath)
			case local && strings.HasPrefix(dep, "/cmd"):
				t.Errorf("%s imports %s; nothing imports cmd", p.ImportPath, imp)
			case pkg == "/geo" && (strings.HasPrefix(imp, "github.com/jackc/") || imp == "net/http" || imp == "os"):
				t.Errorf("geo imports %s; the vocabulary package does no I/O", imp)
			case local && strings.HasPrefix(pkg, "/geo") && (strings.HasPrefix(dep, "/web") || strings.HasPrefix(dep, "/tiles")):
				t.Errorf("%s imports %s; geo does not depend on the serving layers", p.ImportPath, imp)
			case local && strings.HasPrefix(pkg, "/tiles") && strings.HasPrefix(dep, "/web"):
				t.Errorf("%s imports %s; tiles does not depend on web", p.ImportPath, imp)
			case local && strings.HasPrefix(pkg, "/geo/") && strings.HasPrefix(dep, "/geo/") && sibling(pkg, dep):
				t.Errorf("%s imports its sibling %s; capabilities meet in web or cmd", p.ImportPath, imp)
			}
		}
	}
	if n < 6 {
		t.Fatalf("go list found %d packages; want the whole module", n)
	}
}

// sibling reports whether two geo/ capability packages are different
// capabilities (geo/store/storetest may use geo/store, its parent).
func sibling(a, b string) bool {
	top := func(s string) string { return strings.SplitN(strings.TrimPrefix(s, "/geo/"), "/", 2)[0] }
	return top(a) != top(b)
}
