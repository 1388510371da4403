//! What the reminder scan looks for that the home pages' lists
//! (`db::attention`) do not already read: evidence running out and training
//! lapsing, across every organisation, grouped the way one email tells it.

use super::{rows, Conn};
use chrono::NaiveDate;
use sqlx::FromRow;

/// An assessment's current evidence that stops being valid on one day.
#[derive(Debug, Clone, FromRow)]
pub struct EvidenceRunningOut {
    pub assessment_id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub framework_id: String,
    pub framework_version: String,
    pub valid_until: NaiveDate,
    pub items: i64,
}

/// Evidence whose last valid day falls from `today` to `until`, by
/// assessment and day: the rule of the organisation page's list
/// (`db::home::expiring_evidence`), for every organisation.
pub async fn evidence_running_out(
    conn: &mut Conn,
    today: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<EvidenceRunningOut>, sqlx::Error> {
    rows(
        conn,
        "SELECT a.id AS assessment_id, a.organisation_id, o.name AS organisation_name, a.framework_id,
            a.framework_version, e.valid_until, COUNT(*) AS items
         FROM evidence e
         JOIN assessments a ON a.id = e.assessment_id
         JOIN organisations o ON o.id = a.organisation_id
         WHERE e.superseded_at IS NULL AND e.removed_at IS NULL
           AND e.valid_until IS NOT NULL AND e.valid_until >= $1 AND e.valid_until <= $2
           AND a.state <> 'revoked'
           AND NOT EXISTS (SELECT 1 FROM assessments r WHERE r.renewal_of = a.id)
         GROUP BY a.id, a.organisation_id, o.name, a.framework_id, a.framework_version, e.valid_until
         ORDER BY e.valid_until, a.id",
        &[today.into(), until.into()],
    )
    .await
}

/// People at one organisation whose training lapses on one day.
#[derive(Debug, Clone, FromRow)]
pub struct TrainingLapsing {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub lapses_on: NaiveDate,
    pub people: i64,
}

/// Completions lapsing from `from` to `until` (both inclusive), the rule of
/// the home page's list (`db::attention::lapsing_training`), counted by
/// organisation and day.
pub async fn training_lapsing(
    conn: &mut Conn,
    from: NaiveDate,
    until: NaiveDate,
) -> Result<Vec<TrainingLapsing>, sqlx::Error> {
    rows(
        conn,
        "SELECT pc.organisation_id, o.name AS organisation_name, pc.lapses_on, COUNT(DISTINCT pc.person_id) AS people
         FROM person_completions pc
         JOIN organisations o ON o.id = pc.organisation_id
         WHERE pc.lapses_on >= $1 AND pc.lapses_on <= $2
         GROUP BY pc.organisation_id, o.name, pc.lapses_on
         ORDER BY pc.lapses_on, pc.organisation_id",
        &[from.into(), until.into()],
    )
    .await
}
