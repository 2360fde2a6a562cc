-- A person's identifiers beyond the national document kept on their row
-- (persons.id_type, id_number; 'none' when they have none): a passport with
-- its country, a partner system's medical record number with that system as
-- authority, insurance and birth certificate numbers. Large (about one row
-- per person a partner sends), distributed by province like persons; the
-- key leads with what lookups give (type, authority, value), so it is the
-- lookup index, and `authority` is '' when the type needs none and none was
-- given, so the key is a plain unique key on both backends. Unique within a
-- province here; the store looks in every province before it registers.
CREATE TABLE person_identifiers (
    province_code TEXT NOT NULL,
    id_type       TEXT NOT NULL,
    authority     TEXT NOT NULL,
    value         TEXT NOT NULL,
    person_id     TEXT NOT NULL,
    created_at    BIGINT NOT NULL,
    PRIMARY KEY (id_type, authority, value, province_code)
);
CREATE INDEX person_identifiers_person ON person_identifiers(person_id);
-- A search by a value alone (a number read out at the counter).
CREATE INDEX person_identifiers_value ON person_identifiers(value);

-- Persons registered without any document of identity (no national ID,
-- passport, insurance or birth certificate: only a name, a birth date, a
-- sex, a home area, and for a child a guardian), kept for follow-up until
-- a document is recorded. One row per person, distributed with persons.
CREATE TABLE identity_follow_ups (
    province_code  TEXT NOT NULL,
    person_id      TEXT NOT NULL,
    reason         TEXT NOT NULL,
    guardian_name  TEXT,
    guardian_phone TEXT,
    guardian_relationship TEXT,
    created_at     BIGINT NOT NULL,
    resolved_at    BIGINT,
    PRIMARY KEY (person_id, province_code)
);
CREATE INDEX identity_follow_ups_open ON identity_follow_ups(person_id) WHERE resolved_at IS NULL;
