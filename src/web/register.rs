//! The public register of award holders (`/register`, with `.csv` and
//! `.json`), open to anyone, and the organisation page's panel where its
//! members opt out and the programme lead hides a listing.

use super::auth::CurrentUser;
use super::csrf::CsrfForm;
use super::reports::{attachment, ReportFile};
use super::templates::Template;
use super::{AppState, Page, SignedIn};
use crate::app::register::{self as workflow, ListingChange};
use crate::db::{organisations, register as rows, Db};
use crate::domain::register::{csv, FrameworkHolders};
use crate::error::{AppError, AppResult};
use rocket::response::{Flash, Redirect};
use rocket::serde::json::Json;
use rocket::{get, post, routes, FromForm, Route, State};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![page, as_csv, as_json, set_listed, hide, show]
}

fn page_view(register: &[FrameworkHolders]) -> Vec<Value> {
    register
        .iter()
        .map(|framework| {
            json!({
                "id": framework.framework_id,
                "name": framework.framework_name,
                "holders": framework.holders.iter().map(|h| json!({
                    "organisation": h.organisation,
                    "locality": h.locality,
                    "awarded": h.awarded_display(),
                    "expires": h.expires_display(),
                    "verify_url": h.verify_url,
                })).collect::<Vec<_>>(),
            })
        })
        .collect()
}

/// `GET /register`: who holds each framework's award today.
#[get("/register")]
async fn page(view: Page<'_>, db: &Db, state: &State<AppState>) -> AppResult<Template> {
    let register = workflow::current(state.ctx(db)).await?;
    Ok(view.render(
        "register/list",
        json!({
            "title": "Register of Quality Mark holders",
            "frameworks": page_view(&register),
            "today": crate::domain::dates::uk_date(state.clock.today()),
        }),
    ))
}

#[get("/register.csv")]
async fn as_csv(db: &Db, state: &State<AppState>) -> AppResult<ReportFile> {
    let register = workflow::current(state.ctx(db)).await?;
    let body = csv(&register).map_err(AppError::internal)?;
    let file_name = format!("quality-mark-register-{}.csv", state.clock.today());
    Ok(attachment(body, "text/csv; charset=utf-8", file_name))
}

#[get("/register.json")]
async fn as_json(db: &Db, state: &State<AppState>) -> AppResult<Json<Value>> {
    let register = workflow::current(state.ctx(db)).await?;
    Ok(Json(json!({"as_of": state.clock.today(), "frameworks": register})))
}

/// The organisation page's panel: whether it is listed and why not, with
/// the controls this user may use. Empty for those who may not see it.
pub async fn organisation_panel(
    conn: &mut crate::db::Conn,
    user: &CurrentUser,
    organisation_id: i64,
) -> AppResult<Value> {
    let actor = user.actor();
    if !actor.can_view_assessments_of(organisation_id) {
        return Ok(Value::Null);
    }
    let choice = rows::choice(conn, organisation_id).await?;
    Ok(json!({
        "opted_out": choice.opted_out,
        "hidden": choice.hidden,
        "hidden_reason": choice.hidden_reason,
        "can_opt_out": actor.can_edit_organisation(organisation_id),
        "can_hide": actor.is_programme_lead(),
    }))
}

async fn organisation(db: &Db, user: &CurrentUser, id: i64) -> AppResult<organisations::OrganisationRow> {
    if !user.actor().can_view_organisation(id) {
        return Err(AppError::NotFound);
    }
    organisations::find(db, id).await?.ok_or(AppError::NotFound)
}

async fn apply(id: i64, change: ListingChange, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    let org = organisation(db, user, id).await?;
    let back = Redirect::to(format!("/organisations/{id}#register"));
    let message = match &change {
        ListingChange::Listed(true) => format!(
            "{} will be listed on the public register while it holds an award.",
            org.name
        ),
        ListingChange::Listed(false) => format!("{} will not be listed on the public register.", org.name),
        ListingChange::Hide { .. } => format!("{}'s listing is hidden from the public register.", org.name),
        ListingChange::Show => format!("{}'s listing is no longer hidden.", org.name),
    };
    match workflow::change_listing(state.ctx(db), &user.acting(), &org, change).await? {
        Ok(()) => Ok(Flash::success(back, message)),
        Err(errors) => {
            let why = errors.0.first().map(|e| e.message.clone()).unwrap_or_default();
            Ok(Flash::error(back, why))
        }
    }
}

#[derive(FromForm)]
pub struct ListedForm {
    listed: bool,
}

/// `POST /organisations/<id>/register`: the organisation opts in or out.
#[post("/organisations/<id>/register", data = "<form>")]
async fn set_listed(id: i64, form: CsrfForm<ListedForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    apply(id, ListingChange::Listed(form.0.listed), signed_in).await
}

#[derive(FromForm)]
pub struct HideForm {
    reason: String,
}

/// `POST /organisations/<id>/register/hide`: the programme lead hides it.
#[post("/organisations/<id>/register/hide", data = "<form>")]
async fn hide(id: i64, form: CsrfForm<HideForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    apply(id, ListingChange::Hide { reason: form.0.reason }, signed_in).await
}

/// `POST /organisations/<id>/register/show`: the programme lead shows it again.
#[post("/organisations/<id>/register/show", data = "<_form>")]
async fn show(id: i64, _form: CsrfForm<super::csrf::TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    apply(id, ListingChange::Show, signed_in).await
}
