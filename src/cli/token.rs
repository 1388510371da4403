//! `qmtrack token create`: an API token for scripts.

use crate::clock::to_db;
use crate::db::audit::{self, Entry};
use crate::db::{tokens, users};
use crate::error::AppError;

pub async fn create(email: &str, label: &str) -> Result<(), AppError> {
    let (_, pool) = super::open_database().await?;
    let user = users::find_by_email(&pool, email)
        .await?
        .filter(|u| u.active)
        .ok_or_else(|| AppError::BadRequest(format!("there is no active user with the email {email}")))?;
    let now = to_db(chrono::Utc::now());
    let mut tx = crate::db::begin_write(&pool).await?;
    let (id, token) = tokens::issue(&mut tx, user.id, label, &now).await?;
    audit::record(
        &mut tx,
        &now,
        &audit::Actor::command_line("token create"),
        Entry {
            action: "api_token.create",
            entity: "api_token",
            entity_id: Some(id),
            organisation_id: user.organisation_id,
            before: None,
            after: Some(serde_json::json!({"label": label, "user_id": user.id})),
        },
    )
    .await?;
    tx.commit().await?;
    println!("{token}");
    eprintln!(
        "API token for {} ({}). It is shown only this once; keep it safe.",
        user.email,
        user.role.label()
    );
    Ok(())
}
