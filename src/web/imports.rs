//! Importing sign-in sheets in the browser: upload, preview (with the column
//! mapping and near matches to decide), commit in the background with
//! progress, history and undo.

use super::auth::{CurrentUser, TrainingManager};
use super::csrf::{CarriesCsrfToken, CsrfForm, CsrfMultipart, MultipartRefusal, TokenOnly};
use super::templates::Template;
use super::{choice_options, AppState, Page, SignedIn};
use crate::app::import_runs;
use crate::app::imports::{self, Choices};
use crate::db::{imports as import_rows, organisations, Db};
use crate::domain::import::Field;
use crate::error::{AppError, AppResult};
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::tokio::io::AsyncReadExt;
use rocket::{get, post, routes, FromForm, Route};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::Arc;

pub fn routes() -> Vec<Route> {
    routes![index, upload, show, update_choices, commit, undo, discard]
}

const MAX_ISSUES_SHOWN: usize = 200;

fn require(user: &CurrentUser) -> AppResult<()> {
    user.require(|a| a.can_manage_training())
}

async fn org_options(db: &Db) -> AppResult<Vec<Value>> {
    Ok(organisations::names(db)
        .await?
        .into_iter()
        .map(|(id, name)| json!({"id": id, "name": name}))
        .collect())
}

/// A positive row number, or none.
fn header_row(text: &str) -> Option<usize> {
    text.trim().parse().ok().filter(|n| *n > 0)
}

fn optional(text: &str) -> Option<String> {
    Some(text.trim().to_string()).filter(|t| !t.is_empty())
}

fn history_rows(rows: Vec<import_rows::ImportRow>) -> Vec<Value> {
    rows.into_iter()
        .map(|row| {
            let summary: Value = serde_json::from_str(&row.summary_json).unwrap_or(Value::Null);
            json!({"id": row.id, "file_name": row.file_name, "state": row.state, "actor": row.actor_label,
                "created_at": crate::clock::display(row.created_at), "summary": summary, "sha256": row.file_sha256})
        })
        .collect()
}

async fn index_context(db: &Db) -> AppResult<Value> {
    Ok(json!({
        "title": "Import attendance",
        "section": "training",
        "organisations": org_options(db).await?,
        "org_types": super::organisations::type_options(),
        "history": history_rows(import_rows::history(db, 50).await?),
    }))
}

#[get("/training/imports")]
async fn index(user: &CurrentUser, page: Page<'_>, db: &Db) -> AppResult<Template> {
    require(user)?;
    Ok(page.render("imports/index", index_context(db).await?))
}

#[derive(FromForm)]
pub struct UploadForm<'r> {
    csrf_token: String,
    file: Option<TempFile<'r>>,
    #[field(default = String::new())]
    module: String,
    #[field(default = String::new())]
    date: String,
    #[field(default = String::new())]
    sheet: String,
    #[field(default = String::new())]
    default_organisation: String,
    #[field(default = String::new())]
    new_organisation: String,
    #[field(default = String::new())]
    new_organisation_type: String,
    #[field(default = String::new())]
    header_row: String,
}

impl CarriesCsrfToken for UploadForm<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

/// A spreadsheet upload's form: the file it carries.
pub(super) trait SheetUpload<'r> {
    fn file(&mut self) -> Option<&mut TempFile<'r>>;
}

impl<'r> SheetUpload<'r> for UploadForm<'r> {
    fn file(&mut self) -> Option<&mut TempFile<'r>> {
        self.file.as_mut()
    }
}

/// Why a spreadsheet upload is refused: the status to answer with and what
/// the page says against its file field.
pub(super) struct UploadRefused {
    pub status: Status,
    pub message: String,
}

impl UploadRefused {
    /// `template` again, with the message against the file field.
    pub(super) fn shown(self, page: &Page<'_>, template: &'static str, context: &mut Value) -> (Status, Template) {
        let (_, shown) = refused_upload(page, template, context, "file", self.message);
        (self.status, shown)
    }
}

/// The form of a spreadsheet upload (sign-in sheets, past awards) with its
/// file's name and bytes, or why the upload is refused. `what` names the
/// file the page asks for ("a sign-in sheet").
pub(super) async fn read_sheet_upload<'r, F: SheetUpload<'r>>(
    form: Result<CsrfMultipart<F>, MultipartRefusal>,
    max_bytes: u64,
    what: &str,
) -> AppResult<Result<(F, String, Vec<u8>), UploadRefused>> {
    let refused = |status, message| Ok(Err(UploadRefused { status, message }));
    let mut form = match form {
        Ok(form) => form.0,
        Err(MultipartRefusal::Csrf) => return Err(AppError::Csrf),
        Err(MultipartRefusal::TooLarge) => {
            let limit = max_bytes / (1024 * 1024);
            return refused(
                Status::PayloadTooLarge,
                format!("The file is too large: {what} can be up to {limit} MB."),
            );
        }
        Err(MultipartRefusal::Unreadable(_)) => {
            return refused(Status::BadRequest, "The upload could not be read. Try again.".into())
        }
    };
    let Some(file) = form.file().filter(|f| f.len() > 0) else {
        return refused(Status::UnprocessableEntity, format!("Choose {what} to upload"));
    };
    let (file_name, bytes) = read_upload(file).await?;
    Ok(Ok((form, file_name, bytes)))
}

/// An uploaded file's name (safe to show and store) and its bytes.
async fn read_upload(file: &mut TempFile<'_>) -> AppResult<(String, Vec<u8>)> {
    let file_name = clean_file_name(
        file.raw_name()
            .map(|n| n.dangerous_unsafe_unsanitized_raw().as_str())
            .unwrap_or("upload"),
    );
    let mut bytes = Vec::new();
    file.open()
        .await
        .map_err(AppError::internal)?
        .read_to_end(&mut bytes)
        .await
        .map_err(AppError::internal)?;
    Ok((file_name, bytes))
}

/// Safe to show and store: the last path part, without control characters.
fn clean_file_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() {
        "upload".into()
    } else {
        cleaned
    }
}

/// An upload page shown again with why the upload was refused, against
/// `field` (422; the caller may set another status). Both import pages, of
/// attendance and of past awards, refuse uploads this way.
fn refused_upload(
    page: &Page<'_>,
    template: &'static str,
    context: &mut Value,
    field: &'static str,
    message: String,
) -> (Status, Template) {
    let mut errors = crate::domain::validation::FieldErrors::default();
    errors.add(field, message);
    page.render_errors(template, &errors, context.take())
}

#[post("/training/imports", data = "<form>")]
async fn upload(
    manager: TrainingManager<'_>,
    form: Result<CsrfMultipart<UploadForm<'_>>, MultipartRefusal>,
) -> AppResult<Result<Redirect, (Status, Template)>> {
    let SignedIn(user, page, db, state) = manager.0;
    let mut context = index_context(db).await?;
    let show_error = |context: &mut Value, field: &'static str, message: String| {
        refused_upload(&page, "imports/index", context, field, message)
    };
    let (form, file_name, bytes) =
        match read_sheet_upload(form, state.config.import_max_bytes, "a sign-in sheet").await? {
            Ok(read) => read,
            Err(refused) => return Ok(Err(refused.shown(&page, "imports/index", &mut context))),
        };
    let choices = Choices {
        module: Some(form.module.clone()),
        date: Some(form.date.clone()),
        sheet: Some(form.sheet.clone()),
        default_organisation: form.default_organisation.trim().parse().ok(),
        new_organisation: optional(&form.new_organisation),
        new_organisation_type: optional(&form.new_organisation_type),
        header_row: header_row(&form.header_row),
        ..Default::default()
    };
    let bytes = Arc::new(bytes);
    let preview = imports::preview(
        db,
        state.programmes.clone(),
        bytes.clone(),
        &file_name,
        &choices,
        state.config.import_max_bytes,
    )
    .await;
    let preview = match preview {
        Ok(preview) => preview,
        Err(imports::ImportFailure::Read(e)) => return Ok(Err(show_error(&mut context, "file", e.to_string()))),
        Err(imports::ImportFailure::Choice(e)) => return Ok(Err(show_error(&mut context, "date", e))),
        Err(e) => return Err(AppError::internal(e)),
    };
    let now = state.clock.now();
    let id = imports::start(db, &user.audit_actor(), &file_name, &preview.sha256, &choices, now).await?;
    state.files.save_sheet(id, &bytes).await.map_err(AppError::internal)?;
    imports::remember_analysis(&state.import_analyses, id, &choices, &preview);
    Ok(Ok(Redirect::to(format!("/training/imports/{id}"))))
}

async fn import_row(db: &Db, id: i64) -> AppResult<import_rows::ImportRow> {
    import_rows::find(db, id).await?.ok_or(AppError::NotFound)
}

fn stored_choices(row: &import_rows::ImportRow) -> Choices {
    serde_json::from_str(&row.options_json).unwrap_or_default()
}

async fn preview_for(
    db: &Db,
    state: &AppState,
    row: &import_rows::ImportRow,
) -> AppResult<Result<imports::Preview, String>> {
    let sheet = imports::PendingSheet {
        import_id: row.id,
        file_name: &row.file_name,
        files: &state.files,
    };
    match imports::preview_pending(
        db,
        &state.import_analyses,
        state.programmes.clone(),
        &sheet,
        &stored_choices(row),
        state.config.import_max_bytes,
    )
    .await
    {
        Ok(preview) => Ok(Ok(preview)),
        Err(imports::ImportFailure::Database(e)) => Err(e.into()),
        Err(e) => Ok(Err(e.to_string())),
    }
}

fn module_options(state: &AppState) -> Vec<Value> {
    state
        .programmes
        .current()
        .into_iter()
        .flat_map(|p| {
            p.modules
                .iter()
                .map(move |m| json!({"value": m.title, "label": format!("{}: {}", p.name, m.title)}))
        })
        .collect()
}

#[get("/training/imports/<id>")]
async fn show(id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    require(user)?;
    let row = import_row(db, id).await?;
    let mut context = json!({
        "title": format!("Import of {}", row.file_name),
        "section": "training",
        "import": history_rows(vec![row.clone()]).pop(),
        "message": row.message,
    });
    let progress = crate::db::import_runs::progress(db, id).await?;
    match row.state.as_str() {
        "pending" => {
            let choices = stored_choices(&row);
            context["choices"] = json!(choices);
            context["organisations"] = json!(org_options(db).await?);
            context["org_types"] = json!(super::organisations::type_options());
            context["modules"] = json!(module_options(state));
            context["fields"] = json!(choice_options(&Field::CHOICES, |f| (f.as_str(), f.label())));
            match preview_for(db, state, &row).await? {
                Ok(preview) => {
                    context["preview"] = json!(preview);
                    // A badly laid-out sheet can give a problem a row; the first few hundred say enough.
                    let issues = preview.issues();
                    context["issues_more"] = json!(issues.len().saturating_sub(MAX_ISSUES_SHOWN));
                    context["issues"] = json!(issues.into_iter().take(MAX_ISSUES_SHOWN).collect::<Vec<_>>());
                    context["error_count"] = json!(preview.error_count());
                    context["can_commit"] = json!(preview.can_commit() && preview.already_imported.is_none());
                    context["new_people"] = json!(preview.resolution.new_people());
                    context["sample"] = json!(preview.analysis.records.iter().take(25).map(|r| {
                        let programme = state.programmes.current_version(&r.module.programme_id);
                        let module = programme.and_then(|p| p.modules.iter().find(|m| m.id == r.module.module_id));
                        json!({"sheet": r.sheet, "row": r.row, "name": r.person.full_name, "organisation": r.person.organisation,
                            "email": r.person.email, "module": module.map(|m| m.title.clone()).unwrap_or_else(|| r.module.module_id.clone()),
                            "programme": programme.map(|p| p.name.clone()).unwrap_or_default(),
                            "date": crate::domain::dates::uk_date(r.date), "status": r.status.label(), "cohort": r.cohort})
                    }).collect::<Vec<_>>());
                }
                Err(message) => context["fatal"] = json!(message),
            }
        }
        // A committed import whose background work is still issuing its
        // certificates shows as running until that is done too.
        "running" | "committed" if progress.is_some() => {
            context["import"]["state"] = json!("running");
            context["progress"] = json!(progress.map(|(done, total)| json!({"done": done, "total": total,
                "percent": (done * 100).checked_div(total).unwrap_or(0)})));
            context["refresh"] = json!(true);
        }
        "running" => context["refresh"] = json!(true),
        _ => {}
    }
    Ok(page.render("imports/show", context))
}

/// The answer value for "the same as the other person of that name on this sheet".
const SAME_AS_ON_SHEET: &str = "on-sheet";

#[derive(FromForm)]
pub struct ChoicesForm {
    #[field(default = String::new())]
    module: String,
    #[field(default = String::new())]
    date: String,
    #[field(default = String::new())]
    sheet: String,
    #[field(default = String::new())]
    default_organisation: String,
    #[field(default = String::new())]
    new_organisation: String,
    #[field(default = String::new())]
    new_organisation_type: String,
    #[field(default = String::new())]
    header_row: String,
    /// "sheet index-column" → field
    #[field(default = HashMap::new())]
    mapping: HashMap<String, String>,
    #[field(default = HashMap::new())]
    answer: HashMap<String, String>,
    #[field(default = HashMap::new())]
    answer_key: HashMap<String, String>,
}

#[post("/training/imports/<id>/choices", data = "<form>")]
async fn update_choices(id: i64, form: CsrfForm<ChoicesForm>, signed_in: SignedIn<'_>) -> AppResult<Redirect> {
    let SignedIn(user, _, db, state) = signed_in;
    require(user)?;
    let row = import_row(db, id).await?;
    if row.state != "pending" {
        return Err(AppError::Conflict(
            "This import has already been committed or discarded; its choices cannot change.".into(),
        ));
    }
    let form = form.0;
    let layouts = match preview_for(db, state, &row).await? {
        Ok(preview) => preview.analysis.layouts.clone(),
        Err(_) => Vec::new(),
    };
    let mut mapping = Vec::new();
    for (key, field) in &form.mapping {
        let Some((sheet_index, column)) = key.split_once('-') else {
            continue;
        };
        let (Ok(sheet_index), Ok(column)) = (sheet_index.parse::<usize>(), column.parse::<usize>()) else {
            continue;
        };
        if let (Some(layout), Some(field)) = (layouts.get(sheet_index), Field::parse(field)) {
            mapping.push((layout.sheet.clone(), column, field.as_str().to_string()));
        }
    }
    let mut answers = Vec::new();
    let mut same_as_on_sheet = Vec::new();
    for (index, key) in &form.answer_key {
        match form.answer.get(index).map(String::as_str) {
            // "The same as the other person of that name on this sheet".
            Some(SAME_AS_ON_SHEET) => same_as_on_sheet.push(key.clone()),
            Some(answer) => answers.extend(answer.parse::<i64>().ok().map(|a| (key.clone(), a))),
            None => {}
        }
    }
    let earlier = stored_choices(&row);
    let choices = Choices {
        module: Some(form.module),
        date: Some(form.date),
        sheet: Some(form.sheet),
        default_organisation: form.default_organisation.trim().parse().ok(),
        new_organisation: optional(&form.new_organisation),
        new_organisation_type: optional(&form.new_organisation_type),
        header_row: header_row(&form.header_row),
        mapping,
        answers,
        same_as_on_sheet,
        ..earlier
    };
    imports::update_choices(db, id, &choices).await?;
    Ok(Redirect::to(format!("/training/imports/{id}")))
}

#[post("/training/imports/<id>/commit", data = "<_form>")]
async fn commit(
    id: i64,
    _form: CsrfForm<TokenOnly>,
    signed_in: SignedIn<'_>,
) -> AppResult<Result<Redirect, Flash<Redirect>>> {
    let SignedIn(user, _, db, state) = signed_in;
    require(user)?;
    let back = Redirect::to(format!("/training/imports/{id}"));
    let row = import_row(db, id).await?;
    if row.state != "pending" {
        return Err(AppError::Conflict(match row.state.as_str() {
            "committed" | "undone" => "This import was already committed; it was not committed again.".into(),
            "running" => "This import is already being committed; it was not started again.".into(),
            _ => "This import is not waiting to be committed.".into(),
        }));
    }
    let preview = match preview_for(db, state, &row).await? {
        Ok(preview) => preview,
        Err(message) => return Ok(Err(Flash::error(back, message))),
    };
    match import_runs::claim(state, db, id, &preview).await {
        Ok(()) => {}
        Err(imports::ImportFailure::NotReady(message)) => return Ok(Err(Flash::error(back, message))),
        Err(other) => return Err(other.into()),
    }
    // Committing a large sheet takes seconds: do it in the background and let
    // the page show progress (it refreshes itself, no script needed).
    import_runs::commit_in_background(state, (**db).clone(), id, preview, user.audit_actor());
    // No message: by the time the page loads the import may already be done; the page says which.
    Ok(Ok(back))
}

#[post("/training/imports/<id>/undo", data = "<_form>")]
async fn undo(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    require(user)?;
    import_row(db, id).await?;
    imports::undo(db, &state.programmes, &user.audit_actor(), id, state.clock.now()).await?;
    Ok(Flash::success(
        Redirect::to(format!("/training/imports/{id}")),
        "The import has been undone: its attendance, and the people and sessions it added, are gone.",
    ))
}

#[post("/training/imports/<id>/discard", data = "<_form>")]
async fn discard(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    require(user)?;
    import_row(db, id).await?;
    imports::discard(db, &state.files, &user.audit_actor(), id, state.clock.now()).await?;
    state.import_analyses.forget(id);
    Ok(Flash::success(
        Redirect::to("/training/imports"),
        "The upload has been discarded; nothing was imported.",
    ))
}
