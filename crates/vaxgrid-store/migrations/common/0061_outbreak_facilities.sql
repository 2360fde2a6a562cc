-- Treatment facilities and their beds, admissions of cases, and the
-- rapid-response, ambulance and specialist teams with their assignments
-- (issue 19, item 4; source article 003). Dates are `YYYY-MM-DD` text,
-- instants microseconds since the epoch.

-- A facility that treats cases: its region (east / centre / west of
-- Quảng Ninh in article 003), beds per tier (severe-critical includes the
-- intensive-care beds), and the stage at which it opens (cumulative
-- confirmed cases of its province). `activated_on` is NULL until it is
-- activated; only an activated facility admits. A handful per province:
-- reference data, like the laboratories.
CREATE TABLE treatment_facilities (
    code                 TEXT PRIMARY KEY,
    name                 TEXT NOT NULL,
    area_code            TEXT NOT NULL REFERENCES areas(code),
    province_code        TEXT NOT NULL,
    region               TEXT NOT NULL,
    mild_moderate_beds   BIGINT NOT NULL CHECK (mild_moderate_beds >= 0),
    severe_critical_beds BIGINT NOT NULL CHECK (severe_critical_beds >= 0),
    icu_beds             BIGINT NOT NULL CHECK (icu_beds >= 0 AND icu_beds <= severe_critical_beds),
    activate_at_cases    BIGINT NOT NULL CHECK (activate_at_cases >= 0),
    activated_on         TEXT,
    created_at           BIGINT NOT NULL
);
CREATE INDEX treatment_facilities_province ON treatment_facilities(province_code, region);

-- A case admitted to a facility's tier, and discharged (NULL: still
-- there). A stay occupies its bed from admission up to the day before
-- discharge. The province and area path are the person's.
CREATE TABLE facility_admissions (
    province_code  TEXT NOT NULL,
    id             TEXT NOT NULL,
    facility_code  TEXT NOT NULL REFERENCES treatment_facilities(code),
    person_id      TEXT NOT NULL,
    area_path      TEXT NOT NULL,
    tier           TEXT NOT NULL,
    admitted_on    TEXT NOT NULL,
    discharged_on  TEXT,
    discharge_reason TEXT,
    recorded_by    TEXT NOT NULL,
    recorded_at    BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX facility_admissions_facility ON facility_admissions(facility_code, discharged_on);
CREATE INDEX facility_admissions_person ON facility_admissions(person_id);

-- Rapid-response, ambulance and specialist teams (article 003: 16
-- rapid-response and 26 ambulance teams), based at an area.
CREATE TABLE response_teams (
    code        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    area_code   TEXT NOT NULL REFERENCES areas(code),
    members     BIGINT NOT NULL CHECK (members >= 1),
    created_at  BIGINT NOT NULL
);

-- A team's assignment from a day (to a day, or open): to a facility, to an
-- area, or to a case (an ambulance fetching a patient: many a day in a
-- surge). Keyed by the team's province.
CREATE TABLE team_assignments (
    province_code  TEXT NOT NULL,
    id             TEXT NOT NULL,
    team_code      TEXT NOT NULL REFERENCES response_teams(code),
    facility_code  TEXT REFERENCES treatment_facilities(code),
    area_code      TEXT REFERENCES areas(code),
    case_person_id TEXT,
    from_on        TEXT NOT NULL,
    to_on          TEXT,
    recorded_by    TEXT NOT NULL,
    recorded_at    BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX team_assignments_team ON team_assignments(team_code, from_on);
