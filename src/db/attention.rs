//! The "needs your attention" lists of the home pages that `db::home` does
//! not already read: awards due for renewal, training about to lapse, and
//! the totals behind lists that show only their head. Each list is bounded
//! and counted separately, so it says "and N more" rather than stopping
//! silently.

use super::FetchFully;
use super::{db_run, Conn, Pool};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::FromRow;

/// An award whose renewal is due: held today, expiring within the notice
/// period, and not yet replaced by an awarded renewal.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AwardDue {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub framework_id: String,
    pub framework_version: String,
    pub expires_on: NaiveDate,
    /// The renewal the organisation has started, if any.
    pub renewal_id: Option<i64>,
}

/// The same rule as the organisations list's "Renewal due" filter
/// (`db::organisation_status`): awarded, expiring after `$1` (today) and on
/// or before `$2`, with no awarded renewal.
const AWARD_DUE: &str = "a.state = 'awarded' AND a.expires_on > $1 AND a.expires_on <= $2
    AND NOT EXISTS (SELECT 1 FROM assessments r WHERE r.renewal_of = a.id AND r.state = 'awarded')";

/// The first `limit` awards due for renewal, the soonest expiry first
/// (their count is one of [`lead_totals`]).
pub async fn awards_due(
    pool: &Pool,
    today: NaiveDate,
    due_by: NaiveDate,
    limit: i64,
) -> Result<Vec<AwardDue>, sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
    let sql = format!(
        "SELECT a.id, a.organisation_id, o.name AS organisation_name, a.framework_id, a.framework_version,
            a.expires_on,
            (SELECT MAX(r.id) FROM assessments r WHERE r.renewal_of = a.id) AS renewal_id
         FROM assessments a JOIN organisations o ON o.id = a.organisation_id
         WHERE {AWARD_DUE}
         ORDER BY a.expires_on, a.id
         LIMIT $3"
    );
    db_run!(pool => {
        sqlx::query_as(&sql).bind(today).bind(due_by).bind(limit).fetch_all(pool).await
    })
}

/// The totals behind the programme lead's attention list.
#[derive(Debug, Clone, Copy, FromRow)]
pub struct LeadTotals {
    pub awards_due: i64,
    pub review_queue: i64,
    pub pending_imports: i64,
}

/// Awards due for renewal, assessments waiting for an assessor and imports
/// waiting in preview, counted in one statement: the dashboard asks on
/// every view, and each statement is a round trip to a connection.
pub async fn lead_totals(pool: &Pool, today: NaiveDate, due_by: NaiveDate) -> Result<LeadTotals, sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
    let sql = format!(
        "SELECT (SELECT COUNT(*) FROM assessments a WHERE {AWARD_DUE}) AS awards_due,
            (SELECT COUNT(*) FROM assessments WHERE state IN {}) AS review_queue,
            (SELECT COUNT(*) FROM imports WHERE state = 'pending') AS pending_imports",
        super::home::WAITING_FOR_ASSESSOR
    );
    db_run!(pool => {
        sqlx::query_as(&sql).bind(today).bind(due_by).fetch_exactly_one(pool).await
    })
}

/// How many assessments wait for an assessor (the head of the queue is
/// `db::home::review_queue_head`).
pub async fn review_queue_total(pool: &Pool) -> Result<i64, sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
    db_run!(pool => {
        let (total,): (i64,) = sqlx::query_as(
            &format!("SELECT COUNT(*) FROM assessments WHERE state IN {}", super::home::WAITING_FOR_ASSESSOR),
        )
        .fetch_exactly_one(pool)
        .await?;
        Ok(total)
    })
}

/// A person's completion that lapses soon unless they attend a refresher.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct Lapsing {
    pub person_id: i64,
    pub full_name: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub programme_id: String,
    pub completion_id: String,
    pub lapses_on: NaiveDate,
}

/// Completions lapsing from `from` to `until` (both inclusive): the soonest
/// first, and how many there are. Uses `person_completions_by_lapse`
/// (migration 0014).
pub async fn lapsing_training(
    pool: &Pool,
    from: NaiveDate,
    until: NaiveDate,
    limit: i64,
) -> Result<(Vec<Lapsing>, i64), sqlx::Error> {
    const LAPSING: &str = "pc.lapses_on >= $1 AND pc.lapses_on <= $2";
    super::page_and_total(
        pool,
        &format!(
            "SELECT pc.person_id, p.full_name, pc.organisation_id, COALESCE(o.name, '') AS organisation_name,
                pc.programme_id, pc.completion_id, pc.lapses_on
             FROM person_completions pc
             JOIN people p ON p.id = pc.person_id
             LEFT JOIN organisations o ON o.id = pc.organisation_id
             WHERE {LAPSING}
             ORDER BY pc.lapses_on, p.full_name, pc.id"
        ),
        &format!("SELECT COUNT(*) FROM person_completions pc WHERE {LAPSING}"),
        &[super::Bind::Date(from), super::Bind::Date(until)],
        limit,
        0,
    )
    .await
}

/// How many items of the organisation's current evidence run out from
/// `today` to `until`: the same rule as `db::home::expiring_evidence`, whose
/// list is bounded.
pub async fn expiring_evidence_total(
    conn: &mut Conn,
    organisation_id: i64,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<i64, sqlx::Error> {
    db_run!(conn => {
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {}", super::home::EXPIRING_EVIDENCE))
        .bind(organisation_id)
        .bind(today)
        .bind(until)
        .fetch_exactly_one(conn)
        .await?;
        Ok(total)
    })
}
