// Package hotspot finds crime hot spots and the numbers a campaign needs.
//
// The package has two layers. The statistics (hex.go, outline.go,
// gistar.go, fdr.go, kde.go, pip.go and aoristic.go) are pure Go with no
// I/O, so other analyses (near-repeat, the accuracy scorecard) can reuse
// them and tests can check them against hand-computed cases:
//
//   - Grid: a hexagon grid in British National Grid metres (EPSG:27700),
//     with the rule for choosing its cell size from the data (CellSize).
//   - GiStar: Getis-Ord Gi* z-scores with binary distance-band weights
//     (self included), and PValue for their two-sided p-values.
//   - BenjaminiHochberg: false-discovery-rate control over those p-values,
//     and Confidence, the highest of 90/95/99% at which a cell is hot.
//   - KDE: quartic-kernel density on a square raster with a documented
//     bandwidth rule, and the density threshold that keeps a given share of
//     the study area (the contour of the "top x% of area").
//   - Profile: aoristic spreading of an occurrence interval [from, to) over
//     month of year, weekday and hour of day.
//
// The engine (engine.go, store.go, public.go, query.go) reads incidents
// from PostGIS, runs these per named place, priority and window, stores
// the hotspots with their numbers atomically (Rebuild), publishes the
// public hot cells from the anonymised data, and answers the API's
// questions (Hotspots, Locations, SummaryOf).
//
// police.uk's points are anonymised map points ("snapping points"): each
// crime was moved to the nearest of a list of points standing for at least
// eight addresses, so many crimes share one point. The engine counts
// incidents per hexagon cell (never per point), so a snapping point adds
// its crimes to the cell it lies in, which is what the data can support;
// the cell-size floor (50 m) keeps cells from isolating single points. A
// "repeat location" is a point with two or more incidents in the window;
// when a police.uk record lies there it is flagged snapping_point, because
// co-located police.uk crimes are crimes near the same street segment, not
// repeats at one address.
//
// Synthetic incidents (hotspot synth) are left out unless Options.Synthetic
// asks for them; the run records which.
package hotspot
