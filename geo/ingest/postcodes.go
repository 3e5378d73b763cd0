package ingest

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// SourceCodePoint is the import_batches.source of an OS Code-Point Open file.
const SourceCodePoint = "codepoint-open"

// ErrNotCodePoint is returned by NewPostcodeReader for input whose first
// line is not an OS Code-Point Open row (or its header): a police.uk file
// given by mistake, say. Test for it with errors.Is.
var ErrNotCodePoint = errors.New("not an OS Code-Point Open CSV")

// Code-Point Open's ten columns, in the order OS issues them (the files
// have no header row; Doc/Code-Point_Open_Column_Headers.csv names them).
const (
	cpPostcode = iota
	cpQuality
	cpEasting
	cpNorthing
	cpCountry
	cpNHSRegion
	cpNHSHA
	cpCounty
	cpDistrict
	cpWard
	cpNumCols
)

// cpMaxLine bounds one line; a real row is under 100 bytes.
const cpMaxLine = 4 << 10

// Postcode is one postcode unit of Code-Point Open: its position in
// British National Grid metres and the codes of the areas it lies in.
type Postcode struct {
	// Postcode is normalised: upper case, one space before the inward
	// code ("LE16 7AA").
	Postcode string
	// Quality is OS's positional quality indicator: 10 within the building
	// of a matched address, 20 by the nearest match, 30 approximate, 40
	// the mean of the postcode sector, 50 estimated from nearby postcodes,
	// 60 postcode sector mean (unverified). 90 (no coordinates) is refused.
	Quality                                           int
	Easting, Northing                                 int
	Country, NHSRegion, NHSHA, County, District, Ward string
}

// PostcodeRecord is one line of a Code-Point Open file: a postcode, or a
// rejected line with its reason (as Record is for police.uk).
type PostcodeRecord struct {
	Line     int    // 1-based line number
	Raw      string // the line as in the file, without its line end
	Postcode Postcode
	Reason   string // why the line was rejected; "" for a good one
}

// PostcodeReader streams PostcodeRecords from a Code-Point Open CSV. Like
// PoliceUKReader it holds one line at a time, returns a bad line as a
// record with a Reason rather than an error, and does no I/O of its own.
type PostcodeReader struct {
	br     *bufio.Reader
	lineNo int
	err    error
	first  *PostcodeRecord // the first data line, read to check the file
	fields []string
	escBuf []byte
}

// NewPostcodeReader checks the first line and returns a reader positioned
// at the first postcode. A header line (as some republished copies add,
// "Postcode,Positional_quality_indicator,..." or "PC,PQ,...") is skipped;
// a first line that is neither a header nor a ten-column row yields an
// error wrapping ErrNotCodePoint, so a wrong file is refused whole.
func NewPostcodeReader(r io.Reader) (*PostcodeReader, error) {
	p := &PostcodeReader{br: bufio.NewReaderSize(r, cpMaxLine+2)}
	if b, err := p.br.Peek(3); err == nil && string(b) == "\ufeff" {
		p.br.Discard(3)
	} else if err != nil && err != io.EOF {
		return nil, err
	}
	for {
		rec, err := p.next()
		if err == io.EOF {
			return nil, fmt.Errorf("%w: the file is empty", ErrNotCodePoint)
		}
		if err != nil {
			return nil, err
		}
		if rec.Line == 1 && isCodePointHeader(rec.Raw) {
			continue
		}
		if n := len(p.fields); rec.Reason != "" && (n != cpNumCols || strings.HasPrefix(rec.Reason, "bad CSV")) {
			return nil, fmt.Errorf("%w: line %d has %d columns (want %d: Postcode, Positional_quality_indicator, Eastings, Northings, Country_code, NHS_regional_HA_code, NHS_HA_code, Admin_county_code, Admin_district_code, Admin_ward_code)",
				ErrNotCodePoint, rec.Line, n, cpNumCols)
		}
		p.first = &rec
		return p, nil
	}
}

func isCodePointHeader(line string) bool {
	f, _ := splitCSVRecord(line, nil, nil)
	if len(f) != cpNumCols {
		return false
	}
	h := strings.ToLower(strings.TrimSpace(f[0]))
	return h == "postcode" || h == "pc"
}

// Next returns the next record, or io.EOF after the last. Only I/O errors
// from the underlying reader are errors.
func (p *PostcodeReader) Next() (PostcodeRecord, error) {
	if p.first != nil {
		rec := *p.first
		p.first = nil
		return rec, nil
	}
	return p.next()
}

func (p *PostcodeReader) next() (PostcodeRecord, error) {
	for {
		raw, tooLong, err := p.readLine()
		if err != nil {
			return PostcodeRecord{}, err
		}
		rec := PostcodeRecord{Line: p.lineNo, Raw: raw}
		if tooLong {
			rec.Reason = fmt.Sprintf("line too long: more than %d bytes", cpMaxLine)
			p.fields = p.fields[:0]
			return rec, nil
		}
		if strings.TrimSpace(raw) == "" {
			continue
		}
		rec.Postcode, rec.Reason = p.parse(raw)
		return rec, nil
	}
}

// readLine returns the next line without its terminator; a line longer
// than cpMaxLine comes back cut short with tooLong set, the rest skipped.
func (p *PostcodeReader) readLine() (string, bool, error) {
	if p.err != nil {
		return "", false, p.err
	}
	b, err := p.br.ReadSlice('\n')
	tooLong := false
	if err == bufio.ErrBufferFull {
		b = append([]byte(nil), b[:cpMaxLine]...)
		tooLong = true
		for err == bufio.ErrBufferFull {
			_, err = p.br.ReadSlice('\n')
		}
	}
	if err != nil {
		p.err = err
		if err != io.EOF || (len(b) == 0 && !tooLong) {
			return "", false, err
		}
	}
	p.lineNo++
	s := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if len(s) > cpMaxLine {
		s, tooLong = s[:cpMaxLine], true
	}
	return s, tooLong, nil
}

// parse checks one line's fields; reason is "" for a good postcode.
func (p *PostcodeReader) parse(raw string) (Postcode, string) {
	fields, reason := splitCSVRecord(raw, p.fields[:0], &p.escBuf)
	p.fields = fields
	if reason != "" {
		return Postcode{}, "bad CSV: " + reason
	}
	if len(fields) != cpNumCols {
		return Postcode{}, fmt.Sprintf("wrong column count: %d, want %d", len(fields), cpNumCols)
	}
	if !utf8.ValidString(raw) {
		return Postcode{}, "invalid UTF-8"
	}
	if strings.IndexByte(raw, 0) >= 0 {
		return Postcode{}, "NUL byte in row"
	}
	var v [cpNumCols]string
	for i := range v {
		v[i] = strings.TrimSpace(fields[i])
	}
	pc, ok := NormalisePostcode(v[cpPostcode])
	if !ok {
		return Postcode{}, "bad postcode " + quoteForReason(v[cpPostcode])
	}
	q, err := strconv.Atoi(v[cpQuality])
	if err != nil || q < 10 || q > 90 || q%10 != 0 {
		return Postcode{}, "bad positional quality " + quoteForReason(v[cpQuality])
	}
	e, errE := strconv.Atoi(v[cpEasting])
	n, errN := strconv.Atoi(v[cpNorthing])
	switch {
	case errE != nil:
		return Postcode{}, "bad easting " + quoteForReason(v[cpEasting])
	case errN != nil:
		return Postcode{}, "bad northing " + quoteForReason(v[cpNorthing])
	case q == 90 || (e == 0 && n == 0):
		// OS issues postcodes it cannot place with quality 90 and 0, 0.
		return Postcode{}, "no coordinates"
	case e < 0 || e > 700000 || n < 0 || n > 1300000:
		return Postcode{}, fmt.Sprintf("easting/northing %d, %d outside Great Britain", e, n)
	}
	for _, c := range []int{cpCountry, cpNHSRegion, cpNHSHA, cpCounty, cpDistrict, cpWard} {
		if !isAreaCode(v[c]) {
			return Postcode{}, "bad area code " + quoteForReason(v[c])
		}
	}
	return Postcode{
		Postcode: pc, Quality: q, Easting: e, Northing: n,
		Country: v[cpCountry], NHSRegion: v[cpNHSRegion], NHSHA: v[cpNHSHA],
		County: v[cpCounty], District: v[cpDistrict], Ward: v[cpWard],
	}, ""
}

// isAreaCode accepts an empty code or a GSS-style code of letters and
// digits (E07000131, S12000033).
func isAreaCode(s string) bool {
	if len(s) > 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// postcodeShape is a UK postcode without spaces: an outward code of one
// or two letters, a digit and an optional digit or letter (A9, A99, A9A,
// AA9, AA99, AA9A), then an inward code of a digit and two letters.
var postcodeShape = regexp.MustCompile(`^([A-Z]{1,2}[0-9][0-9A-Z]?)([0-9][A-Z]{2})$`)

// NormalisePostcode returns a UK postcode in the form Code-Point Open and
// Royal Mail print it (upper case, one space before the three-character
// inward code), or false if s is not shaped like a postcode. Spaces in the
// input are ignored, so "le167aa", "LE16  7AA" and "LE167AA" all give
// "LE16 7AA".
func NormalisePostcode(s string) (string, bool) {
	if len(s) > 16 {
		return "", false
	}
	compact := strings.ToUpper(strings.ReplaceAll(s, " ", ""))
	m := postcodeShape.FindStringSubmatch(compact)
	if m == nil {
		return "", false
	}
	return m[1] + " " + m[2], true
}

// PostcodeSummary reports what one Code-Point Open import did. Read =
// Inserted + Updated + Unchanged + Quarantined always holds.
type PostcodeSummary struct {
	File        string
	BatchID     int64
	SHA256      string
	Read        int
	Inserted    int
	Updated     int
	Unchanged   int
	Quarantined int
	// QuarantinedBy counts quarantined rows by the kind of their reason.
	QuarantinedBy map[string]int
	Duration      time.Duration
}

const createPostcodeStaging = `CREATE TEMP TABLE staging_postcodes (
	line_no       integer NOT NULL,
	raw           text,
	reason        text,
	postcode      text,
	quality       smallint,
	easting       integer,
	northing      integer,
	country_code  text,
	nhs_region_code text,
	nhs_ha_code   text,
	county_code   text,
	district_code text,
	ward_code     text
) ON COMMIT DROP`

var postcodeStagingColumns = []string{
	"line_no", "raw", "reason", "postcode", "quality", "easting", "northing",
	"country_code", "nhs_region_code", "nhs_ha_code", "county_code", "district_code", "ward_code",
}

const countPostcodesStaged = `SELECT count(*), count(*) FILTER (WHERE reason IS NOT NULL) FROM staging_postcodes`

// duplicatePostcodes marks the later of two lines with the same postcode
// as rejected: one INSERT cannot upsert a key twice, and a file that
// repeats a postcode is wrong.
const duplicatePostcodes = `UPDATE staging_postcodes s SET reason = 'duplicate postcode (first on line ' || f.first || ')'
FROM (SELECT postcode, min(line_no) AS first FROM staging_postcodes WHERE reason IS NULL GROUP BY postcode HAVING count(*) > 1) f
WHERE s.reason IS NULL AND s.postcode = f.postcode AND s.line_no <> f.first`

const insertPostcodeQuarantine = `INSERT INTO quarantine (batch_id, line_no, raw, reason)
SELECT $1, line_no, raw, reason FROM staging_postcodes WHERE reason IS NOT NULL ORDER BY line_no`

// upsertPostcodes inserts new postcodes and updates changed ones, leaving
// identical rows untouched (so a re-import writes nothing). xmax = 0 tells
// an inserted row from an updated one.
const upsertPostcodes = `INSERT INTO postcodes AS p (postcode, quality, easting, northing, country_code,
	nhs_region_code, nhs_ha_code, county_code, district_code, ward_code, geom_bng, geom, geom_web)
SELECT s.postcode, s.quality, s.easting, s.northing, s.country_code,
	s.nhs_region_code, s.nhs_ha_code, s.county_code, s.district_code, s.ward_code,
	g.bng, ST_Transform(g.bng, 4326), ST_Transform(g.bng, 3857)
FROM staging_postcodes s
CROSS JOIN LATERAL (SELECT ST_SetSRID(ST_MakePoint(s.easting, s.northing), 27700) AS bng) g
WHERE s.reason IS NULL
ORDER BY s.line_no
ON CONFLICT (postcode) DO UPDATE SET quality = EXCLUDED.quality, easting = EXCLUDED.easting,
	northing = EXCLUDED.northing, country_code = EXCLUDED.country_code,
	nhs_region_code = EXCLUDED.nhs_region_code, nhs_ha_code = EXCLUDED.nhs_ha_code,
	county_code = EXCLUDED.county_code, district_code = EXCLUDED.district_code,
	ward_code = EXCLUDED.ward_code, geom_bng = EXCLUDED.geom_bng, geom = EXCLUDED.geom,
	geom_web = EXCLUDED.geom_web, loaded_at = now()
WHERE (p.quality, p.easting, p.northing, p.country_code, p.nhs_region_code, p.nhs_ha_code,
	p.county_code, p.district_code, p.ward_code)
	IS DISTINCT FROM (EXCLUDED.quality, EXCLUDED.easting, EXCLUDED.northing, EXCLUDED.country_code,
	EXCLUDED.nhs_region_code, EXCLUDED.nhs_ha_code, EXCLUDED.county_code, EXCLUDED.district_code,
	EXCLUDED.ward_code)
RETURNING (xmax = 0)`

// ImportPostcodesFile imports one Code-Point Open CSV file.
func ImportPostcodesFile(ctx context.Context, pool *pgxpool.Pool, path string) (PostcodeSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return PostcodeSummary{File: path}, err
	}
	defer f.Close()
	return ImportPostcodes(ctx, pool, filepath.Base(path), f)
}

// ImportPostcodes loads one Code-Point Open CSV, named name, from r into
// postcodes as one import batch in one transaction, upserting by
// postcode: a new postcode is inserted, a moved or re-coded one updated,
// an identical one left alone, so importing a file twice changes nothing.
// Bad lines go to quarantine with their line number and reason, and the
// rest of the file still loads.
func ImportPostcodes(ctx context.Context, pool *pgxpool.Pool, name string, r io.Reader) (PostcodeSummary, error) {
	start := time.Now()
	sum := PostcodeSummary{File: name, QuarantinedBy: map[string]int{}}
	hasher := sha256.New()
	counter := &countingReader{r: io.TeeReader(r, hasher)}
	pr, err := NewPostcodeReader(counter)
	if err != nil {
		return sum, fmt.Errorf("%s: %w", name, err)
	}
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		var err error
		sum.BatchID, err = stage(ctx, tx, SourceCodePoint, name, createPostcodeStaging, "staging_postcodes", postcodeStagingColumns, postcodeSource(pr, &sum))
		if err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, duplicatePostcodes)
		if err != nil {
			return err
		}
		if n := int(tag.RowsAffected()); n > 0 {
			sum.Quarantined += n
			sum.QuarantinedBy["duplicate postcode"] += n
		}
		var staged, bad int
		if err := tx.QueryRow(ctx, countPostcodesStaged).Scan(&staged, &bad); err != nil {
			return err
		}
		if staged != sum.Read || bad != sum.Quarantined {
			return fmt.Errorf("staged %d rows (%d rejected) but read %d (%d rejected)", staged, bad, sum.Read, sum.Quarantined)
		}
		if tag, err = tx.Exec(ctx, insertPostcodeQuarantine, sum.BatchID); err != nil {
			return err
		}
		if int(tag.RowsAffected()) != sum.Quarantined {
			return fmt.Errorf("quarantined %d rows; want %d", tag.RowsAffected(), sum.Quarantined)
		}
		rows, err := tx.Query(ctx, upsertPostcodes)
		if err != nil {
			return err
		}
		for rows.Next() {
			var inserted bool
			if err := rows.Scan(&inserted); err != nil {
				rows.Close()
				return err
			}
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
		sum.SHA256 = hex.EncodeToString(hasher.Sum(nil))
		_, err = tx.Exec(ctx, finishBatch, sum.BatchID, sum.SHA256, counter.n, sum.Read,
			sum.Inserted, sum.Updated+sum.Unchanged, 0, sum.Quarantined)
		return err
	})
	sum.Duration = time.Since(start)
	if err != nil {
		return sum, fmt.Errorf("import %s: %w", name, err)
	}
	return sum, nil
}

// postcodeSource streams Code-Point records into the postcode staging table.
func postcodeSource(pr *PostcodeReader, sum *PostcodeSummary) *copySource[PostcodeRecord] {
	return &copySource[PostcodeRecord]{
		next: pr.Next,
		seen: func(r PostcodeRecord) {
			sum.Read++
			if r.Reason != "" {
				sum.Quarantined++
				sum.QuarantinedBy[reasonKind(r.Reason)]++
			}
		},
		values: func(r PostcodeRecord) []any {
			if r.Reason != "" {
				return []any{r.Line, storableRaw(r.Raw), storableRaw(r.Reason), nil, nil, nil, nil, nil, nil, nil, nil, nil, nil}
			}
			p := r.Postcode
			return []any{r.Line, r.Raw, nil, p.Postcode, int16(p.Quality), int32(p.Easting), int32(p.Northing),
				p.Country, p.NHSRegion, p.NHSHA, p.County, p.District, p.Ward}
		},
	}
}
