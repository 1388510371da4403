-- On PostgreSQL, migration 0029 types the instants of the tables added after
-- 0019 (stored files, import runs, register choices) as TIMESTAMPTZ. SQLite
-- keeps instants as UTC RFC 3339 text; nothing changes here, and the number
-- keeps both backends in step.
SELECT 1;
