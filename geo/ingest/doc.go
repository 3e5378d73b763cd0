// Package ingest brings incidents and reference areas into the database.
//
// The police.uk path has two halves. PoliceUKReader is a pure, streaming
// parser of data.police.uk street-level CSV files: every row comes back
// either as an incident or as a rejection with its line number, raw text
// and reason, so nothing is lost. ImportPoliceUK feeds those records
// through CopyFrom into a temporary staging table and moves them into
// incidents and quarantine with two INSERT ... SELECTs, all in one
// transaction per file (one import batch): a failure at any point leaves
// nothing of the batch behind, and a re-import inserts nothing because rows
// match on (source, source_id).
//
// ReadBoundaries and LoadBoundaries do the same for GeoJSON reference areas
// (the district outline, wards, LSOAs).
package ingest
