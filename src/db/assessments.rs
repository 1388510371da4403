//! Assessments, the history of their transitions, and assessors' decisions.
//! State changes are conditional updates (`… WHERE state = $from`): if two
//! people act at once, the second finds the state moved and is told so,
//! rather than both succeeding.

use super::audit::{Actor, Stamp};
use super::Instant;
use super::{Conn, Pool};
use crate::domain::access::OrgScope;
use crate::domain::assessment::{Decision, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AssessmentRow {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub framework_id: String,
    pub framework_version: String,
    #[sqlx(try_from = "String")]
    pub state: State,
    pub submission: i64,
    pub renewal_of: Option<i64>,
    pub enrolled_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub awarded_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: String,
    pub updated_at: DateTime<Utc>,
    /// The assessment that renews this one, if started, and its state.
    pub renewed_by: Option<i64>,
    renewal_state: Option<String>,
}

impl AssessmentRow {
    /// Whether the renewal that follows this award has itself been awarded.
    pub fn renewal_awarded(&self) -> bool {
        self.renewal_state.as_deref() == Some(State::Awarded.as_str())
    }
}

const SELECT: &str = "SELECT a.id, a.organisation_id, o.name AS organisation_name, a.framework_id, a.framework_version,
        a.state, a.submission, a.renewal_of, a.enrolled_at, a.submitted_at, a.awarded_on, a.expires_on,
        a.revoked_at, a.revocation_reason, a.updated_at, r.id AS renewed_by, r.state AS renewal_state
    FROM assessments a
    JOIN organisations o ON o.id = a.organisation_id
    LEFT JOIN assessments r ON r.renewal_of = a.id";

pub async fn find(pool: &Pool, id: i64) -> Result<Option<AssessmentRow>, sqlx::Error> {
    find_in(&mut pool.acquire().await?, id).await
}

pub async fn find_in(conn: &mut Conn, id: i64) -> Result<Option<AssessmentRow>, sqlx::Error> {
    super::first_row(conn, &format!("{SELECT} WHERE a.id = $1"), &[id.into()]).await
}

/// One page of the assessments `scope` may see.
pub struct ListFilter<'a> {
    pub scope: OrgScope,
    /// '' for every state.
    pub state: &'a str,
    pub framework_id: &'a str,
    pub limit: i64,
    pub offset: i64,
}

/// The list's order: by organisation name, then framework, the newest
/// first. Across organisations, by name and then id (names are unique, but
/// the id lets the organisations' name index give the order), so that a
/// page is read from that index instead of sorting every assessment; one
/// organisation's are read from its own index.
fn list_order(scope: OrgScope) -> &'static str {
    match scope {
        OrgScope::All => "o.name, o.id, a.framework_id, a.id DESC",
        OrgScope::Only(_) => "a.framework_id, a.id DESC",
    }
}

pub async fn list(pool: &Pool, filter: &ListFilter<'_>) -> Result<(Vec<AssessmentRow>, i64), sqlx::Error> {
    let mut conditions = super::Conditions::default();
    if let OrgScope::Only(id) = filter.scope {
        conditions.add("a.organisation_id = ?", super::Bind::Int(id));
    }
    if !filter.state.is_empty() {
        conditions.add("a.state = ?", super::Bind::Text(filter.state.into()));
    }
    if !filter.framework_id.is_empty() {
        conditions.add("a.framework_id = ?", super::Bind::Text(filter.framework_id.into()));
    }
    let clause = conditions.clause();
    super::page_and_total(
        pool,
        &format!("{SELECT}{clause} ORDER BY {}", list_order(filter.scope)),
        &format!("SELECT COUNT(*) FROM assessments a{clause}"),
        &conditions.binds,
        filter.limit,
        filter.offset,
    )
    .await
}

/// An organisation's assessments as its pages list them (it has a handful:
/// one per framework and renewal).
pub async fn of_organisation(pool: &Pool, organisation_id: i64) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    of_organisation_in(&mut pool.acquire().await?, organisation_id).await
}

pub async fn of_organisation_in(conn: &mut Conn, organisation_id: i64) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    // Its own statement: the list's filter would walk every organisation by
    // name to find this one's.
    let sql = format!("{SELECT} WHERE a.organisation_id = $1 ORDER BY a.framework_id, a.id DESC LIMIT 100");
    super::rows(conn, &sql, &[organisation_id.into()]).await
}

/// One page of the assessments waiting for or in review, longest waiting
/// first, and how many there are in all.
pub async fn review_queue(pool: &Pool, limit: i64, offset: i64) -> Result<(Vec<AssessmentRow>, i64), sqlx::Error> {
    const IN_REVIEW: &str = "a.state IN ('submitted', 'resubmitted', 'under_review', 'recommended')";
    super::page_and_total(
        pool,
        &format!("{SELECT} WHERE {IN_REVIEW} ORDER BY a.submitted_at, a.id"),
        &format!("SELECT COUNT(*) FROM assessments a WHERE {IN_REVIEW}"),
        &[],
        limit,
        offset,
    )
    .await
}

/// Every assessment of one organisation on one framework (any version), newest first.
pub async fn for_organisation_framework(
    conn: &mut Conn,
    organisation_id: i64,
    framework_id: &str,
) -> Result<Vec<AssessmentRow>, sqlx::Error> {
    let sql = format!("{SELECT} WHERE a.organisation_id = $1 AND a.framework_id = $2 ORDER BY a.id DESC");
    super::rows(conn, &sql, &[organisation_id.into(), framework_id.into()]).await
}

pub struct NewAssessment<'a> {
    pub organisation_id: i64,
    pub framework_id: &'a str,
    pub framework_version: &'a str,
    pub state: State,
    pub renewal_of: Option<i64>,
}

pub async fn insert(conn: &mut Conn, new: &NewAssessment<'_>, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO assessments (organisation_id, framework_id, framework_version, state, submission, renewal_of,
             enrolled_at, updated_at)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $6) RETURNING id",
        &[
            new.organisation_id.into(),
            new.framework_id.into(),
            new.framework_version.into(),
            new.state.as_str().into(),
            new.renewal_of.into(),
            Instant(now).into(),
        ],
    )
    .await
}

/// Moves `from` → `to`; false if the state was no longer `from`.
pub async fn set_state(
    conn: &mut Conn,
    id: i64,
    from: State,
    to: State,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE assessments SET state = $1, updated_at = $2 WHERE id = $3 AND state = $4";
    let values = [to.as_str().into(), Instant(now).into(), id.into(), from.as_str().into()];
    Ok(super::execute(conn, sql, &values).await? == 1)
}

/// Takes the assessment's row for this transaction if it is still in
/// `state`, touching nothing else: later steps then run one at a time, the
/// second seeing what the first did. False if the state had moved.
pub async fn claim(conn: &mut Conn, id: i64, state: State, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    set_state(conn, id, state, state, now).await
}

/// A (re)submission: counts it and restarts the queue's clock.
pub async fn submit(conn: &mut Conn, id: i64, from: State, to: State, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE assessments SET state = $1, submission = submission + 1, submitted_at = $2, updated_at = $2
         WHERE id = $3 AND state = $4";
    let values = [to.as_str().into(), Instant(now).into(), id.into(), from.as_str().into()];
    Ok(super::execute(conn, sql, &values).await? == 1)
}

pub async fn award(
    conn: &mut Conn,
    id: i64,
    from: State,
    awarded_on: NaiveDate,
    expires_on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE assessments SET state = 'awarded', awarded_on = $1, expires_on = $2, updated_at = $3
         WHERE id = $4 AND state = $5";
    let values = [
        awarded_on.into(),
        expires_on.into(),
        Instant(now).into(),
        id.into(),
        from.as_str().into(),
    ];
    Ok(super::execute(conn, sql, &values).await? == 1)
}

pub async fn revoke(conn: &mut Conn, id: i64, reason: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    super::end_once(
        conn,
        "UPDATE assessments SET state = 'revoked', revoked_at = $1, revocation_reason = $2, updated_at = $1
         WHERE id = $3 AND state = 'awarded'",
        id,
        reason,
        now,
    )
    .await
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EventRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_label: String,
    pub from_state: String,
    pub to_state: String,
    pub note: String,
}

/// Who moved the assessment from one state to another, and when.
pub async fn record_event(
    conn: &mut Conn,
    assessment_id: i64,
    by: Stamp<'_>,
    from: &str,
    to: State,
    note: &str,
) -> Result<(), sqlx::Error> {
    let sql =
        "INSERT INTO assessment_events (assessment_id, at, actor_user_id, actor_label, from_state, to_state, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    let values = [
        assessment_id.into(),
        Instant(by.at).into(),
        by.actor.user_id.into(),
        by.actor.label.as_str().into(),
        from.into(),
        to.as_str().into(),
        note.into(),
    ];
    super::execute(conn, sql, &values).await?;
    Ok(())
}

pub async fn events(pool: &Pool, assessment_id: i64) -> Result<Vec<EventRow>, sqlx::Error> {
    // People by name: the label (their email then) is kept for the command
    // line and for users since removed.
    let sql = "SELECT e.id, e.at, COALESCE(u.name, e.actor_label) AS actor_label, e.from_state, e.to_state, e.note
         FROM assessment_events e LEFT JOIN users u ON u.id = e.actor_user_id
         WHERE e.assessment_id = $1 ORDER BY e.id";
    super::rows(&mut pool.acquire().await?, sql, &[assessment_id.into()]).await
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct DecisionRow {
    pub id: i64,
    pub criterion_id: String,
    pub submission: i64,
    #[sqlx(try_from = "String")]
    pub decision: Decision,
    pub feedback: String,
    pub decided_at: DateTime<Utc>,
    pub decided_by_label: String,
}

/// Every decision on the assessment, oldest first (the last per criterion stands).
pub async fn decisions(pool: &Pool, assessment_id: i64) -> Result<Vec<DecisionRow>, sqlx::Error> {
    decisions_in(&mut pool.acquire().await?, assessment_id).await
}

pub async fn decisions_in(conn: &mut Conn, assessment_id: i64) -> Result<Vec<DecisionRow>, sqlx::Error> {
    let sql = "SELECT d.id, d.criterion_id, d.submission, d.decision, d.feedback, d.decided_at,
                COALESCE(u.name, d.decided_by_label) AS decided_by_label
         FROM review_decisions d LEFT JOIN users u ON u.id = d.decided_by
         WHERE d.assessment_id = $1 ORDER BY d.id";
    super::rows(conn, sql, &[assessment_id.into()]).await
}

pub struct NewDecision<'a> {
    pub criterion_id: &'a str,
    pub submission: i64,
    pub decision: &'a str,
    pub feedback: &'a str,
}

pub async fn insert_decision(
    conn: &mut Conn,
    assessment_id: i64,
    decision: &NewDecision<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO review_decisions (assessment_id, criterion_id, submission, decision, feedback, decided_at,
             decided_by, decided_by_label)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            assessment_id.into(),
            decision.criterion_id.into(),
            decision.submission.into(),
            decision.decision.into(),
            decision.feedback.into(),
            Instant(now).into(),
            actor.user_id.into(),
            actor.label.as_str().into(),
        ],
    )
    .await
}
