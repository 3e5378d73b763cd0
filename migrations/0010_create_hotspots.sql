-- Hotspot analysis results (geo/hotspot): one row per rebuild (run), one
-- per analysis a run made (set: a place × priority × window × method), and
-- the hotspot polygons with their numbers. Plus the public hotspot cells
-- in the schema "open" for the public map.
--
-- Readers find the current results through hotspot_current, a one-row
-- pointer. A rebuild writes a new run, its sets and hotspots, moves the
-- pointer and deletes the old run's sets and hotspots, all in one
-- transaction: readers see the old set or the new one, never a mix, and a
-- rebuild that fails leaves the old one in place (MVCC does the rest). The
-- runs themselves are kept as a history of rebuilds (a few rows each).

CREATE TABLE hotspot_runs (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    started_at    timestamptz NOT NULL DEFAULT now(),
    finished_at   timestamptz,
    build_ms      integer,
    -- data_version.version when the run read the incidents, so a cache or
    -- a reader can tell which data a hotspot was computed from.
    data_version  bigint NOT NULL,
    -- The latest month with data (windows count back from it), NULL when
    -- there were no incidents at all.
    latest_month  date CHECK (extract(day FROM latest_month) = 1),
    -- Whether synthetic rows (hotspot synth) were analysed: never by
    -- default; only when asked (benchmarks, demonstrations).
    synthetic     boolean NOT NULL,
    incidents     integer NOT NULL DEFAULT 0,
    -- The months (first days) in the 24 months back from latest_month that
    -- hold any located incident: trends are NULL where these are missing.
    months_with_data date[] NOT NULL DEFAULT '{}',
    -- Every parameter of the run (cell-size rule bounds, band, levels,
    -- KDE share, minimum count...), so a result can be reproduced.
    parameters    jsonb NOT NULL,
    trigger       text NOT NULL CHECK (trigger <> '')
);

-- The one current run. Updated in the rebuild's transaction.
CREATE TABLE hotspot_current (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    run_id    bigint NOT NULL REFERENCES hotspot_runs (id)
);

-- One analysis: a place, a priority (0 = all crime), a window and a method.
CREATE TABLE hotspot_sets (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        bigint NOT NULL REFERENCES hotspot_runs (id),
    place         text NOT NULL,
    priority      smallint NOT NULL CHECK (priority BETWEEN 0 AND 5),
    -- 'last-1', 'last-3', 'last-12': months counted back from the run's
    -- latest month, [month_from, month_to) in whole months.
    time_window   text NOT NULL,
    month_from    date NOT NULL,
    month_to      date NOT NULL CHECK (month_to > month_from),
    method        text NOT NULL CHECK (method IN ('gi-star', 'kde')),
    -- Incidents of this priority in the place and window: the denominator
    -- of every hotspot's share.
    place_incidents integer NOT NULL,
    -- The same for the previous equal window and the window a year
    -- earlier; NULL when the data does not cover those months.
    prev_incidents  integer,
    yoy_incidents   integer,
    -- The place's aoristic profile for this priority and window (same
    -- shape as hotspots.profile), for the place summary's peaks.
    profile       jsonb NOT NULL,
    -- Incidents of this priority in the place per month, latest month
    -- first, 24 months back (filled for the last-12 windows, which read
    -- them all; NULL otherwise), for the place summary.
    monthly       integer[],
    -- Method parameters: Gi* cell size, band, cells, BH cut-offs; KDE
    -- bandwidth, raster cell, area share, threshold. And notes (too few
    -- cells, no variance...).
    parameters    jsonb NOT NULL,
    UNIQUE (run_id, place, priority, time_window, method)
);

CREATE INDEX hotspot_sets_run_idx ON hotspot_sets (run_id);

-- A hotspot: one connected group of significant hexagon cells at one
-- confidence level (Gi*; the 99% hotspots lie inside the 95% ones, which
-- lie inside the 90% ones), or one connected part of the KDE contour.
CREATE TABLE hotspots (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    set_id         bigint NOT NULL REFERENCES hotspot_sets (id) ON DELETE CASCADE,
    run_id         bigint NOT NULL REFERENCES hotspot_runs (id),
    -- 90, 95 or 99 for Gi*; NULL for KDE.
    confidence     smallint CHECK (confidence IN (90, 95, 99)),
    -- 1 = most incidents within its set and confidence level.
    rank           integer NOT NULL,
    cells          integer NOT NULL,
    incidents      integer NOT NULL,
    area_m2        double precision NOT NULL,
    -- incidents / the set's place_incidents.
    share          double precision NOT NULL,
    -- Incidents in the same polygon in the previous equal window and the
    -- same window a year earlier, and the change in per cent; NULL when the
    -- data does not cover those months (or the change when the earlier
    -- count is 0).
    prev_incidents integer,
    prev_change    double precision,
    yoy_incidents  integer,
    yoy_change     double precision,
    -- Aoristic peaks: month 1-12; weekday 0 = Sunday; hour 0-23. Weekday
    -- and hour are NULL when no incident had a time finer than a month
    -- (police.uk's never do).
    peak_month     smallint,
    peak_weekday   smallint,
    peak_hour      smallint,
    -- {"month": [12], "weekday": [7], "hour": [24], "records", "timed"}
    profile        jsonb NOT NULL,
    -- [{"category", "count"}], most first (top five).
    top_categories jsonb NOT NULL,
    -- [{"lon", "lat", "count", "location", "snapping_point"}]: points with at
    -- least two incidents, most first (top ten); snapping_point is true for
    -- police.uk's anonymised map points, which stand for many addresses.
    repeat_locations jsonb NOT NULL,
    repeat_points  integer NOT NULL,
    repeat_incidents integer NOT NULL,
    max_z          double precision,
    geom_bng       geometry(MultiPolygon, 27700) NOT NULL,
    geom           geometry(MultiPolygon, 4326) NOT NULL,
    geom_web       geometry(MultiPolygon, 3857) NOT NULL
);

CREATE INDEX hotspots_set_idx ON hotspots (set_id);
CREATE INDEX hotspots_run_idx ON hotspots (run_id);
CREATE INDEX hotspots_geom_web_idx ON hotspots USING gist (geom_web);

-- Public hotspot cells: Gi* over the anonymised data only (open.crimes at
-- open.map_points: non-sensitive categories, months, map points), so
-- nothing here is derived from a precise location or a sensitive
-- category. Only cells significant at 90% or more after FDR control; a
-- count from 1 to min_count-1 is withheld (count NULL, suppressed true).
CREATE TABLE open.hotspot_cells (
    place       text NOT NULL,
    priority    smallint NOT NULL CHECK (priority BETWEEN 0 AND 5),
    time_window text NOT NULL,
    month_from  date NOT NULL CHECK (extract(day FROM month_from) = 1),
    month_to    date NOT NULL CHECK (extract(day FROM month_to) = 1),
    confidence  smallint NOT NULL CHECK (confidence IN (90, 95, 99)),
    count       integer CHECK (count >= 0),
    suppressed  boolean NOT NULL,
    geom        geometry(Polygon, 4326) NOT NULL,
    geom_web    geometry(Polygon, 3857) NOT NULL,
    CHECK ((count IS NULL) = suppressed)
);

CREATE INDEX hotspot_cells_idx ON open.hotspot_cells (place, priority, time_window);
CREATE INDEX hotspot_cells_geom_web_idx ON open.hotspot_cells USING gist (geom_web);

-- When the public hotspots were built and by which rule.
CREATE TABLE open.hotspot_meta (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    built_at    timestamptz NOT NULL,
    latest_month date,
    min_count   integer NOT NULL,
    method      text NOT NULL
);

GRANT SELECT ON open.hotspot_cells, open.hotspot_meta TO hotspot_public;
