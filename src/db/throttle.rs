//! Failed log-in counts per email address (whether or not the account exists,
//! so the response does not reveal which emails have accounts).

use super::FetchFully;
use sqlx::{AnyPool, FromRow};

#[derive(Debug, Clone, FromRow)]
pub struct Throttle {
    pub failures: i64,
    pub last_failure_at: String,
    #[sqlx(try_from = "super::Nullable<String>")]
    pub locked_until: Option<String>,
}

pub async fn get(pool: &AnyPool, email: &str) -> Result<Option<Throttle>, sqlx::Error> {
    sqlx::query_as("SELECT failures, last_failure_at, locked_until FROM login_throttle WHERE email = $1")
        .bind(email)
        .fetch_first(pool)
        .await
}

pub async fn save(
    pool: &AnyPool,
    email: &str,
    failures: i64,
    now: &str,
    locked_until: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_throttle (email, failures, last_failure_at, locked_until) VALUES ($1, $2, $3, NULLIF($4, ''))
         ON CONFLICT (email) DO UPDATE SET failures = $2, last_failure_at = $3, locked_until = NULLIF($4, '')",
    )
    .bind(email)
    .bind(failures)
    .bind(now)
    .bind(locked_until.unwrap_or_default())
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn clear(pool: &AnyPool, email: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE email = $1")
        .bind(email)
        .execute(pool)
        .await?;
    Ok(())
}
