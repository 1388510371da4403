-- The public register of award holders is worked out from the assessments'
-- dates; only the exceptions are stored: an organisation that chose not to
-- be listed, or one whose listing the programme lead hid (with the reason).
-- An organisation without a row is listed whenever it holds a current award.

CREATE TABLE register_choices (
    organisation_id BIGINT PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    opted_out BOOLEAN NOT NULL DEFAULT FALSE,
    hidden BOOLEAN NOT NULL DEFAULT FALSE,
    hidden_reason TEXT,
    updated_at TEXT NOT NULL
);
