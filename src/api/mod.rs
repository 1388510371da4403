//! The JSON API under `/api/v1`, for scripts. Bearer tokens; the same
//! permissions as the web pages. Described by `/api/v1/openapi.json`.

pub mod assessments;
pub mod certificates;
pub mod openapi;
pub mod training;

use crate::db::{organisations, tokens, users::UserRow, Db};
use crate::domain::access::{Actor, OrgScope};
use crate::error::{AppError, AppResult};
use crate::security::sha256_hex;
use crate::web::frameworks::summary;
use crate::web::{AppState, PAGE_SIZE};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![
        openapi::document,
        me,
        frameworks,
        framework,
        organisation_list,
        organisation,
        training::programmes,
        training::sessions,
        training::session,
        training::completions,
        assessments::list,
        assessments::one,
        certificates::list
    ]
}

/// The user behind a valid `Authorization: Bearer …` token.
pub struct ApiUser(pub UserRow);

impl ApiUser {
    fn actor(&self) -> Actor {
        self.0.actor()
    }
}

#[rocket::async_trait]
impl<'r> FromRequest<'r> for ApiUser {
    type Error = AppError;

    async fn from_request(req: &'r Request<'_>) -> Outcome<Self, Self::Error> {
        let Some(token) = req
            .headers()
            .get_one("Authorization")
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim)
        else {
            return Outcome::Error((Status::Unauthorized, AppError::Unauthorized));
        };
        let (Some(db), Some(state)) = (req.rocket().state::<Db>(), req.rocket().state::<AppState>()) else {
            return Outcome::Error((Status::InternalServerError, AppError::internal("state missing")));
        };
        match tokens::user_for_token(db, &sha256_hex(token)).await {
            Ok(Some((token_id, user))) => {
                if let Err(e) = tokens::touch(db, token_id, &state.now_db()).await {
                    tracing::warn!("could not record token use: {e}");
                }
                Outcome::Success(ApiUser(user))
            }
            Ok(None) => Outcome::Error((Status::Unauthorized, AppError::Unauthorized)),
            Err(e) => Outcome::Error((Status::InternalServerError, AppError::from(e))),
        }
    }
}

#[get("/me")]
fn me(user: ApiUser) -> Json<Value> {
    Json(json!({
        "id": user.0.id,
        "name": user.0.name,
        "email": user.0.email,
        "role": user.0.role.as_str(),
        "organisation_id": user.0.organisation_id,
    }))
}

#[get("/frameworks")]
fn frameworks(_user: ApiUser, state: &State<AppState>) -> Json<Value> {
    let all: Vec<Value> = state.standards.all().iter().map(summary).collect();
    Json(json!({ "frameworks": all }))
}

#[get("/frameworks/<id>/<version>")]
fn framework(_user: ApiUser, id: &str, version: &str, state: &State<AppState>) -> AppResult<Json<Value>> {
    let framework = state.standards.get(id, version).ok_or(AppError::NotFound)?;
    let mut value = summary(framework);
    value["areas"] = json!(framework.areas);
    Ok(Json(value))
}

#[get("/organisations?<q>&<page>")]
async fn organisation_list(user: ApiUser, db: &Db, q: Option<String>, page: Option<i64>) -> AppResult<Json<Value>> {
    let (page, offset) = crate::web::page_offset(page);
    let (rows, total) = organisations::search(
        db,
        &organisations::Search {
            scope: user.actor().org_scope(),
            text: q.as_deref().unwrap_or(""),
            org_type: None,
            limit: PAGE_SIZE,
            offset,
        },
    )
    .await?;
    Ok(Json(
        json!({"organisations": rows, "total": total, "page": page, "page_size": PAGE_SIZE}),
    ))
}

#[get("/organisations/<id>")]
async fn organisation(user: ApiUser, db: &Db, id: i64) -> AppResult<Json<Value>> {
    if let OrgScope::Only(own) = user.actor().org_scope() {
        if own != id {
            return Err(AppError::NotFound);
        }
    }
    let org = organisations::find(db, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(json!(org)))
}
