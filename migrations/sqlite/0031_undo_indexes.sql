-- Deleting a row checks (or cascades to) every table that refers to it;
-- without an index on the referring column that is a scan of the whole
-- table for each row deleted. Undoing an import deletes the organisations
-- and people it added, so the two references that had no index made an
-- undo scan every kept completion spell once per organisation (about a
-- second for 200 organisations and 18,000 spells) and every remembered
-- identity decision once per person.
CREATE INDEX completion_spells_by_organisation ON completion_spells(organisation_id);
CREATE INDEX identity_decisions_by_person ON identity_decisions(person_id);
