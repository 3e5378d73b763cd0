package tiles

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Morton is the cell key of column cx and row cy (bits interleaved), as
// the database's tile_morton computes it.
func Morton(cx, cy uint32) int64 { return morton(cx, cy) }

// ExplainTile runs every query the incidents and density layers may run
// for r (the point budget's count, the points, the clusters and the
// density cells) under EXPLAIN (ANALYZE, FORMAT JSON), with the
// parameters those layers pass, and returns the plans: for tests and
// benchmarks that check the queries stay on their indexes.
func ExplainTile(ctx context.Context, pool *pgxpool.Pool, r Request) ([][]byte, error) {
	s := New(pool)
	cats, err := s.categories(ctx, r.Filter)
	if err != nil {
		return nil, err
	}
	t := r.Tile
	lo, hi := keyRange(t, countLevel(t.Z))
	m1, m2 := monthBounds(r.Filter)
	qs := []struct {
		sql  string
		args []any
	}{
		{countSQL, []any{countLevel(t.Z), lo, hi, m1, m2, catsArg(cats)}},
		{clusterSQL, cellArgs(t, clusterLevel(t.Z), r.Filter, cats)},
		{densitySQL, cellArgs(t, densityLevel(t.Z), r.Filter, cats)},
	}
	if t.Z >= PointMinZoom {
		qs = append(qs, struct {
			sql  string
			args []any
		}{pointsSQL, []any{int(t.Z), int(t.X), int(t.Y), float64(Buffer) / Extent, timeArg(r.Filter.From), timeArg(r.Filter.To), catsArg(cats)}})
	}
	var plans [][]byte
	for _, q := range qs {
		var p []byte
		args := append([]any{pgx.QueryExecModeExec}, q.args...)
		if err := pool.QueryRow(ctx, "EXPLAIN (ANALYZE, FORMAT JSON) "+q.sql, args...).Scan(&p); err != nil {
			return nil, fmt.Errorf("explain: %w", err)
		}
		plans = append(plans, p)
	}
	return plans, nil
}
