-- Reorganisations of the area tree (merge, split, move) as dated events.
-- The tree, the persons, doses, counters, sites, targets and the rest are
-- re-keyed to the new tree when the event is recorded; the event keeps
-- the change as asked and, in `before`, the affected areas as they were
-- (row and figures), so reports before the date can be told as they were.
CREATE TABLE area_reorganisations (
    id           TEXT PRIMARY KEY,
    kind         TEXT NOT NULL,
    effective_on TEXT NOT NULL,
    recorded_at  BIGINT NOT NULL,
    actor        TEXT NOT NULL,
    reason       TEXT NOT NULL,
    change       TEXT NOT NULL,
    before       TEXT NOT NULL
);
CREATE INDEX area_reorganisations_effective ON area_reorganisations(effective_on, id);
