-- Staff at scale (both backends): the invitation a new account gets
-- instead of a generated password (its SHA-256 only; redeemed once by
-- choosing a password), and an index for headcounts of staff per site.
CREATE TABLE invitations (
    token_sha256 TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users(id),
    created_at   BIGINT NOT NULL,
    used_at      BIGINT
);
CREATE INDEX invitations_user ON invitations(user_id);
CREATE INDEX grants_scope_role ON grants(scope, role);
