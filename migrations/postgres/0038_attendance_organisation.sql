-- The board report counts a period's attendance by the attendees'
-- organisations. Joining every attendance record to its person cost more
-- than the rest of the read (a year of the large data set: 230,000 lookups
-- into people). People never change organisation, so the attendance keeps
-- its person's, written with the record; the index covers the period's read.
-- NULL only in rows restored from a backup made before this migration; the
-- report reads the person's organisation for those.
ALTER TABLE attendance ADD COLUMN organisation_id BIGINT REFERENCES organisations(id);
UPDATE attendance a SET organisation_id = p.organisation_id FROM people p WHERE p.id = a.person_id;
DROP INDEX attendance_by_session_status;
CREATE INDEX attendance_by_session_status ON attendance(session_id, status, person_id, organisation_id);
-- Holders at the end of a period, counted by organisation in index order.
CREATE INDEX completion_spells_by_organisation_held
    ON completion_spells(programme_id, completion_id, organisation_id, held_from, held_until);
