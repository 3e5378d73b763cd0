package hotspot_test

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/hotspot"
	"github.com/harborough-csp/hotspot/geo/ingest"
	"github.com/harborough-csp/hotspot/geo/places"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

const dataDir = "../../../shared/data"

var (
	srcOnce sync.Once
	src     *places.Sources
	srcErr  error
)

// realFiles returns the real police.uk months, skipping (failing under CI)
// when the shared data is absent.
func realFiles(t testing.TB) []string {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dataDir, "police-uk", "*.csv"))
	if len(files) == 0 {
		if os.Getenv("CI") != "" {
			t.Fatalf("no police.uk files in %s (CI is set, so this fails rather than skips)", dataDir)
		}
		t.Skipf("no police.uk files in %s", dataDir)
	}
	sort.Strings(files)
	return files
}

// loadReal loads the district and wards, the LE postcodes, the given
// police.uk files and the named places, and rebuilds the public data.
func loadReal(t testing.TB, pool *pgxpool.Pool, files []string) {
	t.Helper()
	ctx := context.Background()
	for _, b := range []struct{ kind, file string }{
		{"district", "harborough-district.geojson"},
		{"ward", "wards2013-harborough.geojson"},
	} {
		f, err := os.Open(filepath.Join(dataDir, "boundaries", b.file))
		if err != nil {
			t.Fatal(err)
		}
		bs, err := ingest.ReadBoundaries(f, "", "")
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := ingest.LoadBoundaries(ctx, pool, b.kind, bs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ingest.ImportPostcodesFile(ctx, pool, filepath.Join(dataDir, "postcodes", "codepoint-open-2025-10-le.csv")); err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if _, err := ingest.ImportPoliceUKFile(ctx, pool, f); err != nil {
			t.Fatal(err)
		}
	}
	srcOnce.Do(func() { src, srcErr = places.ReadSources(dataDir) })
	if srcErr != nil {
		t.Fatal(srcErr)
	}
	if _, err := places.Build(ctx, pool, src, places.BuildOptions{Actor: "hotspot test"}); err != nil {
		t.Fatal(err)
	}
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}
}

func TestRebuildReal(t *testing.T) {
	files := realFiles(t)
	pool := storetest.DB(t)
	loadReal(t, pool, files)
	s, err := hotspot.Rebuild(context.Background(), pool, hotspot.Options{Trigger: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%+v", s)
}
