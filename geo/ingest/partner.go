package ingest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/harborough-csp/hotspot/geo"
)

// The partner record's fields, by their canonical names. A CSV header or
// a JSON object may use these or any alias in partnerAliases, in any
// letter case, with spaces, underscores, hyphens or slashes between words.
const (
	FieldSourceID     = "source_id"
	FieldOccurredAt   = "occurred_at"
	FieldOccurredFrom = "occurred_from"
	FieldOccurredTo   = "occurred_to"
	FieldTime         = "time"
	FieldCategory     = "category"
	FieldAddress      = "address"
	FieldPostcode     = "postcode"
	FieldStreet       = "street"
	FieldTown         = "town"
	FieldLocation     = "location"
	FieldGridRef      = "grid_ref"
	FieldEasting      = "easting"
	FieldNorthing     = "northing"
	FieldLat          = "lat"
	FieldLon          = "lon"
	FieldDescription  = "description"
)

// partnerFields are the canonical fields in the order records are checked,
// so a record with several faults is always reported by the same one.
var partnerFields = []string{FieldSourceID, FieldOccurredAt, FieldOccurredFrom, FieldOccurredTo, FieldTime,
	FieldCategory, FieldAddress, FieldPostcode, FieldStreet, FieldTown, FieldLocation, FieldGridRef,
	FieldEasting, FieldNorthing, FieldLat, FieldLon, FieldDescription}

// partnerAliases maps a normalised header name (lower case, words joined
// by one space) to its canonical field.
var partnerAliases = func() map[string]string {
	m := map[string]string{}
	add := func(field string, names ...string) {
		m[normaliseHeader(field)] = field
		for _, n := range names {
			m[normaliseHeader(n)] = field
		}
	}
	add(FieldSourceID, "id", "ref", "reference", "incident id", "incident ref", "incident reference", "case ref",
		"case reference", "case number", "case no", "report id", "record id", "log number", "log no", "crn")
	add(FieldOccurredAt, "occurred", "date", "date time", "datetime", "incident date", "date of incident",
		"occurrence date", "when", "date occurred")
	add(FieldOccurredFrom, "from", "date from", "start", "start date", "occurred start", "from date")
	add(FieldOccurredTo, "to", "date to", "end", "end date", "occurred end", "to date")
	add(FieldTime, "time of incident", "incident time", "time occurred")
	add(FieldCategory, "type", "incident type", "crime type", "category name", "nature", "offence", "classification",
		"problem type", "report type")
	add(FieldAddress, "full address", "address text", "incident address")
	add(FieldPostcode, "post code", "postal code", "zip")
	add(FieldStreet, "road", "street name", "road name")
	add(FieldTown, "locality", "village", "town village", "town or village", "parish", "settlement")
	add(FieldLocation, "place", "location description", "where", "site", "landmark")
	add(FieldGridRef, "grid reference", "os grid ref", "os grid reference", "osgr", "ngr")
	add(FieldEasting, "eastings", "x", "east")
	add(FieldNorthing, "northings", "y", "north")
	add(FieldLat, "latitude")
	add(FieldLon, "lng", "long", "longitude")
	add(FieldDescription, "details", "notes", "summary", "comments", "narrative", "incident details")
	return m
}()

// normaliseHeader lower-cases a column name and joins its words (runs of
// letters and digits) with one space: "Date/Time" and "date_time" are
// both "date time".
func normaliseHeader(s string) string {
	return strings.Join(strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9')
	}), " ")
}

// PartnerField returns the canonical field a column name stands for, or
// "" when it is none of them.
func PartnerField(name string) string { return partnerAliases[normaliseHeader(name)] }

// ErrNotPartner is returned by NewPartnerReader when the header lacks a
// required column; the wrapping error names what is missing.
var ErrNotPartner = errors.New("not a partner incidents CSV")

// Limits of a partner record's fields (a CSV record as a whole is bounded
// by maxRecordBytes, as police.uk's are).
const (
	maxSourceID    = 200
	maxFieldText   = 500
	maxDescription = 4000
)

// LocationQuery is what the geocoder is asked about one record: the free
// text (address and location), the separate postcode, street and town, a
// grid reference, and coordinates when the record had them.
type LocationQuery struct {
	Text     string   `json:"text,omitempty"`
	GridRef  string   `json:"grid_ref,omitempty"`
	Postcode string   `json:"postcode,omitempty"`
	Street   string   `json:"street,omitempty"`
	Town     string   `json:"town,omitempty"`
	Easting  *float64 `json:"easting,omitempty"`
	Northing *float64 `json:"northing,omitempty"`
	Lat      *float64 `json:"lat,omitempty"`
	Lon      *float64 `json:"lon,omitempty"`
}

// Empty reports whether the query holds no location at all.
func (q LocationQuery) Empty() bool {
	return q.Text == "" && q.GridRef == "" && q.Postcode == "" && q.Street == "" && q.Town == "" &&
		q.Easting == nil && q.Northing == nil && q.Lat == nil && q.Lon == nil
}

// Label is the location as one line of text, for incidents.location_text
// and the review queue: the text, street, town and postcode given, and
// the grid reference, or else the coordinates.
func (q LocationQuery) Label() string {
	var parts []string
	for _, p := range []string{q.Text, q.Street, q.Town, q.Postcode, q.GridRef} {
		if p != "" && !strings.Contains(strings.ToLower(strings.Join(parts, ", ")), strings.ToLower(p)) {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		switch {
		case q.Easting != nil && q.Northing != nil:
			parts = append(parts, fmt.Sprintf("E %.0f N %.0f", *q.Easting, *q.Northing))
		case q.Lat != nil && q.Lon != nil:
			parts = append(parts, fmt.Sprintf("%.6f, %.6f", *q.Lat, *q.Lon))
		}
	}
	return strings.Join(parts, ", ")
}

// PartnerIncident is one good partner record, parsed, before its category
// is mapped and its location geocoded.
type PartnerIncident struct {
	SourceID string
	Occurred geo.Period
	// Category is the partner's wording, trimmed.
	Category    string
	Query       LocationQuery
	Description string
}

// PartnerRecord is one record of a partner file or batch: parsed, or
// rejected with a reason (and then quarantined, never dropped).
type PartnerRecord struct {
	// Line is the record's line in the file (the header is line 1), or its
	// index in a JSON batch, from 0.
	Line     int
	Raw      string
	Incident PartnerIncident
	Reason   string
}

// PartnerReader streams PartnerRecords from a partner CSV file: comma
// separated, RFC 4180 quoting, UTF-8 (a byte order mark and CRLF are
// fine), one header line naming the columns. It uses police.uk's line
// machinery, so a stray quote or a huge line costs one record.
type PartnerReader struct {
	lines  *PoliceUKReader // only its line and record assembly is used
	cols   []string        // canonical field of each column, "" to ignore
	width  int
	fields []string
	esc    []byte
	// Ignored lists the header's columns that are no field of the
	// contract, so an import can say which columns it did not read.
	Ignored []string
	// Windows1252 counts the rows that were not UTF-8 and were read as
	// Windows-1252.
	Windows1252 int
}

// cp1252 maps Windows-1252's bytes 0x80..0x9F, where it differs from
// Latin-1 (unassigned bytes become U+FFFD).
var cp1252 = [32]rune{
	'€', '\uFFFD', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\uFFFD', 'Ž', '\uFFFD',
	'\uFFFD', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\uFFFD', 'ž', 'Ÿ',
}

// fromWindows1252 decodes s as Windows-1252.
func fromWindows1252(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c < 0x80:
			b.WriteByte(c)
		case c < 0xA0:
			b.WriteRune(cp1252[c-0x80])
		default:
			b.WriteRune(rune(c))
		}
	}
	return b.String()
}

// NewPartnerReader reads the header. A header without source_id, without
// category, or with neither occurred_at nor occurred_from (under any of
// their names) is refused with ErrNotPartner, as is a column given twice.
func NewPartnerReader(r io.Reader) (*PartnerReader, error) {
	lr := &PoliceUKReader{br: bufio.NewReaderSize(r, maxRecordBytes+2)}
	if b, err := lr.br.Peek(3); err == nil && string(b) == "\ufeff" {
		lr.br.Discard(3)
	} else if err != nil && err != io.EOF {
		return nil, err
	}
	rr, err := lr.assemble()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotPartner)
	}
	if err != nil {
		return nil, err
	}
	if rr.reason != "" {
		return nil, fmt.Errorf("%w: header: %s", ErrNotPartner, rr.reason)
	}
	names, reason := splitCSVRecord(rr.text, nil, nil)
	if reason != "" {
		return nil, fmt.Errorf("%w: header: %s", ErrNotPartner, reason)
	}
	p := &PartnerReader{lines: lr, width: len(names)}
	seen := map[string]string{}
	for _, n := range names {
		f := PartnerField(n)
		if f == "" {
			if strings.TrimSpace(n) != "" {
				p.Ignored = append(p.Ignored, strings.TrimSpace(n))
			}
		} else if other, dup := seen[f]; dup {
			return nil, fmt.Errorf("%w: columns %q and %q are both %s", ErrNotPartner, other, strings.TrimSpace(n), f)
		} else {
			seen[f] = strings.TrimSpace(n)
		}
		p.cols = append(p.cols, f)
	}
	if err := checkPartnerFields(seen); err != nil {
		return nil, err
	}
	return p, nil
}

func checkPartnerFields(have map[string]string) error {
	var missing []string
	if _, ok := have[FieldSourceID]; !ok {
		missing = append(missing, FieldSourceID)
	}
	if _, ok := have[FieldCategory]; !ok {
		missing = append(missing, FieldCategory)
	}
	_, at := have[FieldOccurredAt]
	_, from := have[FieldOccurredFrom]
	if !at && !from {
		missing = append(missing, FieldOccurredAt+" (or "+FieldOccurredFrom+")")
	}
	if len(missing) > 0 {
		return fmt.Errorf("%w: no column for %s (see the column contract: hotspot import partner --help)", ErrNotPartner, strings.Join(missing, ", "))
	}
	return nil
}

// Next returns the next record, or io.EOF after the last. A malformed row
// comes back with Reason set; only I/O errors are errors.
func (p *PartnerReader) Next() (PartnerRecord, error) {
	rr, err := p.lines.assemble()
	if err != nil {
		return PartnerRecord{}, err
	}
	rec := PartnerRecord{Line: rr.line, Raw: rr.raw}
	if rr.reason != "" {
		rec.Reason = rr.reason
		return rec, nil
	}
	if !utf8.ValidString(rr.raw) {
		// Excel saves "CSV" in Windows-1252 on British machines: a row
		// that is not UTF-8 is read as that (every byte means something
		// there), so a smart quote or a £ does not cost the record.
		rr.raw, rr.text = fromWindows1252(rr.raw), fromWindows1252(rr.text)
		rec.Raw = rr.raw
		p.Windows1252++
	}
	fields, reason := splitCSVRecord(rr.text, p.fields[:0], &p.esc)
	p.fields = fields
	switch {
	case reason != "":
		rec.Reason = "bad CSV: " + reason
	case len(fields) != p.width:
		rec.Reason = fmt.Sprintf("wrong column count: %d, want %d", len(fields), p.width)
	case strings.IndexByte(rr.raw, 0) >= 0:
		rec.Reason = "NUL byte in row"
	}
	if rec.Reason != "" {
		return rec, nil
	}
	vals := map[string]string{}
	for i, f := range p.cols {
		if f != "" {
			vals[f] = strings.TrimSpace(fields[i])
		}
	}
	rec.Incident, rec.Reason = ParsePartnerFields(vals)
	return rec, nil
}

// PartnerFieldsFrom turns a JSON record's keys (any of the names a CSV
// header may use) into canonical fields, or says which key is unknown or
// given twice.
func PartnerFieldsFrom(obj map[string]string) (map[string]string, string) {
	out := make(map[string]string, len(obj))
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		f := PartnerField(k)
		if f == "" {
			return nil, "unknown field " + quoteForReason(k)
		}
		if _, dup := out[f]; dup {
			return nil, "field " + f + " given twice (as " + quoteForReason(k) + " too)"
		}
		out[f] = strings.TrimSpace(obj[k])
	}
	return out, ""
}

// ParsePartnerFields checks one record's fields (canonical names, trimmed
// values) and parses it, or says why it cannot be taken.
func ParsePartnerFields(v map[string]string) (PartnerIncident, string) {
	var in PartnerIncident
	for _, f := range partnerFields {
		s := v[f]
		limit := maxFieldText
		if f == FieldDescription {
			limit = maxDescription
		}
		if len(s) > limit {
			return in, fmt.Sprintf("%s longer than %d bytes", f, limit)
		}
		if !utf8.ValidString(s) {
			return in, f + ": invalid UTF-8"
		}
		if strings.IndexByte(s, 0) >= 0 {
			return in, f + ": NUL byte"
		}
	}
	in.SourceID = v[FieldSourceID]
	switch {
	case in.SourceID == "":
		return in, "empty source_id"
	case len(in.SourceID) > maxSourceID:
		return in, fmt.Sprintf("source_id longer than %d bytes", maxSourceID)
	}
	in.Category = strings.Join(strings.Fields(v[FieldCategory]), " ")
	if in.Category == "" {
		return in, "empty category"
	}
	at, from, to, tm := v[FieldOccurredAt], v[FieldOccurredFrom], v[FieldOccurredTo], v[FieldTime]
	var err error
	switch {
	case at != "" && (from != "" || to != ""):
		return in, "both occurred_at and occurred_from/occurred_to given"
	case at != "":
		if tm != "" {
			at += " " + tm
		}
		in.Occurred, err = ParseOccurred(at)
	default:
		if tm != "" && from != "" {
			from += " " + tm
		}
		in.Occurred, err = ParseOccurredRange(from, to)
	}
	if err != nil {
		return in, err.Error()
	}
	q := LocationQuery{Postcode: v[FieldPostcode], Street: v[FieldStreet], Town: v[FieldTown], GridRef: v[FieldGridRef]}
	var text []string
	for _, f := range []string{FieldAddress, FieldLocation} {
		if s := v[f]; s != "" {
			text = append(text, s)
		}
	}
	q.Text = strings.Join(text, ", ")
	if q.Easting, q.Northing, err = coordPair(v, FieldEasting, FieldNorthing, 0, 700000, 0, 1300000); err != nil {
		return in, err.Error()
	}
	if q.Lon, q.Lat, err = coordPair(v, FieldLon, FieldLat, -180, 180, -90, 90); err != nil {
		return in, err.Error()
	}
	in.Query = q
	in.Description = v[FieldDescription]
	return in, ""
}

// coordPair reads two coordinate fields that must come together and lie
// in range.
func coordPair(v map[string]string, fa, fb string, loA, hiA, loB, hiB float64) (*float64, *float64, error) {
	a, b := v[fa], v[fb]
	switch {
	case a == "" && b == "":
		return nil, nil, nil
	case a == "":
		return nil, nil, fmt.Errorf("%s without %s", fb, fa)
	case b == "":
		return nil, nil, fmt.Errorf("%s without %s", fa, fb)
	}
	x, ok := parsePoliceUKCoord(a)
	if !ok || x < loA || x > hiA {
		return nil, nil, fmt.Errorf("bad %s %s", fa, quoteForReason(a))
	}
	y, ok := parsePoliceUKCoord(b)
	if !ok || y < loB || y > hiB {
		return nil, nil, fmt.Errorf("bad %s %s", fb, quoteForReason(b))
	}
	return &x, &y, nil
}

// JSONPartnerRecord turns one record of a JSON batch (an object whose
// values are strings, numbers or null) into canonical fields, or says why
// it cannot.
func JSONPartnerRecord(raw json.RawMessage) (map[string]string, string) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(raw, &obj); err != nil || obj == nil {
		return nil, "not a JSON object"
	}
	if k, dup := duplicateKey(raw); dup {
		// encoding/json keeps the last of two equal keys; a record that
		// says two categories or two dates is refused, not half-read.
		return nil, "field " + quoteForReason(k) + " is given twice"
	}
	flat := make(map[string]string, len(obj))
	for k, v := range obj {
		s := strings.TrimSpace(string(v))
		switch {
		case s == "null":
			flat[k] = ""
		case strings.HasPrefix(s, `"`):
			var u string
			if err := json.Unmarshal(v, &u); err != nil {
				return nil, "field " + quoteForReason(k) + ": bad string"
			}
			flat[k] = u
		case s != "" && (s[0] == '-' || s[0] >= '0' && s[0] <= '9'):
			flat[k] = s
		default:
			return nil, "field " + quoteForReason(k) + ": want a string, a number or null"
		}
	}
	return PartnerFieldsFrom(flat)
}

// duplicateKey reports the first key that appears twice among the
// top-level keys of a JSON object (raw is known to be one).
func duplicateKey(raw json.RawMessage) (string, bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	if _, err := dec.Token(); err != nil { // {
		return "", false
	}
	seen := map[string]bool{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return "", false
		}
		k, _ := t.(string)
		if seen[k] {
			return k, true
		}
		seen[k] = true
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return "", false
		}
	}
	return "", false
}
