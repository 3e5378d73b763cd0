package anon_test

import (
	"context"
	"errors"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/harborough-csp/hotspot/geo/anon"
	"github.com/harborough-csp/hotspot/geo/store/storetest"
)

// TestPublicPoolCannotReadPreciseData checks the physical separation:
// through the public pool, precise and private tables are refused by
// PostgreSQL itself, and the public ones can be read but not written.
func TestPublicPoolCannotReadPreciseData(t *testing.T) {
	pool := storetest.DB(t)
	ctx := context.Background()
	pub, err := anon.PublicPool(ctx, pool)
	if err != nil {
		t.Fatalf("PublicPool() error = %v", err)
	}
	defer pub.Close()
	if _, err := anon.Rebuild(ctx, pool, anon.Options{}); err != nil {
		t.Fatal(err)
	}

	denied := []string{
		`SELECT * FROM incidents`,
		`SELECT count(*) FROM incidents`,
		`SELECT geom FROM public.incidents LIMIT 1`,
		`SELECT * FROM quarantine`,
		`SELECT * FROM import_batches`,
		`SELECT * FROM postcodes`,
		`SELECT * FROM map_point_ids`,
		`SELECT * FROM sensitive_categories`,
		`SELECT * FROM data_version`,
		`SELECT * FROM schema_migrations`,
		`SELECT * FROM users`,
		`SELECT * FROM sessions`,
		`SELECT * FROM api_tokens`,
		`SELECT * FROM audit_log`,
		// Added by later capabilities: the geocoder's gazetteer (council
		// address points), people's placements, the partner queue and
		// rules, the private hotspots (repeat locations are points).
		`SELECT * FROM gazetteer`,
		`SELECT * FROM gazetteer_version`,
		`SELECT * FROM geocode_decisions`,
		`SELECT * FROM review_queue`,
		`SELECT * FROM partner_category_map`,
		`SELECT * FROM hotspots`,
		`SELECT * FROM hotspot_sets`,
		`SELECT * FROM hotspot_runs`,
		`SELECT * FROM hotspot_current`,
		// The role cannot be shed: RESET returns to the session's default,
		// which is the public role.
		`RESET ROLE; SELECT * FROM incidents`,
		// Nor dropped: the session logged in as the public role, so there
		// is no other role to go back to.
		`SET ROLE NONE; SELECT * FROM incidents`,
		`SET SESSION AUTHORIZATION DEFAULT; SELECT * FROM incidents`,
	}
	for _, sql := range denied {
		_, err := pub.Exec(ctx, sql)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "42501" {
			t.Errorf("public pool: %s: error = %v; want permission denied (42501)", sql, err)
		}
	}
	allowed := []string{
		`SELECT count(*) FROM crimes`, // search_path is open first
		`SELECT count(*) FROM open.crimes`,
		`SELECT count(*) FROM open.crimes_no_location`,
		`SELECT count(*) FROM open.map_points`,
		`SELECT count(*) FROM open.area_counts`,
		`SELECT count(*) FROM open.categories`,
		`SELECT count(*) FROM open.meta`,
		`SELECT count(*) FROM boundaries`,
		`SELECT count(*) FROM categories`,
		`SELECT ST_AsText(ST_Transform(ST_SetSRID(ST_MakePoint(-0.92, 52.48), 4326), 27700))`,
	}
	for _, sql := range allowed {
		if _, err := pub.Exec(ctx, sql); err != nil {
			t.Errorf("public pool: %s: error = %v; want it allowed", sql, err)
		}
	}
	for _, sql := range []string{`DELETE FROM open.crimes`, `INSERT INTO open.meta (built_at, build_ms, months, min_postcode_units, min_count, force, method) VALUES (now(), 0, '{}', 8, 3, 'x', 'x')`} {
		var pe *pgconn.PgError
		if _, err := pub.Exec(ctx, sql); !errors.As(err, &pe) || (pe.Code != "25006" && pe.Code != "42501") {
			t.Errorf("public pool: %s: error = %v; want read-only or permission denied", sql, err)
		}
	}
	var session string
	if err := pub.QueryRow(ctx, `SELECT session_user`).Scan(&session); err != nil || session != anon.PublicRole {
		t.Errorf("public pool session_user = %q, %v; want %q (it logs in as the public role)", session, err, anon.PublicRole)
	}
	var user string
	if err := pub.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user != anon.PublicRole {
		t.Errorf("public pool current_user = %q, %v; want %q", user, err, anon.PublicRole)
	}
	// The main pool is untouched.
	if err := pool.QueryRow(ctx, `SELECT current_user`).Scan(&user); err != nil || user == anon.PublicRole {
		t.Errorf("main pool current_user = %q, %v; want the server's own user", user, err)
	}
}
