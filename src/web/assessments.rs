//! Assessments: enrolment, the organisation's view of its progress,
//! submission, award, revocation and renewal. The workflows themselves are in
//! [`crate::app::assessments`]; evidence pages are in [`super::evidence`],
//! the assessor's side in [`super::reviews`].

use super::csrf::{CsrfForm, ReasonForm, TokenOnly};
use super::date_field::DateField;
use super::organisation_pick::{pick, OrganisationPick};
use super::templates::Template;
use super::{
    choice_options, error_list, page_offset, status_and_field_errors, AppState, FormOutcome, SignedIn, PAGE_SIZE,
};
use crate::app::assessments::{self as workflow, AwardRefused, Blocker, EnrolInput, Summary, View};
use crate::app::training_requirements::CriterionTraining;
use crate::clock::display;
use crate::db::assessments::{self, AssessmentRow, DecisionRow};
use crate::db::evidence::EvidenceRow;
use crate::domain::access::{Actor, OrgScope};
use crate::domain::assessment::{
    self as lifecycle, blocking_reason, display_date, Action, CriterionProgress, Standing, State,
};
use crate::domain::evidence::EvidenceKind;
use crate::domain::filetype::FileKind;
use crate::domain::standards::Criterion;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route};
use serde_json::{json, Value};

pub fn routes() -> Vec<Route> {
    routes![
        list,
        new_page,
        enrol,
        show,
        criterion_page,
        submit,
        award,
        revoke,
        renew
    ]
}

pub(crate) fn today(state: &AppState) -> NaiveDate {
    state.clock.today()
}

/// A short line for lists: organisation, framework, where it stands.
pub(crate) fn summary_json(row: &AssessmentRow, state: &AppState) -> Value {
    json!(Summary::of(row, state, today(state)))
}

/// Criteria that stop a step, as error-summary lines linking to each one.
fn blocker_errors(list: &[Blocker], message: impl Fn(&Blocker) -> String) -> Vec<Value> {
    list.iter()
        .map(|b| json!({"field": format!("criterion-{}", b.criterion_id), "message": message(b)}))
        .collect()
}

/// "2.4 MB", "820 KB", "12 bytes".
pub(crate) fn human_size(bytes: i64) -> String {
    const KB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes > 0 && bytes % (1024 * 1024) == 0 {
        format!("{} MB", bytes / (1024 * 1024))
    } else if b >= KB * KB {
        format!("{:.1} MB", b / (KB * KB))
    } else if b >= KB {
        format!("{:.0} KB", (b / KB).ceil())
    } else {
        format!("{bytes} bytes")
    }
}

/// A criterion's training requirement as the pages show it: what it asks,
/// met or not with the figures, the names, and whether it is the record
/// frozen at submission.
fn training_json(training: &CriterionTraining) -> Value {
    let judgement = &training.judgement;
    json!({
        "asks": training.asks,
        "programme": training.programme_name,
        "completion": training.completion_title,
        "met": judgement.met,
        "figures": judgement.figures,
        "trained": judgement.trained_names,
        "not_trained": judgement.untrained_names,
        "as_of": display_date(judgement.as_of),
        "frozen": training.frozen_at.is_some(),
        "frozen_at": training.frozen_at.map(display),
    })
}

/// The parts of the assessment's pages that are specific to pages (links,
/// labels, display dates).
impl View<'_> {
    fn decision_json(decision: &DecisionRow) -> Value {
        json!({
            "decision": decision.decision,
            "label": decision.decision.label(),
            "feedback": decision.feedback,
            "submission": decision.submission,
            "decided_at": display(decision.decided_at),
            "decided_by": decision.decided_by_label,
        })
    }

    fn item_json(&self, version: &EvidenceRow) -> Value {
        let until = version.valid_until;
        let kind = version.kind;
        let title = match (version.title.is_empty(), kind) {
            (true, EvidenceKind::File) => version.file_name.clone().unwrap_or_default(),
            _ => version.title.clone(),
        };
        json!({
            "id": version.id,
            "item_id": version.item_id,
            "version": version.version,
            "kind": version.kind,
            "kind_label": kind.label(),
            "title": title,
            "statement": version.statement,
            "url": version.url,
            "file_name": version.file_name,
            "file_type": version.file_type.as_deref().and_then(FileKind::parse).map(|k| k.label()),
            "file_size": version.file_size.map(human_size),
            "download": (kind == EvidenceKind::File).then(|| format!("/evidence/{}/download", version.id)),
            "applies_from": display_date(version.applies_from),
            "valid_until": until.map(display_date),
            "valid_until_raw": version.valid_until,
            "expired": until.is_some_and(|u| u < self.today),
            "ends_before_award": until.is_some_and(|u| u >= self.today && u < self.projected_expiry),
            "carried_over": version.carried_from.is_some(),
            "for_submission": version.for_submission,
            "added": display(version.created_at),
            "added_by": version.created_by_label,
            "current": version.is_current(),
            "removed": version.removed_at.is_some(),
            "removed_at": version.removed_at.map(display),
            "removed_for_submission": version.removed_for_submission,
        })
    }

    /// Items for one criterion: each with its current (or last) version and older versions.
    pub fn items_json(&self, criterion_id: &str) -> (Vec<Value>, Vec<Value>) {
        let mut current = Vec::new();
        let mut removed = Vec::new();
        let rows: Vec<&EvidenceRow> = self
            .evidence
            .iter()
            .filter(|e| e.criterion_id == criterion_id)
            .collect();
        let mut item_ids: Vec<i64> = rows.iter().map(|e| e.item_id).collect();
        item_ids.dedup();
        for item_id in item_ids {
            let versions: Vec<&&EvidenceRow> = rows.iter().filter(|e| e.item_id == item_id).collect();
            let Some(last) = versions.last() else { continue };
            let mut item = self.item_json(last);
            item["history"] = json!(versions[..versions.len() - 1]
                .iter()
                .rev()
                .map(|v| self.item_json(v))
                .collect::<Vec<_>>());
            // New or changed since the assessor last looked at this criterion.
            let decided_in = self.latest_decision(criterion_id).map(|d| d.submission);
            item["changed"] =
                json!(decided_in.is_some_and(|s| last.for_submission > s || last.removed_for_submission > s));
            if last.removed_at.is_some() {
                removed.push(item);
            } else {
                current.push(item);
            }
        }
        (current, removed)
    }

    pub fn criterion_json(&self, criterion: &Criterion) -> Value {
        let progress = self.progress.get(&criterion.id);
        let status = progress
            .map(|p| p.status)
            .unwrap_or(lifecycle::CriterionStatus::NoEvidence);
        let (items, removed) = self.items_json(&criterion.id);
        let history: Vec<Value> = self
            .decisions
            .iter()
            .filter(|d| d.criterion_id == criterion.id)
            .rev()
            .map(Self::decision_json)
            .collect();
        json!({
            "id": criterion.id,
            "text": criterion.text,
            "guidance": criterion.guidance,
            "expected": criterion.evidence,
            "mandatory": criterion.mandatory,
            "status": status.as_str(),
            "status_label": status.label(),
            "status_colour": status.colour(),
            "changed": progress.is_some_and(|p| p.changed_since_decision),
            "usable_evidence": progress.map(|p| p.usable_evidence).unwrap_or(0),
            "expired_evidence": progress.map(|p| p.expired_evidence).unwrap_or(0),
            "evidence_count": items.len(),
            "items": items,
            "removed": removed,
            "decision": self.latest_decision(&criterion.id).map(Self::decision_json),
            "decision_history": history,
            "training": self.training_of(&criterion.id).map(training_json),
            "requires_training": criterion.training.is_some(),
        })
    }

    pub fn areas_json(&self) -> Value {
        json!(self
            .framework
            .areas
            .iter()
            .map(|area| {
                json!({
                    "id": area.id,
                    "title": area.title,
                    "standards": area.standards.iter().map(|s| json!({
                        "id": s.id,
                        "title": s.title,
                        "criteria": s.criteria.iter().map(|c| self.criterion_json(c)).collect::<Vec<_>>(),
                    })).collect::<Vec<_>>(),
                })
            })
            .collect::<Vec<_>>())
    }

    pub fn counts_json(&self) -> Value {
        let p = &self.progress;
        json!({
            "criteria": p.criteria.len(),
            "mandatory": p.count(|c| c.mandatory),
            "with_evidence": p.count(|c| c.has_evidence()),
            "mandatory_with_evidence": p.count(|c| c.mandatory && c.has_evidence()),
            "met": p.count(|c| matches!(c.status, lifecycle::CriterionStatus::Decided(d) if d.satisfies())),
        })
    }
}

#[get("/assessments?<state>&<framework>&<page>")]
async fn list(
    signed_in: SignedIn<'_>,
    state: Option<String>,
    framework: Option<String>,
    page: Option<i64>,
) -> AppResult<Template> {
    let SignedIn(user, view, db, app) = signed_in;
    let actor = user.actor();
    if !actor.can_view_assessments() {
        return Err(AppError::Forbidden);
    }
    let state_filter = state.filter(|s| State::parse(s).is_some()).unwrap_or_default();
    let framework_filter = framework
        .filter(|f| app.standards.current_version(f).is_some())
        .unwrap_or_default();
    let (page, offset) = page_offset(page);
    let (rows, total) = assessments::list(
        db,
        &assessments::ListFilter {
            scope: actor.org_scope(),
            state: &state_filter,
            framework_id: &framework_filter,
            limit: PAGE_SIZE,
            offset,
        },
    )
    .await?;
    let scoped = matches!(actor.org_scope(), OrgScope::Only(_));
    let title = if scoped { "Your assessments" } else { "Assessments" };
    Ok(view.render(
        "assessments/list",
        json!({
            "title": title,
            "section": "assessments",
            "assessments": rows.iter().map(|r| Summary::of(r, app, today(app))).collect::<Vec<_>>(),
            "total": total,
            "page": page,
            "pages": (total + PAGE_SIZE - 1) / PAGE_SIZE,
            "scoped": scoped,
            "state": state_filter,
            "framework": framework_filter,
            "states": choice_options(&State::ALL, |s| (s.as_str(), s.label())),
            "frameworks": app.standards.current().iter().map(|f| json!({"id": f.id, "name": f.name})).collect::<Vec<_>>(),
            "can_enrol": workflow::may_enrol(&actor),
            "can_import_history": actor.is_programme_lead(),
        }),
    ))
}

#[derive(FromForm)]
pub struct EnrolForm {
    #[field(default = String::new())]
    organisation_id: String,
    /// Radio buttons send nothing when none is chosen.
    #[field(default = String::new())]
    framework_id: String,
}

async fn enrol_context(
    app: &AppState,
    actor: &Actor,
    organisation: OrganisationPick,
    values: Value,
) -> AppResult<Value> {
    let frameworks: Vec<Value> = app
        .standards
        .current()
        .into_iter()
        .map(|f| {
            json!({"id": f.id, "name": f.name, "version": f.version, "audience": f.audience,
                "validity_months": f.validity_months, "criteria": f.criterion_count(), "mandatory": f.mandatory_count()})
        })
        .collect();
    Ok(json!({
        "title": "Enrol on a framework",
        "section": "assessments",
        "organisation": organisation,
        "frameworks": frameworks,
        "choose_organisation": matches!(actor.org_scope(), OrgScope::All),
        "values": values,
    }))
}

#[get("/assessments/new?<organisation>")]
async fn new_page(signed_in: SignedIn<'_>, organisation: Option<i64>) -> AppResult<Template> {
    let SignedIn(user, page, db, app) = signed_in;
    let actor = user.actor();
    if !workflow::may_enrol(&actor) {
        return Err(AppError::Forbidden);
    }
    let chosen = match organisation {
        Some(id) => pick(db, &id.to_string()).await?,
        None => OrganisationPick::default(),
    };
    let context = enrol_context(app, &actor, chosen, json!({})).await?;
    Ok(page.render("assessments/new", context))
}

#[post("/assessments", data = "<form>")]
async fn enrol(form: CsrfForm<EnrolForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, page, db, app) = signed_in;
    let actor = user.actor();
    let form = form.0;
    let organisation_id = match actor.org_scope() {
        OrgScope::Only(own) => {
            // A member always enrols their own organisation; naming another is a probe.
            if !form.organisation_id.trim().is_empty() && form.organisation_id.trim() != own.to_string() {
                return Err(AppError::NotFound);
            }
            Some(own)
        }
        OrgScope::All => None,
    };
    let picked = match actor.org_scope() {
        OrgScope::All => pick(db, &form.organisation_id).await?,
        OrgScope::Only(_) => OrganisationPick::default(),
    };
    let organisation_id = organisation_id.or(picked.id);
    let values = json!({"framework_id": form.framework_id});
    if let Some(message) = &picked.error {
        let mut errors = FieldErrors::default();
        errors.add("organisation_id", message.clone());
        let context = enrol_context(app, &actor, picked, values).await?;
        return Ok(Err(page.render_errors("assessments/new", &errors, context)));
    }
    let input = EnrolInput {
        organisation_id,
        framework_id: &form.framework_id,
    };
    match workflow::enrol(app.ctx(db), &user.acting(), &input).await? {
        Ok(enrolled) => Ok(Ok(Flash::success(
            Redirect::to(format!("/assessments/{}", enrolled.id)),
            format!(
                "{} is enrolled on {} (version {}). Add evidence for each criterion, then send it for review.",
                enrolled.organisation_name, enrolled.framework_name, enrolled.framework_version
            ),
        ))),
        Err(errors) => {
            let context = enrol_context(app, &actor, picked, values).await?;
            Ok(Err(page.render_errors("assessments/new", &errors, context)))
        }
    }
}

/// Criteria that hold something up, each with why, as the pages list them.
pub(super) fn with_reasons(criteria: &[&CriterionProgress]) -> Vec<Value> {
    criteria
        .iter()
        .map(|c| json!({"id": c.criterion_id, "reason": blocking_reason(c)}))
        .collect()
}

/// The assessment page, optionally re-shown with problems from a form on it.
async fn render_show(
    signed_in: &SignedIn<'_>,
    id: i64,
    errors: Vec<Value>,
    values: Value,
) -> AppResult<(Status, Template)> {
    let SignedIn(user, page, db, app) = signed_in;
    let actor = user.actor();
    let row = workflow::visible(db, &actor, id).await?;
    let events = assessments::events(db, row.id).await?;
    let view = workflow::load_view(app.ctx(db), &actor, row).await?;
    let state = view.state();
    let standing = workflow::standing(&view.row, app, view.today);
    let can_work = actor.can_work_on_assessments_of(view.row.organisation_id);
    let missing_list = with_reasons(&view.progress.missing_for_submission());
    let blocking = with_reasons(&view.progress.blocking_award());
    let to_address: Vec<Value> = view
        .progress
        .criteria
        .iter()
        .filter(|c| c.decision.is_some_and(|d| d.needs_action()))
        .map(|c| {
            let decision = view.latest_decision(&c.criterion_id);
            json!({
                "id": c.criterion_id,
                "decision": decision.map(|d| d.decision.label()),
                "feedback": decision.map(|d| d.feedback.clone()),
                "updated": c.changed_since_decision,
            })
        })
        .collect();
    let summary_note = events
        .iter()
        .rev()
        .find(|e| e.to_state == State::ChangesRequested.as_str())
        .map(|e| e.note.clone())
        .filter(|n| !n.is_empty());
    let history: Vec<Value> = events
        .iter()
        .map(|e| {
            json!({
                "at": display(e.at),
                "by": e.actor_label,
                "to": State::parse(&e.to_state).map(|s| s.label()).unwrap_or(""),
                "from": State::parse(&e.from_state).map(|s| s.label()),
                "note": e.note,
            })
        })
        .collect();
    let title = format!("{}: {}", view.row.organisation_name, view.framework.name);
    let (status, field_errors) = status_and_field_errors(&errors);
    let context = json!({
        "title": title,
        "section": "assessments",
        "assessment": summary_json(&view.row, app),
        "framework": {"id": view.framework.id, "name": view.framework.name, "version": view.framework.version,
            "validity_months": view.framework.validity_months, "illustrative": view.framework.illustrative},
        "counts": view.counts_json(),
        "areas": view.areas_json(),
        "missing": missing_list,
        "blocking": blocking,
        "not_updated": to_address.iter().filter(|c| c["updated"] == json!(false)).count(),
        "to_address": to_address,
        "summary_note": summary_note,
        "history": history,
        "standing": standing.as_str(),
        "editable": state.evidence_editable() && can_work,
        "can_submit": can_work && state.apply(Action::Submit).is_ok(),
        "is_resubmission": state == State::ChangesRequested,
        "can_review": actor.can_review() && state.in_review(),
        "can_award": actor.can_award() && state.apply(Action::Award).is_ok(),
        "can_revoke": actor.can_award() && state == State::Awarded && standing != Standing::Renewed,
        "can_renew": can_work && state == State::Awarded && view.row.renewed_by.is_none(),
        "today": view.today.format("%Y-%m-%d").to_string(),
        "projected_expiry": display_date(view.projected_expiry),
        "errors": errors,
        "field_errors": field_errors,
        "values": values,
    });
    Ok((status, page.render("assessments/show", context)))
}

#[get("/assessments/<id>")]
async fn show(id: i64, signed_in: SignedIn<'_>) -> AppResult<(Status, Template)> {
    render_show(&signed_in, id, Vec::new(), json!({})).await
}

#[get("/assessments/<id>/criteria/<criterion_id>")]
async fn criterion_page(id: i64, criterion_id: &str, signed_in: SignedIn<'_>) -> AppResult<Template> {
    let SignedIn(user, page, db, app) = signed_in;
    let actor = user.actor();
    let row = workflow::visible(db, &actor, id).await?;
    let view = workflow::load_view(app.ctx(db), &actor, row).await?;
    let criterion = view
        .framework
        .criteria()
        .find(|c| c.id == criterion_id)
        .ok_or(AppError::NotFound)?;
    let (area, standard) = view
        .framework
        .areas
        .iter()
        .flat_map(|a| a.standards.iter().map(move |s| (a, s)))
        .find(|(_, s)| s.criteria.iter().any(|c| c.id == criterion.id))
        .ok_or(AppError::NotFound)?;
    let can_work = actor.can_work_on_assessments_of(view.row.organisation_id);
    Ok(page.render(
        "assessments/criterion",
        json!({
            "title": format!("{} {}", criterion.id, standard.title),
            "section": "assessments",
            "assessment": summary_json(&view.row, app),
            "framework": {"name": view.framework.name, "version": view.framework.version},
            "area": {"id": area.id, "title": area.title},
            "standard": {"id": standard.id, "title": standard.title},
            "criterion": view.criterion_json(criterion),
            "editable": view.state().evidence_editable() && can_work,
            "projected_expiry": display_date(view.projected_expiry),
            "can_review": actor.can_review(),
        }),
    ))
}

#[post("/assessments/<id>/submit", data = "<_form>")]
async fn submit(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, _, db, app) = &signed_in;
    match workflow::submit(app.ctx(db), &user.acting(), id).await? {
        Ok(_) => Ok(Ok(Flash::success(
            Redirect::to(format!("/assessments/{id}")),
            "Sent for review. An assessor will look at your evidence next; you cannot change it until they send it back.",
        ))),
        Err(missing) => {
            let errors = blocker_errors(&missing, |b| format!("Add evidence for {}: {}", b.criterion_id, b.reason));
            Ok(Err(render_show(&signed_in, id, errors, json!({})).await?))
        }
    }
}

#[derive(FromForm)]
pub struct AwardForm {
    awarded_on: DateField,
}

#[post("/assessments/<id>/award", data = "<form>")]
async fn award(id: i64, form: CsrfForm<AwardForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, _, db, app) = &signed_in;
    let values = json!({"awarded_on": form.0.awarded_on.echo()});
    let errors = match workflow::award(app.ctx(db), &user.acting(), id, form.0.awarded_on.date()).await? {
        Ok(awarded) => {
            return Ok(Ok(Flash::success(
                Redirect::to(format!("/assessments/{id}")),
                format!(
                    "{} has been awarded {}. The award expires on {}.",
                    awarded.organisation_name,
                    awarded.framework_name,
                    display_date(awarded.expires_on)
                ),
            )))
        }
        Err(AwardRefused::Date(message)) => vec![json!({"field": "awarded_on", "message": message})],
        Err(AwardRefused::Blocking(blocking)) => blocker_errors(&blocking, |b| {
            format!("{} must be met before an award: {}", b.criterion_id, b.reason)
        }),
    };
    Ok(Err(render_show(&signed_in, id, errors, values).await?))
}

#[post("/assessments/<id>/revoke", data = "<form>")]
async fn revoke(id: i64, form: CsrfForm<ReasonForm>, signed_in: SignedIn<'_>) -> AppResult<FormOutcome> {
    let SignedIn(user, _, db, app) = &signed_in;
    match workflow::revoke(app.ctx(db), &user.acting(), id, &form.0.reason).await? {
        Ok(revoked) => Ok(Ok(Flash::success(
            Redirect::to(format!("/assessments/{id}")),
            format!("The award to {} has been revoked.", revoked.organisation_name),
        ))),
        Err(problems) => {
            let errors = error_list(&problems);
            let values = json!({"reason": form.0.reason.trim()});
            Ok(Err(render_show(&signed_in, id, errors, values).await?))
        }
    }
}

/// Starts the next assessment for an award; a second request for the same
/// award is a conflict (409), whichever way the two meet.
#[post("/assessments/<id>/renew", data = "<_form>")]
async fn renew(id: i64, _form: CsrfForm<TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, app) = signed_in;
    let started = workflow::start_renewal(app.ctx(db), &user.acting(), id).await?;
    let mut message = format!(
        "Renewal started on {} version {}. {} item(s) of evidence carried over from the award; each will be reviewed again.",
        started.framework_name, started.framework_version, started.carried_over
    );
    if started.ending_early > 0 {
        message.push_str(&format!(
            " {} of them stop being valid before the renewed award would end: they are flagged below.",
            started.ending_early
        ));
    }
    Ok(Flash::success(
        Redirect::to(format!("/assessments/{}", started.id)),
        message,
    ))
}
