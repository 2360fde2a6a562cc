-- Places held for a few minutes while a resident confirms a booking. A
-- hold takes its place in the slot (`held`) by the same conditional update
-- as a booking (`booked + held < capacity`), so holds and bookings together
-- never pass capacity; an expired hold gives its place back when the slot
-- is next written, or by the sweep.
ALTER TABLE slots ADD COLUMN held BIGINT NOT NULL DEFAULT 0;
ALTER TABLE slots ADD CONSTRAINT slots_held_fits CHECK (held >= 0 AND booked + held <= capacity);
CREATE TABLE slot_holds (
    id         TEXT PRIMARY KEY,
    person_id  TEXT NOT NULL,
    session_id TEXT NOT NULL,
    starts_at  TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX slot_holds_slot ON slot_holds(session_id, starts_at, expires_at);
CREATE INDEX slot_holds_expiry ON slot_holds(expires_at);
CREATE INDEX slot_holds_person ON slot_holds(person_id);
