package web

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/harborough-csp/hotspot/geo/ingest"
)

// Partner ingest and the review queue over HTTP:
//
//	POST /api/incidents               a JSON batch of partner records (admin; API tokens with scope ingest)
//	GET  /api/review                  open review items with the geocoder's candidates (analyst, admin)
//	POST /api/review/{id}/resolve     place one: {"candidate": n}, {"lat","lon"} or {"easting","northing"}
//
// Who: a batch writes incidents, so it takes an admin, or a machine
// holding an admin's token limited to the ingest scope (a partner's feed
// gets its own such user and token, which can do nothing else). Review
// items are partners' raw records with addresses: placing them is data
// work for analysts (who own the maps and hotspots that depend on it)
// and admins; the police see the placed incidents on their layer, and do
// not need the queue. Resolving takes a session and its CSRF token (no
// token scope places records).

// PartnerIngest is what these routes need; geo/ingest's *Partner is one
// (cmd/hotspot wraps it to rebuild the public data after a change).
type PartnerIngest interface {
	ImportJSON(ctx context.Context, source string, recs []json.RawMessage, actor, remote string) (ingest.PartnerSummary, []ingest.RecordResult, error)
	OpenReviews(ctx context.Context, limit int, after int64) ([]ingest.ReviewItem, error)
	Resolve(ctx context.Context, id int64, r ingest.Resolution, actor, remote string) (ingest.ReviewItem, error)
}

// Limits of a batch: a body past maxBatchBytes or with more than
// maxBatchRecords records is refused with 413 (send several batches).
const (
	maxBatchBytes   = 8 << 20
	maxBatchRecords = 5000
	maxResolveBytes = 4 << 10
)

// PartnerRoutes returns the partner ingest and review routes, for
// web.New's extra routes.
func PartnerRoutes(p PartnerIngest) []Route {
	h := partnerHandlers{p: p, writing: make(chan struct{}, 1)}
	return []Route{
		{Name: "incidents-post", Method: http.MethodPost, Path: "/api/incidents", Access: Admin, TokenScope: ScopeIngest, handle: h.postIncidents},
		// Sessions only: the queue holds partners' raw records (addresses,
		// descriptions, exact times), more than a read token is for.
		{Name: "review-list", Method: http.MethodGet, Path: "/api/review", Access: Analyst | Admin, TokenScope: scopeNone, handle: h.reviewList},
		{Name: "review-resolve", Method: http.MethodPost, Path: "/api/review/{id}/resolve", Access: Analyst | Admin, handle: h.reviewResolve},
	}
}

type partnerHandlers struct {
	p PartnerIngest
	// writing lets one batch or resolve run at a time. Each holds a
	// database transaction while the geocoder takes a second connection
	// (to load or refresh its gazetteer, or to remember a decision);
	// several at once could hold every connection of the pool and wait
	// for one another until their deadlines.
	writing chan struct{}
}

// exclusive runs f when no other partner write is running, or gives up
// when the request's context ends.
func (h partnerHandlers) exclusive(ctx context.Context, f func() error) error {
	select {
	case h.writing <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-h.writing }()
	return f()
}

// batchJSON is the body of POST /api/incidents.
type batchJSON struct {
	Source    string            `json:"source"`
	Incidents []json.RawMessage `json:"incidents"`
}

// batchResult is its answer.
type batchResult struct {
	Source      string                `json:"source"`
	Batch       int64                 `json:"batch"`
	Read        int                   `json:"read"`
	Inserted    int                   `json:"inserted"`
	Updated     int                   `json:"updated"`
	Unchanged   int                   `json:"unchanged"`
	Quarantined int                   `json:"quarantined"`
	NeedsReview int                   `json:"needs_review"`
	NoLocation  int                   `json:"no_location"`
	Unmapped    map[string]int        `json:"unmapped_categories"`
	Results     []ingest.RecordResult `json:"results"`
}

func requireJSON(r *http.Request) error {
	ct, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || ct != "application/json" {
		return &Error{Status: http.StatusUnsupportedMediaType, Message: "send the body as Content-Type: application/json"}
	}
	return nil
}

// decodeBody reads one JSON value of at most limit bytes into v, with no
// unknown fields and nothing after it.
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any, example string) error {
	if err := requireJSON(r); err != nil {
		return err
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		if _, extra := dec.Token(); extra != io.EOF {
			err = errors.New("data after the JSON value")
		}
	}
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("the body is larger than %d bytes: send smaller batches", limit)}
	case err != nil:
		return &Error{Status: http.StatusBadRequest, Message: "malformed JSON body: want " + example, Err: err}
	}
	return nil
}

func (h partnerHandlers) postIncidents(w http.ResponseWriter, r *http.Request) error {
	var b batchJSON
	if err := decodeBody(w, r, maxBatchBytes, &b, `{"source": "name", "incidents": [{"source_id": ..., "occurred_at": ..., "category": ..., ...}]}`); err != nil {
		return err
	}
	if err := ingest.CheckSource(b.Source); err != nil {
		return &Error{Status: http.StatusBadRequest, Message: err.Error()}
	}
	switch {
	case len(b.Incidents) == 0:
		return &Error{Status: http.StatusBadRequest, Message: `"incidents" must be a non-empty array of records`}
	case len(b.Incidents) > maxBatchRecords:
		return &Error{Status: http.StatusRequestEntityTooLarge, Message: fmt.Sprintf("%d records: at most %d a batch", len(b.Incidents), maxBatchRecords)}
	}
	u, _ := UserFrom(r.Context())
	var sum ingest.PartnerSummary
	var res []ingest.RecordResult
	err := h.exclusive(r.Context(), func() error {
		var err error
		sum, res, err = h.p.ImportJSON(r.Context(), b.Source, b.Incidents, u.Name, clientIP(r))
		return err
	})
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, batchResult{Source: sum.Source, Batch: sum.BatchID, Read: sum.Read, Inserted: sum.Inserted,
		Updated: sum.Updated, Unchanged: sum.Unchanged, Quarantined: sum.Quarantined, NeedsReview: sum.NeedsReview,
		NoLocation: sum.NoLocation, Unmapped: sum.Unmapped, Results: res})
}

func (h partnerHandlers) reviewList(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	limit, after := 200, int64(0)
	if s := q.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > 1000 {
			return &Error{Status: http.StatusBadRequest, Message: "limit must be 1 to 1000"}
		}
		limit = n
	}
	if s := q.Get("after"); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return &Error{Status: http.StatusBadRequest, Message: "after must be a review item id"}
		}
		after = n
	}
	items, err := h.p.OpenReviews(r.Context(), limit, after)
	if err != nil {
		return err
	}
	if items == nil {
		items = []ingest.ReviewItem{}
	}
	return writeJSON(w, http.StatusOK, map[string]any{"items": items})
}

func (h partnerHandlers) reviewResolve(w http.ResponseWriter, r *http.Request) error {
	id, err := strconv.ParseInt(mux.Vars(r)["id"], 10, 64)
	if err != nil || id <= 0 {
		return &Error{Status: http.StatusNotFound, Message: "no such review item"}
	}
	var res ingest.Resolution
	if err := decodeBody(w, r, maxResolveBytes, &res, `{"candidate": 0}, {"lat": 52.47, "lon": -0.92} or {"easting": 473000, "northing": 287500}`); err != nil {
		return err
	}
	u, _ := UserFrom(r.Context())
	var it ingest.ReviewItem
	err = h.exclusive(r.Context(), func() error {
		var err error
		it, err = h.p.Resolve(r.Context(), id, res, u.Name, clientIP(r))
		return err
	})
	switch {
	case errors.Is(err, ingest.ErrReviewNotFound):
		return &Error{Status: http.StatusNotFound, Message: "no such review item", Err: err}
	case errors.Is(err, ingest.ErrReviewClosed):
		return &Error{Status: http.StatusConflict, Message: "this review item is already closed", Err: err}
	case errors.Is(err, ingest.ErrBadResolution):
		return &Error{Status: http.StatusBadRequest, Message: errors.Unwrap(err).Error(), Err: err}
	case err != nil:
		return err
	}
	return writeJSON(w, http.StatusOK, map[string]any{"item": it})
}
