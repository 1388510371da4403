-- Each session's attendance as one text, "person:organisation:mark" for
-- every record, joined by commas (mark 1 attended or partial, 2 absent, 3
-- anything else). The board report reads a year's attendance from these
-- instead of from a quarter of a million rows: building the text from the
-- rows was most of a report's reading (50 of 60 ms a year on the large data
-- set, and more when the two periods read at once). Kept in the same
-- transaction as the attendance (src/db/session_records.rs); a session
-- with no attendance has none.
CREATE TABLE session_records (
    session_id BIGINT PRIMARY KEY REFERENCES training_sessions(id),
    records TEXT NOT NULL
);
INSERT INTO session_records (session_id, records)
SELECT a.session_id,
       string_agg(
           CAST(a.person_id AS TEXT) || ':'
           || CAST(COALESCE(a.organisation_id, (SELECT p.organisation_id FROM people p WHERE p.id = a.person_id)) AS TEXT)
           || ':' || CASE WHEN a.status IN ('attended', 'partial') THEN '1' WHEN a.status = 'absent' THEN '2' ELSE '3' END,
           ',')
FROM attendance a
GROUP BY a.session_id;
