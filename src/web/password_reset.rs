//! Forgotten passwords. The programme lead (or `qmtrack user reset-password`)
//! makes a one-time link for someone; it is shown once, to be passed on in
//! person or by phone, and stops working when used, when a newer link is made
//! or after [`LINK_HOURS`]. No email is sent: the service has no mail server.

use super::csrf::{CsrfForm, TokenOnly};
use super::templates::Template;
use super::{FormOutcome, Page, SignedIn, Visitor};
use crate::clock::display;
use crate::db::audit::{self, Entry};
use crate::db::password_resets::{self, NewReset};
use crate::db::{sessions, users};
use crate::domain::user::check_password;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use crate::security::{random_token, sha256_hex};
use chrono::{DateTime, Duration, Utc};
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route};
use serde_json::json;

/// Long enough to reach someone by phone the next working day.
pub const LINK_HOURS: i64 = 48;

pub fn routes() -> Vec<Route> {
    routes![make_link, reset_page, reset]
}

/// A new link for `user`, replacing any earlier one, with its audit entry.
/// Returns the link and when it expires.
pub async fn create_link(
    pool: &crate::db::Pool,
    public_base_url: &str,
    now: DateTime<Utc>,
    user: &users::UserRow,
    actor: &audit::Actor,
) -> AppResult<(String, DateTime<Utc>)> {
    let token = random_token();
    let expires = now + Duration::hours(LINK_HOURS);
    let mut tx = crate::db::begin_write(pool).await?;
    let id = password_resets::create(
        &mut tx,
        NewReset {
            user_id: user.id,
            token_hash: &sha256_hex(&token),
            now,
            expires_at: expires,
            created_by: &actor.label,
        },
    )
    .await?;
    let entry = Entry::user("user.password_reset_link", user.id, user.organisation_id)
        .after(json!({"reset_id": id, "expires_at": expires}));
    audit::record(&mut tx, actor.at(now), entry).await?;
    tx.commit().await?;
    let link = format!("{}/reset-password/{token}", public_base_url.trim_end_matches('/'));
    Ok((link, expires))
}

#[post("/users/<id>/reset-password", data = "<_form>")]
async fn make_link(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, state) = signed_in;
    user.require(|a| a.can_manage_users())?;
    let account = users::find(db, id).await?.ok_or(AppError::NotFound)?;
    if !account.active {
        return Err(AppError::BadRequest(format!(
            "{} is deactivated: reactivate the account first",
            account.name
        )));
    }
    let (link, expires) = create_link(
        db,
        &state.config.public_base_url,
        state.clock.now(),
        &account,
        &user.audit_actor(),
    )
    .await?;
    Ok(page.render(
        "users/reset_link",
        json!({"title": format!("Password reset link for {}", account.name), "section": "users",
            "account": {"id": account.id, "name": account.name, "email": account.email},
            "link": link, "expires": display(expires)}),
    ))
}

fn link_gone(page: &Page<'_>) -> (Status, Template) {
    (
        Status::NotFound,
        page.render("auth/reset_gone", json!({"title": "This link no longer works"})),
    )
}

#[get("/reset-password/<token>")]
async fn reset_page(token: &str, visitor: Visitor<'_>) -> AppResult<(Status, Template)> {
    let Visitor(page, db, state) = visitor;
    let mut conn = db.acquire().await?;
    if password_resets::find_usable(&mut conn, &sha256_hex(token), state.clock.now())
        .await?
        .is_none()
    {
        return Ok(link_gone(&page));
    }
    Ok((
        Status::Ok,
        page.render("auth/reset", json!({"title": "Choose a new password", "token": token})),
    ))
}

#[derive(FromForm)]
pub struct ResetForm {
    #[field(default = String::new())]
    password: String,
    #[field(default = String::new())]
    password_confirm: String,
}

#[post("/reset-password/<token>", data = "<form>")]
async fn reset(token: &str, form: CsrfForm<ResetForm>, visitor: Visitor<'_>) -> AppResult<FormOutcome> {
    let Visitor(page, db, state) = visitor;
    let token_hash = sha256_hex(token);
    {
        let mut conn = db.acquire().await?;
        if password_resets::find_usable(&mut conn, &token_hash, state.clock.now())
            .await?
            .is_none()
        {
            return Ok(Err(link_gone(&page)));
        }
    }
    let form = form.0;
    let mut errors = FieldErrors::default();
    check_password(&mut errors, &form.password, &form.password_confirm);
    if !errors.is_empty() {
        let context = json!({"title": "Choose a new password", "token": token});
        return Ok(Err(page.render_errors("auth/reset", &errors, context)));
    }
    let hash = super::auth::hash_off_thread(form.password).await?;
    let now = state.clock.now();
    let mut tx = crate::db::begin_write(db).await?;
    // Checked again inside the transaction: the link may have been used or
    // replaced while the password was being hashed.
    let Some((reset_id, user_id)) = password_resets::find_usable(&mut tx, &token_hash, now).await? else {
        return Ok(Err(link_gone(&page)));
    };
    if !password_resets::use_up(&mut tx, reset_id, now).await? {
        return Ok(Err(link_gone(&page)));
    }
    let account = users::find_in(&mut tx, user_id).await?.ok_or(AppError::NotFound)?;
    users::set_password(&mut tx, user_id, &hash, now).await?;
    // Whoever was signed in with the old password is signed out.
    sessions::revoke_all_for_user(&mut tx, user_id, now).await?;
    let entry =
        Entry::user("user.password_reset", user_id, account.organisation_id).after(json!({"reset_id": reset_id}));
    let by = audit::Actor::user(user_id, &account.email);
    audit::record(&mut tx, by.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(Flash::success(
        Redirect::to("/login"),
        "Your new password is set. Sign in with it now.",
    )))
}
