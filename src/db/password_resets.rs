//! One-time password reset links: only a hash of each token is stored.

use super::Conn;
use super::Instant;
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
    let retire = "UPDATE password_resets SET used_at = $1 WHERE user_id = $2 AND used_at IS NULL";
    super::execute(conn, retire, &[Instant(reset.now).into(), reset.user_id.into()]).await?;
    super::one_value(
        conn,
        "INSERT INTO password_resets (user_id, token_hash, created_at, expires_at, created_by)
         VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[
            reset.user_id.into(),
            reset.token_hash.into(),
            Instant(reset.now).into(),
            Instant(reset.expires_at).into(),
            reset.created_by.into(),
        ],
    )
    .await
}

/// The link's id and user while it is unused, unexpired and its user active.
pub async fn find_usable(
    conn: &mut Conn,
    token_hash: &str,
    now: DateTime<Utc>,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    super::first_row(
        conn,
        "SELECT r.id, r.user_id FROM password_resets r JOIN users u ON u.id = r.user_id
         WHERE r.token_hash = $1 AND r.used_at IS NULL AND r.expires_at > $2 AND u.active",
        &[token_hash.into(), Instant(now).into()],
    )
    .await
}

/// Uses the link up; false if it was used in the meantime (two tabs, one link).
pub async fn use_up(conn: &mut Conn, id: i64, now: DateTime<Utc>) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE password_resets SET used_at = $1 WHERE id = $2 AND used_at IS NULL";
    Ok(super::execute(conn, sql, &[Instant(now).into(), id.into()]).await? == 1)
}
