//! `qmtrack token create`: an API token for scripts.

use crate::app::{accounts, Acting};
use crate::db::users;
use crate::error::StartupError;

pub async fn create(email: &str, label: &str) -> Result<(), StartupError> {
    let (state, pool) = super::open_app("token").await?;
    let user = users::find_by_email(&pool, email)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| StartupError::Refused(format!("there is no active user with the email {email}")))?;
    let token = accounts::create_token(state.ctx(&pool), &Acting::command_line("token create"), &user, label).await?;
    println!("{token}");
    eprintln!(
        "API token for {} ({}). It is shown only this once; keep it safe.",
        user.email,
        user.role.label()
    );
    Ok(())
}
