//! What a restart tidies up after a process that stopped without warning
//! (killed, or the machine lost power): nothing may stay stuck, and no
//! file holding personal data may stay behind with nothing pointing to it.
//!
//! - Imports left "running" by a server that has gone: their commit
//!   transaction died with the process, so nothing of them was saved. They
//!   are marked failed, saying so, and their uploaded sheets are removed.
//!   An import another live app server is committing is left alone: each
//!   server records itself with the imports it runs, and is live while it
//!   holds its [`Presence`]. Every server also looks again now and then
//!   ([`watch_for_abandoned_imports`]), so an import whose server died is
//!   failed even if that server never comes back. A commit from the command
//!   line records no server: only a server's start fails one of those, as
//!   before servers recorded their runs.
//! - Uploaded sheets of imports that are no longer waiting, and half-written
//!   ones, are removed.
//! - Throttle counters from long-finished windows are dropped.
//! - Evidence files and uploaded sheets that others could read (written by
//!   an older version, or restored by hand) are made private (0600).
//!
//! Half-received uploads (evidence `.incoming-*` files and Rocket's own
//! temporary files) are swept before the server starts, in
//! [`crate::build_rocket`], by [`crate::storage`].

use crate::db::{self, import_runs, imports, throttle};
use crate::storage::EvidenceStore;
use crate::Clock;
use sha2::{Digest, Sha256};
use std::path::Path;
use std::time::Duration;

pub const INTERRUPTED_IMPORT: &str =
    "Stopped by a restart of the service; nothing was saved. Upload the sheet again to import it.";

/// How often a running server looks for imports whose server has gone.
pub const ABANDONED_IMPORTS_EVERY: Duration = Duration::from_secs(30);

/// This process as one of the app servers sharing a database, live for as
/// long as this value is. On PostgreSQL it holds an advisory lock named by
/// its id on a connection of its own, which the database lets go the moment
/// the process dies; on SQLite (one machine, one data folder) the upload
/// folder [`crate::storage::Scratch`] it has locked says the same.
pub struct Presence {
    pub id: String,
    _held: Option<rocket::tokio::sync::Mutex<sqlx::PgConnection>>,
}

impl Presence {
    /// Makes this process known as server `id` (its upload folder's name).
    pub async fn claim(pool: &db::Pool, url: &str, id: &str) -> Result<Presence, sqlx::Error> {
        let held = match pool.backend() {
            db::Backend::Postgres => Some(rocket::tokio::sync::Mutex::new(
                import_runs::hold_lock(url, lock_key(id)).await?,
            )),
            db::Backend::Sqlite => None,
        };
        Ok(Presence {
            id: id.to_string(),
            _held: held,
        })
    }
}

/// The advisory lock a server holds while it lives: named by its id.
fn lock_key(server_id: &str) -> i64 {
    let digest = Sha256::digest(server_id.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// Whether the app server `server_id` is still running.
pub(crate) async fn server_is_live(pool: &db::Pool, data_dir: &Path, server_id: &str) -> Result<bool, sqlx::Error> {
    match pool.backend() {
        db::Backend::Postgres => import_runs::lock_is_held(pool, lock_key(server_id)).await,
        db::Backend::Sqlite => Ok(crate::storage::Scratch::is_live(data_dir, server_id)),
    }
}

/// Runs once the database is ready, before the first request.
pub async fn after_restart(
    pool: &db::Pool,
    files: &EvidenceStore,
    data_dir: &Path,
    clock: &Clock,
) -> Result<(), sqlx::Error> {
    fail_abandoned_imports(pool, files, data_dir, Unrecorded::Fail).await?;
    remove_unwanted_sheets(pool, files, data_dir).await?;
    for dir in [data_dir.join("evidence"), data_dir.join("imports")] {
        match crate::storage::make_private(&dir) {
            Ok(0) => {}
            Ok(n) => tracing::warn!(
                "{n} files in {} could be read by others; now private (0600)",
                dir.display()
            ),
            Err(e) => tracing::error!("could not make the files in {} private: {e}", dir.display()),
        }
    }
    let long_ago = clock.now() - chrono::Duration::days(1);
    throttle::purge(pool, long_ago).await?;
    Ok(())
}

/// What to do with a running import no server recorded: one committed
/// from the command line (which records no run), or by an older version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unrecorded {
    /// At start, as before servers recorded their runs.
    Fail,
    /// While serving: a command may be committing it right now.
    Leave,
}

/// Fails the running imports whose server has gone (and, if `unrecorded`
/// says so, those no server recorded) and removes their sheets. Returns
/// their ids.
pub async fn fail_abandoned_imports(
    pool: &db::Pool,
    files: &EvidenceStore,
    data_dir: &Path,
    unrecorded: Unrecorded,
) -> Result<Vec<i64>, sqlx::Error> {
    let mut failed = Vec::new();
    for (id, server) in import_runs::running(pool).await? {
        let live = match &server {
            Some(server) => server_is_live(pool, data_dir, server).await?,
            None => unrecorded == Unrecorded::Leave,
        };
        if !live && import_runs::fail(pool, id, INTERRUPTED_IMPORT).await? {
            tracing::warn!("import {id} was stopped by a restart; marked failed");
            files.remove_sheet(id).await;
            failed.push(id);
        }
    }
    import_runs::remove_finished(pool).await?;
    Ok(failed)
}

/// Looks for abandoned imports every [`ABANDONED_IMPORTS_EVERY`] until the
/// server shuts down.
pub async fn watch_for_abandoned_imports(
    pool: db::Pool,
    files: EvidenceStore,
    data_dir: std::path::PathBuf,
    shutdown: rocket::Shutdown,
) {
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        rocket::tokio::select! {
            _ = &mut shutdown => return,
            _ = rocket::tokio::time::sleep(ABANDONED_IMPORTS_EVERY) => {}
        }
        if let Err(e) = fail_abandoned_imports(&pool, &files, &data_dir, Unrecorded::Leave).await {
            tracing::warn!("could not look for abandoned imports: {e}");
        }
    }
}

/// Sheets are kept only while their import waits for its commit.
async fn remove_unwanted_sheets(pool: &db::Pool, files: &EvidenceStore, data_dir: &Path) -> Result<(), sqlx::Error> {
    for id in files.sheet_ids().await.map_err(sqlx::Error::Io)? {
        if imports::find(pool, id).await?.is_none_or(|row| row.state != "pending") {
            files.remove_sheet(id).await;
        }
    }
    // Half-written sheets in the folder: written and renamed within
    // moments, so one a minute old belongs to no live upload.
    let Ok(entries) = std::fs::read_dir(data_dir.join("imports")) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let abandoned = entry.file_name().to_string_lossy().ends_with(".partial")
            && entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_some_and(|age| age >= Duration::from_secs(60));
        if abandoned {
            if let Err(e) = std::fs::remove_file(entry.path()) {
                tracing::warn!("could not remove {}: {e}", entry.path().display());
            }
        }
    }
    Ok(())
}
