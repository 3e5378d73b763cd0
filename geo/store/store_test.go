package store_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo/store"
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

// TestOpenWithoutPostGIS points Open at a database where PostGIS is not
// installed and the role may not create it: the error must say so.
func TestOpenWithoutPostGIS(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	for _, sql := range []string{
		`DROP ROLE IF EXISTS plain_user`,
		`CREATE ROLE plain_user LOGIN NOSUPERUSER`,
		`DROP DATABASE IF EXISTS no_postgis`,
		`CREATE DATABASE no_postgis OWNER plain_user TEMPLATE template0`,
	} {
		if _, err := pool.Exec(ctx, sql); err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
	}
	t.Cleanup(func() {
		pool.Exec(ctx, `DROP DATABASE IF EXISTS no_postgis WITH (FORCE)`) //nolint:errcheck // cleanup
		pool.Exec(ctx, `DROP ROLE IF EXISTS plain_user`)                  //nolint:errcheck // cleanup
	})
	cfg := pool.Config().ConnConfig
	dsn := fmt.Sprintf("host=%s port=%d user=plain_user dbname=no_postgis sslmode=disable", cfg.Host, cfg.Port)
	db, err := store.Open(ctx, store.Options{DatabaseURL: dsn})
	if err == nil {
		db.Close(ctx)
		t.Fatal("Open(database without PostGIS, unprivileged role) error = nil; want ErrNoPostGIS")
	}
	if !errors.Is(err, store.ErrNoPostGIS) || !strings.Contains(err.Error(), "CREATE EXTENSION postgis") {
		t.Errorf("Open() error = %v; want ErrNoPostGIS telling what to ask for", err)
	}
	if _, err := store.Open(ctx, store.Options{DatabaseURL: "postgres://user:s3cret@[::1"}); err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("Open(bad URL) error = %v; want an error that does not echo the password", err)
	}
}
