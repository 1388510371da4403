-- Dates become DATE and instants TIMESTAMPTZ. Until now both were RFC 3339
-- text (instants always UTC with a `Z`, dates `YYYY-MM-DD`), which casts
-- exactly; indexes on these columns are rebuilt by the type change.

ALTER TABLE api_tokens
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN last_used_at TYPE TIMESTAMPTZ USING last_used_at::timestamptz,
    ALTER COLUMN revoked_at TYPE TIMESTAMPTZ USING revoked_at::timestamptz;
ALTER TABLE assessment_events
    ALTER COLUMN at TYPE TIMESTAMPTZ USING at::timestamptz;
ALTER TABLE assessments
    ALTER COLUMN enrolled_at TYPE TIMESTAMPTZ USING enrolled_at::timestamptz,
    ALTER COLUMN submitted_at TYPE TIMESTAMPTZ USING submitted_at::timestamptz,
    ALTER COLUMN revoked_at TYPE TIMESTAMPTZ USING revoked_at::timestamptz,
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING updated_at::timestamptz,
    ALTER COLUMN awarded_on TYPE DATE USING awarded_on::date,
    ALTER COLUMN expires_on TYPE DATE USING expires_on::date;
ALTER TABLE attendance
    ALTER COLUMN recorded_at TYPE TIMESTAMPTZ USING recorded_at::timestamptz;
ALTER TABLE audit_log
    ALTER COLUMN at TYPE TIMESTAMPTZ USING at::timestamptz;
ALTER TABLE award_imports
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN committed_at TYPE TIMESTAMPTZ USING committed_at::timestamptz,
    ALTER COLUMN undone_at TYPE TIMESTAMPTZ USING undone_at::timestamptz;
ALTER TABLE certificates
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN revoked_at TYPE TIMESTAMPTZ USING revoked_at::timestamptz,
    ALTER COLUMN issued_on TYPE DATE USING issued_on::date,
    ALTER COLUMN expires_on TYPE DATE USING expires_on::date;
ALTER TABLE cohorts
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz;
ALTER TABLE completion_spells
    ALTER COLUMN held_from TYPE DATE USING held_from::date,
    ALTER COLUMN held_until TYPE DATE USING held_until::date;
ALTER TABLE evidence
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN removed_at TYPE TIMESTAMPTZ USING removed_at::timestamptz,
    ALTER COLUMN superseded_at TYPE TIMESTAMPTZ USING superseded_at::timestamptz,
    ALTER COLUMN applies_from TYPE DATE USING applies_from::date,
    ALTER COLUMN valid_until TYPE DATE USING valid_until::date;
ALTER TABLE identity_decisions
    ALTER COLUMN decided_at TYPE TIMESTAMPTZ USING decided_at::timestamptz;
ALTER TABLE imports
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN committed_at TYPE TIMESTAMPTZ USING committed_at::timestamptz,
    ALTER COLUMN undone_at TYPE TIMESTAMPTZ USING undone_at::timestamptz;
ALTER TABLE login_known_addresses
    ALTER COLUMN last_success_at TYPE TIMESTAMPTZ USING last_success_at::timestamptz;
ALTER TABLE organisations
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING updated_at::timestamptz;
ALTER TABLE password_resets
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN expires_at TYPE TIMESTAMPTZ USING expires_at::timestamptz,
    ALTER COLUMN used_at TYPE TIMESTAMPTZ USING used_at::timestamptz;
ALTER TABLE people
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING updated_at::timestamptz;
ALTER TABLE person_completions
    ALTER COLUMN started_on TYPE DATE USING started_on::date,
    ALTER COLUMN completed_on TYPE DATE USING completed_on::date,
    ALTER COLUMN lapses_on TYPE DATE USING lapses_on::date;
ALTER TABLE programme_signups
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN signed_up_on TYPE DATE USING signed_up_on::date;
ALTER TABLE published_reports
    ALTER COLUMN published_at TYPE TIMESTAMPTZ USING published_at::timestamptz,
    ALTER COLUMN withdrawn_at TYPE TIMESTAMPTZ USING withdrawn_at::timestamptz,
    ALTER COLUMN period_from TYPE DATE USING period_from::date,
    ALTER COLUMN period_to TYPE DATE USING period_to::date;
ALTER TABLE review_decisions
    ALTER COLUMN decided_at TYPE TIMESTAMPTZ USING decided_at::timestamptz;
ALTER TABLE sessions
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN expires_at TYPE TIMESTAMPTZ USING expires_at::timestamptz,
    ALTER COLUMN last_seen_at TYPE TIMESTAMPTZ USING last_seen_at::timestamptz,
    ALTER COLUMN revoked_at TYPE TIMESTAMPTZ USING revoked_at::timestamptz;
ALTER TABLE throttle_counters
    ALTER COLUMN window_started_at TYPE TIMESTAMPTZ USING window_started_at::timestamptz;
ALTER TABLE training_sessions
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN session_date TYPE DATE USING session_date::date;
ALTER TABLE users
    ALTER COLUMN created_at TYPE TIMESTAMPTZ USING created_at::timestamptz,
    ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING updated_at::timestamptz;
