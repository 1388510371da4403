//! `qmtrack report --from DATE --to DATE --format F [--organisation ORG] --out PATH`:
//! the board report (or an organisation's progress report) written with the
//! same engine and renderings as the web.

use crate::db;
use crate::domain::report::{render, Format, Period};
use crate::error::{AppError, StartupError};
use crate::reports::{build, build_for_organisation, Scope, Sources};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(clap::Args, Debug)]
pub struct ReportArgs {
    /// First day of the period (YYYY-MM-DD)
    #[arg(long)]
    pub from: String,
    /// Last day of the period (YYYY-MM-DD)
    #[arg(long)]
    pub to: String,
    /// pdf, html, xlsx, csv or json
    #[arg(long)]
    pub format: String,
    /// Only this organisation's records (its name), for its progress report
    #[arg(long)]
    pub organisation: Option<String>,
    /// Where to write the file
    #[arg(long)]
    pub out: PathBuf,
}

pub async fn run(args: ReportArgs) -> Result<(), StartupError> {
    let period = Period::parse(&args.from, &args.to).map_err(StartupError::Refused)?;
    let format = Format::parse(&args.format).ok_or_else(|| {
        StartupError::Refused(format!(
            "unknown format “{}”: use pdf, html, xlsx, csv or json",
            args.format
        ))
    })?;
    let (config, pool) = super::open_database().await?;
    let standards = crate::domain::standards::load_dir(&config.standards_dir).map_err(StartupError::Standards)?;
    let programmes =
        crate::domain::programmes::load_dir(&config.standards_dir.join("training")).map_err(StartupError::Standards)?;
    let actor = db::audit::Actor::command_line("report");
    crate::app::completions::bring_up_to_date(&pool, &programmes, &actor, chrono::Utc::now()).await?;
    let scope = match &args.organisation {
        None => Scope::default(),
        Some(name) => {
            let mut conn = pool.acquire().await?;
            let key = crate::domain::organisation::name_key(name);
            let id = db::organisations::find_by_name(&mut conn, &key)
                .await?
                .ok_or_else(|| StartupError::Refused(format!("there is no organisation called “{name}”")))?;
            Scope {
                organisation_id: id,
                organisation_name: Some(name.trim().to_string()),
            }
        }
    };
    let sources = Sources {
        pool: &pool,
        standards: &standards,
        programmes: &programmes,
        renewal_notice_days: config.renewal_notice_days,
    };
    let report = if scope.organisation_name.is_some() {
        let today = crate::clock::Clock::system().today();
        build_for_organisation(sources, period, &scope, today).await?
    } else {
        build(sources, period, &scope).await?
    };
    let bytes = tokio_blocking(move || render(&report, &BTreeMap::new(), format)).await?;
    std::fs::write(&args.out, bytes)
        .map_err(|e| StartupError::Refused(format!("cannot write {}: {e}", args.out.display())))?;
    Ok(())
}

async fn tokio_blocking(work: impl FnOnce() -> Result<Vec<u8>, String> + Send + 'static) -> Result<Vec<u8>, AppError> {
    rocket::tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(format!("report rendering stopped: {e}")))?
        .map_err(AppError::Internal)
}
