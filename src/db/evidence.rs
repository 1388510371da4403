//! Evidence: one row per version of an item. Replacing an item marks the old
//! row superseded and adds a row with the next version number, so the
//! history is kept. Files themselves live in the store (`crate::storage`),
//! referred to by the SHA-256 of their content.

use super::audit::Actor;
use super::Instant;
use super::{Conn, Pool};
use crate::domain::evidence::EvidenceKind;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct EvidenceRow {
    pub id: i64,
    pub assessment_id: i64,
    pub organisation_id: i64,
    pub criterion_id: String,
    pub item_id: i64,
    pub version: i64,
    #[sqlx(try_from = "String")]
    pub kind: EvidenceKind,
    pub title: String,
    pub statement: String,
    pub url: String,
    /// The stored file of a file item, all four or none: a statement or a
    /// link has none (the database checks it). Read them through [`Self::file`].
    pub file_sha256: Option<String>,
    pub file_name: Option<String>,
    pub file_type: Option<String>,
    pub file_size: Option<i64>,
    pub applies_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
    pub for_submission: i64,
    pub carried_from: Option<i64>,
    pub superseded_at: Option<DateTime<Utc>>,
    pub removed_at: Option<DateTime<Utc>>,
    pub removed_for_submission: i64,
    pub created_at: DateTime<Utc>,
    pub created_by_label: String,
}

impl EvidenceRow {
    /// The version that stands: neither replaced nor removed.
    pub fn is_current(&self) -> bool {
        self.superseded_at.is_none() && self.removed_at.is_none()
    }

    /// The stored file, if this is a file item.
    pub fn file(&self) -> Option<FileRef<'_>> {
        Some(FileRef {
            sha256: self.file_sha256.as_deref()?,
            name: self.file_name.as_deref()?,
            kind: self.file_type.as_deref()?,
            size: self.file_size?,
        })
    }
}

const COLUMNS: &str = "id, assessment_id, organisation_id, criterion_id, item_id, version, kind, title, statement, url,
    file_sha256, file_name, file_type, file_size, applies_from, valid_until, for_submission, carried_from,
    superseded_at, removed_at, removed_for_submission, created_at, created_by_label";

/// Every version of every item, grouped by criterion and item, oldest version first.
pub async fn for_assessment(pool: &Pool, assessment_id: i64) -> Result<Vec<EvidenceRow>, sqlx::Error> {
    for_assessment_in(&mut pool.acquire().await?, assessment_id).await
}

pub async fn for_assessment_in(conn: &mut Conn, assessment_id: i64) -> Result<Vec<EvidenceRow>, sqlx::Error> {
    let sql =
        format!("SELECT {COLUMNS} FROM evidence WHERE assessment_id = $1 ORDER BY criterion_id, item_id, version");
    super::rows(conn, &sql, &[assessment_id.into()]).await
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<EvidenceRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM evidence WHERE id = $1");
    super::first_row(&mut pool.acquire().await?, &sql, &[id.into()]).await
}

/// A file stored for evidence: what the store named it and what it is.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct FileRef<'a> {
    pub sha256: &'a str,
    pub name: &'a str,
    pub kind: &'a str,
    pub size: i64,
}

pub struct NewEvidence<'a> {
    pub assessment_id: i64,
    pub organisation_id: i64,
    pub criterion_id: &'a str,
    /// The item this is a new version of, with that version's number; None for a new item.
    pub replaces: Option<(i64, i64)>,
    pub kind: EvidenceKind,
    pub title: &'a str,
    pub statement: &'a str,
    pub url: &'a str,
    /// The stored file of a file item; `None` for a statement or a link.
    pub file: Option<FileRef<'a>>,
    pub applies_from: NaiveDate,
    /// None when it has no end date.
    pub valid_until: Option<NaiveDate>,
    pub for_submission: i64,
    pub carried_from: Option<i64>,
}

pub async fn insert(
    conn: &mut Conn,
    new: &NewEvidence<'_>,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let (item_id, version) = match new.replaces {
        Some((item_id, version)) => (item_id, version + 1),
        None => (0, 1),
    };
    let id: i64 = super::one_value(
        conn,
        "INSERT INTO evidence (assessment_id, organisation_id, criterion_id, item_id, version, kind, title, statement,
             url, file_sha256, file_name, file_type, file_size, applies_from, valid_until, for_submission,
             carried_from, removed_for_submission, created_at, created_by, created_by_label)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16,
             $17, 0, $18, $19, $20)
         RETURNING id",
        &[
            new.assessment_id.into(),
            new.organisation_id.into(),
            new.criterion_id.into(),
            item_id.into(),
            version.into(),
            new.kind.as_str().into(),
            new.title.into(),
            new.statement.into(),
            new.url.into(),
            new.file.map(|file| file.sha256).into(),
            new.file.map(|file| file.name).into(),
            new.file.map(|file| file.kind).into(),
            new.file.map(|file| file.size).into(),
            new.applies_from.into(),
            new.valid_until.into(),
            new.for_submission.into(),
            new.carried_from.into(),
            Instant(now).into(),
            actor.user_id.into(),
            actor.label.as_str().into(),
        ],
    )
    .await?;
    if item_id == 0 {
        // A new item is its own first version: the item is named by that row's id.
        super::execute(conn, "UPDATE evidence SET item_id = id WHERE id = $1", &[id.into()]).await?;
    }
    Ok(id)
}

/// Marks a version replaced; false if it was no longer current.
pub async fn supersede(conn: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE evidence SET superseded_at = $1 WHERE id = $2 AND superseded_at IS NULL AND removed_at IS NULL";
    Ok(super::execute(conn, sql, &[Instant(now).into(), id.into()]).await? == 1)
}

/// Withdraws an item (its current version), keeping it in the history.
pub async fn remove(conn: &mut Conn, id: i64, for_submission: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE evidence SET removed_at = $1, removed_for_submission = $2
         WHERE id = $3 AND superseded_at IS NULL AND removed_at IS NULL";
    Ok(super::execute(conn, sql, &[Instant(now).into(), for_submission.into(), id.into()]).await? == 1)
}
