//! One-time password reset links: only a hash of each token is stored.

use super::FetchFully;
use super::Instant;
use super::{db_run, Conn};
use chrono::{DateTime, Utc};

pub struct NewReset<'a> {
    pub user_id: i64,
    pub token_hash: &'a str,
    pub now: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub created_by: &'a str,
}

/// Stores a new link and retires any earlier unused one for the same user:
/// only the link most recently handed over works.
pub async fn create(conn: &mut Conn, reset: NewReset<'_>) -> Result<i64, sqlx::Error> {
    db_run!(conn => {
        sqlx::query("UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL")
            .bind(Instant(reset.now))
            .bind(reset.user_id)
            .execute(&mut *conn)
            .await?;
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO password_resets (user_id, token_hash, created_at, expires_at, created_by)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .bind(reset.user_id)
        .bind(reset.token_hash)
        .bind(Instant(reset.now))
        .bind(Instant(reset.expires_at))
        .bind(reset.created_by)
        .fetch_exactly_one(conn)
        .await?;
        Ok(id)
    })
}

/// The link's id and user while it is unused, unexpired and its user active.
pub async fn find_usable(
    conn: &mut Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    db_run!(conn => {
        sqlx::query_as(
            "SELECT r.id, r.user_id FROM password_resets r JOIN users u ON u.id = r.user_id
             WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND u.active",
        )
        .bind(token_hash)
        .bind(Instant(now))
        .fetch_first(conn)
        .await
    })
}

/// Uses the link up; false if it was used in the meantime (two tabs, one link).
pub async fn use_up(conn: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    db_run!(conn => {
        let done = sqlx::query("UPDATE password_resets SET used_at = $1 WHERE id = $2 AND used_at IS NULL")
            .bind(Instant(now))
            .bind(id)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}
