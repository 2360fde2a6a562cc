-- The data-quality report asks, for every person of an area, whether an
-- undecided pair names them on either side; `person_a` leads the primary
-- key, so the other side needs its own index.
CREATE INDEX duplicate_candidates_person_b ON duplicate_candidates(person_b);
