//! What each role's home page reads: the head of the review queue, sessions
//! coming up and registers still to take, imports waiting in preview, and an
//! organisation's expiring evidence and certificates. Every list is bounded
//! (`LIMIT`) and counted separately, so a home page costs the same however
//! much history there is.

use super::FetchFully;
use super::{db_run, Conn, Pool};
use crate::domain::assessment::State;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

/// States in which an assessment waits for an assessor (not for the
/// organisation, nor for the programme lead's award).
pub(super) const WAITING_FOR_ASSESSOR: &str = "('submitted', 'resubmitted', 'under_review')";

/// One assessment waiting in the review queue.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct QueueItem {
    pub id: i64,
    pub organisation_name: String,
    pub framework_id: String,
    pub framework_version: String,
    #[sqlx(try_from = "String")]
    pub state: State,
    pub submission: i64,
    /// When it was (last) sent for review.
    pub submitted_at: DateTime<Utc>,
    pub is_renewal: bool,
    /// How many decisions `user_id` has recorded on this submission: the
    /// reviews they have started.
    pub my_decisions: i64,
}

/// The assessments waiting for an assessor, the longest waiting first.
pub async fn review_queue_head(pool: &Pool, user_id: i64, limit: i64) -> Result<Vec<QueueItem>, sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
    db_run!(pool => {
        sqlx::query_as(&format!(
            "SELECT a.id, o.name AS organisation_name, a.framework_id, a.framework_version, a.state, a.submission,
                COALESCE(a.submitted_at, a.updated_at) AS submitted_at,
                a.renewal_of IS NOT NULL AS is_renewal,
                (SELECT COUNT(*) FROM review_decisions d
                 WHERE d.assessment_id = a.id AND d.submission = a.submission AND d.decided_by = $1) AS my_decisions
         FROM assessments a JOIN organisations o ON o.id = a.organisation_id
         WHERE a.state IN {WAITING_FOR_ASSESSOR}
         ORDER BY a.submitted_at, a.id
         LIMIT $2"
        ))
        .bind(user_id)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// How many assessments are in each review state (waiting for an assessor,
/// and recommended and waiting for the programme lead).
pub async fn review_counts(pool: &Pool) -> Result<Vec<(State, i64)>, sqlx::Error> {
    db_run!(pool => {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT state, COUNT(*) FROM assessments
         WHERE state IN ('submitted', 'resubmitted', 'under_review', 'recommended', 'changes_requested')
         GROUP BY state",
        )
        .fetch_all(pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(state, count)| State::parse(&state).map(|s| (s, count)))
            .collect())
    })
}

/// A session as the training lead's home lists it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SessionItem {
    pub id: i64,
    pub programme_id: String,
    pub module_id: String,
    pub session_date: NaiveDate,
    pub start_time: Option<String>,
    pub venue: String,
    pub cohort_id: Option<i64>,
    pub cohort_name: String,
}

const SESSION_ITEM: &str = "SELECT s.id, s.programme_id, s.module_id, s.session_date, s.start_time, s.venue,
        s.cohort_id, COALESCE(c.name, '') AS cohort_name
    FROM training_sessions s LEFT JOIN cohorts c ON c.id = s.cohort_id";

/// Sessions from `today` on, the soonest first.
pub async fn upcoming_sessions(pool: &Pool, today: NaiveDate, limit: i64) -> Result<Vec<SessionItem>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_as(&format!(
            "{SESSION_ITEM} WHERE s.session_date >= $1 ORDER BY s.session_date, s.start_time NULLS FIRST, s.id LIMIT $2"
        ))
        .bind(today)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// Past sessions from `since` (inclusive) to before `today` with no one
/// marked on their register, the most recent first, and how many there are.
pub async fn registers_to_take(
    pool: &Pool,
    since: NaiveDate,
    today: NaiveDate,
    limit: i64,
) -> Result<(Vec<SessionItem>, i64), sqlx::Error> {
    const UNMARKED: &str = "s.session_date >= $1 AND s.session_date < $2
        AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.session_id = s.id)";
    super::page_and_total(
        pool,
        &format!("{SESSION_ITEM} WHERE {UNMARKED} ORDER BY s.session_date DESC, s.id DESC"),
        &format!("SELECT COUNT(*) FROM training_sessions s WHERE {UNMARKED}"),
        &[super::Bind::Date(since), super::Bind::Date(today)],
        limit,
        0,
    )
    .await
}

/// An import uploaded and checked but neither committed nor discarded.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PendingImport {
    pub id: i64,
    pub file_name: String,
    pub actor_label: String,
    pub created_at: DateTime<Utc>,
}

/// Imports waiting in preview, the newest first.
pub async fn pending_imports(pool: &Pool, limit: i64) -> Result<Vec<PendingImport>, sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
    db_run!(pool => {
        sqlx::query_as(
            "SELECT i.id, i.file_name, COALESCE(u.name, i.actor_label) AS actor_label, i.created_at
         FROM imports i LEFT JOIN users u ON u.id = i.user_id
         WHERE i.state = 'pending' ORDER BY i.id DESC LIMIT $1",
        )
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// The organisation's (`$1`) current evidence whose last valid day falls
/// from `$2` to `$3`: the list below and its count (`db::attention`) alike.
pub(super) const EXPIRING_EVIDENCE: &str = "evidence e JOIN assessments a ON a.id = e.assessment_id
         WHERE e.organisation_id = $1 AND a.organisation_id = $1
           AND e.superseded_at IS NULL AND e.removed_at IS NULL
           AND e.valid_until IS NOT NULL AND e.valid_until >= $2 AND e.valid_until <= $3
           AND a.state <> 'revoked'
           AND NOT EXISTS (SELECT 1 FROM assessments r WHERE r.renewal_of = a.id)";

/// An item of evidence that stops being valid soon.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ExpiringEvidence {
    pub id: i64,
    pub assessment_id: i64,
    pub framework_id: String,
    pub framework_version: String,
    pub criterion_id: String,
    pub title: String,
    pub valid_until: NaiveDate,
}

/// The organisation's current evidence whose last valid day falls from
/// `today` to `until`, the soonest first. Only evidence that still counts:
/// not replaced or removed, on an assessment neither revoked nor being
/// renewed (a renewal carries the evidence over, and its copy is the one
/// to replace).
pub async fn expiring_evidence(
    pool: &Pool,
    organisation_id: i64,
    today: NaiveDate,
    until: NaiveDate,
    limit: i64,
) -> Result<Vec<ExpiringEvidence>, sqlx::Error> {
    expiring_evidence_in(&mut pool.acquire().await?, organisation_id, today, until, limit).await
}

pub async fn expiring_evidence_in(
    conn: &mut Conn,
    organisation_id: i64,
    today: NaiveDate,
    until: NaiveDate,
    limit: i64,
) -> Result<Vec<ExpiringEvidence>, sqlx::Error> {
    db_run!(conn => {
        sqlx::query_as(&format!(
            "SELECT e.id, e.assessment_id, a.framework_id, a.framework_version, e.criterion_id, e.title, e.valid_until
         FROM {EXPIRING_EVIDENCE}
         ORDER BY e.valid_until, e.id
         LIMIT $4"
        ))
        .bind(organisation_id)
        .bind(today)
        .bind(until)
        .bind(limit)
        .fetch_all(conn)
        .await
    })
}

/// A certificate as a list on a home or organisation page shows it.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CertificateItem {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub holder_name: String,
    pub title: String,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub superseded_by_code: Option<String>,
}

/// The organisation's award certificates (all of them: an organisation has
/// few), newest first, and how many training certificates its staff hold.
pub async fn organisation_certificates(
    pool: &Pool,
    organisation_id: i64,
) -> Result<(Vec<CertificateItem>, i64), sqlx::Error> {
    organisation_certificates_in(&mut pool.acquire().await?, organisation_id).await
}

pub async fn organisation_certificates_in(
    conn: &mut Conn,
    organisation_id: i64,
) -> Result<(Vec<CertificateItem>, i64), sqlx::Error> {
    db_run!(conn => {
        let awards = sqlx::query_as(
            "SELECT id, code, kind, holder_name, title, issued_on, expires_on, revoked_at, superseded_by_code
         FROM certificates WHERE organisation_id = $1 AND kind = 'award'
         ORDER BY issued_on DESC, id DESC",
        )
        .bind(organisation_id)
        .fetch_all(&mut *conn)
        .await?;
        let (training,): (i64,) = sqlx::query_as(
            "SELECT COUNT(*) FROM certificates
             WHERE organisation_id = $1 AND kind = 'training' AND revoked_at IS NULL AND superseded_by_code IS NULL",
        )
        .bind(organisation_id)
        .fetch_exactly_one(&mut *conn)
        .await?;
        Ok((awards, training))
    })
}
