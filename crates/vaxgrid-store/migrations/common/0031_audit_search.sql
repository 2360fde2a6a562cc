-- The administration's audit log page filters by actor, by record
-- (entity and id) and by date, newest first, a page at a time: an index
-- for each, so a filtered page reads its rows, not the whole chain.
CREATE INDEX IF NOT EXISTS audit_log_actor ON audit_log(actor, seq);
CREATE INDEX IF NOT EXISTS audit_log_entity ON audit_log(entity, entity_id, seq);
CREATE INDEX IF NOT EXISTS audit_log_at ON audit_log(at);
