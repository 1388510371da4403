//! The JSON API under `/api/v1`, for scripts. Bearer tokens; the same
//! permissions as the web pages. Described by `/api/v1/openapi.json`.

pub mod assessments;
pub mod certificates;
mod methods;
pub mod openapi;
mod params;
pub mod training;

use crate::app::frameworks::{FrameworkDetail, FrameworkSummary};
use crate::db::organisations::OrganisationRow;
use crate::db::{organisations, tokens, users::UserRow, Db};
use crate::domain::access::{Actor, OrgScope, Role};
use crate::error::{AppError, AppResult};
use crate::security::sha256_hex;
use crate::web::{AppState, PAGE_SIZE};
use params::{Optional, Page};
use rocket::http::Status;
use rocket::request::{FromRequest, Outcome, Request};
use rocket::serde::json::Json;
use rocket::{get, routes, Route, State};
use serde::Serialize;

/// Every route under [`openapi::MOUNT`]: the operations, then 405 for any
/// other method on their paths.
pub fn routes() -> Vec<Route> {
    let operations = routes![
        openapi::document,
        me,
        frameworks,
        framework,
        organisation_list,
        organisation,
        training::programmes,
        training::sessions,
        training::session,
        training::evaluation,
        training::completions,
        assessments::list,
        assessments::one,
        certificates::list
    ];
    [operations, methods::routes()].concat()
}

/// The API's catchers: its errors are JSON whatever went wrong.
pub fn catchers() -> Vec<rocket::Catcher> {
    methods::catchers()
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
        let Some(token) = crate::web::auth::bearer_token(req) else {
            return Outcome::Error((Status::Unauthorized, AppError::Unauthorized));
        };
        let (Some(db), Some(state)) = (req.rocket().state::<Db>(), req.rocket().state::<AppState>()) else {
            return Outcome::Error((Status::InternalServerError, AppError::internal("state missing")));
        };
        match tokens::user_for_token(db, &sha256_hex(token)).await {
            Ok(Some((token_id, user))) => {
                if let Err(e) = tokens::touch(db, token_id, state.clock.now()).await {
                    tracing::warn!("could not record token use: {e}");
                }
                Outcome::Success(ApiUser(user))
            }
            Ok(None) => Outcome::Error((Status::Unauthorized, AppError::Unauthorized)),
            Err(e) => Outcome::Error((Status::InternalServerError, AppError::from(e))),
        }
    }
}

/// The token's user.
#[derive(Serialize)]
pub struct Me {
    id: i64,
    name: String,
    email: String,
    role: Role,
    organisation_id: Option<i64>,
}

#[get("/me")]
fn me(user: ApiUser) -> Json<Me> {
    let user = user.0;
    Json(Me {
        id: user.id,
        name: user.name,
        email: user.email,
        role: user.role,
        organisation_id: user.organisation_id,
    })
}

#[derive(Serialize)]
pub struct Frameworks<'a> {
    frameworks: Vec<FrameworkSummary<'a>>,
}

#[get("/frameworks")]
fn frameworks<'a>(_user: ApiUser, state: &'a State<AppState>) -> Json<Frameworks<'a>> {
    Json(Frameworks {
        frameworks: state.standards.all().iter().map(FrameworkSummary::of).collect(),
    })
}

#[get("/frameworks/<id>/<version>")]
fn framework<'a>(
    _user: ApiUser,
    id: &str,
    version: &str,
    state: &'a State<AppState>,
) -> AppResult<Json<FrameworkDetail<'a>>> {
    let framework = state.standards.get(id, version).ok_or(AppError::NotFound)?;
    Ok(Json(FrameworkDetail::of(framework)))
}

/// An organisation as the API shows it: every column of its row, all of
/// which anyone who may see the organisation may read.
pub type Organisation = OrganisationRow;

#[derive(Serialize)]
pub struct OrganisationPage {
    organisations: Vec<Organisation>,
    total: i64,
    page: i64,
    page_size: i64,
}

#[get("/organisations?<q>&<page>")]
async fn organisation_list(
    user: ApiUser,
    db: &Db,
    q: Optional<String>,
    page: Optional<Page>,
) -> AppResult<Json<OrganisationPage>> {
    let (page, offset) = Page::number_and_offset(page.0);
    let (rows, total) = organisations::search(
        db,
        &organisations::Search {
            scope: user.actor().org_scope(),
            text: q.0.as_deref().unwrap_or(""),
            org_type: None,
            limit: PAGE_SIZE,
            offset,
        },
    )
    .await?;
    Ok(Json(OrganisationPage {
        organisations: rows,
        total,
        page,
        page_size: PAGE_SIZE,
    }))
}

#[get("/organisations/<id>")]
async fn organisation(user: ApiUser, db: &Db, id: i64) -> AppResult<Json<Organisation>> {
    if let OrgScope::Only(own) = user.actor().org_scope() {
        if own != id {
            return Err(AppError::NotFound);
        }
    }
    let org = organisations::find(db, id).await?.ok_or(AppError::NotFound)?;
    Ok(Json(org))
}
