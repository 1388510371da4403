//! Accounts: adding users, changing roles, deactivating, passwords and API
//! tokens. Signing in and sessions are in `web::auth`.

use super::{Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::users::UserRow;
use crate::db::{self, sessions, tokens, users};
use crate::domain::access::Role;
use crate::domain::user::NewUser;
use crate::error::{AppError, AppResult};
use serde_json::json;

/// Hashing is deliberately slow, so it runs off the async threads.
pub async fn hash_off_thread(password: String) -> AppResult<String> {
    rocket::tokio::task::spawn_blocking(move || crate::security::hash_password(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)
}

/// Why a user was not added.
#[derive(Debug)]
pub enum CreateUserRefused {
    EmailTaken(String),
    /// Only the first user may be made this way, and there is one already.
    NotFirst,
}

/// Adds a user. With `only_if_first`, only while there are no users at all
/// (the first-run set-up page), checked inside the transaction so two
/// set-ups at once cannot both succeed.
pub async fn create_user(
    ctx: Ctx<'_>,
    by: &audit::Actor,
    user: &NewUser,
    only_if_first: bool,
) -> AppResult<Result<i64, CreateUserRefused>> {
    let hash = hash_off_thread(user.password.clone()).await?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if only_if_first && users::count_in(&mut tx).await? > 0 {
        return Ok(Err(CreateUserRefused::NotFirst));
    }
    if users::email_taken(&mut tx, &user.email).await? {
        return Ok(Err(CreateUserRefused::EmailTaken(user.email.clone())));
    }
    let id = users::insert(&mut tx, user, &hash, now).await?;
    let entry = Entry::user("user.create", id, user.organisation_id).after(
        json!({"email": user.email, "name": user.name, "role": user.role.as_str(), "organisation_id": user.organisation_id}),
    );
    audit::record(&mut tx, by.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// [`create_user`] for someone who manages users.
pub async fn add_user(ctx: Ctx<'_>, acting: &Acting, user: &NewUser) -> AppResult<Result<i64, CreateUserRefused>> {
    acting.require(|a| a.can_manage_users())?;
    create_user(ctx, &acting.audit, user, false).await
}

/// The only active programme lead cannot stop being one.
#[derive(Debug)]
pub struct LastLead;

/// Whether changing `account` away from programme lead (or deactivating it)
/// would leave nobody able to administer the service.
async fn would_remove_last_lead(conn: &mut db::Conn, account: &UserRow) -> AppResult<bool> {
    if account.role != Role::ProgrammeLead || !account.active {
        return Ok(false);
    }
    Ok(users::other_active_leads(conn, account.id).await? == 0)
}

/// Gives `account` a new role (and organisation); they sign in again.
pub async fn set_role(
    ctx: Ctx<'_>,
    acting: &Acting,
    account: &UserRow,
    role: Role,
    organisation_id: Option<i64>,
) -> AppResult<Result<(), LastLead>> {
    acting.require(|a| a.can_manage_users())?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if role != Role::ProgrammeLead && would_remove_last_lead(&mut tx, account).await? {
        return Ok(Err(LastLead));
    }
    users::set_role(&mut tx, account.id, role, organisation_id, now).await?;
    // A new role means new permissions: make them sign in again.
    sessions::revoke_all_for_user(&mut tx, account.id, now).await?;
    let entry = Entry::user("user.role", account.id, organisation_id)
        .before(json!({"role": account.role, "organisation_id": account.organisation_id}))
        .after(json!({"role": role, "organisation_id": organisation_id}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Deactivates (signing them out everywhere) or reactivates `account`.
pub async fn set_active(
    ctx: Ctx<'_>,
    acting: &Acting,
    account: &UserRow,
    active: bool,
) -> AppResult<Result<(), LastLead>> {
    acting.require(|a| a.can_manage_users())?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !active && would_remove_last_lead(&mut tx, account).await? {
        return Ok(Err(LastLead));
    }
    users::set_active(&mut tx, account.id, active, now).await?;
    if !active {
        // Deactivated means locked out everywhere: browsers and scripts.
        sessions::revoke_all_for_user(&mut tx, account.id, now).await?;
        tokens::revoke_all_for_user(&mut tx, account.id, now).await?;
    }
    let action = if active { "user.reactivate" } else { "user.deactivate" };
    let entry = Entry::user(action, account.id, account.organisation_id)
        .before(json!({"active": account.active}))
        .after(json!({"active": active}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// Changes `user`'s own password and signs out their every session: a
/// changed password should lock out whoever knew the old one. With
/// `revoke_tokens`, their API tokens stop working too (someone who knew the
/// old password may have made one). Returns how many tokens were revoked.
pub async fn change_password(
    ctx: Ctx<'_>,
    acting: &Acting,
    user: &UserRow,
    password: &str,
    revoke_tokens: bool,
) -> AppResult<u64> {
    let hash = hash_off_thread(password.to_string()).await?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    users::set_password(&mut tx, user.id, &hash, now).await?;
    sessions::revoke_all_for_user(&mut tx, user.id, now).await?;
    let tokens_revoked = if revoke_tokens {
        tokens::revoke_all_for_user(&mut tx, user.id, now).await?
    } else {
        0
    };
    let entry = Entry::user("user.password", user.id, user.organisation_id)
        .after(json!({"api_tokens_revoked": tokens_revoked}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(tokens_revoked)
}

/// A new API token for `user` (shown once; only its hash is kept).
pub async fn create_token(ctx: Ctx<'_>, acting: &Acting, user: &UserRow, label: &str) -> AppResult<String> {
    if !user.active {
        return Err(AppError::BadRequest(format!(
            "{} is deactivated, so cannot have a token",
            user.email
        )));
    }
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let (id, token) = tokens::issue(&mut tx, user.id, label, now).await?;
    let entry = Entry::of("api_token.create", "api_token", Some(id))
        .within(user.organisation_id)
        .after(json!({"label": label, "user_id": user.id}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(token)
}

/// Revokes one of `user`'s own tokens ("not found" for anyone else's).
pub async fn revoke_token(ctx: Ctx<'_>, acting: &Acting, user: &UserRow, token_id: i64) -> AppResult<()> {
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !tokens::revoke(&mut tx, user.id, token_id, now).await? {
        return Err(AppError::NotFound);
    }
    let entry = Entry::of("api_token.revoke", "api_token", Some(token_id)).within(user.organisation_id);
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(())
}
