-- Imports: undo as a few set-based statements, and identity decisions kept
-- between imports.

-- An attendance mark an import changed, with what it was before, as columns
-- (rather than packed in `previous`) so undo restores them all in one UPDATE.
ALTER TABLE import_effects ADD COLUMN previous_status TEXT NOT NULL DEFAULT '';
ALTER TABLE import_effects ADD COLUMN previous_import_id INTEGER NOT NULL DEFAULT 0;
UPDATE import_effects
   SET previous_status = substr(previous, 1, instr(previous, '|') - 1),
       previous_import_id = CAST(substr(previous, instr(previous, '|') + 1) AS INTEGER)
 WHERE kind = 'attendance_updated' AND instr(previous, '|') > 0;
CREATE INDEX import_effects_by_kind ON import_effects(import_id, kind);

-- Undo finds what an import added by these.
CREATE INDEX attendance_by_import ON attendance(import_id);
CREATE INDEX people_by_import ON people(import_id);
CREATE INDEX organisations_by_import ON organisations(import_id);

-- "This person on a sheet is (or is not) that person on record", decided
-- once on an import's preview and used by every later import. `person_key`
-- is how the sheet identifies them: `email:…` or `name:…|organisation`.
CREATE TABLE identity_decisions (
    id INTEGER PRIMARY KEY,
    person_key TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    same INTEGER NOT NULL CHECK (same IN (0, 1)),
    import_id INTEGER NOT NULL DEFAULT 0,
    decided_at TEXT NOT NULL,
    UNIQUE (person_key, person_id)
);
