//! `qmtrack import-attendance FILE`: the same engine as the web import.

use crate::clock::to_db;
use crate::db::audit::Actor;
use crate::imports::{self, Choices, Preview};
use std::process::ExitCode;
use std::sync::Arc;

pub struct ImportArgs {
    pub file: std::path::PathBuf,
    pub module: Option<String>,
    pub date: Option<String>,
    pub sheet: Option<String>,
    pub organisation: Option<String>,
    pub dry_run: bool,
    pub json: bool,
}

fn located(issue: &crate::domain::import::Issue) -> String {
    let mut place = Vec::new();
    if !issue.sheet.is_empty() {
        place.push(format!("sheet “{}”", issue.sheet));
    }
    if let Some(row) = issue.row {
        place.push(format!("row {row}"));
    }
    if let Some(column) = &issue.column {
        place.push(format!("column {column}"));
    }
    if place.is_empty() {
        issue.message.clone()
    } else {
        format!("{}: {}", place.join(", "), issue.message)
    }
}

fn print_preview(preview: &Preview) {
    let s = &preview.summary;
    println!(
        "{}: {} attendance records for {} people in {} sessions ({}).",
        preview.file_name,
        s.records,
        s.people,
        s.sessions,
        s.by_status
            .iter()
            .map(|(k, v)| format!("{v} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    println!(
        "New people: {}. New organisations: {}.",
        preview.resolution.new_people(),
        preview.resolution.new_organisations.len()
    );
    for issue in preview.issues() {
        let label = match issue.severity {
            crate::domain::import::Severity::Error => "error",
            crate::domain::import::Severity::Warning => "warning",
        };
        eprintln!("{label}: {}", located(issue));
    }
}

pub async fn run(args: ImportArgs) -> ExitCode {
    match run_inner(&args).await {
        Ok(code) => code,
        Err(message) => {
            if args.json {
                println!(
                    "{}",
                    serde_json::json!({"file": args.file.display().to_string(), "committed": false, "errors": [{"sheet": null, "row": null, "column": null, "message": message}], "warnings": []})
                );
            }
            eprintln!("qmtrack: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run_inner(args: &ImportArgs) -> Result<ExitCode, String> {
    let (config, pool) = super::open_database().await.map_err(|e| e.to_string())?;
    let programmes = crate::domain::programmes::load_dir(&config.standards_dir.join("training"))
        .map_err(|errors| errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))?;
    let programmes = Arc::new(programmes);
    crate::db::completions::bring_up_to_date(&pool, &programmes)
        .await
        .map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let default_organisation = match &args.organisation {
        None => None,
        Some(name) => {
            let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
            let key = crate::domain::organisation::name_key(name);
            Some(
                crate::db::organisations::find_by_name(&mut conn, &key)
                    .await
                    .map_err(|e| e.to_string())?
                    .ok_or_else(|| format!("there is no organisation called “{name}”"))?,
            )
        }
    };
    let choices = Choices {
        module: args.module.clone(),
        date: args.date.clone(),
        sheet: args.sheet.clone(),
        default_organisation,
        ..Default::default()
    };
    let preview = imports::preview(
        &pool,
        programmes.clone(),
        Arc::new(bytes),
        &file_name,
        &choices,
        config.import_max_bytes,
    )
    .await
    .map_err(|e| e.to_string())?;
    let has_errors = preview.error_count() > 0;
    if args.dry_run || has_errors || preview.already_imported.is_some() {
        if args.json {
            println!("{}", imports::preview_json(&preview, None));
        } else {
            print_preview(&preview);
            if let Some(earlier) = &preview.already_imported {
                println!(
                    "This file was already imported (import {} on {}); importing it again would change nothing.",
                    earlier.id, earlier.committed_at
                );
            } else if has_errors {
                println!("Nothing was imported: fix the errors above and try again.");
            } else {
                println!("Dry run: nothing was imported.");
            }
        }
        return Ok(if has_errors {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }
    let now = to_db(chrono::Utc::now());
    let import_id = imports::start(
        &pool,
        &Actor::command_line("import-attendance"),
        &file_name,
        &preview.sha256,
        &choices,
        &now,
    )
    .await
    .map_err(|e| e.to_string())?;
    let quiet = args.json;
    let progress = move |done: usize, total: usize| {
        if !quiet && total >= 5_000 {
            eprint!("\rImporting: {done} of {total} rows");
        }
    };
    let outcome = match imports::commit(&pool, &programmes, import_id, &preview, &now, &progress).await {
        Ok(outcome) => outcome,
        Err(e) => {
            let _ = crate::db::imports::set_state(&pool, import_id, "failed", &e.to_string()).await;
            return Err(format!("the import failed and nothing was changed: {e}"));
        }
    };
    if args.json {
        println!("{}", imports::preview_json(&preview, Some(&outcome)));
    } else {
        if preview.summary.records >= 5_000 {
            eprintln!();
        }
        print_preview(&preview);
        println!(
            "Imported (import {import_id}): {} attendance records added, {} changed, {} unchanged; {} people, {} organisations and {} sessions added.",
            outcome.attendance_created,
            outcome.attendance_updated,
            outcome.attendance_unchanged,
            outcome.people_created,
            outcome.organisations_created,
            outcome.sessions_created
        );
    }
    Ok(ExitCode::SUCCESS)
}
