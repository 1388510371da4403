-- "No value" becomes NULL, and every reference becomes a foreign key (see
-- the PostgreSQL migration of the same number for what changes and why).
--
-- SQLite cannot change a column or add a constraint in place, so each table
-- is rebuilt: made anew, every row copied across with ''/0 turned into NULL,
-- the old one dropped, the new one renamed, its indexes made again.
-- db::migrate runs the migrations with foreign keys off (SQLite's way for
-- rebuilding tables others refer to: dropping the old table must neither
-- cascade nor refuse) and checks every foreign key before it switches them
-- back on.

CREATE TABLE organisations_new (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    name_key TEXT NOT NULL UNIQUE,
    org_type TEXT NOT NULL,
    locality TEXT NOT NULL DEFAULT '',
    address TEXT NOT NULL DEFAULT '',
    contact_name TEXT NOT NULL DEFAULT '',
    contact_email TEXT NOT NULL DEFAULT '',
    contact_phone TEXT NOT NULL DEFAULT '',
    da_lead_name TEXT NOT NULL DEFAULT '',
    da_lead_email TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- The import that added it; NULL if added by hand.
    import_id INTEGER REFERENCES imports(id)
);
INSERT INTO organisations_new (id, name, name_key, org_type, locality, address, contact_name, contact_email,
        contact_phone, da_lead_name, da_lead_email, created_at, updated_at, import_id)
    SELECT id, name, name_key, org_type, locality, address, contact_name, contact_email,
        contact_phone, da_lead_name, da_lead_email, created_at, updated_at,
        (SELECT i.id FROM imports i WHERE i.id = organisations.import_id)
    FROM organisations;
DROP TABLE organisations;
ALTER TABLE organisations_new RENAME TO organisations;
CREATE INDEX organisations_by_import ON organisations(import_id);
CREATE INDEX organisations_by_name ON organisations(name, id);

CREATE TABLE people_new (
    id INTEGER PRIMARY KEY,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id),
    full_name TEXT NOT NULL,
    email TEXT NOT NULL DEFAULT '',
    job_title TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    -- The import that added them; NULL if added by hand.
    import_id INTEGER REFERENCES imports(id)
);
INSERT INTO people_new (id, organisation_id, full_name, email, job_title, created_at, updated_at, import_id)
    SELECT id, organisation_id, full_name, email, job_title, created_at, updated_at,
        (SELECT i.id FROM imports i WHERE i.id = people.import_id)
    FROM people;
DROP TABLE people;
ALTER TABLE people_new RENAME TO people;
CREATE INDEX people_by_organisation ON people(organisation_id, full_name);
CREATE INDEX people_by_email ON people(email);
CREATE INDEX people_by_import ON people(import_id);

CREATE TABLE training_sessions_new (
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
    -- NULL when the session is not part of a cohort.
    cohort_id INTEGER REFERENCES cohorts(id),
    created_at TEXT NOT NULL
);
INSERT INTO training_sessions_new (id, programme_id, programme_version, module_id, session_date, start_time,
        venue, online, trainer, capacity, cohort_id, created_at)
    SELECT id, programme_id, programme_version, module_id, session_date, start_time,
        venue, online, trainer, capacity, (SELECT c.id FROM cohorts c WHERE c.id = training_sessions.cohort_id),
        created_at
    FROM training_sessions;
DROP TABLE training_sessions;
ALTER TABLE training_sessions_new RENAME TO training_sessions;
-- One session per module, day and cohort, "no cohort" counting as one value.
CREATE UNIQUE INDEX training_sessions_once
    ON training_sessions(programme_id, module_id, session_date, COALESCE(cohort_id, 0));
CREATE INDEX training_sessions_by_date ON training_sessions(session_date);
CREATE INDEX training_sessions_by_programme ON training_sessions(programme_id, session_date, id);
CREATE INDEX training_sessions_by_cohort ON training_sessions(cohort_id);

CREATE TABLE attendance_new (
    id INTEGER PRIMARY KEY,
    session_id INTEGER NOT NULL REFERENCES training_sessions(id),
    person_id INTEGER NOT NULL REFERENCES people(id),
    status TEXT NOT NULL CHECK (status IN ('attended', 'partial', 'absent', 'cancelled')),
    import_id INTEGER REFERENCES imports(id),
    recorded_at TEXT NOT NULL,
    UNIQUE (session_id, person_id)
);
INSERT INTO attendance_new (id, session_id, person_id, status, import_id, recorded_at)
    SELECT id, session_id, person_id, status, (SELECT i.id FROM imports i WHERE i.id = attendance.import_id),
        recorded_at
    FROM attendance;
DROP TABLE attendance;
ALTER TABLE attendance_new RENAME TO attendance;
CREATE INDEX attendance_by_person ON attendance(person_id);
CREATE INDEX attendance_by_import ON attendance(import_id);

CREATE TABLE imports_new (
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
    committed_at TEXT,
    undone_at TEXT
);
INSERT INTO imports_new (id, user_id, actor_label, file_name, file_sha256, state, options_json, progress_done,
        progress_total, summary_json, message, created_at, committed_at, undone_at)
    SELECT id, user_id, actor_label, file_name, file_sha256, state, options_json, progress_done,
        progress_total, summary_json, message, created_at, NULLIF(committed_at, ''), NULLIF(undone_at, '')
    FROM imports;
DROP TABLE imports;
ALTER TABLE imports_new RENAME TO imports;
CREATE INDEX imports_by_hash ON imports(file_sha256);

CREATE TABLE import_effects_new (
    id INTEGER PRIMARY KEY,
    import_id INTEGER NOT NULL REFERENCES imports(id),
    kind TEXT NOT NULL,
    entity_id INTEGER NOT NULL,
    previous TEXT NOT NULL DEFAULT '',
    previous_status TEXT,
    previous_import_id INTEGER REFERENCES imports(id)
);
INSERT INTO import_effects_new (id, import_id, kind, entity_id, previous, previous_status, previous_import_id)
    SELECT id, import_id, kind, entity_id, previous, NULLIF(previous_status, ''),
        (SELECT i.id FROM imports i WHERE i.id = import_effects.previous_import_id)
    FROM import_effects;
DROP TABLE import_effects;
ALTER TABLE import_effects_new RENAME TO import_effects;
CREATE INDEX import_effects_by_import ON import_effects(import_id);
CREATE INDEX import_effects_by_kind ON import_effects(import_id, kind);

CREATE TABLE identity_decisions_new (
    id INTEGER PRIMARY KEY,
    person_key TEXT NOT NULL,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    same INTEGER NOT NULL CHECK (same IN (0, 1)),
    import_id INTEGER REFERENCES imports(id),
    decided_at TEXT NOT NULL,
    UNIQUE (person_key, person_id)
);
INSERT INTO identity_decisions_new (id, person_key, person_id, same, import_id, decided_at)
    SELECT id, person_key, person_id, same, (SELECT i.id FROM imports i WHERE i.id = identity_decisions.import_id),
        decided_at
    FROM identity_decisions;
DROP TABLE identity_decisions;
ALTER TABLE identity_decisions_new RENAME TO identity_decisions;

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
    expires_on TEXT,
    revoked_at TEXT,
    -- Internal only: never shown on the public verification page.
    revoked_reason TEXT NOT NULL DEFAULT '',
    superseded_by_code TEXT,
    created_at TEXT NOT NULL,
    CONSTRAINT certificates_one_holder CHECK (
        (kind = 'training' AND person_id IS NOT NULL AND assessment_id IS NULL)
        OR (kind = 'award' AND assessment_id IS NOT NULL AND person_id IS NULL)
    )
);
INSERT INTO certificates_new (id, code, kind, person_id, organisation_id, programme_id, completion_id,
        assessment_id, holder_name, title, issued_on, expires_on, revoked_at, revoked_reason,
        superseded_by_code, created_at)
    SELECT id, code, kind, person_id, organisation_id, programme_id, completion_id,
        assessment_id, holder_name, title, issued_on, NULLIF(expires_on, ''), NULLIF(revoked_at, ''), revoked_reason,
        NULLIF(superseded_by_code, ''), created_at
    FROM certificates;
DROP TABLE certificates;
ALTER TABLE certificates_new RENAME TO certificates;
CREATE INDEX certificates_by_completion ON certificates(person_id, programme_id, completion_id);
CREATE INDEX certificates_by_organisation ON certificates(organisation_id);
CREATE INDEX certificates_by_assessment ON certificates(assessment_id);

CREATE TABLE person_completions_new (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    programme_id TEXT NOT NULL,
    completion_id TEXT NOT NULL,
    started_on TEXT NOT NULL,
    -- NULL while not (yet) completed.
    completed_on TEXT,
    -- When it lapses unless renewed, as the attendance stands today.
    lapses_on TEXT,
    UNIQUE (person_id, programme_id, completion_id)
);
INSERT INTO person_completions_new (id, person_id, organisation_id, programme_id, completion_id, started_on,
        completed_on, lapses_on)
    SELECT id, person_id, organisation_id, programme_id, completion_id, started_on,
        NULLIF(completed_on, ''), NULLIF(lapses_on, '')
    FROM person_completions
    WHERE person_id IN (SELECT id FROM people) AND organisation_id IN (SELECT id FROM organisations);
DROP TABLE person_completions;
ALTER TABLE person_completions_new RENAME TO person_completions;
CREATE INDEX person_completions_by_completed ON person_completions(programme_id, completion_id, completed_on);
CREATE INDEX person_completions_by_started ON person_completions(programme_id, completion_id, started_on);
CREATE INDEX person_completions_by_organisation ON person_completions(organisation_id, programme_id);

CREATE TABLE completion_spells_new (
    id INTEGER PRIMARY KEY,
    person_id INTEGER NOT NULL REFERENCES people(id) ON DELETE CASCADE,
    organisation_id INTEGER NOT NULL REFERENCES organisations(id) ON DELETE CASCADE,
    programme_id TEXT NOT NULL,
    completion_id TEXT NOT NULL,
    held_from TEXT NOT NULL,
    -- NULL while it has not lapsed.
    held_until TEXT
);
INSERT INTO completion_spells_new (id, person_id, organisation_id, programme_id, completion_id, held_from,
        held_until)
    SELECT id, person_id, organisation_id, programme_id, completion_id, held_from, NULLIF(held_until, '')
    FROM completion_spells
    WHERE person_id IN (SELECT id FROM people) AND organisation_id IN (SELECT id FROM organisations);
DROP TABLE completion_spells;
ALTER TABLE completion_spells_new RENAME TO completion_spells;
CREATE INDEX completion_spells_by_completion ON completion_spells(programme_id, completion_id, held_from);
CREATE INDEX completion_spells_by_person ON completion_spells(person_id);

CREATE TABLE published_reports_new (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    period_from TEXT NOT NULL,
    period_to TEXT NOT NULL,
    -- NULL for a report on the whole programme.
    organisation_id INTEGER REFERENCES organisations(id),
    figures_json TEXT NOT NULL,
    narrative_json TEXT NOT NULL,
    author_user_id INTEGER REFERENCES users(id),
    author_label TEXT NOT NULL,
    published_at TEXT NOT NULL,
    withdrawn_at TEXT,
    withdrawn_reason TEXT NOT NULL DEFAULT ''
);
INSERT INTO published_reports_new (id, title, period_from, period_to, organisation_id, figures_json,
        narrative_json, author_user_id, author_label, published_at, withdrawn_at, withdrawn_reason)
    SELECT id, title, period_from, period_to,
        (SELECT o.id FROM organisations o WHERE o.id = published_reports.organisation_id), figures_json,
        narrative_json, author_user_id, author_label, published_at, NULLIF(withdrawn_at, ''), withdrawn_reason
    FROM published_reports;
DROP TABLE published_reports;
ALTER TABLE published_reports_new RENAME TO published_reports;

CREATE TABLE password_resets_new (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL,
    used_at TEXT,
    -- Who made the link, as the audit log names them.
    created_by TEXT NOT NULL
);
INSERT INTO password_resets_new (id, user_id, token_hash, created_at, expires_at, used_at, created_by)
    SELECT id, user_id, token_hash, created_at, expires_at, NULLIF(used_at, ''), created_by
    FROM password_resets;
DROP TABLE password_resets;
ALTER TABLE password_resets_new RENAME TO password_resets;
CREATE INDEX password_resets_by_user ON password_resets(user_id);
