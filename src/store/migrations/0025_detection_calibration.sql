-- Risk became a calibrated probability (issue 14): each run keeps how it was estimated from
-- held-out confirmed accounts, and each lead keeps the risk it was given, so a stored run
-- reads the same later instead of being recomputed relative to its best lead.
ALTER TABLE detection_runs ADD COLUMN calibration jsonb;
ALTER TABLE detection_leads ADD COLUMN risk real;
