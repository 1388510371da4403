-- The last columns where "no value" was '' or 0 become nullable, and those
-- sentinels become NULL:
-- - a certificate's programme and completion: an award certificate has
--   neither (a training certificate always has both);
-- - a training session's start time ('' when none was given) and capacity
--   (0 meant "no limit");
-- - an evidence item's file (hash, name, type and size): a statement or a
--   link has none. The group is cleared by kind, not by value, since an
--   empty file's size is a true 0.
-- CHECKs say which values belong together.

ALTER TABLE certificates
    ALTER COLUMN programme_id DROP NOT NULL, ALTER COLUMN programme_id DROP DEFAULT,
    ALTER COLUMN completion_id DROP NOT NULL, ALTER COLUMN completion_id DROP DEFAULT;
UPDATE certificates SET programme_id = NULL, completion_id = NULL WHERE kind = 'award';
ALTER TABLE certificates ADD CONSTRAINT certificates_training_completion CHECK (
    (kind = 'training' AND programme_id IS NOT NULL AND completion_id IS NOT NULL)
    OR (kind = 'award' AND programme_id IS NULL AND completion_id IS NULL)
);

ALTER TABLE training_sessions
    ALTER COLUMN start_time DROP NOT NULL, ALTER COLUMN start_time DROP DEFAULT,
    ALTER COLUMN capacity DROP NOT NULL, ALTER COLUMN capacity DROP DEFAULT;
UPDATE training_sessions SET start_time = NULLIF(start_time, ''),
    capacity = CASE WHEN capacity > 0 THEN capacity END;
ALTER TABLE training_sessions ADD CONSTRAINT training_sessions_capacity_positive CHECK (capacity > 0);

ALTER TABLE evidence
    ALTER COLUMN file_sha256 DROP NOT NULL, ALTER COLUMN file_sha256 DROP DEFAULT,
    ALTER COLUMN file_name DROP NOT NULL, ALTER COLUMN file_name DROP DEFAULT,
    ALTER COLUMN file_type DROP NOT NULL, ALTER COLUMN file_type DROP DEFAULT,
    ALTER COLUMN file_size DROP NOT NULL, ALTER COLUMN file_size DROP DEFAULT;
UPDATE evidence SET file_sha256 = NULL, file_name = NULL, file_type = NULL, file_size = NULL
    WHERE kind <> 'file';
ALTER TABLE evidence ADD CONSTRAINT evidence_file_with_kind CHECK (
    (kind = 'file' AND file_sha256 IS NOT NULL AND file_name IS NOT NULL AND file_type IS NOT NULL
        AND file_size IS NOT NULL)
    OR (kind <> 'file' AND file_sha256 IS NULL AND file_name IS NULL AND file_type IS NULL AND file_size IS NULL)
);
