//! Assessments: enrolment, the organisation's view of its progress,
//! submission, award, revocation and renewal. Evidence pages are in
//! [`super::evidence`], the assessor's side in [`super::reviews`].

use super::auth::CurrentUser;
use super::csrf::{CsrfForm, TokenOnly};
use super::date_field::DateField;
use super::{page_offset, AppState, Page, PAGE_SIZE};
use crate::clock::display;
use crate::db::assessments::{self, AssessmentRow, DecisionRow, NewAssessment};
use crate::db::audit::{self, Entry};
use crate::db::evidence::{self, EvidenceRow, FileRef, NewEvidence};
use crate::db::{organisations, Db};
use crate::domain::access::{Actor, OrgScope};
use crate::domain::assessment::{
    self as lifecycle, blocking_reason, display_date, parse_date, Action, CarryCandidate, CriterionProgress,
    DecisionFact, EvidenceFact, Progress, Standing, State,
};
use crate::domain::evidence::EvidenceKind;
use crate::domain::filetype::FileKind;
use crate::domain::standards::{Criterion, Framework};
use crate::error::{AppError, AppResult};
use chrono::NaiveDate;
use rocket::http::Status;
use rocket::response::{Flash, Redirect};
use rocket::{get, post, routes, FromForm, Route, State as Managed};
use rocket_dyn_templates::Template;
use serde_json::{json, Value};
use sqlx::AnyPool;

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

/// The assessment, if this user may see it. Roles that never see
/// assessments are refused outright; an organisation member asking for
/// another organisation's gets "not found", so ids cannot be probed.
pub(crate) async fn visible(db: &AnyPool, actor: &Actor, id: i64) -> AppResult<AssessmentRow> {
    if !actor.can_view_assessments() {
        return Err(AppError::Forbidden);
    }
    let row = assessments::find(db, id).await?.ok_or(AppError::NotFound)?;
    if !actor.can_view_assessments_of(row.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

pub(crate) fn today(state: &AppState) -> NaiveDate {
    state.clock.today()
}

fn date_of(text: &Option<String>) -> Option<NaiveDate> {
    text.as_deref().and_then(parse_date)
}

pub(crate) fn standing(row: &AssessmentRow, state: &AppState) -> Standing {
    Standing::of(
        row.state(),
        date_of(&row.expires_on),
        row.renewal_state.as_deref() == Some(State::Awarded.as_str()),
        today(state),
        state.config.renewal_notice_days,
    )
}

pub(crate) fn framework_of<'a>(state: &'a AppState, row: &AssessmentRow) -> AppResult<&'a Framework> {
    state
        .standards
        .get(&row.framework_id, &row.framework_version)
        .ok_or_else(|| {
            AppError::Internal(format!(
                "framework {} version {} is no longer in the standards library; old versions must be kept",
                row.framework_id, row.framework_version
            ))
        })
}

/// A short line for lists: organisation, framework, where it stands.
pub(crate) fn summary_json(row: &AssessmentRow, state: &AppState) -> Value {
    let standing = standing(row, state);
    let name = state
        .standards
        .get(&row.framework_id, &row.framework_version)
        .map(|f| f.name.clone())
        .unwrap_or_else(|| row.framework_id.clone());
    json!({
        "id": row.id,
        "organisation_id": row.organisation_id,
        "organisation_name": row.organisation_name,
        "framework_id": row.framework_id,
        "framework_version": row.framework_version,
        "framework_name": name,
        "state": row.state,
        "state_label": row.state().label(),
        "standing": standing.as_str(),
        "standing_label": standing.label(),
        "standing_colour": standing.colour(),
        "submission": row.submission,
        "enrolled_at": row.enrolled_at,
        "enrolled_display": display(&row.enrolled_at),
        "submitted_at": row.submitted_at,
        "submitted_display": row.submitted_at.as_deref().map(display),
        "awarded_on": row.awarded_on,
        "awarded_display": date_of(&row.awarded_on).map(display_date),
        "expires_on": row.expires_on,
        "expires_display": date_of(&row.expires_on).map(display_date),
        "revoked_at": row.revoked_at,
        "revoked_display": row.revoked_at.as_deref().map(display),
        "revocation_reason": row.revocation_reason,
        "renewal_of": row.renewal_of,
        "renewed_by": row.renewed_by,
    })
}

/// Everything the assessment's pages show, loaded once.
pub(crate) struct View<'a> {
    pub row: AssessmentRow,
    pub framework: &'a Framework,
    pub evidence: Vec<EvidenceRow>,
    pub decisions: Vec<DecisionRow>,
    pub progress: Progress,
    pub today: NaiveDate,
    pub projected_expiry: NaiveDate,
}

/// Loads the assessment's evidence and decisions and works out each
/// criterion's status. An organisation member does not see the decisions
/// of a review still in progress: they are released when the assessor
/// sends the assessment back or it is awarded.
pub(crate) async fn load_view<'a>(
    db: &AnyPool,
    state: &'a AppState,
    actor: &Actor,
    row: AssessmentRow,
) -> AppResult<View<'a>> {
    let framework = framework_of(state, &row)?;
    let evidence = evidence::for_assessment(db, row.id).await?;
    let mut decisions = assessments::decisions(db, row.id).await?;
    if !actor.can_review() && row.state().in_review() {
        decisions.retain(|d| d.submission < row.submission);
    }
    let today = today(state);
    let progress = compute_progress(framework, &evidence, &decisions, today);
    let projected_expiry = lifecycle::projected_expiry(date_of(&row.expires_on), today, framework.validity_months);
    Ok(View {
        row,
        framework,
        evidence,
        decisions,
        progress,
        today,
        projected_expiry,
    })
}

pub(crate) fn compute_progress(
    framework: &Framework,
    evidence: &[EvidenceRow],
    decisions: &[DecisionRow],
    today: NaiveDate,
) -> Progress {
    let facts: Vec<EvidenceFact> = evidence
        .iter()
        .map(|e| EvidenceFact {
            criterion_id: e.criterion_id.clone(),
            for_submission: e.for_submission,
            current: e.is_current(),
            removed_for_submission: e.removed_for_submission,
            carried_over: e.carried_from.is_some(),
            valid_until: date_of(&e.valid_until),
        })
        .collect();
    let decided: Vec<DecisionFact> = decisions
        .iter()
        .filter_map(|d| {
            Some(DecisionFact {
                criterion_id: d.criterion_id.clone(),
                submission: d.submission,
                decision: lifecycle::Decision::parse(&d.decision)?,
            })
        })
        .collect();
    Progress::compute(framework, &facts, &decided, today)
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

impl View<'_> {
    pub fn state(&self) -> State {
        self.row.state()
    }

    pub fn latest_decision(&self, criterion_id: &str) -> Option<&DecisionRow> {
        self.decisions.iter().rev().find(|d| d.criterion_id == criterion_id)
    }

    fn decision_json(decision: &DecisionRow) -> Value {
        let label = lifecycle::Decision::parse(&decision.decision)
            .map(|d| d.label())
            .unwrap_or("Unknown");
        json!({
            "decision": decision.decision,
            "label": label,
            "feedback": decision.feedback,
            "submission": decision.submission,
            "decided_at": display(&decision.decided_at),
            "decided_by": decision.decided_by_label,
        })
    }

    fn item_json(&self, version: &EvidenceRow) -> Value {
        let until = date_of(&version.valid_until);
        let kind = EvidenceKind::parse(&version.kind).unwrap_or(EvidenceKind::Statement);
        let title = match (version.title.is_empty(), kind) {
            (true, EvidenceKind::File) => version.file_name.clone(),
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
            "file_type": FileKind::parse(&version.file_type).map(|k| k.label()),
            "file_size": human_size(version.file_size),
            "download": (kind == EvidenceKind::File).then(|| format!("/evidence/{}/download", version.id)),
            "applies_from": date_of(&Some(version.applies_from.clone())).map(display_date),
            "valid_until": until.map(display_date),
            "valid_until_raw": version.valid_until,
            "expired": until.is_some_and(|u| u < self.today),
            "ends_before_award": until.is_some_and(|u| u >= self.today && u < self.projected_expiry),
            "carried_over": version.carried_from.is_some(),
            "for_submission": version.for_submission,
            "added": display(&version.created_at),
            "added_by": version.created_by_label,
            "current": version.is_current(),
            "removed": version.removed_at.is_some(),
            "removed_at": version.removed_at.as_deref().map(display),
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
            "with_evidence": p.count(|c| c.usable_evidence > 0),
            "mandatory_with_evidence": p.count(|c| c.mandatory && c.usable_evidence > 0),
            "met": p.count(|c| matches!(c.status, lifecycle::CriterionStatus::Decided(d) if d.satisfies())),
        })
    }

    /// The criteria in `list`, as error-summary lines linking to each one.
    pub fn criteria_errors(
        &self,
        list: &[&CriterionProgress],
        prefix: &str,
        reason: impl Fn(&CriterionProgress) -> String,
    ) -> Vec<Value> {
        list.iter()
            .map(|c| {
                json!({
                    "field": format!("{prefix}{}", c.criterion_id),
                    "message": format!("{} {}", c.criterion_id, reason(c)),
                })
            })
            .collect()
    }
}

#[get("/assessments?<state>&<framework>&<page>")]
async fn list(
    user: &CurrentUser,
    view: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
    state: Option<String>,
    framework: Option<String>,
    page: Option<i64>,
) -> AppResult<Template> {
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
            "assessments": rows.iter().map(|r| summary_json(r, app)).collect::<Vec<_>>(),
            "total": total,
            "page": page,
            "pages": (total + PAGE_SIZE - 1) / PAGE_SIZE,
            "scoped": scoped,
            "state": state_filter,
            "framework": framework_filter,
            "states": State::ALL.iter().map(|s| json!({"value": s.as_str(), "label": s.label()})).collect::<Vec<_>>(),
            "frameworks": app.standards.current().iter().map(|f| json!({"id": f.id, "name": f.name})).collect::<Vec<_>>(),
            "can_enrol": actor.is_programme_lead() || actor.organisation_id.is_some_and(|o| actor.can_work_on_assessments_of(o)),
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

async fn enrol_context(db: &Db, app: &AppState, actor: &Actor, values: Value) -> AppResult<Value> {
    let organisations: Vec<Value> = match actor.org_scope() {
        OrgScope::All => organisations::names(db)
            .await?
            .into_iter()
            .map(|(id, name)| json!({"id": id, "name": name}))
            .collect(),
        OrgScope::Only(_) => Vec::new(),
    };
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
        "organisations": organisations,
        "frameworks": frameworks,
        "choose_organisation": matches!(actor.org_scope(), OrgScope::All),
        "values": values,
    }))
}

#[get("/assessments/new?<organisation>")]
async fn new_page(
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
    organisation: Option<i64>,
) -> AppResult<Template> {
    let actor = user.actor();
    let allowed = actor.is_programme_lead()
        || actor
            .organisation_id
            .is_some_and(|o| actor.can_work_on_assessments_of(o));
    if !allowed {
        return Err(AppError::Forbidden);
    }
    let context = enrol_context(
        db,
        app,
        &actor,
        json!({"organisation_id": organisation.map(|o| o.to_string())}),
    )
    .await?;
    Ok(page.render("assessments/new", context))
}

#[post("/assessments", data = "<form>")]
async fn enrol(
    form: CsrfForm<EnrolForm>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
) -> AppResult<Result<Flash<Redirect>, (Status, Template)>> {
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
        OrgScope::All => form.organisation_id.trim().parse::<i64>().ok(),
    };
    if !(actor.is_programme_lead() || organisation_id.is_some_and(|o| actor.can_work_on_assessments_of(o))) {
        return Err(AppError::Forbidden);
    }
    let values = json!({"organisation_id": form.organisation_id, "framework_id": form.framework_id});
    let mut errors = crate::domain::validation::FieldErrors::default();
    let organisation = match organisation_id {
        Some(id) => organisations::find(db, id).await?,
        None => None,
    };
    if organisation.is_none() {
        errors.add("organisation_id", "Choose the organisation to enrol");
    }
    let framework = app.standards.current_version(form.framework_id.trim());
    if framework.is_none() {
        errors.add("framework_id", "Choose a framework");
    }
    let (Some(organisation), Some(framework)) = (organisation, framework) else {
        let context = enrol_context(db, app, &actor, values).await?;
        return Ok(Err(page.render_errors("assessments/new", &errors, context)));
    };
    let now = app.now_db();
    let mut tx = crate::db::begin_write(db).await?;
    let existing = assessments::for_organisation_framework(&mut tx, organisation.id, &framework.id).await?;
    let blocking = existing.iter().find(|a| {
        a.state().is_open()
            || matches!(standing(a, app), Standing::Award(status) if status != lifecycle::AwardStatus::Expired)
    });
    if let Some(other) = blocking {
        let message = if other.state().is_open() {
            format!(
                "{} is already working towards {} (assessment {}, {}). Carry on with that one.",
                organisation.name,
                framework.name,
                other.id,
                other.state().label().to_lowercase()
            )
        } else {
            format!(
                "{} already holds {} (assessment {}). Start a renewal from that assessment instead.",
                organisation.name, framework.name, other.id
            )
        };
        errors.add("framework_id", message);
        drop(tx);
        let context = enrol_context(db, app, &actor, values).await?;
        return Ok(Err(page.render_errors("assessments/new", &errors, context)));
    }
    let id = assessments::insert(
        &mut tx,
        &NewAssessment {
            organisation_id: organisation.id,
            framework_id: &framework.id,
            framework_version: &framework.version,
            state: State::Enrolled,
            renewal_of: None,
        },
        &now,
    )
    .await?;
    let note = format!("Enrolled on {} version {}", framework.name, framework.version);
    assessments::record_event(&mut tx, id, &now, &user.audit_actor(), "", State::Enrolled, &note).await?;
    audit::record(
        &mut tx,
        &now,
        &user.audit_actor(),
        Entry {
            action: "assessment.enrol",
            entity: "assessment",
            entity_id: Some(id),
            organisation_id: Some(organisation.id),
            before: None,
            after: Some(json!({"framework_id": framework.id, "framework_version": framework.version, "state": State::Enrolled.as_str()})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Flash::success(
        Redirect::to(format!("/assessments/{id}")),
        format!(
            "{} is enrolled on {} (version {}). Add evidence for each criterion, then send it for review.",
            organisation.name, framework.name, framework.version
        ),
    )))
}

/// The assessment page, optionally re-shown with problems from a form on it.
async fn render_show(
    page: &Page<'_>,
    db: &Db,
    app: &AppState,
    user: &CurrentUser,
    row: AssessmentRow,
    errors: Vec<Value>,
    values: Value,
) -> AppResult<(Status, Template)> {
    let actor = user.actor();
    let events = assessments::events(db, row.id).await?;
    let view = load_view(db, app, &actor, row).await?;
    let state = view.state();
    let standing = standing(&view.row, app);
    let can_work = actor.can_work_on_assessments_of(view.row.organisation_id);
    let missing = view.progress.missing_for_submission();
    let missing_list: Vec<Value> = missing
        .iter()
        .map(|c| json!({"id": c.criterion_id, "reason": blocking_reason(c)}))
        .collect();
    let blocking: Vec<Value> = view
        .progress
        .blocking_award()
        .iter()
        .map(|c| json!({"id": c.criterion_id, "reason": blocking_reason(c)}))
        .collect();
    let to_address: Vec<Value> = view
        .progress
        .criteria
        .iter()
        .filter(|c| c.decision.is_some_and(|d| d.needs_action()))
        .map(|c| {
            let decision = view.latest_decision(&c.criterion_id);
            json!({
                "id": c.criterion_id,
                "decision": decision.map(|d| lifecycle::Decision::parse(&d.decision).map(|x| x.label()).unwrap_or("")),
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
                "at": display(&e.at),
                "by": e.actor_label,
                "to": State::parse(&e.to_state).map(|s| s.label()).unwrap_or(""),
                "from": State::parse(&e.from_state).map(|s| s.label()),
                "note": e.note,
            })
        })
        .collect();
    let title = format!("{}: {}", view.row.organisation_name, view.framework.name);
    let status = if errors.is_empty() {
        Status::Ok
    } else {
        Status::UnprocessableEntity
    };
    let field_errors: serde_json::Map<String, Value> = errors
        .iter()
        .rev()
        .filter_map(|e| Some((e["field"].as_str()?.to_string(), e["message"].clone())))
        .collect();
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
async fn show(
    id: i64,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
) -> AppResult<(Status, Template)> {
    let row = visible(db, &user.actor(), id).await?;
    render_show(&page, db, app, user, row, Vec::new(), json!({})).await
}

#[get("/assessments/<id>/criteria/<criterion_id>")]
async fn criterion_page(
    id: i64,
    criterion_id: &str,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
) -> AppResult<Template> {
    let actor = user.actor();
    let row = visible(db, &actor, id).await?;
    let view = load_view(db, app, &actor, row).await?;
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

/// The assessment as it stands inside a transaction, with its progress.
async fn progress_in(
    conn: &mut sqlx::AnyConnection,
    app: &AppState,
    actor: &Actor,
    id: i64,
) -> AppResult<(AssessmentRow, Progress)> {
    let row = assessments::find_in(conn, id).await?.ok_or(AppError::NotFound)?;
    if !actor.can_view_assessments_of(row.organisation_id) {
        return Err(AppError::NotFound);
    }
    let framework = framework_of(app, &row)?;
    let evidence = evidence::for_assessment_in(conn, id).await?;
    let decisions = assessments::decisions_in(conn, id).await?;
    let progress = compute_progress(framework, &evidence, &decisions, today(app));
    Ok((row, progress))
}

/// Two people acted at once and the other got there first.
pub(crate) fn moved_on() -> AppError {
    AppError::BadRequest(
        "The assessment changed while you were working on it. Go back, reload the page and try again.".into(),
    )
}

#[post("/assessments/<id>/submit", data = "<_form>")]
async fn submit(
    id: i64,
    _form: CsrfForm<TokenOnly>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
) -> AppResult<Result<Flash<Redirect>, (Status, Template)>> {
    let actor = user.actor();
    let row = visible(db, &actor, id).await?;
    if !actor.can_work_on_assessments_of(row.organisation_id) {
        return Err(AppError::Forbidden);
    }
    let now = app.now_db();
    let mut tx = crate::db::begin_write(db).await?;
    let (row, progress) = progress_in(&mut tx, app, &actor, id).await?;
    let from = row.state();
    let to = from
        .apply(Action::Submit)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let missing = progress.missing_for_submission();
    if !missing.is_empty() {
        drop(tx);
        let errors: Vec<Value> = missing
            .iter()
            .map(|c| {
                json!({"field": format!("criterion-{}", c.criterion_id),
                    "message": format!("Add evidence for {}: {}", c.criterion_id, blocking_reason(c))})
            })
            .collect();
        return Ok(Err(render_show(&page, db, app, user, row, errors, json!({})).await?));
    }
    if !assessments::submit(&mut tx, id, from, to, &now).await? {
        return Err(moved_on());
    }
    let submission = row.submission + 1;
    assessments::record_event(&mut tx, id, &now, &user.audit_actor(), from.as_str(), to, "").await?;
    audit::record(
        &mut tx,
        &now,
        &user.audit_actor(),
        Entry {
            action: if to == State::Resubmitted {
                "assessment.resubmit"
            } else {
                "assessment.submit"
            },
            entity: "assessment",
            entity_id: Some(id),
            organisation_id: Some(row.organisation_id),
            before: Some(json!({"state": from.as_str(), "submission": row.submission})),
            after: Some(json!({"state": to.as_str(), "submission": submission})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Flash::success(
        Redirect::to(format!("/assessments/{id}")),
        "Sent for review. An assessor will look at your evidence next; you cannot change it until they send it back.",
    )))
}

#[derive(FromForm)]
pub struct AwardForm {
    awarded_on: DateField,
}

#[post("/assessments/<id>/award", data = "<form>")]
async fn award(
    id: i64,
    form: CsrfForm<AwardForm>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
) -> AppResult<Result<Flash<Redirect>, (Status, Template)>> {
    let actor = user.actor();
    let row = visible(db, &actor, id).await?;
    if !actor.can_award() {
        return Err(AppError::Forbidden);
    }
    let values = json!({"awarded_on": form.0.awarded_on.echo()});
    let today = today(app);
    let enrolled_on = crate::clock::from_db(&row.enrolled_at).map(|at| at.date_naive());
    let awarded_on = form.0.awarded_on.date();
    let date_error = match awarded_on {
        None => Some("Enter the award date as day, month and year, like 27 3 2026".to_string()),
        Some(date) if date > today => Some("The award date cannot be in the future".to_string()),
        Some(date) if enrolled_on.is_some_and(|e| date < e) => {
            Some("The award date cannot be before the organisation enrolled".to_string())
        }
        Some(_) => None,
    };
    if let Some(message) = date_error {
        let errors = vec![json!({"field": "awarded_on", "message": message})];
        return Ok(Err(render_show(&page, db, app, user, row, errors, values).await?));
    }
    let Some(awarded_on) = awarded_on else {
        return Err(AppError::BadRequest("Enter the award date".into()));
    };
    let now = app.now_db();
    let mut tx = crate::db::begin_write(db).await?;
    let (row, progress) = progress_in(&mut tx, app, &actor, id).await?;
    let from = row.state();
    from.apply(Action::Award)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let blocking = progress.blocking_award();
    if !blocking.is_empty() {
        drop(tx);
        let errors: Vec<Value> = blocking
            .iter()
            .map(|c| {
                json!({"field": format!("criterion-{}", c.criterion_id),
                    "message": format!("{} must be met before an award: {}", c.criterion_id, blocking_reason(c))})
            })
            .collect();
        return Ok(Err(render_show(&page, db, app, user, row, errors, values).await?));
    }
    let framework = framework_of(app, &row)?;
    let expires_on = lifecycle::expiry_date(awarded_on, framework.validity_months);
    let (awarded_text, expires_text) = (
        awarded_on.format("%Y-%m-%d").to_string(),
        expires_on.format("%Y-%m-%d").to_string(),
    );
    if !assessments::award(&mut tx, id, from, &awarded_text, &expires_text, &now).await? {
        return Err(moved_on());
    }
    let note = format!(
        "Awarded on {}; expires on {}",
        display_date(awarded_on),
        display_date(expires_on)
    );
    assessments::record_event(
        &mut tx,
        id,
        &now,
        &user.audit_actor(),
        from.as_str(),
        State::Awarded,
        &note,
    )
    .await?;
    audit::record(
        &mut tx,
        &now,
        &user.audit_actor(),
        Entry {
            action: "assessment.award",
            entity: "assessment",
            entity_id: Some(id),
            organisation_id: Some(row.organisation_id),
            before: Some(json!({"state": from.as_str()})),
            after: Some(json!({"state": "awarded", "awarded_on": awarded_text, "expires_on": expires_text})),
        },
    )
    .await?;
    // The award's certificate, in the same transaction so an award never
    // exists without one.
    crate::db::certificates::issue_award_certificate(
        &mut tx,
        &crate::db::certificates::NewCertificate {
            kind: crate::domain::certificate::Kind::Award,
            person_id: 0,
            organisation_id: row.organisation_id,
            programme_id: "",
            completion_id: "",
            assessment_id: id,
            holder_name: &row.organisation_name,
            title: &framework.name,
            issued_on: &awarded_text,
            expires_on: &expires_text,
        },
        &now,
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Flash::success(
        Redirect::to(format!("/assessments/{id}")),
        format!(
            "{} has been awarded {}. The award expires on {}.",
            row.organisation_name,
            framework.name,
            display_date(expires_on)
        ),
    )))
}

#[derive(FromForm)]
pub struct RevokeForm {
    #[field(default = String::new())]
    reason: String,
}

#[post("/assessments/<id>/revoke", data = "<form>")]
async fn revoke(
    id: i64,
    form: CsrfForm<RevokeForm>,
    user: &CurrentUser,
    page: Page<'_>,
    db: &Db,
    app: &Managed<AppState>,
) -> AppResult<Result<Flash<Redirect>, (Status, Template)>> {
    let actor = user.actor();
    let row = visible(db, &actor, id).await?;
    if !actor.can_award() {
        return Err(AppError::Forbidden);
    }
    let reason = form.0.reason.trim().to_string();
    let problem = if reason.is_empty() {
        Some("Enter the reason for revoking the award")
    } else if reason.chars().count() > 2000 {
        Some("The reason must be 2000 characters or fewer")
    } else {
        None
    };
    if let Some(message) = problem {
        let errors = vec![json!({"field": "reason", "message": message})];
        return Ok(Err(render_show(
            &page,
            db,
            app,
            user,
            row,
            errors,
            json!({"reason": reason}),
        )
        .await?));
    }
    row.state()
        .apply(Action::Revoke)
        .map_err(|e| AppError::BadRequest(e.to_string()))?;
    let now = app.now_db();
    let mut tx = crate::db::begin_write(db).await?;
    if !assessments::revoke(&mut tx, id, &reason, &now).await? {
        return Err(moved_on());
    }
    // A revoked award's certificate must not verify as valid.
    crate::db::certificates::revoke_for_assessment(&mut tx, id, &reason, &now).await?;
    assessments::record_event(
        &mut tx,
        id,
        &now,
        &user.audit_actor(),
        &row.state,
        State::Revoked,
        &reason,
    )
    .await?;
    audit::record(
        &mut tx,
        &now,
        &user.audit_actor(),
        Entry {
            action: "assessment.revoke",
            entity: "assessment",
            entity_id: Some(id),
            organisation_id: Some(row.organisation_id),
            before: Some(json!({"state": row.state, "awarded_on": row.awarded_on, "expires_on": row.expires_on})),
            after: Some(json!({"state": "revoked", "reason": reason})),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(Flash::success(
        Redirect::to(format!("/assessments/{id}")),
        format!("The award to {} has been revoked.", row.organisation_name),
    )))
}

/// Starts the next assessment for an award on the framework's current
/// version, carrying over evidence that is still valid, for re-review.
#[post("/assessments/<id>/renew", data = "<_form>")]
async fn renew(
    id: i64,
    _form: CsrfForm<TokenOnly>,
    user: &CurrentUser,
    db: &Db,
    app: &Managed<AppState>,
) -> AppResult<Flash<Redirect>> {
    let actor = user.actor();
    let row = visible(db, &actor, id).await?;
    if !actor.can_work_on_assessments_of(row.organisation_id) {
        return Err(AppError::Forbidden);
    }
    if let Some(existing) = row.renewed_by {
        return Ok(Flash::success(
            Redirect::to(format!("/assessments/{existing}")),
            "The renewal has already been started.",
        ));
    }
    if row.state() != State::Awarded {
        return Err(AppError::BadRequest("Only an award can be renewed.".into()));
    }
    let framework = app
        .standards
        .current_version(&row.framework_id)
        .ok_or_else(|| AppError::BadRequest("This framework is no longer offered, so it cannot be renewed.".into()))?;
    let today = today(app);
    let now = app.now_db();
    let audit_actor = user.audit_actor();
    let mut tx = crate::db::begin_write(db).await?;
    let old_evidence: Vec<EvidenceRow> = evidence::for_assessment_in(&mut tx, id)
        .await?
        .into_iter()
        .filter(EvidenceRow::is_current)
        .collect();
    let candidates: Vec<CarryCandidate> = old_evidence
        .iter()
        .map(|e| CarryCandidate {
            evidence_id: e.id,
            criterion_id: e.criterion_id.clone(),
            valid_until: date_of(&e.valid_until),
        })
        .collect();
    let carried = lifecycle::carry_over(&candidates, framework, today);
    let initial = if carried.is_empty() {
        State::Enrolled
    } else {
        State::InProgress
    };
    let new_id = assessments::insert(
        &mut tx,
        &NewAssessment {
            organisation_id: row.organisation_id,
            framework_id: &framework.id,
            framework_version: &framework.version,
            state: initial,
            renewal_of: Some(id),
        },
        &now,
    )
    .await?;
    for (evidence_id, _) in &carried {
        let Some(old) = old_evidence.iter().find(|e| e.id == *evidence_id) else {
            continue;
        };
        evidence::insert(
            &mut tx,
            &NewEvidence {
                assessment_id: new_id,
                organisation_id: row.organisation_id,
                criterion_id: &old.criterion_id,
                replaces: None,
                kind: &old.kind,
                title: &old.title,
                statement: &old.statement,
                url: &old.url,
                file: FileRef {
                    sha256: &old.file_sha256,
                    name: &old.file_name,
                    kind: &old.file_type,
                    size: old.file_size,
                },
                applies_from: &old.applies_from,
                valid_until: old.valid_until.as_deref().unwrap_or(""),
                for_submission: 1,
                carried_from: Some(old.id),
            },
            &audit_actor,
            &now,
        )
        .await?;
    }
    let expiring = carried.iter().filter(|(_, flagged)| *flagged).count();
    let note = format!(
        "Renewal of assessment {id} on {} version {}; {} item(s) of evidence carried over",
        framework.name,
        framework.version,
        carried.len()
    );
    assessments::record_event(&mut tx, new_id, &now, &audit_actor, "", initial, &note).await?;
    audit::record(
        &mut tx,
        &now,
        &audit_actor,
        Entry {
            action: "assessment.renew",
            entity: "assessment",
            entity_id: Some(new_id),
            organisation_id: Some(row.organisation_id),
            before: None,
            after: Some(json!({"renewal_of": id, "framework_version": framework.version,
                "carried_over": carried.len(), "ending_before_next_expiry": expiring})),
        },
    )
    .await?;
    tx.commit().await?;
    let mut message = format!(
        "Renewal started on {} version {}. {} item(s) of evidence carried over from the award; each will be reviewed again.",
        framework.name,
        framework.version,
        carried.len()
    );
    if expiring > 0 {
        message.push_str(&format!(
            " {expiring} of them stop being valid before the renewed award would end: they are flagged below."
        ));
    }
    Ok(Flash::success(Redirect::to(format!("/assessments/{new_id}")), message))
}
