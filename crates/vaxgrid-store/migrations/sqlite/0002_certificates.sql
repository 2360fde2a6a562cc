-- Issued EU DCC certificates (SQLite). Kept in step with ../postgres/0002_certificates.sql.
-- A certificate is revoked when its dose has an entered-in-error record; the
-- published revocation list holds SHA-256 hashes of the revoked UVCIs.
CREATE TABLE certificates (
    province_code TEXT NOT NULL,
    uvci          TEXT NOT NULL,
    uvci_sha256   TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    dose_id       TEXT NOT NULL,
    kid           TEXT NOT NULL,
    issued_at     BIGINT NOT NULL,
    PRIMARY KEY (uvci, province_code)
);
CREATE INDEX certificates_dose ON certificates(dose_id);
CREATE INDEX certificates_hash ON certificates(uvci_sha256);
