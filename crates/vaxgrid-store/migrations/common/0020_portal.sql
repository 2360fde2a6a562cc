-- The resident portal: one-time codes, the counters that limit attempts,
-- and residents' sessions (apart from staff sessions: a resident holds no
-- account). Only hashes of codes and session ids are stored.
--
-- A challenge is made for every search, whether or not its details name a
-- record (`person_id` NULL then), so the answer cannot tell the two apart;
-- `record_key` is the SHA-256 of the details searched, which the
-- per-record limits count by.
CREATE TABLE portal_challenges (
    id          TEXT PRIMARY KEY,
    person_id   TEXT,
    record_key  TEXT NOT NULL,
    code_sha256 TEXT NOT NULL,
    language    TEXT NOT NULL,
    expires_at  BIGINT NOT NULL,
    attempts    BIGINT NOT NULL DEFAULT 0,
    used_at     BIGINT,
    created_at  BIGINT NOT NULL
);
CREATE INDEX portal_challenges_expiry ON portal_challenges(expires_at);
-- Fixed-window counters: searches and codes tried, per record key and per
-- address ('find:record:<sha>', 'code:address:<ip>', …).
CREATE TABLE portal_limits (
    key          TEXT PRIMARY KEY,
    hits         BIGINT NOT NULL,
    window_start BIGINT NOT NULL
);
CREATE TABLE resident_sessions (
    id_sha256  TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX resident_sessions_person ON resident_sessions(person_id);
