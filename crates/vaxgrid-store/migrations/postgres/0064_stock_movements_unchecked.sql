-- The stock ledger is written by the dose writer in every batch (a
-- `dose_given` movement per store and lot): like `doses`, it keeps no
-- foreign keys, whose checks ran a trigger and a locking read of `stores`
-- and `lots` per movement. Integrity holds without them: a movement is
-- only ever written for a (store, lot) with a `stock_on_hand` row (the API
-- creates that row first; the dose writer moves only stock it read
-- there), and `stock_on_hand` keeps its foreign keys.
ALTER TABLE stock_movements
    DROP CONSTRAINT IF EXISTS stock_movements_store_code_fkey,
    DROP CONSTRAINT IF EXISTS stock_movements_product_code_lot_number_fkey;
