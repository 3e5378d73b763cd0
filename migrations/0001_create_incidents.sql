-- The first schema: incidents, the import batches that brought them, the
-- rows an import could not take (quarantine), and reference boundaries.
--
-- Geometry is stored three ways, once, when a row is written: the WGS84
-- point as received (the source of truth, served back in APIs), British
-- National Grid (EPSG:27700) for metric work, and Web Mercator (EPSG:3857)
-- for tiles, so no query ever transforms the whole table. For incidents the
-- writer computes the two projections in its INSERT (ST_Transform in the
-- select list): measured on PostgreSQL 15 / PostGIS 3.3, STORED generated
-- columns doing the same cost three times as much per row, and imports are
-- the hot path. A CHECK keeps the three present or absent together.

CREATE EXTENSION IF NOT EXISTS postgis;

-- police.uk's crime categories (slug and display name). Later migrations
-- add partner categories and the plan's priorities beside them.
CREATE TABLE categories (
    slug text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name text NOT NULL
);

INSERT INTO categories (slug, name) VALUES
    ('anti-social-behaviour', 'Anti-social behaviour'),
    ('bicycle-theft', 'Bicycle theft'),
    ('burglary', 'Burglary'),
    ('criminal-damage-arson', 'Criminal damage and arson'),
    ('drugs', 'Drugs'),
    ('other-theft', 'Other theft'),
    ('possession-of-weapons', 'Possession of weapons'),
    ('public-order', 'Public order'),
    ('robbery', 'Robbery'),
    ('shoplifting', 'Shoplifting'),
    ('theft-from-the-person', 'Theft from the person'),
    ('vehicle-crime', 'Vehicle crime'),
    ('violent-crime', 'Violence and sexual offences'),
    ('other-crime', 'Other crime');

-- One row per import of one file (or one API batch). Counts are filled in
-- by the same transaction that loads the rows, so a batch row with
-- finished_at set always describes rows that are really there.
CREATE TABLE import_batches (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source       text NOT NULL,
    file_name    text NOT NULL,
    file_sha256  text NOT NULL,
    file_bytes   bigint NOT NULL,
    rows_read    integer NOT NULL DEFAULT 0,
    inserted     integer NOT NULL DEFAULT 0,
    already_present integer NOT NULL DEFAULT 0,
    no_location  integer NOT NULL DEFAULT 0,
    quarantined  integer NOT NULL DEFAULT 0,
    started_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);

CREATE TABLE incidents (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source        text NOT NULL,
    source_id     text NOT NULL,
    category      text NOT NULL,
    -- [occurred_from, occurred_to): a month for police.uk, a second for an
    -- exact partner timestamp, anything between for "overnight" reports.
    occurred_from timestamptz NOT NULL,
    occurred_to   timestamptz NOT NULL,
    location_text text NOT NULL DEFAULT '',
    lsoa_code     text NOT NULL DEFAULT '',
    lsoa_name     text NOT NULL DEFAULT '',
    outcome       text NOT NULL DEFAULT '',
    context       text NOT NULL DEFAULT '',
    reported_by   text NOT NULL DEFAULT '',
    falls_within  text NOT NULL DEFAULT '',
    geom          geometry(Point, 4326),
    geom_bng      geometry(Point, 27700),
    geom_web      geometry(Point, 3857),
    batch_id      bigint NOT NULL REFERENCES import_batches (id),
    imported_at   timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT incidents_source_key UNIQUE (source, source_id),
    CONSTRAINT incidents_period_check CHECK (occurred_to > occurred_from),
    CONSTRAINT incidents_geom_check CHECK ((geom IS NULL) = (geom_bng IS NULL) AND (geom IS NULL) = (geom_web IS NULL))
);

CREATE INDEX incidents_geom_web_idx ON incidents USING gist (geom_web);
CREATE INDEX incidents_geom_bng_idx ON incidents USING gist (geom_bng);
CREATE INDEX incidents_occurred_idx ON incidents (occurred_from);
CREATE INDEX incidents_batch_idx ON incidents (batch_id);

-- Rows an import could not take, kept with why, so nothing is lost and a
-- person can fix the source and import again.
CREATE TABLE quarantine (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    batch_id  bigint NOT NULL REFERENCES import_batches (id),
    line_no   integer NOT NULL,
    raw       text NOT NULL,
    reason    text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX quarantine_batch_idx ON quarantine (batch_id);

-- Reference areas (the district outline now; wards and LSOAs later).
CREATE TABLE boundaries (
    kind     text NOT NULL,
    code     text NOT NULL,
    name     text NOT NULL,
    geom     geometry(MultiPolygon, 4326) NOT NULL,
    geom_bng geometry(MultiPolygon, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
    geom_web geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (kind, code)
);

CREATE INDEX boundaries_geom_web_idx ON boundaries USING gist (geom_web);

-- A counter that moves whenever data changes, so caches and ETags can tell
-- a stale tile from a fresh one.
CREATE TABLE data_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO data_version (version) VALUES (1);
