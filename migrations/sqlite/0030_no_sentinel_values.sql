-- The last columns where "no value" was '' or 0 become nullable, and those
-- sentinels become NULL, with CHECKs saying which values belong together
-- (see the PostgreSQL migration of the same number for what and why).
--
-- SQLite cannot drop NOT NULL or add a CHECK in place, so each table is
-- rebuilt as in 0012: made anew, every row copied across with the sentinels
-- turned into NULL, the old one dropped, the new one renamed, its indexes
-- made again (db::migrate runs this with foreign keys off).

CREATE TABLE certificates_new (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('training', 'award')),
    person_id INTEGER REFERENCES people(id),
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    -- The completion a training certificate is for; NULL on an award's.
    programme_id TEXT,
    completion_id TEXT,
    assessment_id INTEGER REFERENCES assessments(id),
    holder_name TEXT NOT NULL,
    title TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    expires_on TEXT,
    revoked_at TEXT,
    -- Internal only: never shown on the public verification page.
    revoked_reason TEXT NOT NULL DEFAULT '',
    superseded_by_code TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT certificates_one_holder CHECK (
        (kind = 'training' AND person_id IS NOT NULL AND assessment_id IS NULL)
        OR (kind = 'award' AND assessment_id IS NOT NULL AND person_id IS NULL)
    ),
    CONSTRAINT certificates_training_completion CHECK (
        (kind = 'training' AND programme_id IS NOT NULL AND completion_id IS NOT NULL)
        OR (kind = 'award' AND programme_id IS NULL AND completion_id IS NULL)
    )
);
INSERT INTO certificates_new (id, code, kind, person_id, organisation_id, programme_id, completion_id,
        assessment_id, holder_name, title, issued_on, expires_on, revoked_at, revoked_reason,
        superseded_by_code, created_at)
    SELECT id, code, kind, person_id, organisation_id,
        CASE WHEN kind = 'training' THEN programme_id END, CASE WHEN kind = 'training' THEN completion_id END,
        assessment_id, holder_name, title, issued_on, expires_on, revoked_at, revoked_reason,
        superseded_by_code, created_at
    FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_new RENAME TO certificates;
CREATE INDEX certificates_by_completion ON certificates(person_id, programme_id, completion_id);
CREATE INDEX certificates_by_organisation ON certificates(organisation_id);
CREATE INDEX certificates_by_assessment ON certificates(assessment_id);
CREATE INDEX certificates_by_holder ON certificates(holder_name, id);

CREATE TABLE training_sessions_new (
    id INTEGER PRIMARY KEY,
    programme_id TEXT NOT NULL,
    programme_version TEXT NOT NULL,
    module_id TEXT NOT NULL,
    session_date TEXT NOT NULL,
    -- As entered; NULL when none was given.
    start_time TEXT,
    venue TEXT NOT NULL DEFAULT '',
    online INTEGER NOT NULL DEFAULT 0,
    trainer TEXT NOT NULL DEFAULT '',
    -- Places; NULL when there is no limit.
    capacity INTEGER CONSTRAINT training_sessions_capacity_positive CHECK (capacity > 0),
    -- NULL when the session is not part of a cohort.
    cohort_id INTEGER REFERENCES cohorts(id),
    created_at TEXT NOT NULL
);
INSERT INTO training_sessions_new (id, programme_id, programme_version, module_id, session_date, start_time,
        venue, online, trainer, capacity, cohort_id, created_at)
    SELECT id, programme_id, programme_version, module_id, session_date, NULLIF(start_time, ''),
        venue, online, trainer, CASE WHEN capacity > 0 THEN capacity END, cohort_id, created_at
    FROM training_sessions;
DROP TABLE training_sessions;
ALTER TABLE training_sessions_new RENAME TO training_sessions;
-- One session per module, day and cohort, "no cohort" counting as one value.
CREATE UNIQUE INDEX training_sessions_once
    ON training_sessions(programme_id, module_id, session_date, COALESCE(cohort_id, 0));
CREATE INDEX training_sessions_by_date ON training_sessions(session_date);
CREATE INDEX training_sessions_by_programme ON training_sessions(programme_id, session_date, id);
CREATE INDEX training_sessions_by_cohort ON training_sessions(cohort_id);

CREATE TABLE evidence_new (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments(id),
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    criterion_id TEXT NOT NULL,
    item_id INTEGER NOT NULL,
    version INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('file', 'statement', 'link')),
    title TEXT NOT NULL,
    statement TEXT NOT NULL DEFAULT '',
    url TEXT NOT NULL DEFAULT '',
    -- The stored file: all four for a file, none for a statement or link.
    file_sha256 TEXT,
    file_name TEXT,
    file_type TEXT,
    file_size INTEGER,
    applies_from TEXT NOT NULL,
    valid_until TEXT,
    for_submission INTEGER NOT NULL,
    carried_from INTEGER REFERENCES evidence(id),
    superseded_at TEXT,
    removed_at TEXT,
    removed_for_submission INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_by_label TEXT NOT NULL,
    CONSTRAINT evidence_file_with_kind CHECK (
        (kind = 'file' AND file_sha256 IS NOT NULL AND file_name IS NOT NULL AND file_type IS NOT NULL
            AND file_size IS NOT NULL)
        OR (kind <> 'file' AND file_sha256 IS NULL AND file_name IS NULL AND file_type IS NULL
            AND file_size IS NULL)
    )
);
INSERT INTO evidence_new (id, assessment_id, organisation_id, criterion_id, item_id, version, kind, title,
        statement, url, file_sha256, file_name, file_type, file_size, applies_from, valid_until, for_submission,
        carried_from, superseded_at, removed_at, removed_for_submission, created_at, created_by, created_by_label)
    SELECT id, assessment_id, organisation_id, criterion_id, item_id, version, kind, title,
        statement, url,
        CASE WHEN kind = 'file' THEN file_sha256 END, CASE WHEN kind = 'file' THEN file_name END,
        CASE WHEN kind = 'file' THEN file_type END, CASE WHEN kind = 'file' THEN file_size END,
        applies_from, valid_until, for_submission,
        carried_from, superseded_at, removed_at, removed_for_submission, created_at, created_by, created_by_label
    FROM evidence;
DROP TABLE evidence;
ALTER TABLE evidence_new RENAME TO evidence;
CREATE INDEX evidence_by_assessment ON evidence(assessment_id, criterion_id, item_id, version);
CREATE INDEX evidence_by_file ON evidence(file_sha256);
