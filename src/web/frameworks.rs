//! The standards library, browsable: framework → areas → criteria.

use super::auth::CurrentUser;
use super::templates::Template;
use super::{AppState, Page};
use crate::app::frameworks::FrameworkSummary;
use crate::domain::standards::Framework;
use crate::domain::training_requirement::describe;
use crate::error::{AppError, AppResult};
use rocket::response::Redirect;
use rocket::{get, routes, Route, State};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![list, current, show, area]
}

/// What list pages show of a framework, without its criteria.
fn summary(framework: &Framework) -> Value {
    json!(FrameworkSummary::of(framework))
}

#[get("/frameworks")]
fn list(_user: &CurrentUser, page: Page<'_>, state: &State<AppState>) -> Template {
    let frameworks: Vec<Value> = state
        .standards
        .current()
        .into_iter()
        .map(|f| {
            let mut value = summary(f);
            let older: Vec<&str> = state
                .standards
                .versions(&f.id)
                .into_iter()
                .filter(|v| v.version != f.version)
                .map(|v| v.version.as_str())
                .collect();
            value["older_versions"] = json!(older);
            value
        })
        .collect();
    page.render(
        "frameworks/list",
        json!({"title": "Standards", "section": "frameworks", "frameworks": frameworks}),
    )
}

#[get("/frameworks/<id>")]
fn current(_user: &CurrentUser, id: &str, state: &State<AppState>) -> AppResult<Redirect> {
    let framework = state.standards.current_version(id).ok_or(AppError::NotFound)?;
    Ok(Redirect::to(format!(
        "/frameworks/{}/{}",
        framework.id, framework.version
    )))
}

#[get("/frameworks/<id>/<version>")]
fn show(_user: &CurrentUser, id: &str, version: &str, page: Page<'_>, state: &State<AppState>) -> AppResult<Template> {
    let framework = state.standards.get(id, version).ok_or(AppError::NotFound)?;
    let is_current = state
        .standards
        .current_version(id)
        .is_some_and(|c| c.version == framework.version);
    let areas: Vec<Value> = framework
        .areas
        .iter()
        .map(|a| {
            json!({"id": a.id, "title": a.title, "summary": a.summary,
                "standard_count": a.standards.len(), "criterion_count": a.criterion_count()})
        })
        .collect();
    Ok(page.render(
        "frameworks/show",
        json!({"title": framework.name, "section": "frameworks", "framework": summary(framework),
            "areas": areas, "is_current": is_current}),
    ))
}

#[get("/frameworks/<id>/<version>/areas/<area_id>")]
fn area(
    _user: &CurrentUser,
    id: &str,
    version: &str,
    area_id: &str,
    page: Page<'_>,
    state: &State<AppState>,
) -> AppResult<Template> {
    let framework = state.standards.get(id, version).ok_or(AppError::NotFound)?;
    let area = framework.area(area_id).ok_or(AppError::NotFound)?;
    // Each training requirement in words, beside its criterion.
    let mut shown = json!(area);
    let criteria = area.standards.iter().flat_map(|s| s.criteria.iter());
    let slots = shown["standards"]
        .as_array_mut()
        .into_iter()
        .flatten()
        .flat_map(|s| s["criteria"].as_array_mut().into_iter().flatten());
    for (criterion, slot) in criteria.zip(slots) {
        if let Some(requirement) = &criterion.training {
            let title = state
                .programmes
                .current_version(&requirement.programme)
                .and_then(|p| p.completion(&requirement.completion))
                .map_or(requirement.completion.as_str(), |c| c.title.as_str());
            slot["training_asks"] = json!(describe(requirement, title));
        }
    }
    Ok(page.render(
        "frameworks/area",
        json!({"title": format!("{} {}", area.id, area.title), "section": "frameworks",
            "framework": summary(framework), "area": shown}),
    ))
}
