//! Attendance imports as workflows: reading, analysing and matching a sheet
//! for a preview; then committing, undoing or discarding it. Each of these
//! owns its transaction, its audit entry and its side effects (certificates
//! for the completions a commit brings), so the web pages, the command line
//! and the benchmark leave identical records.
//!
//! Commit, undo and discard are compare-and-set moves on the import's state
//! (`pending → running → committed → undone`, `pending → discarded`): of two
//! requests at once, one moves it and the other is told it moved already.

use crate::app::certificates::{self, Holders};
use crate::db::audit::{self, Actor, Entry};
use crate::db::imports::{self, CommitOutcome, ImportRow};
use crate::db::Pool;
use crate::domain::import::matching::{resolve, Context, NearMatchPolicy, OrgChoice, Resolution};
use crate::domain::import::read::{read_workbook, ReadError};
use crate::domain::import::values::normalise;
use crate::domain::import::{
    analyse, summarise, Analysis, AttendanceRecord, Field, ImportOptions, Issue, Severity, Summary,
};
use crate::domain::organisation::OrgType;
use crate::domain::programmes::ProgrammeLibrary;
use crate::error::AppError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::Arc;

/// What the user chose for an import, as stored with a pending import.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Choices {
    pub module: Option<String>,
    pub date: Option<String>,
    pub sheet: Option<String>,
    pub default_organisation: Option<i64>,
    /// An organisation to add (if it is not on record) for people the sheet does not place.
    pub new_organisation: Option<String>,
    /// Its type (an `OrgType` value); worked out from its name when not given.
    pub new_organisation_type: Option<String>,
    /// (sheet, column index, field)
    pub mapping: Vec<(String, usize, String)>,
    /// (heading, field) for every sheet: the command line's `--map "Outcome=status"`.
    pub heading_mapping: Vec<(String, String)>,
    /// The 1-based row of the headings, when the user says where it is.
    pub header_row: Option<usize>,
    /// Near matches: person key → existing person id, or 0 for a new person.
    pub answers: Vec<(String, i64)>,
    /// Near matches within the sheet answered "the same person" (person keys).
    pub same_as_on_sheet: Vec<String>,
    pub near_matches: NearMatchPolicy,
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
        let mut heading_mapping = HashMap::new();
        for (heading, field) in &self.heading_mapping {
            let field = Field::from_user(field).ok_or_else(|| {
                format!(
                    "“{field}” is not a field; use one of {}.",
                    Field::CHOICES.map(Field::as_str).join(", ")
                )
            })?;
            heading_mapping.insert(normalise(heading), field);
        }
        Ok(ImportOptions {
            module: self.module.clone().filter(|m| !m.trim().is_empty()),
            date,
            sheet: self.sheet.clone().filter(|s| !s.trim().is_empty()),
            mapping: self
                .mapping
                .iter()
                .filter_map(|(sheet, column, field)| Field::parse(field).map(|f| ((sheet.clone(), *column), f)))
                .collect(),
            heading_mapping,
            header_row: self.header_row,
        })
    }

    pub fn answers(&self) -> HashMap<String, i64> {
        self.answers.iter().cloned().collect()
    }

    fn new_organisation(&self) -> Option<&str> {
        self.new_organisation
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ImportFailure {
    #[error("{0}")]
    Read(#[from] ReadError),
    #[error("{0}")]
    Choice(String),
    /// The preview has errors, or the file was imported before.
    #[error("{0}")]
    NotReady(String),
    /// Another request moved the import first.
    #[error("{0}")]
    Conflict(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("the import was interrupted: {0}")]
    Interrupted(String),
}

impl From<ImportFailure> for AppError {
    fn from(failure: ImportFailure) -> Self {
        match failure {
            ImportFailure::Conflict(message) => AppError::Conflict(message),
            ImportFailure::Database(e) => AppError::Database(e),
            ImportFailure::Interrupted(e) => AppError::Internal(e),
            other => AppError::BadRequest(other.to_string()),
        }
    }
}

/// Everything a preview shows, and everything a commit needs.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub file_name: String,
    pub sha256: String,
    /// Shared with the cache of pending imports' readings: a large sheet's
    /// records are not copied for each view of its preview.
    #[serde(serialize_with = "serialize_shared")]
    pub analysis: Arc<Analysis>,
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
        all.sort_by(|a, b| Issue::listing_order(a, b));
        all
    }

    pub fn error_count(&self) -> usize {
        self.issues().iter().filter(|i| i.severity == Severity::Error).count()
    }

    pub fn can_commit(&self) -> bool {
        self.error_count() == 0 && !self.analysis.records.is_empty()
    }

    /// Why it cannot be committed, if it cannot.
    pub fn refusal(&self) -> Option<String> {
        if let Some(earlier) = &self.already_imported {
            return Some(format!(
                "This file was already imported (import {}); importing it again would change nothing.",
                earlier.id
            ));
        }
        if self.error_count() > 0 {
            return Some(
                "The file still has errors; nothing was imported. Fix the errors listed and try again.".into(),
            );
        }
        if self.analysis.records.is_empty() {
            return Some("The file has no attendance to import.".into());
        }
        None
    }
}

fn serialize_shared<S: serde::Serializer>(analysis: &Arc<Analysis>, serializer: S) -> Result<S::Ok, S::Error> {
    analysis.as_ref().serialize(serializer)
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// Pending imports' sheets as analysed, keyed by import and by the choices
/// that shape the reading, so a preview viewed again (or committed) is not
/// parsed again. Holds a few at most: it is a saving, not a store.
#[derive(Default)]
pub struct AnalysisCache(std::sync::Mutex<Vec<CachedAnalysis>>);

/// (import id, the reading choices, the analysis, the file's SHA-256)
type CachedAnalysis = (i64, String, Arc<Analysis>, String);

const CACHED_ANALYSES: usize = 8;

impl AnalysisCache {
    fn get(&self, import_id: i64, reading: &str) -> Option<(Arc<Analysis>, String)> {
        let cache = self.0.lock().ok()?;
        cache
            .iter()
            .find(|(id, key, _, _)| *id == import_id && key == reading)
            .map(|(_, _, analysis, sha256)| (analysis.clone(), sha256.clone()))
    }

    fn put(&self, import_id: i64, reading: String, analysis: Arc<Analysis>, sha256: String) {
        if let Ok(mut cache) = self.0.lock() {
            cache.retain(|(id, _, _, _)| *id != import_id);
            if cache.len() >= CACHED_ANALYSES {
                cache.remove(0);
            }
            cache.push((import_id, reading, analysis, sha256));
        }
    }

    /// Forgets an import that is no longer pending.
    pub fn forget(&self, import_id: i64) {
        if let Ok(mut cache) = self.0.lock() {
            cache.retain(|(id, _, _, _)| *id != import_id);
        }
    }
}

/// The choices that decide how a sheet is read (not who its people are).
fn reading_key(choices: &Choices) -> String {
    serde_json::json!([
        choices.module,
        choices.date,
        choices.sheet,
        choices.mapping,
        choices.heading_mapping,
        choices.header_row
    ])
    .to_string()
}

/// Records already read and matched by the caller: the large demo draws its
/// sheets rather than parsing them, and commits them through the same
/// [`commit`] as an uploaded file.
pub fn prepared(file_name: &str, sha256: &str, records: Vec<AttendanceRecord>, resolution: Resolution) -> Preview {
    let summary = summarise(&records);
    Preview {
        file_name: file_name.to_string(),
        sha256: sha256.to_string(),
        analysis: Arc::new(Analysis {
            layouts: Vec::new(),
            records,
            issues: Vec::new(),
        }),
        resolution,
        summary,
        already_imported: None,
    }
}

/// Reads, analyses and matches. Parsing runs off the async threads.
pub async fn preview(
    pool: &Pool,
    programmes: Arc<ProgrammeLibrary>,
    bytes: Arc<Vec<u8>>,
    file_name: &str,
    choices: &Choices,
    max_bytes: u64,
) -> Result<Preview, ImportFailure> {
    let (analysis, sha256) = read_and_analyse(programmes, bytes, file_name, choices, max_bytes).await?;
    finish_preview(pool, file_name, choices, Arc::new(analysis), sha256).await
}

/// A pending import's uploaded sheet.
pub struct PendingSheet<'a> {
    pub import_id: i64,
    pub file_name: &'a str,
    pub files: &'a crate::storage::EvidenceStore,
}

/// [`preview`] of a pending import, reusing its analysis while the choices
/// that shape the reading stay the same.
pub async fn preview_pending(
    pool: &Pool,
    cache: &AnalysisCache,
    programmes: Arc<ProgrammeLibrary>,
    sheet: &PendingSheet<'_>,
    choices: &Choices,
    max_bytes: u64,
) -> Result<Preview, ImportFailure> {
    let reading = reading_key(choices);
    let (analysis, sha256) = match cache.get(sheet.import_id, &reading) {
        Some(found) => found,
        None => {
            let bytes = sheet.files.load_sheet(sheet.import_id).await.map_err(|_| {
                ImportFailure::NotReady("The uploaded file is no longer available. Upload it again.".into())
            })?;
            let (analysis, sha256) =
                read_and_analyse(programmes, Arc::new(bytes), sheet.file_name, choices, max_bytes).await?;
            let analysis = Arc::new(analysis);
            cache.put(sheet.import_id, reading, analysis.clone(), sha256.clone());
            (analysis, sha256)
        }
    };
    finish_preview(pool, sheet.file_name, choices, analysis, sha256).await
}

/// Keeps a new pending import's analysis, so its first preview page does not read the file again.
pub fn remember_analysis(cache: &AnalysisCache, import_id: i64, choices: &Choices, preview: &Preview) {
    cache.put(
        import_id,
        reading_key(choices),
        preview.analysis.clone(),
        preview.sha256.clone(),
    );
}

async fn read_and_analyse(
    programmes: Arc<ProgrammeLibrary>,
    bytes: Arc<Vec<u8>>,
    file_name: &str,
    choices: &Choices,
    max_bytes: u64,
) -> Result<(Analysis, String), ImportFailure> {
    let options = choices.options().map_err(ImportFailure::Choice)?;
    let name = file_name.to_string();
    Ok(rocket::tokio::task::spawn_blocking(move || {
        let sha256 = sha256_hex(&bytes);
        read_workbook(&bytes, &name, max_bytes).map(|(_, sheets)| (analyse(&sheets, &programmes, &options), sha256))
    })
    .await
    .map_err(|e| ImportFailure::Interrupted(e.to_string()))??)
}

async fn finish_preview(
    pool: &Pool,
    file_name: &str,
    choices: &Choices,
    analysis: Arc<Analysis>,
    sha256: String,
) -> Result<Preview, ImportFailure> {
    // The summary is worked out on another thread while the database is asked.
    let counting = analysis.clone();
    let summary = async {
        rocket::tokio::task::spawn_blocking(move || summarise(&counting.records))
            .await
            .map_err(|e| ImportFailure::Interrupted(e.to_string()))
    };
    let already_imported = async { Ok(imports::committed_with_hash(pool, &sha256).await?) };
    let (resolution, summary, already_imported) =
        rocket::tokio::try_join!(match_people(pool, &analysis, choices), summary, already_imported)?;
    Ok(Preview {
        file_name: file_name.to_string(),
        sha256,
        analysis,
        resolution,
        summary,
        already_imported,
    })
}

/// Who each person on the sheet is, against everyone on record.
async fn match_people(pool: &Pool, analysis: &Analysis, choices: &Choices) -> Result<Resolution, ImportFailure> {
    let mut keys: Vec<&str> = analysis.records.iter().map(|r| r.person_key.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    // Only the people this sheet could be: by email, by decision, by organisation.
    let mut emails: Vec<&str> = analysis
        .records
        .iter()
        .map(|r| r.person.email.as_str())
        .filter(|e| !e.is_empty())
        .collect();
    emails.sort_unstable();
    emails.dedup();
    // Three reads that do not depend on each other, each on a connection of its own.
    let (organisations, remembered, mut people) = rocket::tokio::try_join!(
        imports::known_organisations(pool),
        imports::remembered_decisions(pool, &keys),
        imports::people_for(pool, &emails, &[], &[]),
    )?;
    let decided: Vec<i64> = remembered.values().flatten().map(|r| r.person_id).collect();
    // Colleagues (for the name rules) only where the email did not settle who
    // someone is: a sheet of people on record then reads few more rows.
    let on_record: std::collections::HashSet<&str> = people.iter().map(|p| p.email.as_str()).collect();
    let org_by_key: HashMap<&str, i64> = organisations
        .iter()
        .flat_map(|o| o.keys.iter().map(move |k| (k.as_str(), o.id)))
        .collect();
    let named: std::collections::HashSet<&str> = analysis
        .records
        .iter()
        .filter(|r| r.person.email.is_empty() || !on_record.contains(r.person.email.as_str()))
        .map(|r| r.person.organisation.as_str())
        .collect();
    let mut organisation_ids: Vec<i64> = named
        .into_iter()
        .filter_map(|name| org_by_key.get(normalise(name).as_str()).copied())
        .chain(choices.default_organisation)
        .chain(
            choices
                .new_organisation()
                .and_then(|name| org_by_key.get(normalise(name).as_str()).copied()),
        )
        .collect();
    organisation_ids.sort_unstable();
    organisation_ids.dedup();
    people.extend(imports::people_for(pool, &[], &organisation_ids, &decided).await?);
    people.sort_by_key(|p| p.id);
    people.dedup_by_key(|p| p.id);
    let default_organisation = match (choices.default_organisation, choices.new_organisation()) {
        (Some(id), _) => Some(OrgChoice::Existing(id)),
        (None, Some(name)) => {
            let key = normalise(name);
            Some(
                organisations
                    .iter()
                    .find(|o| o.keys.contains(&key))
                    .map(|o| OrgChoice::Existing(o.id))
                    .unwrap_or_else(|| OrgChoice::New(name.to_string())),
            )
        }
        (None, None) => None,
    };
    let mut resolution = resolve(
        &analysis.records,
        &Context {
            people: &people,
            organisations: &organisations,
            default_organisation,
            answers: choices.answers(),
            same_as_on_sheet: choices.same_as_on_sheet.iter().cloned().collect(),
            remembered,
            policy: choices.near_matches,
        },
    );
    // The type chosen for the organisation being created, rather than the guess.
    if let (Some(name), Some(chosen)) = (
        choices.new_organisation(),
        choices.new_organisation_type.as_deref().and_then(OrgType::parse),
    ) {
        for new in resolution
            .new_organisations
            .iter_mut()
            .filter(|o| normalise(&o.name) == normalise(name))
        {
            new.org_type = chosen;
            new.type_label = chosen.label();
            new.reason = "you chose it".into();
        }
    }
    Ok(resolution)
}

/// Records a new pending import for this file.
pub async fn start(
    pool: &Pool,
    actor: &Actor,
    file_name: &str,
    sha256: &str,
    choices: &Choices,
    now: DateTime<Utc>,
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

/// Stores new choices for a pending import.
pub async fn update_choices(pool: &Pool, import_id: i64, choices: &Choices) -> Result<(), ImportFailure> {
    if imports::set_options(pool, import_id, &serde_json::to_string(choices).unwrap_or_default()).await? {
        Ok(())
    } else {
        Err(conflict(pool, import_id).await)
    }
}

/// What to tell the loser of a race, from where the import now stands.
async fn conflict(pool: &Pool, import_id: i64) -> ImportFailure {
    let state = imports::find(pool, import_id)
        .await
        .ok()
        .flatten()
        .map(|row| row.state)
        .unwrap_or_default();
    ImportFailure::Conflict(
        match state.as_str() {
            "running" => "This import is already being committed; it was not started again.",
            "committed" => "This import was already committed; it was not committed again.",
            "undone" => "This import was already undone.",
            "discarded" => "This upload was already discarded.",
            "failed" => "This import already failed; nothing was changed. Upload the file again to retry.",
            _ => "This import has moved on since the page was shown.",
        }
        .to_string(),
    )
}

/// Claims a pending import for committing (pending → running). Exactly one
/// of several simultaneous claims succeeds; the others get a conflict.
pub async fn claim(pool: &Pool, import_id: i64, preview: &Preview) -> Result<(), ImportFailure> {
    // The "file already imported" found may be this very import, committed by
    // a request that got here first.
    if preview
        .already_imported
        .as_ref()
        .is_some_and(|earlier| earlier.id == import_id)
    {
        return Err(conflict(pool, import_id).await);
    }
    if let Some(refusal) = preview.refusal() {
        return Err(ImportFailure::NotReady(refusal));
    }
    let mut conn = pool.acquire().await?;
    if imports::change_state(&mut conn, import_id, "pending", "running", "").await? {
        Ok(())
    } else {
        Err(conflict(pool, import_id).await)
    }
}

/// Where a commit runs and who asked for it.
pub struct CommitRequest<'a> {
    pub pool: &'a Pool,
    pub programmes: &'a ProgrammeLibrary,
    pub import_id: i64,
    pub actor: &'a Actor,
    pub now: DateTime<Utc>,
}

impl<'a> CommitRequest<'a> {
    /// A commit of `import_id` by `actor`, stamped `now`: what the web's
    /// background run, the command line and the demo all start from.
    pub fn new(
        pool: &'a Pool,
        programmes: &'a ProgrammeLibrary,
        import_id: i64,
        actor: &'a Actor,
        now: DateTime<Utc>,
    ) -> Self {
        CommitRequest {
            pool,
            programmes,
            import_id,
            actor,
            now,
        }
    }
}

/// The message a failed import keeps.
pub const FAILED: &str = "The import failed and nothing was changed. Try again, or ask for help if it keeps failing.";

/// Commits a claimed import: everything it adds, the decisions to remember
/// and its audit entry in one transaction, ending with running → committed;
/// then certificates for the completions it brought. On failure nothing is
/// kept and the import is marked failed.
pub async fn run_commit(
    request: &CommitRequest<'_>,
    preview: &Preview,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<CommitOutcome, ImportFailure> {
    run_commit_timed(request, preview, progress)
        .await
        .map(|(outcome, _)| outcome)
}

/// How long each step of a commit took, in order: what the benchmark prints.
pub type Phases = Vec<(&'static str, std::time::Duration)>;

/// [`run_commit`], also saying how long each step took.
pub async fn run_commit_timed(
    request: &CommitRequest<'_>,
    preview: &Preview,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<(CommitOutcome, Phases), ImportFailure> {
    let (pool, id) = (request.pool, request.import_id);
    match write_all(request, preview, progress).await {
        Ok(done) => Ok(done),
        Err(failure) => {
            tracing::error!("import {id} failed: {failure}");
            if let Ok(mut conn) = pool.acquire().await {
                let _ = imports::change_state(&mut conn, id, "running", "failed", FAILED).await;
            }
            Err(failure)
        }
    }
}

async fn write_all(
    request: &CommitRequest<'_>,
    preview: &Preview,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<(CommitOutcome, Phases), ImportFailure> {
    let id = request.import_id;
    let mut phases = Phases::new();
    let mut clock = std::time::Instant::now();
    let mut lap = |name: &'static str| {
        phases.push((name, clock.elapsed()));
        clock = std::time::Instant::now();
    };
    let mut tx = crate::db::begin_write(request.pool).await?;
    // The completions of the people this import creates come from the rows
    // in memory alone: worked out on another thread while the database
    // writes the rows.
    let library = Arc::new(request.programmes.clone());
    let mut deriving = None;
    let mut on_fresh = |fresh: Vec<crate::db::completions::FactRow>| {
        let library = library.clone();
        deriving = Some(rocket::tokio::task::spawn_blocking(move || {
            crate::db::completions::derive(&library, &fresh)
        }));
    };
    let imports::Written {
        outcome,
        mut touched,
        followed,
        created,
    } = imports::write(
        &mut tx,
        id,
        &preview.analysis.records,
        &preview.resolution,
        request.now,
        progress,
        &mut on_fresh,
    )
    .await?;
    if let Some(deriving) = deriving {
        touched.fresh_derived = deriving.await.map_err(|e| ImportFailure::Interrupted(e.to_string()))?;
    }
    lap("write rows");
    let changed = crate::db::completions::refresh(&mut tx, request.programmes, touched).await?;
    lap("refresh completions");
    // New completions earn their certificates in the same transaction, and
    // undoing the import revokes them. Only people whose completions changed
    // can have earned one; those the import created hold none yet, so what
    // they earned is exactly their new completed completions.
    let created: HashMap<i64, (i64, String)> = created
        .into_iter()
        .map(|(person, organisation, name)| (person, (organisation, name)))
        .collect();
    let earners: Vec<i64> = people_completing(&changed)
        .into_iter()
        .filter(|person| !created.contains_key(person))
        .collect();
    let known: Vec<crate::db::certificates::Uncertified> = changed
        .iter()
        .filter(|c| c.completed_on.is_some())
        .filter_map(|c| {
            let (organisation_id, name) = created.get(&c.person_id)?;
            Some(crate::db::certificates::Uncertified {
                person_id: c.person_id,
                organisation_id: *organisation_id,
                holder_name: name.clone(),
                programme_id: c.programme_id.clone(),
                completion_id: c.completion_id.clone(),
                completed_on: c.completed_on,
                lapses_on: c.lapses_on,
            })
        })
        .collect();
    let issued = certificates::issue_training(
        &mut tx,
        request.pool.backend(),
        request.programmes,
        request.now,
        request.actor,
        Holders::These(&earners),
        known,
    )
    .await?;
    imports::record_certificates(&mut tx, id, &issued).await?;
    lap("certificates");
    // "The same person as the other on this sheet" is remembered as that
    // person, now that they have an id, so the next sheet need not ask.
    let decisions: Vec<(String, i64, bool)> = preview
        .resolution
        .decisions
        .iter()
        .cloned()
        .chain(followed.into_iter().map(|(key, person)| (key, person, true)))
        .collect();
    imports::remember_decisions(&mut tx, id, &decisions, request.now).await?;
    let entry = entry("import.commit", id).after(serde_json::json!(outcome));
    audit::record(&mut tx, request.actor.at(request.now), entry).await?;
    if !imports::finish_commit(&mut tx, id, &outcome, request.now).await? {
        // Not running any more: keep nothing (the transaction rolls back when dropped).
        return Err(ImportFailure::Conflict(
            "This import was already committed; it was not committed again.".into(),
        ));
    }
    tx.commit().await?;
    lap("decisions, audit, commit");
    if outcome.attendance_created >= STATISTICS_AFTER_ROWS {
        crate::db::statistics::refresh_after_bulk_write(request.pool).await;
        lap("planner statistics");
    }
    Ok((outcome, phases))
}

/// An import that adds at least this many attendance records refreshes
/// the planner's statistics after it commits (and its undo, after removing
/// them): the first imports into a new database make its tables many times
/// larger than the statistics say.
const STATISTICS_AFTER_ROWS: usize = 10_000;

/// The people with a new or changed completed completion, in order.
fn people_completing(changed: &[crate::db::completions::KeptCompletion]) -> Vec<i64> {
    let people: std::collections::BTreeSet<i64> = changed
        .iter()
        .filter(|c| c.completed_on.is_some())
        .map(|c| c.person_id)
        .collect();
    people.into_iter().collect()
}

/// The audit entry of a step in an import's life.
fn entry(action: &'static str, import_id: i64) -> Entry<'static> {
    Entry::of(action, "import", Some(import_id))
}

/// Claims and commits in one go: the command line and the benchmark.
pub async fn commit(
    request: &CommitRequest<'_>,
    preview: &Preview,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<CommitOutcome, ImportFailure> {
    claim(request.pool, request.import_id, preview).await?;
    run_commit(request, preview, progress).await
}

/// [`commit`], also saying how long each step took.
pub async fn commit_timed(
    request: &CommitRequest<'_>,
    preview: &Preview,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<(CommitOutcome, Phases), ImportFailure> {
    claim(request.pool, request.import_id, preview).await?;
    run_commit_timed(request, preview, progress).await
}

/// Undoes a committed import in one transaction with its audit entry.
pub async fn undo(
    pool: &Pool,
    programmes: &ProgrammeLibrary,
    actor: &Actor,
    import_id: i64,
    now: DateTime<Utc>,
) -> Result<(), ImportFailure> {
    let mut tx = crate::db::begin_write(pool).await?;
    // Read before the undo removes the attendance that names them.
    let touched = imports::pairs_touched_by(&mut tx, import_id).await?;
    let Some(removed) = imports::undo(&mut tx, import_id, now).await? else {
        drop(tx);
        let state = imports::find(pool, import_id)
            .await?
            .map(|r| r.state)
            .unwrap_or_default();
        return Err(ImportFailure::Conflict(if state == "undone" {
            "This import was already undone.".into()
        } else {
            "Only a committed import can be undone.".into()
        }));
    };
    crate::db::completions::refresh(&mut tx, programmes, touched).await?;
    audit::record(&mut tx, actor.at(now), entry("import.undo", import_id)).await?;
    tx.commit().await?;
    // Undoing a large import shrinks the tables as much as it grew them.
    if removed >= STATISTICS_AFTER_ROWS as u64 {
        crate::db::statistics::refresh_after_bulk_write(pool).await;
    }
    Ok(())
}

/// Discards a pending upload: its record says so and its file (personal data) is deleted.
pub async fn discard(
    pool: &Pool,
    files: &crate::storage::EvidenceStore,
    actor: &Actor,
    import_id: i64,
    now: DateTime<Utc>,
) -> Result<(), ImportFailure> {
    let mut tx = crate::db::begin_write(pool).await?;
    if !imports::change_state(&mut tx, import_id, "pending", "discarded", "").await? {
        drop(tx);
        return Err(conflict(pool, import_id).await);
    }
    audit::record(&mut tx, actor.at(now), entry("import.discard", import_id)).await?;
    tx.commit().await?;
    files.remove_sheet(import_id).await;
    Ok(())
}

/// How each sheet was read, for the command line's text and JSON: heading
/// row, each column's field with its reason, the modules and dates found.
pub fn sheets_json(preview: &Preview) -> serde_json::Value {
    serde_json::json!(preview
        .analysis
        .layouts
        .iter()
        .map(|layout| serde_json::json!({
            "sheet": layout.sheet,
            "header_row": layout.header_row,
            "header_reason": layout.header_reason,
            "grid": layout.grid,
            "columns": layout.columns.iter().filter(|c| c.field.is_some() || c.day.is_some()).map(|c| serde_json::json!({
                "column": c.letter,
                "heading": c.heading,
                "field": c.field.map(Field::as_str),
                "module": c.day.as_ref().map(|(m, _)| &m.module_id),
                "date": c.day.as_ref().and_then(|(_, d)| *d),
                "reason": c.reason,
            })).collect::<Vec<_>>(),
            "modules": layout.modules,
            "dates": layout.dates,
            "notes": layout.notes,
        }))
        .collect::<Vec<_>>())
}

/// The preview as one JSON object: counts, how each sheet was read, then
/// errors and warnings with where they are.
pub fn preview_json(preview: &Preview, result: Option<&CommitOutcome>) -> serde_json::Value {
    let located = |severity: Severity| -> Vec<serde_json::Value> {
        preview
            .issues()
            .into_iter()
            .filter(|i| i.severity == severity)
            .map(|i| {
                serde_json::json!({"sheet": i.sheet, "row": i.row, "rows": i.rows, "count": i.count,
                    "column": i.column, "message": i.message})
            })
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
        "sheets": sheets_json(preview),
        "new_organisations": preview.resolution.new_organisations,
        "near_matches": preview.resolution.near_matches,
        "result": result,
        "errors": located(Severity::Error),
        "warnings": located(Severity::Warning),
    })
}
