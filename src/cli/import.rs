//! `qmtrack import-attendance FILE`: the same workflow as the web import
//! (preview, commit with its audit entry and certificates), with flags for
//! every choice the web page offers.

use crate::app::imports::{self, Choices, CommitRequest, Preview};
use crate::db::audit::Actor;
use crate::domain::import::matching::NearMatchPolicy;
use crate::domain::import::{Field, Severity};
use crate::domain::organisation::OrgType;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(clap::Args, Debug)]
pub struct ImportArgs {
    /// The spreadsheet
    pub file: PathBuf,
    /// The module, for sheets that do not say (e.g. "IRIS clinical session 1")
    #[arg(long)]
    pub module: Option<String>,
    /// The session date, for sheets that do not say (day/month/year)
    #[arg(long)]
    pub date: Option<String>,
    /// Only this sheet of a workbook
    #[arg(long)]
    pub sheet: Option<String>,
    /// The organisation of people the sheet does not place
    #[arg(long)]
    pub organisation: Option<String>,
    /// Create the --organisation if it is not on record (organisations the sheet names are always added)
    #[arg(long)]
    pub create_organisations: bool,
    /// The type of the --organisation when it is created (default: worked out from its name)
    #[arg(long, value_name = "TYPE")]
    pub organisation_type: Option<String>,
    /// Read the column with this heading as a field (repeatable), e.g. --map "Outcome=status";
    /// fields: full_name, first_name, surname, email, organisation, job_title, staff_category, date, module, status, ignore
    #[arg(long = "map", value_name = "HEADING=FIELD")]
    pub map: Vec<String>,
    /// The row that holds the headings (1 is the first row), when it is not found on its own
    #[arg(long, value_name = "N")]
    pub header_row: Option<usize>,
    /// People who look like someone on record: treat them as the same person, add them
    /// as new people, or refuse to import until each is decided
    #[arg(long, value_name = "same|new|ask", default_value = "new")]
    pub near_matches: String,
    /// Check and show what would be imported, but change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Print the preview or the result as one JSON object
    #[arg(long)]
    pub json: bool,
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
    for layout in &preview.analysis.layouts {
        let heading_row = layout
            .header_row
            .map(|row| format!("headings on row {row} ({})", layout.header_reason))
            .unwrap_or_else(|| "no heading row".into());
        let kind = if layout.grid { ", people × days" } else { "" };
        println!("Sheet “{}”: {heading_row}{kind}.", layout.sheet);
        for column in layout.columns.iter().filter(|c| c.field.is_some() || c.day.is_some()) {
            let read_as = match (&column.day, column.field) {
                (Some((module, date)), _) => format!(
                    "attendance at {}{}",
                    module.module_id,
                    date.map(|d| d.format(" on %d/%m/%Y").to_string()).unwrap_or_default()
                ),
                (None, Some(field)) => field.label().to_string(),
                (None, None) => String::new(),
            };
            println!(
                "  {} “{}” → {read_as} ({})",
                column.letter, column.heading, column.reason
            );
        }
        if !layout.modules.is_empty() {
            println!("  Training: {}", layout.modules.join("; "));
        }
        if !layout.dates.is_empty() {
            let shown: Vec<String> = layout
                .dates
                .iter()
                .take(8)
                .map(|d| d.format("%d/%m/%Y").to_string())
                .collect();
            let more = layout.dates.len().saturating_sub(shown.len());
            let more = if more > 0 {
                format!(" and {more} more")
            } else {
                String::new()
            };
            println!("  Session dates: {}{more}", shown.join(", "));
        }
        for note in &layout.notes {
            println!("  {note}");
        }
    }
    let resolution = &preview.resolution;
    println!(
        "New people: {}. New organisations: {}.",
        resolution.new_people(),
        resolution.new_organisations.len()
    );
    for new in &resolution.new_organisations {
        println!("  {} ({}: {})", new.name, new.type_label, new.reason);
    }
    if !resolution.near_matches.is_empty() {
        println!("Near matches: {}.", resolution.near_matches.len());
    }
    for issue in preview.issues() {
        let label = match issue.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        let place = issue.place();
        if place.is_empty() {
            eprintln!("{label}: {}", issue.message);
        } else {
            eprintln!("{label}: {place}: {}", issue.message);
        }
    }
}

pub async fn run(args: ImportArgs) -> ExitCode {
    match run_inner(&args).await {
        Ok(code) => code,
        Err(message) => failed(
            &message,
            args.json.then(|| {
                serde_json::json!({"file": args.file.display().to_string(), "committed": false,
                    "errors": [{"sheet": null, "row": null, "column": null, "message": message}], "warnings": []})
            }),
        ),
    }
}

/// How both import commands fail: the JSON they were asked for (if any) on
/// standard output, the message on standard error.
pub(super) fn failed(message: &str, json: Option<serde_json::Value>) -> ExitCode {
    if let Some(json) = json {
        println!("{json}");
    }
    eprintln!("qmtrack: {message}");
    ExitCode::FAILURE
}

/// The choices the flags make, as the web page would store them.
async fn choices_from(args: &ImportArgs, pool: &crate::db::Pool) -> Result<Choices, String> {
    let mut heading_mapping = Vec::new();
    for pair in &args.map {
        let (heading, field) = pair
            .rsplit_once('=')
            .ok_or_else(|| format!("--map takes HEADING=FIELD (got “{pair}”)"))?;
        if Field::from_user(field).is_none() {
            return Err(format!(
                "--map “{pair}”: “{field}” is not a field; use one of {}",
                Field::CHOICES.map(Field::as_str).join(", ")
            ));
        }
        heading_mapping.push((heading.trim().to_string(), field.trim().to_string()));
    }
    let near_matches = NearMatchPolicy::parse(&args.near_matches)
        .ok_or_else(|| format!("--near-matches takes same, new or ask (got “{}”)", args.near_matches))?;
    if let Some(org_type) = &args.organisation_type {
        if OrgType::parse(org_type).is_none() {
            return Err(format!(
                "--organisation-type “{org_type}” is not a type; use one of {}",
                OrgType::ALL.map(OrgType::as_str).join(", ")
            ));
        }
    }
    let (mut default_organisation, mut new_organisation) = (None, None);
    if let Some(name) = &args.organisation {
        let mut conn = pool.acquire().await.map_err(|e| e.to_string())?;
        let key = crate::domain::organisation::name_key(name);
        match crate::db::organisations::find_by_name(&mut conn, &key)
            .await
            .map_err(|e| e.to_string())?
        {
            Some(id) => default_organisation = Some(id),
            None if args.create_organisations => new_organisation = Some(name.clone()),
            None => {
                return Err(format!(
                    "there is no organisation called “{name}” (add --create-organisations to create it)"
                ))
            }
        }
    }
    Ok(Choices {
        module: args.module.clone(),
        date: args.date.clone(),
        sheet: args.sheet.clone(),
        default_organisation,
        new_organisation,
        new_organisation_type: args.organisation_type.clone(),
        heading_mapping,
        header_row: args.header_row,
        near_matches,
        ..Default::default()
    })
}

async fn run_inner(args: &ImportArgs) -> Result<ExitCode, String> {
    let (config, pool) = super::open_database().await.map_err(|e| e.to_string())?;
    let programmes = Arc::new(
        crate::domain::programmes::load_dir(&config.standards_dir.join("training"))
            .map_err(|errors| errors.iter().map(|e| e.to_string()).collect::<Vec<_>>().join("\n"))?,
    );
    let actor = crate::db::audit::Actor::command_line("import-attendance");
    crate::app::completions::bring_up_to_date(&pool, &programmes, &actor, chrono::Utc::now())
        .await
        .map_err(|e| e.to_string())?;
    let bytes = std::fs::read(&args.file).map_err(|e| format!("cannot read {}: {e}", args.file.display()))?;
    let file_name = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_default();
    let choices = choices_from(args, &pool).await?;
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
                    earlier.id,
                    crate::clock::to_db(earlier.committed_at.unwrap_or(earlier.created_at))
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
    let now = chrono::Utc::now();
    let actor = Actor::command_line("import-attendance");
    let import_id = imports::start(&pool, &actor, &file_name, &preview.sha256, &choices, now)
        .await
        .map_err(|e| e.to_string())?;
    let quiet = args.json;
    let progress = move |done: usize, total: usize| {
        if !quiet && total >= 5_000 {
            eprint!("\rImporting: {done} of {total} rows");
        }
    };
    let request = CommitRequest::new(&pool, &programmes, import_id, &actor, now);
    let outcome = imports::commit(&request, &preview, &progress)
        .await
        .map_err(|e| format!("the import failed and nothing was changed: {e}"))?;
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
        if outcome.staff_categories_set > 0 {
            println!(
                "Staff category set for {} {}.",
                outcome.staff_categories_set,
                if outcome.staff_categories_set == 1 {
                    "person"
                } else {
                    "people"
                }
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}
