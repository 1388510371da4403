-- An import that gives people a staff category keeps, for each person it
-- changed, the category before and the one it set: undoing the import puts
-- the old one back, unless something has changed it since.
ALTER TABLE import_effects ADD COLUMN previous_value TEXT;
ALTER TABLE import_effects ADD COLUMN new_value TEXT;
-- Undo looks an effect up by its row (the person, the attendance record)
-- for each row it puts back.
CREATE INDEX import_effects_by_entity ON import_effects(import_id, kind, entity_id);
DROP INDEX import_effects_by_kind;
