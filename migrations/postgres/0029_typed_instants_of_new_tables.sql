-- The tables added after 0019 (stored files and import runs in 0025, register
-- choices in 0028) were created with text instants: they become TIMESTAMPTZ
-- like every other instant. The stored text is UTC RFC 3339, so the cast is exact.
ALTER TABLE stored_files ALTER COLUMN stored_at TYPE TIMESTAMPTZ USING stored_at::timestamptz;
ALTER TABLE import_runs ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING updated_at::timestamptz;
ALTER TABLE register_choices ALTER COLUMN updated_at TYPE TIMESTAMPTZ USING updated_at::timestamptz;
