-- Vaccinations with vaccines outside the campaign catalogue that partner
-- systems send (a child's measles dose, a traveller's yellow fever): kept
-- as history, so a partner's full record comes through, and counted
-- nowhere (no coverage counter, no certificate, no schedule rule). A known
-- CVX code and a date, the sender's lot when given. The id is derived from
-- the sender's identifiers, so a message sent twice keeps one row. Rows
-- are never updated: a withdrawn record gets a row of kind
-- 'entered_in_error' naming it (`corrects_id`), as doses do. About one row
-- per partner vaccination, distributed with the person.
CREATE TABLE other_vaccinations (
    province_code   TEXT NOT NULL,
    id              TEXT NOT NULL,
    person_id       TEXT NOT NULL,
    kind            TEXT NOT NULL,
    corrects_id     TEXT,
    cvx             TEXT NOT NULL,
    administered_on TEXT NOT NULL,
    lot_number      TEXT,
    source          TEXT NOT NULL,
    sender          TEXT NOT NULL,
    body_hash       TEXT NOT NULL,
    recorded_at     BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX other_vaccinations_person ON other_vaccinations(person_id);
