//! Importing sign-in sheets in the browser: upload, preview (with the column
//! mapping and near matches to decide), commit in the background with
//! progress, history and undo.

use super::auth::CurrentUser;
use super::csrf::{CarriesCsrfToken, CsrfForm, CsrfMultipart, MultipartRefusal, TokenOnly};
use super::{AppState, Page};
use crate::db::audit::{self, Entry};
use crate::db::{imports as import_rows, organisations, Db};
use crate::domain::import::Field;
use crate::error::{AppError, AppResult};
use crate::imports::{self, Choices};
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::tokio::io::AsyncReadExt;
use rocket::{get, post, routes, FromForm, Route, State};
use rocket_dyn_templates::Template;
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

fn history_rows(rows: Vec<import_rows::ImportRow>) -> Vec<Value> {
    rows.into_iter()
        .map(|row| {
            let summary: Value = serde_json::from_str(&row.summary_json).unwrap_or(Value::Null);
            json!({"id": row.id, "file_name": row.file_name, "state": row.state, "actor": row.actor_label,
                "created_at": crate::clock::display(&row.created_at), "summary": summary, "sha256": row.file_sha256})
        })
        .collect()
}

async fn index_context(db: &Db) -> AppResult<Value> {
    Ok(json!({
        "title": "Import attendance",
        "section": "training",
        "organisations": org_options(db).await?,
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
}

impl CarriesCsrfToken for UploadForm<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
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

#[post("/training/imports", data = "<form>")]
async fn upload(
    form: Result<CsrfMultipart<UploadForm<'_>>, MultipartRefusal>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Result<Redirect, (Status, Template)>> {
    require(user)?;
    let mut context = index_context(db).await?;
    let show_error = |context: &mut Value, field: &'static str, message: String| {
        let mut errors = crate::domain::validation::FieldErrors::default();
        errors.add(field, message);
        page.render_errors("imports/index", &errors, context.take())
    };
    let mut form = match form {
        Ok(form) => form.0,
        Err(MultipartRefusal::Csrf) => return Err(AppError::Csrf),
        Err(MultipartRefusal::TooLarge) => {
            let limit = state.config.import_max_bytes / (1024 * 1024);
            let mut page = show_error(
                &mut context,
                "file",
                format!("The file is too large: sign-in sheets can be up to {limit} MB."),
            );
            page.0 = Status::PayloadTooLarge;
            return Ok(Err(page));
        }
        Err(MultipartRefusal::Unreadable(_)) => {
            return Ok(Err(show_error(
                &mut context,
                "file",
                "The upload could not be read. Try again.".into(),
            )))
        }
    };
    let Some(file) = form.file.as_mut().filter(|f| f.len() > 0) else {
        return Ok(Err(show_error(
            &mut context,
            "file",
            "Choose a sign-in sheet to upload".into(),
        )));
    };
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
    let choices = Choices {
        module: Some(form.module.clone()),
        date: Some(form.date.clone()),
        sheet: Some(form.sheet.clone()),
        default_organisation: form.default_organisation.trim().parse().ok(),
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
    let now = state.now_db();
    let id = imports::start(db, &user.audit_actor(), &file_name, &preview.sha256, &choices, &now).await?;
    imports::save_pending(&state.config.data_dir, id, &bytes).map_err(AppError::internal)?;
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
    let bytes = match imports::load_pending(&state.config.data_dir, row.id) {
        Ok(bytes) => bytes,
        Err(_) => return Ok(Err("The uploaded file is no longer available. Upload it again.".into())),
    };
    match imports::preview(
        db,
        state.programmes.clone(),
        Arc::new(bytes),
        &row.file_name,
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
async fn show(id: i64, user: &CurrentUser, page: Page<'_>, db: &Db, state: &State<AppState>) -> AppResult<Template> {
    require(user)?;
    let row = import_row(db, id).await?;
    let mut context = json!({
        "title": format!("Import of {}", row.file_name),
        "section": "training",
        "import": history_rows(vec![row.clone()]).pop(),
        "message": row.message,
    });
    match row.state.as_str() {
        "pending" => {
            let choices = stored_choices(&row);
            context["choices"] = json!(choices);
            context["organisations"] = json!(org_options(db).await?);
            context["modules"] = json!(module_options(state));
            context["fields"] = json!(Field::CHOICES
                .iter()
                .map(|f| json!({"value": f.as_str(), "label": f.label()}))
                .collect::<Vec<_>>());
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
                            "date": r.date.format("%d/%m/%Y").to_string(), "status": r.status.label(), "cohort": r.cohort})
                    }).collect::<Vec<_>>());
                }
                Err(message) => context["fatal"] = json!(message),
            }
        }
        "running" => {
            let progress = state
                .import_progress
                .lock()
                .map(|p| p.get(&id).copied())
                .unwrap_or(None);
            context["progress"] = json!(progress.map(|(done, total)| json!({"done": done, "total": total,
                "percent": (done * 100).checked_div(total).unwrap_or(0)})));
            context["refresh"] = json!(true);
        }
        _ => {}
    }
    Ok(page.render("imports/show", context))
}

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
    /// "sheet index-column" → field
    #[field(default = HashMap::new())]
    mapping: HashMap<String, String>,
    #[field(default = HashMap::new())]
    answer: HashMap<String, String>,
    #[field(default = HashMap::new())]
    answer_key: HashMap<String, String>,
}

#[post("/training/imports/<id>/choices", data = "<form>")]
async fn update_choices(
    id: i64,
    form: CsrfForm<ChoicesForm>,
    user: &CurrentUser,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Redirect> {
    require(user)?;
    let row = import_row(db, id).await?;
    if row.state != "pending" {
        return Err(AppError::BadRequest(
            "This import has already been committed or discarded.".into(),
        ));
    }
    let form = form.0;
    let layouts = match preview_for(db, state, &row).await? {
        Ok(preview) => preview.analysis.layouts,
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
    let answers = form
        .answer_key
        .iter()
        .filter_map(|(index, key)| {
            form.answer
                .get(index)
                .and_then(|a| a.parse::<i64>().ok())
                .map(|a| (key.clone(), a))
        })
        .collect();
    let choices = Choices {
        module: Some(form.module),
        date: Some(form.date),
        sheet: Some(form.sheet),
        default_organisation: form.default_organisation.trim().parse().ok(),
        mapping,
        answers,
    };
    import_rows::set_options(db, id, &serde_json::to_string(&choices).unwrap_or_default()).await?;
    Ok(Redirect::to(format!("/training/imports/{id}")))
}

#[post("/training/imports/<id>/commit", data = "<_form>")]
async fn commit(
    id: i64,
    _form: CsrfForm<TokenOnly>,
    user: &CurrentUser,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Flash<Redirect>> {
    require(user)?;
    let back = Redirect::to(format!("/training/imports/{id}"));
    let row = import_row(db, id).await?;
    if row.state != "pending" {
        return Ok(Flash::error(back, "This import is not waiting to be committed."));
    }
    let preview = match preview_for(db, state, &row).await? {
        Ok(preview) if preview.already_imported.is_some() => {
            return Ok(Flash::error(
                back,
                "This file has already been imported; importing it again would change nothing.",
            ))
        }
        Ok(preview) if preview.can_commit() => preview,
        Ok(_) => return Ok(Flash::error(back, "Fix the errors listed before importing.")),
        Err(message) => return Ok(Flash::error(back, message)),
    };
    import_rows::set_state(db, id, "running", "").await?;
    let pool = (**db).clone();
    let progress_map = state.import_progress.clone();
    let data_dir = state.config.data_dir.clone();
    let now = state.now_db();
    let (programmes, today) = (state.programmes.clone(), state.clock.now().date_naive());
    let actor = user.audit_actor();
    if let Ok(mut map) = progress_map.lock() {
        map.insert(id, (0, preview.summary.records));
    }
    // Committing a large sheet takes seconds: do it in the background and let
    // the page show progress (it refreshes itself, no script needed).
    rocket::tokio::spawn(async move {
        let progress_for_commit = progress_map.clone();
        let report = move |done: usize, total: usize| {
            if let Ok(mut map) = progress_for_commit.lock() {
                map.insert(id, (done, total));
            }
        };
        match imports::commit(&pool, &programmes, id, &preview, &now, &report).await {
            Ok(outcome) => {
                imports::remove_pending(&data_dir, id);
                if let Ok(mut conn) = pool.acquire().await {
                    let entry = Entry {
                        action: "import.commit",
                        entity: "import",
                        entity_id: Some(id),
                        organisation_id: None,
                        before: None,
                        after: Some(json!(outcome)),
                    };
                    if let Err(e) = audit::record(&mut conn, &now, &actor, entry).await {
                        tracing::error!("could not record import {id} in the audit log: {e}");
                    }
                }
                // New completions earn their certificates straight away.
                if let Err(e) =
                    crate::db::certificates::issue_missing_training_certificates(&pool, &programmes, today, &now).await
                {
                    tracing::error!("could not issue certificates after import {id}: {e}");
                }
            }
            Err(e) => {
                tracing::error!("import {id} failed: {e}");
                let _ = import_rows::set_state(
                    &pool,
                    id,
                    "failed",
                    "The import failed and nothing was changed. Try again, or ask for help if it keeps failing.",
                )
                .await;
            }
        }
        if let Ok(mut map) = progress_map.lock() {
            map.remove(&id);
        }
    });
    // No message: by the time the page loads the import may already be done; the page says which.
    Ok(Flash::success(back, ""))
}

#[post("/training/imports/<id>/undo", data = "<_form>")]
async fn undo(
    id: i64,
    _form: CsrfForm<TokenOnly>,
    user: &CurrentUser,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Flash<Redirect>> {
    require(user)?;
    let row = import_row(db, id).await?;
    let back = Redirect::to(format!("/training/imports/{id}"));
    if row.state != "committed" {
        return Ok(Flash::error(back, "Only a committed import can be undone."));
    }
    let now = state.now_db();
    import_rows::undo(db, &state.programmes, id, &now).await?;
    let mut conn = db.acquire().await?;
    audit::record(
        &mut conn,
        &now,
        &user.audit_actor(),
        Entry {
            action: "import.undo",
            entity: "import",
            entity_id: Some(id),
            organisation_id: None,
            before: None,
            after: None,
        },
    )
    .await?;
    Ok(Flash::success(
        back,
        "The import has been undone: its attendance, and the people and sessions it added, are gone.",
    ))
}

#[post("/training/imports/<id>/discard", data = "<_form>")]
async fn discard(
    id: i64,
    _form: CsrfForm<TokenOnly>,
    user: &CurrentUser,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Flash<Redirect>> {
    require(user)?;
    let row = import_row(db, id).await?;
    if row.state == "pending" {
        import_rows::set_state(db, id, "discarded", "").await?;
        imports::remove_pending(&state.config.data_dir, id);
    }
    Ok(Flash::success(
        Redirect::to("/training/imports"),
        "The upload has been discarded; nothing was imported.",
    ))
}
