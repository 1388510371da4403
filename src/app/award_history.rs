//! Importing a partnership's awards from before qmtrack, as workflows:
//! preview (read, match, check), commit all or nothing, undo, discard. Each
//! owns its transaction and its audit entry; the web page and the command
//! line both call these, so they leave identical records.
//!
//! An upload waits as a pending import; committing reads it again against
//! the records as they are at that moment, so a preview that has gone stale
//! (an organisation added, an award made) cannot commit a clash.

use super::{certificates, Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::award_history::{self as rows, AwardImportOptions, AwardImportRow, NewAwardImport, UndoRefused};
use crate::db::{self, imports as import_rows};
use crate::domain::import::awards::{read_awards, AwardSheet, Context};
use crate::domain::import::matching::OrgChoice;
use crate::domain::import::read::{read_workbook, ReadError};
use crate::domain::import::{Issue, Severity};
use crate::error::{AppError, AppResult};
use serde::Serialize;
use serde_json::json;
use std::collections::HashMap;
use std::sync::Arc;

/// What a preview shows, and what a commit records.
#[derive(Debug, Clone, Serialize)]
pub struct AwardPreview {
    pub file_name: String,
    pub sha256: String,
    pub options: AwardImportOptions,
    pub sheet: AwardSheet,
}

impl AwardPreview {
    pub fn errors(&self) -> Vec<&Issue> {
        self.sheet
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect()
    }

    /// Why it cannot be committed, if it cannot.
    pub fn refusal(&self) -> Option<String> {
        if self.sheet.error_count() > 0 {
            return Some(
                "The file still has errors; nothing was imported. Fix the errors listed and try again.".into(),
            );
        }
        if self.sheet.awards.is_empty() {
            return Some("The file has no awards to import.".into());
        }
        None
    }

    /// The preview as one JSON object, for the command line.
    pub fn to_json(&self, result: Option<&CommitOutcome>) -> serde_json::Value {
        json!({
            "file": self.file_name,
            "sha256": self.sha256,
            "committed": result.is_some(),
            "counts": {
                "awards": self.sheet.awards.len(),
                "revoked": self.sheet.awards.iter().filter(|a| a.revoked_on.is_some()).count(),
                "new_organisations": self.sheet.new_organisations.len(),
            },
            "headings": self.sheet.headings.iter().map(|(sheet, row)| json!({"sheet": sheet, "row": row})).collect::<Vec<_>>(),
            "awards": self.sheet.awards,
            "new_organisations": self.sheet.new_organisations,
            "errors": self.errors().iter().map(|i| json!({"sheet": i.sheet, "row": i.row, "column": i.column, "message": i.message})).collect::<Vec<_>>(),
            "result": result,
        })
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CommitOutcome {
    pub import_id: i64,
    pub awards: usize,
    pub revoked: usize,
    pub organisations_created: usize,
    pub certificates: usize,
}

/// Reads and checks a file against the records as they are now. Parsing
/// runs off the async threads.
pub async fn preview(
    ctx: Ctx<'_>,
    acting: &Acting,
    bytes: Arc<Vec<u8>>,
    file_name: &str,
    options: AwardImportOptions,
) -> AppResult<Result<AwardPreview, ReadError>> {
    acting.require(|a| a.is_programme_lead())?;
    let name = file_name.to_string();
    let max_bytes = ctx.app.config.import_max_bytes;
    let read = rocket::tokio::task::spawn_blocking(move || {
        let sha256 = super::imports::sha256_hex(&bytes);
        read_workbook(&bytes, &name, max_bytes).map(|(_, sheets)| (sheets, sha256))
    })
    .await
    .map_err(AppError::internal)?;
    let (sheets, sha256) = match read {
        Ok(read) => read,
        Err(refused) => return Ok(Err(refused)),
    };
    let organisations = import_rows::known_organisations(ctx.db).await?;
    let recorded = rows::recorded_awards(ctx.db).await?;
    let sheet = read_awards(
        &sheets,
        &Context {
            organisations: &organisations,
            recorded: &recorded,
            standards: &ctx.app.standards,
            create_organisations: options.create_organisations,
        },
    );
    Ok(Ok(AwardPreview {
        file_name: file_name.to_string(),
        sha256,
        options,
        sheet,
    }))
}

/// Keeps an upload as a pending import and returns its id with its preview.
pub async fn start(
    ctx: Ctx<'_>,
    acting: &Acting,
    bytes: Arc<Vec<u8>>,
    file_name: &str,
    options: AwardImportOptions,
) -> AppResult<Result<(i64, AwardPreview), ReadError>> {
    let preview = match preview(ctx, acting, bytes.clone(), file_name, options).await? {
        Ok(preview) => preview,
        Err(refused) => return Ok(Err(refused)),
    };
    let mut conn = ctx.db.acquire().await?;
    let id = rows::create(
        &mut conn,
        &acting.audit,
        &NewAwardImport {
            file_name,
            sha256: &preview.sha256,
            options,
            upload: &bytes,
        },
        ctx.now,
    )
    .await?;
    Ok(Ok((id, preview)))
}

/// An import and, while it is pending, its preview against today's records.
pub async fn show(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<(AwardImportRow, Option<AwardPreview>)> {
    acting.require(|a| a.is_programme_lead())?;
    let row = rows::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let preview = pending_preview(ctx, acting, &row).await?;
    Ok((row, preview))
}

async fn pending_preview(ctx: Ctx<'_>, acting: &Acting, row: &AwardImportRow) -> AppResult<Option<AwardPreview>> {
    let Some(bytes) = rows::upload(ctx.db, row.id).await? else {
        return Ok(None);
    };
    let options = AwardImportOptions {
        create_organisations: row.create_organisations,
        with_certificates: row.with_certificates,
    };
    // The file was readable when it was uploaded, so this is a fault, not the user's.
    preview(ctx, acting, Arc::new(bytes), &row.file_name, options)
        .await?
        .map(Some)
        .map_err(AppError::internal)
}

/// Records every award of a pending import, all or none, with the
/// organisations it adds, its certificates if asked for and its audit
/// entry; `Err(refusal)` when the file (read again now) has errors.
pub async fn commit(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<Result<CommitOutcome, String>> {
    acting.require(|a| a.is_programme_lead())?;
    let row = rows::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    if row.state != "pending" {
        return Err(moved_on(&row.state));
    }
    let Some(preview) = pending_preview(ctx, acting, &row).await? else {
        return Err(moved_on("committed"));
    };
    if let Some(refusal) = preview.refusal() {
        return Ok(Err(refusal));
    }
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let mut created: HashMap<&str, i64> = HashMap::new();
    for new in &preview.sheet.new_organisations {
        let org_id = rows::insert_organisation(&mut tx, id, &new.name, new.org_type, now).await?;
        created.insert(new.name.as_str(), org_id);
    }
    let mut outcome = CommitOutcome {
        import_id: id,
        organisations_created: created.len(),
        ..CommitOutcome::default()
    };
    for award in &preview.sheet.awards {
        let organisation_id = match &award.organisation {
            OrgChoice::Existing(org_id) => *org_id,
            OrgChoice::New(name) => *created
                .get(name.as_str())
                .ok_or_else(|| AppError::internal(format!("organisation {name} was not added")))?,
        };
        let assessment_id = rows::insert_award(
            &mut tx,
            id,
            &rows::HistoricAssessment {
                organisation_id,
                framework_id: &award.framework_id,
                framework_version: &award.framework_version,
                awarded_on: award.awarded_on,
                expires_on: award.expires_on,
                revoked_on: award.revoked_on,
            },
            now,
        )
        .await?;
        outcome.awards += 1;
        outcome.revoked += usize::from(award.revoked_on.is_some());
        // A certificate for an award revoked long ago would only ever verify as revoked.
        if preview.options.with_certificates && award.revoked_on.is_none() {
            certificates::issue_for_award(
                &mut tx,
                now,
                &acting.audit,
                &certificates::AwardCertificate {
                    assessment_id,
                    organisation_id,
                    holder_name: &award.organisation_name,
                    title: &award.framework_name,
                    issued_on: award.awarded_on,
                    expires_on: award.expires_on,
                },
            )
            .await?;
            outcome.certificates += 1;
        }
    }
    rows::record_import_events(&mut tx, id, &acting.audit, now).await?;
    let entry = Entry::of("award_history.commit", "award_import", Some(id))
        .after(json!({"file": row.file_name, "sha256": row.file_sha256, "outcome": outcome}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    let summary = serde_json::to_string(&outcome).map_err(AppError::internal)?;
    if !rows::claim_commit(&mut tx, id, &summary, now).await? {
        // Someone else committed it first: keep nothing (dropping rolls back).
        return Err(moved_on("committed"));
    }
    tx.commit().await?;
    Ok(Ok(outcome))
}

fn moved_on(state: &str) -> AppError {
    AppError::Conflict(
        match state {
            "committed" => "This import was already committed; it was not committed again.",
            "undone" => "This import was already undone.",
            "discarded" => "This upload was already discarded.",
            _ => "This import has moved on since the page was shown.",
        }
        .into(),
    )
}

/// Removes everything a committed import recorded, in one transaction with its audit entry.
pub async fn undo(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<()> {
    acting.require(|a| a.is_programme_lead())?;
    let row = rows::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    match rows::undo(&mut tx, id, now).await? {
        Ok(()) => {}
        Err(UndoRefused::Renewed) => {
            return Err(AppError::Conflict(
                "A renewal has been started from one of these awards since they were imported, so the import cannot be undone.".into(),
            ))
        }
        Err(UndoRefused::NotCommitted) => {
            return Err(if row.state == "undone" || row.state == "committed" {
                moved_on("undone")
            } else {
                AppError::Conflict("Only a committed import can be undone.".into())
            })
        }
    }
    let entry = Entry::of("award_history.undo", "award_import", Some(id)).before(json!({"file": row.file_name}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(())
}

/// Drops a pending upload.
pub async fn discard(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<()> {
    acting.require(|a| a.is_programme_lead())?;
    let row = rows::find(ctx.db, id).await?.ok_or(AppError::NotFound)?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !rows::discard(&mut tx, id).await? {
        return Err(moved_on(&row.state));
    }
    audit::record(
        &mut tx,
        acting.at(now),
        Entry::of("award_history.discard", "award_import", Some(id)),
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Past imports, newest first.
pub async fn history(ctx: Ctx<'_>, acting: &Acting) -> AppResult<Vec<AwardImportRow>> {
    acting.require(|a| a.is_programme_lead())?;
    Ok(rows::history(ctx.db, 50).await?)
}
