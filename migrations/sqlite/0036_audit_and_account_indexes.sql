-- An entity's history (every audit entry about one assessment, certificate,
-- import, …) and the audit log filtered by kind of record read this index
-- instead of every entry ever written.
CREATE INDEX audit_log_by_entity ON audit_log(entity, entity_id, at);
-- An organisation's page lists its member accounts by this reference.
CREATE INDEX users_by_organisation ON users(organisation_id);
