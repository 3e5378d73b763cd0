-- Named places (towns, villages, a town centre, a park, a business park,
-- the district) with where each outline came from, the outlines they
-- replaced, and the Community Safety Partnership plan's five priorities
-- with the table that maps crime and incident categories onto them.
-- geo/places owns every statement that touches these tables.

-- One row per named place. The outline is stored as received or built, in
-- WGS84, with British National Grid (metres, km²) and Web Mercator (tiles)
-- generated from it: places are few and rarely written, so generated
-- columns cost nothing here, unlike on incidents (see 0001).
--
-- origin says who made the outline: 'built' by hotspot places build from
-- the shared data, or 'uploaded' by an admin. A build never overwrites an
-- uploaded outline unless forced; either way the outline it replaces goes
-- to place_history first.
CREATE TABLE places (
    slug       text PRIMARY KEY CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name       text NOT NULL CHECK (name <> ''),
    kind       text NOT NULL CHECK (kind IN ('town-centre', 'park', 'town', 'village', 'business-park', 'district')),
    geom       geometry(MultiPolygon, 4326) NOT NULL CHECK (ST_IsValid(geom) AND NOT ST_IsEmpty(geom)),
    geom_bng   geometry(MultiPolygon, 27700) GENERATED ALWAYS AS (ST_Transform(geom, 27700)) STORED,
    geom_web   geometry(MultiPolygon, 3857) GENERATED ALWAYS AS (ST_Transform(geom, 3857)) STORED,
    origin     text NOT NULL CHECK (origin IN ('built', 'uploaded')),
    -- Provenance: how the outline was made (one paragraph a person can
    -- check), the files or references it was made from (with their
    -- SHA-256 for files), when, and by whom or what.
    method     text NOT NULL CHECK (method <> ''),
    sources    text[] NOT NULL CHECK (cardinality(sources) > 0),
    built_at   timestamptz NOT NULL DEFAULT now(),
    built_by   text NOT NULL CHECK (built_by <> '')
);

CREATE INDEX places_geom_bng_idx ON places USING gist (geom_bng);
CREATE INDEX places_geom_web_idx ON places USING gist (geom_web);

-- Every outline a place had before its current one, with its provenance,
-- and who replaced it when. Rows are only ever added.
CREATE TABLE place_history (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    slug        text NOT NULL REFERENCES places (slug),
    name        text NOT NULL,
    kind        text NOT NULL,
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    origin      text NOT NULL,
    method      text NOT NULL,
    sources     text[] NOT NULL,
    built_at    timestamptz NOT NULL,
    built_by    text NOT NULL,
    replaced_at timestamptz NOT NULL DEFAULT now(),
    replaced_by text NOT NULL
);

CREATE INDEX place_history_slug_idx ON place_history (slug, replaced_at);

-- The plan's five priorities. Ids are the plan's own numbering.
CREATE TABLE priorities (
    id   smallint PRIMARY KEY CHECK (id BETWEEN 1 AND 5),
    slug text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    name text NOT NULL
);

INSERT INTO priorities (id, slug, name) VALUES
    (1, 'violence-domestic-abuse-hate', 'Violent crime, domestic abuse and hate crime'),
    (2, 'asb-criminal-damage', 'Anti-social behaviour and criminal damage'),
    (3, 'burglary-vehicle-personal-theft', 'Domestic burglary, vehicle crime and theft from the person'),
    (4, 'business-crime', 'Business crime: shoplifting, commercial burglary, arson, business criminal damage, plant theft'),
    (5, 'drugs', 'Drugs');

-- Which priority each category counts towards, and the plan's
-- cross-cutting themes it also counts towards (flags: 'alcohol' for
-- alcohol-related, 'environment' for fly-tipping, dog fouling, graffiti and
-- abandoned vehicles). A category with no priority (NULL) is counted in
-- totals only. Categories are police.uk slugs and partners' slugs; partner
-- categories have no row in categories yet, so there is no foreign key.
-- Edited with hotspot priorities set; the seed below is the default.
CREATE TABLE category_priorities (
    category   text PRIMARY KEY CHECK (category ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    priority   smallint REFERENCES priorities (id),
    flags      text[] NOT NULL DEFAULT '{}' CHECK (flags <@ ARRAY['alcohol', 'environment']::text[]),
    note       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT 'migration 0005'
);

CREATE INDEX category_priorities_priority_idx ON category_priorities (priority);

INSERT INTO category_priorities (category, priority, flags, note) VALUES
    -- police.uk's fourteen street-level categories.
    ('violent-crime', 1, '{}', 'police.uk''s "Violence and sexual offences": violence with and without injury, stalking and harassment, sexual offences; most domestic abuse is recorded here.'),
    ('robbery', 1, '{}', 'Robbery is theft by force or threat of force: counted as violence, as the serious violence duty does. Business robbery is also business crime, but police.uk does not separate it.'),
    ('possession-of-weapons', 1, '{}', 'Carrying knives and other weapons is a precursor of serious violence, so it counts with violent crime.'),
    ('public-order', 2, '{}', 'Most public order offences (causing fear, alarm or distress) are the criminal end of anti-social behaviour. Racially or religiously aggravated ones are hate crime (priority 1), but police.uk does not separate them: partners'' hate-crime and hate-incident records carry that.'),
    ('anti-social-behaviour', 2, '{}', 'police.uk''s anti-social behaviour incidents.'),
    ('criminal-damage-arson', 2, '{}', 'police.uk''s "Criminal damage and arson" does not separate damage to homes and cars from damage to businesses, nor arson: all of it counts here. Business criminal damage and arson belong to priority 4; partners'' business-criminal-damage and arson records carry that.'),
    ('burglary', 3, '{}', 'police.uk''s "Burglary" holds residential and business-and-community burglary together. Counted as domestic burglary (priority 3) because in Harborough most recorded burglary is residential; commercial burglary (priority 4) comes from partners'' business-burglary records.'),
    ('vehicle-crime', 3, '{}', 'Theft of and from vehicles, interfering with vehicles.'),
    ('theft-from-the-person', 3, '{}', 'Pickpocketing and snatch theft without force.'),
    ('bicycle-theft', 3, '{}', 'Not named in the plan; counted with the acquisitive crimes against residents (burglary, vehicle crime, theft from the person).'),
    ('other-theft', 3, '{}', 'Theft not elsewhere classified: unattended property, sheds and outbuildings, making off without payment. Mostly against residents, so counted with priority 3; theft of plant and from business premises comes from partners'' plant-theft records (priority 4).'),
    ('shoplifting', 4, '{}', 'Business crime.'),
    ('drugs', 5, '{}', 'Possession and supply of controlled drugs.'),
    ('other-crime', NULL, '{}', 'Forgery, perjury and other offences not elsewhere classified: no plan priority; counted in totals only.'),
    -- Partners' categories (council, fire service, Trading Standards,
    -- victim services). Their slugs are this project's; a partner feed
    -- maps its own codes onto them.
    ('domestic-abuse', 1, '{}', 'Domestic abuse incidents and crimes from victim services and police referrals.'),
    ('hate-crime', 1, '{}', 'Crimes perceived by the victim or anyone else to be motivated by hostility.'),
    ('hate-incident', 1, '{}', 'Non-crime hate incidents: not offences, but part of the plan''s hate crime priority.'),
    ('sexual-offences', 1, '{}', 'Where a partner records sexual offences separately from violence.'),
    ('alcohol-related-disorder', 2, '{alcohol}', 'Disorder where alcohol was a factor (licensing, night-time economy).'),
    ('street-drinking', 2, '{alcohol}', 'Street drinking and breaches of public spaces protection orders on alcohol.'),
    ('fly-tipping', 2, '{environment}', 'Council environmental crime.'),
    ('dog-fouling', 2, '{environment}', 'Council environmental crime.'),
    ('graffiti', 2, '{environment}', 'Council environmental crime; also criminal damage.'),
    ('abandoned-vehicle', 2, '{environment}', 'Council environmental crime.'),
    ('business-burglary', 4, '{}', 'Burglary of commercial premises (business and community burglary).'),
    ('business-criminal-damage', 4, '{}', 'Criminal damage to business premises and property.'),
    ('arson', 4, '{}', 'Deliberate fires (fire service records): the plan lists arson under business crime. Deliberate fires at homes are also in here; review if the fire service separates them.'),
    ('plant-theft', 4, '{}', 'Theft of agricultural and construction plant and machinery (rural and business crime).'),
    ('drug-dealing', 5, '{}', 'Partner intelligence and reports of drug dealing.');
