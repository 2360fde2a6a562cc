-- Reminders to residents (a due next dose, a missed appointment), written
-- in the person's language and sent from this outbox by a pluggable sender.
-- UNIQUE (kind, subject) makes a reminder exist at most once whoever
-- generates it, however often; a message is claimed (`next_attempt_at`
-- moved forward) before it is sent, and retried on failure until it is
-- `sent` or given up (`failed`).
CREATE TABLE outbox (
    id              TEXT PRIMARY KEY,
    person_id       TEXT COLLATE "C" NOT NULL,
    kind            TEXT NOT NULL,
    subject         TEXT COLLATE "C" NOT NULL,
    language        TEXT NOT NULL,
    phone           TEXT,
    message         TEXT NOT NULL,
    status          TEXT NOT NULL,
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error      TEXT,
    created_at      BIGINT NOT NULL,
    sent_at         BIGINT,
    UNIQUE (kind, subject)
);
CREATE INDEX outbox_pending ON outbox(status, next_attempt_at);
CREATE INDEX outbox_person ON outbox(person_id, created_at);
-- The doses whose next dose falls due in a window of days, per product.
CREATE INDEX doses_product_day ON doses(product_code, administered_on);
-- Recent no-shows.
CREATE INDEX appointments_status ON appointments(status, changed_at);
