//! What training requirements are judged from (an organisation's staff and
//! who held a completion when), and the snapshots frozen at submission.

use super::{execute, rows, Conn, Instant};
use crate::domain::training_requirement::{Holding, StaffMember};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

/// The organisation's staff list, by name, with each person's category.
pub async fn staff_of(conn: &mut Conn, organisation_id: i64) -> Result<Vec<StaffMember>, sqlx::Error> {
    let sql = "SELECT id, full_name, staff_category FROM people WHERE organisation_id = $1 ORDER BY full_name, id";
    let found: Vec<(i64, String, Option<String>)> = rows(conn, sql, &[organisation_id.into()]).await?;
    Ok(found
        .into_iter()
        .map(|(person_id, full_name, category)| StaffMember {
            person_id,
            full_name,
            category,
        })
        .collect())
}

/// Every stretch in which someone now on the organisation's staff held the
/// completion (kept beside attendance; see [`super::completions`]).
pub async fn holdings(
    conn: &mut Conn,
    organisation_id: i64,
    programme_id: &str,
    completion_id: &str,
) -> Result<Vec<Holding>, sqlx::Error> {
    // From the organisation's staff to each one's spells (by holder): CROSS
    // JOIN keeps SQLite, which has no statistics for this, to that order;
    // walking the completion's spells and looking up each one's person took
    // over a second for IRIS on the large data set. For PostgreSQL it is an
    // inner join like any other.
    let sql = "SELECT cs.person_id, cs.held_from, cs.held_until
         FROM people p CROSS JOIN completion_spells cs
         WHERE p.organisation_id = $1 AND cs.person_id = p.id AND cs.programme_id = $2 AND cs.completion_id = $3";
    let found: Vec<(i64, NaiveDate, Option<NaiveDate>)> = rows(
        conn,
        sql,
        &[organisation_id.into(), programme_id.into(), completion_id.into()],
    )
    .await?;
    Ok(found
        .into_iter()
        .map(|(person_id, from, until)| Holding { person_id, from, until })
        .collect())
}

/// A training requirement as it stood when the assessment was submitted.
#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct SnapshotRow {
    pub submission: i64,
    pub criterion_id: String,
    pub met: bool,
    pub figures: String,
    /// The judgement as JSON ([`crate::domain::training_requirement::Judgement`]).
    pub names: String,
    pub taken_at: DateTime<Utc>,
}

pub struct NewSnapshot<'a> {
    pub assessment_id: i64,
    pub submission: i64,
    pub criterion_id: &'a str,
    pub met: bool,
    pub figures: &'a str,
    pub names: &'a str,
}

pub async fn insert_snapshot(
    conn: &mut Conn,
    snapshot: &NewSnapshot<'_>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "INSERT INTO training_snapshots (assessment_id, submission, criterion_id, met, figures, names, taken_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7)";
    execute(
        conn,
        sql,
        &[
            snapshot.assessment_id.into(),
            snapshot.submission.into(),
            snapshot.criterion_id.into(),
            snapshot.met.into(),
            snapshot.figures.into(),
            snapshot.names.into(),
            Instant(now).into(),
        ],
    )
    .await?;
    Ok(())
}

/// The assessment's snapshots of its latest submission that has any.
pub async fn latest_snapshots(conn: &mut Conn, assessment_id: i64) -> Result<Vec<SnapshotRow>, sqlx::Error> {
    let sql = "SELECT submission, criterion_id, met, figures, names, taken_at FROM training_snapshots
         WHERE assessment_id = $1
           AND submission = (SELECT MAX(submission) FROM training_snapshots WHERE assessment_id = $1)
         ORDER BY criterion_id";
    rows(conn, sql, &[assessment_id.into()]).await
}

/// Every snapshot of the assessment, of every submission.
pub async fn all_snapshots(conn: &mut Conn, assessment_id: i64) -> Result<Vec<SnapshotRow>, sqlx::Error> {
    let sql = "SELECT submission, criterion_id, met, figures, names, taken_at FROM training_snapshots
         WHERE assessment_id = $1 ORDER BY submission, criterion_id";
    rows(conn, sql, &[assessment_id.into()]).await
}
