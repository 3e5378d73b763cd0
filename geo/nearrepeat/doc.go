// Package nearrepeat finds near-repeat patterns (a burglary raising the
// risk of another nearby, soon) with the Knox test and Monte Carlo
// significance, and draws the risk zones around recent incidents that a
// significant pattern implies.
//
// # The test
//
// Every pair of incidents is counted in one cell of a table of distance
// bands (metres, British National Grid) by time bands (days or calendar
// months). The expected count of a cell is its mean over n random
// permutations of the incidents' times among their places (default 999,
// seeded, so the same seed gives the same table), and its pseudo p-value
// is (1 + #{permutations with a count >= the observed}) / (1 + n). A cell
// with a ratio observed/expected above 1 and a small p-value says that
// incidents close in space are close in time more often than chance.
// Permuting keeps both the places and the times of the data, so a town
// with many burglaries or a winter with many is not mistaken for a
// near-repeat pattern.
//
// Only pairs nearer than the last distance edge are listed (found with a
// square grid whose side is that edge, so the cost follows the close pairs
// rather than n²); the "beyond" row is the fixed number of pairs in each
// time band less the close rows, since a permutation never moves places.
//
// # What police.uk's data does to a Knox test
//
// police.uk gives each crime only its month, and moves it to an anonymous
// map point standing for at least eight addresses. Both bear on the test:
//
//   - Time: two crimes in the same month may be 0 to 30 days apart, and two
//     in adjacent months 1 to 61 days. A day band (0–14 days, say) cannot
//     be filled from such records, and splitting a month across day bands
//     would invent precision. So the time bands are in calendar months
//     when any incident is known only to the month (the default bands are
//     then the same month, the next month, 2–3 months and beyond), and
//     day bands are refused for incidents whose period is longer than half
//     the narrowest day band (ErrTimeResolution). Exact timestamps (partner
//     records, synthetic data) use day bands. The time of an incident is its
//     period's midpoint, which for a police.uk month lies in that month.
//   - Place: two crimes snapped to one map point are "0 m" apart but may
//     really be a street apart, while crimes at two neighbouring points may
//     be next door to each other. Same-point pairs therefore get a band of
//     their own (SamePointTolerance), kept apart from the first true
//     distance band instead of passing for the closest neighbours, and the
//     first distance band (200 m by default) is wide enough to absorb the
//     snapping in the towns. Distances below about 200 m in the police.uk
//     data are not to be trusted, and a significant same-point cell says
//     "the same street or block", not "the same house".
//
// The month resolution weakens the test: the classic near-repeat window
// (one to two weeks) is inside the "same month" band, diluted by the
// pairs up to a month apart. A pattern that survives that is strong; the
// absence of one in month-only data is weak evidence of absence.
//
// # Risk zones
//
// From the significant cells (ratio above 1, p at most alpha, leaving out
// the beyond bands) the Extent takes the farthest distance edge and the
// latest time edge. The incidents of the last Window units of the
// analysed period are buffered by the Radius in PostGIS and the buffers
// merged where they overlap; each zone carries its incident count and the
// date until which the raised risk is expected. Zones show where incidents
// were to within the radius: for police and analysts, never the public.
//
// References: Knox, G. (1964) "The detection of space-time interactions",
// Applied Statistics 13(1); Townsley, Homel and Chaseling (2003) "Infectious
// burglaries", British Journal of Criminology 43(3); Johnson et al. (2007)
// "Space-time patterns of risk: a cross national assessment of residential
// burglary victimization", Journal of Quantitative Criminology 23(3)
// (the Monte Carlo form used here, as in Ratcliffe's Near Repeat
// Calculator).
package nearrepeat
