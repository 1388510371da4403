//! The public register of award holders: current awards read from the
//! assessments' dates (no stored list to drift), and each organisation's
//! choice not to be listed or the programme lead's hiding of its listing.

use super::FetchFully;
use super::{db_run, Conn, Pool};
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::FromRow;

/// One current award as the register shows it.
#[derive(Debug, Clone, FromRow)]
pub struct ListedAward {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub locality: String,
    pub framework_id: String,
    pub framework_version: String,
    pub awarded_on: NaiveDate,
    pub expires_on: NaiveDate,
    /// The award certificate in force, if one was issued.
    pub certificate_code: Option<String>,
}

/// Every award held on `today` by an organisation that is listed: awarded
/// on or before today, expiring after it, not replaced by an awarded
/// renewal, and the organisation neither opted out nor hidden. Revoked
/// awards are not in the `awarded` state, so they drop off too.
pub async fn current_awards(pool: &Pool, today: NaiveDate) -> Result<Vec<ListedAward>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_as(
            "SELECT a.organisation_id, o.name AS organisation_name, o.locality, a.framework_id,
                a.framework_version, a.awarded_on, a.expires_on,
                (SELECT MIN(c.code) FROM certificates c
                 WHERE c.kind = 'award' AND c.assessment_id = a.id
                   AND c.revoked_at IS NULL AND c.superseded_by_code IS NULL) AS certificate_code
             FROM assessments a
             JOIN organisations o ON o.id = a.organisation_id
             LEFT JOIN register_choices rc ON rc.organisation_id = a.organisation_id
             WHERE a.state = 'awarded' AND a.awarded_on <= $1 AND a.expires_on > $1
               AND NOT EXISTS (SELECT 1 FROM assessments r WHERE r.renewal_of = a.id AND r.state = 'awarded')
               AND (rc.organisation_id IS NULL OR (NOT rc.opted_out AND NOT rc.hidden))
             ORDER BY a.framework_id, o.name, a.id",
        )
        .bind(today)
        .fetch_all(pool)
        .await
    })
}

/// An organisation's standing choice; the default (no row) is "listed".
#[derive(Debug, Clone, Default, PartialEq, Eq, FromRow, Serialize)]
pub struct RegisterChoice {
    pub opted_out: bool,
    pub hidden: bool,
    pub hidden_reason: Option<String>,
}

/// An organisation's choice (on a write transaction, it is the audit's "before").
pub async fn choice(conn: &mut Conn, organisation_id: i64) -> Result<RegisterChoice, sqlx::Error> {
    let found: Option<RegisterChoice> = db_run!(conn => {
        sqlx::query_as("SELECT opted_out, hidden, hidden_reason FROM register_choices WHERE organisation_id = $1")
            .bind(organisation_id)
            .fetch_first(conn)
            .await?
    });
    Ok(found.unwrap_or_default())
}

pub async fn save_choice(
    conn: &mut Conn,
    organisation_id: i64,
    choice: &RegisterChoice,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let at = super::Instant(at);
    db_run!(conn => {
        sqlx::query(
            "INSERT INTO register_choices (organisation_id, opted_out, hidden, hidden_reason, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (organisation_id) DO UPDATE SET opted_out = $2, hidden = $3, hidden_reason = $4,
                updated_at = $5",
        )
        .bind(organisation_id)
        .bind(choice.opted_out)
        .bind(choice.hidden)
        .bind(choice.hidden_reason.as_deref())
        .bind(at)
        .execute(conn)
        .await?;
        Ok(())
    })
}
