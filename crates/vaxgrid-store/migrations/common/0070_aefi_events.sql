-- Adverse events following immunization as reported at the vaccination
-- table, one row each beside the visit that keeps the event as sent, with
-- what safety reports count them by: the dose they follow (product, lot,
-- site, the person's home area when it was given, its day), severity,
-- seriousness, outcome and the treatment given. A death or hospitalisation
-- is serious (vaxgrid-core::aefi), and the table refuses it otherwise.
-- Reports join `areas` on area_code for the subtree, so a row needs no path.
CREATE TABLE aefi_events (
    province_code    TEXT NOT NULL,
    id               TEXT NOT NULL,
    visit_id         TEXT NOT NULL,
    person_id        TEXT NOT NULL,
    dose_id          TEXT NOT NULL,
    product_code     TEXT NOT NULL,
    lot_number       TEXT NOT NULL,
    site_code        TEXT NOT NULL,
    area_code        TEXT NOT NULL,
    dose_on          TEXT NOT NULL,
    onset            TEXT NOT NULL,
    severity         TEXT NOT NULL,
    serious          BIGINT NOT NULL,
    outcome          TEXT NOT NULL,
    treatment        TEXT,
    symptoms         TEXT NOT NULL,
    investigation_id TEXT,
    recorded_at      BIGINT NOT NULL,
    PRIMARY KEY (id, province_code),
    CHECK (serious IN (0, 1)),
    CHECK (severity IN ('mild', 'moderate', 'severe')),
    CHECK (outcome IN ('recovered', 'recovered_with_sequelae', 'hospitalised', 'death', 'unknown')),
    CHECK (serious = 1 OR outcome NOT IN ('hospitalised', 'death'))
);
CREATE INDEX aefi_events_area_day ON aefi_events(area_code, dose_on);
