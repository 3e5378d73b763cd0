package store_test

import (
	"context"
	"os"
	"testing"

	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/migrations"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

// TestSchema checks that a fresh test database has PostGIS and every
// embedded migration recorded, and that applying again is a no-op.
func TestSchema(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	var version string
	if err := pool.QueryRow(ctx, `SELECT postgis_lib_version()`).Scan(&version); err != nil {
		t.Fatalf("postgis_lib_version() error: %v", err)
	}
	all, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM schema_migrations`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != len(all) {
		t.Errorf("schema_migrations has %d rows; want %d", n, len(all))
	}
	again, err := migrations.Apply(ctx, pool)
	if err != nil || len(again) != 0 {
		t.Errorf("Apply() again = %v, %v; want nothing applied", again, err)
	}
}
