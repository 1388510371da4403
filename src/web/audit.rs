//! The audit log, for the programme lead.

use super::auth::CurrentUser;
use super::Page;
use crate::clock::display;
use crate::db::{audit, Db};
use crate::error::AppResult;
use rocket::{get, routes, Route};
use rocket_dyn_templates::Template;
use serde_json::json;

pub fn routes() -> Vec<Route> {
    routes![list]
}

#[get("/audit")]
async fn list(user: &CurrentUser, page: Page<'_>, db: &Db) -> AppResult<Template> {
    user.require(|a| a.is_programme_lead())?;
    let entries: Vec<_> = audit::recent(db, 200)
        .await?
        .into_iter()
        .map(|e| {
            let mut row = json!(e);
            row["at_display"] = json!(display(&e.at));
            row
        })
        .collect();
    Ok(page.render(
        "audit/list",
        json!({"title": "Audit log", "section": "audit", "entries": entries}),
    ))
}
