-- The public side of the house: postcodes (the address measure), the list
-- of sensitive categories, and the schema "open" that the anonymisation
-- step (geo/anon) fills and the public reads. Nothing in "open" is a view
-- over precise data: Rebuild writes its tables from incidents in one
-- transaction, and the role hotspot_public can read "open" and the public
-- reference tables and nothing else.

-- OS Code-Point Open: one row per postcode unit, with its point in all
-- three systems, written by geo/ingest (upsert by postcode). Private: the
-- public never needs a postcode's position, and a quality-10 point sits on
-- a building.
CREATE TABLE postcodes (
    postcode      text PRIMARY KEY CHECK (postcode ~ '^[A-Z]{1,2}[0-9][0-9A-Z]? [0-9][A-Z]{2}$'),
    quality       smallint NOT NULL,
    easting       integer NOT NULL,
    northing      integer NOT NULL,
    country_code  text NOT NULL DEFAULT '',
    nhs_region_code text NOT NULL DEFAULT '',
    nhs_ha_code   text NOT NULL DEFAULT '',
    county_code   text NOT NULL DEFAULT '',
    district_code text NOT NULL DEFAULT '',
    ward_code     text NOT NULL DEFAULT '',
    geom_bng      geometry(Point, 27700) NOT NULL,
    geom          geometry(Point, 4326) NOT NULL,
    geom_web      geometry(Point, 3857) NOT NULL,
    loaded_at     timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX postcodes_district_idx ON postcodes (district_code);
CREATE INDEX postcodes_geom_bng_idx ON postcodes USING gist (geom_bng);

-- Categories never shown at point level, with why. Editable: a row added
-- here takes effect at the next anon rebuild.
CREATE TABLE sensitive_categories (
    slug   text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    reason text NOT NULL
);

INSERT INTO sensitive_categories (slug, reason) VALUES
    ('violent-crime', 'police.uk''s "Violence and sexual offences" includes sexual offences and domestic abuse, so all of it is treated as sensitive'),
    ('domestic-abuse', 'victims live at or near the location'),
    ('sexual-offences', 'victims can be identified from place and month'),
    ('hate-crime', 'victims and communities can be identified from place and month'),
    ('hate-incident', 'victims and communities can be identified from place and month');

-- Stable ids for map points: a point keeps its id across rebuilds for as
-- long as it survives, so a client's location_id stays good. Keyed by the
-- point in micro-degrees, the precision police.uk publishes.
CREATE TABLE map_point_ids (
    id     integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    lon_e6 integer NOT NULL,
    lat_e6 integer NOT NULL,
    UNIQUE (lon_e6, lat_e6)
);

CREATE SCHEMA open;

COMMENT ON SCHEMA open IS 'Public, anonymised data written by geo/anon (hotspot anon rebuild); readable by hotspot_public.';

-- Anonymous map points: police.uk street points inside the district, each
-- standing for at least K postcode units (see geo/anon).
CREATE TABLE open.map_points (
    id             integer PRIMARY KEY,
    street         text NOT NULL,
    postcode_units integer NOT NULL,
    ward_code      text NOT NULL DEFAULT '',
    geom           geometry(Point, 4326) NOT NULL,
    geom_bng       geometry(Point, 27700) NOT NULL,
    geom_web       geometry(Point, 3857) NOT NULL
);

CREATE INDEX map_points_geom_bng_idx ON open.map_points USING gist (geom_bng);
CREATE INDEX map_points_geom_web_idx ON open.map_points USING gist (geom_web);

-- The categories the public data knows: police.uk's, the sensitive ones
-- and any other that occurs, with whether it is withheld at point level.
CREATE TABLE open.categories (
    slug      text PRIMARY KEY,
    name      text NOT NULL,
    sensitive boolean NOT NULL
);

-- Public crimes: non-sensitive, inside the district, at a map point, by
-- month. No source id, no original coordinates, no free text.
CREATE TABLE open.crimes (
    id            bigint PRIMARY KEY,
    category      text NOT NULL,
    month         date NOT NULL CHECK (extract(day FROM month) = 1),
    map_point_id  integer NOT NULL REFERENCES open.map_points (id),
    outcome       text NOT NULL DEFAULT '',
    persistent_id text NOT NULL DEFAULT ''
);

CREATE INDEX crimes_month_point_idx ON open.crimes (month, map_point_id);
CREATE INDEX crimes_point_idx ON open.crimes (map_point_id);

-- Crimes published without a location (police.uk's crimes-no-location),
-- by force and month.
CREATE TABLE open.crimes_no_location (
    id            bigint PRIMARY KEY,
    category      text NOT NULL,
    month         date NOT NULL CHECK (extract(day FROM month) = 1),
    force         text NOT NULL,
    outcome       text NOT NULL DEFAULT '',
    persistent_id text NOT NULL DEFAULT ''
);

CREATE INDEX crimes_no_location_idx ON open.crimes_no_location (force, month);

-- Counts per area, month and category, every category (sensitive ones
-- included). A suppressed cell has count NULL and suppressed true.
CREATE TABLE open.area_counts (
    area_kind  text NOT NULL,
    area_code  text NOT NULL,
    area_name  text NOT NULL,
    month      date NOT NULL CHECK (extract(day FROM month) = 1),
    category   text NOT NULL,
    count      integer CHECK (count >= 0),
    suppressed boolean NOT NULL,
    PRIMARY KEY (area_kind, area_code, month, category),
    CHECK ((count IS NULL) = suppressed)
);

-- One row: when the public data was built, from what, with which rules.
CREATE TABLE open.meta (
    singleton          boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    built_at           timestamptz NOT NULL,
    build_ms           integer NOT NULL,
    last_updated       date,
    months             date[] NOT NULL,
    min_postcode_units integer NOT NULL,
    min_count          integer NOT NULL,
    force              text NOT NULL,
    method             text NOT NULL
);

-- The public role. Roles belong to the cluster, not the database, and the
-- tests migrate many databases in one cluster (some at once), so create it
-- only if absent and let a concurrent creator win.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'hotspot_public') THEN
        BEGIN
            CREATE ROLE hotspot_public NOLOGIN;
        EXCEPTION WHEN duplicate_object OR unique_violation THEN
            NULL;
        END;
    END IF;
    -- The server connects as its own user and switches to this role for
    -- public requests, so that user must be a member. A superuser needs
    -- nothing; a user that may not grant it is told by anon.PublicPool.
    IF NOT (SELECT rolsuper FROM pg_roles WHERE rolname = current_user)
       AND NOT pg_has_role(current_user, 'hotspot_public', 'MEMBER') THEN
        BEGIN
            EXECUTE format('GRANT hotspot_public TO %I', current_user);
        EXCEPTION WHEN insufficient_privilege THEN
            RAISE NOTICE 'could not grant hotspot_public to %: ask the database owner to', current_user;
        END;
    END IF;
END
$$;

-- What the public role may read: the open schema and the public reference
-- tables. Nothing else is granted: incidents, quarantine, import_batches,
-- postcodes, map_point_ids, sensitive_categories, users and the rest stay
-- out of its reach.
GRANT USAGE ON SCHEMA open TO hotspot_public;
GRANT SELECT ON ALL TABLES IN SCHEMA open TO hotspot_public;
GRANT SELECT ON boundaries, categories TO hotspot_public;
