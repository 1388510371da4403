-- The public register of award holders is worked out from the assessments'
-- dates; only the exceptions are stored: an organisation that chose not to
-- be listed, or one whose listing the programme lead hid (with the reason).
-- An organisation without a row is listed whenever it holds a current award.

CREATE TABLE register_choices (
    organisation_id INTEGER PRIMARY KEY REFERENCES organisations(id) ON DELETE CASCADE,
    opted_out INTEGER NOT NULL DEFAULT 0,
    hidden INTEGER NOT NULL DEFAULT 0,
    hidden_reason TEXT,
    updated_at TEXT NOT NULL
);
