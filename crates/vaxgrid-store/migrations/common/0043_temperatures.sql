-- Temperature readings of cold-chain equipment (by API, or from a data
-- logger's CSV) and the excursions detected as they arrive. Temperatures
-- are tenths of a degree Celsius, instants microseconds since the epoch.
-- Readings are large (a logger every few minutes per fridge): the
-- province is in the key.
CREATE TABLE temperature_readings (
    province_code TEXT NOT NULL,
    equipment_id  TEXT NOT NULL REFERENCES cold_chain_equipment(id),
    at            BIGINT NOT NULL,
    tenths        BIGINT NOT NULL,
    source        TEXT NOT NULL,
    recorded_at   BIGINT NOT NULL,
    PRIMARY KEY (province_code, equipment_id, at)
);

-- One row per excursion: opened by the first reading out of range (the
-- lots on hand at the equipment's store are quarantined in the same
-- transaction), closed by the first back in range. `lots` lists, as JSON,
-- the lots it quarantined.
CREATE TABLE excursions (
    id            TEXT PRIMARY KEY,
    province_code TEXT NOT NULL,
    equipment_id  TEXT NOT NULL REFERENCES cold_chain_equipment(id),
    store_code    TEXT NOT NULL REFERENCES stores(code),
    kind          TEXT NOT NULL,
    started_at    BIGINT NOT NULL,
    ended_at      BIGINT,
    last_out_at   BIGINT NOT NULL,
    min_tenths    BIGINT NOT NULL,
    max_tenths    BIGINT NOT NULL,
    readings      BIGINT NOT NULL,
    lots          TEXT NOT NULL
);
CREATE INDEX excursions_equipment ON excursions(equipment_id, started_at);
CREATE INDEX excursions_store ON excursions(store_code, ended_at);
