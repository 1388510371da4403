//! Log-in sessions. The cookie holds a random token; only its SHA-256 is stored,
//! so a copy of the database cannot be used to sign in.

use super::users::UserRow;
use super::FetchFully;
use super::Instant;
use super::{db_run, Conn, Pool};
use chrono::{DateTime, Utc};
use sqlx::Row;

pub struct NewSession<'a> {
    pub token_hash: &'a str,
    pub user_id: i64,
    pub csrf_token: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

pub async fn create(conn: &mut Conn, session: NewSession<'_>) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES ($1, $2, $3, $4, $4, $5) RETURNING id",
        &[
            session.token_hash.into(),
            session.user_id.into(),
            session.csrf_token.into(),
            Instant(session.now).into(),
            Instant(session.expires_at).into(),
        ],
    )
    .await
}

pub struct ActiveSession {
    pub id: i64,
    pub csrf_token: String,
    pub last_seen_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub user: UserRow,
}

/// The unrevoked session for a token, with its user if still active.
pub async fn find_by_token_hash(pool: &Pool, token_hash: &str) -> Result<Option<ActiveSession>, sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
    db_run!(pool => {
        let row = sqlx::query(&super::users::select_by_credential(
            "sessions",
            "c.id AS session_id, c.csrf_token, c.last_seen_at, c.expires_at",
        ))
        .bind(token_hash)
        .fetch_first(pool)
        .await?;
        let Some(row) = row else { return Ok(None) };
        Ok(Some(ActiveSession {
            id: row.try_get("session_id")?,
            csrf_token: row.try_get("csrf_token")?,
            last_seen_at: row.try_get("last_seen_at")?,
            expires_at: row.try_get("expires_at")?,
            user: sqlx::FromRow::from_row(&row)?,
        }))
    })
}

pub async fn touch(pool: &Pool, id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE sessions SET last_seen_at = $1 WHERE id = $2";
    super::execute(&mut pool.acquire().await?, sql, &[Instant(now).into(), id.into()]).await?;
    Ok(())
}

pub async fn revoke(pool: &Pool, id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL";
    super::execute(&mut pool.acquire().await?, sql, &[Instant(now).into(), id.into()]).await?;
    Ok(())
}

/// Used when a user is deactivated, changes role or changes password.
pub async fn revoke_all_for_user(conn: &mut Conn, user_id: i64, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE sessions SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL";
    super::execute(conn, sql, &[Instant(now).into(), user_id.into()]).await?;
    Ok(())
}
