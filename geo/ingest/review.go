package ingest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
)

// Review queue errors, for the web layer to turn into 404, 409 and 400.
var (
	ErrReviewNotFound  = errors.New("no such review item")
	ErrReviewClosed    = errors.New("the review item is already closed")
	ErrBadResolution   = errors.New("bad resolution")
	errNoLocatorMemory = errors.New("placed, but the geocoder could not remember the decision")
)

// ReviewItem is one entry of the review queue with its incident.
type ReviewItem struct {
	ID            int64         `json:"id"`
	IncidentID    int64         `json:"incident_id"`
	Source        string        `json:"source"`
	SourceID      string        `json:"source_id"`
	Category      string        `json:"category"`
	SourceWording string        `json:"source_category"`
	OccurredFrom  time.Time     `json:"occurred_from"`
	OccurredTo    time.Time     `json:"occurred_to"`
	LocationText  string        `json:"location_text"`
	Query         LocationQuery `json:"query"`
	GeocodeStatus string        `json:"geocode_status"`
	Reason        string        `json:"reason"`
	Candidates    []Candidate   `json:"candidates"`
	Raw           string        `json:"raw"`
	Status        string        `json:"status"`
	CreatedAt     time.Time     `json:"created_at"`
	ResolvedBy    string        `json:"resolved_by,omitempty"`
	// Placed is where a resolved item was put.
	Placed *Candidate `json:"placed,omitempty"`
}

// Resolution is how a person places a review item: by the index of one
// of its candidates, or by a point as lat/lon or easting/northing
// (British National Grid). Exactly one of the three.
type Resolution struct {
	Candidate *int     `json:"candidate"`
	Lat       *float64 `json:"lat"`
	Lon       *float64 `json:"lon"`
	Easting   *float64 `json:"easting"`
	Northing  *float64 `json:"northing"`
}

const selectReviews = `SELECT rq.id, rq.incident_id, i.source, i.source_id, i.category, i.source_category, i.occurred_from,
	i.occurred_to, rq.location_text, rq.query, rq.geocode_status, rq.reason, rq.candidates, rq.raw, rq.status, rq.created_at,
	coalesce(rq.resolved_by, ''), rq.resolution
FROM review_queue rq JOIN incidents i ON i.id = rq.incident_id`

func scanReview(row pgx.Row) (ReviewItem, error) {
	var it ReviewItem
	var q, cands []byte
	var placed []byte
	err := row.Scan(&it.ID, &it.IncidentID, &it.Source, &it.SourceID, &it.Category, &it.SourceWording, &it.OccurredFrom,
		&it.OccurredTo, &it.LocationText, &q, &it.GeocodeStatus, &it.Reason, &cands, &it.Raw, &it.Status, &it.CreatedAt,
		&it.ResolvedBy, &placed)
	if err != nil {
		return it, err
	}
	if err := json.Unmarshal(q, &it.Query); err != nil {
		return it, fmt.Errorf("review %d query: %w", it.ID, err)
	}
	if err := json.Unmarshal(cands, &it.Candidates); err != nil {
		return it, fmt.Errorf("review %d candidates: %w", it.ID, err)
	}
	if it.Candidates == nil {
		it.Candidates = []Candidate{}
	}
	if len(placed) > 0 {
		var c Candidate
		if err := json.Unmarshal(placed, &c); err == nil {
			it.Placed = &c
		}
	}
	return it, nil
}

// OpenReviews lists up to limit open review items with ids above after,
// oldest first.
func (p *Partner) OpenReviews(ctx context.Context, limit int, after int64) ([]ReviewItem, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := p.pool.Query(ctx, selectReviews+` WHERE rq.status = 'open' AND rq.id > $1 ORDER BY rq.id LIMIT $2`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	items, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (ReviewItem, error) { return scanReview(r) })
	if err != nil {
		return nil, fmt.Errorf("review queue: %w", err)
	}
	return items, nil
}

// Review returns one review item, open or closed.
func (p *Partner) Review(ctx context.Context, id int64) (ReviewItem, error) {
	it, err := scanReview(p.pool.QueryRow(ctx, selectReviews+` WHERE rq.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return it, fmt.Errorf("review %d: %w", id, ErrReviewNotFound)
	}
	return it, err
}

// pointSQL completes a point given in either system: $1,$2 lon/lat
// (WGS84) or $3,$4 easting/northing (EPSG:27700), and says whether it
// lies in a district boundary.
const pointSQL = `WITH p AS (SELECT CASE WHEN $1::float8 IS NOT NULL THEN ST_SetSRID(ST_MakePoint($1, $2), 4326)
	ELSE ST_Transform(ST_SetSRID(ST_MakePoint($3, $4), 27700), 4326) END AS g)
SELECT ST_X(p.g), ST_Y(p.g), ST_X(ST_Transform(p.g, 27700)), ST_Y(ST_Transform(p.g, 27700)),
	EXISTS (SELECT 1 FROM boundaries b WHERE b.kind = 'district' AND ST_Intersects(b.geom, p.g))
FROM p`

const placeIncident = `UPDATE incidents SET geom = p.g, geom_bng = ST_Transform(p.g, 27700), geom_web = ST_Transform(p.g, 3857),
	location_method = $4, location_confidence = 1
FROM (SELECT ST_SetSRID(ST_MakePoint($2, $3), 4326) AS g) p WHERE id = $1`

const closeReview = `UPDATE review_queue SET status = 'resolved', resolved_at = now(), resolved_by = $2, resolution = $3::jsonb,
	updated_at = now() WHERE id = $1`

// MethodManual is the location method of a point a person placed.
const MethodManual = "manual"

// Resolve places a review item's incident where the resolution says (a
// candidate, or a point), in all three projections, closes the item,
// bumps the data version, audits the decision, and has the geocoder
// remember it, so the same location text is placed the same way next
// time, all or nothing.
func (p *Partner) Resolve(ctx context.Context, id int64, res Resolution, actor, remote string) (ReviewItem, error) {
	var it ReviewItem
	err := pgx.BeginFunc(ctx, p.pool, func(tx pgx.Tx) error {
		var err error
		it, err = scanReview(tx.QueryRow(ctx, selectReviews+` WHERE rq.id = $1 FOR UPDATE OF rq`, id))
		if errors.Is(err, pgx.ErrNoRows) {
			return fmt.Errorf("review %d: %w", id, ErrReviewNotFound)
		}
		if err != nil {
			return err
		}
		if it.Status != "open" {
			return fmt.Errorf("review %d is %s: %w", id, it.Status, ErrReviewClosed)
		}
		c, err := p.resolution(ctx, tx, it, res)
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, placeIncident, it.IncidentID, c.Lon, c.Lat, MethodManual); err != nil {
			return err
		}
		cj, _ := json.Marshal(c)
		if _, err := tx.Exec(ctx, closeReview, id, actor, string(cj)); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, BumpDataVersion); err != nil {
			return err
		}
		if err := p.audit(ctx, tx, actor, ActionReviewResolve, map[string]any{
			"review": id, "incident": it.IncidentID, "source": it.Source, "location_text": it.LocationText,
			"method": c.Method, "lon": c.Lon, "lat": c.Lat, "candidate": res.Candidate,
		}, remote); err != nil {
			return err
		}
		// Last, so a refusal here undoes the placement: the decision is
		// placed and remembered, or neither.
		if err := p.loc.Remember(ctx, it.Query, c, actor); err != nil {
			return fmt.Errorf("%w: %v", errNoLocatorMemory, err)
		}
		it.Status, it.ResolvedBy, it.Placed = "resolved", actor, &c
		return nil
	})
	if err != nil {
		return it, fmt.Errorf("resolve review %d: %w", id, err)
	}
	return it, nil
}

// resolution turns a Resolution into the candidate the incident goes to.
func (p *Partner) resolution(ctx context.Context, tx pgx.Tx, it ReviewItem, res Resolution) (Candidate, error) {
	forms := 0
	if res.Candidate != nil {
		forms++
	}
	if res.Lat != nil || res.Lon != nil {
		forms++
	}
	if res.Easting != nil || res.Northing != nil {
		forms++
	}
	if forms != 1 {
		return Candidate{}, fmt.Errorf(`%w: give exactly one of {"candidate": n}, {"lat": .., "lon": ..} or {"easting": .., "northing": ..}`, ErrBadResolution)
	}
	if res.Candidate != nil {
		n := *res.Candidate
		if n < 0 || n >= len(it.Candidates) {
			return Candidate{}, fmt.Errorf("%w: candidate %d: this item has %d (numbered from 0)", ErrBadResolution, n, len(it.Candidates))
		}
		c := it.Candidates[n]
		c.Method = MethodManual
		c.Confidence = 1
		return c, nil
	}
	var a, b, e, n any
	switch {
	case res.Lat != nil || res.Lon != nil:
		if res.Lat == nil || res.Lon == nil || *res.Lat < -90 || *res.Lat > 90 || *res.Lon < -180 || *res.Lon > 180 ||
			*res.Lat != *res.Lat || *res.Lon != *res.Lon {
			return Candidate{}, fmt.Errorf("%w: lat (-90..90) and lon (-180..180) go together", ErrBadResolution)
		}
		a, b = *res.Lon, *res.Lat
	default:
		if res.Easting == nil || res.Northing == nil || *res.Easting < 0 || *res.Easting > 700000 ||
			*res.Northing < 0 || *res.Northing > 1300000 {
			return Candidate{}, fmt.Errorf("%w: easting (0..700000) and northing (0..1300000) go together", ErrBadResolution)
		}
		e, n = *res.Easting, *res.Northing
	}
	c := Candidate{Method: MethodManual, Label: it.LocationText, EntryID: "", Confidence: 1}
	if err := tx.QueryRow(ctx, pointSQL, a, b, e, n).Scan(&c.Lon, &c.Lat, &c.Easting, &c.Northing, &c.InDistrict); err != nil {
		return Candidate{}, err
	}
	return c, nil
}
