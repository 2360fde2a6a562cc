-- Staff training: classes on a topic (given by a trainer, over one or more
-- days), who attends them, the exams attendees take, and the certificates
-- a passed exam issues. A certificate is valid from `issued_on` to
-- `expires_on`, both included, unless revoked; a vaccinator records doses
-- only while holding a current certificate of the topic "vaccination".
CREATE TABLE training_classes (
    id         TEXT PRIMARY KEY,
    topic      TEXT NOT NULL,
    starts_on  TEXT NOT NULL,
    ends_on    TEXT NOT NULL,
    trainer    TEXT NOT NULL REFERENCES users(username),
    created_at BIGINT NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE TABLE training_attendees (
    class_id TEXT NOT NULL REFERENCES training_classes(id),
    username TEXT NOT NULL REFERENCES users(username),
    PRIMARY KEY (class_id, username)
);
CREATE TABLE training_exams (
    id         TEXT PRIMARY KEY,
    class_id   TEXT NOT NULL REFERENCES training_classes(id),
    username   TEXT NOT NULL REFERENCES users(username),
    score      BIGINT NOT NULL,
    pass_mark  BIGINT NOT NULL,
    passed     BIGINT NOT NULL,
    taken_on   TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    CHECK (score >= 0 AND score <= 100),
    CHECK (pass_mark >= 1 AND pass_mark <= 100),
    CHECK (passed IN (0, 1))
);
CREATE INDEX training_exams_user ON training_exams(username);
CREATE TABLE staff_certificates (
    id         TEXT PRIMARY KEY,
    username   TEXT NOT NULL REFERENCES users(username),
    topic      TEXT NOT NULL,
    issued_on  TEXT NOT NULL,
    expires_on TEXT NOT NULL,
    exam_id    TEXT NOT NULL REFERENCES training_exams(id),
    revoked    BIGINT NOT NULL DEFAULT 0,
    CHECK (expires_on >= issued_on),
    CHECK (revoked IN (0, 1))
);
CREATE INDEX staff_certificates_user_topic ON staff_certificates(username, topic, expires_on);
