//! Organisations: list, search, add, view, edit.

use super::auth::CurrentUser;
use super::csrf::CsrfForm;
use super::templates::Template;
use super::{choice_options, page_offset, AppState, FormOutcome, Page, SignedIn, PAGE_SIZE};
use crate::db::organisation_status::{self as status_db, StatusQuery, StatusRow};
use crate::db::organisations::{self, OrganisationRow, Search};
use crate::db::{people, users, Db};
use crate::domain::access::OrgScope;
use crate::domain::organisation::{OrgType, OrganisationDetails, OrganisationInput};
use crate::domain::organisation_status::{summarise, AssessmentFact, StatusFilter};
use crate::error::{AppError, AppResult};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route};
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

pub(super) fn type_options() -> Vec<Value> {
    choice_options(&OrgType::ALL, |t| (t.as_str(), t.label()))
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

/// The status of each organisation from its assessments (`facts`, read
/// with the page): organisation id → its status lines.
fn statuses(
    state: &AppState,
    organisation_ids: impl IntoIterator<Item = i64>,
    facts: Vec<StatusRow>,
) -> std::collections::HashMap<i64, Vec<Value>> {
    let facts: Vec<AssessmentFact> = facts
        .into_iter()
        .map(|row: StatusRow| AssessmentFact {
            organisation_id: row.organisation_id,
            framework_name: state
                .standards
                .get(&row.framework_id, &row.framework_version)
                .map_or_else(|| row.framework_id.clone(), |f| f.name.clone()),
            state: row.state,
            expires_on: row.expires_on,
            renewed: row.renewed,
        })
        .collect();
    let today = state.clock.today();
    let mut by_organisation: std::collections::HashMap<i64, Vec<&AssessmentFact>> =
        organisation_ids.into_iter().map(|id| (id, Vec::new())).collect();
    for fact in &facts {
        by_organisation.entry(fact.organisation_id).or_default().push(fact);
    }
    by_organisation
        .into_iter()
        .map(|(id, own)| {
            let lines = summarise(&own, today, state.config.renewal_notice_days);
            (id, lines.into_iter().map(|l| json!(l)).collect())
        })
        .collect()
}

fn status_options() -> Vec<Value> {
    choice_options(&StatusFilter::ALL, |s| (s.as_str(), s.label()))
}

#[get("/organisations?<q>&<org_type>&<status>&<page>")]
async fn list(
    signed_in: SignedIn<'_>,
    q: Option<String>,
    org_type: Option<String>,
    status: Option<String>,
    page: Option<i64>,
) -> AppResult<Template> {
    let SignedIn(user, view, db, state) = signed_in;
    let actor = user.actor();
    let q = q.unwrap_or_default();
    let org_type = org_type.filter(|t| OrgType::parse(t).is_some());
    // Training leads do not see assessments, so neither their status.
    let show_status = actor.can_view_assessments();
    let status = status.as_deref().and_then(StatusFilter::parse).filter(|_| show_status);
    let (page, offset) = page_offset(page);
    let today = state.clock.today();
    let due_by = today
        .checked_add_days(chrono::Days::new(state.config.renewal_notice_days))
        .unwrap_or(today);
    let (rows, total, facts) = status_db::search(
        db,
        &Search {
            scope: actor.org_scope(),
            text: &q,
            org_type: org_type.as_deref(),
            limit: PAGE_SIZE,
            offset,
        },
        &StatusQuery {
            status: status.map_or("", StatusFilter::as_str),
            today,
            due_by,
        },
        show_status,
    )
    .await?;
    let mut by_id = if show_status {
        statuses(state, rows.iter().map(|o| o.id), facts)
    } else {
        Default::default()
    };
    let listed: Vec<Value> = rows
        .iter()
        .map(|org| {
            let mut value = with_type_label(org);
            value["status"] = json!(by_id.remove(&org.id).unwrap_or_default());
            value
        })
        .collect();
    let pages = (total + PAGE_SIZE - 1) / PAGE_SIZE;
    Ok(view.render(
        "organisations/list",
        json!({
            "title": "Organisations",
            "section": "organisations",
            "organisations": listed,
            "total": total,
            "q": q,
            "org_type": org_type,
            "types": type_options(),
            "show_status": show_status,
            "status": status.map(StatusFilter::as_str),
            "statuses": status_options(),
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
async fn create(form: CsrfForm<OrganisationForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
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
async fn show(id: i64, q: Option<String>, page: Option<i64>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, view, db, state) = signed_in;
    let actor = user.actor();
    if !actor.can_view_organisation(id) {
        return Err(AppError::NotFound);
    }
    let q = q.unwrap_or_default();
    let (page, offset) = page_offset(page);
    // Every read on one connection, one after another (the access check
    // above needs none). Each takes a fraction of a millisecond; on a busy
    // server each wait for a connection's turn takes longer than all of them
    // together, and read at once on a dozen connections, the page waited for
    // the slowest of a dozen turns (twice the time of any other page).
    let can_view_assessments = actor.can_view_assessments_of(id);
    let mut conn = db.acquire().await?;
    let conn = &mut conn;
    let org = organisations::find_in(conn, id).await?.ok_or(AppError::NotFound)?;
    let (staff, matching) = people::for_organisation_in(conn, id, &q, PAGE_SIZE, offset).await?;
    let staff_total = people::count_for_organisation_in(conn, id).await?;
    let accounts = if actor.can_manage_users() {
        users::of_organisation_in(conn, id).await?
    } else {
        Vec::new()
    };
    let (assessments, status) = if can_view_assessments {
        let cards = super::home::assessment_cards(conn, user, db, state, id).await?;
        let facts = status_db::facts_of_in(conn, id).await?;
        let mut statuses = statuses(state, [id], facts);
        (cards, statuses.remove(&id).unwrap_or_default())
    } else {
        (Vec::new(), Vec::new())
    };
    let certificates = super::home::certificates_json(conn, state, id, can_view_assessments).await?;
    let training = super::training::organisation_summary(conn, state, id).await?;
    let register = super::register::organisation_panel(conn, user, id).await?;
    let aliases = organisations::aliases_in(conn, id).await?;
    let people_pages = (matching + PAGE_SIZE - 1) / PAGE_SIZE;
    Ok(view.render(
        "organisations/show",
        json!({
            "title": org.name,
            "can_view_assessments": can_view_assessments,
            "can_enrol": actor.can_work_on_assessments_of(id),
            "assessments": assessments,
            "status": status,
            "certificates": certificates,
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
            "training": training,
            "register": register,
            "aliases": aliases.into_iter().map(|(id, alias)| json!({"id": id, "alias": alias})).collect::<Vec<_>>(),
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
async fn update(id: i64, form: CsrfForm<OrganisationForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
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
async fn add_alias(id: i64, form: CsrfForm<AliasForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
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
    signed_in: SignedIn<'_>,
) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    visible(db, user, id).await?;
    user.require(|a| a.can_edit_organisation(id) || a.can_manage_training())?;
    crate::app::organisations::remove_alias(state.ctx(db), &user.acting(), id, alias_id).await?;
    Ok(Flash::success(
        Redirect::to(format!("/organisations/{id}")),
        "The other name has been removed.",
    ))
}
