//! Copying SQLite's write-ahead log back into the database file
//! ("checkpointing") after the write that grew it, not inside it.
//!
//! By default the connection that commits a transaction leaving more than
//! 1,000 pages in the log copies them all back before its commit returns.
//! After a large import that is every page the import touched (on the
//! large data set about 110 MB, a third of a second; a tenth of a second for
//! 100,000 rows into an empty database), and the training lead waited for
//! it although the import was already safely in the log.
//!
//! So no connection of the pools checkpoints in its commits
//! (`wal_autocheckpoint = 0`, set in [`super::connect`]). After each write
//! transaction commits, [`after_commit`] looks at the log's size and, when
//! it is over [`LOG_LIMIT`], copies it back on a connection of its own in
//! the background: readers and the next writer carry on meanwhile, as
//! SQLite allows. The connections also truncate the log back to
//! [`LOG_LIMIT`] when they start it again (`journal_size_limit`), so a log
//! file over the limit always holds writes made since it was last emptied.
//!
//! Every connection, not just the writer's: a single statement written
//! outside a transaction (an import's progress, a sign-in counter) on a
//! connection that kept SQLite's default did the checkpoint itself, and
//! recording a new import after undoing a large one took 0.2-0.3 s instead
//! of under a millisecond. Such writes are a few pages each; the next write
//! transaction's check copies them back with its own, and a running server
//! also checks once a minute ([`watch`]), in case nothing else is written.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};

/// The log size (bytes) above which a commit starts a checkpoint, and to
/// which the log file is truncated when emptied: SQLite's own default of
/// 1,000 pages of 4 KiB.
pub const LOG_LIMIT: u64 = 1_000 * 4_096;

/// Databases (by file) whose log is being copied back now: one checkpoint
/// at a time each; a commit meanwhile leaves it to the one running.
fn running() -> &'static Mutex<HashSet<PathBuf>> {
    static RUNNING: OnceLock<Mutex<HashSet<PathBuf>>> = OnceLock::new();
    RUNNING.get_or_init(Default::default)
}

/// Called after a write transaction on `options`' database committed:
/// starts a checkpoint in the background if the log has grown past
/// [`LOG_LIMIT`] and none is running.
pub fn after_commit(options: &SqliteConnectOptions) {
    let database = options.clone().get_filename().into_owned();
    let log = log_file(&database);
    if std::fs::metadata(&log).map_or(true, |m| m.len() <= LOG_LIMIT) {
        return;
    }
    let Ok(mut underway) = running().lock() else {
        return;
    };
    if !underway.insert(database.clone()) {
        return;
    }
    drop(underway);
    let options = options.clone();
    rocket::tokio::spawn(async move {
        match checkpoint(&options).await {
            Ok(()) => {}
            // Deleted meanwhile (a test's or benchmark's database): nothing to keep.
            Err(_) if !database.exists() => {}
            // The log stays as it is, safe, and the next commit tries again.
            Err(e) => tracing::warn!("the database log could not be copied back: {e}"),
        }
        if let Ok(mut underway) = running().lock() {
            underway.remove(&database);
        }
    });
}

/// How often a running server looks at the log's size regardless of writes.
const WATCH_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// A running server's check, once a minute until it shuts down, for logs
/// grown by writes outside a transaction alone.
pub async fn watch(pool: super::Pool, shutdown: rocket::Shutdown) {
    let super::Pool::Sqlite { writer, .. } = pool else {
        return; // PostgreSQL keeps its own log.
    };
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        rocket::tokio::select! {
            _ = &mut shutdown => return,
            _ = rocket::tokio::time::sleep(WATCH_EVERY) => {}
        }
        after_commit(&writer.connect_options());
    }
}

/// Copies back as much of the log as no reader still needs (SQLite's
/// "passive" checkpoint: it never waits for readers or the writer).
async fn checkpoint(options: &SqliteConnectOptions) -> Result<(), sqlx::Error> {
    let started = std::time::Instant::now();
    let mut connection = options.clone().create_if_missing(false).connect().await?;
    let (busy, frames, copied): (i64, i64, i64) = sqlx::query_as("PRAGMA wal_checkpoint(PASSIVE)")
        .fetch_one(&mut connection)
        .await?;
    connection.close().await?;
    tracing::debug!(busy, frames, copied, took = ?started.elapsed(), "database log copied back");
    Ok(())
}

/// The write-ahead log beside `database`: SQLite names it `<file>-wal`.
fn log_file(database: &std::path::Path) -> PathBuf {
    let mut name = database.as_os_str().to_os_string();
    name.push("-wal");
    PathBuf::from(name)
}
