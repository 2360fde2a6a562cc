-- Why a lot is quarantined, recalled or was released (the excursion, the
-- supervisor's reason), and the last vaccine vial monitor stage recorded
-- for it (1–4; 3 and 4 are past the discard point and refuse a dose).
ALTER TABLE lots ADD COLUMN status_reason TEXT;
ALTER TABLE lots ADD COLUMN vvm_stage BIGINT;
