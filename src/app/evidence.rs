//! Evidence workflows: add an item to a criterion, replace it with a new
//! version, remove it, and record a download. Files are put in the evidence
//! store by the caller first (they arrive as uploads, or from the demo); a
//! workflow records them.

use super::assessments::{framework_of, move_state, moved_on, visible};
use super::{Acting, Ctx};
use crate::db;
use crate::db::assessments::{self as assessment_rows, AssessmentRow};
use crate::db::audit::{self, Entry};
use crate::db::evidence::{self, EvidenceRow, FileRef, NewEvidence};
use crate::domain::access::Actor;
use crate::domain::assessment::Action;
use crate::domain::evidence::EvidenceDetails;
use crate::domain::filetype::FileKind;
use crate::domain::standards::Criterion;
use crate::error::{AppError, AppResult};
use serde_json::json;

/// Where a piece of evidence is going: a criterion of an assessment, as a
/// new item or as the next version of an existing one.
pub struct Target<'a> {
    pub row: AssessmentRow,
    pub criterion: &'a Criterion,
    pub replaces: Option<EvidenceRow>,
}

/// The assessment and criterion, if `actor` may change their evidence now.
pub async fn editable<'a>(
    ctx: Ctx<'a>,
    actor: &Actor,
    id: i64,
    criterion_id: &str,
) -> AppResult<(AssessmentRow, &'a Criterion)> {
    let row = visible(ctx.db, actor, id).await?;
    if !actor.can_work_on_assessments_of(row.organisation_id) {
        return Err(AppError::Forbidden);
    }
    let framework = framework_of(ctx.app, &row)?;
    let criterion = framework
        .criteria()
        .find(|c| c.id == criterion_id)
        .ok_or(AppError::NotFound)?;
    if !row.state.evidence_editable() {
        return Err(AppError::BadRequest(format!(
            "The evidence cannot be changed while the assessment is {}. It can be changed again if the assessor sends it back.",
            row.state.label().to_lowercase()
        )));
    }
    Ok((row, criterion))
}

/// An evidence item, if `actor` may change it now.
pub async fn editable_item<'a>(
    ctx: Ctx<'a>,
    actor: &Actor,
    evidence_id: i64,
) -> AppResult<(AssessmentRow, &'a Criterion, EvidenceRow)> {
    if !actor.can_view_assessments() {
        return Err(AppError::Forbidden);
    }
    let item = evidence::find(ctx.db, evidence_id).await?.ok_or(AppError::NotFound)?;
    if !actor.can_view_assessments_of(item.organisation_id) {
        return Err(AppError::NotFound);
    }
    let (row, criterion) = editable(ctx, actor, item.assessment_id, &item.criterion_id).await?;
    if !item.is_current() {
        return Err(AppError::Conflict(
            "That version has already been replaced or removed. Go back and reload the page.".into(),
        ));
    }
    Ok((row, criterion, item))
}

/// A file already in the evidence store.
pub struct StoredFile<'a> {
    pub sha256: &'a str,
    pub name: &'a str,
    pub kind: FileKind,
    pub size: u64,
}

/// The evidence as typed: a new item, or the next version of `target.replaces`.
/// Moves the assessment on from "enrolled". Returns the new version's id.
pub async fn save(
    ctx: Ctx<'_>,
    acting: &Acting,
    target: &Target<'_>,
    details: &EvidenceDetails,
    file: Option<&StoredFile<'_>>,
) -> AppResult<i64> {
    acting.require(|a| a.can_work_on_assessments_of(target.row.organisation_id))?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let row = assessment_rows::find_in(&mut tx, target.row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = row.state;
    let to = from.apply(Action::EditEvidence).map_err(|_| moved_on())?;
    if let Some(old) = &target.replaces {
        if !evidence::supersede(&mut tx, old.id, now).await? {
            return Err(moved_on());
        }
    }
    let file_ref = file.map(|file| FileRef {
        sha256: file.sha256,
        name: file.name,
        kind: file.kind.as_str(),
        size: i64::try_from(file.size).unwrap_or(i64::MAX),
    });
    let (applies_from, valid_until) = (details.applies_from, details.valid_until);
    let id = evidence::insert(
        &mut tx,
        &NewEvidence {
            assessment_id: row.id,
            organisation_id: row.organisation_id,
            criterion_id: &target.criterion.id,
            replaces: target.replaces.as_ref().map(|old| (old.item_id, old.version)),
            kind: details.kind,
            title: &details.title,
            statement: &details.statement,
            url: &details.url,
            file: file_ref,
            applies_from,
            valid_until,
            for_submission: row.submission + 1,
            carried_from: None,
        },
        &acting.audit,
        now,
    )
    .await?;
    if to != from {
        if assessment_rows::set_state(&mut tx, row.id, from, to, now).await? {
            assessment_rows::record_event(
                &mut tx,
                row.id,
                acting.at(now),
                from.as_str(),
                to,
                "First evidence added",
            )
            .await?;
        } else {
            // Someone else's first evidence, added at the same moment, moved
            // it on already: that is no reason to refuse this one.
            let current = assessment_rows::find_in(&mut tx, row.id)
                .await?
                .ok_or(AppError::NotFound)?;
            if current.state != to {
                return Err(moved_on());
            }
        }
    }
    let action = if target.replaces.is_some() {
        "evidence.replace"
    } else {
        "evidence.add"
    };
    let mut entry = Entry::of(action, "evidence", Some(id))
        .within(row.organisation_id)
        .after(json!({
            "assessment_id": row.id, "criterion_id": target.criterion.id, "kind": details.kind,
            "title": details.title, "url": details.url, "applies_from": applies_from, "valid_until": valid_until,
            "file_name": file_ref.map(|f| f.name), "file_type": file_ref.map(|f| f.kind),
            "file_sha256": file_ref.map(|f| f.sha256), "file_size": file_ref.map(|f| f.size),
            "statement_chars": details.statement.chars().count(),
        }));
    if let Some(old) = &target.replaces {
        entry = entry.before(json!({"id": old.id, "version": old.version, "title": old.title,
            "file_name": old.file_name, "file_sha256": old.file_sha256, "url": old.url}));
    }
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// The title an item is known by: its own, or its file's name.
pub fn display_title(item: &EvidenceRow) -> &str {
    if item.title.is_empty() {
        item.file_name.as_deref().unwrap_or_default()
    } else {
        &item.title
    }
}

/// Removes an item (it stays in the history). Returns the criterion's assessment.
pub async fn remove(ctx: Ctx<'_>, acting: &Acting, evidence_id: i64) -> AppResult<(AssessmentRow, EvidenceRow)> {
    let (row, _, item) = editable_item(ctx, &acting.access, evidence_id).await?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let current = assessment_rows::find_in(&mut tx, row.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let from = current.state;
    let to = from.apply(Action::EditEvidence).map_err(|_| moved_on())?;
    if !evidence::remove(&mut tx, item.id, current.submission + 1, now).await? {
        return Err(moved_on());
    }
    if to != from {
        move_state(&mut tx, row.id, from, to, acting.at(now), "").await?;
    }
    let entry = Entry::of("evidence.remove", "evidence", Some(item.id))
        .within(row.organisation_id)
        .before(json!({"title": display_title(&item), "version": item.version, "criterion_id": item.criterion_id}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok((row, item))
}

/// A file item that may be downloaded, with its file's place in the store.
pub struct Downloadable {
    pub item: EvidenceRow,
    pub sha256: String,
    pub name: String,
    pub kind: FileKind,
}

/// The file of an evidence item, if `actor` may download it.
pub async fn downloadable(ctx: Ctx<'_>, actor: &Actor, evidence_id: i64) -> AppResult<Downloadable> {
    if !actor.can_view_assessments() {
        return Err(AppError::Forbidden);
    }
    let item = evidence::find(ctx.db, evidence_id).await?.ok_or(AppError::NotFound)?;
    if !actor.can_download_evidence_of(item.organisation_id) {
        return Err(AppError::NotFound);
    }
    // A statement or a link has no file.
    let Some(file) = item.file() else {
        return Err(AppError::NotFound);
    };
    let kind = FileKind::parse(file.kind).ok_or_else(|| AppError::internal("stored evidence has no file type"))?;
    let (sha256, name) = (file.sha256.to_string(), file.name.to_string());
    Ok(Downloadable {
        item,
        sha256,
        name,
        kind,
    })
}

/// Evidence files are confidential: every download is in the audit log,
/// written before the file is sent (a download logged but interrupted is
/// better than one that happened and was not).
pub async fn record_download(ctx: Ctx<'_>, acting: &Acting, item: &EvidenceRow) -> AppResult<()> {
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let entry = Entry::of("evidence.download", "evidence", Some(item.id))
        .within(item.organisation_id)
        .after(
            json!({"assessment_id": item.assessment_id, "criterion_id": item.criterion_id,
            "version": item.version, "file_name": item.file_name, "file_sha256": item.file_sha256}),
        );
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(())
}
