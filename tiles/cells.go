package tiles

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb/maptile"
)

// CellLevels are the cell sizes kept in tile_cells, as Web Mercator zoom
// levels: a cell of level L is a tile of zoom L (level 20: 38 m in Web
// Mercator, about 23 m on the ground at Harborough). They must match
// migrations' tile_cells CHECK and triggers (TestCellLevels).
var CellLevels = []int{12, 14, 16, 18, 20}

// finestLevel is the last of CellLevels.
const finestLevel = 20

// CellsAcross is the least number of density cells across a tile: a tile
// of zoom z is drawn with the first stored level at or past z+5, so 32 or
// 64 cells across (8 or 16 screen pixels a cell on a 512-pixel tile),
// until the finest level is reached.
const cellsAcrossLog2 = 5

// densityLevel is the cell level a zoom's density and cluster tiles use.
func densityLevel(z maptile.Zoom) int {
	want := int(z) + cellsAcrossLog2
	for _, l := range CellLevels {
		if l >= want {
			return l
		}
	}
	return finestLevel
}

// clusterLevel is the cell level of the incidents layer's clusters: one
// step coarser than density's (16 to 32 clusters across a tile), since a
// cluster is a symbol, not a fill, and a coarser level reads fewer rows.
func clusterLevel(z maptile.Zoom) int {
	want := int(z) + cellsAcrossLog2 - 1
	for _, l := range CellLevels {
		if l >= want {
			return l
		}
	}
	return finestLevel
}

// countLevel is the coarsest level whose cells nest in a tile of zoom z
// (fewest rows to sum), or the finest for a tile smaller than a cell.
func countLevel(z maptile.Zoom) int {
	for _, l := range CellLevels {
		if l >= int(z) {
			return l
		}
	}
	return finestLevel
}

// spread moves bit i of v to bit 2i.
func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// morton is the cell key: cx's bits at even positions, cy's at odd ones,
// as the database's tile_morton.
func morton(cx, cy uint32) int64 { return int64(spread(cx) | spread(cy)<<1) }

// keyRange is the half-open range of cell keys of level l inside tile t
// (for l >= t.Z), or the one cell that holds t (for l < t.Z).
func keyRange(t maptile.Tile, l int) (lo, hi int64) {
	z := int(t.Z)
	if l >= z {
		d := uint(l - z)
		m := morton(t.X, t.Y)
		return m << (2 * d), (m + 1) << (2 * d)
	}
	d := uint(z - l)
	m := morton(t.X>>d, t.Y>>d)
	return m, m + 1
}

// cellSQL is the cells of one tile at one level, with their counts and
// coordinate sums, from the month aggregates for whole months and from
// the incidents themselves for partial months at the ends of a day range.
//
//	$1..$3 z, x, y; $4 level; $5, $6 key range; $7, $8 first and last
//	whole month (NULL: open); $9 categories (NULL: all); $10 true when no
//	whole month is asked for; $11..$14 two [start, end) partial ranges.
const cellSQL = `
c AS MATERIALIZED (
	SELECT u.cx, u.cy, sum(u.n)::bigint AS n, sum(u.sx) AS sx, sum(u.sy) AS sy FROM (
		SELECT c.cx, c.cy, c.n, c.sx, c.sy
		FROM tile_cells c
		WHERE c.level = $4::int AND c.key >= $5::bigint AND c.key < $6::bigint AND NOT $10::bool
		  AND ($7::date IS NULL OR c.month >= $7::date) AND ($8::date IS NULL OR c.month <= $8::date)
		  AND ($9::text[] IS NULL OR c.category = ANY ($9::text[]))
		UNION ALL
		SELECT floor((ST_X(i.geom_web) + 20037508.342789244) / (40075016.685578488 / 1048576))::integer >> (20 - $4::int),
		       floor((20037508.342789244 - ST_Y(i.geom_web)) / (40075016.685578488 / 1048576))::integer >> (20 - $4::int),
		       1, ST_X(i.geom_web), ST_Y(i.geom_web)
		FROM incidents i
		WHERE i.geom_web && ST_TileEnvelope(least($1::int, $4::int), $2::int >> greatest($1::int - $4::int, 0), $3::int >> greatest($1::int - $4::int, 0))
		  AND ((i.occurred_from >= $11::timestamptz AND i.occurred_from < $12::timestamptz)
		    OR (i.occurred_from >= $13::timestamptz AND i.occurred_from < $14::timestamptz))
		  AND ($9::text[] IS NULL OR i.category = ANY ($9::text[]))
	) u
	GROUP BY 1, 2
)`

// cellEnv is the tile's envelope. The partial days' branch of cellSQL
// does not read it: it writes its area (the tile, or the one cell that
// holds a tile smaller than a cell) as an expression of the parameters,
// which the planner folds into a constant and can estimate. Through the
// CTE, whose value it cannot see, it took the district-wide zoom 8 box
// for a small one and read 494,000 index entries of geom_web instead of
// 10,000 of occurred_from (290 ms against 14).
const cellEnv = `
WITH env AS (
	SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile,
	       ST_TileEnvelope($1::int, $2::int, $3::int, margin => $15::float8) AS area
),`

// densitySQL draws each cell as its square with its count.
const densitySQL = cellEnv + cellSQL + `
SELECT ST_AsMVT(t, 'density', 4096, 'geom') FROM (
	SELECT ST_AsMVTGeom(ST_MakeEnvelope(
	           c.cx * w.m - 20037508.342789244, 20037508.342789244 - (c.cy + 1) * w.m,
	           (c.cx + 1) * w.m - 20037508.342789244, 20037508.342789244 - c.cy * w.m, 3857),
	       env.tile, 4096, 0, true) AS geom,
	       c.n AS count, $4::int AS level
	FROM c CROSS JOIN env CROSS JOIN (SELECT 40075016.685578488::float8 / (1::bigint << $4::int) AS m) w
) t WHERE t.geom IS NOT NULL`

// clusterSQL draws each cell as one point at the mean position of its
// incidents, for the incidents layer where points would be too many.
const clusterSQL = cellEnv + cellSQL + `
SELECT ST_AsMVT(t, 'incidents', 4096, 'geom') FROM (
	SELECT ST_AsMVTGeom(ST_SetSRID(ST_MakePoint(c.sx / c.n, c.sy / c.n), 3857), env.tile, 4096, 64, true) AS geom,
	       c.n AS count, true AS aggregated, $4::int AS level
	FROM c CROSS JOIN env
) t WHERE t.geom IS NOT NULL`

// publicDensitySQL is densitySQL over the anonymised cells (open.*
// only), by whole months, with every count below open.meta.min_count
// withheld: such a cell says "suppressed" and carries no number.
const publicDensitySQL = `
WITH env AS (SELECT ST_TileEnvelope($1::int, $2::int, $3::int) AS tile),
meta AS (SELECT min_count FROM open.meta),
c AS MATERIALIZED (
	SELECT c.cx, c.cy, sum(c.n)::bigint AS n
	FROM open.tile_cells c
	WHERE c.level = $4::int AND c.key >= $5::bigint AND c.key < $6::bigint
	  AND ($7::date IS NULL OR c.month >= $7::date) AND ($8::date IS NULL OR c.month <= $8::date)
	  AND ($9::text[] IS NULL OR c.category = ANY ($9::text[]))
	GROUP BY 1, 2
)
SELECT ST_AsMVT(t, 'density', 4096, 'geom') FROM (
	SELECT ST_AsMVTGeom(ST_MakeEnvelope(
	           c.cx * w.m - 20037508.342789244, 20037508.342789244 - (c.cy + 1) * w.m,
	           (c.cx + 1) * w.m - 20037508.342789244, 20037508.342789244 - c.cy * w.m, 3857),
	       env.tile, 4096, 0, true) AS geom,
	       CASE WHEN c.n >= meta.min_count THEN c.n END AS count,
	       c.n < meta.min_count AS suppressed,
	       $4::int AS level
	FROM c CROSS JOIN meta CROSS JOIN env CROSS JOIN (SELECT 40075016.685578488::float8 / (1::bigint << $4::int) AS m) w
) t WHERE t.geom IS NOT NULL`

// countSQL is an upper bound of the incidents in a tile matching the
// filter: whole months around any partial ones, cells of a level that
// nests in the tile (or the cell holding it).
const countSQL = `
SELECT coalesce(sum(c.n), 0)::bigint
FROM tile_cells c
WHERE c.level = $1::int AND c.key >= $2::bigint AND c.key < $3::bigint
  AND ($4::date IS NULL OR c.month >= $4::date) AND ($5::date IS NULL OR c.month <= $5::date)
  AND ($6::text[] IS NULL OR c.category = ANY ($6::text[]))`

// cellArgs are the parameters of cellSQL for tile t at level l.
func cellArgs(t maptile.Tile, l int, f Filter, cats []string) []any {
	lo, hi := keyRange(t, l)
	s := f.span()
	var catArg any
	if cats != nil {
		catArg = cats
	}
	return []any{int(t.Z), int(t.X), int(t.Y), l, lo, hi, s.m1, s.m2, catArg, s.empty,
		s.partial[0][0], s.partial[0][1], s.partial[1][0], s.partial[1][1], float64(Buffer) / Extent}
}

// monthBounds are the first and last months touched by f (nil: open).
func monthBounds(f Filter) (m1, m2 any) {
	if !f.From.IsZero() {
		m1 = time.Date(f.From.Year(), f.From.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	if !f.To.IsZero() {
		last := f.To.AddDate(0, 0, -1)
		m2 = time.Date(last.Year(), last.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return m1, m2
}

// The cell CTEs are MATERIALIZED: inlined, the planner pushed the
// outer "geom IS NOT NULL" (an ST_AsMVTGeom of the cell's square) below
// the GROUP BY, into the scan, and drew a square for every incident of a
// day range rather than for every cell (118 ms against 10 at zoom 8 on
// 1M incidents).

// queryBytes runs one tile query. Every tile query runs as an unnamed
// statement (QueryExecModeExec), so PostgreSQL plans it with the actual
// parameters each time: a cached generic plan cannot see that a tile is
// small and was seen choosing a sequential scan.
func queryBytes(ctx context.Context, pool *pgxpool.Pool, sql string, args ...any) ([]byte, error) {
	var b []byte
	err := pool.QueryRow(ctx, sql, append([]any{pgx.QueryExecModeExec}, args...)...).Scan(&b)
	return b, err
}

// refreshSQL rebuilds both cell tables from scratch, as the triggers and
// the open.meta trigger of migrations keep them.
const refreshSQL = `
DELETE FROM tile_cells;
INSERT INTO tile_cells (level, key, cx, cy, month, category, n, sx, sy)
WITH f AS (
	SELECT floor((ST_X(geom_web) + 20037508.342789244) / (40075016.685578488 / 1048576))::integer AS cx,
	       floor((20037508.342789244 - ST_Y(geom_web)) / (40075016.685578488 / 1048576))::integer AS cy,
	       date_trunc('month', occurred_from AT TIME ZONE 'UTC')::date AS month, category,
	       count(*) AS n, sum(ST_X(geom_web)) AS sx, sum(ST_Y(geom_web)) AS sy
	FROM incidents WHERE geom_web IS NOT NULL
	GROUP BY 1, 2, 3, 4
)
SELECT l.level, tile_morton(f.cx >> (20 - l.level), f.cy >> (20 - l.level)),
       f.cx >> (20 - l.level), f.cy >> (20 - l.level), f.month, f.category,
       sum(f.n)::integer, sum(f.sx), sum(f.sy)
FROM f CROSS JOIN unnest(ARRAY[12, 14, 16, 18, 20]) AS l(level)
GROUP BY 1, 2, 3, 4, 5, 6;
SELECT open_tile_cells_build();
UPDATE data_version SET version = version + 1, changed_at = now()`

// RefreshSummary reports what Refresh wrote.
type RefreshSummary struct {
	Cells, PublicCells int64
	// Clustered says the incidents were put in spatial order (Cluster).
	Clustered bool
	Duration  time.Duration
}

// clusterSQL puts incidents in the order of their Web Mercator GiST index,
// so the points of one tile sit on a few neighbouring pages rather than
// one page each (rows arrive in time order, or, from synth, at random).
const clusterIncidentsSQL = `CLUSTER incidents USING incidents_geom_web_idx`

// Cluster rewrites the incidents table in spatial order (CLUSTER on the
// geom_web index) and analyses it. It holds an exclusive lock on
// incidents while it runs (about a minute per million rows here): no
// tile, import or query can use the table meanwhile, so run it when the
// service is quiet. Rows imported later go at the end, out of order,
// until the next run.
func Cluster(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return err
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SET statement_timeout = 0`); err != nil {
		return err
	}
	defer conn.Exec(context.WithoutCancel(ctx), `RESET statement_timeout`) //nolint:errcheck // the session setting goes with the connection anyway
	if _, err := conn.Exec(ctx, clusterIncidentsSQL); err != nil {
		return fmt.Errorf("cluster incidents: %w", err)
	}
	// A rewritten table has no visibility map yet, which index-only scans
	// (day ranges, see migrations) need.
	if _, err := conn.Exec(ctx, `VACUUM (ANALYZE) incidents`); err != nil {
		return fmt.Errorf("vacuum incidents: %w", err)
	}
	return nil
}

// Refresh rebuilds the tile aggregates (tile_cells and open.tile_cells)
// from the incidents and the public data in one transaction, and bumps
// the data version. The triggers keep them right as data changes; this is
// for a database restored from elsewhere, or to check them.
func Refresh(ctx context.Context, pool *pgxpool.Pool) (RefreshSummary, error) {
	start := time.Now()
	var sum RefreshSummary
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL statement_timeout = 0`); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, refreshSQL); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT (SELECT count(*) FROM tile_cells), (SELECT count(*) FROM open.tile_cells)`).Scan(&sum.Cells, &sum.PublicCells)
	})
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, fmt.Errorf("tiles refresh: %w", err)
	}
	return sum, nil
}
