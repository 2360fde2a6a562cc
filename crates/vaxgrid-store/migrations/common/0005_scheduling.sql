-- Sessions of a site (a day's opening hours; at a village for a mobile
-- team), their time slots with capacity, and appointments. A slot's
-- `booked` only grows by a conditional update (`booked < capacity`), so no
-- concurrency can overbook it; the CHECK is the last guard.
CREATE TABLE vaccination_sessions (
    id                   TEXT PRIMARY KEY,
    site_code            TEXT NOT NULL REFERENCES sites(code),
    day                  TEXT NOT NULL,
    opens                TEXT NOT NULL,
    closes               TEXT NOT NULL,
    stations             BIGINT NOT NULL,
    per_station_per_hour BIGINT NOT NULL,
    slot_minutes         BIGINT NOT NULL,
    village_code         TEXT REFERENCES areas(code),
    created_at           BIGINT NOT NULL
);
CREATE INDEX vaccination_sessions_site_day ON vaccination_sessions(site_code, day);
CREATE TABLE slots (
    session_id TEXT NOT NULL REFERENCES vaccination_sessions(id),
    starts_at  TEXT NOT NULL,
    capacity   BIGINT NOT NULL,
    booked     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (session_id, starts_at),
    CHECK (booked >= 0 AND booked <= capacity)
);
CREATE TABLE appointments (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    session_id TEXT NOT NULL REFERENCES vaccination_sessions(id),
    starts_at  TEXT NOT NULL,
    status     TEXT NOT NULL,
    booked_by  TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    changed_at BIGINT NOT NULL
);
CREATE INDEX appointments_person ON appointments(person_id, status);
CREATE INDEX appointments_session ON appointments(session_id, starts_at);
-- The functional zones of a site, in the order people pass them
-- (temperature check, registration, screening, vaccination, observation,
-- treatment of reactions).
CREATE TABLE site_zones (
    site_code TEXT NOT NULL REFERENCES sites(code),
    ordinal   BIGINT NOT NULL,
    kind      TEXT NOT NULL,
    name      TEXT NOT NULL,
    places    BIGINT NOT NULL,
    PRIMARY KEY (site_code, ordinal)
);
