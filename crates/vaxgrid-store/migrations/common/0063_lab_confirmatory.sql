-- A confirmatory test (a positive pool's re-test of one member, or a
-- single test made to confirm a case) runs against the laboratory's
-- confirmatory capacity (`confirmatory_per_day`), not its screening runs.
ALTER TABLE lab_tests ADD COLUMN confirmatory BIGINT NOT NULL DEFAULT 0;
