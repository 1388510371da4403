//! The outbox of reminder emails (migration 0033): queued by the workflows
//! and the reminder scan, claimed and delivered by a sender, and each
//! user's choice of the kinds they do not want.
//!
//! Claiming is what keeps a message from going twice when two senders (two
//! app servers, or a server and `qmtrack reminders send`) run at once: in
//! one write transaction a sender picks the due messages and moves their
//! next attempt on by a lease, so they are no longer due for anyone else.
//! On PostgreSQL the pick is `FOR UPDATE SKIP LOCKED`, so a second sender
//! passes over the rows the first is claiming instead of waiting for them
//! (and, once the first commits, finds them no longer due); on SQLite the
//! write lock taken by [`super::begin_write`] lets one claim at a time.

use super::{begin_write, first_row, one_value, rows, Backend, Bind, Conn, Instant, Pool};
use crate::domain::reminders::Kind;
use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use sqlx::FromRow;

/// A message to queue. `dedupe_key` names the reminder and its recipient.
pub struct NewMessage<'a> {
    pub kind: Kind,
    pub dedupe_key: &'a str,
    pub user_id: Option<i64>,
    pub recipient: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// Queues a message, due now; false (changing nothing) when one with the
/// same key was queued before, whether or not it has been sent.
pub async fn enqueue(conn: &mut Conn, message: &NewMessage<'_>, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let added = super::execute(
        conn,
        "INSERT INTO outbox (kind, dedupe_key, user_id, recipient, subject, body_text, body_html,
            created_at, next_attempt_at, attempts)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8, 0)
         ON CONFLICT (dedupe_key) DO NOTHING",
        &[
            message.kind.as_str().into(),
            message.dedupe_key.into(),
            message.user_id.into(),
            message.recipient.into(),
            message.subject.into(),
            message.text.into(),
            message.html.into(),
            Instant(now).into(),
        ],
    )
    .await?;
    Ok(added == 1)
}

/// A message claimed for delivery.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub recipient: String,
    pub subject: String,
    pub body_text: String,
    pub body_html: String,
    /// Deliveries tried, this one included.
    pub attempts: i64,
}

/// Claims up to `limit` messages due at `now` for this sender: each one's
/// attempt is counted and its next attempt moved to `now + lease`, so no
/// other sender takes it while this one delivers (and, should this sender
/// stop before recording the outcome, it is tried again after the lease).
pub async fn claim_due(
    pool: &Pool,
    now: DateTime<Utc>,
    lease: Duration,
    limit: i64,
) -> Result<Vec<Claimed>, sqlx::Error> {
    let mut tx = begin_write(pool).await?;
    let lock = match pool.backend() {
        Backend::Postgres => " FOR UPDATE SKIP LOCKED",
        Backend::Sqlite => "",
    };
    let due: Vec<(i64,)> = rows(
        &mut tx,
        &format!(
            "SELECT id FROM outbox WHERE sent_at IS NULL AND withdrawn_at IS NULL AND next_attempt_at <= $1
             ORDER BY next_attempt_at, id LIMIT $2{lock}"
        ),
        &[Instant(now).into(), limit.into()],
    )
    .await?;
    let mut claimed = Vec::with_capacity(due.len());
    for (id,) in due {
        // Still due, checked again as the row is written: should another
        // sender have claimed it since it was picked (a PostgreSQL reader
        // that did not skip it), this one leaves it.
        let row: Option<Claimed> = first_row(
            &mut tx,
            "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = $1
             WHERE id = $2 AND sent_at IS NULL AND withdrawn_at IS NULL AND next_attempt_at <= $3
             RETURNING id, recipient, subject, body_text, body_html, attempts",
            &[Instant(now + lease).into(), id.into(), Instant(now).into()],
        )
        .await?;
        claimed.extend(row);
    }
    tx.commit().await?;
    Ok(claimed)
}

/// Withdraws every message not yet sent that was queued before `queued_before`,
/// with `reason`; returns how many.
pub async fn withdraw_queued_before(
    pool: &Pool,
    queued_before: DateTime<Utc>,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<u64, sqlx::Error> {
    super::execute(
        &mut pool.acquire().await?,
        "UPDATE outbox SET withdrawn_at = $1, withdrawn_reason = $2
         WHERE sent_at IS NULL AND withdrawn_at IS NULL AND created_at < $3",
        &[Instant(now).into(), reason.into(), Instant(queued_before).into()],
    )
    .await
}

/// Records a delivery.
pub async fn mark_sent(pool: &Pool, id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    super::execute(
        &mut pool.acquire().await?,
        "UPDATE outbox SET sent_at = $1, last_error = NULL WHERE id = $2",
        &[Instant(now).into(), id.into()],
    )
    .await
    .map(drop)
}

/// Records a failed delivery and when to try again.
pub async fn mark_failed(pool: &Pool, id: i64, retry_at: DateTime<Utc>, error: &str) -> Result<(), sqlx::Error> {
    super::execute(
        &mut pool.acquire().await?,
        "UPDATE outbox SET next_attempt_at = $1, last_error = $2 WHERE id = $3 AND sent_at IS NULL",
        &[Instant(retry_at).into(), error.into(), id.into()],
    )
    .await
    .map(drop)
}

/// One message as the outbox page lists it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Listed {
    pub id: i64,
    pub kind: String,
    pub recipient: String,
    pub subject: String,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub attempts: i64,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTime<Utc>>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: Option<String>,
}

/// Which messages a list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not yet delivered, and no delivery has failed.
    Queued,
    /// Not yet delivered after a failed delivery.
    Failed,
    Sent,
    /// Not sent, and never will be: out of date before it could be.
    Withdrawn,
}

impl Status {
    fn filter(self) -> &'static str {
        match self {
            Status::Queued => "sent_at IS NULL AND withdrawn_at IS NULL AND last_error IS NULL",
            Status::Failed => "sent_at IS NULL AND withdrawn_at IS NULL AND last_error IS NOT NULL",
            Status::Sent => "sent_at IS NOT NULL",
            Status::Withdrawn => "withdrawn_at IS NOT NULL",
        }
    }
}

/// The newest messages in `status`, and how many there are in all.
pub async fn list(pool: &Pool, status: Status, limit: i64, offset: i64) -> Result<(Vec<Listed>, i64), sqlx::Error> {
    let filter = status.filter();
    super::page_and_total(
        pool,
        &format!(
            "SELECT id, kind, recipient, subject, created_at, next_attempt_at, attempts, last_error, sent_at,
                    withdrawn_at, withdrawn_reason
             FROM outbox WHERE {filter} ORDER BY created_at DESC, id DESC"
        ),
        &format!("SELECT COUNT(*) FROM outbox WHERE {filter}"),
        &[],
        limit,
        offset,
    )
    .await
}

/// How many messages are still to be delivered.
pub async fn undelivered(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    one_value(
        conn,
        "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND withdrawn_at IS NULL",
        &[],
    )
    .await
}

/// The kinds `user_id` has turned off.
pub async fn opt_outs(conn: &mut Conn, user_id: i64) -> Result<Vec<Kind>, sqlx::Error> {
    let stored: Vec<(String,)> = rows(
        conn,
        "SELECT kind FROM reminder_opt_outs WHERE user_id = $1 ORDER BY kind",
        &[user_id.into()],
    )
    .await?;
    Ok(stored.into_iter().filter_map(|(kind,)| Kind::parse(&kind)).collect())
}

/// Replaces the kinds `user_id` has turned off.
pub async fn set_opt_outs(conn: &mut Conn, user_id: i64, kinds: &[Kind]) -> Result<(), sqlx::Error> {
    super::execute(
        conn,
        "DELETE FROM reminder_opt_outs WHERE user_id = $1",
        &[user_id.into()],
    )
    .await?;
    for kind in kinds {
        super::execute(
            conn,
            "INSERT INTO reminder_opt_outs (user_id, kind) VALUES ($1, $2)",
            &[user_id.into(), kind.as_str().into()],
        )
        .await?;
    }
    Ok(())
}

/// Someone a message goes to: an account, or an address with none.
#[derive(Debug, Clone, FromRow)]
pub struct Recipient {
    pub user_id: Option<i64>,
    pub email: String,
}

/// Whom a message about an organisation or a role goes to.
#[derive(Debug, Clone, Copy)]
pub enum Audience {
    /// The organisation's active members.
    MembersOf(i64),
    /// Every active assessor.
    Assessors,
    /// Every active programme lead.
    ProgrammeLeads,
    /// The organisation's contact address (with the account of that
    /// address, if there is one, so its choices count).
    ContactOf(i64),
}

/// The recipients in `audience` who have not turned `kind` off.
pub async fn recipients(conn: &mut Conn, audience: Audience, kind: Kind) -> Result<Vec<Recipient>, sqlx::Error> {
    const NOT_OPTED_OUT: &str = "NOT EXISTS (SELECT 1 FROM reminder_opt_outs r WHERE r.user_id = u.id AND r.kind = $1)";
    let kind_value = Bind::from(kind.as_str());
    match audience {
        Audience::MembersOf(organisation_id) => {
            rows(
                conn,
                &format!(
                    "SELECT u.id AS user_id, u.email FROM users u
                     WHERE u.role = 'org_member' AND u.organisation_id = $2 AND u.active AND {NOT_OPTED_OUT}
                     ORDER BY u.id"
                ),
                &[kind_value, organisation_id.into()],
            )
            .await
        }
        Audience::Assessors | Audience::ProgrammeLeads => {
            let role = if matches!(audience, Audience::Assessors) {
                "assessor"
            } else {
                "programme_lead"
            };
            rows(
                conn,
                &format!(
                    "SELECT u.id AS user_id, u.email FROM users u
                     WHERE u.role = $2 AND u.active AND {NOT_OPTED_OUT} ORDER BY u.id"
                ),
                &[kind_value, role.into()],
            )
            .await
        }
        Audience::ContactOf(organisation_id) => {
            let found: Option<Recipient> = first_row(
                conn,
                "SELECT (SELECT MIN(u.id) FROM users u WHERE LOWER(u.email) = LOWER(o.contact_email)) AS user_id,
                    o.contact_email AS email
                 FROM organisations o WHERE o.id = $1 AND o.contact_email <> ''",
                &[organisation_id.into()],
            )
            .await?;
            let Some(found) = found else {
                return Ok(Vec::new());
            };
            if let Some(user_id) = found.user_id {
                if opt_outs(conn, user_id).await?.contains(&kind) {
                    return Ok(Vec::new());
                }
            }
            Ok(vec![found])
        }
    }
}
