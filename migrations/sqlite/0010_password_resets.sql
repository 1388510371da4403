-- One-time links to set a new password, made by the programme lead (or the
-- command line) for someone who has forgotten theirs. Only a SHA-256 of the
-- link's token is kept; a link works once, until it expires. Absent values
-- are '' rather than NULL (see src/db/mod.rs).

CREATE TABLE password_resets (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT NOT NULL DEFAULT '',
    -- Who made the link, as the audit log names them.
    created_by TEXT NOT NULL
);
CREATE INDEX password_resets_by_user ON password_resets(user_id);
