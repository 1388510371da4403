-- The audit log narrowed to one kind of record or one action, newest first:
-- read in that order from these and stop at the page, instead of finding
-- every match by the (entity, entity_id, at) and (action, at) indexes and
-- sorting them all by id (10,000 assessment entries sorted for a page of 50
-- on the large data set, 48,000 for the evidence uploads).
CREATE INDEX audit_log_by_entity_newest ON audit_log(entity, id);
CREATE INDEX audit_log_by_action_newest ON audit_log(action, id);
