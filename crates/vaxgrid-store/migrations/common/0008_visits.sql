-- A person's visit to the vaccination table: its events in order (check-in,
-- screening, consent, dose, observation, adverse events) as JSON, replayed
-- through the visit state machine of vaxgrid-core; the outcome and the end
-- of observation are kept beside them for the site's live lists. `version`
-- makes concurrent updates of one visit fail instead of losing one.
CREATE TABLE visits (
    id                  TEXT PRIMARY KEY,
    person_id           TEXT NOT NULL,
    site_code           TEXT NOT NULL REFERENCES sites(code),
    product_code        TEXT NOT NULL REFERENCES products(code),
    appointment_id      TEXT,
    day                 TEXT NOT NULL,
    outcome             TEXT NOT NULL,
    -- Why the visit ended early, and until when a deferral holds.
    ended_reason        TEXT,
    deferred_until      TEXT,
    next_step           TEXT,
    observation_ends_at BIGINT,
    events              TEXT NOT NULL,
    version             BIGINT NOT NULL,
    created_at          BIGINT NOT NULL
);
CREATE INDEX visits_site_day ON visits(site_code, day);
CREATE INDEX visits_person ON visits(person_id);
-- A product's screening questionnaire, when it differs from the default.
CREATE TABLE screening_questionnaires (
    product_code TEXT PRIMARY KEY REFERENCES products(code),
    version      TEXT NOT NULL,
    questions    TEXT NOT NULL
);
-- Serious adverse events open an investigation; its causality (WHO
-- categories A1–A4, B1, B2, C, D) is set once assessed.
CREATE TABLE aefi_investigations (
    id        TEXT PRIMARY KEY,
    visit_id  TEXT NOT NULL REFERENCES visits(id),
    person_id TEXT NOT NULL,
    opened_at BIGINT NOT NULL,
    status    TEXT NOT NULL,
    causality TEXT,
    report    TEXT NOT NULL
);
