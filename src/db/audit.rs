//! The audit log: every change, who made it and when, with before and after.

use sqlx::AnyConnection;

/// Who did something: a signed-in user, or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn user(user_id: i64, email: &str) -> Self {
        Self {
            user_id: Some(user_id),
            label: email.to_string(),
        }
    }

    pub fn command_line(command: &str) -> Self {
        Self {
            user_id: None,
            label: format!("command line ({command})"),
        }
    }
}

pub struct Entry<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

/// Written in the same transaction as the change it describes, so the log
/// and the data cannot disagree.
pub async fn record(conn: &mut AnyConnection, at: &str, actor: &Actor, entry: Entry<'_>) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor_user_id, actor_label, action, entity, entity_id, organisation_id, before_json, after_json)
         VALUES ($1, NULLIF($2, 0), $3, $4, $5, NULLIF($6, 0), NULLIF($7, 0), NULLIF($8, ''), NULLIF($9, ''))",
    )
    .bind(at)
    .bind(super::id_or_zero(actor.user_id))
    .bind(&actor.label)
    .bind(entry.action)
    .bind(entry.entity)
    .bind(super::id_or_zero(entry.entity_id))
    .bind(super::id_or_zero(entry.organisation_id))
    .bind(entry.before.map(|v| v.to_string()).unwrap_or_default())
    .bind(entry.after.map(|v| v.to_string()).unwrap_or_default())
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: String,
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    #[sqlx(try_from = "super::Nullable<i64>")]
    pub entity_id: Option<i64>,
    #[sqlx(try_from = "super::Nullable<String>")]
    pub before_json: Option<String>,
    #[sqlx(try_from = "super::Nullable<String>")]
    pub after_json: Option<String>,
}

pub async fn recent(pool: &sqlx::AnyPool, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    sqlx::query_as(
        "SELECT id, at, actor_label, action, entity, entity_id, before_json, after_json
         FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(pool)
    .await
}
