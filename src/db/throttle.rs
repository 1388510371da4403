//! Throttle counters: how many attempts a key (an email, an email and
//! address pair, an address) has made in its current window. Every change is
//! one atomic statement, so parallel requests and several app servers never
//! overwrite each other's counts.

use super::FetchFully;
use super::Instant;
use super::{db_run, Conn, Pool};
use chrono::{DateTime, Utc};
use sqlx::FromRow;

/// A key's count after an attempt was added.
#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Counter {
    pub hits: i64,
    pub window_started_at: DateTime<Utc>,
}

/// Adds one attempt to `key` and returns the count including it. Run the
/// hits of one attempt in one write transaction, always in the same key
/// order, so parallel attempts are counted in the same order under every key. A window
/// that started at or before `window_expired_before` is over: the count
/// starts again at 1 from `now`.
pub async fn hit(
    conn: &mut Conn,
    key: &str,
    now: DateTime<Utc>,
    window_expired_before: DateTime<Utc>,
) -> Result<Counter, sqlx::Error> {
    db_run!(conn => {
        sqlx::query_as(
            "INSERT INTO throttle_counters (key, hits, window_started_at) VALUES ($1, 1, $2)
         ON CONFLICT (key) DO UPDATE SET
           hits = CASE WHEN throttle_counters.window_started_at <= $3 THEN 1
                       ELSE throttle_counters.hits + 1 END,
           window_started_at = CASE WHEN throttle_counters.window_started_at <= $3 THEN $2
                                    ELSE throttle_counters.window_started_at END
         RETURNING hits, window_started_at",
        )
        .bind(key)
        .bind(Instant(now))
        .bind(Instant(window_expired_before))
        .fetch_exactly_one(conn)
        .await
    })
}

/// The count in the current window, without adding to it.
pub async fn peek(pool: &Pool, key: &str, window_expired_before: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    db_run!(pool => {
        let row: Option<(i64,)> =
            sqlx::query_as("SELECT hits FROM throttle_counters WHERE key = $1 AND window_started_at > $2")
                .bind(key)
                .bind(Instant(window_expired_before))
                .fetch_first(pool)
                .await?;
        Ok(row.map(|(hits,)| hits).unwrap_or(0))
    })
}

/// Takes back one attempt (one that turned out to be a success).
pub async fn forgive(pool: &Pool, key: &str) -> Result<(), sqlx::Error> {
    db_run!(pool => {
        sqlx::query("UPDATE throttle_counters SET hits = hits - 1 WHERE key = $1 AND hits > 0")
            .bind(key)
            .execute(pool)
            .await?;
        Ok(())
    })
}

pub async fn clear(pool: &Pool, key: &str) -> Result<(), sqlx::Error> {
    db_run!(pool => {
        sqlx::query("DELETE FROM throttle_counters WHERE key = $1")
            .bind(key)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Removes counters whose windows ended long ago, so keys an attacker made
/// up do not pile up.
pub async fn purge(pool: &Pool, window_started_before: DateTime<Utc>) -> Result<u64, sqlx::Error> {
    db_run!(pool => {
        let done = sqlx::query("DELETE FROM throttle_counters WHERE window_started_at < $1")
            .bind(Instant(window_started_before))
            .execute(pool)
            .await?;
        Ok(done.rows_affected())
    })
}

/// Whether `email` has signed in with the right password from `address`.
pub async fn is_known_address(pool: &Pool, email: &str, address: &str) -> Result<bool, sqlx::Error> {
    db_run!(pool => {
        let (count,): (i64,) =
            sqlx::query_as("SELECT COUNT(*) FROM login_known_addresses WHERE email = $1 AND address = $2")
                .bind(email)
                .bind(address)
                .fetch_exactly_one(pool)
                .await?;
        Ok(count > 0)
    })
}

pub async fn remember_address(pool: &Pool, email: &str, address: &str, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    db_run!(pool => {
        sqlx::query(
            "INSERT INTO login_known_addresses (email, address, last_success_at) VALUES ($1, $2, $3)
             ON CONFLICT (email, address) DO UPDATE SET last_success_at = $3",
        )
        .bind(email)
        .bind(address)
        .bind(Instant(now))
        .execute(pool)
        .await?;
        Ok(())
    })
}
