-- Certificates revoked in bulk (both backends): by lot (a recall) or by
-- site and day (a session whose doses are in doubt), with the reason and
-- who revoked them. One row per certificate; the published revocation
-- list is these hashes together with those of certificates whose dose was
-- entered in error. Nothing is deleted: a revocation is final.
CREATE TABLE certificate_revocations (
    province_code TEXT NOT NULL,
    uvci          TEXT NOT NULL,
    uvci_sha256   TEXT NOT NULL,
    dose_id       TEXT NOT NULL,
    basis         TEXT NOT NULL,
    reason        TEXT NOT NULL,
    actor         TEXT NOT NULL,
    revoked_at    BIGINT NOT NULL,
    PRIMARY KEY (uvci, province_code)
);
CREATE INDEX certificate_revocations_hash ON certificate_revocations(uvci_sha256);
