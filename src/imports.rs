//! The attendance import wired to the database: reading, analysing and
//! matching for a preview, then committing. The web pages, the command line
//! and the benchmark all go through here, so they cannot disagree.

use crate::db::audit::Actor;
use crate::db::imports::{self, CommitOutcome, ImportRow};
use crate::domain::import::matching::{resolve, Resolution};
use crate::domain::import::read::{read_workbook, ReadError};
use crate::domain::import::{analyse, summarise, Analysis, Field, ImportOptions, Issue, Severity, Summary};
use crate::domain::programmes::ProgrammeLibrary;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use sqlx::AnyPool;
use std::collections::HashMap;
use std::sync::Arc;

/// What the user chose for an import, as stored with a pending import.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Choices {
    pub module: Option<String>,
    pub date: Option<String>,
    pub sheet: Option<String>,
    pub default_organisation: Option<i64>,
    /// (sheet, column index, field)
    pub mapping: Vec<(String, usize, String)>,
    /// Near matches: person key → existing person id, or 0 for a new person.
    pub answers: Vec<(String, i64)>,
}

impl Choices {
    pub fn options(&self) -> Result<ImportOptions, String> {
        let date = match self.date.as_deref().map(str::trim).filter(|d| !d.is_empty()) {
            Some(text) => Some(
                crate::domain::import::values::parse_date_text(text)
                    .ok_or_else(|| format!("“{text}” is not a date (use day/month/year, like 03/03/2025)."))?,
            ),
            None => None,
        };
        Ok(ImportOptions {
            module: self.module.clone().filter(|m| !m.trim().is_empty()),
            date,
            sheet: self.sheet.clone().filter(|s| !s.trim().is_empty()),
            mapping: self
                .mapping
                .iter()
                .filter_map(|(sheet, column, field)| Field::parse(field).map(|f| ((sheet.clone(), *column), f)))
                .collect(),
        })
    }

    pub fn answers(&self) -> HashMap<String, i64> {
        self.answers.iter().cloned().collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{0}")]
    Choice(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the import was interrupted: {0}")]
    Interrupted(String),
}

/// Everything a preview shows, and everything a commit needs.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub file_name: String,
    pub sha256: String,
    pub analysis: Analysis,
    pub resolution: Resolution,
    pub summary: Summary,
    pub already_imported: Option<ImportRow>,
}

impl Preview {
    /// Problems from reading the sheet and from matching, errors first.
    pub fn issues(&self) -> Vec<&Issue> {
        let mut all: Vec<&Issue> = self
            .analysis
            .issues
            .iter()
            .chain(self.resolution.issues.iter())
            .collect();
        all.sort_by(|a, b| {
            a.severity
                .cmp(&b.severity)
                .then(a.sheet.cmp(&b.sheet))
                .then(a.row.cmp(&b.row))
        });
        all
    }

    pub fn error_count(&self) -> usize {
        self.issues().iter().filter(|i| i.severity == Severity::Error).count()
    }

    pub fn can_commit(&self) -> bool {
        self.error_count() == 0 && !self.analysis.records.is_empty()
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads, analyses and matches. Parsing runs off the async threads.
pub async fn preview(
    pool: &AnyPool,
    programmes: Arc<ProgrammeLibrary>,
    bytes: Arc<Vec<u8>>,
    file_name: &str,
    choices: &Choices,
    max_bytes: u64,
) -> Result<Preview, ImportFailure> {
    let options = choices.options().map_err(ImportFailure::Choice)?;
    let name = file_name.to_string();
    let (analysis, sha256) = rocket::tokio::task::spawn_blocking(move || {
        let sha256 = sha256_hex(&bytes);
        read_workbook(&bytes, &name, max_bytes).map(|(_, sheets)| (analyse(&sheets, &programmes, &options), sha256))
    })
    .await
    .map_err(|e| ImportFailure::Interrupted(e.to_string()))??;
    let people = imports::known_people(pool).await?;
    let organisations = imports::known_organisations(pool).await?;
    let resolution = resolve(
        &analysis.records,
        &people,
        &organisations,
        choices.default_organisation,
        &choices.answers(),
    );
    let summary = summarise(&analysis.records);
    let already_imported = imports::committed_with_hash(pool, &sha256).await?;
    Ok(Preview {
        file_name: file_name.to_string(),
        sha256,
        analysis,
        resolution,
        summary,
        already_imported,
    })
}

/// Commits a preview without errors as one transaction.
pub async fn commit(
    pool: &AnyPool,
    programmes: &ProgrammeLibrary,
    import_id: i64,
    preview: &Preview,
    now: &str,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<CommitOutcome, ImportFailure> {
    if !preview.can_commit() {
        return Err(ImportFailure::Choice(
            "The file still has errors; nothing was imported.".into(),
        ));
    }
    Ok(imports::commit(
        pool,
        programmes,
        import_id,
        &preview.analysis.records,
        &preview.resolution,
        now,
        progress,
    )
    .await?)
}

/// Records a new pending import for this file.
pub async fn start(
    pool: &AnyPool,
    actor: &Actor,
    file_name: &str,
    sha256: &str,
    choices: &Choices,
    now: &str,
) -> Result<i64, sqlx::Error> {
    let mut conn = pool.acquire().await?;
    imports::create(
        &mut conn,
        actor,
        file_name,
        sha256,
        &serde_json::to_string(choices).unwrap_or_default(),
        now,
    )
    .await
}

/// The preview as one JSON object: counts, then errors and warnings with where they are.
pub fn preview_json(preview: &Preview, result: Option<&CommitOutcome>) -> serde_json::Value {
    let located = |severity: Severity| -> Vec<serde_json::Value> {
        preview
            .issues()
            .into_iter()
            .filter(|i| i.severity == severity)
            .map(|i| serde_json::json!({"sheet": i.sheet, "row": i.row, "column": i.column, "message": i.message}))
            .collect()
    };
    serde_json::json!({
        "file": preview.file_name,
        "sha256": preview.sha256,
        "committed": result.is_some(),
        "already_imported": preview.already_imported.as_ref().map(|i| i.id),
        "counts": {
            "attendance_records": preview.summary.records,
            "people": preview.summary.people,
            "sessions": preview.summary.sessions,
            "by_status": preview.summary.by_status,
            "new_people": preview.resolution.new_people(),
            "new_organisations": preview.resolution.new_organisations.len(),
            "near_matches": preview.resolution.near_matches.len(),
        },
        "result": result,
        "errors": located(Severity::Error),
        "warnings": located(Severity::Warning),
    })
}

/// Where an uploaded sheet waits between its preview and its commit. Under
/// the data folder, never a served one: sign-in sheets hold personal data.
fn pending_path(data_dir: &std::path::Path, import_id: i64) -> std::path::PathBuf {
    data_dir.join("imports").join(format!("{import_id}.upload"))
}

/// Written to a temporary name and renamed, so a half-written file is never read.
pub fn save_pending(data_dir: &std::path::Path, import_id: i64, bytes: &[u8]) -> std::io::Result<()> {
    let path = pending_path(data_dir, import_id);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let temporary = path.with_extension("partial");
    std::fs::write(&temporary, bytes)?;
    std::fs::rename(&temporary, &path)
}

pub fn load_pending(data_dir: &std::path::Path, import_id: i64) -> std::io::Result<Vec<u8>> {
    std::fs::read(pending_path(data_dir, import_id))
}

pub fn remove_pending(data_dir: &std::path::Path, import_id: i64) {
    let _ = std::fs::remove_file(pending_path(data_dir, import_id));
}
