//! Award history imports: the pending upload, the awards and organisations
//! a commit records (each naming its import), and undo as a few set-based
//! statements over the rows that name the import.

use super::audit::Actor;
use super::FetchFully;
use super::Instant;
use super::{db_run, Conn, Pool};
use crate::domain::import::awards::RecordedAward;
use crate::domain::organisation::OrgType;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct AwardImportRow {
    pub id: i64,
    pub actor_label: String,
    pub file_name: String,
    pub file_sha256: String,
    pub state: String,
    pub create_organisations: bool,
    pub with_certificates: bool,
    pub summary_json: String,
    pub created_at: DateTime<Utc>,
    pub committed_at: Option<DateTime<Utc>>,
    pub undone_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, actor_label, file_name, file_sha256, state, create_organisations, with_certificates,
    summary_json, created_at, committed_at, undone_at";

/// What the user asked of an import.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct AwardImportOptions {
    pub create_organisations: bool,
    pub with_certificates: bool,
}

pub struct NewAwardImport<'a> {
    pub file_name: &'a str,
    pub sha256: &'a str,
    pub options: AwardImportOptions,
    pub upload: &'a [u8],
}

/// Records a pending import with its uploaded file.
pub async fn create(
    conn: &mut Conn,
    actor: &Actor,
    new: &NewAwardImport<'_>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    db_run!(conn => {
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO award_imports (user_id, actor_label, file_name, file_sha256, state, create_organisations,
             with_certificates, upload, created_at)
             VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8) RETURNING id",
        )
        .bind(actor.user_id)
        .bind(&actor.label)
        .bind(new.file_name)
        .bind(new.sha256)
        .bind(new.options.create_organisations)
        .bind(new.options.with_certificates)
        .bind(new.upload)
        .bind(Instant(now))
        .fetch_exactly_one(conn)
        .await?;
        Ok(id)
    })
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<AwardImportRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM award_imports WHERE id = $1");
    super::first_row(&mut pool.acquire().await?, &sql, &[id.into()]).await
}

/// The uploaded file of a pending import.
pub async fn upload(pool: &Pool, id: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    db_run!(pool => {
        let found: Option<(Option<Vec<u8>>,)> =
            sqlx::query_as("SELECT upload FROM award_imports WHERE id = $1 AND state = 'pending'")
                .bind(id)
                .fetch_first(pool)
                .await?;
        Ok(found.and_then(|(bytes,)| bytes))
    })
}

/// Committed and undone imports, newest first.
pub async fn history(pool: &Pool, limit: i64) -> Result<Vec<AwardImportRow>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM award_imports WHERE state IN ('committed', 'undone') ORDER BY id DESC LIMIT $1"
        ))
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

#[derive(FromRow)]
struct AwardDates {
    organisation_id: i64,
    framework_id: String,
    awarded_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    revoked_at: Option<DateTime<Utc>>,
}

/// Every award on record (made here or imported), for the overlap check.
pub async fn recorded_awards(pool: &Pool) -> Result<Vec<RecordedAward>, sqlx::Error> {
    let rows: Vec<AwardDates> = db_run!(pool => {
        sqlx::query_as(
            "SELECT organisation_id, framework_id, awarded_on, expires_on, revoked_at FROM assessments
             WHERE awarded_on IS NOT NULL",
        )
        .fetch_all(pool)
        .await?
    });
    Ok(rows
        .into_iter()
        .map(|row| RecordedAward {
            organisation_id: row.organisation_id,
            awarded_on: row.awarded_on,
            expires_on: row.expires_on,
            revoked_on: row.revoked_at.map(|at| at.date_naive()),
            framework_id: row.framework_id,
        })
        .collect())
}

/// Moves a pending import to committed (dropping its upload) only if it is
/// still pending: of two commits at once, exactly one gets through.
pub async fn claim_commit(
    conn: &mut Conn,
    id: i64,
    summary_json: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    db_run!(conn => {
        let done = sqlx::query(
            "UPDATE award_imports SET state = 'committed', committed_at = $1, summary_json = $2, upload = NULL
             WHERE id = $3 AND state = 'pending'",
        )
        .bind(Instant(now))
        .bind(summary_json)
        .bind(id)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Pending → discarded, dropping the upload.
pub async fn discard(conn: &mut Conn, id: i64) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE award_imports SET state = 'discarded', upload = NULL WHERE id = $1 AND state = 'pending'";
    Ok(super::execute(conn, sql, &[id.into()]).await? == 1)
}

/// An organisation the import adds, named by it so undo can remove it.
pub async fn insert_organisation(
    conn: &mut Conn,
    import_id: i64,
    name: &str,
    org_type: OrgType,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO organisations (name, name_key, org_type, award_import_id, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING id",
        &[
            name.into(),
            crate::domain::organisation::name_key(name).into(),
            org_type.as_str().into(),
            import_id.into(),
            Instant(now).into(),
        ],
    )
    .await
}

/// One historic award as an assessment: already awarded (or revoked),
/// marked imported, with no evidence.
pub struct HistoricAssessment<'a> {
    pub organisation_id: i64,
    pub framework_id: &'a str,
    pub framework_version: &'a str,
    pub awarded_on: NaiveDate,
    pub expires_on: NaiveDate,
    pub revoked_on: Option<NaiveDate>,
}

/// The start of a day (UTC) as an instant, as `revoked_at` and `enrolled_at` hold.
fn start_of(day: NaiveDate) -> Instant {
    Instant(day.and_time(chrono::NaiveTime::MIN).and_utc())
}

pub async fn insert_award(
    conn: &mut Conn,
    import_id: i64,
    award: &HistoricAssessment<'_>,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let state = if award.revoked_on.is_some() {
        "revoked"
    } else {
        "awarded"
    };
    let revoked_at = award.revoked_on.map(start_of);
    let reason = if award.revoked_on.is_some() {
        "Revoked before qmtrack (from the award history)"
    } else {
        ""
    };
    super::one_value(
        conn,
        "INSERT INTO assessments (organisation_id, framework_id, framework_version, state, submission,
             enrolled_at, awarded_on, expires_on, revoked_at, revocation_reason, updated_at, imported,
             award_import_id)
         VALUES ($1, $2, $3, $4, 0, $5, $6, $7, $8, $9, $10, TRUE, $11) RETURNING id",
        &[
            award.organisation_id.into(),
            award.framework_id.into(),
            award.framework_version.into(),
            state.into(),
            start_of(award.awarded_on).into(),
            award.awarded_on.into(),
            award.expires_on.into(),
            revoked_at.into(),
            reason.into(),
            Instant(now).into(),
            import_id.into(),
        ],
    )
    .await
}

/// Each imported assessment's history says where it came from, in one statement.
pub async fn record_import_events(
    conn: &mut Conn,
    import_id: i64,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql =
        "INSERT INTO assessment_events (assessment_id, at, actor_user_id, actor_label, from_state, to_state, note)
         SELECT id, $1, $2, $3, '', state, 'Imported from the award history (no evidence recorded in qmtrack)'
         FROM assessments WHERE award_import_id = $4";
    let values = [
        Instant(now).into(),
        actor.user_id.into(),
        actor.label.as_str().into(),
        import_id.into(),
    ];
    super::execute(conn, sql, &values).await?;
    Ok(())
}

/// Why an undo did nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UndoRefused {
    NotCommitted,
    /// An assessment made since renews one of the imported awards.
    Renewed,
}

/// Removes what the import recorded, in a few statements on the caller's
/// transaction: the awards' certificates and history, the awards, then the
/// organisations it added that nothing else has come to use.
pub async fn undo(conn: &mut Conn, import_id: i64, now: DateTime<Utc>) -> Result<Result<(), UndoRefused>, sqlx::Error> {
    let renewals = "SELECT COUNT(*) FROM assessments r JOIN assessments a ON a.id = r.renewal_of
         WHERE a.award_import_id = $1";
    let renewed: i64 = super::one_value(conn, renewals, &[import_id.into()]).await?;
    if renewed > 0 {
        return Ok(Err(UndoRefused::Renewed));
    }
    let claim = "UPDATE award_imports SET state = 'undone', undone_at = $1 WHERE id = $2 AND state = 'committed'";
    if super::execute(conn, claim, &[Instant(now).into(), import_id.into()]).await? != 1 {
        return Ok(Err(UndoRefused::NotCommitted));
    }
    let imported = "SELECT id FROM assessments WHERE award_import_id = $1";
    let steps = [
        format!("DELETE FROM certificates WHERE assessment_id IN ({imported})"),
        format!("DELETE FROM assessment_events WHERE assessment_id IN ({imported})"),
        "DELETE FROM assessments WHERE award_import_id = $1".to_string(),
        format!(
            "DELETE FROM organisations WHERE award_import_id = $1 AND {}",
            super::organisations::NOTHING_USES_IT
        ),
    ];
    for sql in &steps {
        super::execute(conn, sql, &[import_id.into()]).await?;
    }
    Ok(Ok(()))
}
