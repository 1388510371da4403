//! Committing an import in the background so that any app server can
//! watch it: the run is recorded in the database with the server running
//! it (see [`crate::recovery`]) and its progress, which the import's page
//! reads whichever server serves it.

use crate::app::imports::{self, CommitRequest, ImportFailure, Preview};
use crate::app::AppState;
use crate::db::audit::Actor;
use crate::db::{self, Pool};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// How often a running commit's progress is written for others to read.
const REPORT_EVERY: Duration = Duration::from_millis(250);

/// Records this server as the import's runner, then claims it (pending →
/// running). Of two servers asked at once, one gets a conflict.
pub async fn claim(state: &AppState, pool: &Pool, import_id: i64, preview: &Preview) -> Result<(), ImportFailure> {
    let total = preview.summary.records as u64;
    let mut recorded = db::import_runs::start(pool, import_id, &state.server_id, total, state.clock.now()).await?;
    if !recorded {
        // A server that stopped between recording a run and claiming the
        // import leaves a run of a still pending import: cleared, it must
        // not block the import for ever.
        if let Some(stale) = db::import_runs::runner(pool, import_id).await? {
            let gone = !crate::recovery::server_is_live(pool, &state.config.data_dir, &stale).await?;
            if gone && db::import_runs::remove_stale(pool, import_id, &stale).await? {
                recorded = db::import_runs::start(pool, import_id, &state.server_id, total, state.clock.now()).await?;
            }
        }
    }
    if !recorded {
        return Err(ImportFailure::Conflict(
            "This import is already being committed; it was not started again.".into(),
        ));
    }
    if let Err(refused) = imports::claim(pool, import_id, preview).await {
        // The run recorded above is this server's own: nobody else could add one.
        db::import_runs::finish(pool, import_id).await?;
        return Err(refused);
    }
    Ok(())
}

/// Commits a claimed import in the background, writing its progress as it
/// goes, and tidies up after it (its sheet, its cached reading, its run).
pub fn commit_in_background(state: &AppState, pool: Pool, import_id: i64, preview: Preview, actor: Actor) {
    let files = state.files.clone();
    let analyses = state.import_analyses.clone();
    let programmes = state.programmes.clone();
    let clock = state.clock.clone();
    let now = state.clock.now();
    let done = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let total = preview.summary.records as u64;
    rocket::tokio::spawn(report_progress(
        pool.clone(),
        import_id,
        total,
        done.clone(),
        finished.clone(),
        clock,
    ));
    rocket::tokio::spawn(async move {
        let report = move |rows: usize, _: usize| done.store(rows as u64, Ordering::Relaxed);
        let request = CommitRequest::new(&pool, &programmes, import_id, &actor, now);
        if imports::run_commit(&request, &preview, &report).await.is_ok() {
            files.remove_sheet(import_id).await;
        }
        analyses.forget(import_id);
        finished.store(true, Ordering::Relaxed);
        if let Err(e) = db::import_runs::finish(&pool, import_id).await {
            tracing::warn!("import {import_id}: could not clear its run: {e}");
        }
    });
}

/// Writes the rows done every [`REPORT_EVERY`] while the commit runs.
async fn report_progress(
    pool: Pool,
    import_id: i64,
    total: u64,
    done: Arc<AtomicU64>,
    finished: Arc<AtomicBool>,
    clock: crate::Clock,
) {
    let mut written = 0;
    while !finished.load(Ordering::Relaxed) {
        rocket::tokio::time::sleep(REPORT_EVERY).await;
        let now_done = done.load(Ordering::Relaxed);
        if now_done != written {
            if let Err(e) = db::import_runs::report(&pool, import_id, now_done, total, clock.now()).await {
                tracing::warn!("import {import_id}: could not record its progress: {e}");
            }
            written = now_done;
        }
    }
}
