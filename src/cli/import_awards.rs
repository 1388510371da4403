//! `qmtrack import-awards FILE`: the award history import of the web page
//! (the same workflow in `app::award_history`). Without `--commit` it only
//! shows what would be imported.

use crate::app::award_history::{self, AwardPreview, CommitOutcome};
use crate::app::Acting;
use crate::db::award_history::AwardImportOptions;
use crate::domain::import::awards::HistoricAward;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct ImportAwardsArgs {
    /// The spreadsheet of past awards (xlsx, xls, ods or csv): organisation,
    /// framework, awarded on, expires on and (if any) revoked on
    #[arg(required_unless_present = "undo")]
    pub file: Option<PathBuf>,
    /// Record the awards (without it, only check and show them)
    #[arg(long)]
    pub commit: bool,
    /// Add organisations the sheet names that are not on record
    #[arg(long)]
    pub create_organisations: bool,
    /// Issue a certificate for each award that was not revoked
    #[arg(long)]
    pub certificates: bool,
    /// Undo an earlier award import (its number)
    #[arg(long, value_name = "IMPORT", conflicts_with_all = ["file", "commit"])]
    pub undo: Option<i64>,
    /// Print the preview or the result as one JSON object
    #[arg(long)]
    pub json: bool,
}

pub async fn run(args: ImportAwardsArgs) -> ExitCode {
    match run_inner(&args).await {
        Ok(code) => code,
        Err(message) => super::import::failed(
            &message,
            args.json
                .then(|| serde_json::json!({"committed": false, "errors": [{"message": message}]})),
        ),
    }
}

fn describe(award: &HistoricAward) -> String {
    let revoked = award
        .revoked_on
        .map(|d| format!(", revoked {}", d.format("%d/%m/%Y")))
        .unwrap_or_default();
    format!(
        "  row {}: {}, {}: awarded {}, expires {}{revoked}",
        award.row,
        award.organisation_name,
        award.framework_name,
        award.awarded_on.format("%d/%m/%Y"),
        award.expires_on.format("%d/%m/%Y")
    )
}

fn print_preview(preview: &AwardPreview) {
    println!("{}: {} awards.", preview.file_name, preview.sheet.awards.len());
    for award in &preview.sheet.awards {
        println!("{}", describe(award));
    }
    if !preview.sheet.new_organisations.is_empty() {
        println!("Organisations to add:");
        for new in &preview.sheet.new_organisations {
            println!("  {} ({}: {})", new.name, new.type_label, new.reason);
        }
    }
    for issue in preview.errors() {
        eprintln!("error: {}: {}", issue.place(), issue.message);
    }
}

fn print_outcome(outcome: &CommitOutcome) {
    println!(
        "Imported (award import {}): {} awards ({} revoked), {} organisations added, {} certificates issued.",
        outcome.import_id, outcome.awards, outcome.revoked, outcome.organisations_created, outcome.certificates
    );
}

async fn run_inner(args: &ImportAwardsArgs) -> Result<ExitCode, String> {
    let (state, pool) = super::open_app("import-awards").await.map_err(|e| e.to_string())?;
    let ctx = state.ctx(&pool);
    let acting = Acting::command_line("import-awards");
    if let Some(id) = args.undo {
        award_history::undo(ctx, &acting, id)
            .await
            .map_err(|e| e.public_message())?;
        println!("Award import {id} has been undone: its awards, and the organisations it added, are gone.");
        return Ok(ExitCode::SUCCESS);
    }
    let Some(path) = &args.file else {
        return Err("give the spreadsheet to import".into());
    };
    let bytes = Arc::new(std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?);
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let options = AwardImportOptions {
        create_organisations: args.create_organisations,
        with_certificates: args.certificates,
    };
    let read = if args.commit {
        award_history::start(ctx, &acting, bytes, &file_name, options)
            .await
            .map(|r| r.map(|(id, preview)| (Some(id), preview)))
    } else {
        award_history::preview(ctx, &acting, bytes, &file_name, options)
            .await
            .map(|r| r.map(|preview| (None, preview)))
    };
    let (pending, preview) = read.map_err(|e| e.public_message())?.map_err(|e| e.to_string())?;
    let refusal = preview.refusal();
    let (Some(id), None) = (pending, &refusal) else {
        if args.json {
            println!("{}", preview.to_json(None));
        } else {
            print_preview(&preview);
            println!(
                "{}",
                refusal
                    .as_deref()
                    .unwrap_or("Nothing was imported: add --commit to record these awards.")
            );
        }
        if let Some(id) = pending {
            award_history::discard(ctx, &acting, id)
                .await
                .map_err(|e| e.public_message())?;
        }
        return Ok(if refusal.is_some() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    };
    let outcome = award_history::commit(ctx, &acting, id)
        .await
        .map_err(|e| e.public_message())?
        .map_err(|refusal| refusal.to_string())?;
    if args.json {
        println!("{}", preview.to_json(Some(&outcome)));
    } else {
        print_preview(&preview);
        print_outcome(&outcome);
    }
    Ok(ExitCode::SUCCESS)
}
