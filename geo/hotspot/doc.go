// Package hotspot finds crime hot spots and the numbers a campaign needs.
//
// This file's package is split in two layers. The statistics (this file's
// siblings hex.go, gistar.go, fdr.go, kde.go and aoristic.go) are pure Go
// with no I/O, so other analyses (near-repeat, the accuracy scorecard) can
// reuse them and tests can check them against hand-computed cases:
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
// The engine (engine.go, store.go) reads incidents from PostGIS, runs these
// per named place, priority and window, and stores the result atomically.
package hotspot
