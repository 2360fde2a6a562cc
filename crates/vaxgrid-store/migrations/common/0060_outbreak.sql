-- Outbreak response (source article 003): confirmed cases, contact links,
-- the classes derived from them, isolation with daily checks, and
-- laboratories with their samples and tests. Dates are `YYYY-MM-DD` text,
-- instants microseconds since the epoch, ids UUID text. Every large table
-- carries the province of the person it is about (and that person's area
-- path, which the access checks and the area lists read) in its keys.

-- A person confirmed as a case (F0). A reversed test keeps the row with
-- status 'reversed' (what happened stays readable); confirming again
-- turns it back to 'confirmed'.
CREATE TABLE outbreak_cases (
    province_code TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    area_path     TEXT NOT NULL,
    status        TEXT NOT NULL,
    onset_on      TEXT,
    confirmed_on  TEXT NOT NULL,
    test_kind     TEXT NOT NULL,
    severity      TEXT NOT NULL,
    treated_at    TEXT,
    outcome       TEXT NOT NULL,
    recovered_on  TEXT,
    reversed_reason TEXT,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (person_id, province_code)
);
CREATE INDEX outbreak_cases_area ON outbreak_cases(area_path, status);

-- One exposure: `contact_person_id` met `source_person_id`. Close contact
-- is mutual: the graph follows a link both ways, so both ends are indexed.
-- The province is the contact's.
CREATE TABLE outbreak_contacts (
    province_code     TEXT NOT NULL,
    id                TEXT NOT NULL,
    source_person_id  TEXT NOT NULL,
    contact_person_id TEXT NOT NULL,
    area_path         TEXT NOT NULL,
    exposure_on       TEXT NOT NULL,
    setting           TEXT NOT NULL,
    recorded_by       TEXT NOT NULL,
    recorded_at       BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX outbreak_contacts_source ON outbreak_contacts(source_person_id);
CREATE INDEX outbreak_contacts_contact ON outbreak_contacts(contact_person_id);

-- The class of every person within three links of a confirmed case
-- (distance 0 to 3): derived from the two tables above by the store after
-- every change, never written by hand. A person without a row has no class.
CREATE TABLE outbreak_classes (
    province_code TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    area_path     TEXT NOT NULL,
    distance      BIGINT NOT NULL,
    PRIMARY KEY (person_id, province_code)
);
CREATE INDEX outbreak_classes_area ON outbreak_classes(area_path, distance);

-- A contact's isolation, planned by the policy from its class and
-- vaccination status: facility days then home days.
CREATE TABLE isolations (
    province_code  TEXT NOT NULL,
    id             TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    area_path      TEXT NOT NULL,
    class          TEXT NOT NULL,
    vaccinated     BIGINT NOT NULL,
    home_possible  BIGINT NOT NULL,
    facility_name  TEXT,
    start_on       TEXT NOT NULL,
    facility_from  TEXT,
    facility_to    TEXT,
    home_from      TEXT,
    home_to        TEXT,
    last_day       TEXT NOT NULL,
    tests_due      TEXT NOT NULL,
    recorded_by    TEXT NOT NULL,
    recorded_at    BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX isolations_person ON isolations(person_id, last_day);
CREATE INDEX isolations_area ON isolations(area_path, last_day);

-- The team's daily check of one isolated person; `alerts` is the JSON list
-- the rules raised (absent, fever, low_spo2, danger_symptom).
CREATE TABLE isolation_checks (
    province_code  TEXT NOT NULL,
    isolation_id   TEXT NOT NULL,
    day            TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    area_path      TEXT NOT NULL,
    present        BIGINT NOT NULL,
    temperature_tenths BIGINT,
    spo2           BIGINT,
    symptoms       TEXT NOT NULL,
    alerts         TEXT NOT NULL,
    checked_by     TEXT NOT NULL,
    recorded_at    BIGINT NOT NULL,
    PRIMARY KEY (isolation_id, day, province_code)
);
CREATE INDEX isolation_checks_area ON isolation_checks(area_path, day);

-- Laboratories and their daily capacity: single PCR runs (a pool is one
-- run), confirmatory tests, and the largest pool they take.
CREATE TABLE laboratories (
    code              TEXT PRIMARY KEY,
    name              TEXT NOT NULL,
    area_code         TEXT NOT NULL REFERENCES areas(code),
    single_per_day    BIGINT NOT NULL CHECK (single_per_day >= 0),
    confirmatory_per_day BIGINT NOT NULL CHECK (confirmatory_per_day >= 0),
    max_pool          BIGINT NOT NULL CHECK (max_pool >= 1),
    created_at        BIGINT NOT NULL
);

-- A sample taken from a person, sent to a laboratory. `state` is
-- collected (waiting for a test), in_test (`test_id` is its pending test)
-- or resulted (`outcome`, from `test_id`).
CREATE TABLE samples (
    province_code TEXT NOT NULL,
    id            TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    area_path     TEXT NOT NULL,
    lab_code      TEXT NOT NULL REFERENCES laboratories(code),
    collected_on  TEXT NOT NULL,
    state         TEXT NOT NULL,
    test_id       TEXT,
    outcome       TEXT,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX samples_lab ON samples(lab_code, state);
CREATE INDEX samples_person ON samples(person_id);

-- One PCR run at a laboratory: a pool (several samples) or a single test
-- (a re-test of a positive pool's member names the pool). Its samples are
-- in `lab_test_samples`. The laboratory's province keys it.
CREATE TABLE lab_tests (
    province_code TEXT NOT NULL,
    id            TEXT NOT NULL,
    lab_code      TEXT NOT NULL REFERENCES laboratories(code),
    seq           BIGINT NOT NULL,
    size          BIGINT NOT NULL,
    retest_of     TEXT,
    outcome       TEXT,
    created_on    TEXT NOT NULL,
    resulted_on   TEXT,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX lab_tests_queue ON lab_tests(lab_code, outcome, seq);

CREATE TABLE lab_test_samples (
    province_code TEXT NOT NULL,
    test_id       TEXT NOT NULL,
    sample_id     TEXT NOT NULL,
    PRIMARY KEY (test_id, sample_id, province_code)
);
CREATE INDEX lab_test_samples_sample ON lab_test_samples(sample_id);
