//! Evidence: adding a file, a statement or a link to a criterion, replacing
//! an item with a new version, removing one, and downloading files.
//!
//! Every form here is multipart (a file may come with it), so the CSRF token
//! is checked by [`CsrfMultipart`] rather than `CsrfForm`.

use super::assessments::{human_size, today};
use super::auth::{AssessmentWorker, CurrentUser};
use super::csrf::{CarriesCsrfToken, CsrfForm, CsrfMultipart, MultipartRefusal, TokenOnly};
use super::date_field::DateField;
use super::templates::Template;
use super::{AppState, FormOutcome, Page, SignedIn};
use crate::app::evidence::{self as workflow, display_title, StoredFile, Target};
use crate::db::Db;
use crate::domain::evidence::{EvidenceDetails, EvidenceInput, EvidenceKind};
use crate::domain::filetype::{self, FileKind};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::storage::{EvidenceStore, StoreError, Stored};
use rocket::data::Capped;
use rocket::fs::TempFile;
use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Flash, Redirect, Responder, Response};
use rocket::{get, post, routes, FromForm, Route, State as Managed};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![new_page, add, replace_page, replace, remove, download]
}

#[derive(FromForm)]
pub struct EvidenceForm<'r> {
    #[field(default = String::new())]
    csrf_token: String,
    #[field(default = String::new())]
    kind: String,
    #[field(default = String::new())]
    title: String,
    #[field(default = String::new())]
    statement: String,
    #[field(default = String::new())]
    url: String,
    applies_from: DateField,
    valid_until: DateField,
    file: Option<Capped<TempFile<'r>>>,
}

impl CarriesCsrfToken for EvidenceForm<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

type Outcome = AppResult<FormOutcome>;

fn form_context(app: &AppState, target: &Target<'_>, kind: EvidenceKind, values: Value) -> Value {
    let row = &target.row;
    let (heading, action) = match (&target.replaces, kind) {
        (Some(old), _) => (
            format!("Replace “{}”", display_title(old)),
            format!("/evidence/{}/replace", old.id),
        ),
        (None, EvidenceKind::File) => (
            "Upload a file".to_string(),
            format!("/assessments/{}/criteria/{}/evidence", row.id, target.criterion.id),
        ),
        (None, EvidenceKind::Statement) => (
            "Write a statement".to_string(),
            format!("/assessments/{}/criteria/{}/evidence", row.id, target.criterion.id),
        ),
        (None, EvidenceKind::Link) => (
            "Add a link".to_string(),
            format!("/assessments/{}/criteria/{}/evidence", row.id, target.criterion.id),
        ),
    };
    json!({
        "title": heading,
        "section": "assessments",
        "assessment": super::assessments::summary_json(row, app),
        "criterion": {"id": target.criterion.id, "text": target.criterion.text, "expected": target.criterion.evidence},
        "kind": kind.as_str(),
        "action": action,
        "replacing": target.replaces.as_ref().map(|old| json!({"id": old.id, "version": old.version, "title": display_title(old)})),
        "max_size": human_size(i64::try_from(app.config.evidence_max_bytes).unwrap_or(i64::MAX)),
        "allowed": filetype::ALLOWED_DESCRIPTION,
        "values": values,
    })
}

#[get("/assessments/<id>/criteria/<criterion_id>/evidence/new?<kind>")]
async fn new_page(id: i64, criterion_id: &str, kind: Option<&str>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, app) = signed_in;
    let (row, criterion) = workflow::editable(app.ctx(db), &user.actor(), id, criterion_id).await?;
    let kind = kind.and_then(EvidenceKind::parse).unwrap_or(EvidenceKind::File);
    let target = Target {
        row,
        criterion,
        replaces: None,
    };
    let today = today(app).format("%Y-%m-%d").to_string();
    Ok(page.render(
        "evidence/form",
        form_context(app, &target, kind, json!({"applies_from": today})),
    ))
}

#[get("/evidence/<evidence_id>/replace")]
async fn replace_page(evidence_id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, app) = signed_in;
    let (row, criterion, old) = workflow::editable_item(app.ctx(db), &user.actor(), evidence_id).await?;
    let kind = old.kind;
    let values = json!({
        "title": old.title, "statement": old.statement, "url": old.url,
        "applies_from": today(app).format("%Y-%m-%d").to_string(),
        "valid_until": old.valid_until,
    });
    let target = Target {
        row,
        criterion,
        replaces: Some(old),
    };
    Ok(page.render("evidence/form", form_context(app, &target, kind, values)))
}

/// The page for a file over the limit: status 413, and nothing was kept.
fn too_large(page: &Page<'_>, app: &AppState, back: String) -> (Status, Template) {
    let max = human_size(i64::try_from(app.config.evidence_max_bytes).unwrap_or(i64::MAX));
    (
        Status::PayloadTooLarge,
        page.render(
            "evidence/too_large",
            json!({"title": "The file is too large", "section": "assessments", "max_size": max, "back": back}),
        ),
    )
}

/// Turns a refused multipart form into the answer the person should see.
fn refused(page: &Page<'_>, app: &AppState, refusal: MultipartRefusal, back: String) -> Outcome {
    match refusal {
        MultipartRefusal::TooLarge => Ok(Err(too_large(page, app, back))),
        MultipartRefusal::Csrf => Err(AppError::Csrf),
        MultipartRefusal::Unreadable(_) => Err(AppError::BadRequest(
            "The upload could not be read: it may have been cut off, or the file’s name may contain characters that \
             cannot be sent. Rename the file if need be, go back and try again. Nothing has been saved."
                .into(),
        )),
    }
}

#[post("/assessments/<id>/criteria/<criterion_id>/evidence", data = "<form>")]
async fn add(
    id: i64,
    criterion_id: &str,
    worker: AssessmentWorker<'_>,
    form: Result<CsrfMultipart<EvidenceForm<'_>>, MultipartRefusal>,
) -> Outcome {
    let SignedIn(user, page, db, app) = worker.0;
    let back = format!("/assessments/{id}/criteria/{criterion_id}");
    let form = match form {
        Ok(form) => form.0,
        Err(refusal) => return refused(&page, app, refusal, back),
    };
    let (row, criterion) = workflow::editable(app.ctx(db), &user.actor(), id, criterion_id).await?;
    let target = Target {
        row,
        criterion,
        replaces: None,
    };
    accept(&page, db, app, user, target, form).await
}

#[post("/evidence/<evidence_id>/replace", data = "<form>")]
async fn replace(
    evidence_id: i64,
    worker: AssessmentWorker<'_>,
    form: Result<CsrfMultipart<EvidenceForm<'_>>, MultipartRefusal>,
) -> Outcome {
    let SignedIn(user, page, db, app) = worker.0;
    let back = format!("/evidence/{evidence_id}/replace");
    let mut form = match form {
        Ok(form) => form.0,
        Err(refusal) => return refused(&page, app, refusal, back),
    };
    let (row, criterion, old) = workflow::editable_item(app.ctx(db), &user.actor(), evidence_id).await?;
    // A new version is the same kind of thing as the old one.
    form.kind = old.kind.as_str().to_string();
    let target = Target {
        row,
        criterion,
        replaces: Some(old),
    };
    accept(&page, db, app, user, target, form).await
}

/// The file that came with the form, checked and in the store, or the
/// problem to show. Nothing is left in the store when this fails.
async fn receive_file(
    app: &AppState,
    store: &EvidenceStore,
    file: Option<Capped<TempFile<'_>>>,
    errors: &mut FieldErrors,
) -> AppResult<Result<Option<(Stored, String, FileKind)>, TooLarge>> {
    let Some(file) = file else {
        errors.add("file", "Choose a file to upload");
        return Ok(Ok(None));
    };
    let max = app.config.evidence_max_bytes;
    // Rocket reads up to one byte past the limit, so "too large" is certain;
    // short of the limit, an incomplete file was cut off in transit.
    if file.len() > max {
        return Ok(Err(TooLarge));
    }
    if !file.is_complete() {
        return Err(AppError::BadRequest(
            "The upload did not arrive complete. Go back and try again.".into(),
        ));
    }
    // The name exactly as sent: Rocket's own `name()` would quietly strip
    // the path parts this check exists to refuse.
    let name = file
        .raw_name()
        .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str().to_string())
        .unwrap_or_default();
    if name.is_empty() && file.is_empty() {
        errors.add("file", "Choose a file to upload");
        return Ok(Ok(None));
    }
    if let Err(message) = filetype::check_file_name(&name) {
        errors.add("file", message);
        return Ok(Ok(None));
    }
    if file.is_empty() {
        errors.add(
            "file",
            format!("“{name}” is empty. Choose a file with something in it."),
        );
        return Ok(Ok(None));
    }
    if !errors.is_empty() {
        // Other fields are wrong: the file would have to be chosen again anyway.
        return Ok(Ok(None));
    }
    let reader = file.open().await.map_err(AppError::internal)?;
    let incoming = match store.receive(reader, max).await {
        Ok(incoming) => incoming,
        Err(StoreError::TooLarge { .. }) => return Ok(Err(TooLarge)),
        Err(StoreError::Io(e)) => return Err(AppError::internal(e)),
    };
    let path = incoming.path().to_path_buf();
    let checked_name = name.clone();
    let kind = rocket::tokio::task::spawn_blocking(move || {
        let mut content = std::fs::File::open(path).map_err(|e| e.to_string())?;
        filetype::check_content(&checked_name, &mut content)
    })
    .await
    .map_err(AppError::internal)?;
    let kind = match kind {
        Ok(kind) => kind,
        Err(message) => {
            // Dropping `incoming` removes the temporary file.
            drop(incoming);
            errors.add("file", message);
            return Ok(Ok(None));
        }
    };
    let stored = store.commit(incoming).await.map_err(AppError::internal)?;
    Ok(Ok(Some((stored, name, kind))))
}

struct TooLarge;

/// Checks the form, stores the file (if any), then records the evidence.
async fn accept(
    page: &Page<'_>,
    db: &Db,
    app: &AppState,
    user: &CurrentUser,
    target: Target<'_>,
    mut form: EvidenceForm<'_>,
) -> Outcome {
    let store = &app.files;
    let input = EvidenceInput {
        kind: form.kind.clone(),
        title: form.title.clone(),
        statement: form.statement.clone(),
        url: form.url.clone(),
        applies_from: form.applies_from.text(),
        valid_until: form.valid_until.text(),
    };
    let values = json!({
        "title": input.title, "statement": input.statement, "url": input.url,
        "applies_from": form.applies_from.echo(), "valid_until": form.valid_until.echo(),
    });
    let kind = EvidenceKind::parse(&input.kind).unwrap_or(EvidenceKind::File);
    let back = match &target.replaces {
        Some(old) => format!("/evidence/{}/replace", old.id),
        None => format!("/assessments/{}/criteria/{}", target.row.id, target.criterion.id),
    };
    let (details, mut errors) = match EvidenceDetails::try_from(&input) {
        Ok(details) => (Some(details), FieldErrors::default()),
        Err(errors) => (None, errors),
    };
    let file = if kind == EvidenceKind::File {
        match receive_file(app, store, form.file.take(), &mut errors).await? {
            Ok(file) => file,
            Err(TooLarge) => return Ok(Err(too_large(page, app, back))),
        }
    } else {
        None
    };
    let details = match details {
        Some(details) if errors.is_empty() && (kind != EvidenceKind::File || file.is_some()) => details,
        _ => {
            let context = form_context(app, &target, kind, values);
            return Ok(Err(page.render_errors("evidence/form", &errors, context)));
        }
    };
    let result = record(db, app, user, &target, &details, file.as_ref()).await;
    if result.is_err() {
        // The row was not saved, so a file this upload added must go too.
        if let Some((stored, _, _)) = &file {
            store.discard(stored).await;
        }
    }
    let what = match &file {
        Some((_, name, _)) => format!("“{name}”"),
        None if details.title.is_empty() => "The evidence".to_string(),
        None => format!("“{}”", details.title),
    };
    let message = match &target.replaces {
        Some(old) => format!("{what} is now version {} of this item.", old.version + 1),
        None => format!("{what} has been added to {}.", target.criterion.id),
    };
    result?;
    Ok(Ok(Flash::success(
        Redirect::to(format!(
            "/assessments/{}/criteria/{}",
            target.row.id, target.criterion.id
        )),
        message,
    )))
}

/// Saves the evidence through the workflow, with the file the upload stored.
async fn record(
    db: &Db,
    app: &AppState,
    user: &CurrentUser,
    target: &Target<'_>,
    details: &EvidenceDetails,
    file: Option<&(Stored, String, FileKind)>,
) -> AppResult<()> {
    let file = file.map(|(stored, name, kind)| StoredFile {
        sha256: &stored.sha256,
        name,
        kind: *kind,
        size: stored.size,
    });
    workflow::save(app.ctx(db), &user.acting(), target, details, file.as_ref()).await?;
    Ok(())
}

#[post("/evidence/<evidence_id>/remove", data = "<_form>")]
async fn remove(evidence_id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, app) = signed_in;
    let (row, item) = workflow::remove(app.ctx(db), &user.acting(), evidence_id).await?;
    Ok(Flash::success(
        Redirect::to(format!("/assessments/{}/criteria/{}", row.id, item.criterion_id)),
        format!("“{}” has been removed. It stays in the history.", display_title(&item)),
    ))
}

/// A stored evidence file, sent so that browsers save rather than open it.
pub struct Download {
    file: crate::storage::StoredFile,
    name: String,
    kind: FileKind,
}

/// `attachment` with a plain-ASCII fallback name and the exact name in
/// RFC 5987 form, so accents survive and quotes cannot break the header.
fn content_disposition(name: &str) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = url::form_urlencoded::byte_serialize(name.as_bytes())
        .collect::<String>()
        .replace('+', "%20");
    format!("attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

impl<'r> Responder<'r, 'static> for Download {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let content_type = ContentType::parse_flexible(self.kind.mime()).unwrap_or(ContentType::Binary);
        Response::build()
            .header(content_type)
            // nosniff comes with every response (`super::headers`).
            .raw_header("Content-Disposition", content_disposition(&self.name))
            .sized_body(usize::try_from(self.file.size).ok(), self.file)
            .ok()
    }
}

#[get("/evidence/<evidence_id>/download")]
async fn download(evidence_id: i64, user: &CurrentUser, db: &Db, app: &Managed<AppState>) -> AppResult<Download> {
    let found = workflow::downloadable(app.ctx(db), &user.actor(), evidence_id).await?;
    let file = app.files.open(&found.sha256).await.map_err(|e| {
        AppError::Internal(format!(
            "evidence {} names file {} which cannot be opened: {e}",
            found.item.id, found.sha256
        ))
    })?;
    workflow::record_download(app.ctx(db), &user.acting(), &found.item).await?;
    Ok(Download {
        file,
        name: found.name,
        kind: found.kind,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn download_names_cannot_break_the_header() {
        assert_eq!(
            content_disposition("Policy \"v2\".pdf"),
            "attachment; filename=\"Policy _v2_.pdf\"; filename*=UTF-8''Policy%20%22v2%22.pdf"
        );
        assert_eq!(
            content_disposition("Politique é.pdf"),
            "attachment; filename=\"Politique _.pdf\"; filename*=UTF-8''Politique%20%C3%A9.pdf"
        );
    }
}
