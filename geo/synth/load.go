package synth

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/paulmach/orb"

	"github.com/harborough-csp/hotspot/geo"
)

// Summary reports what one Load did. Generated = Inserted +
// AlreadyPresent always holds.
type Summary struct {
	BatchID        int64
	Seed           uint64
	Generated      int
	Inserted       int
	AlreadyPresent int
	// Replaced counts the earlier synthetic rows deleted by Replace.
	Replaced int
	// Seeds is how many seed points the rows were drawn from, and
	// FromDatabase whether they were real incidents (false: the built-in
	// places).
	Seeds        int
	FromDatabase bool
	// RebuiltIndexes says the incidents indexes were dropped for the load
	// and built again after it (see Load).
	RebuiltIndexes bool
	Duration       time.Duration
}

// RowsPerSecond is the rate of the whole run, generation to commit.
func (s Summary) RowsPerSecond() float64 {
	if s.Duration <= 0 {
		return 0
	}
	return float64(s.Generated) / s.Duration.Seconds()
}

// seedsSQL reads the seed points: real incidents in the district (police.uk
// says which by its LSOA names, "Harborough 001A"; the district outline,
// when loaded, says it for any source), by category, point and location
// text, with how many incidents each has. The order is total and
// independent of collation, so the same data gives the same seeds.
const seedsSQL = `SELECT i.category, ST_X(i.geom), ST_Y(i.geom), i.location_text, count(*)
FROM incidents i
WHERE NOT i.synthetic AND i.geom IS NOT NULL AND i.category = ANY($1)
	AND (i.lsoa_name LIKE $2
		OR EXISTS (SELECT 1 FROM boundaries b WHERE b.kind = $3 AND ST_Intersects(b.geom_bng, i.geom_bng)))
GROUP BY 1, 2, 3, 4
ORDER BY i.category COLLATE "C", 2, 3, i.location_text COLLATE "C"`

// Values for seedsSQL.
const (
	districtLSOAPattern = "Harborough %"
	districtKind        = "district"
)

// ReadSeeds returns seeds from the real (non-synthetic) incidents in the
// district: one per category, map point and location text, weighted by
// its number of incidents, jittered by RealSpread. It returns none when
// there are no such incidents.
func ReadSeeds(ctx context.Context, q Querier) ([]Seed, error) {
	var slugs []string
	for _, c := range geo.PoliceUKCategories() {
		slugs = append(slugs, c.Slug)
	}
	rows, err := q.Query(ctx, seedsSQL, slugs, districtLSOAPattern, districtKind)
	if err != nil {
		return nil, fmt.Errorf("read seeds: %w", err)
	}
	var seeds []Seed
	for rows.Next() {
		var (
			cat, text string
			p         orb.Point
			n         int64
		)
		if err := rows.Scan(&cat, &p[0], &p[1], &text, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("read seeds: %w", err)
		}
		pl := &places[nearestPlace(p)]
		streets := pl.streets
		if s := streetName(text); s != "" {
			streets = []string{s}
		}
		seeds = append(seeds, Seed{Category: cat, Point: p, Spread: RealSpread, Streets: streets, Town: pl.town, Weight: float64(n)})
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read seeds: %w", err)
	}
	return seeds, nil
}

// Querier is what ReadSeeds needs: a pool, a connection or a transaction.
type Querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

const deleteSynthetic = `DELETE FROM incidents WHERE synthetic`

const insertBatch = `INSERT INTO import_batches (source, file_name, file_sha256, file_bytes)
VALUES ($1, $2, '', 0) RETURNING id`

const finishBatch = `UPDATE import_batches SET rows_read = $2, inserted = $3, already_present = $4, finished_at = now()
WHERE id = $1`

// bumpDataVersion is ingest.BumpDataVersion (siblings do not import each
// other): caches keyed on the data version must forget what they made.
const bumpDataVersion = `UPDATE data_version SET version = version + 1, changed_at = now()`

const createStaging = `CREATE TEMP TABLE synth_staging (
	source_id     text NOT NULL,
	category      text NOT NULL,
	occurred_from timestamptz NOT NULL,
	occurred_to   timestamptz NOT NULL,
	location_text text NOT NULL,
	outcome       text NOT NULL,
	lon           double precision NOT NULL,
	lat           double precision NOT NULL
) ON COMMIT DROP`

var stagingColumns = []string{"source_id", "category", "occurred_from", "occurred_to",
	"location_text", "outcome", "lon", "lat"}

// insertColumns moves the staged rows into incidents, the point in all
// three systems as ingest writes them (ST_Transform in the select list,
// see migrations/0001). $1 is the source, $2 the context, $3 the batch.
const (
	insertColumns = `INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to,
	location_text, outcome, context, geom, geom_bng, geom_web, batch_id, synthetic)
SELECT $1, s.source_id, s.category, s.occurred_from, s.occurred_to,
	s.location_text, s.outcome, $2, p.geom, ST_Transform(p.geom, 27700), ST_Transform(p.geom, 3857),
	$3, true
FROM synth_staging s
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) AS geom) p`

	// insertIncidents leaves a row that is already there (same seed and
	// n) as it was.
	insertIncidents = insertColumns + `
ON CONFLICT (source, source_id) DO NOTHING`

	// insertBulk is for a bulk load, whose staging table dropDuplicates
	// has already cleared of rows that are there, under a lock that keeps
	// other writers out: no unique index need be consulted per row.
	insertBulk = insertColumns
)

// lockForBulk keeps other writers out of incidents (readers may go on)
// between dropDuplicates and the insert; dropping indexes later raises it
// to ACCESS EXCLUSIVE, which holds readers back too, until commit.
const lockForBulk = `LOCK TABLE incidents IN SHARE ROW EXCLUSIVE MODE`

// dropDuplicates removes from staging the rows incidents already has.
const dropDuplicates = `DELETE FROM synth_staging s USING incidents i
WHERE i.source = $1 AND i.source_id = s.source_id`

const countIncidents = `SELECT count(*) FROM incidents`

const liftTimeout = `SET LOCAL statement_timeout = 0`

// bulkMin is the smallest number of new rows for which Load considers a
// bulk load: fewer are cheaper to insert with the indexes in place.
var bulkMin = 50_000

// Load generates opts.Incidents synthetic incidents and loads them into
// incidents in one transaction, as one import batch (source "synth",
// file name "synth seed=S n=N"), and bumps the data version when rows
// changed. Seeds are the real incidents in the district (ReadSeeds), or
// the built-in places when there are none.
//
// Rows are generated as they are streamed (CopyFrom) into a temporary
// staging table and moved into incidents with one INSERT ... SELECT. A
// big load (at least 50,000 new rows, and at least half as many as the
// table holds) first drops the indexes and constraints of incidents that
// the primary key does not need, inserts, and builds them again: one
// sorted build of each GiST index costs much less than maintaining it row
// by row (see the package doc for the figures). While it runs, such a
// load holds incidents locked against readers as well as writers. The
// transaction runs without the pool's statement_timeout: ctx bounds it.
func Load(ctx context.Context, pool *pgxpool.Pool, opts Options) (Summary, error) {
	start := time.Now()
	sum := Summary{Seed: opts.Seed, Generated: opts.Incidents}
	if err := opts.check(); err != nil {
		return sum, err
	}
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		// The pool's statement_timeout guards requests; a load of tens of
		// millions of rows is a batch job whose INSERT and index builds
		// may run for minutes. ctx is what stops it.
		if _, err := tx.Exec(ctx, liftTimeout); err != nil {
			return err
		}
		seeds, err := ReadSeeds(ctx, tx)
		if err != nil {
			return err
		}
		sum.FromDatabase = len(seeds) > 0
		if !sum.FromDatabase {
			seeds = BuiltinSeeds()
		}
		sum.Seeds = len(seeds)
		gen, err := NewGenerator(seeds, opts)
		if err != nil {
			return err
		}
		if opts.Replace {
			tag, err := tx.Exec(ctx, deleteSynthetic)
			if err != nil {
				return fmt.Errorf("delete earlier synthetic rows: %w", err)
			}
			sum.Replaced = int(tag.RowsAffected())
		}
		name := fmt.Sprintf("synth seed=%d n=%d", opts.Seed, opts.Incidents)
		if err := tx.QueryRow(ctx, insertBatch, Source, name).Scan(&sum.BatchID); err != nil {
			return fmt.Errorf("import batch: %w", err)
		}
		if _, err := tx.Exec(ctx, createStaging); err != nil {
			return err
		}
		n, err := tx.CopyFrom(ctx, pgx.Identifier{"synth_staging"}, stagingColumns, &stagingSource{gen: gen})
		if err != nil {
			return fmt.Errorf("copy: %w", err)
		}
		if int(n) != opts.Incidents {
			return fmt.Errorf("staged %d rows; want %d", n, opts.Incidents)
		}

		insert := insertIncidents
		var dropped *dropped
		if opts.Incidents >= bulkMin {
			if _, err := tx.Exec(ctx, lockForBulk); err != nil {
				return fmt.Errorf("lock incidents: %w", err)
			}
			tag, err := tx.Exec(ctx, dropDuplicates, Source)
			if err != nil {
				return fmt.Errorf("drop duplicates: %w", err)
			}
			fresh := opts.Incidents - int(tag.RowsAffected())
			var have int
			if err := tx.QueryRow(ctx, countIncidents).Scan(&have); err != nil {
				return fmt.Errorf("count incidents: %w", err)
			}
			insert = insertBulk
			if fresh >= bulkMin && 2*fresh >= have {
				if dropped, err = dropIndexes(ctx, tx); err != nil {
					return err
				}
				sum.RebuiltIndexes = true
			}
		}
		tag, err := tx.Exec(ctx, insert, Source, Context, sum.BatchID)
		if err != nil {
			return fmt.Errorf("insert incidents: %w", err)
		}
		sum.Inserted = int(tag.RowsAffected())
		sum.AlreadyPresent = sum.Generated - sum.Inserted
		if err := dropped.restore(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, finishBatch, sum.BatchID, sum.Generated, sum.Inserted, sum.AlreadyPresent); err != nil {
			return fmt.Errorf("finish import batch: %w", err)
		}
		if sum.Inserted > 0 || sum.Replaced > 0 {
			if _, err := tx.Exec(ctx, bumpDataVersion); err != nil {
				return err
			}
		}
		return nil
	})
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, fmt.Errorf("synth seed %d: %w", opts.Seed, err)
	}
	return sum, nil
}

// stagingSource feeds generated rows to CopyFrom as they are made, so
// memory stays flat however many rows are asked for.
type stagingSource struct {
	gen *Generator
	in  geo.Incident
}

func (s *stagingSource) Next() bool {
	if !s.gen.More() {
		return false
	}
	s.in = s.gen.Next()
	return true
}

func (s *stagingSource) Values() ([]any, error) {
	in := &s.in
	return []any{in.SourceID, in.Category, in.Occurred.From, in.Occurred.To,
		in.LocationText, in.Outcome, in.Point[0], in.Point[1]}, nil
}

func (s *stagingSource) Err() error { return nil }

// listIndexes names the indexes of incidents that no constraint owns, with
// the statements that make them again. Indexes that later migrations add
// come along without this code knowing them.
const listIndexes = `SELECT format('%I.%I', n.nspname, c.relname), pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE i.indrelid = 'incidents'::regclass
	AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY c.relname`

// listConstraints names the constraints of incidents that cost per row
// and that a bulk load may drop: foreign keys (checked row by row) and
// unique constraints that no foreign key leans on. The primary key and
// CHECKs stay. Unique constraints come first, so they are restored
// before the foreign keys.
const listConstraints = `SELECT format('%I', c.conname), pg_get_constraintdef(c.oid)
FROM pg_constraint c
WHERE c.conrelid = 'incidents'::regclass
	AND (c.contype = 'f'
		OR (c.contype = 'u' AND NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' AND r.conindid = c.conindid)))
ORDER BY c.contype = 'f', c.conname`

// dropped is what dropIndexes took away, to put back.
type dropped struct {
	indexes     [][2]string // name, CREATE INDEX statement
	constraints [][2]string // name, definition
}

func dropIndexes(ctx context.Context, tx pgx.Tx) (*dropped, error) {
	d := &dropped{}
	var err error
	if d.indexes, err = pairs(ctx, tx, listIndexes); err != nil {
		return nil, fmt.Errorf("list indexes: %w", err)
	}
	if d.constraints, err = pairs(ctx, tx, listConstraints); err != nil {
		return nil, fmt.Errorf("list constraints: %w", err)
	}
	// Names come from the catalogue, quoted by format('%I'); nothing here
	// comes from a caller.
	for i := len(d.constraints) - 1; i >= 0; i-- { // foreign keys first
		if _, err := tx.Exec(ctx, "ALTER TABLE incidents DROP CONSTRAINT "+d.constraints[i][0]); err != nil {
			return nil, fmt.Errorf("drop constraint %s: %w", d.constraints[i][0], err)
		}
	}
	for _, x := range d.indexes {
		if _, err := tx.Exec(ctx, "DROP INDEX "+x[0]); err != nil {
			return nil, fmt.Errorf("drop index %s: %w", x[0], err)
		}
	}
	return d, nil
}

// restore builds again what dropIndexes dropped, with a larger
// maintenance_work_mem so that each build sorts in memory.
func (d *dropped) restore(ctx context.Context, tx pgx.Tx) error {
	if d == nil {
		return nil
	}
	if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
		return err
	}
	for _, c := range d.constraints {
		if _, err := tx.Exec(ctx, "ALTER TABLE incidents ADD CONSTRAINT "+c[0]+" "+c[1]); err != nil {
			return fmt.Errorf("restore constraint %s: %w", c[0], err)
		}
	}
	for _, x := range d.indexes {
		if _, err := tx.Exec(ctx, x[1]); err != nil {
			return fmt.Errorf("rebuild index %s: %w", x[0], err)
		}
	}
	return nil
}

func pairs(ctx context.Context, tx pgx.Tx, sql string) ([][2]string, error) {
	rows, err := tx.Query(ctx, sql)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) ([2]string, error) {
		var p [2]string
		err := r.Scan(&p[0], &p[1])
		return p, err
	})
}
