package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The geocoder's verdicts on a record's location (geo/geocode's statuses).
const (
	PlaceMatched       = "matched"
	PlaceLowConfidence = "low-confidence"
	PlaceNotFound      = "not-found"
	PlaceNotUnderstood = "not-understood"
	PlaceNoLocation    = "no-location"
)

// Candidate is a place the geocoder offers for a record.
type Candidate struct {
	Method     string  `json:"method"`
	Label      string  `json:"label"`
	EntryID    string  `json:"entry_id"`
	Confidence float64 `json:"confidence"`
	Lon        float64 `json:"lon"`
	Lat        float64 `json:"lat"`
	Easting    float64 `json:"easting"`
	Northing   float64 `json:"northing"`
	InDistrict bool    `json:"in_district"`
}

// Placement is the geocoder's answer for one record: a status, the best
// candidate (when matched or low-confidence), the alternatives, and why.
type Placement struct {
	Status       string
	Best         Candidate
	Alternatives []Candidate
	Reason       string
}

// Locator places a partner record's location. geo/geocode's Geocoder
// does the work; cmd/hotspot adapts it (sibling packages do not import
// each other). Remember records a person's decision for a query, so that
// the same text is placed the same way next time.
type Locator interface {
	Locate(ctx context.Context, q LocationQuery) (Placement, error)
	Remember(ctx context.Context, q LocationQuery, c Candidate, by string) error
}

// AuditFunc writes an audit row in tx, the transaction doing the work
// (cmd wires geo/auth's Audit in).
type AuditFunc func(ctx context.Context, tx pgx.Tx, actor, action string, detail map[string]any, remote string) error

// Partner loads partners' records and keeps their review queue.
type Partner struct {
	pool  *pgxpool.Pool
	loc   Locator
	audit AuditFunc
}

// NewPartner returns the partner ingest over pool, placing records with
// loc and auditing with audit (nil: no audit rows).
func NewPartner(pool *pgxpool.Pool, loc Locator, audit AuditFunc) *Partner {
	if audit == nil {
		audit = func(context.Context, pgx.Tx, string, string, map[string]any, string) error { return nil }
	}
	return &Partner{pool: pool, loc: loc, audit: audit}
}

// ActionImportPartner and ActionReviewResolve are the audit actions of
// this file's operations.
const (
	ActionImportPartner = "import.partner"
	ActionReviewResolve = "review.resolve"
)

// sourcePattern is what a partner's source name may be: it becomes
// incidents.source, so a short slug.
var sourcePattern = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,62}$`)

// ErrBadSource is returned for a source name that cannot be used.
var ErrBadSource = errors.New("bad source name")

// CheckSource refuses a partner source name that is not a short slug or
// that belongs to another importer (police.uk's, the synthetic data's).
func CheckSource(s string) error {
	if !sourcePattern.MatchString(s) {
		return fmt.Errorf("%w %q: want lower-case letters, digits, '.', '_' or '-', e.g. harborough-dc-asb", ErrBadSource, s)
	}
	if s == SourcePoliceUK || s == "synth" {
		return fmt.Errorf("%w %q: reserved for another importer", ErrBadSource, s)
	}
	return nil
}

// PartnerSummary reports a partner import. Read = Inserted + Updated +
// Unchanged + Quarantined always holds (Summary.AlreadyPresent is Updated
// + Unchanged). NeedsReview counts the good records sent to the review
// queue and NoLocation those that gave no location at all; Placed those
// stored with a point.
type PartnerSummary struct {
	Summary
	Source      string
	Updated     int
	Unchanged   int
	NeedsReview int
	Placed      int
	// Unmapped counts the records by the category wording no rule
	// mapped (stored as CategoryUnmapped).
	Unmapped map[string]int
	// Ignored are CSV columns that are no field of the contract.
	Ignored []string
	// Windows1252 counts CSV rows that were not UTF-8 and were read as
	// Windows-1252 (Excel's "CSV" on British machines).
	Windows1252 int
}

// UnmappedWordings returns the unmapped wordings in a stable order.
func (s PartnerSummary) UnmappedWordings() []string {
	var ks []string
	for k := range s.Unmapped {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// RecordResult is what happened to one record of a JSON batch.
type RecordResult struct {
	Index    int    `json:"index"`
	SourceID string `json:"source_id,omitempty"`
	// ID is the incident's id (0 for a quarantined record).
	ID int64 `json:"id,omitempty"`
	// Status is inserted, updated, unchanged or quarantined.
	Status string `json:"status"`
	// Location is the geocoder's verdict (matched, low-confidence, ...).
	Location   string  `json:"location,omitempty"`
	Method     string  `json:"method,omitempty"`
	Confidence float64 `json:"confidence,omitempty"`
	Category   string  `json:"category,omitempty"`
	// ReviewID is the open review item of a record waiting to be placed.
	ReviewID int64    `json:"review_id,omitempty"`
	Errors   []string `json:"errors,omitempty"`
}

// ImportCSV imports one partner CSV, named name, for source, as one batch
// in one transaction (see PartnerReader for the column contract).
func (p *Partner) ImportCSV(ctx context.Context, source, name string, r io.Reader, actor string) (PartnerSummary, error) {
	start := time.Now()
	sum := PartnerSummary{Summary: Summary{File: name, QuarantinedBy: map[string]int{}}, Source: source, Unmapped: map[string]int{}}
	if err := CheckSource(source); err != nil {
		return sum, err
	}
	hasher := sha256.New()
	counter := &countingReader{r: io.TeeReader(r, hasher)}
	pr, err := NewPartnerReader(counter)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	sum.Ignored = pr.Ignored
	_, err = p.load(ctx, &sum, pr.Next, false, actor, "", func() (string, int64) {
		return hex.EncodeToString(hasher.Sum(nil)), counter.n
	})
	sum.Duration = time.Since(start)
	sum.Windows1252 = pr.Windows1252
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", name, err)
	}
	return sum, nil
}

// ImportJSON imports a JSON batch for source (each element an object of
// the contract's fields) as one batch in one transaction, and says what
// happened to each record, in order.
func (p *Partner) ImportJSON(ctx context.Context, source string, recs []json.RawMessage, actor, remote string) (PartnerSummary, []RecordResult, error) {
	start := time.Now()
	name := "api:" + source
	sum := PartnerSummary{Summary: Summary{File: name, QuarantinedBy: map[string]int{}}, Source: source, Unmapped: map[string]int{}}
	if err := CheckSource(source); err != nil {
		return sum, nil, err
	}
	hasher := sha256.New()
	var n int64
	i := 0
	next := func() (PartnerRecord, error) {
		if i >= len(recs) {
			return PartnerRecord{}, io.EOF
		}
		raw := recs[i]
		hasher.Write(raw)
		n += int64(len(raw))
		rec := PartnerRecord{Line: i, Raw: storableRaw(string(raw))}
		i++
		fields, reason := JSONPartnerRecord(raw)
		if reason == "" {
			rec.Incident, reason = ParsePartnerFields(fields)
		}
		rec.Reason = reason
		return rec, nil
	}
	results, err := p.load(ctx, &sum, next, true, actor, remote, func() (string, int64) {
		return hex.EncodeToString(hasher.Sum(nil)), n
	})
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, nil, fmt.Errorf("import %s: %w", name, err)
	}
	return sum, results, nil
}

// stagedPartner is one record on its way to staging.
type stagedPartner struct {
	rec      PartnerRecord
	category string
	mapped   bool
	place    Placement
	review   bool
}

const createPartnerStaging = `CREATE TEMP TABLE staging_partner (
	line_no         integer NOT NULL,
	raw             text NOT NULL,
	reason          text,
	source_id       text,
	category        text,
	source_category text,
	occurred_from   timestamptz,
	occurred_to     timestamptz,
	location_text   text,
	context         text,
	lon             double precision,
	lat             double precision,
	location_method text,
	location_confidence real,
	review          boolean,
	query           jsonb,
	geocode_status  text,
	geocode_reason  text,
	candidates      jsonb
) ON COMMIT DROP`

var partnerStagingColumns = []string{"line_no", "raw", "reason", "source_id", "category", "source_category",
	"occurred_from", "occurred_to", "location_text", "context", "lon", "lat", "location_method", "location_confidence",
	"review", "query", "geocode_status", "geocode_reason", "candidates"}

const countPartnerStaged = `SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL) FROM staging_partner`

const insertPartnerQuarantine = `INSERT INTO quarantine (batch_id, line_no, raw, reason)
SELECT $1, line_no, raw, reason FROM staging_partner WHERE reason IS NOT NULL ORDER BY line_no`

// upsertPartner writes the good staged records. A record already stored
// (same source and source id) is rewritten only when something about it
// changed, so the RETURNING rows are exactly the inserted (xmax = 0) and
// the updated ones. How the point was found (method, confidence) is not
// compared: a record placed by hand and sent again unchanged, which the
// geocoder now places from the remembered decision, is unchanged.
const upsertPartner = `INSERT INTO incidents AS i (source, source_id, category, source_category, occurred_from, occurred_to,
	location_text, context, geom, geom_bng, geom_web, location_method, location_confidence, batch_id)
SELECT $2, s.source_id, s.category, s.source_category, s.occurred_from, s.occurred_to,
	s.location_text, s.context, p.geom, ST_Transform(p.geom, 27700), ST_Transform(p.geom, 3857),
	s.location_method, s.location_confidence, $1
FROM staging_partner s
CROSS JOIN LATERAL (SELECT CASE WHEN s.lon IS NULL THEN NULL
	ELSE ST_SetSRID(ST_MakePoint(s.lon, s.lat), 4326) END AS geom) p
WHERE s.reason IS NULL
ORDER BY s.line_no
ON CONFLICT (source, source_id) DO UPDATE SET category = EXCLUDED.category, source_category = EXCLUDED.source_category,
	occurred_from = EXCLUDED.occurred_from, occurred_to = EXCLUDED.occurred_to, location_text = EXCLUDED.location_text,
	context = EXCLUDED.context, geom = EXCLUDED.geom, geom_bng = EXCLUDED.geom_bng, geom_web = EXCLUDED.geom_web,
	location_method = EXCLUDED.location_method, location_confidence = EXCLUDED.location_confidence,
	batch_id = EXCLUDED.batch_id, imported_at = now()
WHERE (i.category, i.source_category, i.occurred_from, i.occurred_to, i.location_text, i.context, ST_AsEWKB(i.geom))
	IS DISTINCT FROM (EXCLUDED.category, EXCLUDED.source_category, EXCLUDED.occurred_from, EXCLUDED.occurred_to,
	EXCLUDED.location_text, EXCLUDED.context, ST_AsEWKB(EXCLUDED.geom))
RETURNING i.source_id, xmax = 0`

// openReviews files a review item for every good record that needs one,
// or refreshes the incident's open item when it has one already.
const openReviews = `INSERT INTO review_queue (incident_id, batch_id, raw, query, location_text, geocode_status, reason, candidates)
SELECT i.id, $1, s.raw, s.query, s.location_text, s.geocode_status, s.geocode_reason, s.candidates
FROM staging_partner s JOIN incidents i ON i.source = $2 AND i.source_id = s.source_id
WHERE s.reason IS NULL AND s.review
ORDER BY s.line_no
ON CONFLICT (incident_id) WHERE status = 'open' DO UPDATE SET batch_id = EXCLUDED.batch_id, raw = EXCLUDED.raw,
	query = EXCLUDED.query, location_text = EXCLUDED.location_text, geocode_status = EXCLUDED.geocode_status,
	reason = EXCLUDED.reason, candidates = EXCLUDED.candidates, updated_at = now()`

// supersedeReviews closes the open items of records that were sent again
// and are now placed (or now give no location to place).
const supersedeReviews = `UPDATE review_queue rq SET status = 'superseded', updated_at = now()
FROM staging_partner s JOIN incidents i ON i.source = $1 AND i.source_id = s.source_id
WHERE rq.incident_id = i.id AND rq.status = 'open' AND s.reason IS NULL AND NOT s.review`

const partnerResults = `SELECT s.line_no, i.id, rq.id
FROM staging_partner s JOIN incidents i ON i.source = $1 AND i.source_id = s.source_id
LEFT JOIN review_queue rq ON rq.incident_id = i.id AND rq.status = 'open'
WHERE s.reason IS NULL`

const finishPartnerBatch = `UPDATE import_batches SET file_sha256 = $2, file_bytes = $3, rows_read = $4,
	inserted = $5, already_present = $6, no_location = $7, quarantined = $8, updated = $9, needs_review = $10,
	finished_at = now()
WHERE id = $1`

// load runs one batch: it maps, geocodes and stages every record, then
// moves them into incidents, quarantine and the review queue in one
// transaction. With results it also says what happened to each record.
func (p *Partner) load(ctx context.Context, sum *PartnerSummary, next func() (PartnerRecord, error), withResults bool,
	actor, remote string, digest func() (string, int64)) ([]RecordResult, error) {
	mapper, err := LoadCategoryMapper(ctx, p.pool)
	if err != nil {
		return nil, err
	}
	var staged []stagedPartner // kept only for per-record results
	seen := map[string]int{}   // source_id → line of its first record
	src := &copySource[stagedPartner]{
		next: func() (stagedPartner, error) {
			rec, err := next()
			if err != nil {
				return stagedPartner{}, err
			}
			sp := stagedPartner{rec: rec}
			if rec.Reason == "" {
				if first, dup := seen[rec.Incident.SourceID]; dup {
					sp.rec.Reason = fmt.Sprintf("source_id %s repeats the record at %d: one record per source_id in a batch", quoteForReason(rec.Incident.SourceID), first)
				} else {
					seen[rec.Incident.SourceID] = rec.Line
				}
			}
			if sp.rec.Reason != "" {
				return sp, nil
			}
			in := sp.rec.Incident
			sp.category, sp.mapped, _ = mapper.Map(sum.Source, in.Category)
			if in.Query.Empty() {
				sp.place = Placement{Status: PlaceNoLocation, Reason: "the record gives no location"}
			} else {
				sp.place, err = p.loc.Locate(ctx, in.Query)
				if err != nil {
					return sp, fmt.Errorf("geocode record at %d: %w", rec.Line, err)
				}
			}
			switch sp.place.Status {
			case PlaceMatched, PlaceNoLocation:
			case PlaceLowConfidence, PlaceNotFound, PlaceNotUnderstood:
				sp.review = true
			default:
				return sp, fmt.Errorf("geocode record at %d: unknown status %q", rec.Line, sp.place.Status)
			}
			return sp, nil
		},
		seen: func(sp stagedPartner) {
			sum.Read++
			if sp.rec.Reason != "" {
				sum.Quarantined++
				sum.QuarantinedBy[reasonKind(sp.rec.Reason)]++
			} else {
				switch {
				case sp.place.Status == PlaceNoLocation:
					sum.NoLocation++
				case sp.review:
					sum.NeedsReview++
				default:
					sum.Placed++
				}
				if !sp.mapped {
					sum.Unmapped[sp.rec.Incident.Category]++
				}
			}
			if withResults {
				staged = append(staged, sp)
			}
		},
		values: func(sp stagedPartner) []any {
			if sp.rec.Reason != "" {
				return []any{sp.rec.Line, storableRaw(sp.rec.Raw), storableRaw(sp.rec.Reason),
					nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}
			}
			in := sp.rec.Incident
			var lon, lat, conf any
			method := ""
			if sp.place.Status == PlaceMatched {
				lon, lat, conf, method = sp.place.Best.Lon, sp.place.Best.Lat, float32(sp.place.Best.Confidence), sp.place.Best.Method
			}
			q, _ := json.Marshal(in.Query)
			cands := append([]Candidate{}, sp.place.Alternatives...)
			if sp.place.Status == PlaceLowConfidence {
				cands = append([]Candidate{sp.place.Best}, cands...)
			}
			cj, _ := json.Marshal(cands)
			return []any{sp.rec.Line, storableRaw(sp.rec.Raw), nil, in.SourceID, sp.category, in.Category,
				in.Occurred.From, in.Occurred.To, in.Query.Label(), in.Description, lon, lat, method, conf,
				sp.review, string(q), sp.place.Status, sp.place.Reason, string(cj)}
		},
	}
	var results []RecordResult
	err = pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		sum.BatchID, err = stage(ctx, tx, sum.Source, sum.File, createPartnerStaging, "staging_partner", partnerStagingColumns, src)
		if err != nil {
			return err
		}
		var nStaged, bad int
		if err := tx.QueryRow(ctx, countPartnerStaged).Scan(&nStaged, &bad); err != nil {
			return err
		}
		if nStaged != sum.Read || bad != sum.Quarantined {
			return fmt.Errorf("staged %d records (%d rejected) but read %d (%d rejected)", nStaged, bad, sum.Read, sum.Quarantined)
		}
		tag, err := tx.Exec(ctx, insertPartnerQuarantine, sum.BatchID)
		if err != nil {
			return err
		}
		if int(tag.RowsAffected()) != sum.Quarantined {
			return fmt.Errorf("quarantined %d records; want %d", tag.RowsAffected(), sum.Quarantined)
		}
		rows, err := tx.Query(ctx, upsertPartner, sum.BatchID, sum.Source)
		if err != nil {
			return err
		}
		written := map[string]bool{} // source_id → inserted (true) or updated
		for rows.Next() {
			var id string
			var inserted bool
			if err := rows.Scan(&id, &inserted); err != nil {
				rows.Close()
				return err
			}
			written[id] = inserted
			if inserted {
				sum.Inserted++
			} else {
				sum.Updated++
			}
		}
		if err := rows.Err(); err != nil {
			return err
		}
		sum.Unchanged = sum.Read - sum.Quarantined - sum.Inserted - sum.Updated
		sum.AlreadyPresent = sum.Updated + sum.Unchanged
		if _, err := tx.Exec(ctx, openReviews, sum.BatchID, sum.Source); err != nil {
			return fmt.Errorf("review queue: %w", err)
		}
		if _, err := tx.Exec(ctx, supersedeReviews, sum.Source); err != nil {
			return fmt.Errorf("review queue: %w", err)
		}
		if withResults {
			if results, err = partnerRecordResults(ctx, tx, sum.Source, staged, written); err != nil {
				return err
			}
		}
		hash, n := digest()
		sum.SHA256 = hash
		if _, err := tx.Exec(ctx, finishPartnerBatch, sum.BatchID, sum.SHA256, n, sum.Read, sum.Inserted,
			sum.AlreadyPresent, sum.NoLocation, sum.Quarantined, sum.Updated, sum.NeedsReview); err != nil {
			return err
		}
		if sum.Inserted+sum.Updated > 0 {
			if _, err := tx.Exec(ctx, BumpDataVersion); err != nil {
				return err
			}
		}
		return p.audit(ctx, tx, actor, ActionImportPartner, map[string]any{
			"source": sum.Source, "file": sum.File, "batch": sum.BatchID, "sha256": sum.SHA256, "read": sum.Read,
			"inserted": sum.Inserted, "updated": sum.Updated, "unchanged": sum.Unchanged, "quarantined": sum.Quarantined,
			"needs_review": sum.NeedsReview, "no_location": sum.NoLocation,
		}, remote)
	})
	return results, err
}

// partnerRecordResults says, in order, what happened to each record.
func partnerRecordResults(ctx context.Context, tx pgx.Tx, source string, staged []stagedPartner, written map[string]bool) ([]RecordResult, error) {
	type ids struct{ incident, review int64 }
	byLine := map[int]ids{}
	rows, err := tx.Query(ctx, partnerResults, source)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var line int
		var inc int64
		var rev *int64
		if err := rows.Scan(&line, &inc, &rev); err != nil {
			rows.Close()
			return nil, err
		}
		x := ids{incident: inc}
		if rev != nil {
			x.review = *rev
		}
		byLine[line] = x
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make([]RecordResult, 0, len(staged))
	for _, sp := range staged {
		r := RecordResult{Index: sp.rec.Line, SourceID: sp.rec.Incident.SourceID}
		if sp.rec.Reason != "" {
			r.Status, r.Errors = "quarantined", []string{sp.rec.Reason}
			out = append(out, r)
			continue
		}
		x := byLine[sp.rec.Line]
		r.ID, r.ReviewID = x.incident, x.review
		switch inserted, ok := written[sp.rec.Incident.SourceID]; {
		case !ok:
			r.Status = "unchanged"
		case inserted:
			r.Status = "inserted"
		default:
			r.Status = "updated"
		}
		r.Location, r.Category = sp.place.Status, sp.category
		if sp.place.Status == PlaceMatched || sp.place.Status == PlaceLowConfidence {
			r.Method, r.Confidence = sp.place.Best.Method, sp.place.Best.Confidence
		}
		if !sp.mapped {
			r.Errors = append(r.Errors, fmt.Sprintf("category %s is not mapped: stored as %s", quoteForReason(sp.rec.Incident.Category), CategoryUnmapped))
		}
		out = append(out, r)
	}
	return out, nil
}
