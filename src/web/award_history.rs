//! The programme lead's page for importing awards made before qmtrack:
//! upload, preview with every error by row, commit, undo. The work is done
//! by `app::award_history`, as for the command line.

use super::auth::{CurrentUser, ProgrammeLead};
use super::csrf::{CarriesCsrfToken, CsrfForm, CsrfMultipart, MultipartRefusal, TokenOnly};
use super::templates::Template;
use super::{AppState, Page, SignedIn};
use crate::app::award_history::{self, AwardPreview};
use crate::db::award_history::AwardImportOptions;
use crate::db::Db;
use crate::error::AppResult;
use rocket::fs::TempFile;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State};
use serde_json::{json, Value};
use std::sync::Arc;

pub fn routes() -> Vec<Route> {
    routes![index, upload, show, commit, undo, discard]
}

const PAGE: &str = "/awards/history";

async fn index_context(db: &Db, state: &AppState, user: &CurrentUser) -> AppResult<Value> {
    let history: Vec<Value> = award_history::history(state.ctx(db), &user.acting())
        .await?
        .into_iter()
        .map(|row| {
            let summary: Value = serde_json::from_str(&row.summary_json).unwrap_or(Value::Null);
            json!({"id": row.id, "file_name": row.file_name, "state": row.state, "actor": row.actor_label,
                "created_at": crate::clock::display(row.created_at), "summary": summary})
        })
        .collect();
    Ok(json!({"title": "Import award history", "section": "assessments", "history": history}))
}

#[get("/awards/history")]
async fn index(user: &CurrentUser, page: Page<'_>, db: &Db, state: &State<AppState>) -> AppResult<Template> {
    Ok(page.render("award_history/index", index_context(db, state, user).await?))
}

#[derive(FromForm)]
pub struct UploadForm<'r> {
    csrf_token: String,
    file: Option<TempFile<'r>>,
    #[field(default = false)]
    create_organisations: bool,
    #[field(default = false)]
    certificates: bool,
}

impl<'r> super::imports::SheetUpload<'r> for UploadForm<'r> {
    fn file(&mut self) -> Option<&mut TempFile<'r>> {
        self.file.as_mut()
    }
}

impl CarriesCsrfToken for UploadForm<'_> {
    fn csrf_token(&self) -> &str {
        &self.csrf_token
    }
}

#[post("/awards/history", data = "<form>")]
async fn upload(
    lead: ProgrammeLead<'_>,
    form: Result<CsrfMultipart<UploadForm<'_>>, MultipartRefusal>,
) -> AppResult<Result<Redirect, (Status, Template)>> {
    let SignedIn(user, page, db, state) = lead.0;
    let mut context = index_context(db, state, user).await?;
    let (form, file_name, bytes) =
        match super::imports::read_sheet_upload(form, state.config.import_max_bytes, "the spreadsheet of past awards")
            .await?
        {
            Ok(read) => read,
            Err(refused) => return Ok(Err(refused.shown(&page, "award_history/index", &mut context))),
        };
    let options = AwardImportOptions {
        create_organisations: form.create_organisations,
        with_certificates: form.certificates,
    };
    match award_history::start(state.ctx(db), &user.acting(), Arc::new(bytes), &file_name, options).await? {
        Ok((id, _)) => Ok(Ok(Redirect::to(format!("{PAGE}/{id}")))),
        Err(unreadable) => {
            let refused = super::imports::UploadRefused {
                status: Status::BadRequest,
                message: unreadable.to_string(),
            };
            Ok(Err(refused.shown(&page, "award_history/index", &mut context)))
        }
    }
}

fn preview_context(preview: &AwardPreview) -> Value {
    json!({
        "awards": preview.sheet.awards.iter().map(|a| json!({
            "row": a.row, "sheet": a.sheet, "organisation": a.organisation_name, "framework": a.framework_name,
            "awarded_on": a.awarded_on.format("%d/%m/%Y").to_string(),
            "expires_on": a.expires_on.format("%d/%m/%Y").to_string(),
            "revoked_on": a.revoked_on.map(|d| d.format("%d/%m/%Y").to_string()),
        })).collect::<Vec<_>>(),
        "errors": preview.errors(),
        "new_organisations": preview.sheet.new_organisations,
        "refusal": preview.refusal(),
    })
}

#[get("/awards/history/<id>")]
async fn show(id: i64, user: &CurrentUser, page: Page<'_>, db: &Db, state: &State<AppState>) -> AppResult<Template> {
    let (row, preview) = award_history::show(state.ctx(db), &user.acting(), id).await?;
    let summary: Value = serde_json::from_str(&row.summary_json).unwrap_or(Value::Null);
    Ok(page.render(
        "award_history/show",
        json!({
            "title": format!("Award history: {}", row.file_name),
            "section": "assessments",
            "import": {"id": row.id, "file_name": row.file_name, "state": row.state, "actor": row.actor_label,
                "created_at": crate::clock::display(row.created_at), "summary": summary,
                "create_organisations": row.create_organisations, "with_certificates": row.with_certificates},
            "preview": preview.as_ref().map(preview_context),
        }),
    ))
}

#[post("/awards/history/<id>/commit", data = "<_form>")]
async fn commit(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    let back = Redirect::to(format!("{PAGE}/{id}"));
    Ok(match award_history::commit(state.ctx(db), &user.acting(), id).await? {
        Ok(outcome) => Flash::success(
            back,
            format!(
                "{} awards imported; {} organisations added; {} certificates issued.",
                outcome.awards, outcome.organisations_created, outcome.certificates
            ),
        ),
        Err(refusal) => Flash::error(back, refusal),
    })
}

#[post("/awards/history/<id>/undo", data = "<_form>")]
async fn undo(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    award_history::undo(state.ctx(db), &user.acting(), id).await?;
    Ok(Flash::success(
        Redirect::to(format!("{PAGE}/{id}")),
        "The import has been undone: its awards, their certificates and the organisations it added are gone.",
    ))
}

#[post("/awards/history/<id>/discard", data = "<_form>")]
async fn discard(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    award_history::discard(state.ctx(db), &user.acting(), id).await?;
    Ok(Flash::success(
        Redirect::to(PAGE),
        "The upload has been discarded; nothing was imported.",
    ))
}
