-- Awards made before qmtrack, imported from a partnership's spreadsheet.
-- An import is previewed from its stored upload, committed all or nothing,
-- and undone by the rows that name it (no row per effect is needed).

CREATE TABLE award_imports (
    id INTEGER PRIMARY KEY,
    user_id INTEGER REFERENCES users(id),
    actor_label TEXT NOT NULL,
    file_name TEXT NOT NULL,
    file_sha256 TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'committed', 'undone', 'discarded')),
    create_organisations INTEGER NOT NULL DEFAULT 0,
    with_certificates INTEGER NOT NULL DEFAULT 0,
    -- The uploaded file while the import is pending; NULL once it is not.
    upload BLOB,
    summary_json TEXT NOT NULL DEFAULT '{}',
    created_at TEXT NOT NULL,
    committed_at TEXT,
    undone_at TEXT
);

-- The award import that recorded an assessment or added an organisation
-- (NULL for everything made in qmtrack or by an attendance import).
ALTER TABLE assessments ADD COLUMN award_import_id INTEGER REFERENCES award_imports(id);
ALTER TABLE organisations ADD COLUMN award_import_id INTEGER REFERENCES award_imports(id);
CREATE INDEX assessments_by_award_import ON assessments(award_import_id);
CREATE INDEX organisations_by_award_import ON organisations(award_import_id);
