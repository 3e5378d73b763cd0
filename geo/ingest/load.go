package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Summary reports what one import did. Read = Inserted + AlreadyPresent +
// Quarantined always holds; NoLocation counts the rows read without
// coordinates, which are kept (inserted or already present) like any other.
type Summary struct {
	File           string
	BatchID        int64
	SHA256         string
	Read           int
	Inserted       int
	AlreadyPresent int
	NoLocation     int
	Quarantined    int
	// QuarantinedBy counts quarantined rows by the kind of their reason.
	QuarantinedBy map[string]int
	Duration      time.Duration
}

// Reasons returns the quarantine reason kinds in a stable order.
func (s Summary) Reasons() []string {
	var ks []string
	for k := range s.QuarantinedBy {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

const createStaging = `CREATE TEMP TABLE staging_incidents (
	line_no       integer NOT NULL,
	raw           text,
	reason        text,
	source        text,
	source_id     text,
	category      text,
	occurred_from timestamptz,
	occurred_to   timestamptz,
	location_text text,
	lsoa_code     text,
	lsoa_name     text,
	outcome       text,
	context       text,
	reported_by   text,
	falls_within  text,
	lon           double precision,
	lat           double precision
) ON COMMIT DROP`

var stagingColumns = []string{
	"line_no", "raw", "reason", "source", "source_id", "category", "occurred_from", "occurred_to",
	"location_text", "lsoa_code", "lsoa_name", "outcome", "context", "reported_by", "falls_within", "lon", "lat",
}

const insertBatch = `INSERT INTO import_batches (source, file_name, file_sha256, file_bytes)
VALUES ($1, $2, '', 0) RETURNING id`

const countStaged = `SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL) FROM staging_incidents`

const insertQuarantine = `INSERT INTO quarantine (batch_id, line_no, raw, reason)
SELECT $1, line_no, raw, reason FROM staging_incidents WHERE reason IS NOT NULL ORDER BY line_no`

// insertIncidents moves the good staged rows into incidents, with the
// point in all three systems (see migrations/0001). A row whose (source,
// source_id) is already there is left as it was: a re-import adds nothing
// and changes nothing.
const insertIncidents = `INSERT INTO incidents (source, source_id, category, occurred_from, occurred_to,
	location_text, lsoa_code, lsoa_name, outcome, context, reported_by, falls_within,
	geom, geom_bng, geom_web, batch_id)
SELECT source, source_id, category, occurred_from, occurred_to,
	location_text, lsoa_code, lsoa_name, outcome, context, reported_by, falls_within,
	p.geom, ST_Transform(p.geom, 27700), ST_Transform(p.geom, 3857),
	$1
FROM staging_incidents s
CROSS JOIN LATERAL (SELECT CASE WHEN s.lon IS NULL THEN NULL
	ELSE ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END AS geom) p
WHERE s.reason IS NULL
ORDER BY s.line_no
ON CONFLICT (source, source_id) DO NOTHING`

const finishBatch = `UPDATE import_batches SET file_sha256 = $2, file_bytes = $3, rows_read = $4,
	inserted = $5, already_present = $6, no_location = $7, quarantined = $8, finished_at = now()
WHERE id = $1`

// BumpDataVersion marks the data as changed, so caches keyed on the data
// version stop serving what they made before.
const BumpDataVersion = `UPDATE data_version SET version = version + 1, changed_at = now()`

const importedSQL = `SELECT EXISTS (SELECT 1 FROM import_batches WHERE file_sha256 = $1 AND finished_at IS NOT NULL)`

// Imported reports whether a finished import batch had a file with this
// SHA-256 (hex), so a caller can skip a file it has loaded before.
func Imported(ctx context.Context, pool *pgxpool.Pool, sha256hex string) (bool, error) {
	var done bool
	if err := pool.QueryRow(ctx, importedSQL, sha256hex).Scan(&done); err != nil {
		return false, fmt.Errorf("check import batches: %w", err)
	}
	return done, nil
}

// ImportPoliceUKFile imports one police.uk street-level CSV file.
func ImportPoliceUKFile(ctx context.Context, pool *pgxpool.Pool, path string) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{File: path}, err
	}
	defer f.Close()
	return ImportPoliceUK(ctx, pool, filepath.Base(path), f)
}

// ImportPoliceUK loads one police.uk street-level CSV, named name, from r
// as one import batch in one transaction: if anything fails, nothing of the
// batch is left behind. Malformed rows go to quarantine with their line
// number and reason, and the rest of the file still loads.
func ImportPoliceUK(ctx context.Context, pool *pgxpool.Pool, name string, r io.Reader) (Summary, error) {
	start := time.Now()
	sum := Summary{File: name, QuarantinedBy: map[string]int{}}
	hasher := sha256.New()
	counter := &countingReader{r: io.TeeReader(r, hasher)}
	pr, err := NewPoliceUKReader(counter)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		sum.BatchID, err = stage(ctx, tx, SourcePoliceUK, name, createStaging, "staging_incidents", stagingColumns, policeUKSource(pr, &sum))
		if err != nil {
			return err
		}
		// Every row read must have reached the staging table, and every
		// rejected one the quarantine: check rather than trust the counters.
		var staged, bad int
		if err := tx.QueryRow(ctx, countStaged).Scan(&staged, &bad); err != nil {
			return err
		}
		if staged != sum.Read || bad != sum.Quarantined {
			return fmt.Errorf("staged %d rows (%d rejected) but read %d (%d rejected)", staged, bad, sum.Read, sum.Quarantined)
		}
		tag, err := tx.Exec(ctx, insertQuarantine, sum.BatchID)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != sum.Quarantined {
			return fmt.Errorf("quarantined %d rows; want %d", tag.RowsAffected(), sum.Quarantined)
		}
		tag, err = tx.Exec(ctx, insertIncidents, sum.BatchID)
		if err != nil {
			return err
		}
		sum.Inserted = int(tag.RowsAffected())
		sum.AlreadyPresent = sum.Read - sum.Quarantined - sum.Inserted
		sum.SHA256 = hex.EncodeToString(hasher.Sum(nil))
		if _, err := tx.Exec(ctx, finishBatch, sum.BatchID, sum.SHA256, counter.n, sum.Read,
			sum.Inserted, sum.AlreadyPresent, sum.NoLocation, sum.Quarantined); err != nil {
			return err
		}
		if sum.Inserted > 0 {
			if _, err := tx.Exec(ctx, BumpDataVersion); err != nil {
				return err
			}
		}
		return nil
	})
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", name, err)
	}
	return sum, nil
}

// stage opens an import batch for file name from source and streams src
// into a temporary staging table, made by createSQL, inside tx. A reader
// failure is returned as itself, not as the COPY error it caused.
func stage[R any](ctx context.Context, tx pgx.Tx, source, name, createSQL, table string, columns []string, src *copySource[R]) (int64, error) {
	var batch int64
	if err := tx.QueryRow(ctx, insertBatch, source, name).Scan(&batch); err != nil {
		return 0, err
	}
	if _, err := tx.Exec(ctx, createSQL); err != nil {
		return 0, err
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{table}, columns, src); err != nil {
		if src.err != nil {
			return 0, src.err
		}
		return 0, err
	}
	return batch, nil
}

// copySource adapts a streaming reader to pgx.CopyFromSource, pulling one
// record at a time so that a file of any size goes through CopyFrom in
// bounded memory. seen counts each record for the import's summary, and
// values turns it into the staging table's row.
type copySource[R any] struct {
	next   func() (R, error)
	seen   func(R)
	values func(R) []any
	rec    R
	err    error
	done   bool
}

func (s *copySource[R]) Next() bool {
	if s.done {
		return false
	}
	rec, err := s.next()
	if err != nil {
		s.done = true
		if !errors.Is(err, io.EOF) {
			s.err = err
		}
		return false
	}
	s.rec = rec
	s.seen(rec)
	return true
}

func (s *copySource[R]) Values() ([]any, error) { return s.values(s.rec), nil }

func (s *copySource[R]) Err() error { return s.err }

// policeUKSource streams police.uk records into staging_incidents.
func policeUKSource(pr *PoliceUKReader, sum *Summary) *copySource[Record] {
	return &copySource[Record]{
		next: pr.Next,
		seen: func(r Record) {
			sum.Read++
			if r.Reason != "" {
				sum.Quarantined++
				sum.QuarantinedBy[reasonKind(r.Reason)]++
			} else if !r.Incident.HasPoint {
				sum.NoLocation++
			}
		},
		values: func(r Record) []any {
			if r.Reason != "" {
				return []any{r.Line, storableRaw(r.Raw), storableRaw(r.Reason), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}
			}
			in := r.Incident
			var lon, lat any
			if in.HasPoint {
				lon, lat = in.Point[0], in.Point[1]
			}
			return []any{r.Line, nil, nil, in.Source, in.SourceID, in.Category, in.Occurred.From, in.Occurred.To,
				in.LocationText, in.LSOACode, in.LSOAName, in.Outcome, in.Context, in.ReportedBy, in.FallsWithin, lon, lat}
		},
	}
}

// storableRaw makes a rejected row's text storable in a UTF-8 text column:
// PostgreSQL refuses invalid UTF-8 and NUL bytes, and one such row must not
// abort the whole file. Invalid bytes become U+FFFD and NUL becomes U+2400
// (the visible "␀"); the row's reason already says which fault it had.
func storableRaw(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) {
		return s
	}
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\u2400")
}

// reasonKind reduces a reason such as `bad month "2024-13"` to its kind,
// "bad month", for the summary's counts.
func reasonKind(reason string) string {
	k := reason
	if i := strings.IndexAny(k, ":\"("); i > 0 {
		k = k[:i]
	}
	return strings.TrimSpace(k)
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
