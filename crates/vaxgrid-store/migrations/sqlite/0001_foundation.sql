-- Foundation schema (SQLite). Kept in step with ../postgres/0001_foundation.sql:
-- the same tables, columns and keys; only types and collations differ.
-- Large tables carry province_code and include it in every primary key and
-- unique constraint, so the PostgreSQL twin can be distributed by province.

CREATE TABLE areas (
    code        TEXT PRIMARY KEY,
    parent_code TEXT REFERENCES areas(code),
    level       TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_en     TEXT NOT NULL,
    path        TEXT NOT NULL UNIQUE
);
CREATE INDEX areas_parent ON areas(parent_code, code);

CREATE TABLE products (
    code                      TEXT PRIMARY KEY,
    name                      TEXT NOT NULL,
    manufacturer              TEXT NOT NULL,
    platform                  TEXT NOT NULL,
    dcc_mp                    TEXT NOT NULL,
    dcc_ma                    TEXT NOT NULL,
    dcc_vp                    TEXT NOT NULL,
    cvx                       TEXT,
    doses_in_series           BIGINT NOT NULL,
    min_interval_days         BIGINT NOT NULL,
    recommended_interval_days BIGINT NOT NULL,
    doses_per_vial            BIGINT NOT NULL,
    storage_min_c             BIGINT NOT NULL,
    storage_max_c             BIGINT NOT NULL,
    open_vial_discard_hours   BIGINT NOT NULL,
    min_age_years             BIGINT NOT NULL
);

CREATE TABLE lots (
    product_code TEXT NOT NULL REFERENCES products(code),
    lot_number   TEXT NOT NULL,
    expiry       TEXT NOT NULL,
    status       TEXT NOT NULL,
    doses        BIGINT NOT NULL,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (product_code, lot_number)
);

CREATE TABLE sites (
    code           TEXT PRIMARY KEY,
    name           TEXT NOT NULL,
    kind           TEXT NOT NULL,
    area_code      TEXT NOT NULL REFERENCES areas(code),
    stations       BIGINT NOT NULL,
    daily_capacity BIGINT NOT NULL
);
CREATE INDEX sites_area ON sites(area_code);

CREATE TABLE persons (
    province_code   TEXT NOT NULL,
    id              TEXT NOT NULL,
    id_type         TEXT NOT NULL,
    id_number       TEXT NOT NULL,
    full_name       TEXT NOT NULL,
    folded_name     TEXT NOT NULL,
    birth_date      TEXT NOT NULL,
    sex             TEXT NOT NULL,
    phone           TEXT,
    home_area       TEXT NOT NULL REFERENCES areas(code),
    area_path       TEXT NOT NULL,
    commune_code    TEXT NOT NULL,
    occupation      TEXT,
    priority_groups TEXT NOT NULL,
    merged_into     TEXT,
    created_at      BIGINT NOT NULL,
    -- Keys lead with the column lookups use (id; id_number) and still
    -- include province_code, as distribution by province requires; so no
    -- separate index on id or id_number is needed.
    PRIMARY KEY (id, province_code),
    UNIQUE (id_number, id_type, province_code)
);
CREATE INDEX persons_phone ON persons(phone);
CREATE INDEX persons_duplicate_key ON persons(folded_name, birth_date, commune_code);
CREATE INDEX persons_area_path ON persons(area_path, id);
-- Partial: almost every row is NULL here, and a full index of NULLs makes
-- the planners (with statistics) prefer a table scan for `merged_into IN …`.
CREATE INDEX persons_merged_into ON persons(merged_into) WHERE merged_into IS NOT NULL;

-- Dose records are append-only: a correction is a new row of kind
-- 'entered_in_error' pointing at the dose it voids.
CREATE TABLE doses (
    province_code   TEXT NOT NULL,
    id              TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    corrects_id     TEXT,
    product_code    TEXT NOT NULL,
    lot_number      TEXT NOT NULL,
    site_code       TEXT NOT NULL,
    dose_number     BIGINT NOT NULL,
    administered_on TEXT NOT NULL,
    vaccinator      TEXT,
    override_reason TEXT,
    reason          TEXT,
    author          TEXT,
    area_code       TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    body_hash       TEXT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX doses_person ON doses(person_id, administered_on);
CREATE INDEX doses_corrects ON doses(corrects_id) WHERE corrects_id IS NOT NULL;

-- Counters maintained in the dose transaction (see vaxgrid-core::coverage).
CREATE TABLE coverage_counters (
    province_code  TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    area_path      TEXT NOT NULL,
    product_code   TEXT NOT NULL,
    priority_group TEXT NOT NULL,
    at_least_one   BIGINT NOT NULL,
    completed      BIGINT NOT NULL,
    PRIMARY KEY (province_code, area_code, product_code, priority_group)
);
CREATE INDEX coverage_counters_path ON coverage_counters(area_path);

CREATE TABLE population_counters (
    province_code  TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    area_path      TEXT NOT NULL,
    priority_group TEXT NOT NULL,
    population     BIGINT NOT NULL,
    PRIMARY KEY (province_code, area_code, priority_group)
);
CREATE INDEX population_counters_path ON population_counters(area_path);

CREATE TABLE daily_dose_counters (
    province_code TEXT NOT NULL,
    area_code     TEXT NOT NULL,
    area_path     TEXT NOT NULL,
    product_code  TEXT NOT NULL,
    dose_number   BIGINT NOT NULL,
    day           TEXT NOT NULL,
    doses         BIGINT NOT NULL,
    PRIMARY KEY (province_code, area_code, product_code, dose_number, day)
);
CREATE INDEX daily_dose_counters_path ON daily_dose_counters(area_path, day);

-- Append-only audit trail; each row carries the hash of the previous one.
CREATE TABLE audit_log (
    seq       BIGINT PRIMARY KEY,
    at        BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    address   TEXT,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    details   TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash      TEXT NOT NULL
);
