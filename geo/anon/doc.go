// Package anon is the anonymisation step: it turns the precise incidents
// into the public data, in the database schema "open", and gives the web
// layer a database pool that can read nothing else.
//
// It is a pipeline, not a filter. Rebuild writes new tables from the
// precise ones, in one transaction; the public handlers never see a
// precise row and then decide what to hide. The public database role
// (hotspot_public, created by migrations/0003) may read "open" and the
// public reference tables (boundaries, categories) only, and PublicPool
// connects as that role, so a bug in a public handler cannot reach a
// precise location: PostgreSQL refuses it.
//
// The policy, which beats police.uk's:
//
//   - Places. police.uk moves each crime to the nearest of a list of
//     anonymous map points, each standing for at least eight postal
//     addresses or none. Here the candidates are police.uk's own map
//     points inside the district (on a street, a public place or a
//     commercial premise, with the street name from "On or near X"), and
//     a candidate survives only if at least K postcode units (default 8)
//     are nearer to it than to any other survivor (ChooseMapPoints). A
//     unit holds at least one address (about 15 on average), so each map
//     point stands for at least K addresses even in the worst case, and
//     typically over a hundred. Every incident in the district, whatever
//     its source, is moved to its nearest map point; its coordinates go
//     no further. The map point keeps a real police.uk street point and
//     its street name, never a house.
//   - Dates. Months only: the public tables hold the first of the month,
//     the month as it is in the UK (a partner's 00:30 BST on 1 April is
//     April, though it is still 31 March in UTC).
//   - Sensitive categories (the table sensitive_categories: police.uk's
//     violent-crime, which includes sexual offences and domestic abuse,
//     and the partners' domestic-abuse, sexual-offences, hate-crime,
//     hate-incident) never appear as single records: not at a map point,
//     not without a location. They are counted in open.area_counts only.
//   - Counts. open.area_counts holds, per month and category, the
//     district's count and each ward's. A count from 1 to MinCount-1
//     (default 3) is withheld, and the district total too when it would
//     let a reader work a withheld ward count out (Suppress). There are
//     no totals over categories or months, so there is nothing else to
//     subtract from.
//   - Identity. Each public crime has an opaque id of its own. Only a
//     police.uk Crime ID is passed on (as persistent_id), since police.uk
//     publishes it; other sources' ids, free text (context) and partner
//     outcomes are not. No LSOA is published: the source's LSOA with the
//     map point would narrow the place below the map point's area.
//   - Where. Incidents inside the district get a map point. Incidents
//     without a location go to open.crimes_no_location, as police.uk's
//     crimes-no-location, by force and month (police.uk's rows without
//     coordinates are force-wide, so they are all kept there), and so do
//     incidents inside the district when no map point can be built (no
//     postcodes or no police.uk points loaded). Incidents located outside
//     the district are left out: they belong to other partnerships, and
//     police.uk publishes them itself.
//
// open.meta records when the data was built, how long it took, the months
// it covers, K, the minimum count, and the rule in words.
package anon
