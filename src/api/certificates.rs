//! Certificates in the API: each with its code and its state today, scoped
//! as the web list is (organisation members see only their own).

use super::ApiUser;
use crate::db::certificates::{self, Filter};
use crate::db::Db;
use crate::domain::access::OrgScope;
use crate::error::AppResult;
use crate::web::AppState;
use rocket::serde::json::Json;
use rocket::{get, State};
use serde_json::{json, Value};

#[get("/certificates?<programme>&<organisation>")]
pub async fn list(
    user: ApiUser,
    db: &Db,
    state: &State<AppState>,
    programme: Option<String>,
    organisation: Option<i64>,
) -> AppResult<Json<Value>> {
    let organisation_id = match user.actor().org_scope() {
        OrgScope::Only(own) => own,
        OrgScope::All => organisation.unwrap_or(0),
    };
    let filter = Filter {
        organisation_id,
        programme_id: programme.as_deref().unwrap_or(""),
        ..Filter::default()
    };
    let today = state.clock.today();
    let rows = certificates::list(db, &filter).await?;
    let items: Vec<Value> = rows
        .iter()
        .map(|row| {
            let state_now = row.state(today);
            let superseded_by = match &state_now {
                crate::domain::certificate::State::Superseded { by } => json!(by),
                _ => Value::Null,
            };
            json!({
                "id": row.id,
                "code": row.code,
                "kind": row.kind,
                "state": state_now.as_str(),
                "holder_name": row.holder_name,
                "title": row.title,
                "organisation_id": row.organisation_id,
                "person_id": row.person_id,
                "programme_id": row.programme_id,
                "issued_on": row.issued_on,
                "expires_on": if row.expires_on.is_empty() { Value::Null } else { json!(row.expires_on) },
                "revoked_at": if row.revoked_at.is_empty() { Value::Null } else { json!(row.revoked_at) },
                "superseded_by": superseded_by,
            })
        })
        .collect();
    Ok(Json(json!({ "certificates": items })))
}
