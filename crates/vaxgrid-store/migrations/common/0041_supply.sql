-- Vaccine supply (both backends): stores following the area tree, their
-- cold-chain equipment, shipments between stores, the append-only stock
-- ledger per store × lot and its on-hand counters (kept in the same
-- transaction as each movement; `check_stock` compares them with a
-- recount). Quantities are doses; temperatures tenths of a degree Celsius.
CREATE TABLE stores (
    code          TEXT PRIMARY KEY,
    name          TEXT NOT NULL,
    area_code     TEXT NOT NULL REFERENCES areas(code),
    parent_code   TEXT REFERENCES stores(code),
    site_code     TEXT REFERENCES sites(code),
    province_code TEXT NOT NULL,
    created_at    BIGINT NOT NULL
);
CREATE INDEX stores_area ON stores(area_code);
CREATE INDEX stores_parent ON stores(parent_code);
CREATE INDEX stores_site ON stores(site_code);

CREATE TABLE cold_chain_equipment (
    id             TEXT PRIMARY KEY,
    store_code     TEXT NOT NULL REFERENCES stores(code),
    kind           TEXT NOT NULL,
    min_tenths     BIGINT NOT NULL,
    max_tenths     BIGINT NOT NULL,
    capacity_doses BIGINT,
    working        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL
);
CREATE INDEX cold_chain_equipment_store ON cold_chain_equipment(store_code);

CREATE TABLE shipments (
    id                 TEXT PRIMARY KEY,
    from_store         TEXT NOT NULL REFERENCES stores(code),
    to_store           TEXT NOT NULL REFERENCES stores(code),
    product_code       TEXT NOT NULL,
    lot_number         TEXT NOT NULL,
    dispatched         BIGINT NOT NULL,
    received           BIGINT,
    status             TEXT NOT NULL,
    discrepancy_reason TEXT,
    dispatched_at      BIGINT NOT NULL,
    received_at        BIGINT,
    FOREIGN KEY (product_code, lot_number) REFERENCES lots(product_code, lot_number)
);
CREATE INDEX shipments_to ON shipments(to_store, status);

CREATE TABLE stock_movements (
    id            TEXT NOT NULL,
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL REFERENCES stores(code),
    product_code  TEXT NOT NULL,
    lot_number    TEXT NOT NULL,
    kind          TEXT NOT NULL,
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    delta         BIGINT NOT NULL,
    details       TEXT NOT NULL,
    actor         TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (id, province_code),
    FOREIGN KEY (product_code, lot_number) REFERENCES lots(product_code, lot_number)
);
CREATE INDEX stock_movements_store_lot
    ON stock_movements(province_code, store_code, product_code, lot_number, recorded_at);

CREATE TABLE stock_on_hand (
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL REFERENCES stores(code),
    product_code  TEXT NOT NULL,
    lot_number    TEXT NOT NULL,
    on_hand       BIGINT NOT NULL CHECK (on_hand >= 0),
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (province_code, store_code, product_code, lot_number),
    FOREIGN KEY (product_code, lot_number) REFERENCES lots(product_code, lot_number)
);
