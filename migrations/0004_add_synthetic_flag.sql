-- Synthetic incidents (hotspot synth, geo/synth) live beside the real ones
-- in incidents, for scale tests and for features that police.uk's
-- month-only data cannot exercise (exact times, addresses). They are
-- labelled three ways: this flag, source 'synth' and source_id
-- 'synth-<seed>-<n>'. Every analysis, tile and export can, and the public
-- ones must, filter on the flag.
--
-- A constant default adds the column without rewriting the table.
ALTER TABLE incidents ADD COLUMN synthetic boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN incidents.synthetic IS 'true for rows made up by hotspot synth (source ''synth''); filter them out of real analyses';

-- Leading with the flag, this one index serves both sides: "real rows in
-- this period" (WHERE NOT synthetic AND occurred_from ...) on a table that
-- a scale test has filled with millions of synthetic rows, and "every
-- synthetic row" (hotspot synth --replace) on a table that has a few.
CREATE INDEX incidents_synthetic_occurred_idx ON incidents (synthetic, occurred_from);
