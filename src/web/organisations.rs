//! Organisations: list, search, add, view, edit.

use super::auth::CurrentUser;
use super::csrf::CsrfForm;
use super::{page_offset, AppState, Page, PAGE_SIZE};
use crate::db::organisations::{self, OrganisationRow, Search};
use crate::db::{people, users, Db};
use crate::domain::access::OrgScope;
use crate::domain::organisation::{OrgType, OrganisationDetails, OrganisationInput};
use crate::error::{AppError, AppResult};
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![list, new_page, create, show, edit_page, update, add_alias, remove_alias]
}

#[derive(FromForm)]
pub struct OrganisationForm {
    name: String,
    /// Radio buttons send nothing when none is chosen; the page then says "Select…".
    #[field(default = String::new())]
    org_type: String,
    locality: String,
    address: String,
    contact_name: String,
    contact_email: String,
    contact_phone: String,
    da_lead_name: String,
    da_lead_email: String,
}

impl From<OrganisationForm> for OrganisationInput {
    fn from(f: OrganisationForm) -> Self {
        OrganisationInput {
            name: f.name,
            org_type: f.org_type,
            locality: f.locality,
            address: f.address,
            contact_name: f.contact_name,
            contact_email: f.contact_email,
            contact_phone: f.contact_phone,
            da_lead_name: f.da_lead_name,
            da_lead_email: f.da_lead_email,
        }
    }
}

fn type_options() -> Vec<Value> {
    OrgType::ALL
        .iter()
        .map(|t| json!({"value": t.as_str(), "label": t.label()}))
        .collect()
}

fn with_type_label(org: &OrganisationRow) -> Value {
    let mut value = json!(org);
    value["org_type_label"] = json!(OrgType::label_for(&org.org_type));
    value
}

fn input_values(input: &OrganisationInput) -> Value {
    json!({
        "name": input.name, "org_type": input.org_type, "locality": input.locality,
        "address": input.address, "contact_name": input.contact_name,
        "contact_email": input.contact_email, "contact_phone": input.contact_phone,
        "da_lead_name": input.da_lead_name, "da_lead_email": input.da_lead_email,
    })
}

/// The organisation, if this user may see it. Others' organisations are
/// "not found", so ids cannot be probed.
async fn visible(db: &Db, user: &CurrentUser, id: i64) -> AppResult<OrganisationRow> {
    if !user.actor().can_view_organisation(id) {
        return Err(AppError::NotFound);
    }
    organisations::find(db, id).await?.ok_or(AppError::NotFound)
}

#[get("/organisations?<q>&<org_type>&<page>")]
async fn list(
    user: &CurrentUser,
    view: Page<'_>,
    db: &Db,
    q: Option<String>,
    org_type: Option<String>,
    page: Option<i64>,
) -> AppResult<Template> {
    let actor = user.actor();
    let q = q.unwrap_or_default();
    let org_type = org_type.filter(|t| OrgType::parse(t).is_some());
    let (page, offset) = page_offset(page);
    let (rows, total) = organisations::search(
        db,
        &Search {
            scope: actor.org_scope(),
            text: &q,
            org_type: org_type.as_deref(),
            limit: PAGE_SIZE,
            offset,
        },
    )
    .await?;
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    Ok(view.render(
        "organisations/list",
        json!({
            "title": "Organisations",
            "section": "organisations",
            "organisations": rows.iter().map(with_type_label).collect::<Vec<_>>(),
            "total": total,
            "q": q,
            "org_type": org_type,
            "types": type_options(),
            "page": page,
            "pages": pages,
            "can_add": actor.can_add_organisation(),
            "scoped": matches!(actor.org_scope(), OrgScope::Only(_)),
        }),
    ))
}

#[get("/organisations/new")]
async fn new_page(user: &CurrentUser, page: Page<'_>) -> AppResult<Template> {
    user.require(|a| a.can_add_organisation())?;
    Ok(page.render(
        "organisations/form",
        json!({"title": "Add an organisation", "section": "organisations", "types": type_options(), "values": {}, "action": "/organisations"}),
    ))
}

#[post("/organisations", data = "<form>")]
async fn create(
    form: CsrfForm<OrganisationForm>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Result<Flash<Redirect>, (Status, Template)>> {
    user.require(|a| a.can_add_organisation())?;
    let input = OrganisationInput::from(form.0);
    let context = json!({"title": "Add an organisation", "section": "organisations", "types": type_options(),
        "values": input_values(&input), "action": "/organisations"});
    let details = match OrganisationDetails::try_from(&input) {
        Ok(details) => details,
        Err(errors) => return Ok(Err(page.render_errors("organisations/form", &errors, context))),
    };
    let id = match crate::app::organisations::create(state.ctx(db), &user.acting(), &details).await? {
        Ok(id) => id,
        Err(errors) => return Ok(Err(page.render_errors("organisations/form", &errors, context))),
    };
    Ok(Ok(Flash::success(
        Redirect::to(format!("/organisations/{id}")),
        format!("{} has been added.", details.name),
    )))
}

#[get("/organisations/<id>?<q>&<page>")]
async fn show(
    id: i64,
    q: Option<String>,
    page: Option<i64>,
    user: &CurrentUser,
    view: Page<'_>,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Template> {
    let org = visible(db, user, id).await?;
    let actor = user.actor();
    let q = q.unwrap_or_default();
    let (page, offset) = page_offset(page);
    let (staff, matching) = people::for_organisation(db, id, &q, PAGE_SIZE, offset).await?;
    let staff_total = people::count_for_organisation(db, id).await?;
    let people_pages = (matching + PAGE_SIZE - 1) / PAGE_SIZE;
    let accounts: Vec<_> = if actor.can_manage_users() {
        users::list(db)
            .await?
            .into_iter()
            .filter(|u| u.organisation_id == Some(id))
            .collect()
    } else {
        Vec::new()
    };
    Ok(view.render(
        "organisations/show",
        json!({
            "title": org.name,
            "section": "organisations",
            "organisation": with_type_label(&org),
            "people": staff,
            "people_total": staff_total,
            "page": page,
            "pages": people_pages,
            "pager_href": format!("/organisations/{id}?q={}&", url::form_urlencoded::byte_serialize(q.as_bytes()).collect::<String>()),
            "q": q,
            "accounts": accounts,
            "can_edit": actor.can_edit_organisation(id),
            "can_edit_people": actor.can_edit_people_of(id),
            "can_manage_users": actor.can_manage_users(),
            "training": super::training::organisation_summary(db, state, id).await?,
            "aliases": organisations::aliases(db, id).await?.into_iter().map(|(id, alias)| json!({"id": id, "alias": alias})).collect::<Vec<_>>(),
        }),
    ))
}

#[get("/organisations/<id>/edit")]
async fn edit_page(id: i64, user: &CurrentUser, page: Page<'_>, db: &Db) -> AppResult<Template> {
    let org = visible(db, user, id).await?;
    user.require(|a| a.can_edit_organisation(id))?;
    Ok(page.render(
        "organisations/form",
        json!({"title": format!("Edit {}", org.name), "section": "organisations", "types": type_options(),
            "values": org, "action": format!("/organisations/{id}/edit"), "organisation_id": id}),
    ))
}

#[post("/organisations/<id>/edit", data = "<form>")]
async fn update(
    id: i64,
    form: CsrfForm<OrganisationForm>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Result<Flash<Redirect>, (Status, Template)>> {
    let before = visible(db, user, id).await?;
    user.require(|a| a.can_edit_organisation(id))?;
    let input = OrganisationInput::from(form.0);
    let context = json!({"title": format!("Edit {}", before.name), "section": "organisations", "types": type_options(),
        "values": input_values(&input), "action": format!("/organisations/{id}/edit"), "organisation_id": id});
    let details = match OrganisationDetails::try_from(&input) {
        Ok(details) => details,
        Err(errors) => return Ok(Err(page.render_errors("organisations/form", &errors, context))),
    };
    if let Err(errors) = crate::app::organisations::update(state.ctx(db), &user.acting(), &before, &details).await? {
        return Ok(Err(page.render_errors("organisations/form", &errors, context)));
    }
    Ok(Ok(Flash::success(
        Redirect::to(format!("/organisations/{id}")),
        "The organisation's details have been saved.",
    )))
}

#[derive(FromForm)]
pub struct AliasForm {
    alias: String,
}

/// Another name the organisation goes by on sign-in sheets, so imports match it.
#[post("/organisations/<id>/aliases", data = "<form>")]
async fn add_alias(
    id: i64,
    form: CsrfForm<AliasForm>,
    user: &CurrentUser,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Flash<Redirect>> {
    let org = visible(db, user, id).await?;
    user.require(|a| a.can_edit_organisation(id) || a.can_manage_training())?;
    let back = Redirect::to(format!("/organisations/{id}"));
    let mut errors = crate::domain::validation::FieldErrors::default();
    let alias = crate::domain::validation::required(&mut errors, "alias", &form.0.alias, "the other name", 200);
    if !errors.is_empty() {
        return Ok(Flash::error(back, "Enter the other name the organisation goes by."));
    }
    if let Err(message) = crate::app::organisations::add_alias(state.ctx(db), &user.acting(), &org, &alias).await? {
        return Ok(Flash::error(back, message));
    }
    Ok(Flash::success(
        back,
        format!("Sign-in sheets that say “{alias}” will now match {}.", org.name),
    ))
}

#[post("/organisations/<id>/aliases/<alias_id>/remove", data = "<_form>")]
async fn remove_alias(
    id: i64,
    alias_id: i64,
    _form: CsrfForm<super::csrf::TokenOnly>,
    user: &CurrentUser,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Flash<Redirect>> {
    visible(db, user, id).await?;
    user.require(|a| a.can_edit_organisation(id) || a.can_manage_training())?;
    crate::app::organisations::remove_alias(state.ctx(db), &user.acting(), id, alias_id).await?;
    Ok(Flash::success(
        Redirect::to(format!("/organisations/{id}")),
        "The other name has been removed.",
    ))
}
