//! The audit log, for the programme lead: every change and every evidence
//! download, filterable by action, kind of record, organisation, who did it
//! and when.

use super::auth::CurrentUser;
use super::date_field::DateField;
use super::organisation_pick::pick;
use super::templates::Template;
use super::{page_offset, Page, PAGE_SIZE};
use crate::clock::display;
use crate::db::{audit, Db};
use crate::domain::dates::DateAnswer;
use crate::error::AppResult;
use chrono::{Days, NaiveDate, NaiveTime};
use rocket::http::Status;
use rocket::{get, routes, Route};
use serde_json::json;

pub fn routes() -> Vec<Route> {
    routes![list]
}

#[get("/audit?<action>&<entity>&<id>&<organisation>&<actor>&<from>&<to>&<page>")]
#[allow(clippy::too_many_arguments)]
async fn list(
    user: &CurrentUser,
    view: Page<'_>,
    db: &Db,
    action: Option<String>,
    entity: Option<String>,
    id: Option<i64>,
    organisation: Option<String>,
    actor: Option<String>,
    from: Option<DateField>,
    to: Option<DateField>,
    page: Option<i64>,
) -> AppResult<(Status, Template)> {
    user.require(|a| a.is_programme_lead())?;
    let (action, entity, actor) = (
        action.unwrap_or_default(),
        entity.unwrap_or_default(),
        actor.unwrap_or_default(),
    );
    let (from, to) = (from.unwrap_or_default(), to.unwrap_or_default());
    let organisation = organisation.unwrap_or_default();
    // One record's history: an id means something only with its kind.
    let entity_id = id.filter(|_| !entity.trim().is_empty());
    let mut errors = crate::domain::validation::FieldErrors::default();
    // Dates are whole days: "to" includes all of its day.
    let start_of = |day: NaiveDate| day.and_time(NaiveTime::MIN).and_utc();
    let from_at = match from.answer() {
        DateAnswer::Blank => None,
        DateAnswer::Date(date) => Some(start_of(date)),
        DateAnswer::NotADate => {
            errors.add("from", "The ‘from’ date must be a real date, like 1 3 2026");
            None
        }
    };
    let until_at = match to.answer() {
        DateAnswer::Blank => None,
        DateAnswer::Date(date) => date.checked_add_days(Days::new(1)).map(start_of),
        DateAnswer::NotADate => {
            errors.add("to", "The ‘to’ date must be a real date, like 31 3 2026");
            None
        }
    };
    // A valid date travels on in page links as YYYY-MM-DD; an invalid one is dropped.
    let (from_text, to_text) = (
        from.date().map(|d| d.to_string()).unwrap_or_default(),
        to.date().map(|d| d.to_string()).unwrap_or_default(),
    );
    let picked = pick(db, &organisation).await?;
    if let Some(message) = &picked.error {
        errors.add("organisation", message.clone());
    }
    let organisation_id = picked.id.unwrap_or(0);
    let (page, offset) = page_offset(page);
    let filter = audit::Filter {
        action: action.trim(),
        entity: entity.trim(),
        entity_id,
        organisation_id,
        actor: &actor,
        from: from_at,
        until: until_at,
        limit: PAGE_SIZE,
        offset,
    };
    // The entries and the filter's choices at once: one wait for
    // connections, not two.
    let ((rows, total), (mut actions, mut entities)) =
        rocket::tokio::try_join!(audit::search(db, &filter), audit::actions_and_entities(db))?;
    let entries: Vec<_> = rows
        .into_iter()
        .map(|e| {
            let mut row = json!(e);
            row["at_display"] = json!(display(e.at));
            row
        })
        .collect();
    // A filter from a link (say, downloads before any happened) stays selected.
    for (chosen, list) in [(action.trim(), &mut actions), (entity.trim(), &mut entities)] {
        if !chosen.is_empty() && !list.iter().any(|a| a == chosen) {
            list.push(chosen.to_string());
        }
    }
    let dated = !matches!(from.answer(), DateAnswer::Blank) || !matches!(to.answer(), DateAnswer::Blank);
    let filtered = !(action.is_empty() && entity.is_empty() && actor.is_empty()) || dated || organisation_id != 0;
    let id_text = entity_id.map_or_else(String::new, |id| id.to_string());
    // The same filter, for the page links.
    let query: String = url::form_urlencoded::Serializer::new(String::new())
        .append_pair("action", &action)
        .append_pair("entity", &entity)
        .append_pair("id", &id_text)
        .append_pair("organisation", &picked.id.map_or_else(String::new, |id| id.to_string()))
        .append_pair("actor", &actor)
        .append_pair("from", &from_text)
        .append_pair("to", &to_text)
        .finish();
    let context = json!({
        "title": "Audit log",
        "section": "audit",
        "entries": entries,
        "total": total,
        "page": page,
        "pages": (total + PAGE_SIZE - 1) / PAGE_SIZE,
        "query": query,
        "filtered": filtered,
        "actions": actions,
        "entities": entities,
        "organisation": picked,
        "filter": {"action": action, "entity": entity, "id": id_text, "actor": actor, "from": from.echo(), "to": to.echo()},
    });
    if errors.is_empty() {
        Ok((Status::Ok, view.render("audit/list", context)))
    } else {
        Ok(view.render_errors("audit/list", &errors, context))
    }
}
