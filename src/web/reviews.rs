//! The assessor's side: the review queue, the review page with a decision
//! and feedback per criterion, sending an assessment back for changes, and
//! recommending an award to the programme lead.

use super::assessments::{summary_json, today, with_reasons};
use super::auth::CurrentUser;
use super::csrf::{CsrfForm, TokenOnly};
use super::templates::Template;
use super::{
    choice_options, error_list, page_offset, status_and_field_errors, AppState, FormOutcome, SignedIn, PAGE_SIZE,
};
use crate::app::assessments::{load_view, standing, View};
use crate::app::reviews::{self as workflow, DecisionInput, MAX_FEEDBACK_CHARS};
use crate::db::assessments::{self, AssessmentRow};
use crate::db::Db;
use crate::domain::assessment::{Action, CriterionStatus, Decision};
use crate::error::{AppError, AppResult};
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![queue, review_page, save_decisions, request_changes, recommend]
}

/// "today", "1 day", "12 days".
pub(crate) fn age(days: i64) -> String {
    match days {
        i64::MIN..=0 => "Today".into(),
        1 => "1 day".into(),
        n => format!("{n} days"),
    }
}

#[get("/reviews?<page>")]
async fn queue(page: Option<i64>, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let (number, offset) = page_offset(page);
    let SignedIn(user, page, db, app) = signed_in;
    if !user.actor().can_review() {
        return Err(AppError::Forbidden);
    }
    let today = today(app);
    let (queue, total) = assessments::review_queue(db, PAGE_SIZE, offset).await?;
    let rows: Vec<Value> = queue
        .iter()
        .map(|row| {
            let days = row
                .submitted_at
                .map(|at| (today - at.date_naive()).num_days())
                .unwrap_or(0);
            let mut value = summary_json(row, app);
            value["age_days"] = json!(days);
            value["age"] = json!(age(days));
            value["submission_label"] = json!(if row.submission > 1 {
                format!("Resubmission {}", row.submission - 1)
            } else {
                "First submission".into()
            });
            value
        })
        .collect();
    Ok(page.render(
        "reviews/queue",
        json!({"title": "Review queue", "section": "reviews", "queue": rows, "total": total,
            "page": number, "pages": (total + PAGE_SIZE - 1) / PAGE_SIZE, "pager_href": "/reviews?"}),
    ))
}

async fn reviewable(db: &Db, app: &AppState, user: &CurrentUser, id: i64) -> AppResult<AssessmentRow> {
    workflow::reviewable(app.ctx(db), &user.acting(), id).await
}

/// The review page's view of each criterion: its evidence, what changed
/// since the last decision on it, and the form's starting values.
fn review_areas(
    view: &View<'_>,
    values: &serde_json::Map<String, Value>,
    errors: &serde_json::Map<String, Value>,
) -> Value {
    let mut index = 0;
    json!(view
        .framework
        .areas
        .iter()
        .map(|area| {
            let standards: Vec<Value> = area
                .standards
                .iter()
                .map(|standard| {
                    let criteria: Vec<Value> = standard
                        .criteria
                        .iter()
                        .map(|criterion| {
                            let mut value = view.criterion_json(criterion);
                            let latest = view.latest_decision(&criterion.id);
                            let changed = value["changed"].as_bool().unwrap_or(false);
                            // A decision on evidence that has since changed is not
                            // offered as the answer: the assessor must look again.
                            let (mut decision, mut feedback) = match latest {
                                Some(d) if !changed => (d.decision.as_str().to_string(), d.feedback.clone()),
                                _ => (String::new(), String::new()),
                            };
                            if let Some(sent) = values.get(&criterion.id) {
                                decision = sent["decision"].as_str().unwrap_or_default().to_string();
                                feedback = sent["feedback"].as_str().unwrap_or_default().to_string();
                            }
                            value["index"] = json!(index);
                            value["form_decision"] = json!(decision);
                            value["form_feedback"] = json!(feedback);
                            value["decided_earlier"] =
                                json!(latest.is_some_and(|d| d.submission < view.row.submission));
                            let error = |field: String| errors.get(&field).cloned().unwrap_or_default();
                            value["decision_error"] = error(format!("decision-{}", criterion.id));
                            value["feedback_error"] = error(format!("feedback-{}", criterion.id));
                            index += 1;
                            value
                        })
                        .collect();
                    json!({"id": standard.id, "title": standard.title, "criteria": criteria})
                })
                .collect();
            json!({"id": area.id, "title": area.title, "standards": standards})
        })
        .collect::<Vec<_>>())
}

async fn render_review(
    signed_in: &SignedIn<'_>,
    row: AssessmentRow,
    errors: Vec<Value>,
    values: serde_json::Map<String, Value>,
) -> AppResult<(Status, Template)> {
    let SignedIn(user, page, db, app) = signed_in;
    let actor = user.actor();
    let view = load_view(app.ctx(db), &actor, row).await?;
    let state = view.state();
    let changed: Vec<Value> = view
        .progress
        .criteria
        .iter()
        .filter(|c| c.status == CriterionStatus::ChangedSinceReview)
        .map(|c| json!({"id": c.criterion_id}))
        .collect();
    let carried = view.progress.count(|c| c.status == CriterionStatus::CarriedOver);
    let blocking = with_reasons(&view.progress.blocking_award());
    let undecided = view
        .progress
        .count(|c| c.decision.is_none() || c.changed_since_decision);
    let (status, field_errors) = status_and_field_errors(&errors);
    let context = json!({
        "title": format!("Review: {}, {}", view.row.organisation_name, view.framework.name),
        "section": "reviews",
        "assessment": summary_json(&view.row, app),
        "standing": standing(&view.row, app, view.today).as_str(),
        "framework": {"id": view.framework.id, "name": view.framework.name, "version": view.framework.version},
        "areas": review_areas(&view, &values, &field_errors),
        "counts": view.counts_json(),
        "changed": changed,
        "carried": carried,
        "blocking": blocking,
        "undecided": undecided,
        "is_resubmission": view.row.submission > 1,
        "open": state.apply(Action::RecordDecisions).is_ok(),
        "can_request_changes": state.apply(Action::RequestChanges).is_ok(),
        "can_recommend": state.apply(Action::Recommend).is_ok(),
        "can_award": actor.can_award() && state.apply(Action::Award).is_ok(),
        "decisions": choice_options(&Decision::ALL, |d| (d.as_str(), d.label())),
        "projected_expiry": crate::domain::assessment::display_date(view.projected_expiry),
        "errors": errors,
        "field_errors": field_errors,
    });
    Ok((status, page.render("reviews/review", context)))
}

/// A refused review action: the review page again, as it now stands, with
/// what was refused at the top.
async fn review_again(signed_in: &SignedIn<'_>, id: i64, errors: Vec<Value>) -> AppResult<FormOutcome> {
    let SignedIn(user, _, db, app) = signed_in;
    let row = reviewable(db, app, user, id).await?;
    Ok(Err(render_review(signed_in, row, errors, serde_json::Map::new()).await?))
}

#[get("/assessments/<id>/review")]
async fn review_page(id: i64, signed_in: SignedIn<'_>) -> AppResult<(Status, Template)> {
    let SignedIn(user, _, db, app) = &signed_in;
    let row = reviewable(db, app, user, id).await?;
    render_review(&signed_in, row, Vec::new(), serde_json::Map::new()).await
}

#[derive(FromForm)]
pub struct DecisionEntry {
    #[field(default = String::new())]
    criterion: String,
    /// Radio buttons send nothing when none is chosen: not decided yet.
    #[field(default = String::new())]
    decision: String,
    #[field(default = String::new())]
    feedback: String,
}

#[derive(FromForm)]
pub struct DecisionsForm {
    #[field(default = Vec::new())]
    decisions: Vec<DecisionEntry>,
    /// The area whose form this was, to return to it.
    #[field(default = String::new())]
    area: String,
}

#[post("/assessments/<id>/decisions", data = "<form>")]
async fn save_decisions(id: i64, form: CsrfForm<DecisionsForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, _, db, app) = &signed_in;
    let row = reviewable(db, app, user, id).await?;
    row.state
        .apply(Action::RecordDecisions)
        .map_err(|e| AppError::Conflict(e.to_string()))?;
    let framework = crate::app::assessments::framework_of(app, &row)?;
    let form = form.0;
    // Parse first: every problem is shown at once and nothing is saved.
    let mut errors = Vec::new();
    let mut values = serde_json::Map::new();
    let mut chosen: Vec<(String, Decision, String)> = Vec::new();
    for entry in &form.decisions {
        let Some(criterion) = framework.criteria().find(|c| c.id == entry.criterion.trim()) else {
            return Err(AppError::BadRequest(
                "The form names a criterion this framework does not have.".into(),
            ));
        };
        let feedback = entry.feedback.trim().to_string();
        values.insert(
            criterion.id.clone(),
            json!({"decision": entry.decision, "feedback": feedback}),
        );
        let field = format!("decision-{}", criterion.id);
        if entry.decision.trim().is_empty() {
            if !feedback.is_empty() {
                errors.push(json!({"field": field,
                    "message": format!("Choose a decision for {} to go with the feedback", criterion.id)}));
            }
            continue;
        }
        let Some(decision) = Decision::parse(&entry.decision) else {
            errors.push(json!({"field": field, "message": format!("Choose a decision for {}", criterion.id)}));
            continue;
        };
        if decision.needs_action() && feedback.is_empty() {
            errors.push(json!({"field": format!("feedback-{}", criterion.id),
                "message": format!("Give feedback on {} so the organisation knows what to change", criterion.id)}));
            continue;
        }
        if feedback.chars().count() > MAX_FEEDBACK_CHARS {
            errors.push(json!({"field": format!("feedback-{}", criterion.id),
                "message": format!("Feedback on {} must be {MAX_FEEDBACK_CHARS} characters or fewer", criterion.id)}));
            continue;
        }
        chosen.push((criterion.id.clone(), decision, feedback));
    }
    if !errors.is_empty() {
        return Ok(Err(render_review(&signed_in, row, errors, values).await?));
    }
    let decisions: Vec<DecisionInput> = chosen
        .into_iter()
        .map(|(criterion_id, decision, feedback)| DecisionInput {
            criterion_id,
            decision,
            feedback,
        })
        .collect();
    let saved = workflow::record_decisions(app.ctx(db), &user.acting(), &row, &decisions).await?;
    let message = match saved {
        0 => "No decisions had changed, so nothing was saved.".to_string(),
        1 => "1 decision saved.".to_string(),
        n => format!("{n} decisions saved."),
    };
    let anchor = if form.area.trim().is_empty() {
        String::new()
    } else {
        format!("#area-{}", form.area.trim())
    };
    Ok(Ok(Flash::success(
        Redirect::to(format!("/assessments/{id}/review{anchor}")),
        message,
    )))
}

#[derive(FromForm)]
pub struct ReturnForm {
    /// A summary for the organisation, beside the feedback per criterion.
    #[field(default = String::new())]
    note: String,
}

#[post("/assessments/<id>/request-changes", data = "<form>")]
async fn request_changes(id: i64, form: CsrfForm<ReturnForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, _, db, app) = &signed_in;
    match workflow::request_changes(app.ctx(db), &user.acting(), id, &form.0.note).await? {
        Ok(done) => Ok(Ok(Flash::success(
            Redirect::to("/reviews"),
            format!(
                "The assessment has been sent back to {} with feedback on {} criteria.",
                done.organisation_name,
                done.criteria.len()
            ),
        ))),
        Err(problems) => review_again(&signed_in, id, error_list(&problems)).await,
    }
}

#[post("/assessments/<id>/recommend", data = "<_form>")]
async fn recommend(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, _, db, app) = &signed_in;
    match workflow::recommend(app.ctx(db), &user.acting(), id).await? {
        Ok(organisation_name) => Ok(Ok(Flash::success(
            Redirect::to(format!("/assessments/{id}")),
            format!("The award to {organisation_name} has been recommended. The programme lead makes the award."),
        ))),
        Err(blocking) => {
            let errors = blocking
                .iter()
                .map(|b| {
                    json!({"field": format!("decision-{}", b.criterion_id),
                        "message": format!("{} must be met before an award is recommended: {}", b.criterion_id, b.reason)})
                })
                .collect();
            review_again(&signed_in, id, errors).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_naturally() {
        assert_eq!(age(0), "Today");
        assert_eq!(age(-1), "Today");
        assert_eq!(age(1), "1 day");
        assert_eq!(age(40), "40 days");
    }
}
