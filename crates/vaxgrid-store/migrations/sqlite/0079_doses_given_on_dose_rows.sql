-- The dose writer no longer writes a `dose_given` movement per store, lot
-- and batch: each one dirtied a page of `stock_movements_store_lot` per
-- store and batch, about 300 KB more WAL per commit of 64 doses (see
-- docs/benchmarks.md). The dose rows themselves are the ledger's lines for
-- the doses given: `stock_store` names the store whose stock the dose was
-- taken from (NULL when none tracked it), and on-hand is the sum of the
-- movements less those doses. Movements of kind `dose_given` written
-- before keep counting as they did.
ALTER TABLE doses ADD COLUMN stock_store TEXT;

-- The doses given per store × lot × UTC day, for the ledger's daily lines:
-- the rows of a day are inserted that day, so a batch's increments land in
-- a few recent pages whatever the number of stores. Kept by the writer in
-- the batch's transaction; `check_stock` compares it with the dose rows.
CREATE TABLE stock_given_daily (
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL,
    product_code  TEXT NOT NULL,
    lot_number    TEXT NOT NULL,
    day           TEXT NOT NULL,
    given         BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (province_code, store_code, product_code, lot_number, day)
);

-- The doses taken from an open vial pool so far, kept by whoever records
-- them (the dose writer, a `dose_given` movement) instead of replayed
-- from the ledger's movements. Pools open now get the doses given at
-- their store × lot while they were open (exact unless pools overlapped).
ALTER TABLE open_vials ADD COLUMN taken BIGINT NOT NULL DEFAULT 0;
UPDATE open_vials SET taken = MIN(doses, COALESCE((
    SELECT SUM(m.quantity) FROM stock_movements m
    WHERE m.province_code = open_vials.province_code AND m.store_code = open_vials.store_code
      AND m.product_code = open_vials.product_code AND m.lot_number = open_vials.lot_number
      AND m.kind = 'dose_given' AND m.recorded_at >= open_vials.opened_at
      AND m.recorded_at < open_vials.discard_at), 0))
WHERE closed_at IS NULL;

-- What days of supply and the wastage rate read: the stock consumed per
-- store × UTC day × product, from `stock_daily` (kept by the ledger's
-- consuming movements) and `stock_given_daily` (the doses the dose writer
-- took, per lot), so the writer keeps one daily row per store × lot, not
-- two. Rows, not sums: every reader sums them, and a condition on store
-- or day reaches both tables' keys.
CREATE VIEW stock_consumed AS
SELECT province_code, store_code, day, product_code, given, wasted FROM stock_daily
UNION ALL
SELECT province_code, store_code, day, product_code, given, 0 AS wasted FROM stock_given_daily;
