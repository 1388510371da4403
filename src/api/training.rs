//! Training in the API: programmes, sessions with their registers, and
//! completions, scoped by role exactly as the web pages are.

use super::ApiUser;
use crate::db::{training, Db};
use crate::domain::access::OrgScope;
use crate::error::{AppError, AppResult};
use crate::web::training::{completions_by_person, module_title};
use crate::web::AppState;
use rocket::serde::json::Json;
use rocket::{get, State};
use serde_json::{json, Value};

#[get("/programmes")]
pub fn programmes(_user: ApiUser, state: &State<AppState>) -> Json<Value> {
    Json(json!({ "programmes": state.programmes.all() }))
}

fn staff_only(user: &ApiUser) -> AppResult<()> {
    if user.0.actor().can_view_all_training() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[get("/sessions?<programme>")]
pub async fn sessions(
    user: ApiUser,
    db: &Db,
    state: &State<AppState>,
    programme: Option<String>,
) -> AppResult<Json<Value>> {
    staff_only(&user)?;
    let rows = training::sessions(db, programme.as_deref().unwrap_or(""), 1000, 0).await?;
    let sessions: Vec<Value> = rows
        .into_iter()
        .map(|s| {
            let title = module_title(state, &s.programme_id, &s.module_id);
            let mut value = json!(s);
            value["module_title"] = json!(title);
            value
        })
        .collect();
    Ok(Json(json!({ "sessions": sessions })))
}

#[get("/sessions/<id>")]
pub async fn session(user: ApiUser, db: &Db, state: &State<AppState>, id: i64) -> AppResult<Json<Value>> {
    staff_only(&user)?;
    let session = training::session(db, id).await?.ok_or(AppError::NotFound)?;
    let attendance = training::register(db, id).await?;
    let mut value = json!(session);
    value["module_title"] = json!(module_title(state, &session.programme_id, &session.module_id));
    value["attendance"] = json!(attendance);
    Ok(Json(value))
}

/// Each person's standing in one programme; organisation members see only their own staff.
#[get("/completions?<programme>&<organisation>")]
pub async fn completions(
    user: ApiUser,
    db: &Db,
    state: &State<AppState>,
    programme: String,
    organisation: Option<i64>,
) -> AppResult<Json<Value>> {
    let definition = state.programmes.current_version(&programme).ok_or(AppError::NotFound)?;
    let organisation_id = match user.0.actor().org_scope() {
        OrgScope::Only(own) => {
            if organisation.is_some_and(|o| o != own) {
                return Err(AppError::NotFound);
            }
            own
        }
        OrgScope::All => organisation.unwrap_or(0),
    };
    let rows = match organisation_id {
        0 => training::programme_facts(db, &definition.id).await?,
        id => training::organisation_facts(db, &definition.id, id).await?,
    };
    let people = completions_by_person(definition, &rows, state.clock.today());
    Ok(Json(
        json!({ "programme": definition.id, "version": definition.version, "people": people }),
    ))
}
