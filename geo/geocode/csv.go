package geocode

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
)

// CSVColumns are the columns GeocodeCSV adds, in order.
var CSVColumns = []string{"lat", "lon", "easting", "northing", "confidence", "method", "matched", "status", "reason"}

// Locator places one query; *Geocoder is one.
type Locator interface {
	Geocode(ctx context.Context, q Query) (Result, error)
}

// CSVOptions configure GeocodeCSV.
type CSVOptions struct {
	// Column names the location column (case-insensitive); default "address".
	Column string
	// Workers is how many rows are geocoded at once; default 8.
	Workers int
	// PostcodeColumn, StreetColumn and TownColumn, when set, name
	// columns whose values fill Query.Postcode, Street and Town beside
	// the location column's text (which may then be empty).
	PostcodeColumn, StreetColumn, TownColumn string
}

// CSVSummary counts what GeocodeCSV did.
type CSVSummary struct {
	Rows     int
	ByStatus map[Status]int
}

// ErrNoColumn is returned when the CSV has no location column.
var ErrNoColumn = errors.New("no location column")

// csvBatch is how many rows are read before they are geocoded together
// and written in order.
const csvBatch = 1024

// GeocodeCSV reads CSV with a header row from r, geocodes the location
// column of every row and writes each row with its columns unchanged
// and CSVColumns added (a name already in the input gets "geocode_"
// before it). One output row per input row: a row shorter than the
// header is padded with empty fields (so the added columns stay under
// their names); a row without the location column, or one the CSV
// reader rejects, gets status not-understood and a reason. Only a database failure or an unreadable header stops it.
func GeocodeCSV(ctx context.Context, g Locator, r io.Reader, w io.Writer, opts CSVOptions) (CSVSummary, error) {
	sum := CSVSummary{ByStatus: map[Status]int{}}
	if opts.Column == "" {
		opts.Column = "address"
	}
	if opts.Workers <= 0 {
		opts.Workers = 8
	}
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	head, err := cr.Read()
	if err == io.EOF {
		return sum, fmt.Errorf("%w: the input is empty (want a header row with %q)", ErrNoColumn, opts.Column)
	}
	if err != nil {
		return sum, fmt.Errorf("reading the header: %w", err)
	}
	head = append([]string(nil), head...)
	col := -1
	names := map[string]bool{}
	for i, h := range head {
		h = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
		head[i] = h
		names[strings.ToLower(h)] = true
		if col < 0 && strings.EqualFold(h, opts.Column) {
			col = i
		}
	}
	if col < 0 {
		return sum, fmt.Errorf("%w: the header has no %q column (it has: %s)", ErrNoColumn, opts.Column, strings.Join(head, ", "))
	}
	// The optional part columns: -1 when not asked for.
	parts := [3]int{-1, -1, -1}
	for k, name := range []string{opts.PostcodeColumn, opts.StreetColumn, opts.TownColumn} {
		if name == "" {
			continue
		}
		for i, h := range head {
			if strings.EqualFold(h, name) {
				parts[k] = i
				break
			}
		}
		if parts[k] < 0 {
			return sum, fmt.Errorf("%w: the header has no %q column (it has: %s)", ErrNoColumn, name, strings.Join(head, ", "))
		}
	}
	field := func(rec []string, i int) string {
		if i < 0 || i >= len(rec) {
			return ""
		}
		return rec[i]
	}
	cw := csv.NewWriter(w)
	out := append([]string(nil), head...)
	for _, c := range CSVColumns {
		if names[c] {
			c = "geocode_" + c
		}
		out = append(out, c)
	}
	if err := cw.Write(out); err != nil {
		return sum, err
	}
	type row struct {
		fields []string
		bad    string
		res    Result
	}
	batch := make([]row, 0, csvBatch)
	flush := func() error {
		var wg sync.WaitGroup
		var mu sync.Mutex
		var firstErr error
		next := 0
		for k := 0; k < opts.Workers; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					mu.Lock()
					i := next
					next++
					stop := firstErr != nil
					mu.Unlock()
					if i >= len(batch) || stop {
						return
					}
					rw := &batch[i]
					if rw.bad != "" {
						rw.res = Result{Status: StatusNotUnderstood, Reason: rw.bad}
						continue
					}
					res, err := g.Geocode(ctx, Query{Text: rw.fields[col], Postcode: field(rw.fields, parts[0]),
						Street: field(rw.fields, parts[1]), Town: field(rw.fields, parts[2])})
					if err != nil {
						mu.Lock()
						if firstErr == nil {
							firstErr = err
						}
						mu.Unlock()
						return
					}
					rw.res = res
				}
			}()
		}
		wg.Wait()
		if firstErr != nil {
			return firstErr
		}
		for _, rw := range batch {
			sum.Rows++
			sum.ByStatus[rw.res.Status]++
			if err := cw.Write(append(rw.fields, resultFields(rw.res)...)); err != nil {
				return err
			}
		}
		batch = batch[:0]
		cw.Flush()
		return cw.Error()
	}
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		rw := row{fields: append([]string(nil), rec...)}
		var pe *csv.ParseError
		switch {
		case err != nil && errors.As(err, &pe):
			rw.bad = fmt.Sprintf("line %d: bad CSV: %v", pe.Line, pe.Err)
		case err != nil:
			return sum, err
		case col >= len(rec):
			rw.bad = fmt.Sprintf("line %d: the row has %d fields, no %q", lineOf(cr), len(rec), head[col])
		}
		if len(rw.fields) < len(head) {
			// A short row is padded so the added columns stay under
			// their names.
			rw.fields = append(rw.fields, make([]string, len(head)-len(rw.fields))...)
		}
		batch = append(batch, rw)
		if len(batch) == csvBatch {
			if err := flush(); err != nil {
				return sum, err
			}
		}
	}
	if err := flush(); err != nil {
		return sum, err
	}
	cw.Flush()
	return sum, cw.Error()
}

func lineOf(cr *csv.Reader) int {
	l, _ := cr.FieldPos(0)
	return l
}

// resultFields formats a result as the CSVColumns.
func resultFields(r Result) []string {
	if r.Status != StatusMatched && r.Status != StatusLowConfidence {
		return []string{"", "", "", "", "", "", "", string(r.Status), r.Reason}
	}
	b := r.Best
	return []string{
		strconv.FormatFloat(b.Lat, 'f', 6, 64), strconv.FormatFloat(b.Lon, 'f', 6, 64),
		strconv.FormatFloat(b.Easting, 'f', 0, 64), strconv.FormatFloat(b.Northing, 'f', 0, 64),
		strconv.FormatFloat(b.Confidence, 'f', 3, 64), b.Method, b.Label, string(r.Status), r.Reason,
	}
}
