//! Certificates: issuing, looking up by code, revoking and reissuing.

use super::FetchFully;
use super::Instant;
use super::{db_run, Conn, Pool};
use crate::domain::certificate::{self, Content, Kind, State};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CertificateRow {
    pub id: i64,
    pub code: String,
    #[sqlx(try_from = "String")]
    pub kind: Kind,
    /// The person holding a training certificate; `None` for an award.
    pub person_id: Option<i64>,
    pub organisation_id: i64,
    /// The programme and completion a training certificate is for; `None`
    /// for an award (the database checks both go together with the kind).
    pub programme_id: Option<String>,
    pub completion_id: Option<String>,
    /// The assessment an award certificate is for; `None` for training.
    pub assessment_id: Option<i64>,
    pub holder_name: String,
    pub title: String,
    pub issued_on: NaiveDate,
    /// `None` for a certificate that does not expire.
    pub expires_on: Option<NaiveDate>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_reason: String,
    /// The code of the certificate that replaced this one, if any.
    pub superseded_by_code: Option<String>,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, code, kind, person_id, organisation_id, programme_id, completion_id, assessment_id, \
     holder_name, title, issued_on, expires_on, revoked_at, revoked_reason, superseded_by_code, created_at";

impl CertificateRow {
    pub fn state(&self, today: NaiveDate) -> State {
        State::of(
            self.expires_on,
            self.revoked_at.map(|at| at.date_naive()),
            self.superseded_by_code.as_deref(),
            today,
        )
    }

    pub fn content(&self, issuer: &certificate::Issuer) -> Content {
        Content {
            kind: self.kind,
            code: self.code.clone(),
            holder_name: self.holder_name.clone(),
            title: self.title.clone(),
            issued_on: self.issued_on,
            expires_on: self.expires_on,
            verify_url: certificate::verify_url(&issuer.public_base_url, &self.code),
            partnership: issuer.partnership.clone(),
            signatory: issuer.signatory.clone(),
            logo: issuer.logo.clone(),
        }
    }
}

/// A certificate has exactly one holder: a person (training) or an
/// assessment (award). The database checks it too.
pub struct NewCertificate<'a> {
    pub kind: Kind,
    pub person_id: Option<i64>,
    pub organisation_id: i64,
    /// Set for training, `None` for an award.
    pub programme_id: Option<&'a str>,
    pub completion_id: Option<&'a str>,
    pub assessment_id: Option<i64>,
    pub holder_name: &'a str,
    pub title: &'a str,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
}

/// Inserts with a fresh code and returns (id, code). A clash of 80-bit
/// random codes will not happen in practice; the UNIQUE constraint is the
/// guarantee if it ever did.
pub async fn insert(
    conn: &mut Conn,
    new: &NewCertificate<'_>,
    now: DateTime<Utc>,
) -> Result<(i64, String), sqlx::Error> {
    db_run!(conn => {
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
        .bind(Instant(now))
        .fetch_exactly_one(&mut *conn)
        .await?;
        Ok((id, code))
    })
}

/// A kept completion (see [`super::completions`]) that has no training
/// certificate for the same person, completion and expiry yet. Any earlier
/// certificate counts, even a revoked or replaced one, so a revocation is
/// not undone by the next run; a refresher that moves the expiry does earn
/// a new one.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Uncertified {
    pub person_id: i64,
    pub organisation_id: i64,
    pub holder_name: String,
    pub programme_id: String,
    pub completion_id: String,
    pub completed_on: Option<NaiveDate>,
    pub lapses_on: Option<NaiveDate>,
}

const UNCERTIFIED: &str = "SELECT pc.person_id, p.organisation_id, p.full_name AS holder_name,
            pc.programme_id, pc.completion_id, pc.completed_on, pc.lapses_on
     FROM person_completions pc
     JOIN people p ON p.id = pc.person_id
     WHERE pc.completed_on IS NOT NULL
       AND NOT EXISTS (SELECT 1 FROM certificates c
                       WHERE c.kind = 'training' AND c.person_id = pc.person_id
                         AND c.programme_id = pc.programme_id AND c.completion_id = pc.completion_id
                         AND c.expires_on IS NOT DISTINCT FROM pc.lapses_on)";

/// Completions without their certificate: everyone's (`None`) or these
/// people's, read through the kept completions' and certificates' indexes.
pub async fn uncertified(conn: &mut Conn, people: Option<&[i64]>) -> Result<Vec<Uncertified>, sqlx::Error> {
    db_run!(conn => {
        let Some(people) = people else {
            return sqlx::query_as(&format!(
                "{UNCERTIFIED} ORDER BY pc.person_id, pc.programme_id, pc.completion_id"
            ))
            .fetch_all(conn)
            .await;
        };
        let mut found = Vec::new();
        for chunk in people.chunks(500) {
            let list = (1..=chunk.len())
                .map(|n| format!("${n}"))
                .collect::<Vec<_>>()
                .join(", ");
            let sql = format!(
                "{UNCERTIFIED} AND pc.person_id IN ({list}) ORDER BY pc.person_id, pc.programme_id, pc.completion_id"
            );
            let mut query = sqlx::query_as::<_, Uncertified>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            found.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(found)
    })
}

/// Training certificates for many people at once, each with a fresh code,
/// in a few statements. Returns the new ids.
pub async fn insert_training(
    conn: &mut Conn,
    new: &[NewCertificate<'_>],
    now: DateTime<Utc>,
) -> Result<Vec<i64>, sqlx::Error> {
    use super::Bind;
    let rows: Vec<Vec<Bind>> = new
        .iter()
        .map(|c| {
            vec![
                Bind::Text(certificate::new_code().into()),
                Bind::Text(Kind::Training.as_str().into()),
                Bind::MaybeInt(c.person_id),
                Bind::Int(c.organisation_id),
                Bind::MaybeText(c.programme_id.map(Into::into)),
                Bind::MaybeText(c.completion_id.map(Into::into)),
                Bind::Text(c.holder_name.into()),
                Bind::Text(c.title.into()),
                Bind::Date(c.issued_on),
                Bind::MaybeDate(c.expires_on),
                Bind::Instant(now),
            ]
        })
        .collect();
    super::insert_many_returning_ids(
        conn,
        "certificates (code, kind, person_id, organisation_id, programme_id, completion_id,
             holder_name, title, issued_on, expires_on, created_at)",
        &rows,
    )
    .await
}

/// Every training certificate's id, oldest first.
pub async fn training_ids(pool: &Pool) -> Result<Vec<i64>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_scalar("SELECT id FROM certificates WHERE kind = 'training' ORDER BY id")
            .fetch_all(pool)
            .await
    })
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<CertificateRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM certificates WHERE id = $1");
    super::first_row(&mut pool.acquire().await?, &sql, &[id.into()]).await
}

pub async fn find_by_code(pool: &Pool, code: &str) -> Result<Option<CertificateRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM certificates WHERE code = $1");
    super::first_row(&mut pool.acquire().await?, &sql, &[code.into()]).await
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

/// Every certificate the filter matches, in name order: for the command
/// line, which writes them all. Pages and batches use [`list_part`].
pub async fn list(pool: &Pool, filter: &Filter<'_>) -> Result<Vec<CertificateRow>, sqlx::Error> {
    list_part(pool, filter, i64::MAX, 0).await
}

/// At most `limit` of the certificates [`list`] gives, from `offset`: what a
/// page (or a bounded batch) reads, through the `(holder_name, id)` index
/// rather than a sort of every certificate on record.
pub async fn list_part(
    pool: &Pool,
    filter: &Filter<'_>,
    limit: i64,
    offset: i64,
) -> Result<Vec<CertificateRow>, sqlx::Error> {
    db_run!(pool => {
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
         ORDER BY holder_name, id
         LIMIT $7 OFFSET $8"
        ))
        .bind(filter.organisation_id)
        .bind(filter.programme_id)
        .bind(filter.kind)
        .bind(i64::from(filter.training_only))
        .bind(filter.session_id)
        .bind(filter.cohort_id)
        .bind(limit)
        .bind(offset)
        .fetch_all(pool)
        .await
    })
}

/// Marks a certificate revoked; false when it already was.
pub async fn revoke(conn: &mut Conn, id: i64, reason: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    super::end_once(
        conn,
        "UPDATE certificates SET revoked_at = $1, revoked_reason = $2
         WHERE id = $3 AND revoked_at IS NULL AND superseded_by_code IS NULL",
        id,
        reason,
        now,
    )
    .await
}

/// Revokes every live certificate of an award, when the award is revoked;
/// returns the (id, code) of each.
pub async fn revoke_for_assessment(
    conn: &mut Conn,
    assessment_id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    db_run!(conn => {
        sqlx::query_as(
            "UPDATE certificates SET revoked_at = $1, revoked_reason = $2
         WHERE kind = 'award' AND assessment_id = $3 AND revoked_at IS NULL AND superseded_by_code IS NULL
         RETURNING id, code",
        )
        .bind(Instant(now))
        .bind(reason)
        .bind(assessment_id)
        .fetch_all(conn)
        .await
    })
}

/// A copy of `old` under a new code and the given holder name; `old` now
/// points to it. Returns the new (id, code), or `None` if `old` was already
/// replaced or revoked.
pub async fn reissue(
    conn: &mut Conn,
    old: &CertificateRow,
    holder_name: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    let (id, code) = insert(
        conn,
        &NewCertificate {
            kind: old.kind,
            person_id: old.person_id,
            organisation_id: old.organisation_id,
            programme_id: old.programme_id.as_deref(),
            completion_id: old.completion_id.as_deref(),
            assessment_id: old.assessment_id,
            holder_name,
            title: &old.title,
            issued_on: old.issued_on,
            expires_on: old.expires_on,
        },
        now,
    )
    .await?;
    db_run!(conn => {
        let done = sqlx::query(
            "UPDATE certificates SET superseded_by_code = $1 WHERE id = $2 AND superseded_by_code IS NULL AND revoked_at IS NULL",
        )
        .bind(&code)
        .bind(old.id)
        .execute(conn)
        .await?;
        Ok((done.rows_affected() == 1).then_some((id, code)))
    })
}

/// (person, programme, completion, expiry) of every training certificate
/// ever issued, revoked and replaced ones included: what is already covered.
pub async fn training_certificate_keys(
    conn: &mut Conn,
) -> Result<std::collections::HashSet<(i64, String, String, Option<NaiveDate>)>, sqlx::Error> {
    db_run!(conn => {
        let rows: Vec<(i64, String, String, Option<NaiveDate>)> = sqlx::query_as(
            "SELECT person_id, programme_id, completion_id, expires_on FROM certificates WHERE kind = 'training'",
        )
        .fetch_all(conn)
        .await?;
        Ok(rows.into_iter().collect())
    })
}

/// Inside a write transaction: issuing training certificates for the same
/// people runs one at a time, so a second run sees what the first issued.
/// SQLite's writers already take turns. On PostgreSQL, issuing for everyone
/// takes an advisory lock exclusively; issuing for some people takes it
/// shared, because the caller already holds those people's rows locked
/// (see `completions::refresh`), so registers saved for different people
/// never queue behind each other.
pub async fn take_issuing_turn(conn: &mut Conn, backend: super::Backend, everyone: bool) -> Result<(), sqlx::Error> {
    db_run!(conn => {
        if backend == super::Backend::Postgres {
            let sql = if everyone {
                "SELECT pg_advisory_xact_lock(4701)"
            } else {
                "SELECT pg_advisory_xact_lock_shared(4701)"
            };
            sqlx::query(sql).execute(conn).await?;
        }
        Ok(())
    })
}

/// The code of an assessment's award certificate, if it has one.
pub async fn award_certificate_code(conn: &mut Conn, assessment_id: i64) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT code FROM certificates WHERE kind = 'award' AND assessment_id = $1 ORDER BY id";
    super::first_value(conn, sql, &[assessment_id.into()]).await
}
