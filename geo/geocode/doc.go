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
// landmarks, and council LLPG address points (LoadGazetteer and friends
// fill it). Grid references and coordinates are converted exactly with
// PostGIS (ST_Transform, EPSG:27700 ↔ 4326).
//
// Every result has a Status, a best Candidate with its method, label,
// gazetteer entry and confidence, the alternatives when the text could
// mean places far apart, and a reason in words. Confidence is on one
// scale for every method:
//
//	1.00        coordinates, an E/N pair, a 10-figure grid ref, a remembered decision
//	0.95-0.98   an address point; a postcode unit (0.90 when OS places it only approximately)
//	0.90-0.95   8- and 6-figure grid references (10 m, 100 m squares)
//	0.75-0.97   a street in its town (0.85), raised by a postcode that agrees with it
//	0.5-0.85    a fuzzy (pg_trgm) match: 0.88 × √similarity
//	0.60        a postcode sector centroid; 0.6 a 4-figure (1 km) grid ref
//	0.40-0.50   a postcode district centroid, a town or village's point
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
