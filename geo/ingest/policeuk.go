package ingest

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/paulmach/orb"

	"github.com/harborough-csp/hotspot/geo"
)

// SourcePoliceUK is the incidents.source value for police.uk rows. Re-imports
// match existing rows on (Source, SourceID), so this string must never change
// once data has been loaded with it.
const SourcePoliceUK = "police-uk"

// ErrNotPoliceUK is returned by NewPoliceUKReader when the header line is not
// that of a data.police.uk street-level crime file. It is wrapped with what
// was wrong (missing columns, an empty file, ...) so that an operator who fed
// the importer the wrong file can see why it was refused; test for it with
// errors.Is.
var ErrNotPoliceUK = errors.New("not a police.uk street-level crime CSV")

// ErrOldLayout is returned by NewPoliceUKReader for police.uk's older
// street-level layout, which gave British National Grid Easting/Northing
// columns instead of Longitude/Latitude. This importer does not convert grid
// references, so such files are refused outright rather than half-read; the
// wrapping error says to download the month again in the current format.
// Test for it with errors.Is.
var ErrOldLayout = errors.New("old police.uk layout with Easting/Northing columns")

// Limits on a single record. They keep memory bounded however hostile the
// input, and they bound how far a stray double quote can reach: a record
// whose quotes are still open after maxRecordLines lines or maxRecordBytes
// bytes is rejected as unterminated and reading resumes on its second line.
const (
	maxRecordBytes = 64 << 10
	maxRecordLines = 50
)

// Column positions in the canonical police.uk order; the header maps them to
// the file's real positions, which may differ.
const (
	colCrimeID = iota
	colMonth
	colReportedBy
	colFallsWithin
	colLongitude
	colLatitude
	colLocation
	colLSOACode
	colLSOAName
	colCrimeType
	colOutcome
	colContext
	numCols
)

// columnNames are the required header names, as police.uk spells them.
var columnNames = [numCols]string{
	"Crime ID", "Month", "Reported by", "Falls within", "Longitude", "Latitude",
	"Location", "LSOA code", "LSOA name", "Crime type", "Last outcome category", "Context",
}

// identityColumns are the fields hashed into the SourceID of a row that has no
// Crime ID: every column except the (empty) Crime ID itself.
var identityColumns = [...]int{
	colMonth, colReportedBy, colFallsWithin, colLongitude, colLatitude, colLocation,
	colLSOACode, colLSOAName, colCrimeType, colOutcome, colContext,
}

// Record is one row of a police.uk file: either a parsed incident or a
// rejected row. Rejected rows are returned rather than turned into errors so
// that one bad line cannot stop a month's import, and so that the importer
// can report each of them with its line number and text.
type Record struct {
	// Line is the 1-based line number in the file where the row starts (the
	// header is line 1). Rows with quoted newlines span several lines; the
	// next record's Line accounts for them.
	Line int
	// Raw is the row's text exactly as in the file, without the trailing
	// newline (a trailing CRLF is stripped too). For a row rejected as
	// unterminated it is the row's first line only, because reading resumes
	// on the line after it. For a row rejected as too long it is cut to the
	// first 64 KiB.
	Raw string
	// Incident is the parsed row. It is valid only when Reason == "".
	Incident geo.Incident
	// Reason says why the row was rejected, in short, stable, human-readable
	// words (for example "wrong column count: 11, want 12" or
	// `bad month "2024-13"`); it is "" when the row is good.
	Reason string
}

// physLine is one physical line of input.
type physLine struct {
	no      int    // 1-based line number
	text    string // without its terminator
	crlf    bool   // terminated by "\r\n" rather than "\n"
	tooLong bool   // longer than maxRecordBytes; text holds only the start
}

// PoliceUKReader streams Records from a data.police.uk street-level crime
// CSV file. It holds one record at a time plus, for rows without a Crime ID,
// a small per-file count of how often each row has been seen (needed to give
// identical rows distinct, stable IDs), so a file of any size can be read in
// bounded memory. It does no logging and touches no database: what to do with
// rejected rows is the caller's decision.
type PoliceUKReader struct {
	br      *bufio.Reader
	lineNo  int        // physical lines taken from br so far
	pending []physLine // lines given back after an unterminated record, in order
	err     error      // sticky: io.EOF or the first I/O error from br

	idx   [numCols]int // file column of each canonical column
	width int          // number of columns in the header

	fields  []string   // reused by each row's CSV split
	lines   []physLine // reused when a record spans lines
	escBuf  []byte     // reused when a quoted field holds ""
	keyBuf  []byte     // reused for the identity of a Crime-ID-less row
	h       hash.Hash
	sum     [sha256.Size]byte
	seen    map[[sha256.Size]byte]int // occurrences of each Crime-ID-less row
	idBytes [4 + 32]byte
}

// NewPoliceUKReader reads and checks the header line, so that a wrong file is
// refused before any row is imported. It tolerates a UTF-8 byte order mark,
// CRLF line ends, and header names in any letter case with surrounding
// spaces; the twelve police.uk columns may come in any order, and extra
// columns are ignored. A header with Easting/Northing instead of
// Longitude/Latitude yields an error wrapping ErrOldLayout; any other header
// that lacks a required column yields one wrapping ErrNotPoliceUK. Other
// errors are I/O errors from r.
func NewPoliceUKReader(r io.Reader) (*PoliceUKReader, error) {
	p := &PoliceUKReader{
		br:   bufio.NewReaderSize(r, maxRecordBytes+2),
		h:    sha256.New(),
		seen: make(map[[sha256.Size]byte]int),
	}
	if b, err := p.br.Peek(3); err == nil && string(b) == "\ufeff" {
		p.br.Discard(3)
	} else if err != nil && err != io.EOF {
		return nil, err
	}
	rr, err := p.assemble()
	if err == io.EOF {
		return nil, fmt.Errorf("%w: the file is empty", ErrNotPoliceUK)
	}
	if err != nil {
		return nil, err
	}
	if rr.reason != "" {
		return nil, fmt.Errorf("%w: header line %d: %s", ErrNotPoliceUK, rr.line, rr.reason)
	}
	names, reason := splitCSVRecord(rr.text, nil, nil)
	if reason != "" {
		return nil, fmt.Errorf("%w: header line %d: %s", ErrNotPoliceUK, rr.line, reason)
	}
	if err := p.mapHeader(names); err != nil {
		return nil, err
	}
	return p, nil
}

// mapHeader fills p.idx and p.width from the header's column names.
func (p *PoliceUKReader) mapHeader(names []string) error {
	pos := make(map[string]int, len(names))
	for i, n := range names {
		n = strings.ToLower(strings.TrimSpace(n))
		if n == "" {
			continue
		}
		if _, dup := pos[n]; dup {
			return fmt.Errorf("%w: column %q appears twice in the header", ErrNotPoliceUK, strings.TrimSpace(names[i]))
		}
		pos[n] = i
	}
	_, hasLon := pos["longitude"]
	_, hasLat := pos["latitude"]
	_, hasE := pos["easting"]
	_, hasN := pos["northing"]
	// A modern file to which someone has added grid columns is still a modern
	// file; only a header that has grid columns instead of lon/lat is the old
	// layout.
	if (hasE || hasN) && !(hasLon && hasLat) {
		return fmt.Errorf("%w: this is police.uk's pre-2013 street-level layout, which gives British "+
			"National Grid Easting/Northing instead of Longitude/Latitude and is not imported; "+
			"download the month again from https://data.police.uk/data/ in the current format, "+
			"which has Crime ID, Longitude, Latitude and LSOA columns", ErrOldLayout)
	}
	var missing []string
	for c, name := range columnNames {
		i, ok := pos[strings.ToLower(name)]
		if !ok {
			missing = append(missing, strconv.Quote(name))
			continue
		}
		p.idx[c] = i
	}
	if len(missing) > 0 {
		noun := "column"
		if len(missing) > 1 {
			noun = "columns"
		}
		return fmt.Errorf("%w: header lacks %s %s (it has %d columns)",
			ErrNotPoliceUK, noun, strings.Join(missing, ", "), len(names))
	}
	p.width = len(names)
	return nil
}

// Next returns the next record, or io.EOF after the last one. A malformed
// row is not an error: it comes back as a Record with Reason set, and the
// following call carries on with the next row, so one bad line costs one
// row and not the month. Only I/O errors from the underlying reader are
// returned as errors; after one, Next keeps returning it.
func (p *PoliceUKReader) Next() (Record, error) {
	rr, err := p.assemble()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Line: rr.line, Raw: rr.raw}
	if rr.reason != "" {
		rec.Reason = rr.reason
		return rec, nil
	}
	fields, reason := splitCSVRecord(rr.text, p.fields[:0], &p.escBuf)
	p.fields = fields
	if reason != "" {
		rec.Reason = "bad CSV: " + reason
		return rec, nil
	}
	if len(fields) != p.width {
		rec.Reason = fmt.Sprintf("wrong column count: %d, want %d", len(fields), p.width)
		return rec, nil
	}
	if !utf8.ValidString(rr.raw) {
		rec.Reason = "invalid UTF-8"
		return rec, nil
	}
	if strings.IndexByte(rr.raw, 0) >= 0 {
		rec.Reason = "NUL byte in row"
		return rec, nil
	}
	rec.Incident, rec.Reason = p.incident(fields)
	return rec, nil
}

// incident turns a row's fields into an Incident, or says why it cannot.
func (p *PoliceUKReader) incident(fields []string) (geo.Incident, string) {
	var v [numCols]string
	for c := range v {
		v[c] = strings.TrimSpace(fields[p.idx[c]])
	}
	occurred, err := geo.ParseMonth(v[colMonth])
	if err != nil {
		return geo.Incident{}, "bad month " + quoteForReason(v[colMonth])
	}
	in := geo.Incident{
		Source:       SourcePoliceUK,
		Occurred:     occurred,
		LocationText: v[colLocation],
		LSOACode:     v[colLSOACode],
		LSOAName:     v[colLSOAName],
		Outcome:      v[colOutcome],
		Context:      v[colContext],
		ReportedBy:   v[colReportedBy],
		FallsWithin:  v[colFallsWithin],
	}
	lonS, latS := v[colLongitude], v[colLatitude]
	switch {
	case lonS == "" && latS == "":
		// police.uk withholds the location of some crimes; the row is real
		// and is kept, without a point.
	case latS == "":
		return geo.Incident{}, "longitude without latitude"
	case lonS == "":
		return geo.Incident{}, "latitude without longitude"
	default:
		lon, ok := parsePoliceUKCoord(lonS)
		if !ok {
			return geo.Incident{}, "bad longitude " + quoteForReason(lonS)
		}
		lat, ok := parsePoliceUKCoord(latS)
		if !ok {
			return geo.Incident{}, "bad latitude " + quoteForReason(latS)
		}
		pt := orb.Point{lon, lat}
		if err := geo.CheckLonLat(pt); err != nil {
			return geo.Incident{}, err.Error()
		}
		in.Point, in.HasPoint = pt, true
	}
	if v[colCrimeType] == "" {
		return geo.Incident{}, "empty crime type"
	}
	in.Category, _ = geo.CategorySlug(v[colCrimeType])
	if in.Category == "" {
		return geo.Incident{}, "bad crime type " + quoteForReason(v[colCrimeType])
	}
	if id := v[colCrimeID]; id != "" {
		in.SourceID = id
	} else {
		in.SourceID = p.anonymousID(&v)
	}
	return in, ""
}

// anonymousID gives a row without a Crime ID (police.uk's anti-social
// behaviour rows) an identity that is stable across re-imports of the same
// file yet distinct for rows that are exact duplicates, which real files have
// dozens of a month: "asb-" and the hex of the first 16 bytes of
// sha256(fields joined by \x1f + "\x1f" + n), where the fields are the
// trimmed columns other than Crime ID, in police.uk order, and n counts
// occurrences of that exact row in this file from 1.
func (p *PoliceUKReader) anonymousID(v *[numCols]string) string {
	buf := p.keyBuf[:0]
	for i, c := range identityColumns {
		if i > 0 {
			buf = append(buf, 0x1f)
		}
		buf = append(buf, v[c]...)
	}
	h := p.h
	h.Reset()
	h.Write(buf)
	// The map is keyed by the hash of the row rather than the row itself so
	// that each distinct row costs 32 bytes however long its fields are.
	key := [sha256.Size]byte(h.Sum(p.sum[:0]))
	n := p.seen[key] + 1
	p.seen[key] = n
	buf = strconv.AppendInt(append(buf[:0], 0x1f), int64(n), 10)
	h.Write(buf)
	p.keyBuf = buf[:0]
	sum := h.Sum(p.sum[:0])
	copy(p.idBytes[:], "asb-")
	hex.Encode(p.idBytes[4:], sum[:16])
	return string(p.idBytes[:])
}

// recordText is one record's text before CSV splitting.
type recordText struct {
	line   int
	raw    string // exactly as in the file, less the final line end
	text   string // lines joined by "\n", as CSV quoted fields read them
	reason string // set when the record could not even be delimited
}

// assemble reads the next record's lines: one line, or more while its double
// quotes are unbalanced (a quoted field holds a newline). Blank lines between
// records are skipped. A record still open after maxRecordLines lines or
// maxRecordBytes bytes, or at the end of input, is reported as unterminated
// and its later lines are given back, so that reading resumes on its second
// line instead of swallowing the rest of the file.
func (p *PoliceUKReader) assemble() (recordText, error) {
	var first physLine
	for {
		l, err := p.readLine()
		if err != nil {
			return recordText{}, err
		}
		if l.tooLong || strings.TrimSpace(l.text) != "" {
			first = l
			break
		}
	}
	if first.tooLong {
		return recordText{line: first.no, raw: first.text,
			reason: fmt.Sprintf("line too long: more than %d bytes", maxRecordBytes)}, nil
	}
	quotes := strings.Count(first.text, `"`)
	if quotes%2 == 0 {
		return recordText{line: first.no, raw: first.text, text: first.text}, nil
	}
	lines := append(p.lines[:0], first)
	size := len(first.text)
	for quotes%2 == 1 {
		l, err := p.readLine()
		if err != nil && err != io.EOF {
			return recordText{}, err
		}
		if err == nil {
			lines = append(lines, l)
			size += 1 + len(l.text)
		}
		if err == io.EOF || l.tooLong || len(lines) > maxRecordLines || size > maxRecordBytes {
			p.unread(lines[1:])
			p.lines = lines[:0]
			return recordText{line: first.no, raw: first.text, reason: "unterminated quoted field"}, nil
		}
		quotes += strings.Count(l.text, `"`)
	}
	p.lines = lines[:0]
	var raw, text strings.Builder
	raw.Grow(size + len(lines))
	text.Grow(size)
	crlf := false
	for i, l := range lines {
		if i > 0 {
			text.WriteByte('\n')
			if lines[i-1].crlf {
				raw.WriteString("\r\n")
				crlf = true
			} else {
				raw.WriteByte('\n')
			}
		}
		raw.WriteString(l.text)
		text.WriteString(l.text)
	}
	rr := recordText{line: first.no, raw: raw.String()}
	if crlf {
		rr.text = text.String()
	} else {
		rr.text = rr.raw
	}
	return rr, nil
}

// unread gives lines back to be read again, ahead of any already pending.
func (p *PoliceUKReader) unread(ls []physLine) {
	if len(ls) == 0 {
		return
	}
	pending := make([]physLine, 0, len(ls)+len(p.pending))
	pending = append(pending, ls...)
	p.pending = append(pending, p.pending...)
}

// readLine returns the next physical line, from the lines given back first.
// A line longer than maxRecordBytes is returned cut short and marked tooLong,
// and the rest of it is skipped, so no line can make the reader grow.
func (p *PoliceUKReader) readLine() (physLine, error) {
	if len(p.pending) > 0 {
		l := p.pending[0]
		p.pending = p.pending[1:]
		return l, nil
	}
	if p.err != nil {
		return physLine{}, p.err
	}
	b, err := p.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		l := physLine{text: string(b[:maxRecordBytes]), tooLong: true}
		for err == bufio.ErrBufferFull {
			_, err = p.br.ReadSlice('\n')
		}
		if err != nil {
			p.err = err
			if err != io.EOF {
				return physLine{}, err
			}
		}
		p.lineNo++
		l.no = p.lineNo
		return l, nil
	}
	if err != nil {
		p.err = err
		if err != io.EOF || len(b) == 0 {
			return physLine{}, err
		}
	}
	p.lineNo++
	l := physLine{no: p.lineNo}
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
		if n := len(b); n > 0 && b[n-1] == '\r' {
			b = b[:n-1]
			l.crlf = true
		}
	} else if n > 0 && b[n-1] == '\r' {
		b = b[:n-1] // a CR ending the input is a line end too, as encoding/csv has it
	}
	if len(b) > maxRecordBytes {
		b, l.tooLong = b[:maxRecordBytes], true
	}
	l.text = string(b)
	return l, nil
}

// splitCSVRecord splits one record's text into fields by RFC 4180, as encoding/csv
// does with LazyQuotes false: a field that starts with a double quote is
// quoted, "" inside it is one quote, and it must end with a quote followed by
// a comma or the end of the record; a quote anywhere in an unquoted field is
// an error. Fields without escapes share s's memory. On error, reason says
// what was wrong.
func splitCSVRecord(s string, dst []string, esc *[]byte) (fields []string, reason string) {
	for {
		if len(s) > 0 && s[0] == '"' {
			s = s[1:]
			var buf []byte
			escaped := false
			if esc != nil {
				buf = (*esc)[:0]
			}
			var val string
			for {
				j := strings.IndexByte(s, '"')
				if j < 0 {
					return dst, "unterminated quoted field"
				}
				if j+1 < len(s) && s[j+1] == '"' {
					buf = append(buf, s[:j+1]...)
					s = s[j+2:]
					escaped = true
					continue
				}
				if escaped {
					buf = append(buf, s[:j]...)
					val = string(buf)
				} else {
					val = s[:j]
				}
				s = s[j+1:]
				break
			}
			if esc != nil {
				*esc = buf[:0]
			}
			dst = append(dst, val)
			if len(s) == 0 {
				return dst, ""
			}
			if s[0] != ',' {
				return dst, `extraneous or missing " in quoted field`
			}
			s = s[1:]
			continue
		}
		j := strings.IndexByte(s, ',')
		f := s
		if j >= 0 {
			f = s[:j]
		}
		if strings.IndexByte(f, '"') >= 0 {
			return dst, `bare " in non-quoted field`
		}
		dst = append(dst, f)
		if j < 0 {
			return dst, ""
		}
		s = s[j+1:]
	}
}

// parsePoliceUKCoord parses a decimal coordinate. Only plain decimal notation is
// accepted: strconv.ParseFloat would also take "NaN", "Inf", hex floats and
// digit underscores, none of which police.uk writes.
func parsePoliceUKCoord(s string) (float64, bool) {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c == '.', c == '-', c == '+', c == 'e', c == 'E':
		default:
			return 0, false
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

// quoteForReason quotes s for a Reason, cut to a readable length so one huge
// field cannot make a huge message.
func quoteForReason(s string) string {
	const max = 40
	if len(s) <= max {
		return strconv.Quote(s)
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return strconv.Quote(s[:cut]) + "..."
}
