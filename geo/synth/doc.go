// Package synth makes up realistic incidents for Harborough District and
// loads them fast: for scale tests (a million rows on the map) and for
// features that police.uk's month-only, street-level data cannot exercise
// (exact times and periods, house-number addresses).
//
// # Labelled, always
//
// A synthetic row is marked three ways: incidents.synthetic = true
// (migrations/0004, with the index (synthetic, occurred_from)), source
// "synth" with source_id "synth-<seed>-<n>", and context "synthetic".
// Every analysis can filter on the flag, and anything that reports on
// real crime must: WHERE NOT synthetic. The public pipeline (geo/anon)
// must never publish a synthetic row.
//
// # Where
//
// Seeds come from the database when it has real incidents in the district
// (ReadSeeds): one seed per category, map point and "On or near" text of
// the real (non-synthetic) rows whose LSOA is a Harborough one or that lie
// inside the loaded district outline, weighted by how many incidents it
// has. Drawing seeds by weight reproduces the real spatial mix per
// category and the real category mix at once. Each point is then moved by
// a Gaussian jitter of σ = 40 m on the ground (RealSpread), so synthetic
// crime is not stacked on police.uk's map points but stays on the same
// street. Without real incidents the seeds are the built-in towns and
// villages (BuiltinSeeds: Market Harborough, its centre and Welland Park,
// Lutterworth, Magna Park, Broughton Astley, Kibworth, Fleckney, Thurnby,
// Scraptoft, Great Glen and eleven villages; GeoNames coordinates),
// weighted by population, with a spread of 150-900 m that fits each
// place's size, and the district's real category mix, less shoplifting in
// villages, more anti-social behaviour in the park and more theft at the
// distribution park. The postcodes table is not used: it may be absent.
//
// Addresses are "<n> <street>, <town>" (a low house number, mostly under
// 40) with the street from the seed's police.uk text ("On or near" cut
// off, "St Mary'S" mended) or one of the built-in place's real streets,
// and the nearest built-in place as the town; police.uk's non-street map
// points ("Supermarket", "Parking Area", road numbers) get no number:
// "Supermarket, Lutterworth". Outcomes follow the real months' mix of
// last outcomes per category; anti-social behaviour has none, as on
// police.uk. LSOA fields stay empty: a jittered point may have crossed
// into the next LSOA, so areas are found spatially.
//
// # When
//
// An incident's moment is drawn over the hours of [From, To) with weight
//
//	month × weekday × hour × (dark factor when the sun is down)
//
// in UK local time (BST by the EU rule, computed, not read from the
// system), where the weekday is that of the "night-owl day" from 06:00 to
// 06:00, so Saturday 01:00 counts as Friday night; then a second within
// the hour is drawn uniformly. Sunset and sunrise come from the standard
// solar formula at 52.52°N, so "dark evenings" move with the season. The
// tables (100 = ordinary) are in profile.go; in short (hours are local
// clock hours):
//
//	category               month                    weekday (night-owl)  hours (peak)        dark  windows
//	violent-crime          Jul, Dec +10%            Fri 135, Sat 150     21-01, low 03-07    -     10%, 5 min-1 h
//	public-order           summer +10%              Fri, Sat +25-30%     19-22               -     10%, 5 min-1 h
//	anti-social-behaviour  Jun-Aug 125-135, Dec 70  Fri, Sat +15-20%     16-21               -     30%, 10 min-3 h
//	burglary               Nov-Jan 125-130, Jun 80  flat                 17-20, nights       ×1.8  60%, 1-10 h
//	vehicle-crime          winter +10-15%           Fri, Sat +10%        22-03               ×1.4  60%, 2-12 h
//	shoplifting            Dec 125                  Sun 55               11-16, ~0 at night  -     15%, 5-45 min
//	bicycle-theft          Jun-Aug 135-140, Dec 60  flat                 08-18               -     60%, 1-9 h
//	criminal-damage-arson  Oct 115                  Fri, Sat +25-30%     18-22               ×1.2  40%, 1-10 h
//	robbery                flat                     Fri, Sat +25-30%     18-22               ×1.3  5%, 5-30 min
//	theft-from-the-person  summer +10%              Fri, Sat +25-30%     10-19               -     30%, 10 min-2 h
//	other-theft            summer +10%              flat                 10-19               -     40%, 30 min-6 h
//	drugs                  summer +5%               Mon-Wed 110, Sun 80  16-20               -     none
//	possession-of-weapons  flat                     Fri, Sat +25-30%     19-22               -     none
//	other-crime            flat                     flat                 10-19               -     20%, 1-24 h
//
// A report without a window spans one second [t, t+1s), as an exact
// partner timestamp does; a window ("between 22:00 and 06:00") has a
// log-uniform length between the bounds shown, starts on a whole minute,
// contains t and is clipped to [From, To).
//
// # Deterministic
//
// The same seed, N, period and seed points give the same rows, in any
// database: random numbers come from math/rand/v2's PCG seeded with the
// seed; seed points are read in a total order that does not depend on
// collation; no map is ever ranged over; the UK's clock change and the
// sun are computed, not read from the system. Row n does not depend on N,
// so a run with a larger N extends a smaller one, and a rerun inserts
// nothing (ON CONFLICT on (source, source_id)). Options.Replace deletes
// every earlier synthetic row first. One caveat across machines: Go's
// math.Exp on amd64 uses FMA instructions where the CPU has them, so it
// may differ in the last bit from one CPU to another; outputs are rounded
// (whole seconds and minutes, micro-degrees), so a row would change only
// if such a difference straddled a rounding step.
//
// # Fast
//
// Rows are generated as they are streamed by CopyFrom into a temporary
// staging table (the generator makes 1-2 million rows a second, so
// the database is the bottleneck), then moved into incidents by one INSERT
// ... SELECT that computes geom_bng and geom_web as ingest does. The whole
// run is one transaction and one import batch, and bumps data_version.
//
// Most of the cost is the indexes and per-row constraint checks of
// incidents. Measured for 1,000,000 rows into an empty table on this
// project's shared 2-core machine (load average 2-4 from other work, so
// take the ratios, not the seconds):
//
//	                                             INSERT ... SELECT  index rebuild  whole run
//	every index and constraint kept              35 s               -              37 s
//	secondary indexes dropped, FK and key kept   15 s               8.7 s          26 s
//	also the FK and (source, source_id) dropped  5.6 s              13.4 s         22 s
//	the same, hotspot synth on a fresh cluster                                     15-23 s
//
// Within the insert, per 1,000,000 rows: the foreign key check 4.4 s, the
// ON CONFLICT speculative insertion 2.6 s, the unique key 2.0 s, the two
// projections 2.3 s, an ORDER BY on the staged rows 3.3 s (so there is
// none). PostGIS builds each GiST index sorted, in 3-7 s. So a large load
// (at least 50,000 new rows and at least half as many as the table
// already has) takes a SHARE ROW EXCLUSIVE lock, removes from staging the
// rows already present, drops the secondary indexes, the foreign keys and
// the unique constraints no foreign key needs, inserts, and restores them
// from their catalogue definitions (an index a later migration adds comes
// along). The price: while it rebuilds, incidents is locked against
// readers too. Smaller loads insert with ON CONFLICT DO NOTHING and leave
// the table available. A rerun of 1,000,000 rows that are all present
// takes about 7 s; with --replace, 26 s.
package synth
