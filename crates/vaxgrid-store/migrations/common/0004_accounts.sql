-- Accounts: users with Argon2id password hashes, the roles they hold and
-- where, web sessions, machine tokens, and failed sign-ins (kept per user
-- name, known or not, so that a lockout says nothing about who exists).
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL UNIQUE,
    display_name  TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled      BIGINT NOT NULL DEFAULT 0,
    created_at    BIGINT NOT NULL
);
CREATE TABLE grants (
    user_id TEXT NOT NULL REFERENCES users(id),
    role    TEXT NOT NULL,
    scope   TEXT NOT NULL,
    PRIMARY KEY (user_id, role, scope)
);
-- Only hashes of secrets are stored: a copy of the database opens no door.
CREATE TABLE sessions (
    id_sha256  TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users(id),
    csrf       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen  BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE TABLE api_tokens (
    id           TEXT PRIMARY KEY,
    token_sha256 TEXT NOT NULL UNIQUE,
    user_id      TEXT NOT NULL REFERENCES users(id),
    name         TEXT NOT NULL,
    grants       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    revoked_at   BIGINT
);
CREATE TABLE login_failures (
    username     TEXT PRIMARY KEY,
    failures     BIGINT NOT NULL,
    locked_until BIGINT NOT NULL
);
