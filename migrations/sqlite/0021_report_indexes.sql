-- The report counts present and absent attendance at the sessions of a
-- period: with status and person in the index it reads the index alone,
-- not a row of attendance for each of the year's 200,000 attendances.
-- (The UNIQUE (session_id, person_id) index stays: it enforces one row a
-- person a session.)
CREATE INDEX attendance_by_session_status ON attendance(session_id, status, person_id);
