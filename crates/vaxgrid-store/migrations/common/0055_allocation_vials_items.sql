-- Allocation down the tree, open vials and ancillary supplies (both
-- backends).
--
-- An area's distance from the national border in km (NULL: not given) and
-- an optional region group (e.g. "border-8-counties"), read by the
-- allocation's border weights.
ALTER TABLE areas ADD COLUMN border_km BIGINT;
ALTER TABLE areas ADD COLUMN region_group TEXT;

-- A confirmed allocation of a delivery: what was proposed and what the
-- planner confirmed (JSON), beside the shipments it created.
CREATE TABLE allocations (
    id             TEXT PRIMARY KEY,
    from_store     TEXT NOT NULL REFERENCES stores(code),
    product_code   TEXT NOT NULL,
    lot_number     TEXT NOT NULL,
    vials          BIGINT NOT NULL CHECK (vials > 0),
    doses_per_vial BIGINT NOT NULL,
    basis          TEXT NOT NULL,
    details        TEXT NOT NULL,
    actor          TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    FOREIGN KEY (product_code, lot_number) REFERENCES lots(product_code, lot_number)
);
CREATE INDEX allocations_from ON allocations(from_store, created_at);

-- Multi-dose vials opened at a store (one row per `vial_opened` movement,
-- its id): the doses they held, when they must be used by, and, once
-- closed at the limit, the doses recorded as open_vial_unused wastage.
CREATE TABLE open_vials (
    id            TEXT NOT NULL,
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL REFERENCES stores(code),
    product_code  TEXT NOT NULL,
    lot_number    TEXT NOT NULL,
    doses         BIGINT NOT NULL CHECK (doses > 0),
    opened_at     BIGINT NOT NULL,
    discard_at    BIGINT NOT NULL,
    closed_at     BIGINT,
    wasted        BIGINT,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX open_vials_store ON open_vials(province_code, store_code, product_code, lot_number, discard_at);
CREATE INDEX open_vials_due ON open_vials(closed_at, discard_at);

-- Ancillary supplies: syringes and safety boxes, counted in pieces,
-- linked to a vaccine product by a ratio ("1 per 1 dose", "1 per 100
-- syringe"), with their own append-only ledger and on-hand counter per
-- store (they have no lots).
CREATE TABLE supply_items (
    code       TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE item_ratios (
    product_code TEXT NOT NULL REFERENCES products(code),
    item_code    TEXT NOT NULL REFERENCES supply_items(code),
    quantity     BIGINT NOT NULL CHECK (quantity > 0),
    per          BIGINT NOT NULL CHECK (per > 0),
    unit         TEXT NOT NULL,
    PRIMARY KEY (product_code, item_code)
);

CREATE TABLE item_movements (
    id            TEXT NOT NULL,
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL REFERENCES stores(code),
    item_code     TEXT NOT NULL REFERENCES supply_items(code),
    kind          TEXT NOT NULL,
    quantity      BIGINT NOT NULL CHECK (quantity > 0),
    delta         BIGINT NOT NULL,
    shipment_id   TEXT,
    details       TEXT NOT NULL,
    actor         TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (id, province_code)
);
CREATE INDEX item_movements_store ON item_movements(province_code, store_code, item_code, recorded_at);
CREATE INDEX item_movements_shipment ON item_movements(shipment_id);

CREATE TABLE item_on_hand (
    province_code TEXT NOT NULL,
    store_code    TEXT NOT NULL REFERENCES stores(code),
    item_code     TEXT NOT NULL REFERENCES supply_items(code),
    on_hand       BIGINT NOT NULL CHECK (on_hand >= 0),
    updated_at    BIGINT NOT NULL,
    PRIMARY KEY (province_code, store_code, item_code)
);
