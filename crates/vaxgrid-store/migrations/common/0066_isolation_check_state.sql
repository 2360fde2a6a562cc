-- Each isolation's latest check, kept on its row in the same transaction
-- as the check, so that the team's daily list and the alert list read a
-- province's isolations in one scan of `isolations` instead of probing
-- `isolation_checks` two or three times a person:
--   last_check_day  the latest day checked (NULL: never checked);
--   home_checks     checks on days at home (day >= home_from);
--   last_danger     1 when the latest check raised an alert.
-- A list read for a day before `last_check_day` (a past day, with later
-- checks recorded) still asks `isolation_checks`.
ALTER TABLE isolations ADD COLUMN last_check_day TEXT;
ALTER TABLE isolations ADD COLUMN home_checks BIGINT NOT NULL DEFAULT 0;
ALTER TABLE isolations ADD COLUMN last_danger BIGINT NOT NULL DEFAULT 0;
UPDATE isolations SET
    last_check_day = (SELECT MAX(c.day) FROM isolation_checks c
        WHERE c.isolation_id = isolations.id AND c.province_code = isolations.province_code),
    home_checks = (SELECT COUNT(*) FROM isolation_checks c
        WHERE c.isolation_id = isolations.id AND c.province_code = isolations.province_code
        AND c.day >= isolations.home_from),
    last_danger = COALESCE((SELECT CASE WHEN c.alerts <> '[]' THEN 1 ELSE 0 END
        FROM isolation_checks c
        WHERE c.isolation_id = isolations.id AND c.province_code = isolations.province_code
        ORDER BY c.day DESC LIMIT 1), 0);
