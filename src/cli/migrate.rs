//! `qmtrack migrate`: bring the database schema up to date.

use crate::db;
use crate::error::StartupError;

pub async fn run() -> Result<(), StartupError> {
    let (config, pool) = super::open_database().await?;
    let applied = db::applied_migrations(&pool).await?;
    println!(
        "The {} database at {} is up to date ({applied} migrations applied).",
        pool.backend.name(),
        db::redact_url(&config.effective_database_url())
    );
    Ok(())
}
