-- Training: cohorts, sessions, attendance, organisation aliases, and the
-- import history with enough detail to undo an import. Programmes and their
-- modules live in standards/training/*.toml, referenced here by id and version.

CREATE TABLE organisation_aliases (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    alias_key TEXT NOT NULL UNIQUE,
    alias TEXT NOT NULL
);

CREATE TABLE cohorts (
    id INTEGER PRIMARY KEY,
    programme_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (programme_id, name)
);

CREATE TABLE training_sessions (
    id INTEGER PRIMARY KEY,
    programme_id TEXT NOT NULL,
    programme_version TEXT NOT NULL,
    module_id TEXT NOT NULL,
    session_date TEXT NOT NULL,
    start_time TEXT NOT NULL DEFAULT '',
    venue TEXT NOT NULL DEFAULT '',
    online INTEGER NOT NULL DEFAULT 0,
    trainer TEXT NOT NULL DEFAULT '',
    capacity INTEGER NOT NULL DEFAULT 0,
    -- 0 when the session is not part of a cohort, so the unique key below still holds.
    cohort_id INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    UNIQUE (programme_id, module_id, session_date, cohort_id)
);
CREATE INDEX training_sessions_by_date ON training_sessions(session_date);

CREATE TABLE attendance (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES training_sessions(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    status TEXT NOT NULL CHECK (status IN ('attended', 'partial', 'absent', 'cancelled')),
    import_id INTEGER NOT NULL DEFAULT 0,
    recorded_at TEXT NOT NULL,
    UNIQUE (session_id, person_id)
);
CREATE INDEX attendance_by_person ON attendance(person_id);

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    actor_label TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'committed', 'failed', 'undone', 'discarded')),
    options_json TEXT NOT NULL DEFAULT '{}',
    progress_done INTEGER NOT NULL DEFAULT 0,
    progress_total INTEGER NOT NULL DEFAULT 0,
    summary_json TEXT NOT NULL DEFAULT '{}',
    message TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    committed_at TEXT NOT NULL DEFAULT '',
    undone_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX imports_by_hash ON imports(file_sha256);

-- What an import did, so it can be undone: rows it created, and attendance
-- it changed with the status it had before.
CREATE TABLE import_effects (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    kind TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    previous TEXT NOT NULL DEFAULT ''
);
CREATE INDEX import_effects_by_import ON import_effects(import_id);

-- The import that added a person or an organisation (0 if added by hand), so
-- undoing an import removes what it added without a row per record.
ALTER TABLE people ADD COLUMN import_id INTEGER NOT NULL DEFAULT 0;
ALTER TABLE organisations ADD COLUMN import_id INTEGER NOT NULL DEFAULT 0;

-- Organisations signed up to a programme with an organisation rule (IRIS
-- practices), whether or not anyone has trained yet.
CREATE TABLE programme_signups (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    programme_id TEXT NOT NULL,
    signed_up_on TEXT NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (organisation_id, programme_id)
);
