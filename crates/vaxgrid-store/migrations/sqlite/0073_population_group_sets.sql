-- The eligible population counts each person once: population_counters
-- are kept per priority group, so a person in two of a wave's groups is in
-- both sums. Here a person counts once, under the set of groups they belong
-- to (as stored in persons.priority_groups); the eligible population of a
-- list of groups sums the sets that meet it.
CREATE TABLE population_group_sets (
    province_code  TEXT NOT NULL,
    area_code      TEXT NOT NULL,
    area_path      TEXT NOT NULL,
    group_set      TEXT NOT NULL,
    population     BIGINT NOT NULL,
    PRIMARY KEY (province_code, area_code, group_set)
);
CREATE INDEX population_group_sets_path ON population_group_sets(area_path);

INSERT INTO population_group_sets (province_code, area_code, area_path, group_set, population)
SELECT province_code, home_area, area_path, priority_groups, COUNT(*)
FROM persons WHERE merged_into IS NULL
GROUP BY province_code, home_area, area_path, priority_groups;
