//! Certificates: issuing, looking up by code, revoking and reissuing.

use super::FetchFully;
use crate::domain::certificate::{self, Content, Kind, State};
use crate::domain::completion::{person_completions, AttendanceFact, AttendanceStatus, CompletionState};
use crate::domain::programmes::ProgrammeLibrary;
use chrono::NaiveDate;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CertificateRow {
    pub id: i64,
    pub code: String,
    pub kind: String,
    pub person_id: i64,
    pub organisation_id: i64,
    pub programme_id: String,
    pub completion_id: String,
    pub assessment_id: i64,
    pub holder_name: String,
    pub title: String,
    pub issued_on: String,
    pub expires_on: String,
    pub revoked_at: String,
    pub revoked_reason: String,
    pub superseded_by_code: String,
    pub created_at: String,
}

const COLUMNS: &str = "id, code, kind, person_id, organisation_id, programme_id, completion_id, assessment_id, \
     holder_name, title, issued_on, expires_on, revoked_at, revoked_reason, superseded_by_code, created_at";

fn date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.get(..10).unwrap_or(text), "%Y-%m-%d").ok()
}

impl CertificateRow {
    pub fn kind(&self) -> Kind {
        Kind::parse(&self.kind).unwrap_or(Kind::Training)
    }

    pub fn state(&self, today: NaiveDate) -> State {
        State::of(
            date(&self.expires_on),
            date(&self.revoked_at),
            Some(self.superseded_by_code.as_str()),
            today,
        )
    }

    pub fn content(&self, issuer: &certificate::Issuer) -> Content {
        Content {
            kind: self.kind(),
            code: self.code.clone(),
            holder_name: self.holder_name.clone(),
            title: self.title.clone(),
            issued_on: date(&self.issued_on).unwrap_or_default(),
            expires_on: date(&self.expires_on),
            verify_url: certificate::verify_url(&issuer.public_base_url, &self.code),
            partnership: issuer.partnership.clone(),
            signatory: issuer.signatory.clone(),
        }
    }
}

pub struct NewCertificate<'a> {
    pub kind: Kind,
    pub person_id: i64,
    pub organisation_id: i64,
    pub programme_id: &'a str,
    pub completion_id: &'a str,
    pub assessment_id: i64,
    pub holder_name: &'a str,
    pub title: &'a str,
    pub issued_on: &'a str,
    pub expires_on: &'a str,
}

/// Inserts with a fresh code and returns (id, code). A clash of 80-bit
/// random codes will not happen in practice; the UNIQUE constraint is the
/// guarantee if it ever did.
pub async fn insert(
    conn: &mut AnyConnection,
    new: &NewCertificate<'_>,
    now: &str,
) -> Result<(i64, String), sqlx::Error> {
    let code = certificate::new_code();
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO certificates (code, kind, person_id, organisation_id, programme_id, completion_id,
             assessment_id, holder_name, title, issued_on, expires_on, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id",
    )
    .bind(&code)
    .bind(new.kind.as_str())
    .bind(new.person_id)
    .bind(new.organisation_id)
    .bind(new.programme_id)
    .bind(new.completion_id)
    .bind(new.assessment_id)
    .bind(new.holder_name)
    .bind(new.title)
    .bind(new.issued_on)
    .bind(new.expires_on)
    .bind(now)
    .fetch_exactly_one(&mut *conn)
    .await?;
    Ok((id, code))
}

pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<CertificateRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM certificates WHERE id = $1"))
        .bind(id)
        .fetch_first(pool)
        .await
}

pub async fn find_by_code(pool: &AnyPool, code: &str) -> Result<Option<CertificateRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM certificates WHERE code = $1"))
        .bind(code)
        .fetch_first(pool)
        .await
}

/// Filters for lists and batches; 0 / '' mean "any".
#[derive(Debug, Default, Clone)]
pub struct Filter<'a> {
    pub organisation_id: i64,
    pub programme_id: &'a str,
    pub session_id: i64,
    pub cohort_id: i64,
    pub kind: &'a str,
    /// Leave out award certificates (for people who may not see assessments).
    pub training_only: bool,
}

pub async fn list(pool: &AnyPool, filter: &Filter<'_>) -> Result<Vec<CertificateRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM certificates c
         WHERE ($1 = 0 OR organisation_id = $1)
           AND ($2 = '' OR programme_id = $2)
           AND ($3 = '' OR kind = $3)
           AND ($4 = 0 OR kind = 'training')
           AND ($5 = 0 OR EXISTS (SELECT 1 FROM attendance a JOIN training_sessions s ON s.id = a.session_id
                                  WHERE a.person_id = c.person_id AND s.programme_id = c.programme_id AND s.id = $5))
           AND ($6 = 0 OR EXISTS (SELECT 1 FROM attendance a JOIN training_sessions s ON s.id = a.session_id
                                  WHERE a.person_id = c.person_id AND s.programme_id = c.programme_id AND s.cohort_id = $6))
         ORDER BY holder_name, id"
    ))
    .bind(filter.organisation_id)
    .bind(filter.programme_id)
    .bind(filter.kind)
    .bind(i64::from(filter.training_only))
    .bind(filter.session_id)
    .bind(filter.cohort_id)
    .fetch_all(pool)
    .await
}

/// Marks a certificate revoked; false when it already was.
pub async fn revoke(conn: &mut AnyConnection, id: i64, reason: &str, now: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE certificates SET revoked_at = $1, revoked_reason = $2 WHERE id = $3 AND revoked_at = '' AND superseded_by_code = ''",
    )
    .bind(now)
    .bind(reason)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Revokes every live certificate of an award, when the award is revoked.
pub async fn revoke_for_assessment(
    conn: &mut AnyConnection,
    assessment_id: i64,
    reason: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE certificates SET revoked_at = $1, revoked_reason = $2
         WHERE kind = 'award' AND assessment_id = $3 AND revoked_at = '' AND superseded_by_code = ''",
    )
    .bind(now)
    .bind(reason)
    .bind(assessment_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// A copy of `old` under a new code and the given holder name; `old` now
/// points to it. Returns the new (id, code), or `None` if `old` was already
/// replaced or revoked.
pub async fn reissue(
    conn: &mut AnyConnection,
    old: &CertificateRow,
    holder_name: &str,
    now: &str,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let (id, code) = insert(
        conn,
        &NewCertificate {
            kind: old.kind(),
            person_id: old.person_id,
            organisation_id: old.organisation_id,
            programme_id: &old.programme_id,
            completion_id: &old.completion_id,
            assessment_id: old.assessment_id,
            holder_name,
            title: &old.title,
            issued_on: &old.issued_on,
            expires_on: &old.expires_on,
        },
        now,
    )
    .await?;
    let done = sqlx::query(
        "UPDATE certificates SET superseded_by_code = $1 WHERE id = $2 AND superseded_by_code = '' AND revoked_at = ''",
    )
    .bind(&code)
    .bind(old.id)
    .execute(conn)
    .await?;
    Ok((done.rows_affected() == 1).then_some((id, code)))
}

/// A certificate for each completion (current or lapsed) that has none for the same
/// period yet. Idempotent: any earlier certificate for the same person,
/// completion and expiry (even a revoked or replaced one) counts, so a
/// revocation is not undone by the next run; a refresher that moves the
/// expiry earns a new certificate. Returns how many were issued.
pub async fn issue_missing_training_certificates(
    pool: &super::Pool,
    programmes: &ProgrammeLibrary,
    today: NaiveDate,
    now: &str,
) -> Result<usize, sqlx::Error> {
    let existing = issued_training_keys(&mut *pool.acquire().await?).await?;
    let mut to_issue: Vec<(i64, i64, String, String, String, String, String)> = Vec::new();
    for programme in programmes.current() {
        let facts = super::training::programme_facts(pool, &programme.id).await?;
        let mut start = 0;
        while start < facts.len() {
            let person = facts[start].person_id;
            let end = facts[start..]
                .iter()
                .position(|f| f.person_id != person)
                .map_or(facts.len(), |offset| start + offset);
            let rows = &facts[start..end];
            let mine: Vec<AttendanceFact> = rows
                .iter()
                .filter_map(|f| {
                    Some(AttendanceFact {
                        module_id: f.module_id.clone(),
                        date: date(&f.session_date)?,
                        status: AttendanceStatus::parse(&f.status)?,
                    })
                })
                .collect();
            for completion in person_completions(programme, &mine, today) {
                // A lapsed completion was earned too: its certificate shows as expired.
                if !matches!(completion.state, CompletionState::Completed | CompletionState::Lapsed) {
                    continue;
                }
                let Some(completed_on) = completion.completed_on else {
                    continue;
                };
                let expires = completion.lapses_on.map(|d| d.to_string()).unwrap_or_default();
                let key = (
                    person,
                    programme.id.clone(),
                    completion.completion_id.clone(),
                    expires.clone(),
                );
                if existing.contains(&key) {
                    continue;
                }
                to_issue.push((
                    person,
                    rows[0].organisation_id,
                    rows[0].full_name.clone(),
                    programme.id.clone(),
                    completion.completion_id.clone(),
                    certificate::training_title(&programme.name, &completion.title),
                    format!("{completed_on}|{expires}"),
                ));
            }
            start = end;
        }
    }
    if to_issue.is_empty() {
        return Ok(0);
    }
    // Saving two registers at once runs this twice at once: the second run
    // must see what the first issued, so the check is made again inside the
    // transaction, one run at a time.
    let mut tx = super::begin_write(pool).await?;
    if pool.backend == super::Backend::Postgres {
        sqlx::query("SELECT pg_advisory_xact_lock(4701)")
            .execute(&mut *tx)
            .await?;
    }
    let existing = issued_training_keys(&mut tx).await?;
    let to_issue: Vec<_> = to_issue
        .into_iter()
        .filter(|(person, _, _, programme, completion, _, dates)| {
            let expires = dates.split_once('|').map_or("", |(_, e)| e);
            !existing.contains(&(*person, programme.clone(), completion.clone(), expires.to_string()))
        })
        .collect();
    for (person, organisation, name, programme, completion, title, dates) in &to_issue {
        let (issued_on, expires_on) = dates.split_once('|').unwrap_or((dates, ""));
        insert(
            &mut tx,
            &NewCertificate {
                kind: Kind::Training,
                person_id: *person,
                organisation_id: *organisation,
                programme_id: programme,
                completion_id: completion,
                assessment_id: 0,
                holder_name: name,
                title,
                issued_on,
                expires_on,
            },
            now,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(to_issue.len())
}

type TrainingKey = (i64, String, String, String);

/// Person, programme, completion and expiry of every training certificate.
async fn issued_training_keys(conn: &mut AnyConnection) -> Result<std::collections::HashSet<TrainingKey>, sqlx::Error> {
    let rows: Vec<TrainingKey> = sqlx::query_as(
        "SELECT person_id, programme_id, completion_id, expires_on FROM certificates WHERE kind = 'training'",
    )
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// The certificate for an award (`new.kind` is `Award`), issued once per assessment.
pub async fn issue_award_certificate(
    conn: &mut AnyConnection,
    new: &NewCertificate<'_>,
    now: &str,
) -> Result<(), sqlx::Error> {
    let existing: Option<(i64,)> =
        sqlx::query_as("SELECT id FROM certificates WHERE kind = 'award' AND assessment_id = $1")
            .bind(new.assessment_id)
            .fetch_first(&mut *conn)
            .await?;
    if existing.is_none() {
        insert(conn, new, now).await?;
    }
    Ok(())
}
