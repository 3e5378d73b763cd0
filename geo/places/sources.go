package places

import (
	"bytes"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
)

// The files Build reads, relative to the shared data folder (see its
// README). The Code-Point Open file is found by pattern, so a newer
// release dropped in beside it is picked up.
const (
	DistrictFile    = "boundaries/harborough-district.geojson"
	WardsFile       = "boundaries/wards2013-harborough.geojson"
	LSOAFile        = "boundaries/lsoa11-harborough.geojson"
	OutputAreasFile = "boundaries/oa11-harborough.geojson"
	CitiesFile      = "places/geonames-cities500-harborough-area.tsv"
	PostalFile      = "places/geonames-postal-LE.tsv"
	postcodePattern = "postcodes/codepoint-open-*-le.csv"
)

// Area is one polygon of a boundary file.
type Area struct {
	Code    string
	Name    string
	Polygon orb.MultiPolygon // WGS84
}

// Postcode is one OS Code-Point Open unit: its postcode and its point in
// British National Grid (EPSG:27700) metres.
type Postcode struct {
	Code              string
	Easting, Northing float64
}

// Settlement is a named point from a GeoNames file.
type Settlement struct {
	Name  string
	Point orb.Point // WGS84
	// File is the gazetteer it came from (CitiesFile or PostalFile).
	File string
	// Accuracy is GeoNames postal's accuracy (4 place, 3 approximate;
	// 0 for the cities file, whose points are the places' own).
	Accuracy int
}

// Sources is everything Build needs from the shared data folder, read into
// memory (a few megabytes), with each file's fingerprint for provenance.
type Sources struct {
	District    []Area
	Wards       []Area
	OutputAreas []Area
	Postcodes   []Postcode
	Settlements []Settlement
	// Files maps each file read (relative to the data folder) to the
	// first 16 hex digits of its SHA-256.
	Files map[string]string
}

// ErrBadSource is returned when a data file is missing or cannot be used.
var ErrBadSource = errors.New("bad source file")

// ReadSources reads the district outline, wards, output areas, Code-Point
// Open postcodes and GeoNames places from the shared data folder dir.
func ReadSources(dir string) (*Sources, error) {
	s := &Sources{Files: map[string]string{}}
	var err error
	if s.District, err = s.readAreas(dir, DistrictFile, "lad_code", "name"); err != nil {
		return nil, err
	}
	if s.Wards, err = s.readAreas(dir, WardsFile, "WD13CD", "WD13NM"); err != nil {
		return nil, err
	}
	// The OA file's features also carry LAD11CD, the same for all: name
	// the code property, or every feature would share one code.
	if s.OutputAreas, err = s.readAreas(dir, OutputAreasFile, "OA11CD", ""); err != nil {
		return nil, err
	}
	matches, _ := filepath.Glob(filepath.Join(dir, postcodePattern))
	if len(matches) == 0 {
		return nil, fmt.Errorf("%w: no %s in %s", ErrBadSource, postcodePattern, dir)
	}
	sort.Strings(matches) // the newest release sorts last (codepoint-open-YYYY-MM)
	rel, _ := filepath.Rel(dir, matches[len(matches)-1])
	b, err := s.read(dir, filepath.ToSlash(rel))
	if err != nil {
		return nil, err
	}
	if s.Postcodes, err = ReadCodePoint(bytes.NewReader(b)); err != nil {
		return nil, fmt.Errorf("%s: %w", rel, err)
	}
	for _, g := range []struct {
		file   string
		parser func(io.Reader, string) ([]Settlement, error)
	}{{CitiesFile, readCities}, {PostalFile, readPostal}} {
		b, err := s.read(dir, g.file)
		if err != nil {
			return nil, err
		}
		ss, err := g.parser(bytes.NewReader(b), g.file)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", g.file, err)
		}
		s.Settlements = append(s.Settlements, ss...)
	}
	return s, nil
}

// read reads one file and records its fingerprint.
func (s *Sources) read(dir, rel string) ([]byte, error) {
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadSource, err)
	}
	sum := sha256.Sum256(b)
	s.Files[rel] = hex.EncodeToString(sum[:8])
	return b, nil
}

// Source returns the provenance entry for a file that was read:
// "path sha256:0123456789abcdef".
func (s *Sources) Source(rel string) string {
	return rel + " sha256:" + s.Files[rel]
}

// PostcodeFile returns the Code-Point Open file that was read.
func (s *Sources) PostcodeFile() string {
	for f := range s.Files {
		if ok, _ := filepath.Match(postcodePattern, f); ok {
			return f
		}
	}
	return ""
}

func (s *Sources) readAreas(dir, rel, codeProp, nameProp string) ([]Area, error) {
	b, err := s.read(dir, rel)
	if err != nil {
		return nil, err
	}
	fc, err := geojson.UnmarshalFeatureCollection(b)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %v", ErrBadSource, rel, err)
	}
	out := make([]Area, 0, len(fc.Features))
	seen := map[string]bool{}
	for i, f := range fc.Features {
		code, _ := f.Properties[codeProp].(string)
		name, _ := f.Properties[nameProp].(string)
		if code == "" || seen[code] {
			return nil, fmt.Errorf("%w: %s: feature %d has no unique %s", ErrBadSource, rel, i, codeProp)
		}
		seen[code] = true
		var mp orb.MultiPolygon
		switch g := f.Geometry.(type) {
		case orb.Polygon:
			mp = orb.MultiPolygon{g}
		case orb.MultiPolygon:
			mp = g
		default:
			return nil, fmt.Errorf("%w: %s: feature %s is a %T, not a polygon", ErrBadSource, rel, code, f.Geometry)
		}
		if err := checkLonLat(mp); err != nil {
			return nil, fmt.Errorf("%w: %s: feature %s: %v", ErrBadSource, rel, code, err)
		}
		out = append(out, Area{Code: code, Name: strings.TrimSpace(name), Polygon: mp})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: %s has no features", ErrBadSource, rel)
	}
	return out, nil
}

// ReadCodePoint reads an OS Code-Point Open CSV (no header row; columns
// Postcode, Positional_quality_indicator, Eastings, Northings, ...). Rows
// without a position (eastings and northings both 0, as Code-Point gives
// for units it cannot place) are skipped.
func ReadCodePoint(r io.Reader) ([]Postcode, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	var out []Postcode
	for line := 1; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadSource, err)
		}
		if len(rec) < 4 {
			return nil, fmt.Errorf("%w: line %d has %d columns; want Code-Point Open's 10", ErrBadSource, line, len(rec))
		}
		e, err1 := strconv.ParseFloat(strings.TrimSpace(rec[2]), 64)
		n, err2 := strconv.ParseFloat(strings.TrimSpace(rec[3]), 64)
		if err1 != nil || err2 != nil || !(e >= 0 && e <= 800000 && n >= 0 && n <= 1400000) {
			return nil, fmt.Errorf("%w: line %d: eastings/northings %q, %q are not British National Grid", ErrBadSource, line, rec[2], rec[3])
		}
		if e == 0 && n == 0 {
			continue
		}
		out = append(out, Postcode{Code: normalisePostcode(rec[0]), Easting: e, Northing: n})
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%w: no postcodes", ErrBadSource)
	}
	return out, nil
}

// normalisePostcode upper-cases a postcode and puts exactly one space
// before its inward code ("le174xa" and "LE17  4XA" become "LE17 4XA").
func normalisePostcode(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) > 3 {
		s = s[:len(s)-3] + " " + s[len(s)-3:]
	}
	return s
}

// readCities reads GeoNames' 19-column cities file (with or without the
// header row the data folder's copy has).
func readCities(r io.Reader, file string) ([]Settlement, error) {
	return readTSV(r, func(rec []string) (Settlement, bool, error) {
		if len(rec) < 6 || rec[0] == "geonameid" {
			return Settlement{}, false, nil
		}
		p, err := lonLat(rec[5], rec[4])
		return Settlement{Name: rec[1], Point: p, File: file}, true, err
	})
}

// readPostal reads GeoNames' postal-code file (with or without the header
// row the data folder's copy has): country, postal code, place name, three
// admin levels (name and code each), latitude, longitude, accuracy.
func readPostal(r io.Reader, file string) ([]Settlement, error) {
	return readTSV(r, func(rec []string) (Settlement, bool, error) {
		if len(rec) < 11 || rec[0] == "country_code" {
			return Settlement{}, false, nil
		}
		p, err := lonLat(rec[10], rec[9])
		acc := 0
		if len(rec) > 11 {
			acc, _ = strconv.Atoi(strings.TrimSpace(rec[11]))
		}
		return Settlement{Name: rec[2], Point: p, File: file, Accuracy: acc}, true, err
	})
}

func readTSV(r io.Reader, row func([]string) (Settlement, bool, error)) ([]Settlement, error) {
	cr := csv.NewReader(r)
	cr.Comma = '\t'
	cr.FieldsPerRecord = -1
	cr.LazyQuotes = true
	var out []Settlement
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadSource, err)
		}
		s, ok, err := row(rec)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrBadSource, err)
		}
		if ok {
			out = append(out, s)
		}
	}
	return out, nil
}

func lonLat(lon, lat string) (orb.Point, error) {
	x, err1 := strconv.ParseFloat(strings.TrimSpace(lon), 64)
	y, err2 := strconv.ParseFloat(strings.TrimSpace(lat), 64)
	if err1 != nil || err2 != nil || !(x >= -180 && x <= 180 && y >= -90 && y <= 90) {
		return orb.Point{}, fmt.Errorf("bad longitude/latitude %q, %q", lon, lat)
	}
	return orb.Point{x, y}, nil
}

// settlement finds the named settlement in the given gazetteer file,
// preferring the most accurate row.
func (s *Sources) settlement(name, file string) (Settlement, bool) {
	best, found := Settlement{}, false
	for _, st := range s.Settlements {
		if st.File == file && strings.EqualFold(st.Name, name) && (!found || st.Accuracy > best.Accuracy) {
			best, found = st, true
		}
	}
	return best, found
}

// checkLonLat reports whether every position is a finite WGS84 longitude
// and latitude, and every ring has at least four positions.
func checkLonLat(mp orb.MultiPolygon) error {
	if len(mp) == 0 {
		return errors.New("empty polygon")
	}
	for _, p := range mp {
		if len(p) == 0 {
			return errors.New("polygon without rings")
		}
		for _, ring := range p {
			if len(ring) < 4 {
				return errors.New("ring with fewer than 4 positions")
			}
			for _, pt := range ring {
				if !(pt[0] >= -180 && pt[0] <= 180 && pt[1] >= -90 && pt[1] <= 90) {
					return fmt.Errorf("position %v is not longitude/latitude", pt)
				}
			}
		}
	}
	return nil
}
