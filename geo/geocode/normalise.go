package geocode

import (
	"strings"
	"unicode"
)

// abbreviations expands the short forms people type in street and place
// names. A word is expanded wherever it stands, except "st", which is
// "saint" at the start of a name with more words after it ("St Mary's
// Road") and "street" anywhere else ("High St").
var abbreviations = map[string]string{
	"rd": "road", "ave": "avenue", "av": "avenue", "avn": "avenue",
	"cl": "close", "cls": "close", "ln": "lane", "la": "lane", "dr": "drive", "drv": "drive",
	"cres": "crescent", "cresc": "crescent", "cr": "crescent", "cresent": "crescent",
	"gdns": "gardens", "gdn": "gardens", "gr": "grove", "gro": "grove", "grv": "grove",
	"pl": "place", "sq": "square", "ter": "terrace", "terr": "terrace", "tce": "terrace",
	"ct": "court", "crt": "court", "pk": "park", "wy": "way", "wk": "walk", "hl": "hill",
	"mws": "mews", "pde": "parade", "par": "parade", "sth": "south", "nth": "north",
	"gt": "great", "lt": "little", "lit": "little", "mkt": "market", "stn": "station",
	"rly": "railway", "ind": "industrial", "est": "estate", "ctr": "centre",
	"cntr": "centre", "center": "centre", "hse": "house", "cott": "cottage", "cotts": "cottages",
	"clo": "close", "bvd": "boulevard", "blvd": "boulevard", "vw": "view", "grn": "green",
	"mdw": "meadow", "mdws": "meadows", "rdgs": "ridings", "wlk": "walk", "yd": "yard",
	"e": "east", "w": "west", "n": "north", "s": "south", "hbro": "harborough",
	"harboro": "harborough", "leics": "leicestershire",
}

// NormaliseName is the matching key of a street, place or address text:
// lower case, accents and apostrophes dropped, other punctuation a space,
// "&" as "and", abbreviations expanded, words separated by one space. The
// gazetteer stores it for every entry, and the matcher applies it to what
// it looks up, so both sides agree.
func NormaliseName(s string) string {
	words := nameWords(s)
	for i, w := range words {
		if w == "st" || w == "st." {
			if i == 0 && len(words) > 1 {
				words[i] = "saint"
			} else {
				words[i] = "street"
			}
			continue
		}
		if x, ok := abbreviations[w]; ok && (len(w) > 1 || len(words) > 1) {
			// A single letter is a compass point only beside other words
			// ("Leicester Rd E"); alone it is kept.
			if len(w) == 1 && i != len(words)-1 {
				continue
			}
			words[i] = x
		}
	}
	return strings.Join(words, " ")
}

// nameWords splits s into lower-case ASCII words: letters and digits kept,
// apostrophes removed (so "Mary's" is "marys"), everything else a break.
func nameWords(s string) []string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		switch {
		case r == '\'' || r == '’' || r == '‘' || r == '`':
			continue
		case r == '&' || r == '+':
			b.WriteString(" and ")
		case r < 128 && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r < 128 && r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r >= 128 && unicode.IsLetter(r):
			b.WriteString(fold(r))
		default:
			b.WriteByte(' ')
		}
	}
	return strings.Fields(b.String())
}

// fold maps the accented Latin letters that turn up in British place
// names to plain ones; any other letter is dropped to a space.
func fold(r rune) string {
	r = unicode.ToLower(r)
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å':
		return "a"
	case 'ç':
		return "c"
	case 'è', 'é', 'ê', 'ë':
		return "e"
	case 'ì', 'í', 'î', 'ï':
		return "i"
	case 'ñ':
		return "n"
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø':
		return "o"
	case 'ù', 'ú', 'û', 'ü':
		return "u"
	case 'ý', 'ÿ':
		return "y"
	case 'ŵ':
		return "w"
	}
	return " "
}

// Normalise is the key under which a person's decision about a location
// text is remembered (Geocoder.Remember): the text as NormaliseName
// makes it, so "12 High St., Market Harborough" and "12 high street market
// harborough" share one decision, while different words do not.
func Normalise(text string) string {
	return NormaliseName(text)
}
