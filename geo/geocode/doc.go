// Package geocode places the location text of partners' records (a
// postcode, an address, "On or near X", "outside Tesco, Lutterworth", a
// place name, an OS grid reference, an easting/northing, a latitude and
// longitude) on the map, offline, from a gazetteer of open data in
// PostGIS.
//
// Parse (pure Go) reads the text; Geocoder.Geocode matches what was read
// against the gazetteer: the postcodes table (OS Code-Point Open), and
// the gazetteer table of streets learned from police.uk "On or near"
// locations, GeoNames settlements, the plan's named places and
// landmarks, and council LLPG address points (LoadGeoNamesFile,
// LoadNamedPlaces, LearnStreets and LoadAddressPoints fill it). The
// parser lives here, not in geo, because its words (streets, towns,
// qualifiers) and the matcher's normalisation must change together; it
// does no I/O. Grid references and coordinates are converted exactly with
// PostGIS (ST_Transform, EPSG:27700 ↔ 4326).
//
// Every result has a Status, a best Candidate with its method, label,
// gazetteer entry and confidence, the alternatives when the text could
// mean places far apart, and a reason in words. Confidence is on one
// scale for every method:
//
//	1.00        coordinates, an E/N pair, a 10-figure grid ref, a remembered decision
//	0.98        an LLPG address point
//	0.90-0.98   a postcode unit (0.95, or 0.90 when OS places it approximately;
//	            -0.05 for a corrected O/I slip; raised when a street agrees);
//	            8- and 6-figure grid references (0.95, 0.90)
//	0.85        a street in the named town (0.75 with no town or postcode)
//	0.80        a landmark or named place; a street within a typing slip
//	<= 0.75     a fuzzy match on trigram similarity alone: 0.88 × √similarity
//	0.60        a postcode sector centroid; a 4-figure (1 km) grid ref; a
//	            supermarket brand placed at police.uk's "Supermarket"
//	0.40-0.50   a postcode district centroid; a town or village's point
//
// Named matches lose up to 15% between 1.5 and 4 km from the town's
// point, and 20% when filed under another village than the one typed.
// Fuzzy matching uses pg_trgm's own trigram rule, computed in memory
// from an inverted index (a query per typo would cap a batch at about a
// thousand a second); a test checks the scores against similarity().
//
// A result is StatusMatched when its best candidate reaches
// MatchThreshold (0.7) and no other candidate within 0.15 of its
// confidence lies more than 1.5 km away; otherwise StatusLowConfidence
// (vague or ambiguous: a person should look). Points outside Harborough
// District are flagged (InDistrict false), never dropped.
//
// Decisions people make (Remember) are looked up first, by Normalise of
// the text.
package geocode
