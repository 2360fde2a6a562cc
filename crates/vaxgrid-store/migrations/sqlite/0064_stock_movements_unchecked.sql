-- The stock ledger is written by the dose writer in every batch (a
-- `dose_given` movement per store and lot): like `doses`, it keeps no
-- foreign keys. Integrity holds without them: a movement is only ever
-- written for a (store, lot) with a `stock_on_hand` row (the API creates
-- that row first; the dose writer moves only stock it read there), and
-- `stock_on_hand` keeps its foreign keys. SQLite cannot drop a constraint:
-- the table is made anew and its rows copied.
CREATE TABLE stock_movements_unchecked (
    id            TEXT NOT NULL,
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL,
    product_code  TEXT NOT NULL,
    lot_number    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    delta         BIGINT NOT NULL,
    details       TEXT NOT NULL,
    actor         TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
INSERT INTO stock_movements_unchecked
    (id, province_code, store_code, product_code, lot_number, kind, quantity, delta, details, actor, recorded_at)
SELECT id, province_code, store_code, product_code, lot_number, kind, quantity, delta, details, actor, recorded_at
FROM stock_movements;
DROP TABLE stock_movements;
ALTER TABLE stock_movements_unchecked RENAME TO stock_movements;
CREATE INDEX stock_movements_store_lot
    ON stock_movements(province_code, store_code, product_code, lot_number, recorded_at);
