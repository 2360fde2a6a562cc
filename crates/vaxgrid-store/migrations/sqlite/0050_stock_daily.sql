-- The stock consumed per store × day × product, kept by every movement
-- that consumes (doses given, wastage) in the movement's transaction, so
-- that days of supply (on hand / mean daily use over the last 7 days) and
-- the wastage rate (wastage / (doses given + wastage)) are read from a few
-- rows per store instead of the ledger. `day` is the UTC day of the
-- movement. `check_stock` compares it with a recount of the ledger.
CREATE TABLE stock_daily (
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL REFERENCES stores(code),
    day           TEXT NOT NULL,
    product_code  TEXT NOT NULL,
    given         BIGINT NOT NULL,
    wasted        BIGINT NOT NULL,
    PRIMARY KEY (province_code, store_code, day, product_code)
);

INSERT INTO stock_daily (province_code, store_code, day, product_code, given, wasted)
SELECT province_code, store_code, strftime('%Y-%m-%d', recorded_at / 1000000, 'unixepoch'), product_code,
       SUM(CASE WHEN kind = 'dose_given' THEN quantity ELSE 0 END),
       SUM(CASE WHEN kind = 'wastage' THEN quantity ELSE 0 END)
FROM stock_movements WHERE kind IN ('dose_given', 'wastage')
GROUP BY province_code, store_code, strftime('%Y-%m-%d', recorded_at / 1000000, 'unixepoch'), product_code;

-- The stores holding a lot (the lot's page, expiring lots, a hold by an
-- area's officer) without scanning every counter.
CREATE INDEX stock_on_hand_lot ON stock_on_hand(product_code, lot_number);
