-- On PostgreSQL, migration 0019 makes dates DATE and instants TIMESTAMPTZ.
-- SQLite has no date type: dates stay `YYYY-MM-DD` text and instants UTC
-- RFC 3339 text with a `Z` (`2026-01-01T09:00:00Z`), which sort as time
-- does. Nothing here changes; the number keeps both backends in step.
SELECT 1;
