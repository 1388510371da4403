//! `qmtrack backup`, `qmtrack restore` and `qmtrack copy-database`: thin
//! wrappers that open the configured database and report what the
//! workflows in [`crate::app::backup`] did.

use crate::app::backup;
use crate::config::AppConfig;
use crate::db;
use crate::error::StartupError;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct BackupArgs {
    /// The archive to write (a zip file, readable by this user only)
    #[arg(long)]
    pub out: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct RestoreArgs {
    /// The archive `qmtrack backup` wrote
    pub archive: PathBuf,
}

#[derive(clap::Args, Debug)]
pub struct CopyDatabaseArgs {
    /// The empty PostgreSQL database to copy into (postgres://…)
    #[arg(long)]
    pub to: String,
}

pub async fn run_backup(args: BackupArgs) -> Result<(), StartupError> {
    let (config, pool) = super::open_database().await?;
    let now = crate::Clock::system().now();
    let manifest = backup::backup(&config, &pool, &args.out, now).await;
    pool.close().await;
    let manifest = manifest?;
    let rows: i64 = manifest.tables.values().sum();
    let files = manifest.files().count();
    println!(
        "Wrote {}: {rows} rows in {} tables and {files} files from the {} database (schema version {}).",
        args.out.display(),
        manifest.tables.len(),
        manifest.backend,
        manifest.schema_version
    );
    Ok(())
}

pub async fn run_restore(args: RestoreArgs) -> Result<(), StartupError> {
    let config = AppConfig::load()?;
    let (manifest, restored) = backup::restore(&config, &args.archive).await?;
    println!(
        "Restored the backup of {} into the {} database at {}: {} rows in {} tables, all as the manifest lists, and {} files ({} bytes) into {}, each with the SHA-256 the manifest gives.",
        manifest.created_at,
        manifest.backend,
        db::redact_url(&config.effective_database_url()),
        restored.rows(),
        restored.tables.len(),
        restored.files,
        restored.file_bytes,
        config.data_dir.display()
    );
    Ok(())
}

pub async fn run_copy_database(args: CopyDatabaseArgs) -> Result<(), StartupError> {
    let (config, pool) = super::open_database().await?;
    let started = std::time::Instant::now();
    let copied = backup::copy_to_postgres(&config, &pool, &args.to).await;
    pool.close().await;
    let copied = copied?;
    println!(
        "Copied {} rows in {} tables to {} in {:.1} s; every table's rows match. {} files ({} bytes) under {} checked against their hashes.",
        copied.rows(),
        copied.tables.len(),
        db::redact_url(&args.to),
        started.elapsed().as_secs_f64(),
        copied.files,
        copied.file_bytes,
        config.data_dir.display()
    );
    println!("To serve from it, set QMTRACK_DATABASE_URL (database_url) to that URL and keep the same data folder.");
    Ok(())
}
