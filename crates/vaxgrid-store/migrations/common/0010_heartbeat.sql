-- One row the readiness probe (`GET /readyz`) rewrites and commits: a
-- database that cannot be written (read-only, full, locked, unreachable)
-- fails the probe instead of answering healthy.
CREATE TABLE IF NOT EXISTS heartbeat (
    id BIGINT PRIMARY KEY,
    beat_at BIGINT NOT NULL
);
