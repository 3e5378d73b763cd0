package geocode

// Landmark is a named point the plan and partners refer to that neither
// GeoNames nor police.uk names, with where its coordinates come from.
type Landmark struct {
	// Kind is "landmark", or "place" for another name of a settlement
	// (then it also restricts street matches, as a town does).
	Kind     string
	Ref      string   // stable key
	Names    []string // the name and the ways people write it
	Locality string
	// X, Y in SRID: lon/lat (4326) or easting/northing (27700).
	X, Y   float64
	SRID   int
	Weight float64
	// Source says where the point comes from, so it can be checked.
	Source string
}

// Landmarks returns the built-in landmarks. The plan's drawn and built
// places (Welland Park, Magna Park, Market Harborough town centre,
// Lutterworth, ...) come from the places table instead (LoadNamedPlaces).
// Market Harborough's bus station is not here: no open source gave a
// point for it that could be checked.
func Landmarks() []Landmark {
	return []Landmark{
		{
			Kind:     "place",
			Ref:      "harborough",
			Names:    []string{"Harborough"},
			Locality: "Market Harborough",
			// What people in the district call Market Harborough; at
			// GeoNames' point for the town (cities500 id 2643027).
			X: -0.92053, Y: 52.4776, SRID: 4326, Weight: 1,
			Source: "GeoNames cities500 point of Market Harborough, ../shared/data/places",
		},
		{
			Kind:     "place",
			Ref:      "kibworth",
			Names:    []string{"Kibworth"},
			Locality: "Kibworth",
			// Kibworth Beauchamp and Kibworth Harcourt are one built-up
			// area, written "Kibworth"; GeoNames' point for Harcourt.
			X: -0.99491, Y: 52.54439, SRID: 4326, Weight: 1,
			Source: "GeoNames cities500 point of Kibworth Harcourt, ../shared/data/places",
		},
		{
			Ref:      "market-harborough-station",
			Names:    []string{"Market Harborough Railway Station", "Market Harborough Station", "Railway Station", "Train Station"},
			Locality: "Market Harborough",
			// OS grid reference SP 741 874, the 100 m square given for the
			// station (Wikipedia, "Market Harborough railway station",
			// infobox), taken at the square's centre; the infobox's
			// 52.48 N 0.9094 W agrees to within 100 m.
			X: 474150, Y: 287450, SRID: 27700, Weight: 1,
			Source: "OS grid reference SP741874 (Wikipedia infobox), centre of the 100 m square",
		},
		{
			Ref:      "market-harborough-the-square",
			Names:    []string{"The Square", "Market Place", "Market Square", "Church Square", "Old Grammar School"},
			Locality: "Market Harborough",
			// police.uk's map point "On or near Church Street" in
			// Harborough 008A (59 incidents in the seven shared months):
			// Church Street and Church Square open onto The Square beside
			// the Old Grammar School, the old market place.
			X: -0.921993, Y: 52.479207, SRID: 4326, Weight: 0.95,
			Source: "police.uk map point of Church Street, Market Harborough (Harborough 008A), ../shared/data/police-uk",
		},
		{
			Ref:      "lutterworth-town-centre",
			Names:    []string{"Lutterworth Town Centre", "Lutterworth Market Street", "Town Centre"},
			Locality: "Lutterworth",
			// police.uk's map point "On or near Market Street" in
			// Harborough 010C: Market Street is Lutterworth's main
			// shopping street, at the centre of the town.
			X: -1.199573, Y: 52.456660, SRID: 4326, Weight: 0.95,
			Source: "police.uk map point of Market Street, Lutterworth (Harborough 010C), ../shared/data/police-uk",
		},
	}
}
