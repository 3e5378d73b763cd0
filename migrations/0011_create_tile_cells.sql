-- Pre-aggregated incident counts for vector tiles (package tiles), so that
-- a low-zoom tile never reads every incident: per grid cell, month and
-- category, at several cell sizes.
--
-- Cells are squares of the Web Mercator (EPSG:3857) tile grid: a cell of
-- level L is a tile of zoom L, so the cells of a coarser level nest exactly
-- in the finer ones and a tile of zoom z <= L covers whole cells. Each cell
-- also has its Morton key (the bits of cx and cy interleaved): the cells of
-- one tile at any finer level form one contiguous key range, so a tile
-- query is one range scan of the primary key, whatever the zoom.
--
-- Months are calendar months of occurred_from in UTC, as anon publishes
-- them. sx and sy are the sums of the points' Web Mercator coordinates, so
-- a cluster can be drawn at the mean position of its incidents.
--
-- The counts are kept by triggers on incidents (one aggregated upsert per
-- statement, from the statement's transition table), so every writer, from
-- police.uk imports to synth and partner feeds, keeps them right in its
-- own transaction without knowing they exist. "hotspot tiles refresh"
-- rebuilds them from scratch (tiles.Refresh).

-- tile_spread spreads the low 24 bits of v apart (bit i to bit 2i), a
-- byte at a time from a table (written out three times so that the
-- function is one expression, which PostgreSQL inlines); tile_morton interleaves a cell's column and
-- row with it. Go's tiles.morton computes the same key.
CREATE FUNCTION tile_spread(v integer) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT ('{0,1,4,5,16,17,20,21,64,65,68,69,80,81,84,85,256,257,260,261,272,273,276,277,320,321,324,
	325,336,337,340,341,1024,1025,1028,1029,1040,1041,1044,1045,1088,1089,1092,1093,1104,1105,
	1108,1109,1280,1281,1284,1285,1296,1297,1300,1301,1344,1345,1348,1349,1360,1361,1364,1365,
	4096,4097,4100,4101,4112,4113,4116,4117,4160,4161,4164,4165,4176,4177,4180,4181,4352,4353,
	4356,4357,4368,4369,4372,4373,4416,4417,4420,4421,4432,4433,4436,4437,5120,5121,5124,5125,
	5136,5137,5140,5141,5184,5185,5188,5189,5200,5201,5204,5205,5376,5377,5380,5381,5392,5393,
	5396,5397,5440,5441,5444,5445,5456,5457,5460,5461,16384,16385,16388,16389,16400,16401,
	16404,16405,16448,16449,16452,16453,16464,16465,16468,16469,16640,16641,16644,16645,16656,
	16657,16660,16661,16704,16705,16708,16709,16720,16721,16724,16725,17408,17409,17412,17413,
	17424,17425,17428,17429,17472,17473,17476,17477,17488,17489,17492,17493,17664,17665,17668,
	17669,17680,17681,17684,17685,17728,17729,17732,17733,17744,17745,17748,17749,20480,20481,
	20484,20485,20496,20497,20500,20501,20544,20545,20548,20549,20560,20561,20564,20565,20736,
	20737,20740,20741,20752,20753,20756,20757,20800,20801,20804,20805,20816,20817,20820,20821,
	21504,21505,21508,21509,21520,21521,21524,21525,21568,21569,21572,21573,21584,21585,21588,
	21589,21760,21761,21764,21765,21776,21777,21780,21781,21824,21825,21828,21829,21840,21841,
	21844,21845}'::bigint[])[(v & 255) + 1]
	| (('{0,1,4,5,16,17,20,21,64,65,68,69,80,81,84,85,256,257,260,261,272,273,276,277,320,321,324,
	325,336,337,340,341,1024,1025,1028,1029,1040,1041,1044,1045,1088,1089,1092,1093,1104,1105,
	1108,1109,1280,1281,1284,1285,1296,1297,1300,1301,1344,1345,1348,1349,1360,1361,1364,1365,
	4096,4097,4100,4101,4112,4113,4116,4117,4160,4161,4164,4165,4176,4177,4180,4181,4352,4353,
	4356,4357,4368,4369,4372,4373,4416,4417,4420,4421,4432,4433,4436,4437,5120,5121,5124,5125,
	5136,5137,5140,5141,5184,5185,5188,5189,5200,5201,5204,5205,5376,5377,5380,5381,5392,5393,
	5396,5397,5440,5441,5444,5445,5456,5457,5460,5461,16384,16385,16388,16389,16400,16401,
	16404,16405,16448,16449,16452,16453,16464,16465,16468,16469,16640,16641,16644,16645,16656,
	16657,16660,16661,16704,16705,16708,16709,16720,16721,16724,16725,17408,17409,17412,17413,
	17424,17425,17428,17429,17472,17473,17476,17477,17488,17489,17492,17493,17664,17665,17668,
	17669,17680,17681,17684,17685,17728,17729,17732,17733,17744,17745,17748,17749,20480,20481,
	20484,20485,20496,20497,20500,20501,20544,20545,20548,20549,20560,20561,20564,20565,20736,
	20737,20740,20741,20752,20753,20756,20757,20800,20801,20804,20805,20816,20817,20820,20821,
	21504,21505,21508,21509,21520,21521,21524,21525,21568,21569,21572,21573,21584,21585,21588,
	21589,21760,21761,21764,21765,21776,21777,21780,21781,21824,21825,21828,21829,21840,21841,
	21844,21845}'::bigint[])[((v >> 8) & 255) + 1] << 16)
	| (('{0,1,4,5,16,17,20,21,64,65,68,69,80,81,84,85,256,257,260,261,272,273,276,277,320,321,324,
	325,336,337,340,341,1024,1025,1028,1029,1040,1041,1044,1045,1088,1089,1092,1093,1104,1105,
	1108,1109,1280,1281,1284,1285,1296,1297,1300,1301,1344,1345,1348,1349,1360,1361,1364,1365,
	4096,4097,4100,4101,4112,4113,4116,4117,4160,4161,4164,4165,4176,4177,4180,4181,4352,4353,
	4356,4357,4368,4369,4372,4373,4416,4417,4420,4421,4432,4433,4436,4437,5120,5121,5124,5125,
	5136,5137,5140,5141,5184,5185,5188,5189,5200,5201,5204,5205,5376,5377,5380,5381,5392,5393,
	5396,5397,5440,5441,5444,5445,5456,5457,5460,5461,16384,16385,16388,16389,16400,16401,
	16404,16405,16448,16449,16452,16453,16464,16465,16468,16469,16640,16641,16644,16645,16656,
	16657,16660,16661,16704,16705,16708,16709,16720,16721,16724,16725,17408,17409,17412,17413,
	17424,17425,17428,17429,17472,17473,17476,17477,17488,17489,17492,17493,17664,17665,17668,
	17669,17680,17681,17684,17685,17728,17729,17732,17733,17744,17745,17748,17749,20480,20481,
	20484,20485,20496,20497,20500,20501,20544,20545,20548,20549,20560,20561,20564,20565,20736,
	20737,20740,20741,20752,20753,20756,20757,20800,20801,20804,20805,20816,20817,20820,20821,
	21504,21505,21508,21509,21520,21521,21524,21525,21568,21569,21572,21573,21584,21585,21588,
	21589,21760,21761,21764,21765,21776,21777,21780,21781,21824,21825,21828,21829,21840,21841,
	21844,21845}'::bigint[])[((v >> 16) & 255) + 1] << 32)
$$;

CREATE FUNCTION tile_morton(cx integer, cy integer) RETURNS bigint
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
SELECT tile_spread(cx) | (tile_spread(cy) << 1)
$$;

-- The finest level stored; coarser levels are shifts of its cell indices.
-- tiles.CellLevels lists the levels; TestCellLevels checks they agree.
CREATE TABLE tile_cells (
    level    smallint NOT NULL CHECK (level IN (12, 14, 16, 18, 20)),
    key      bigint NOT NULL,
    cx       integer NOT NULL,
    cy       integer NOT NULL,
    month    date NOT NULL CHECK (extract(day FROM month) = 1),
    category text NOT NULL,
    -- n >= 0: a delete takes counts down to zero before it removes them.
    n        integer NOT NULL CHECK (n >= 0),
    sx       double precision NOT NULL,
    sy       double precision NOT NULL,
    PRIMARY KEY (level, key, month, category)
);

-- Finds the cells a delete took down to zero without scanning the table.
CREATE INDEX tile_cells_zero_idx ON tile_cells (level) WHERE n = 0;

COMMENT ON TABLE tile_cells IS 'Incident counts per Web Mercator grid cell, month and category, kept by triggers on incidents; hotspot tiles refresh rebuilds them';

-- tile_cells_apply adds the statement's new rows and takes away its old
-- ones, grouped at the finest level first and rolled up from there, in
-- key order (so two imports at once lock cells in the same order and
-- cannot deadlock), then drops cells whose count fell to zero. It bumps
-- data_version when any incident changed, so caches keyed on the version
-- forget their tiles even if the writer forgot to bump it.
CREATE FUNCTION tile_cells_apply() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	changed bigint := 0;
	rows_in bigint;
BEGIN
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		WITH f AS (
			SELECT floor((ST_X(geom_web) + 20037508.342789244) / (40075016.685578488 / 1048576))::integer AS cx,
			       floor((20037508.342789244 - ST_Y(geom_web)) / (40075016.685578488 / 1048576))::integer AS cy,
			       date_trunc('month', occurred_from AT TIME ZONE 'UTC')::date AS month, category,
			       count(*) AS n, sum(ST_X(geom_web)) AS sx, sum(ST_Y(geom_web)) AS sy
			FROM old_rows WHERE geom_web IS NOT NULL
			GROUP BY 1, 2, 3, 4
		), g AS (
			SELECT l.level, tile_morton(f.cx >> (20 - l.level), f.cy >> (20 - l.level)) AS key,
			       f.cx >> (20 - l.level) AS cx, f.cy >> (20 - l.level) AS cy, f.month, f.category,
			       sum(f.n)::integer AS n, sum(f.sx) AS sx, sum(f.sy) AS sy
			FROM f CROSS JOIN unnest(ARRAY[12, 14, 16, 18, 20]) AS l(level)
			GROUP BY 1, 2, 3, 4, 5, 6
		)
		UPDATE tile_cells c SET n = c.n - g.n, sx = c.sx - g.sx, sy = c.sy - g.sy
		FROM g
		WHERE c.level = g.level AND c.key = g.key AND c.month = g.month AND c.category = g.category;
		SELECT count(*) INTO rows_in FROM old_rows;
		changed := changed + rows_in;
	END IF;
	IF TG_OP IN ('UPDATE', 'INSERT') THEN
		INSERT INTO tile_cells AS c (level, key, cx, cy, month, category, n, sx, sy)
		WITH f AS (
			SELECT floor((ST_X(geom_web) + 20037508.342789244) / (40075016.685578488 / 1048576))::integer AS cx,
			       floor((20037508.342789244 - ST_Y(geom_web)) / (40075016.685578488 / 1048576))::integer AS cy,
			       date_trunc('month', occurred_from AT TIME ZONE 'UTC')::date AS month, category,
			       count(*) AS n, sum(ST_X(geom_web)) AS sx, sum(ST_Y(geom_web)) AS sy
			FROM new_rows WHERE geom_web IS NOT NULL
			GROUP BY 1, 2, 3, 4
		)
		SELECT l.level, tile_morton(f.cx >> (20 - l.level), f.cy >> (20 - l.level)),
		       f.cx >> (20 - l.level), f.cy >> (20 - l.level), f.month, f.category,
		       sum(f.n)::integer, sum(f.sx), sum(f.sy)
		FROM f CROSS JOIN unnest(ARRAY[12, 14, 16, 18, 20]) AS l(level)
		GROUP BY 1, 2, 3, 4, 5, 6
		ORDER BY 1, 2, 5, 6
		ON CONFLICT (level, key, month, category)
		DO UPDATE SET n = c.n + EXCLUDED.n, sx = c.sx + EXCLUDED.sx, sy = c.sy + EXCLUDED.sy;
		SELECT count(*) INTO rows_in FROM new_rows;
		changed := changed + rows_in;
	END IF;
	IF TG_OP IN ('UPDATE', 'DELETE') THEN
		-- A count that reached zero is a cell that no longer exists.
		DELETE FROM tile_cells WHERE n = 0;
	END IF;
	IF changed > 0 THEN
		UPDATE data_version SET version = version + 1, changed_at = now();
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER incidents_tile_cells_insert AFTER INSERT ON incidents
REFERENCING NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_apply();

CREATE TRIGGER incidents_tile_cells_update AFTER UPDATE ON incidents
REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_apply();

CREATE TRIGGER incidents_tile_cells_delete AFTER DELETE ON incidents
REFERENCING OLD TABLE AS old_rows
FOR EACH STATEMENT EXECUTE FUNCTION tile_cells_apply();

-- The public side: the same cells over the anonymised data (open.crimes at
-- their map points), so the public density layer reads open.* only. It is
-- rebuilt whole whenever anon's rebuild writes open.meta (its last step,
-- in the same transaction), so it always matches open.crimes.
CREATE TABLE open.tile_cells (
    level    smallint NOT NULL,
    key      bigint NOT NULL,
    cx       integer NOT NULL,
    cy       integer NOT NULL,
    month    date NOT NULL,
    category text NOT NULL,
    n        integer NOT NULL CHECK (n > 0),
    PRIMARY KEY (level, key, month, category)
);

COMMENT ON TABLE open.tile_cells IS 'Public crimes (open.crimes) per Web Mercator grid cell of their map point, month and category; rebuilt with open.meta';

-- open_tile_cells_build writes open.tile_cells from open.crimes; the
-- trigger runs it when anon's rebuild writes open.meta, and tiles.Refresh
-- calls it directly.
CREATE FUNCTION open_tile_cells_build() RETURNS void
LANGUAGE sql AS $$
DELETE FROM open.tile_cells;
INSERT INTO open.tile_cells (level, key, cx, cy, month, category, n)
WITH f AS (
	SELECT floor((ST_X(m.geom_web) + 20037508.342789244) / (40075016.685578488 / 1048576))::integer AS cx,
	       floor((20037508.342789244 - ST_Y(m.geom_web)) / (40075016.685578488 / 1048576))::integer AS cy,
	       c.month, c.category, count(*) AS n
	FROM open.crimes c JOIN open.map_points m ON m.id = c.map_point_id
	GROUP BY 1, 2, 3, 4
)
SELECT l.level, tile_morton(f.cx >> (20 - l.level), f.cy >> (20 - l.level)),
       f.cx >> (20 - l.level), f.cy >> (20 - l.level), f.month, f.category, sum(f.n)::integer
FROM f CROSS JOIN unnest(ARRAY[12, 14, 16, 18, 20]) AS l(level)
GROUP BY 1, 2, 3, 4, 5, 6;
$$;

CREATE FUNCTION open_tile_cells_rebuild() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM open_tile_cells_build();
	RETURN NULL;
END
$$;

CREATE TRIGGER open_meta_tile_cells AFTER INSERT ON open.meta
FOR EACH STATEMENT EXECUTE FUNCTION open_tile_cells_rebuild();

-- Anonymised (it is a count of open.crimes, which the public role already
-- reads row by row), so the public role may read it.
GRANT SELECT ON open.tile_cells TO hotspot_public;

-- The priority filter reads category_priorities: an edit there changes
-- what a filtered tile holds, so it moves the data version too.
CREATE FUNCTION bump_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	UPDATE data_version SET version = version + 1, changed_at = now();
	RETURN NULL;
END
$$;

CREATE TRIGGER category_priorities_data_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON category_priorities
FOR EACH STATEMENT EXECUTE FUNCTION bump_data_version();

-- Every change of the data version is announced at commit, so each server
-- instance drops its cached tiles at once instead of at its next poll.
CREATE FUNCTION notify_data_version() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('hotspot_data_version', NEW.version::text);
	RETURN NULL;
END
$$;

CREATE TRIGGER data_version_notify AFTER UPDATE ON data_version
FOR EACH ROW EXECUTE FUNCTION notify_data_version();

-- Fill the cells from the incidents already there (a no-op on a new
-- database).
INSERT INTO tile_cells (level, key, cx, cy, month, category, n, sx, sy)
WITH f AS (
	SELECT floor((ST_X(geom_web) + 20037508.342789244) / (40075016.685578488 / 1048576))::integer AS cx,
	       floor((20037508.342789244 - ST_Y(geom_web)) / (40075016.685578488 / 1048576))::integer AS cy,
	       date_trunc('month', occurred_from AT TIME ZONE 'UTC')::date AS month, category,
	       count(*) AS n, sum(ST_X(geom_web)) AS sx, sum(ST_Y(geom_web)) AS sy
	FROM incidents WHERE geom_web IS NOT NULL
	GROUP BY 1, 2, 3, 4
)
SELECT l.level, tile_morton(f.cx >> (20 - l.level), f.cy >> (20 - l.level)),
       f.cx >> (20 - l.level), f.cy >> (20 - l.level), f.month, f.category,
       sum(f.n)::integer, sum(f.sx), sum(f.sy)
FROM f CROSS JOIN unnest(ARRAY[12, 14, 16, 18, 20]) AS l(level)
GROUP BY 1, 2, 3, 4, 5, 6;

-- A day range that starts or ends inside a month is counted from the
-- incidents themselves for those days (the cells are monthly). Over the
-- whole district that is tens of thousands of rows scattered over as many
-- pages; with the point and category in the index, PostgreSQL answers
-- from the index alone (measured at zoom 8 over 1,000,000 incidents:
-- 1,460 ms from the table, 13 ms index-only). Autovacuum's insert
-- threshold keeps the visibility map that index-only scans need.
CREATE INDEX incidents_occurred_tile_idx ON incidents (occurred_from) INCLUDE (category, geom_web);
