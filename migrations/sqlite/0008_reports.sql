-- Reports: completions derived from attendance (kept in the same transaction
-- as the attendance they come from, so figures read indexes instead of
-- working completion out from every attendance row), and published board
-- reports, frozen with their rendered files.

-- One row per person and completion they have started (attended any of its
-- modules, even partly). Dates are 'YYYY-MM-DD'; '' when not (yet) reached.
CREATE TABLE person_completions (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL,
    organisation_id INTEGER NOT NULL,
    programme_id TEXT NOT NULL,
    completion_id TEXT NOT NULL,
    started_on TEXT NOT NULL,
    completed_on TEXT NOT NULL DEFAULT '',
    -- When it lapses unless renewed, as the attendance stands today.
    lapses_on TEXT NOT NULL DEFAULT '',
    UNIQUE (person_id, programme_id, completion_id)
);
CREATE INDEX person_completions_by_completed ON person_completions(programme_id, completion_id, completed_on);
CREATE INDEX person_completions_by_started ON person_completions(programme_id, completion_id, started_on);
CREATE INDEX person_completions_by_organisation ON person_completions(organisation_id, programme_id);

-- The spans in which a completion was held: from completion (or a renewal
-- after a lapse) until it lapsed ('' while it has not), so "held on
-- 31 December 2024" is a range look-up that a later refresher cannot change.
CREATE TABLE completion_spells (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL,
    organisation_id INTEGER NOT NULL,
    programme_id TEXT NOT NULL,
    completion_id TEXT NOT NULL,
    held_from TEXT NOT NULL,
    held_until TEXT NOT NULL DEFAULT ''
);
CREATE INDEX completion_spells_by_completion ON completion_spells(programme_id, completion_id, held_from);
CREATE INDEX completion_spells_by_person ON completion_spells(person_id);

-- Which programme files the kept rows were worked out with; when they
-- change, the app works everything out again on start.
CREATE TABLE derived_fingerprints (
    name TEXT PRIMARY KEY,
    fingerprint TEXT NOT NULL
);

-- Awards brought in from before qmtrack (0 for awards made here).
ALTER TABLE assessments ADD COLUMN imported INTEGER NOT NULL DEFAULT 0;
CREATE INDEX assessments_by_award ON assessments(framework_id, awarded_on);
CREATE INDEX assessment_events_by_time ON assessment_events(at);

-- Published board reports: never edited; withdrawing keeps the row.
CREATE TABLE published_reports (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    organisation_id INTEGER NOT NULL DEFAULT 0,
    figures_json TEXT NOT NULL,
    narrative_json TEXT NOT NULL,
    author_user_id INTEGER REFERENCES users(id),
    author_label TEXT NOT NULL,
    published_at TEXT NOT NULL,
    withdrawn_at TEXT NOT NULL DEFAULT '',
    withdrawn_reason TEXT NOT NULL DEFAULT ''
);

CREATE TABLE published_report_files (
    id INTEGER PRIMARY KEY,
    report_id INTEGER NOT NULL REFERENCES published_reports(id),
    format TEXT NOT NULL,
    content_type TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BLOB NOT NULL,
    UNIQUE (report_id, format)
);
