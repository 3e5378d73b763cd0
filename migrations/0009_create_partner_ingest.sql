-- Partners' records (the council's anti-social behaviour and fly-tipping
-- logs, the fire service's deliberate fires, CCTV and Neighbourhood Watch
-- reports) arrive as CSV files (hotspot import partner) or JSON batches
-- (POST /api/incidents) and land in incidents like police.uk rows, with
-- source = the partner's name and source_id = the partner's own id, so a
-- record sent again updates its row rather than adding one. geo/ingest
-- owns every statement that touches the tables below.

-- What a partner record carries beyond police.uk's columns:
--   source_category: the category as the partner wrote it ("Fly tipping -
--     household waste"), kept so that a changed mapping can be applied to
--     rows already loaded, and so no partner wording is lost;
--   location_method / location_confidence: how the geocoder placed the
--     point (postcode, street, grid reference, remembered, manual ...) and
--     how sure it was, 0..1; empty / NULL for police.uk rows, whose points
--     come with the file.
-- Constant defaults add the columns without rewriting the table.
ALTER TABLE incidents ADD COLUMN source_category text NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN location_method text NOT NULL DEFAULT '';
ALTER TABLE incidents ADD COLUMN location_confidence real CHECK (location_confidence BETWEEN 0 AND 1);

-- A partner import updates rows and sends some to review: count both on
-- the batch, beside police.uk's counts (already_present = updated +
-- unchanged for a partner batch).
ALTER TABLE import_batches ADD COLUMN updated integer NOT NULL DEFAULT 0;
ALTER TABLE import_batches ADD COLUMN needs_review integer NOT NULL DEFAULT 0;

-- How partners' free-text categories become this project's category slugs
-- (police.uk's, or the partner slugs of category_priorities). Editable
-- with hotspot categories map; the seed below is the default.
--
-- source: '' for a rule every partner shares, or one partner's name; a
--   partner's own rule wins over a shared one.
-- kind 'exact': text is the partner's wording normalised (lower case,
--   runs of anything but letters and digits as one space, trimmed), so
--   "Fly-Tipping " and "fly tipping" are one rule.
-- kind 'pattern': text is a regular expression (RE2 syntax, matched
--   against the normalised wording); exact rules are tried first, then the
--   patterns of the highest rank that match. Two matching patterns of that
--   rank that disagree make the wording ambiguous, and it stays unmapped
--   rather than being guessed.
-- Wording no rule maps is stored with category 'unmapped' (and its own
-- words in incidents.source_category) and reported by the import; see the
-- sensitive_categories row below.
CREATE TABLE partner_category_map (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source     text NOT NULL DEFAULT '',
    kind       text NOT NULL CHECK (kind IN ('exact', 'pattern')),
    text       text NOT NULL CHECK (text <> ''),
    category   text NOT NULL CHECK (category ~ '^[a-z0-9]+(-[a-z0-9]+)*$'),
    rank       smallint NOT NULL DEFAULT 0,
    note       text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    updated_by text NOT NULL DEFAULT 'migration',
    UNIQUE (source, kind, text)
);

INSERT INTO partner_category_map (kind, text, category, rank, note) VALUES
    ('exact', 'fly tipping', 'fly-tipping', 0, 'Council environmental crime.'),
    ('exact', 'flytipping', 'fly-tipping', 0, ''),
    ('pattern', '\bfly ?tip', 'fly-tipping', 20, '"Fly tipping - household waste", "fly-tip (large)" ...'),
    ('exact', 'dog fouling', 'dog-fouling', 0, ''),
    ('pattern', '\bdog (fouling|mess|poo)', 'dog-fouling', 20, ''),
    ('exact', 'graffiti', 'graffiti', 0, ''),
    ('pattern', '\bgraffiti\b', 'graffiti', 20, ''),
    ('exact', 'abandoned vehicle', 'abandoned-vehicle', 0, ''),
    ('pattern', '\babandoned (vehicle|car)', 'abandoned-vehicle', 20, ''),
    ('exact', 'deliberate fire', 'arson', 0, 'Fire service deliberate fires: the arson partner slug of category_priorities (0005), which the plan counts as business crime.'),
    ('exact', 'arson', 'arson', 0, ''),
    ('pattern', '\b(deliberate (fire|ignition)|arson)', 'arson', 20, ''),
    ('exact', 'shop theft', 'shoplifting', 0, 'Business Against Crime reports.'),
    ('exact', 'shoplifting', 'shoplifting', 0, ''),
    ('pattern', '\bshop ?(theft|lifting|lifter)', 'shoplifting', 20, ''),
    ('exact', 'asb', 'anti-social-behaviour', 0, ''),
    ('exact', 'anti social behaviour', 'anti-social-behaviour', 0, ''),
    ('exact', 'antisocial behaviour', 'anti-social-behaviour', 0, ''),
    ('pattern', '\b(asb|anti ?social)\b', 'anti-social-behaviour', 10, '"ASB - youths", "Anti social behaviour (rowdy)"; below the environmental patterns, so "ASB - graffiti" is graffiti.'),
    ('pattern', '\b(rowdy|nuisance|noise)\b', 'anti-social-behaviour', 5, 'Council ASB wording.'),
    ('exact', 'drug dealing', 'drug-dealing', 0, 'Partner intelligence on dealing: the drug-dealing partner slug (priority 5), kept apart from police.uk''s recorded drug offences.'),
    ('pattern', '\bdrugs? (dealing|dealer|supply)', 'drug-dealing', 20, ''),
    ('exact', 'drugs', 'drugs', 0, ''),
    ('exact', 'drug use', 'drugs', 0, ''),
    ('exact', 'criminal damage', 'criminal-damage-arson', 0, ''),
    ('exact', 'vandalism', 'criminal-damage-arson', 0, ''),
    ('pattern', '\b(criminal damage|vandal)', 'criminal-damage-arson', 15, ''),
    ('exact', 'street drinking', 'street-drinking', 0, ''),
    ('exact', 'domestic abuse', 'domestic-abuse', 0, ''),
    ('exact', 'domestic violence', 'domestic-abuse', 0, ''),
    ('exact', 'hate crime', 'hate-crime', 0, ''),
    ('exact', 'hate incident', 'hate-incident', 0, ''),
    ('exact', 'burglary', 'burglary', 0, ''),
    ('exact', 'business burglary', 'business-burglary', 0, ''),
    ('exact', 'commercial burglary', 'business-burglary', 0, ''),
    ('exact', 'vehicle crime', 'vehicle-crime', 0, ''),
    ('exact', 'theft from vehicle', 'vehicle-crime', 0, ''),
    ('exact', 'bicycle theft', 'bicycle-theft', 0, ''),
    ('exact', 'cycle theft', 'bicycle-theft', 0, ''),
    ('exact', 'plant theft', 'plant-theft', 0, ''),
    ('exact', 'public order', 'public-order', 0, ''),
    ('exact', 'robbery', 'robbery', 0, ''),
    ('exact', 'theft', 'other-theft', 0, '');

-- A wording no rule maps could be anything, a sexual offence included, so
-- it is never published at point level until someone maps it: counted by
-- area only, like the other sensitive categories.
INSERT INTO sensitive_categories (slug, reason) VALUES
    ('unmapped', 'a partner category no mapping rule recognised: it could be anything, so it stays out of point-level data until mapped (hotspot categories map)');

-- Partner records the geocoder could not place, or placed only with low
-- confidence. The incident itself is stored (without a point, so nothing
-- half-sure reaches a map or an analysis); the item keeps the record as
-- received, the query that was geocoded, the geocoder's candidates and why
-- it was not sure, until an analyst or admin places it
-- (POST /api/review/{id}/resolve). Status: 'open'; 'resolved' by a
-- person; 'superseded' when the partner sent the record again and it was
-- placed automatically. At most one open item per incident.
CREATE TABLE review_queue (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident_id    bigint NOT NULL REFERENCES incidents (id) ON DELETE CASCADE,
    batch_id       bigint NOT NULL REFERENCES import_batches (id),
    raw            text NOT NULL,
    query          jsonb NOT NULL,
    location_text  text NOT NULL,
    geocode_status text NOT NULL,
    reason         text NOT NULL,
    candidates     jsonb NOT NULL DEFAULT '[]',
    status         text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved', 'superseded')),
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now(),
    resolved_at    timestamptz,
    resolved_by    text,
    resolution     jsonb,
    CHECK ((status = 'resolved') = (resolved_at IS NOT NULL))
);

CREATE UNIQUE INDEX review_queue_open_idx ON review_queue (incident_id) WHERE status = 'open';
CREATE INDEX review_queue_status_idx ON review_queue (status, id);
