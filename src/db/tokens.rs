//! API tokens: shown once, stored as SHA-256, revocable.

use super::users::UserRow;
use super::FetchFully;
use super::Instant;
use super::{db_run, Conn, Pool};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{FromRow, Row};

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct TokenRow {
    pub id: i64,
    pub label: String,
    pub created_at: DateTime<Utc>,
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
}

pub async fn create(
    conn: &mut Conn,
    user_id: i64,
    label: &str,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO api_tokens (user_id, label, token_hash, created_at) VALUES ($1, $2, $3, $4) RETURNING id",
        &[user_id.into(), label.into(), token_hash.into(), Instant(now).into()],
    )
    .await
}

pub async fn for_user(pool: &Pool, user_id: i64) -> Result<Vec<TokenRow>, sqlx::Error> {
    let sql =
        "SELECT id, label, created_at, last_used_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC";
    super::rows(&mut pool.acquire().await?, sql, &[user_id.into()]).await
}

/// The active user behind an unrevoked token.
pub async fn user_for_token(pool: &Pool, token_hash: &str) -> Result<Option<(i64, UserRow)>, sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
    db_run!(pool => {
        let row = sqlx::query(&super::users::select_by_credential("api_tokens", "c.id AS token_id"))
            .bind(token_hash)
        .fetch_first(pool)
        .await?;
        match row {
            Some(row) => Ok(Some((row.try_get("token_id")?, FromRow::from_row(&row)?))),
            None => Ok(None),
        }
    })
}

pub async fn touch(pool: &Pool, id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2";
    super::execute(&mut pool.acquire().await?, sql, &[Instant(now).into(), id.into()]).await?;
    Ok(())
}

/// Revokes one of `user_id`'s tokens; false if it is not theirs or already revoked.
pub async fn revoke(conn: &mut Conn, user_id: i64, token_id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
    let revoked = super::execute(conn, sql, &[Instant(now).into(), token_id.into(), user_id.into()]).await?;
    Ok(revoked > 0)
}

/// Revokes every live token of `user_id`; returns how many.
pub async fn revoke_all_for_user(conn: &mut Conn, user_id: i64, now: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    let sql = "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
    super::execute(conn, sql, &[Instant(now).into(), user_id.into()]).await
}

/// Creates a token for `user_id` and returns it in full: the only time it is
/// ever visible. The `qmt_` prefix lets secret scanners recognise a leaked one.
pub async fn issue(
    conn: &mut Conn,
    user_id: i64,
    label: &str,
    now: DateTime<Utc>,
) -> Result<(i64, String), sqlx::Error> {
    let token = format!("qmt_{}", crate::security::random_token());
    let id = create(conn, user_id, label, &crate::security::sha256_hex(&token), now).await?;
    Ok((id, token))
}
