-- A province's isolation rule per class (F1, F2, F3) and vaccination
-- status: days at a facility, days at home, and the days tests are due
-- (the JSON of `core::outbreak::isolation::Policy`). A province without a
-- row uses the default policy. One row per province: reference data.
CREATE TABLE isolation_policies (
    province_code TEXT PRIMARY KEY,
    policy        TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    updated_at    BIGINT NOT NULL
);
