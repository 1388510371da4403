-- A reminder that could not be sent within a fortnight of being queued (no
-- mail server configured yet, or one down for that long) is out of date: it
-- is withdrawn, with the reason, rather than sent late. So configuring SMTP
-- on a database that has queued for months does not send months of
-- reminders at once.
ALTER TABLE outbox ADD COLUMN withdrawn_at TEXT;
ALTER TABLE outbox ADD COLUMN withdrawn_reason TEXT;
DROP INDEX outbox_due;
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL AND withdrawn_at IS NULL;
CREATE INDEX outbox_pending_by_created ON outbox(created_at) WHERE sent_at IS NULL AND withdrawn_at IS NULL;
