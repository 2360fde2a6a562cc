-- Two indexes the dose writer paid for on every commit, measured as WAL
-- pages per commit of 64 doses (docs/benchmarks.md, "WAL pages by
-- b-tree"):
--
-- `daily_dose_counters_province_day` held `doses`, the column each batch
-- increments: every increment moved its entry (3.9 pages per commit on
-- SQLite; on PostgreSQL no update of the counters was HOT). Keyed by
-- province and day only, the home page's 120-day chart still reads only
-- the window's rows, and the increments leave the index alone.
DROP INDEX daily_dose_counters_province_day;
CREATE INDEX daily_dose_counters_province_day ON daily_dose_counters(province_code, day);

-- `doses_first_by_day` (0078) repeated `doses_product_day` for first
-- doses (3.8 pages per commit when most doses are first doses). One index
-- by product, dose number and day serves the reminders' window of every
-- dose number, first doses included, with one entry per dose. Building it
-- reads the whole `doses` table once (on PostgreSQL, writes to `doses`
-- wait meanwhile: see docs/operations.md, "Upgrades").
DROP INDEX doses_first_by_day;
DROP INDEX doses_product_day;
CREATE INDEX doses_product_number_day ON doses(product_code, dose_number, administered_on);
