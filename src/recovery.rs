//! What a restart tidies up after a process that stopped without warning
//! (killed, or the machine lost power): nothing may stay stuck, and no
//! file holding personal data may stay behind with nothing pointing to it.
//!
//! - Imports left "running": their commit transaction died with the process,
//!   so nothing of them was saved. They are marked failed, saying so, and
//!   their uploaded sheets are removed.
//! - Uploaded sheets of imports that are no longer waiting, and half-written
//!   ones, are removed.
//! - Throttle counters from long-finished windows are dropped.
//! - Evidence files and uploaded sheets that others could read (written by
//!   an older version, or restored by hand) are made private (0600).
//!
//! Half-received uploads (evidence `.incoming-*` files and Rocket's own
//! temporary files) are swept before the server starts, in
//! [`crate::build_rocket`], by [`crate::storage`].

use crate::db::{self, imports, throttle};
use crate::Clock;
use std::path::Path;

pub const INTERRUPTED_IMPORT: &str =
    "Stopped by a restart of the service; nothing was saved. Upload the sheet again to import it.";

/// Runs once the database is ready, before the first request.
pub async fn after_restart(pool: &db::Pool, data_dir: &Path, clock: &Clock) -> Result<(), sqlx::Error> {
    let failed = imports::fail_interrupted(pool, INTERRUPTED_IMPORT).await?;
    for id in &failed {
        tracing::warn!("import {id} was stopped by a restart; marked failed");
        crate::app::imports::remove_pending(data_dir, *id);
    }
    remove_unwanted_sheets(pool, data_dir).await?;
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

/// Sheets are kept only while their import waits for its commit.
async fn remove_unwanted_sheets(pool: &db::Pool, data_dir: &Path) -> Result<(), sqlx::Error> {
    let Ok(entries) = std::fs::read_dir(data_dir.join("imports")) else {
        return Ok(());
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        let wanted = match name.strip_suffix(".upload").map(str::parse::<i64>) {
            Some(Ok(id)) => imports::find(pool, id).await?.is_some_and(|row| row.state == "pending"),
            // A half-written sheet: written and renamed within moments, so one
            // a minute old belongs to no live upload.
            _ if name.ends_with(".partial") => entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|at| at.elapsed().ok())
                .is_none_or(|age| age < std::time::Duration::from_secs(60)),
            _ => true,
        };
        if !wanted {
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::warn!("could not remove {}: {e}", path.display());
            }
        }
    }
    Ok(())
}
