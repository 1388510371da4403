//! Your own account: password, API tokens and which reminder emails you get.

use super::auth::CurrentUser;
use super::csrf::CsrfForm;
use super::templates::Template;
use super::{FormOutcome, Page, SignedIn};
use crate::db::{tokens, users, Db};
use crate::domain::reminders::Kind;
use crate::domain::user::check_password;
use crate::domain::validation::{self, FieldErrors};
use crate::error::{AppError, AppResult};
use crate::security::verify_password;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![show, change_password, create_token, revoke_token, choose_reminders]
}

async fn account_context(db: &Db, user: &CurrentUser) -> AppResult<Value> {
    let tokens = tokens::for_user(db, user.user.id).await?;
    let off = crate::app::reminders::turned_off(db, user.user.id).await?;
    let reminders: Vec<Value> = Kind::for_role(user.user.role)
        .into_iter()
        .map(|k| json!({"kind": k.as_str(), "label": k.label(), "on": !off.contains(&k)}))
        .collect();
    Ok(json!({"title": "Your account", "section": "account", "tokens": tokens, "reminders": reminders}))
}

#[get("/account")]
async fn show(user: &CurrentUser, page: Page<'_>, db: &Db) -> AppResult<Template> {
    Ok(page.render("account/show", account_context(db, user).await?))
}

#[derive(FromForm)]
pub struct PasswordForm {
    current_password: String,
    password: String,
    password_confirm: String,
    /// Ticked: the user's API tokens stop working too (someone who knew the
    /// old password may have made one).
    revoke_tokens: bool,
}

#[post("/account/password", data = "<form>")]
async fn change_password(form: CsrfForm<PasswordForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, state) = signed_in;
    let form = form.0;
    let mut errors = FieldErrors::default();
    let stored = users::find(db, user.user.id)
        .await?
        .ok_or(AppError::NotFound)?
        .password_hash;
    let current = form.current_password;
    let current_ok = rocket::tokio::task::spawn_blocking(move || verify_password(&current, &stored))
        .await
        .map_err(AppError::internal)?;
    if !current_ok {
        errors.add("current_password", "Your current password is not right");
    }
    check_password(&mut errors, &form.password, &form.password_confirm);
    if !errors.is_empty() {
        return Ok(Err(page.render_errors(
            "account/show",
            &errors,
            account_context(db, user).await?,
        )));
    }
    let tokens_revoked = crate::app::accounts::change_password(
        state.ctx(db),
        &user.acting(),
        &user.user,
        &form.password,
        form.revoke_tokens,
    )
    .await?;
    let message = match tokens_revoked {
        0 => "Your password has been changed. Sign in again with the new password.".to_string(),
        1 => "Your password has been changed and your API token revoked. Sign in again with the new password."
            .to_string(),
        n => format!(
            "Your password has been changed and your {n} API tokens revoked. Sign in again with the new password."
        ),
    };
    Ok(Ok(Flash::success(Redirect::to("/login"), message)))
}

#[derive(FromForm)]
pub struct TokenForm {
    label: String,
}

#[post("/account/tokens", data = "<form>")]
async fn create_token(form: CsrfForm<TokenForm>, signed_in: SignedIn<'_>) -> AppResult<(Status, Template)> {
    let SignedIn(user, page, db, state) = signed_in;
    let mut errors = FieldErrors::default();
    let label = validation::required(&mut errors, "label", &form.0.label, "a name for the token", 100);
    if !errors.is_empty() {
        return Ok(page.render_errors("account/show", &errors, account_context(db, user).await?));
    }
    let token = crate::app::accounts::create_token(state.ctx(db), &user.acting(), &user.user, &label).await?;
    Ok((
        Status::Created,
        page.render(
            "account/token_created",
            json!({"title": "Your new API token", "section": "account", "token": token, "label": label,
                "base_url": state.config.public_base_url}),
        ),
    ))
}

#[post("/account/tokens/<id>/revoke", data = "<_form>")]
async fn revoke_token(
    id: i64,
    _form: CsrfForm<super::csrf::TokenOnly>,
    signed_in: SignedIn<'_>,
) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    crate::app::accounts::revoke_token(state.ctx(db), &user.acting(), &user.user, id).await?;
    Ok(Flash::success(
        Redirect::to("/account"),
        "The token has been revoked and can no longer be used.",
    ))
}

#[derive(FromForm)]
pub struct RemindersForm {
    /// The kinds ticked (sent); the others offered are turned off.
    wanted: Vec<String>,
}

#[post("/account/reminders", data = "<form>")]
async fn choose_reminders(form: CsrfForm<RemindersForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    let wanted: Vec<Kind> = form.0.wanted.iter().filter_map(|k| Kind::parse(k)).collect();
    crate::app::reminders::choose(state.ctx(db), &user.acting(), &user.user, &wanted).await?;
    Ok(Flash::success(
        Redirect::to("/account"),
        "Your choice of reminder emails has been saved.",
    ))
}
