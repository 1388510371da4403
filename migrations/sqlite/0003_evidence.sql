-- Evidence and accreditation: assessments against a pinned framework version,
-- their evidence (every version kept), assessors' decisions, and the history
-- of every transition. Dates are 'YYYY-MM-DD' text; timestamps RFC 3339 UTC
-- text, as in 0001. Flags are integers 0/1 (the Any driver cannot decode BOOLEAN).

CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    framework_id TEXT NOT NULL,
    framework_version TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('enrolled', 'in_progress', 'submitted', 'under_review',
        'changes_requested', 'resubmitted', 'recommended', 'awarded', 'revoked')),
    -- How many times it has been sent for review; evidence and decisions
    -- carry the number they belong to, so "what changed" needs no clock.
    submission INTEGER NOT NULL DEFAULT 0,
    renewal_of INTEGER UNIQUE REFERENCES assessments(id),
    enrolled_at TEXT NOT NULL,
    submitted_at TEXT,
    awarded_on TEXT,
    expires_on TEXT,
    revoked_at TEXT,
    revocation_reason TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX assessments_by_organisation ON assessments(organisation_id, framework_id);
CREATE INDEX assessments_by_state ON assessments(state, submitted_at);

CREATE TABLE assessment_events (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments(id),
    at TEXT NOT NULL,
    actor_user_id INTEGER REFERENCES users(id),
    actor_label TEXT NOT NULL,
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE INDEX assessment_events_by_assessment ON assessment_events(assessment_id, id);

-- One row per version of an evidence item; item_id groups the versions.
CREATE TABLE evidence (
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
    file_sha256 TEXT NOT NULL DEFAULT '',
    file_name TEXT NOT NULL DEFAULT '',
    file_type TEXT NOT NULL DEFAULT '',
    file_size INTEGER NOT NULL DEFAULT 0,
    applies_from TEXT NOT NULL,
    valid_until TEXT,
    for_submission INTEGER NOT NULL,
    carried_from INTEGER REFERENCES evidence(id),
    superseded_at TEXT,
    removed_at TEXT,
    removed_for_submission INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id),
    created_by_label TEXT NOT NULL
);
CREATE INDEX evidence_by_assessment ON evidence(assessment_id, criterion_id, item_id, version);
CREATE INDEX evidence_by_file ON evidence(file_sha256);

CREATE TABLE review_decisions (
    id INTEGER PRIMARY KEY,
    assessment_id INTEGER NOT NULL REFERENCES assessments(id),
    criterion_id TEXT NOT NULL,
    submission INTEGER NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('met', 'partially_met', 'not_met', 'not_applicable')),
    feedback TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL,
    decided_by INTEGER REFERENCES users(id),
    decided_by_label TEXT NOT NULL
);
CREATE INDEX review_decisions_by_assessment ON review_decisions(assessment_id, criterion_id, id);

-- The programme lead filters the audit log by organisation and action.
CREATE INDEX audit_log_by_organisation ON audit_log(organisation_id, at);
CREATE INDEX audit_log_by_action ON audit_log(action, at);
