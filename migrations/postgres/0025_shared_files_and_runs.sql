-- Several app servers on one database (issue 13): what one server stores or
-- does must be visible to the others.
--
-- Evidence files and uploaded sheets, kept in the database when it is
-- PostgreSQL (a SQLite site keeps them in its data folder, and these tables
-- stay empty). `name` is the file's path as the data folder would hold it
-- (`evidence/<sha256>`, `imports/<id>.upload`); the content is in chunks, so
-- neither a write nor a read needs a whole file in memory. The file's row
-- and its chunks are written in one transaction: a file is whole or absent.
CREATE TABLE stored_files (
    name TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    size BIGINT NOT NULL,
    stored_at TEXT NOT NULL
);

CREATE TABLE stored_file_chunks (
    name TEXT NOT NULL REFERENCES stored_files(name) ON DELETE CASCADE,
    seq BIGINT NOT NULL,
    bytes BYTEA NOT NULL,
    PRIMARY KEY (name, seq)
);

-- An import being committed in the background: which server runs it (so a
-- restarting server fails only imports whose server has gone) and how far
-- it has got (so a page served by any server shows the progress).
CREATE TABLE import_runs (
    import_id BIGINT PRIMARY KEY REFERENCES imports(id) ON DELETE CASCADE,
    server_id TEXT NOT NULL,
    done BIGINT NOT NULL DEFAULT 0,
    total BIGINT NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL
);
