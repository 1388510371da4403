-- Reminders by email (issue 13): the workflows and the reminder scan put
-- each message in the outbox, inside the transaction of what caused it; a
-- sender delivers what is due and records the outcome, so nothing is lost
-- while the mail server is down and, before SMTP is configured, the
-- programme lead can see what would have gone.
--
-- `dedupe_key` names the reminder and its recipient ("renewal_due:12:30:u7"),
-- so the same reminder is never queued twice however often the scan runs.
-- `user_id` is the recipient's account when there is one; `recipient` is
-- the address it goes to (an organisation's contact may have no account).
-- A message is due while `sent_at` is NULL and `next_attempt_at` has come;
-- a sender claims it by moving `next_attempt_at` on, so another sender
-- passes it by.
CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    user_id INTEGER REFERENCES users(id) ON DELETE SET NULL,
    recipient TEXT NOT NULL,
    subject TEXT NOT NULL,
    body_text TEXT NOT NULL,
    body_html TEXT NOT NULL,
    created_at TEXT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    sent_at TEXT
);
CREATE INDEX outbox_due ON outbox(next_attempt_at) WHERE sent_at IS NULL;
CREATE INDEX outbox_by_created ON outbox(created_at, id);

-- The kinds of reminder each user has turned off; no row means "send it".
CREATE TABLE reminder_opt_outs (
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    PRIMARY KEY (user_id, kind)
);
