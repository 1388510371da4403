-- "No value" becomes NULL, and every reference becomes a foreign key.
--
-- sqlx's Any driver could not bind a NULL reliably, so columns meaning
-- "none" held '' (dates, instants, codes) or 0 (ids). The data layer now
-- binds and reads Option<T>, so each such column becomes nullable and its
-- ''/0 becomes NULL; ids then reference their table. Not references, and so
-- left without a foreign key: audit_log.entity_id / organisation_id and
-- import_effects.entity_id (the log and an import's effects name rows that
-- may since have gone), evidence.item_id (groups an item's versions).

-- Ids: 0 meant "none". An id that names no row (a row removed by hand)
-- also becomes NULL, as the foreign key could not hold otherwise.
ALTER TABLE organisations ALTER COLUMN import_id DROP NOT NULL, ALTER COLUMN import_id DROP DEFAULT;
UPDATE organisations SET import_id = NULL WHERE import_id NOT IN (SELECT id FROM imports);
ALTER TABLE people ALTER COLUMN import_id DROP NOT NULL, ALTER COLUMN import_id DROP DEFAULT;
UPDATE people SET import_id = NULL WHERE import_id NOT IN (SELECT id FROM imports);
ALTER TABLE attendance ALTER COLUMN import_id DROP NOT NULL, ALTER COLUMN import_id DROP DEFAULT;
UPDATE attendance SET import_id = NULL WHERE import_id NOT IN (SELECT id FROM imports);
ALTER TABLE identity_decisions ALTER COLUMN import_id DROP NOT NULL, ALTER COLUMN import_id DROP DEFAULT;
UPDATE identity_decisions SET import_id = NULL WHERE import_id NOT IN (SELECT id FROM imports);
ALTER TABLE import_effects ALTER COLUMN previous_import_id DROP NOT NULL, ALTER COLUMN previous_import_id DROP DEFAULT;
UPDATE import_effects SET previous_import_id = NULL WHERE previous_import_id NOT IN (SELECT id FROM imports);
ALTER TABLE published_reports ALTER COLUMN organisation_id DROP NOT NULL, ALTER COLUMN organisation_id DROP DEFAULT;
UPDATE published_reports SET organisation_id = NULL WHERE organisation_id NOT IN (SELECT id FROM organisations);

-- A session outside any cohort had cohort_id 0 so that the UNIQUE key held
-- for it; with NULL the key is an index that counts "no cohort" as one value.
DO $$
DECLARE constraint_name TEXT;
BEGIN
    SELECT conname INTO constraint_name FROM pg_constraint
     WHERE conrelid = 'training_sessions'::regclass AND contype = 'u';
    EXECUTE format('ALTER TABLE training_sessions DROP CONSTRAINT %I', constraint_name);
END $$;
ALTER TABLE training_sessions ALTER COLUMN cohort_id DROP NOT NULL, ALTER COLUMN cohort_id DROP DEFAULT;
UPDATE training_sessions SET cohort_id = NULL WHERE cohort_id NOT IN (SELECT id FROM cohorts);
CREATE UNIQUE INDEX training_sessions_once
    ON training_sessions(programme_id, module_id, session_date, COALESCE(cohort_id, 0));

-- Dates, instants and codes: '' meant "none".
ALTER TABLE certificates ALTER COLUMN expires_on DROP NOT NULL, ALTER COLUMN expires_on DROP DEFAULT;
ALTER TABLE certificates ALTER COLUMN revoked_at DROP NOT NULL, ALTER COLUMN revoked_at DROP DEFAULT;
ALTER TABLE certificates ALTER COLUMN superseded_by_code DROP NOT NULL, ALTER COLUMN superseded_by_code DROP DEFAULT;
UPDATE certificates SET expires_on = NULLIF(expires_on, ''), revoked_at = NULLIF(revoked_at, ''),
    superseded_by_code = NULLIF(superseded_by_code, '');

ALTER TABLE imports ALTER COLUMN committed_at DROP NOT NULL, ALTER COLUMN committed_at DROP DEFAULT;
ALTER TABLE imports ALTER COLUMN undone_at DROP NOT NULL, ALTER COLUMN undone_at DROP DEFAULT;
UPDATE imports SET committed_at = NULLIF(committed_at, ''), undone_at = NULLIF(undone_at, '');

ALTER TABLE import_effects ALTER COLUMN previous_status DROP NOT NULL, ALTER COLUMN previous_status DROP DEFAULT;
UPDATE import_effects SET previous_status = NULLIF(previous_status, '');

ALTER TABLE person_completions ALTER COLUMN completed_on DROP NOT NULL, ALTER COLUMN completed_on DROP DEFAULT;
ALTER TABLE person_completions ALTER COLUMN lapses_on DROP NOT NULL, ALTER COLUMN lapses_on DROP DEFAULT;
UPDATE person_completions SET completed_on = NULLIF(completed_on, ''), lapses_on = NULLIF(lapses_on, '');

ALTER TABLE completion_spells ALTER COLUMN held_until DROP NOT NULL, ALTER COLUMN held_until DROP DEFAULT;
UPDATE completion_spells SET held_until = NULLIF(held_until, '');

ALTER TABLE published_reports ALTER COLUMN withdrawn_at DROP NOT NULL, ALTER COLUMN withdrawn_at DROP DEFAULT;
UPDATE published_reports SET withdrawn_at = NULLIF(withdrawn_at, '');

ALTER TABLE password_resets ALTER COLUMN used_at DROP NOT NULL, ALTER COLUMN used_at DROP DEFAULT;
UPDATE password_resets SET used_at = NULLIF(used_at, '');

-- The references. Imports are never deleted (undo and discard change their
-- state), so what names one needs no ON DELETE. Undoing an import deletes
-- the people it added that nothing else uses; what is worked out from
-- their attendance (completions, spells) goes with them, as it does when
-- their last attendance goes.
ALTER TABLE organisations ADD CONSTRAINT organisations_import_fk FOREIGN KEY (import_id) REFERENCES imports(id);
ALTER TABLE people ADD CONSTRAINT people_import_fk FOREIGN KEY (import_id) REFERENCES imports(id);
ALTER TABLE attendance ADD CONSTRAINT attendance_import_fk FOREIGN KEY (import_id) REFERENCES imports(id);
ALTER TABLE identity_decisions ADD CONSTRAINT identity_decisions_import_fk FOREIGN KEY (import_id) REFERENCES imports(id);
ALTER TABLE import_effects
    ADD CONSTRAINT import_effects_previous_import_fk FOREIGN KEY (previous_import_id) REFERENCES imports(id);
ALTER TABLE training_sessions ADD CONSTRAINT training_sessions_cohort_fk FOREIGN KEY (cohort_id) REFERENCES cohorts(id);
ALTER TABLE published_reports
    ADD CONSTRAINT published_reports_organisation_fk FOREIGN KEY (organisation_id) REFERENCES organisations(id);

DELETE FROM person_completions WHERE person_id NOT IN (SELECT id FROM people)
    OR organisation_id NOT IN (SELECT id FROM organisations);
DELETE FROM completion_spells WHERE person_id NOT IN (SELECT id FROM people)
    OR organisation_id NOT IN (SELECT id FROM organisations);
ALTER TABLE person_completions
    ADD CONSTRAINT person_completions_person_fk FOREIGN KEY (person_id) REFERENCES people(id) ON DELETE CASCADE,
    ADD CONSTRAINT person_completions_organisation_fk
        FOREIGN KEY (organisation_id) REFERENCES organisations(id) ON DELETE CASCADE;
ALTER TABLE completion_spells
    ADD CONSTRAINT completion_spells_person_fk FOREIGN KEY (person_id) REFERENCES people(id) ON DELETE CASCADE,
    ADD CONSTRAINT completion_spells_organisation_fk
        FOREIGN KEY (organisation_id) REFERENCES organisations(id) ON DELETE CASCADE;
