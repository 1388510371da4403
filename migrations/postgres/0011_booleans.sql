-- Flags become booleans. They were 0/1 integers because sqlx's Any driver
-- could not decode BOOLEAN; the data layer now uses the native drivers.
-- The CHECK on identity_decisions.same compares with integers, so it goes
-- first (a boolean needs no such check).
ALTER TABLE identity_decisions DROP CONSTRAINT identity_decisions_same_check;
ALTER TABLE identity_decisions ALTER COLUMN same TYPE BOOLEAN USING same <> 0;

ALTER TABLE users ALTER COLUMN active DROP DEFAULT;
ALTER TABLE users ALTER COLUMN active TYPE BOOLEAN USING active <> 0;
ALTER TABLE users ALTER COLUMN active SET DEFAULT TRUE;

ALTER TABLE training_sessions ALTER COLUMN online DROP DEFAULT;
ALTER TABLE training_sessions ALTER COLUMN online TYPE BOOLEAN USING online <> 0;
ALTER TABLE training_sessions ALTER COLUMN online SET DEFAULT FALSE;

ALTER TABLE assessments ALTER COLUMN imported DROP DEFAULT;
ALTER TABLE assessments ALTER COLUMN imported TYPE BOOLEAN USING imported <> 0;
ALTER TABLE assessments ALTER COLUMN imported SET DEFAULT FALSE;
