-- Users, their browser sessions and API tokens, failed sign-ins for rate
-- limiting, and the audit log. geo/auth owns every statement that touches
-- these tables.
--
-- Nothing secret is stored in a form that can be used as it is: passwords
-- are argon2id PHC strings (the parameters travel in the string, so they
-- can be raised later and old hashes still verify); session ids and API
-- token secrets are stored as their SHA-256, so a copy of this database
-- does not hand out live sessions or tokens. A session's CSRF token is
-- stored as it is: it is not a credential on its own, and the page needs
-- it back.
--
-- Time is always the database's now(), so several server instances behind
-- a load balancer agree on expiry and on the rate limit's window.

CREATE TABLE users (
    id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name          text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9._-]{1,62}$'),
    role          text NOT NULL CHECK (role IN ('police', 'analyst', 'admin')),
    password_hash text NOT NULL CHECK (password_hash LIKE '$argon2id$%'),
    created_at    timestamptz NOT NULL DEFAULT now(),
    password_changed_at timestamptz NOT NULL DEFAULT now(),
    last_login_at timestamptz,
    -- Users are disabled, never deleted, so the audit log's actors stay
    -- meaningful.
    disabled_at   timestamptz
);

-- One row per signed-in browser. The cookie holds the id; the table holds
-- its SHA-256. expires_at is the absolute expiry (12 h after sign-in);
-- last_seen_at drives the idle expiry (2 h), and is refreshed at most once
-- a minute so that tile requests do not each write a row.
CREATE TABLE sessions (
    id_hash      bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
    user_id      bigint NOT NULL REFERENCES users (id),
    csrf_token   text NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    last_seen_at timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz NOT NULL,
    remote_addr  text NOT NULL DEFAULT ''
);

CREATE INDEX sessions_user_idx ON sessions (user_id);
CREATE INDEX sessions_expires_idx ON sessions (expires_at);

-- API tokens for machines (partner ingest). A token acts with its user's
-- role, restricted to its scopes. The secret is shown once, at creation.
CREATE TABLE api_tokens (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id      bigint NOT NULL REFERENCES users (id),
    label        text NOT NULL DEFAULT '',
    secret_hash  bytea NOT NULL UNIQUE CHECK (octet_length(secret_hash) = 32),
    scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0 AND scopes <@ ARRAY['ingest', 'read']),
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    last_used_at timestamptz,
    revoked_at   timestamptz
);

CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Sign-in attempts that failed, or are still being checked: a row is
-- written before the password is verified and removed if the attempt
-- succeeds or is refused, so attempts running at the same moment count
-- against each other too. Counted per user name and per client address
-- over a sliding window.
CREATE TABLE login_failures (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_name   text NOT NULL,
    remote_addr text NOT NULL,
    at          timestamptz NOT NULL DEFAULT clock_timestamp()
);

CREATE INDEX login_failures_user_idx ON login_failures (user_name, at);
CREATE INDEX login_failures_addr_idx ON login_failures (remote_addr, at);
CREATE INDEX login_failures_at_idx ON login_failures (at);

-- Who did what, when, from where: sign-ins (both outcomes), sign-outs,
-- imports, exports and every change to users and tokens. Append-only by
-- convention; detail holds what the action needs (a file name, a token id,
-- a reason) and never a password or a token secret.
CREATE TABLE audit_log (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    at          timestamptz NOT NULL DEFAULT clock_timestamp(),
    actor       text NOT NULL,
    action      text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}',
    remote_addr text NOT NULL DEFAULT ''
);

CREATE INDEX audit_log_at_idx ON audit_log (at);
CREATE INDEX audit_log_actor_idx ON audit_log (actor, at);
