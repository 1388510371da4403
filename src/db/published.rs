//! Published board reports: frozen figures, narrative and rendered files.
//! Rows are only ever added; withdrawing one records when and why and
//! keeps everything else as it was.

use super::Instant;
use super::{db_run, Conn, Pool};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PublishedRow {
    pub id: i64,
    pub title: String,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    /// `None` for a report on the whole programme.
    pub organisation_id: Option<i64>,
    pub figures_json: String,
    pub narrative_json: String,
    pub author_user_id: Option<i64>,
    pub author_label: String,
    pub published_at: DateTime<Utc>,
    pub withdrawn_at: Option<DateTime<Utc>>,
    pub withdrawn_reason: String,
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct FileRow {
    pub format: String,
    pub content_type: String,
    pub sha256: String,
    pub size: i64,
}

const COLUMNS: &str =
    "id, title, period_from, period_to, organisation_id, figures_json, narrative_json, author_user_id,
    author_label, published_at, withdrawn_at, withdrawn_reason";

pub struct NewPublished<'a> {
    pub title: &'a str,
    pub period_from: NaiveDate,
    pub period_to: NaiveDate,
    pub figures_json: &'a str,
    pub narrative_json: &'a str,
    pub author_user_id: Option<i64>,
    pub author_label: &'a str,
}

pub async fn insert(conn: &mut Conn, new: &NewPublished<'_>, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO published_reports (title, period_from, period_to, figures_json, narrative_json,
             author_user_id, author_label, published_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        &[
            new.title.into(),
            new.period_from.into(),
            new.period_to.into(),
            new.figures_json.into(),
            new.narrative_json.into(),
            new.author_user_id.into(),
            new.author_label.into(),
            Instant(now).into(),
        ],
    )
    .await
}

pub async fn insert_file(
    conn: &mut Conn,
    report_id: i64,
    format: &str,
    content_type: &str,
    sha256: &str,
    bytes: &[u8],
) -> Result<(), sqlx::Error> {
    db_run!(conn => {
        sqlx::query(
            "INSERT INTO published_report_files (report_id, format, content_type, sha256, bytes) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(report_id)
        .bind(format)
        .bind(content_type)
        .bind(sha256)
        .bind(bytes)
        .execute(conn)
        .await?;
        Ok(())
    })
}

/// Newest first.
pub async fn list(pool: &Pool) -> Result<Vec<PublishedRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM published_reports ORDER BY published_at DESC, id DESC");
    super::rows(&mut pool.acquire().await?, &sql, &[]).await
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<PublishedRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM published_reports WHERE id = $1");
    super::first_row(&mut pool.acquire().await?, &sql, &[id.into()]).await
}

pub async fn files(pool: &Pool, report_id: i64) -> Result<Vec<FileRow>, sqlx::Error> {
    let sql = "SELECT format, content_type, sha256, CAST(LENGTH(bytes) AS BIGINT) AS size FROM published_report_files
         WHERE report_id = $1 ORDER BY id";
    super::rows(&mut pool.acquire().await?, sql, &[report_id.into()]).await
}

/// (content type, bytes) of one rendered file.
pub async fn file(pool: &Pool, report_id: i64, format: &str) -> Result<Option<(String, Vec<u8>)>, sqlx::Error> {
    let sql = "SELECT content_type, bytes FROM published_report_files WHERE report_id = $1 AND format = $2";
    super::first_row(&mut pool.acquire().await?, sql, &[report_id.into(), format.into()]).await
}

/// False if it was already withdrawn.
pub async fn withdraw(conn: &mut Conn, id: i64, reason: &str, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    super::end_once(
        conn,
        "UPDATE published_reports SET withdrawn_at = $1, withdrawn_reason = $2 WHERE id = $3 AND withdrawn_at IS NULL",
        id,
        reason,
        now,
    )
    .await
}
