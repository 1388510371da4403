//! Training in the API: programmes, sessions with their registers, and
//! completions, scoped by role exactly as the web pages are.

use super::params::Optional;
use super::ApiUser;
use crate::app::training_views::{completions_by_person, PersonCompletions, SessionView, SessionWithRegister};
use crate::db::{training, Db};
use crate::domain::access::OrgScope;
use crate::domain::programmes::Programme;
use crate::error::{AppError, AppResult};
use crate::web::AppState;
use rocket::serde::json::Json;
use rocket::{get, State};
use serde::Serialize;

#[derive(Serialize)]
pub struct Programmes<'a> {
    programmes: &'a [Programme],
}

#[get("/programmes")]
pub fn programmes<'a>(_user: ApiUser, state: &'a State<AppState>) -> Json<Programmes<'a>> {
    Json(Programmes {
        programmes: state.programmes.all(),
    })
}

fn staff_only(user: &ApiUser) -> AppResult<()> {
    if user.0.actor().can_view_all_training() {
        Ok(())
    } else {
        Err(AppError::Forbidden)
    }
}

#[derive(Serialize)]
pub struct Sessions {
    sessions: Vec<SessionView>,
}

#[get("/sessions?<programme>")]
pub async fn sessions(
    user: ApiUser,
    db: &Db,
    state: &State<AppState>,
    programme: Optional<String>,
) -> AppResult<Json<Sessions>> {
    staff_only(&user)?;
    let rows = training::sessions(db, programme.0.as_deref().unwrap_or(""), 1000, 0).await?;
    Ok(Json(Sessions {
        sessions: rows.into_iter().map(|row| SessionView::of(state, row)).collect(),
    }))
}

#[get("/sessions/<id>")]
pub async fn session(user: ApiUser, db: &Db, state: &State<AppState>, id: i64) -> AppResult<Json<SessionWithRegister>> {
    staff_only(&user)?;
    let session = training::session(db, id).await?.ok_or(AppError::NotFound)?;
    let attendance = training::register(db, id).await?;
    Ok(Json(SessionWithRegister {
        session: SessionView::of(state, session),
        attendance: attendance.into_iter().map(Into::into).collect(),
    }))
}

/// A session's evaluation results (training staff only; 404 when its
/// programme has no form).
#[get("/sessions/<id>/evaluation")]
pub async fn evaluation(
    user: ApiUser,
    db: &Db,
    state: &State<AppState>,
    id: i64,
) -> AppResult<Json<crate::app::evaluations::SessionEvaluation>> {
    crate::app::evaluations::session_evaluation(state.ctx(db), &crate::app::Acting::user(&user.0), id)
        .await
        .map(Json)
}

/// A page of people's standing in one programme: `next_after` is the value
/// of `after` that asks for the next page, `null` on the last.
#[derive(Serialize)]
pub struct Completions<'a> {
    programme: &'a str,
    version: &'a str,
    page_size: usize,
    next_after: Option<i64>,
    people: Vec<PersonCompletions>,
}

/// Each person's standing in one programme, 50 people a page in the order
/// of their ids; organisation members see only their own staff.
#[get("/completions?<programme>&<organisation>&<after>")]
pub async fn completions<'a>(
    user: ApiUser,
    db: &Db,
    state: &'a State<AppState>,
    programme: &str,
    organisation: Optional<i64>,
    after: Optional<i64>,
) -> AppResult<Json<Completions<'a>>> {
    let definition = state.programmes.current_version(programme).ok_or(AppError::NotFound)?;
    let organisation_id = match user.0.actor().org_scope() {
        OrgScope::Only(own) => {
            if organisation.0.is_some_and(|o| o != own) {
                return Err(AppError::NotFound);
            }
            own
        }
        OrgScope::All => organisation.0.unwrap_or(0),
    };
    let (rows, next_after) =
        training::programme_attendees_after(db, &definition.id, organisation_id, after.0.unwrap_or(0)).await?;
    Ok(Json(Completions {
        programme: &definition.id,
        version: &definition.version,
        page_size: training::ATTENDEES_A_PAGE,
        next_after,
        people: completions_by_person(definition, &rows, state.clock.today()),
    }))
}
