-- Certificates for training completions and accreditation awards. What is
-- printed is stored (holder name, title, dates), so a certificate reads the
-- same later even if the person or the programme file changes. Absent values
-- are '' or 0 rather than NULL (see src/db/mod.rs); the state a verifier
-- sees is worked out from the dates and links, never stored.

CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('training', 'award')),
    -- 0 for an award: it is held by the organisation.
    person_id INTEGER NOT NULL DEFAULT 0,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    programme_id TEXT NOT NULL DEFAULT '',
    completion_id TEXT NOT NULL DEFAULT '',
    -- 0 for a training certificate.
    assessment_id INTEGER NOT NULL DEFAULT 0,
    holder_name TEXT NOT NULL,
    title TEXT NOT NULL,
    issued_on TEXT NOT NULL,
    expires_on TEXT NOT NULL DEFAULT '',
    revoked_at TEXT NOT NULL DEFAULT '',
    -- Internal only: never shown on the public verification page.
    revoked_reason TEXT NOT NULL DEFAULT '',
    superseded_by_code TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX certificates_by_completion ON certificates(person_id, programme_id, completion_id);
CREATE INDEX certificates_by_organisation ON certificates(organisation_id);
CREATE INDEX certificates_by_assessment ON certificates(assessment_id);
