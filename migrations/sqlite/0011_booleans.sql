-- Flags become booleans (see the PostgreSQL migration of the same number).
-- SQLite has no boolean type: it keeps them as the 0/1 integers they
-- already are, which sqlx's SQLite driver reads and writes as bool, and SQL
-- tests them as TRUE/FALSE. Nothing to convert.
SELECT 1;
