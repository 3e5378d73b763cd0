// Package places holds the district's named places (a town centre, a
// park, towns, villages, a business park, the district itself) with the
// provenance of each outline, and the table that maps crime and incident
// categories to the Community Safety Partnership plan's five priorities.
// It owns the SQL of migrations/0005 (places, place_history, priorities,
// category_priorities).
//
// # Outlines
//
// Build makes every outline from the shared data folder (ReadSources) in
// one transaction; the geometry work is PostGIS's, in British National
// Grid. Where a published boundary fits, it is used; where it does not, the
// outline is built from smaller real areas; only where no data exists is
// it drawn, and then from known coordinates that are written down:
//
//	place                          kind           method
//	harborough-district            district       the published outline (union of the 47 LSOAs)
//	lutterworth                    town           output areas of the four Lutterworth wards with ≥ 15 postcodes/km²
//	broughton-astley               village        the same, in the four Broughton Astley wards
//	fleckney                       village        the same, in the Fleckney ward
//	thurnby-scraptoft              village        the same, in Thurnby and Houghton, the group nearest Thurnby
//	magna-park                     business-park  200 m-buffered convex hull of the LE17 4X* units outside Lutterworth
//	market-harborough-town-centre  town-centre    drawn: The Square, High Street, St Mary's Road (about 0.34 km²)
//	welland-park                   park           drawn: Farndon Road, the River Welland, Welland Park Road (about 8 ha)
//
// Why output areas rather than wards for the towns and villages: a ward
// is drawn for electors, not for streets, and the rural part of a town's
// ward is farmland (the Lutterworth wards reach to Magna Park; Thurnby and
// Houghton holds a second village). Output areas are small (about 125
// households), nest in wards, and in a town hold 30 to 500 Code-Point
// postcode units per km², against 0 to 15 in the country (MinUnitsPerKm2).
// Whole output areas are kept, never cut, so census counts for a place
// can be summed from its output areas; the price is some fields at the
// edge (Lutterworth's outline is 6.2 km², its four wards 11.0 km²). The dense output areas are grouped where they touch and the
// group nearest the settlement's GeoNames point is kept, so a second
// village in the same ward (Houghton on the Hill) stays out; holes are
// filled.
//
// Every outline carries its provenance (method text, sources with the
// SHA-256 of each file, when, by whom). An admin can replace an outline
// with a surveyed one (Replace, from GeoJSON); the old outline goes to
// place_history, and Build leaves uploaded outlines alone unless forced.
// Replace refuses an outline that is not polygons in WGS84, lies outside
// or far beyond the district, has an area unlike its kind's, or is
// invalid in a way that repair would change (a bow-tie): see ParseUpload
// and Replace.
//
// # Priorities
//
// The plan's priorities and the category mapping are tables, seeded by
// the migration with defaults and edited with SetMapping (hotspot
// priorities set). The defaults, and why, are in each row's note;
// police.uk does not separate domestic from commercial burglary, nor
// business from other criminal damage and arson, so its burglary counts
// towards priority 3 and criminal-damage-arson towards 2, and the
// business side comes from partners' categories (business-burglary,
// business-criminal-damage, arson, plant-theft → 4). Public order counts
// towards anti-social behaviour (2); robbery and possession of weapons
// towards violence (1); other-crime towards none.
package places
