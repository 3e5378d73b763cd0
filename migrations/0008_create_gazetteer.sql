-- The gazetteer the geocoder (geo/geocode) matches location text against,
-- and the decisions people made about text it could not place.
--
-- pg_trgm gives the typo-tolerant street and place match (similarity on
-- trigrams, GIN-indexed). It ships with PostgreSQL itself (Debian's
-- postgresql-15 package carries it in contrib), and it is a trusted
-- extension, so a database owner without superuser rights can create it.
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- One row per thing a location can name: a street learned from police.uk
-- locations, a settlement (GeoNames), a named place or landmark, or an
-- address point from a council's LLPG export. Postcodes are not copied
-- here: the postcodes table is the gazetteer's postcode part.
--
-- name is as shown to people; name_norm is the matching key written by
-- geocode.NormaliseName (lower case, punctuation gone, abbreviations
-- expanded), so the same function prepares both sides of a match.
-- locality is the town or village the entry belongs to (for streets the
-- nearest settlement), used to label results and, through its own place
-- entries, to restrict street matches to that locality.
-- weight (0..1] says how far the entry's point can be trusted as the
-- thing named: 1 for an address point, less for a shared GeoNames
-- outcode centre or a street known from a single police.uk point.
CREATE TABLE gazetteer (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind        text NOT NULL CHECK (kind IN ('address', 'street', 'place', 'landmark')),
    source      text NOT NULL CHECK (source <> ''),
    source_ref  text NOT NULL,
    name        text NOT NULL CHECK (name <> ''),
    name_norm   text NOT NULL CHECK (name_norm <> ''),
    locality    text NOT NULL DEFAULT '',
    locality_norm text NOT NULL DEFAULT '',
    postcode    text NOT NULL DEFAULT '',
    house       text NOT NULL DEFAULT '',
    lsoa_code   text NOT NULL DEFAULT '',
    -- How many observations the point summarises (police.uk points for a
    -- street), 1 otherwise.
    points      integer NOT NULL DEFAULT 1 CHECK (points > 0),
    weight      real NOT NULL DEFAULT 1 CHECK (weight > 0 AND weight <= 1),
    geom_bng    geometry(Point, 27700) NOT NULL,
    geom        geometry(Point, 4326) NOT NULL,
    loaded_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (source, source_ref)
);

CREATE INDEX gazetteer_name_trgm_idx ON gazetteer USING gin (name_norm gin_trgm_ops);
CREATE INDEX gazetteer_name_idx ON gazetteer (name_norm);
CREATE INDEX gazetteer_geom_bng_idx ON gazetteer USING gist (geom_bng);

-- Bumped by every gazetteer load, so running geocoders know to reload
-- their in-memory copy.
CREATE TABLE gazetteer_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   bigint NOT NULL,
    changed_at timestamptz NOT NULL DEFAULT now()
);

INSERT INTO gazetteer_version (version) VALUES (1);

-- A person's decision about where a piece of location text is (from the
-- review queue): the next time the same text comes (same
-- geocode.Normalise key) the decision is used first. The latest decision
-- for a text wins; the old ones are kept for the record.
CREATE TABLE geocode_decisions (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    text_norm   text NOT NULL CHECK (text_norm <> ''),
    text        text NOT NULL,
    method      text NOT NULL,
    label       text NOT NULL DEFAULT '',
    entry_id    text NOT NULL DEFAULT '',
    easting     double precision NOT NULL,
    northing    double precision NOT NULL,
    lon         double precision NOT NULL,
    lat         double precision NOT NULL,
    decided_by  text NOT NULL CHECK (decided_by <> ''),
    decided_at  timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX geocode_decisions_text_idx ON geocode_decisions (text_norm, decided_at DESC);
