//! Planner statistics, and the version of the data the report figures are
//! computed from.

use super::{db_run, FetchFully, Pool};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// Refreshes the query planner's statistics: on SQLite, every start runs
/// it (see [`super::migrate`]). Without them SQLite picks indexes by their shape alone
/// and chose one that scanned every completion spell per person (80 s for
/// the IRIS standings on the large data set). On SQLite the analysis is
/// bounded to a sample of each index, so it takes well under a second on a
/// million rows; PostgreSQL samples by itself.
pub async fn analyze(pool: &Pool) -> Result<(), sqlx::Error> {
    match pool {
        Pool::Sqlite { writer, .. } => analyze_sqlite(writer).await,
        Pool::Postgres { pool, .. } => {
            sqlx::query("ANALYZE").execute(pool).await?;
            Ok(())
        }
    }
}

/// After a write that changed tables' sizes many times over (a large
/// import into a new database, a step of the large demo): fresh statistics
/// on SQLite. A connection keeps the statistics it opened with, so every
/// SQLite connection opened before is replaced when next handed out (see
/// [`opened_before_refresh`]). PostgreSQL's autovacuum analyses changed
/// tables by itself. A failure is logged, not returned: the write it
/// follows is already committed.
pub async fn refresh_after_bulk_write(pool: &Pool) {
    if let Pool::Sqlite { writer, .. } = pool {
        let started = Instant::now();
        match analyze_sqlite(writer).await {
            Ok(()) => {
                note_refreshed();
                tracing::debug!(took = ?started.elapsed(), "planner statistics refreshed");
            }
            Err(e) => tracing::warn!("the planner statistics could not be refreshed: {e}"),
        }
    }
}

/// When this process last refreshed SQLite's statistics after a bulk
/// write, in nanoseconds after [`CLOCK_START`]; 0 for never. One for the
/// process, not per database: a refresh of one database (tests open many)
/// only makes the others' connections reopen once.
static REFRESHED_AT: AtomicU64 = AtomicU64::new(0);
static CLOCK_START: OnceLock<Instant> = OnceLock::new();

fn since_clock_start() -> Duration {
    CLOCK_START.get_or_init(Instant::now).elapsed()
}

fn note_refreshed() {
    let now = u64::try_from(since_clock_start().as_nanos()).unwrap_or(u64::MAX);
    REFRESHED_AT.store(now.max(1), Ordering::Release);
}

/// Whether a connection opened `age` ago predates the last refresh of the
/// statistics, and so plans with older ones: the pools close such a
/// connection rather than hand it out (sqlx's `before_acquire`).
pub(crate) fn opened_before_refresh(age: Duration) -> bool {
    match REFRESHED_AT.load(Ordering::Acquire) {
        0 => false,
        at => age > since_clock_start().saturating_sub(Duration::from_nanos(at)),
    }
}

pub(crate) async fn analyze_sqlite(pool: &sqlx::SqlitePool) -> Result<(), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    sqlx::query("PRAGMA analysis_limit = 1000").execute(&mut *conn).await?;
    sqlx::query("ANALYZE").execute(&mut *conn).await?;
    Ok(())
}

/// How many audit entries near the end of the log are counted (see
/// [`data_version`]).
const RECENT_ENTRIES: i64 = 1000;

/// A value that changes whenever anything the report figures count may
/// have changed: every workflow that changes them writes an audit entry in
/// the same transaction. It is the highest audit id with the number of
/// entries among the last [`RECENT_ENTRIES`] ids: on PostgreSQL ids are
/// taken when a row is inserted, not when it commits, so a transaction that
/// took id 100 may commit after one that took 101; the highest id stays
/// 101 but the count goes up. Read through the primary key only, and no
/// writer updates a shared row for it (that would put every PostgreSQL
/// writer in one queue).
///
/// Evaluation responses are the exception: answered anonymously, they
/// write no audit entry (its time would tie an answer to whoever was seen
/// answering), so their number, which only grows, is added to the count.
pub async fn data_version(pool: &Pool) -> Result<(i64, i64), sqlx::Error> {
    let pool = &pool.quick_lane(); // short, through an index: see Pool::quick_lane
                                   // One statement: every dashboard view asks, and each statement is a
                                   // round trip to a connection (two on SQLite's pool).
    let (last, recent, responses): (i64, i64, i64) = db_run!(pool => {
        sqlx::query_as(
            "SELECT COALESCE(MAX(id), 0), COUNT(*), (SELECT COUNT(*) FROM evaluation_responses) FROM audit_log
             WHERE id > (SELECT COALESCE(MAX(id), 0) FROM audit_log) - $1",
        )
        .bind(RECENT_ENTRIES)
        .fetch_exactly_one(pool)
        .await
    })?;
    Ok((last, recent + responses))
}
