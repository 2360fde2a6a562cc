-- Targets as plans write them (issue 16): a number of people beside a
-- percentage, what the percentage applies to (the priority groups or the
-- whole population: the planner's explicit choice), and a daily dose
-- target per campaign and area.
ALTER TABLE campaigns ADD COLUMN target_people BIGINT;
ALTER TABLE campaigns ADD COLUMN target_basis TEXT NOT NULL DEFAULT 'priority_groups';

CREATE TABLE daily_dose_targets (
    campaign_id   TEXT NOT NULL,
    area_code     TEXT NOT NULL,
    doses_per_day BIGINT NOT NULL,
    set_at        BIGINT NOT NULL,
    PRIMARY KEY (campaign_id, area_code)
);
