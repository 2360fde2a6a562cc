-- Campaigns (both backends): a
-- disease, its products, priority groups in order, a coverage target by a
-- date over an area; their waves; and the target handed down the area tree
-- (each area's part of its parent's target, proportional or fixed by hand).
-- Lists are JSON arrays of text.
CREATE TABLE campaigns (
    id                    TEXT PRIMARY KEY,
    name                  TEXT NOT NULL,
    disease               TEXT NOT NULL,
    area_code             TEXT NOT NULL REFERENCES areas(code),
    products              TEXT NOT NULL,
    priority_groups       TEXT NOT NULL,
    target_percent_tenths BIGINT NOT NULL,
    target_date           TEXT NOT NULL,
    min_age_years         BIGINT NOT NULL,
    created_at            BIGINT NOT NULL,
    CHECK (target_percent_tenths >= 0 AND target_percent_tenths <= 1000)
);
CREATE INDEX campaigns_area ON campaigns(area_code);
CREATE TABLE waves (
    id              TEXT PRIMARY KEY,
    campaign_id     TEXT NOT NULL REFERENCES campaigns(id),
    ordinal         BIGINT NOT NULL,
    name            TEXT NOT NULL,
    starts_on       TEXT NOT NULL,
    ends_on         TEXT NOT NULL,
    eligible_groups TEXT NOT NULL,
    UNIQUE (campaign_id, ordinal),
    CHECK (starts_on <= ends_on)
);
CREATE TABLE area_targets (
    campaign_id TEXT NOT NULL REFERENCES campaigns(id),
    area_code   TEXT NOT NULL REFERENCES areas(code),
    people      BIGINT NOT NULL,
    fixed       BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, area_code),
    CHECK (people >= 0 AND fixed IN (0, 1))
);
