//! People in an organisation: add and edit.

use super::auth::CurrentUser;
use super::csrf::CsrfForm;
use super::templates::Template;
use super::{FormOutcome, SignedIn};
use crate::db::{organisations, people, Db};
use crate::domain::person::{PersonDetails, PersonInput};
use crate::error::{AppError, AppResult};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route};
use serde_json::json;

pub fn routes() -> Vec<Route> {
    routes![new_page, create, edit_page, update]
}

#[derive(FromForm)]
pub struct PersonForm {
    full_name: String,
    email: String,
    job_title: String,
    /// Older pages and scripts may not send it.
    #[field(default = String::new())]
    staff_category: String,
}

impl From<PersonForm> for PersonInput {
    fn from(f: PersonForm) -> Self {
        PersonInput {
            full_name: f.full_name,
            email: f.email,
            job_title: f.job_title,
            staff_category: f.staff_category,
        }
    }
}

/// What the form shows again after a problem.
fn echo(input: &PersonInput) -> serde_json::Value {
    json!({"full_name": input.full_name, "email": input.email, "job_title": input.job_title,
        "staff_category": input.staff_category})
}

/// The organisation's name, if this user may change its people. An
/// organisation the user cannot see is "not found"; one they can see but
/// not change is "forbidden".
async fn editable_org(db: &Db, user: &CurrentUser, organisation_id: i64) -> AppResult<String> {
    let actor = user.actor();
    if !actor.can_view_organisation(organisation_id) {
        return Err(AppError::NotFound);
    }
    let org = organisations::find(db, organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    user.require(|a| a.can_edit_people_of(organisation_id))?;
    Ok(org.name)
}

fn form_context(
    state: &crate::app::AppState,
    org_id: i64,
    org_name: &str,
    title: &str,
    action: String,
    values: serde_json::Value,
) -> serde_json::Value {
    let categories = crate::domain::training_requirement::categories_in_use(&state.standards);
    let mut category_hint =
        "A group such as frontline, clinician or manager: a framework can ask for training among the staff of one category".to_string();
    if !categories.is_empty() {
        category_hint.push_str(&format!(" (the frameworks use: {})", categories.join(", ")));
    }
    category_hint.push('.');
    json!({"title": title, "section": "organisations", "organisation_id": org_id,
        "organisation_name": org_name, "action": action, "values": values, "category_hint": category_hint})
}

#[get("/organisations/<org_id>/people/new")]
async fn new_page(org_id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    let org_name = editable_org(db, user, org_id).await?;
    Ok(page.render(
        "people/form",
        form_context(
            state,
            org_id,
            &org_name,
            "Add a person",
            format!("/organisations/{org_id}/people"),
            json!({}),
        ),
    ))
}

#[post("/organisations/<org_id>/people", data = "<form>")]
async fn create(org_id: i64, form: CsrfForm<PersonForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
    let org_name = editable_org(db, user, org_id).await?;
    let input = PersonInput::from(form.0);
    let person = match PersonDetails::try_from(&input) {
        Ok(person) => person,
        Err(errors) => {
            let values = echo(&input);
            let context = form_context(
                state,
                org_id,
                &org_name,
                "Add a person",
                format!("/organisations/{org_id}/people"),
                values,
            );
            return Ok(Err(page.render_errors("people/form", &errors, context)));
        }
    };
    crate::app::organisations::add_person(state.ctx(db), &user.acting(), org_id, &person).await?;
    Ok(Ok(Flash::success(
        Redirect::to(format!("/organisations/{org_id}")),
        format!("{} has been added.", person.full_name),
    )))
}

async fn editable_person(db: &Db, user: &CurrentUser, id: i64) -> AppResult<(people::PersonRow, String)> {
    let person = people::find(db, id).await?.ok_or(AppError::NotFound)?;
    let org_name = editable_org(db, user, person.organisation_id).await?;
    Ok((person, org_name))
}

#[get("/people/<id>/edit")]
async fn edit_page(id: i64, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    let (person, org_name) = editable_person(db, user, id).await?;
    let title = format!("Edit {}", person.full_name);
    Ok(page.render(
        "people/form",
        form_context(
            state,
            person.organisation_id,
            &org_name,
            &title,
            format!("/people/{id}/edit"),
            json!({"full_name": person.full_name, "email": person.email, "job_title": person.job_title,
                "staff_category": person.staff_category.clone().unwrap_or_default()}),
        ),
    ))
}

#[post("/people/<id>/edit", data = "<form>")]
async fn update(id: i64, form: CsrfForm<PersonForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
    let (before, org_name) = editable_person(db, user, id).await?;
    let org_id = before.organisation_id;
    let input = PersonInput::from(form.0);
    let person = match PersonDetails::try_from(&input) {
        Ok(person) => person,
        Err(errors) => {
            let values = echo(&input);
            let title = format!("Edit {}", before.full_name);
            let context = form_context(state, org_id, &org_name, &title, format!("/people/{id}/edit"), values);
            return Ok(Err(page.render_errors("people/form", &errors, context)));
        }
    };
    crate::app::organisations::update_person(state.ctx(db), &user.acting(), &before, &person).await?;
    Ok(Ok(Flash::success(
        Redirect::to(format!("/organisations/{org_id}")),
        format!("{}'s details have been saved.", person.full_name),
    )))
}
