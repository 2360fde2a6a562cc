-- The home page's charts: each province's doses by day over its last 120
-- days. The (area_path, day) index makes that a scan of every counter row
-- of the province (the day bound cannot use it); by province and day, with
-- the doses in the index, it reads only the window's rows.
CREATE INDEX daily_dose_counters_province_day ON daily_dose_counters(province_code, day, doses);
