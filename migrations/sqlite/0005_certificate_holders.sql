-- A certificate's holder is a real reference: a person for a training
-- certificate, an assessment for an award's. Until now both columns were
-- NOT NULL DEFAULT 0 with no foreign key, 0 meaning "none". From here "none"
-- is NULL, each column references its table, and a CHECK holds that exactly
-- one holder is set (matching the kind). SQLite cannot add constraints to a
-- table, so the table is rebuilt and every row copied across.

CREATE TABLE certificates_new (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('training', 'award')),
    person_id INTEGER REFERENCES people(id),
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    programme_id TEXT NOT NULL DEFAULT '',
    completion_id TEXT NOT NULL DEFAULT '',
    assessment_id INTEGER REFERENCES assessments(id),
    holder_name TEXT NOT NULL,
    title TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    expires_on TEXT NOT NULL DEFAULT '',
    revoked_at TEXT NOT NULL DEFAULT '',
    -- Internal only: never shown on the public verification page.
    revoked_reason TEXT NOT NULL DEFAULT '',
    superseded_by_code TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    CONSTRAINT certificates_one_holder CHECK (
        (kind = 'training' AND person_id IS NOT NULL AND assessment_id IS NULL)
        OR (kind = 'award' AND assessment_id IS NOT NULL AND person_id IS NULL)
    )
);

INSERT INTO certificates_new (id, code, kind, person_id, organisation_id, programme_id, completion_id,
        assessment_id, holder_name, title, issued_on, expires_on, revoked_at, revoked_reason,
        superseded_by_code, created_at)
    SELECT id, code, kind, NULLIF(person_id, 0), organisation_id, programme_id, completion_id,
        NULLIF(assessment_id, 0), holder_name, title, issued_on, expires_on, revoked_at, revoked_reason,
        superseded_by_code, created_at
    FROM certificates;

DROP TABLE certificates;
ALTER TABLE certificates_new RENAME TO certificates;

CREATE INDEX certificates_by_completion ON certificates(person_id, programme_id, completion_id);
CREATE INDEX certificates_by_organisation ON certificates(organisation_id);
CREATE INDEX certificates_by_assessment ON certificates(assessment_id);
