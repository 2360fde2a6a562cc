-- The communes or villages a site serves, its catchment (issue 16). The
-- capacity report rolls the site's daily capacity up into these areas; a
-- site without rows serves the subtree of its own area, as before. Each
-- area lies at the commune level or below, in the site's province (checked
-- by the store on write). A merge of areas re-keys `area_code` to the
-- survivor (`reorganise`); a move or a split keeps the codes and their
-- paths follow through `areas`.
CREATE TABLE site_catchments (
    site_code TEXT NOT NULL REFERENCES sites(code),
    area_code TEXT NOT NULL REFERENCES areas(code),
    PRIMARY KEY (site_code, area_code)
);
CREATE INDEX site_catchments_area ON site_catchments(area_code);
