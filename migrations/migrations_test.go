package migrations_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/harborough-csp/hotspot/geo"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
	"github.com/harborough-csp/hotspot/migrations"
)

func TestMain(m *testing.M) { os.Exit(storetest.Main(m)) }

func TestAllOrdered(t *testing.T) {
	ms, err := migrations.All()
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range ms {
		if m.Version != i+1 {
			t.Errorf("migration %d has version %d; want versions 1, 2, 3... without gaps", i, m.Version)
		}
		if strings.TrimSpace(m.SQL) == "" || len(m.SHA256) != 64 {
			t.Errorf("migration %04d_%s is empty or unsummed", m.Version, m.Name)
		}
	}
}

// TestEditedMigrationRefused checks the forward-only rule: a database whose
// record of an applied file disagrees with the embedded file is refused.
func TestEditedMigrationRefused(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	if _, err := pool.Exec(ctx, `UPDATE schema_migrations SET sha256 = 'edited' WHERE version = 1`); err != nil {
		t.Fatal(err)
	}
	if _, err := migrations.Apply(ctx, pool); !errors.Is(err, migrations.ErrEdited) {
		t.Errorf("Apply() after an edit = %v; want ErrEdited", err)
	}
}

// TestApplyConcurrently runs Apply from several goroutines on a fresh
// database: the advisory lock must let exactly one apply each file.
func TestApplyConcurrently(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	// Start from nothing: drop what the template brought.
	if _, err := pool.Exec(ctx, `DROP SCHEMA IF EXISTS open CASCADE; DROP SCHEMA public CASCADE; CREATE SCHEMA public;`); err != nil {
		t.Fatal(err)
	}
	errs := make(chan error, 4)
	applied := make(chan int, 4)
	for i := 0; i < 4; i++ {
		go func() {
			names, err := migrations.Apply(ctx, pool)
			applied <- len(names)
			errs <- err
		}()
	}
	total := 0
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Errorf("Apply() error = %v", err)
		}
		total += <-applied
	}
	all, _ := migrations.All()
	if total != len(all) {
		t.Errorf("files applied across 4 concurrent Apply calls = %d; want %d", total, len(all))
	}
}

// TestCategoriesMatchVocabulary keeps the seeded categories table and the
// parser's list of police.uk categories in step.
func TestCategoriesMatchVocabulary(t *testing.T) {
	pool := storetest.DB(t)
	rows, err := pool.Query(context.Background(), `SELECT slug, name FROM categories ORDER BY slug`)
	if err != nil {
		t.Fatal(err)
	}
	inDB := map[string]string{}
	for rows.Next() {
		var slug, name string
		if err := rows.Scan(&slug, &name); err != nil {
			t.Fatal(err)
		}
		inDB[slug] = name
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := geo.PoliceUKCategories()
	if len(inDB) != len(want) {
		t.Errorf("categories table has %d rows; geo lists %d", len(inDB), len(want))
	}
	for _, c := range want {
		if inDB[c.Slug] != c.Name {
			t.Errorf("categories[%q] = %q; want %q", c.Slug, inDB[c.Slug], c.Name)
		}
	}
}
