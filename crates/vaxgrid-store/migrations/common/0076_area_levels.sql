-- The levels of the area tree, configured per deployment (2 to 6, top
-- first, each named in every language the pages speak). A fresh database
-- has Việt Nam's four levels before the 2025 reform, which the demo and
-- every database made before this migration use; `Store::set_area_levels`
-- changes them while every area still fits.
CREATE TABLE area_levels (
    depth   BIGINT PRIMARY KEY,
    key     TEXT NOT NULL UNIQUE,
    name_vi TEXT NOT NULL,
    name_zh TEXT NOT NULL,
    name_en TEXT NOT NULL,
    CHECK (depth >= 0 AND depth < 6)
);
INSERT INTO area_levels (depth, key, name_vi, name_zh, name_en) VALUES
    (0, 'province', 'Tỉnh, thành phố', '省份', 'Provinces'),
    (1, 'district', 'Quận, huyện', '区县', 'Districts'),
    (2, 'commune', 'Xã, phường, thị trấn', '乡镇（街道）', 'Communes'),
    (3, 'village', 'Thôn, khu phố', '村（社区）', 'Villages');
