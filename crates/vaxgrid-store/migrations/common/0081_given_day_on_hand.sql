-- The ledger's line of today's doses given moves onto the on-hand row.
-- Since 0079 the dose writer kept two rows per store × lot it took doses
-- from in a batch: the on-hand counter and the day's line in
-- `stock_given_daily`. On PostgreSQL every row a batch changes is a new
-- row version, and upserting the day's lines cost the writer about as
-- much as decrementing the counters (docs/benchmarks.md). Now the on-hand
-- row carries the day being given (`given_day`), its doses so far and the
-- instant of the last one; the dose writer changes that one row. When a
-- batch on a later day takes from the row, it moves the finished day into
-- `stock_given_daily` first (once per store × lot and day), so that table
-- holds the finished days and the on-hand row the current one.
ALTER TABLE stock_on_hand ADD COLUMN given_day TEXT;
ALTER TABLE stock_on_hand ADD COLUMN given_day_doses BIGINT NOT NULL DEFAULT 0;
ALTER TABLE stock_on_hand ADD COLUMN given_day_at BIGINT NOT NULL DEFAULT 0;

-- The doses given per store × lot × UTC day, wherever the line is kept.
-- Rows, not sums: a day a batch closed can meet the same day open again
-- on the on-hand row (two servers whose clocks disagree about the day),
-- so readers sum by key; a condition on store or day reaches both
-- tables' keys.
CREATE VIEW stock_given_by_day AS
SELECT province_code, store_code, product_code, lot_number, day, given, updated_at
FROM stock_given_daily
UNION ALL
SELECT province_code, store_code, product_code, lot_number, given_day, given_day_doses, given_day_at
FROM stock_on_hand WHERE given_day_doses > 0;

-- What days of supply and the wastage rate read (see 0079), now with the
-- day's line from wherever it is kept.
DROP VIEW stock_consumed;
CREATE VIEW stock_consumed AS
SELECT province_code, store_code, day, product_code, given, wasted FROM stock_daily
UNION ALL
SELECT province_code, store_code, day, product_code, given, 0 AS wasted FROM stock_given_by_day;
