-- Doses given by leaf area, product and dose number, all days together:
-- the dose figures of the dashboards and the home page read a few rows per
-- area here instead of one row per day in daily_dose_counters. Kept by the
-- dose writer in the same transaction as the other counters; starts as the
-- sum of the daily counters (which the writer already keeps equal to a
-- recount).
CREATE TABLE dose_counters (
    province_code TEXT NOT NULL,
    area_code     TEXT NOT NULL,
    area_path     TEXT COLLATE "C" NOT NULL,
    product_code  TEXT NOT NULL,
    dose_number   BIGINT NOT NULL,
    doses         BIGINT NOT NULL,
    PRIMARY KEY (province_code, area_code, product_code, dose_number)
);
CREATE INDEX dose_counters_path ON dose_counters(area_path);

INSERT INTO dose_counters (province_code, area_code, area_path, product_code, dose_number, doses)
SELECT province_code, area_code, MIN(area_path), product_code, dose_number, SUM(doses)
FROM daily_dose_counters
GROUP BY province_code, area_code, product_code, dose_number;
