-- Likely duplicate records, found by the duplicate finder (same ID number
-- under another type or province; same folded name, birth date and
-- commune) and kept until someone decides: merged (the pair disappears with
-- the merged-away record) or "not the same person" (kept, so the finder
-- never proposes the pair again). `person_a` < `person_b` always.
CREATE TABLE duplicate_candidates (
    person_a        TEXT NOT NULL,
    person_b        TEXT NOT NULL,
    reason          TEXT NOT NULL CHECK (reason IN ('id_number', 'name_birth_area')),
    area_path       TEXT NOT NULL,
    found_at        BIGINT NOT NULL,
    decision        TEXT CHECK (decision IN ('not_duplicate')),
    decided_by      TEXT,
    decided_at      BIGINT,
    decision_reason TEXT,
    PRIMARY KEY (person_a, person_b)
);
CREATE INDEX duplicate_candidates_open ON duplicate_candidates(area_path, person_a) WHERE decision IS NULL;
