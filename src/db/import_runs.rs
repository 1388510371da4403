//! Imports being committed in the background (migration 0025): which app
//! server runs each, and how far it has got, so that every server can show
//! the progress and a restarting server fails only the imports whose server
//! has gone.

use super::FetchFully;
use super::{db_run, Pool};

/// Records that `server_id` is about to commit the import; false when a
/// run of it is already recorded (by this server or another).
pub async fn start(
    pool: &Pool,
    import_id: i64,
    server_id: &str,
    total: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sqlx::Error> {
    let total = i64::try_from(total).unwrap_or(i64::MAX);
    db_run!(pool => {
        let done = sqlx::query(
            "INSERT INTO import_runs (import_id, server_id, done, total, updated_at) VALUES ($1, $2, 0, $3, $4)
             ON CONFLICT (import_id) DO NOTHING",
        )
        .bind(import_id)
        .bind(server_id)
        .bind(total)
        .bind(super::Instant(at))
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

pub async fn report(
    pool: &Pool,
    import_id: i64,
    done: u64,
    total: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<(), sqlx::Error> {
    let (done, total) = (
        i64::try_from(done).unwrap_or(i64::MAX),
        i64::try_from(total).unwrap_or(i64::MAX),
    );
    db_run!(pool => {
        sqlx::query("UPDATE import_runs SET done = $1, total = $2, updated_at = $3 WHERE import_id = $4")
            .bind(done)
            .bind(total)
            .bind(super::Instant(at))
            .bind(import_id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// The server recorded as running the import, if any.
pub async fn runner(pool: &Pool, import_id: i64) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT server_id FROM import_runs WHERE import_id = $1";
    super::first_value(&mut pool.acquire().await?, sql, &[import_id.into()]).await
}

/// Removes the run `server_id` recorded for an import still pending (it
/// stopped before claiming it); false if that is not what is there.
pub async fn remove_stale(pool: &Pool, import_id: i64, server_id: &str) -> Result<bool, sqlx::Error> {
    db_run!(pool => {
        let done = sqlx::query(
            "DELETE FROM import_runs WHERE import_id = $1 AND server_id = $2
             AND import_id IN (SELECT id FROM imports WHERE state = 'pending')",
        )
        .bind(import_id)
        .bind(server_id)
        .execute(pool)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// (rows done, rows in all) of a running import.
pub async fn progress(pool: &Pool, import_id: i64) -> Result<Option<(i64, i64)>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_as("SELECT done, total FROM import_runs WHERE import_id = $1")
            .bind(import_id)
            .fetch_first(pool)
            .await
    })
}

pub async fn finish(pool: &Pool, import_id: i64) -> Result<(), sqlx::Error> {
    db_run!(pool => {
        sqlx::query("DELETE FROM import_runs WHERE import_id = $1")
            .bind(import_id)
            .execute(pool)
            .await?;
        Ok(())
    })
}

/// Imports in the "running" state, each with the server recorded as
/// running it (None when no server recorded it: a commit from the command
/// line, or from a version before runs were recorded).
pub async fn running(pool: &Pool) -> Result<Vec<(i64, Option<String>)>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_as(
            "SELECT i.id, r.server_id FROM imports i LEFT JOIN import_runs r ON r.import_id = i.id
             WHERE i.state = 'running' ORDER BY i.id",
        )
        .fetch_all(pool)
        .await
    })
}

/// Runs recorded for imports no longer running (a server stopped between
/// its commit and tidying up): nothing reads them.
pub async fn remove_finished(pool: &Pool) -> Result<u64, sqlx::Error> {
    db_run!(pool => {
        let done = sqlx::query(
            "DELETE FROM import_runs WHERE import_id IN (SELECT id FROM imports WHERE state NOT IN ('running', 'pending'))",
        )
        .execute(pool)
        .await?;
        Ok(done.rows_affected())
    })
}

/// Marks one running import failed with `message`; false if it was no
/// longer running.
pub async fn fail(pool: &Pool, import_id: i64, message: &str) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE imports SET state = 'failed', message = $1 WHERE id = $2 AND state = 'running'";
    Ok(super::execute(&mut pool.acquire().await?, sql, &[message.into(), import_id.into()]).await? == 1)
}

/// PostgreSQL: whether a session holds the advisory lock `key` (an app
/// server holds its own for as long as it lives; a killed one's goes with
/// its connection). Tried and let go at once on a pool connection.
pub async fn lock_is_held(pool: &Pool, key: i64) -> Result<bool, sqlx::Error> {
    let crate::db::Either::Postgres(pool) = pool.native() else {
        return Ok(false);
    };
    let mut conn = pool.acquire().await?;
    let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1)")
        .bind(key)
        .fetch_one(&mut *conn)
        .await?;
    if got {
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(key)
            .execute(&mut *conn)
            .await?;
    }
    Ok(!got)
}

/// PostgreSQL: takes the advisory lock `key` on a connection of its own
/// (not the pool's), held until the connection closes.
pub async fn hold_lock(url: &str, key: i64) -> Result<sqlx::PgConnection, sqlx::Error> {
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(url).await?;
    sqlx::query("SELECT pg_advisory_lock($1)")
        .bind(key)
        .execute(&mut conn)
        .await?;
    Ok(conn)
}
