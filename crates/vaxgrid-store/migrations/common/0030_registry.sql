-- The registry pages read a person's certificates by person (the record
-- shows each one, and whether its dose was since entered in error).
CREATE INDEX IF NOT EXISTS certificates_person ON certificates(person_id);
