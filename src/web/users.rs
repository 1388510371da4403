//! User administration, for the programme lead: add, change role, deactivate.

use super::auth::CurrentUser;
use super::csrf::CsrfForm;
use super::organisation_pick::{pick, OrganisationPick};
use super::templates::Template;
use super::{page_offset, FormOutcome, Page, SignedIn, PAGE_SIZE};
use crate::app::accounts::{self, CreateUserRefused};
use crate::db::{organisation_search, users, Db};
use crate::domain::access::Role;
use crate::domain::user::{check_role_and_organisation, NewUser, NewUserInput};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![list, new_page, create, show, change_role, set_active]
}

fn role_options() -> Vec<Value> {
    Role::ALL
        .iter()
        .map(|r| json!({"value": r.as_str(), "label": r.label(), "description": r.description()}))
        .collect()
}

/// The organisation field as a user's account has it.
async fn organisation_of(db: &Db, account: &users::UserRow) -> AppResult<OrganisationPick> {
    Ok(match account.organisation_id {
        Some(id) => organisation_search::name_of(db, id)
            .await?
            .map_or_else(OrganisationPick::default, |name| OrganisationPick::chosen(id, name)),
        None => OrganisationPick::default(),
    })
}

#[get("/users?<page>")]
async fn list(page: Option<i64>, user: &CurrentUser, view: Page<'_>, db: &Db) -> AppResult<Template> {
    user.require(|a| a.can_manage_users())?;
    let (number, offset) = page_offset(page);
    let (accounts, total) = users::list(db, PAGE_SIZE, offset).await?;
    let rows: Vec<_> = accounts
        .iter()
        .map(|u| {
            let mut row = json!(u);
            row["role_label"] = json!(u.role.label());
            row
        })
        .collect();
    Ok(view.render(
        "users/list",
        json!({"title": "Users", "section": "users", "users": rows, "total": total, "page": number,
            "pages": (total + PAGE_SIZE - 1) / PAGE_SIZE, "pager_href": "/users?"}),
    ))
}

#[derive(FromForm)]
pub struct NewUserForm {
    name: String,
    email: String,
    #[field(default = String::new())]
    role: String,
    organisation_id: String,
    password: String,
    password_confirm: String,
}

#[get("/users/new")]
async fn new_page(user: &CurrentUser, page: Page<'_>) -> AppResult<Template> {
    user.require(|a| a.can_manage_users())?;
    Ok(page.render(
        "users/new",
        json!({"title": "Add a user", "section": "users", "roles": role_options(),
            "organisation": OrganisationPick::default(), "values": {}}),
    ))
}

#[post("/users", data = "<form>")]
async fn create(form: CsrfForm<NewUserForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
    user.require(|a| a.can_manage_users())?;
    let form = form.0;
    let organisation = pick(db, &form.organisation_id).await?;
    let input = NewUserInput {
        name: form.name,
        email: form.email,
        role: form.role,
        organisation_id: organisation.id,
        password: form.password,
        password_confirm: form.password_confirm,
    };
    let context = json!({"title": "Add a user", "section": "users", "roles": role_options(),
        "organisation": organisation,
        "values": {"name": input.name, "email": input.email, "role": input.role}});
    let mut new_user = NewUser::try_from(&input);
    if let Some(message) = &organisation.error {
        // What was typed picked no organisation: say so rather than that
        // an organisation member needs one.
        let mut errors = new_user.err().unwrap_or_default();
        errors.0.retain(|e| e.field != "organisation_id");
        errors.add("organisation_id", message.clone());
        new_user = Err(errors);
    }
    if let Ok(valid) = &new_user {
        let mut errors = FieldErrors::default();
        if users::find_by_email(db, &valid.email).await?.is_some() {
            errors.add(
                "email",
                format!("There is already a user with the email {}", valid.email),
            );
        }
        if !errors.is_empty() {
            new_user = Err(errors);
        }
    }
    let new_user = match new_user {
        Ok(new_user) => new_user,
        Err(errors) => return Ok(Err(page.render_errors("users/new", &errors, context))),
    };
    if let Err(CreateUserRefused::EmailTaken(email)) =
        accounts::add_user(state.ctx(db), &user.acting(), &new_user).await?
    {
        let mut errors = FieldErrors::default();
        errors.add("email", format!("There is already a user with the email {email}"));
        return Ok(Err(page.render_errors("users/new", &errors, context)));
    }
    Ok(Ok(Flash::success(
        Redirect::to("/users"),
        format!(
            "{} can now sign in as {}.",
            new_user.name,
            new_user.role.label().to_lowercase()
        ),
    )))
}

async fn managed_user(db: &Db, id: i64) -> AppResult<users::UserRow> {
    users::find(db, id).await?.ok_or(AppError::NotFound)
}

#[get("/users/<id>")]
async fn show(id: i64, user: &CurrentUser, page: Page<'_>, db: &Db) -> AppResult<Template> {
    user.require(|a| a.can_manage_users())?;
    let account = managed_user(db, id).await?;
    let mut row = json!(account);
    row["role_label"] = json!(account.role.label());
    Ok(page.render(
        "users/show",
        json!({"title": account.name, "section": "users", "account": row, "roles": role_options(),
            "organisation": organisation_of(db, &account).await?, "is_self": account.id == user.user.id,
            "reset_link_hours": super::password_reset::LINK_HOURS}),
    ))
}

#[derive(FromForm)]
pub struct RoleForm {
    #[field(default = String::new())]
    role: String,
    organisation_id: String,
}

#[post("/users/<id>/role", data = "<form>")]
async fn change_role(id: i64, form: CsrfForm<RoleForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
    user.require(|a| a.can_manage_users())?;
    let account = managed_user(db, id).await?;
    let mut errors = FieldErrors::default();
    let organisation = pick(db, &form.0.organisation_id).await?;
    let (role, organisation_id) = check_role_and_organisation(&mut errors, &form.0.role, organisation.id);
    if let Some(message) = &organisation.error {
        errors.0.retain(|e| e.field != "organisation_id");
        errors.add("organisation_id", message.clone());
    }
    if errors.is_empty()
        && accounts::set_role(state.ctx(db), &user.acting(), &account, role, organisation_id)
            .await?
            .is_err()
    {
        errors.add(
            "role",
            "This is the only active programme lead. Make someone else programme lead first.",
        );
    }
    if !errors.is_empty() {
        let mut row = json!(account);
        row["role_label"] = json!(account.role.label());
        let context = json!({"title": account.name, "section": "users", "account": row, "roles": role_options(),
            "organisation": organisation, "is_self": account.id == user.user.id,
            "reset_link_hours": super::password_reset::LINK_HOURS});
        return Ok(Err(page.render_errors("users/show", &errors, context)));
    }
    Ok(Ok(Flash::success(
        Redirect::to(format!("/users/{id}")),
        format!("{} is now {}.", account.name, role.label().to_lowercase()),
    )))
}

#[derive(FromForm)]
pub struct ActiveForm {
    active: bool,
}

#[post("/users/<id>/active", data = "<form>")]
async fn set_active(id: i64, form: CsrfForm<ActiveForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    user.require(|a| a.can_manage_users())?;
    let account = managed_user(db, id).await?;
    let active = form.0.active;
    let back = Redirect::to(format!("/users/{id}"));
    if accounts::set_active(state.ctx(db), &user.acting(), &account, active)
        .await?
        .is_err()
    {
        return Ok(Flash::error(
            back,
            "This is the only active programme lead, so the account cannot be deactivated.",
        ));
    }
    let message = if active {
        format!("{} can sign in again.", account.name)
    } else {
        format!(
            "{} has been deactivated, signed out everywhere, and their API tokens revoked.",
            account.name
        )
    };
    Ok(Flash::success(back, message))
}
