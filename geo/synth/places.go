package synth

import (
	"math"
	"strings"

	"github.com/paulmach/orb"
)

// place is one of the district's towns, villages and crime generators,
// used to seed synthetic crime when the database has no real incidents,
// and to name the town in every synthetic address.
type place struct {
	name string
	// town is the locality written in addresses ("12 High Street, town").
	town  string
	point orb.Point // WGS84 lon/lat
	// weight is roughly the population (GeoNames cities500, 2011-based,
	// where it has one; an estimate otherwise).
	weight float64
	// spread is the standard deviation, in metres, of points around it:
	// a place is an area, not a map point.
	spread float64
	kind   placeKind
	// streets are real street names near the place, from the "On or near"
	// texts of the real police.uk months in ../shared/data.
	streets []string
}

type placeKind int

const (
	town     placeKind = iota // has shops: all categories
	village                   // no shoplifting to speak of
	park                      // anti-social behaviour and damage, no homes
	business                  // warehouses and lorry parks
)

// categoryFactor adjusts the district-wide category mix for a kind of
// place (fallback seeds only; real seeds carry their own mix).
func (k placeKind) categoryFactor(slug string) float64 {
	switch k {
	case village:
		if slug == "shoplifting" {
			return 0
		}
	case park:
		switch slug {
		case "anti-social-behaviour":
			return 4
		case "criminal-damage-arson", "drugs", "bicycle-theft":
			return 2
		case "burglary", "shoplifting", "vehicle-crime":
			return 0
		}
	case business:
		switch slug {
		case "other-theft", "vehicle-crime":
			return 3
		case "shoplifting", "anti-social-behaviour", "bicycle-theft":
			return 0
		}
	}
	return 1
}

// places are the built-in seeds. Coordinates: GeoNames cities500 (CC BY
// 4.0) for the settlements it lists, and the project brief's points for
// Market Harborough town centre, Welland Park, Magna Park, Thurnby and
// Scraptoft (which GeoNames' file lacks). The order is fixed: seeds are
// drawn by index.
var places = []place{
	{"Market Harborough town centre", "Market Harborough", orb.Point{-0.9205, 52.4775}, 8000, 250, town,
		[]string{"High Street", "The Square", "Church Street", "Adam And Eve Street", "St Mary's Road", "Church Square", "Abbey Street", "Springfield Street"}},
	{"Market Harborough", "Market Harborough", orb.Point{-0.92053, 52.4776}, 15000, 900, town,
		[]string{"Northampton Road", "Kettering Road", "Leicester Road", "Walcot Road", "Coventry Road", "Springfield Street", "Oak Close", "Harborough Road"}},
	{"Welland Park", "Market Harborough", orb.Point{-0.9305, 52.4745}, 1500, 150, park,
		[]string{"Welland Park Road", "De Lisle Close", "Stuart Road", "Lenthall Square", "Fleetwood Gardens", "Butler Gardens"}},
	{"Lutterworth", "Lutterworth", orb.Point{-1.2003, 52.4557}, 9907, 600, town,
		[]string{"Bank Street", "Church Street", "New Street", "Bilton Way", "Central Avenue", "Elizabethan Way", "Orchard Road", "Rugby Road"}},
	{"Magna Park", "Magna Park", orb.Point{-1.2339, 52.4461}, 3000, 450, business,
		[]string{"Buccaneer Way", "Harrier Parkway", "A4303"}},
	{"Broughton Astley", "Broughton Astley", orb.Point{-1.2236, 52.5296}, 8940, 550, town,
		[]string{"Stanier Road", "Manor Farm Close", "The Avenue", "Grange Road", "Park View Close", "Willowbrook Close", "Leicester Road"}},
	{"Kibworth", "Kibworth", orb.Point{-0.99491, 52.54439}, 5790, 450, town,
		[]string{"Thackney Leys", "Warwick Road", "Merton Way", "Main Street", "Lodge Close", "High Street"}},
	{"Fleckney", "Fleckney", orb.Point{-1.0457, 52.5371}, 4894, 400, town,
		[]string{"Highfield Street", "High Street", "Orchard Street", "Fell Close", "Kibworth Road", "Gladstone Street", "Victoria Street"}},
	{"Thurnby", "Thurnby", orb.Point{-1.0519, 52.6322}, 3500, 400, village,
		[]string{"Ivatt Close", "Hollies Way", "Telford Way", "Fern Close", "Pulford Drive", "Uppingham Road", "Station Road"}},
	{"Scraptoft", "Scraptoft", orb.Point{-1.0365, 52.6437}, 2000, 350, village,
		[]string{"Lady Jane Walk", "Lyncroft Leys", "Orchard Close", "Coulter Close", "Elliots End", "Hinks Avenue"}},
	{"Great Glen", "Great Glen", orb.Point{-1.0349, 52.57548}, 2977, 350, village,
		[]string{"Spinney View", "Fernie Dene", "Garfield Park", "The Mere", "St Thomas's Road", "Bindley Lane"}},
	{"Houghton on the Hill", "Houghton on the Hill", orb.Point{-0.99546, 52.62663}, 1524, 250, village,
		[]string{"Uppingham Road", "Firs Road", "School Lane", "Stretton Lane", "Main Street"}},
	{"Husbands Bosworth", "Husbands Bosworth", orb.Point{-1.05557, 52.45232}, 1027, 200, village,
		[]string{"High Street", "Wells Close", "Welford Road", "The Green", "Mowsley Road"}},
	{"Gilmorton", "Gilmorton", orb.Point{-1.16001, 52.48682}, 976, 200, village,
		[]string{"Lutterworth Road", "Porlock Drive", "Home Farm Close", "Nether Farm Close"}},
	{"Ullesthorpe", "Ullesthorpe", orb.Point{-1.25269, 52.48438}, 903, 200, village,
		[]string{"Lutterworth Road", "Main Street", "Goodacre Road", "Manor Road", "Orchard Walk"}},
	{"Billesdon", "Billesdon", orb.Point{-0.94148, 52.61858}, 901, 200, village,
		[]string{"Knights Close", "Uppingham Road", "Brook Lane", "Church Street"}},
	{"Lubenham", "Lubenham", orb.Point{-0.96438, 52.4799}, 781, 200, village,
		[]string{"Stuart Crescent", "Main Street", "Paget Road", "Mill Hill"}},
	{"Claybrooke Magna", "Claybrooke Magna", orb.Point{-1.27712, 52.49346}, 616, 200, village,
		[]string{"Green Lane", "Main Street", "The Paddock", "Main Road"}},
	{"Walton", "Walton", orb.Point{-1.12494, 52.47774}, 600, 150, village,
		[]string{"Walton Road", "Old School Close", "Churchill Drive", "Chapel Lane"}},
	{"North Kilworth", "North Kilworth", orb.Point{-1.0958, 52.44424}, 597, 200, village,
		[]string{"Church Lane", "Rose Dale", "Leys Crescent", "Back Street"}},
	{"Hallaton", "Hallaton", orb.Point{-0.8369, 52.56107}, 594, 200, village,
		[]string{"The Cross", "Hazel Grove", "Eastgate", "Churchgate"}},
	{"Swinford", "Swinford", orb.Point{-1.16524, 52.41022}, 586, 150, village,
		[]string{"Rugby Road", "Swinford Road", "Station Road", "North Street"}},
}

// categoryMix is the district's category mix for fallback seeds: the
// counts of the 2,962 Harborough rows of the seven real police.uk months
// in ../shared/data, by category.
var categoryMix = []weighted{
	{"violent-crime", 868}, {"vehicle-crime", 346}, {"other-theft", 317}, {"burglary", 270},
	{"criminal-damage-arson", 268}, {"anti-social-behaviour", 258}, {"shoplifting", 258},
	{"public-order", 182}, {"other-crime", 75}, {"drugs", 39}, {"theft-from-the-person", 30},
	{"possession-of-weapons", 20}, {"bicycle-theft", 17}, {"robbery", 14},
}

// nearestPlace returns the index of the built-in place nearest to p, by
// a flat-earth distance that is plenty at the district's scale.
func nearestPlace(p orb.Point) int {
	best, bestD := 0, math.Inf(1)
	k := math.Cos(districtLat * math.Pi / 180)
	for i, pl := range places {
		dx := (p[0] - pl.point[0]) * k
		dy := p[1] - pl.point[1]
		if d := dx*dx + dy*dy; d < bestD {
			best, bestD = i, d
		}
	}
	return best
}

// placeTypes are police.uk's names for map points that are not streets
// ("On or near Supermarket"): an address gets no house number for them.
var placeTypes = []string{
	"Supermarket", "Parking Area", "Petrol Station", "Shopping Area", "Nightclub", "Police Station",
	"Hospital", "Pedestrian Subway", "Motorway Service Area", "Prison", "Bus Station", "Railway Station",
}

// isPlaceType reports whether a police.uk location (without "On or near")
// names a kind of place rather than a street: one of placeTypes, any name
// with a '/' ("Sports/Recreation Area"), or a road number ("A4303").
func isPlaceType(s string) bool {
	if strings.Contains(s, "/") {
		return true
	}
	if len(s) >= 2 && (s[0] == 'A' || s[0] == 'B' || s[0] == 'M') && s[1] >= '0' && s[1] <= '9' {
		return true
	}
	for _, t := range placeTypes {
		if s == t {
			return true
		}
	}
	return false
}

// streetName turns a police.uk location text into a street or place name:
// "On or near St Mary'S Road" → "St Mary's Road". It returns "" for text
// that is not a police.uk location or names nothing.
func streetName(text string) string {
	s, ok := strings.CutPrefix(strings.TrimSpace(text), "On or near ")
	if !ok {
		return ""
	}
	s = strings.TrimSpace(s)
	if s == "" || s == "No Location" {
		return ""
	}
	// police.uk capitalises every word, apostrophe-s included.
	s = strings.ReplaceAll(s, "'S ", "'s ")
	if strings.HasSuffix(s, "'S") {
		s = s[:len(s)-1] + "s"
	}
	return s
}
