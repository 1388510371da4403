//! The start page: where each role begins.

use super::auth::CurrentUser;
use super::{AppState, Page};
use crate::db::{organisations, Db};
use crate::domain::access::OrgScope;
use crate::error::AppResult;
use rocket::{get, routes, Route, State};
use rocket_dyn_templates::Template;
use serde_json::json;

pub fn routes() -> Vec<Route> {
    routes![home]
}

/// The programme lead starts on the dashboard; everyone else on their own home.
#[get("/?<preset>&<from>&<to>")]
async fn home(
    preset: Option<&str>,
    from: Option<&str>,
    to: Option<&str>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    state: &State<AppState>,
) -> AppResult<Template> {
    let actor = user.actor();
    if actor.is_programme_lead() {
        return super::reports::dashboard_page(&page, db, state, preset, from, to).await;
    }
    let (_, organisation_count) = organisations::search(
        db,
        &organisations::Search {
            scope: actor.org_scope(),
            text: "",
            org_type: None,
            limit: 1,
            offset: 0,
        },
    )
    .await?;
    let own_organisation = match actor.org_scope() {
        OrgScope::Only(id) => organisations::find(db, id).await?,
        OrgScope::All => None,
    };
    let frameworks: Vec<_> = state
        .standards
        .current()
        .into_iter()
        .map(|f| json!({"id": f.id, "name": f.name, "version": f.version}))
        .collect();
    Ok(page.render(
        "home",
        json!({
            "title": "Home",
            "section": "home",
            "organisation_count": organisation_count,
            "own_organisation": own_organisation,
            "frameworks": frameworks,
        }),
    ))
}
