//! Assessments: enrol, submit, award, revoke and start a renewal, and the
//! views of an assessment that the pages and the API are built from.

use super::training_requirements::{self, CriterionTraining};
use super::{certificates, Acting, AppState, Ctx, IdName};
use crate::clock::display;
use crate::db::assessments::{self, AssessmentRow, DecisionRow, NewAssessment};
use crate::db::audit::{self, Entry};
use crate::db::evidence::{self, EvidenceRow, NewEvidence};
use crate::db::{self, organisations};
use crate::db::{Conn, Pool};
use crate::domain::access::{Actor, OrgScope};
use crate::domain::assessment::{
    self as lifecycle, blocking_reason, display_date, Action, AwardStatus, CarryCandidate, CriterionProgress,
    DecisionFact, EvidenceFact, Progress, Standing, State,
};
use crate::domain::standards::Framework;
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use serde_json::json;

/// The assessment, if `actor` may see it. Roles that never see assessments
/// are refused outright; an organisation member asking for another
/// organisation's gets "not found", so ids cannot be probed.
pub async fn visible(db: &Pool, actor: &Actor, id: i64) -> AppResult<AssessmentRow> {
    if !actor.can_view_assessments() {
        return Err(AppError::Forbidden);
    }
    let row = assessments::find(db, id).await?.ok_or(AppError::NotFound)?;
    if !actor.can_view_assessments_of(row.organisation_id) {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

/// Where the assessment stands on `today`: its state, or for an award what its dates make it.
pub fn standing(row: &AssessmentRow, app: &AppState, today: NaiveDate) -> Standing {
    Standing::of(
        row.state,
        row.expires_on,
        row.renewal_awarded(),
        today,
        app.config.renewal_notice_days,
    )
}

/// The framework version the assessment is pinned to.
pub fn framework_of<'a>(app: &'a AppState, row: &AssessmentRow) -> AppResult<&'a Framework> {
    app.standards
        .get(&row.framework_id, &row.framework_version)
        .ok_or_else(|| {
            AppError::Internal(format!(
                "framework {} version {} is no longer in the standards library; old versions must be kept",
                row.framework_id, row.framework_version
            ))
        })
}

/// One assessment as lists show it (pages and the API alike).
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    pub id: i64,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub framework_id: String,
    pub framework_version: String,
    pub framework_name: String,
    pub state: State,
    pub state_label: &'static str,
    pub standing: &'static str,
    pub standing_label: &'static str,
    pub standing_colour: &'static str,
    pub submission: i64,
    pub enrolled_at: DateTime<Utc>,
    pub enrolled_display: String,
    pub submitted_at: Option<DateTime<Utc>>,
    pub submitted_display: Option<String>,
    pub awarded_on: Option<NaiveDate>,
    pub awarded_display: Option<String>,
    pub expires_on: Option<NaiveDate>,
    pub expires_display: Option<String>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_display: Option<String>,
    pub revocation_reason: String,
    pub renewal_of: Option<i64>,
    pub renewed_by: Option<i64>,
}

impl Summary {
    pub fn of(row: &AssessmentRow, app: &AppState, today: NaiveDate) -> Summary {
        let standing = standing(row, app, today);
        let framework_name = app
            .standards
            .get(&row.framework_id, &row.framework_version)
            .map(|f| f.name.clone())
            .unwrap_or_else(|| row.framework_id.clone());
        Summary {
            id: row.id,
            organisation_id: row.organisation_id,
            organisation_name: row.organisation_name.clone(),
            framework_id: row.framework_id.clone(),
            framework_version: row.framework_version.clone(),
            framework_name,
            state: row.state,
            state_label: row.state.label(),
            standing: standing.as_str(),
            standing_label: standing.label(),
            standing_colour: standing.colour(),
            submission: row.submission,
            enrolled_at: row.enrolled_at,
            enrolled_display: display(row.enrolled_at),
            submitted_at: row.submitted_at,
            submitted_display: row.submitted_at.map(display),
            awarded_on: row.awarded_on,
            awarded_display: row.awarded_on.map(display_date),
            expires_on: row.expires_on,
            expires_display: row.expires_on.map(display_date),
            revoked_at: row.revoked_at,
            revoked_display: row.revoked_at.map(display),
            revocation_reason: row.revocation_reason.clone(),
            renewal_of: row.renewal_of,
            renewed_by: row.renewed_by,
        }
    }
}

/// Everything an assessment's pages show, loaded once.
pub struct View<'a> {
    pub row: AssessmentRow,
    pub framework: &'a Framework,
    pub evidence: Vec<EvidenceRow>,
    pub decisions: Vec<DecisionRow>,
    pub progress: Progress,
    /// Criteria's training requirements: live, or frozen at submission.
    pub training: Vec<CriterionTraining>,
    pub today: NaiveDate,
    pub projected_expiry: NaiveDate,
}

impl View<'_> {
    pub fn state(&self) -> State {
        self.row.state
    }

    pub fn latest_decision(&self, criterion_id: &str) -> Option<&DecisionRow> {
        self.decisions.iter().rev().find(|d| d.criterion_id == criterion_id)
    }

    pub fn training_of(&self, criterion_id: &str) -> Option<&CriterionTraining> {
        self.training.iter().find(|t| t.criterion_id == criterion_id)
    }
}

/// Loads the assessment's evidence and decisions and works out each
/// criterion's status. An organisation member does not see the decisions
/// of a review still in progress: they are released when the assessor
/// sends the assessment back or it is awarded.
pub async fn load_view<'a>(ctx: Ctx<'a>, actor: &Actor, row: AssessmentRow) -> AppResult<View<'a>> {
    load_view_in(&mut ctx.db.acquire().await?, ctx, actor, row).await
}

/// [`load_view`] on a connection the caller holds. Every read is on it, one
/// after another: each is a fraction of a millisecond, and on a busy server
/// each wait for a connection's turn took longer than all of them (the
/// evidence and decisions read at once on two connections, then the
/// training on a third, were two waits).
pub async fn load_view_in<'a>(conn: &mut Conn, ctx: Ctx<'a>, actor: &Actor, row: AssessmentRow) -> AppResult<View<'a>> {
    let framework = framework_of(ctx.app, &row)?;
    let evidence = evidence::for_assessment_in(conn, row.id).await?;
    let mut decisions = assessments::decisions_in(conn, row.id).await?;
    if !actor.can_review() && row.state.in_review() {
        decisions.retain(|d| d.submission < row.submission);
    }
    let today = ctx.today();
    let (progress, training) = with_training(conn, ctx, framework, &row, &evidence, &decisions).await?;
    let projected_expiry = lifecycle::projected_expiry(row.expires_on, today, framework.validity_months);
    Ok(View {
        row,
        framework,
        evidence,
        decisions,
        progress,
        training,
        today,
        projected_expiry,
    })
}

pub fn compute_progress(
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
            valid_until: e.valid_until,
        })
        .collect();
    let decided: Vec<DecisionFact> = decisions
        .iter()
        .map(|d| DecisionFact {
            criterion_id: d.criterion_id.clone(),
            submission: d.submission,
            decision: d.decision,
        })
        .collect();
    Progress::compute(framework, &facts, &decided, today)
}

/// The progress with what the training record adds: a met requirement is
/// evidence, and a frozen record that changed since the assessor's decision
/// on it makes that decision stand no longer, as changed evidence does.
pub(super) async fn with_training(
    conn: &mut Conn,
    ctx: Ctx<'_>,
    framework: &Framework,
    row: &AssessmentRow,
    evidence: &[EvidenceRow],
    decisions: &[DecisionRow],
) -> AppResult<(Progress, Vec<CriterionTraining>)> {
    let training =
        training_requirements::for_assessment(conn, &ctx.app.programmes, framework, row, ctx.today()).await?;
    let changed = training_requirements::changed_since(conn, row.id, decisions).await?;
    let progress = compute_progress(framework, evidence, decisions, ctx.today())
        .with_training_met(training_requirements::met(&training))
        .with_changed_since_decision(&changed);
    Ok((progress, training))
}

/// The assessment as it stands inside a transaction, with its progress
/// and its training requirements (live while it can change its evidence).
pub(super) async fn progress_in(
    conn: &mut Conn,
    ctx: Ctx<'_>,
    actor: &Actor,
    id: i64,
) -> AppResult<(AssessmentRow, Progress, Vec<CriterionTraining>)> {
    let row = assessments::find_in(conn, id).await?.ok_or(AppError::NotFound)?;
    if !actor.can_view_assessments_of(row.organisation_id) {
        return Err(AppError::NotFound);
    }
    let framework = framework_of(ctx.app, &row)?;
    let evidence = evidence::for_assessment_in(conn, id).await?;
    let decisions = assessments::decisions_in(conn, id).await?;
    let (progress, training) = with_training(conn, ctx, framework, &row, &evidence, &decisions).await?;
    Ok((row, progress, training))
}

/// Two people acted at once and the other got there first.
pub fn moved_on() -> AppError {
    AppError::Conflict(
        "The assessment changed while you were working on it: someone else moved it on first. Go back, reload the page and try again."
            .into(),
    )
}

/// Moves assessment `id` from `from` to `to` and records who did, when and
/// why in its history; refused with [`moved_on`] if it is no longer `from`.
pub(super) async fn move_state(
    conn: &mut Conn,
    id: i64,
    from: State,
    to: State,
    by: audit::Stamp<'_>,
    note: &str,
) -> AppResult<()> {
    if !assessments::set_state(conn, id, from, to, by.at).await? {
        return Err(moved_on());
    }
    assessments::record_event(conn, id, by, from.as_str(), to, note).await?;
    Ok(())
}

/// A state change that is not possible from where the assessment stands.
fn not_now(e: lifecycle::TransitionError) -> AppError {
    AppError::Conflict(e.to_string())
}

/// A criterion that stops a step, as a line for an error summary.
#[derive(Debug, Clone, Serialize)]
pub struct Blocker {
    pub criterion_id: String,
    pub reason: String,
}

fn blockers(list: &[&CriterionProgress]) -> Vec<Blocker> {
    list.iter()
        .map(|c| Blocker {
            criterion_id: c.criterion_id.clone(),
            reason: blocking_reason(c),
        })
        .collect()
}

// ---------------------------------------------------------------- enrol

pub struct EnrolInput<'a> {
    /// Ignored for an organisation member, who always enrols their own.
    pub organisation_id: Option<i64>,
    pub framework_id: &'a str,
}

pub struct Enrolled {
    pub id: i64,
    pub organisation_name: String,
    pub framework_name: String,
    pub framework_version: String,
}

/// Whether `actor` may enrol anyone at all (the programme lead, or a member for their own).
pub fn may_enrol(actor: &Actor) -> bool {
    actor.is_programme_lead()
        || actor
            .organisation_id
            .is_some_and(|o| actor.can_work_on_assessments_of(o))
}

/// Enrols an organisation on the current version of a framework, unless it
/// is already working towards it or holds it.
pub async fn enrol(ctx: Ctx<'_>, acting: &Acting, input: &EnrolInput<'_>) -> AppResult<Result<Enrolled, FieldErrors>> {
    let actor = &acting.access;
    let organisation_id = match actor.org_scope() {
        OrgScope::Only(own) => Some(own),
        OrgScope::All => input.organisation_id,
    };
    if !(actor.is_programme_lead() || organisation_id.is_some_and(|o| actor.can_work_on_assessments_of(o))) {
        return Err(AppError::Forbidden);
    }
    let mut errors = FieldErrors::default();
    let organisation = match organisation_id {
        Some(id) => organisations::find(ctx.db, id).await?,
        None => None,
    };
    if organisation.is_none() {
        errors.add("organisation_id", "Choose the organisation to enrol");
    }
    let framework = ctx.app.standards.current_version(input.framework_id.trim());
    if framework.is_none() {
        errors.add("framework_id", "Choose a framework");
    }
    let (Some(organisation), Some(framework)) = (organisation, framework) else {
        return Ok(Err(errors));
    };
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let existing = assessments::for_organisation_framework(&mut tx, organisation.id, &framework.id).await?;
    let blocking = existing.iter().find(|a| {
        a.state.is_open()
            || matches!(standing(a, ctx.app, ctx.today()), Standing::Award(status) if status != AwardStatus::Expired)
    });
    if let Some(other) = blocking {
        let message = if other.state.is_open() {
            format!(
                "{} is already working towards {} (assessment {}, {}). Carry on with that one.",
                organisation.name,
                framework.name,
                other.id,
                other.state.label().to_lowercase()
            )
        } else {
            format!(
                "{} already holds {} (assessment {}). Start a renewal from that assessment instead.",
                organisation.name, framework.name, other.id
            )
        };
        errors.add("framework_id", message);
        return Ok(Err(errors));
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
        now,
    )
    .await?;
    let note = format!("Enrolled on {} version {}", framework.name, framework.version);
    assessments::record_event(&mut tx, id, acting.at(now), "", State::Enrolled, &note).await?;
    let entry = Entry::assessment("assessment.enrol", id, organisation.id)
        .after(json!({"framework_id": framework.id, "framework_version": framework.version, "state": State::Enrolled}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(Enrolled {
        id,
        organisation_name: organisation.name,
        framework_name: framework.name.clone(),
        framework_version: framework.version.clone(),
    }))
}

// ---------------------------------------------------------------- submit

pub struct Submitted {
    pub state: State,
    pub submission: i64,
}

/// Sends the assessment for review (again, after changes). Refused, with
/// the criteria that lack usable evidence, until every mandatory one has some.
pub async fn submit(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<Result<Submitted, Vec<Blocker>>> {
    let actor = &acting.access;
    let row = visible(ctx.db, actor, id).await?;
    if !actor.can_work_on_assessments_of(row.organisation_id) {
        return Err(AppError::Forbidden);
    }
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let (row, progress, training) = progress_in(&mut tx, ctx, actor, id).await?;
    let from = row.state;
    let to = from.apply(Action::Submit).map_err(not_now)?;
    let missing = progress.missing_for_submission();
    if !missing.is_empty() {
        return Ok(Err(blockers(&missing)));
    }
    if !assessments::submit(&mut tx, id, from, to, now).await? {
        return Err(moved_on());
    }
    let submission = row.submission + 1;
    // What the training record says now is what the assessor reviews.
    training_requirements::freeze(&mut tx, id, submission, &training, now).await?;
    assessments::record_event(&mut tx, id, acting.at(now), from.as_str(), to, "").await?;
    let action = if to == State::Resubmitted {
        "assessment.resubmit"
    } else {
        "assessment.submit"
    };
    let judged: Vec<_> = training
        .iter()
        .map(|t| json!({"criterion": t.criterion_id, "met": t.judgement.met, "figures": t.judgement.figures}))
        .collect();
    let entry = Entry::assessment(action, id, row.organisation_id)
        .before(json!({"state": from, "submission": row.submission}))
        .after(json!({"state": to, "submission": submission, "training": judged}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    super::reminders::submitted(&mut tx, ctx, &row, submission).await?;
    tx.commit().await?;
    Ok(Ok(Submitted { state: to, submission }))
}

// ---------------------------------------------------------------- award

pub enum AwardRefused {
    /// The date is missing, in the future or before enrolment.
    Date(String),
    /// Mandatory criteria not yet met.
    Blocking(Vec<Blocker>),
}

pub struct Awarded {
    pub organisation_name: String,
    pub framework_name: String,
    pub expires_on: NaiveDate,
    pub certificate_code: String,
}

/// Makes the award, dated `awarded_on`, and issues its certificate in the
/// same transaction, so an award never exists without one.
pub async fn award(
    ctx: Ctx<'_>,
    acting: &Acting,
    id: i64,
    awarded_on: Option<NaiveDate>,
) -> AppResult<Result<Awarded, AwardRefused>> {
    let actor = &acting.access;
    let row = visible(ctx.db, actor, id).await?;
    if !actor.can_award() {
        return Err(AppError::Forbidden);
    }
    let enrolled_on = Some(row.enrolled_at.date_naive());
    let awarded_on = match awarded_on {
        None => {
            return Ok(Err(AwardRefused::Date(
                "Enter the award date as day, month and year, like 27 3 2026".into(),
            )))
        }
        Some(date) if date > ctx.today() => {
            return Ok(Err(AwardRefused::Date("The award date cannot be in the future".into())))
        }
        Some(date) if enrolled_on.is_some_and(|e| date < e) => {
            return Ok(Err(AwardRefused::Date(
                "The award date cannot be before the organisation enrolled".into(),
            )))
        }
        Some(date) => date,
    };
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let (row, progress, _) = progress_in(&mut tx, ctx, actor, id).await?;
    let from = row.state;
    from.apply(Action::Award).map_err(not_now)?;
    let blocking = progress.blocking_award();
    if !blocking.is_empty() {
        return Ok(Err(AwardRefused::Blocking(blockers(&blocking))));
    }
    let framework = framework_of(ctx.app, &row)?;
    let expires_on = lifecycle::expiry_date(awarded_on, framework.validity_months);
    if !assessments::award(&mut tx, id, from, awarded_on, expires_on, now).await? {
        return Err(moved_on());
    }
    let note = format!(
        "Awarded on {}; expires on {}",
        display_date(awarded_on),
        display_date(expires_on)
    );
    assessments::record_event(&mut tx, id, acting.at(now), from.as_str(), State::Awarded, &note).await?;
    let entry = Entry::assessment("assessment.award", id, row.organisation_id)
        .before(json!({"state": from}))
        .after(json!({"state": State::Awarded, "awarded_on": awarded_on, "expires_on": expires_on}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    let certificate_code = certificates::issue_for_award(
        &mut tx,
        now,
        &acting.audit,
        &certificates::AwardCertificate {
            assessment_id: id,
            organisation_id: row.organisation_id,
            holder_name: &row.organisation_name,
            title: &framework.name,
            issued_on: awarded_on,
            expires_on,
        },
    )
    .await?;
    super::reminders::award_certificate_issued(&mut tx, ctx, &row, expires_on, &certificate_code).await?;
    tx.commit().await?;
    Ok(Ok(Awarded {
        organisation_name: row.organisation_name,
        framework_name: framework.name.clone(),
        expires_on,
        certificate_code,
    }))
}

// ---------------------------------------------------------------- revoke

pub struct Revoked {
    pub organisation_name: String,
}

/// Takes an award away, with a reason; its certificates stop verifying as valid.
pub async fn revoke(ctx: Ctx<'_>, acting: &Acting, id: i64, reason: &str) -> AppResult<Result<Revoked, FieldErrors>> {
    let actor = &acting.access;
    let row = visible(ctx.db, actor, id).await?;
    if !actor.can_award() {
        return Err(AppError::Forbidden);
    }
    let reason = reason.trim();
    let mut errors = FieldErrors::default();
    if reason.is_empty() {
        errors.add("reason", "Enter the reason for revoking the award");
    } else if reason.chars().count() > 2000 {
        errors.add("reason", "The reason must be 2000 characters or fewer");
    }
    if !errors.is_empty() {
        return Ok(Err(errors));
    }
    row.state.apply(Action::Revoke).map_err(not_now)?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !assessments::revoke(&mut tx, id, reason, now).await? {
        return Err(moved_on());
    }
    certificates::revoke_for_award(&mut tx, now, &acting.audit, row.organisation_id, id, reason).await?;
    assessments::record_event(&mut tx, id, acting.at(now), row.state.as_str(), State::Revoked, reason).await?;
    let entry = Entry::assessment("assessment.revoke", id, row.organisation_id)
        .before(json!({"state": row.state, "awarded_on": row.awarded_on, "expires_on": row.expires_on}))
        .after(json!({"state": State::Revoked, "reason": reason}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(Revoked {
        organisation_name: row.organisation_name,
    }))
}

// ---------------------------------------------------------------- renew

pub struct RenewalStarted {
    pub id: i64,
    pub framework_name: String,
    pub framework_version: String,
    pub carried_over: usize,
    /// Carried items that stop being valid before the renewed award would end.
    pub ending_early: usize,
}

fn already_renewing(existing: i64) -> AppError {
    AppError::Conflict(format!(
        "The renewal of this award has already been started (assessment {existing}). Open it from the award's page to carry on."
    ))
}

/// Starts the next assessment for an award, on the framework's current
/// version, carrying over evidence that is still valid, for re-review.
///
/// Only one renewal may follow an award. The award's row is claimed first
/// (a conditional update that takes its write lock), so a second request
/// waits for the first and then finds its renewal: a conflict, never a
/// duplicate. The UNIQUE index on `renewal_of` is the last word if two
/// still meet.
pub async fn start_renewal(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<RenewalStarted> {
    let actor = &acting.access;
    let row = visible(ctx.db, actor, id).await?;
    if !actor.can_work_on_assessments_of(row.organisation_id) {
        return Err(AppError::Forbidden);
    }
    if let Some(existing) = row.renewed_by {
        return Err(already_renewing(existing));
    }
    if row.state != State::Awarded {
        return Err(AppError::Conflict("Only an award can be renewed.".into()));
    }
    let framework =
        ctx.app.standards.current_version(&row.framework_id).ok_or_else(|| {
            AppError::BadRequest("This framework is no longer offered, so it cannot be renewed.".into())
        })?;
    let today = ctx.today();
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !assessments::claim(&mut tx, id, State::Awarded, now).await? {
        return Err(moved_on());
    }
    let row = assessments::find_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if let Some(existing) = row.renewed_by {
        return Err(already_renewing(existing));
    }
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
            valid_until: e.valid_until,
        })
        .collect();
    let carried = lifecycle::carry_over(&candidates, framework, today);
    let initial = if carried.is_empty() {
        State::Enrolled
    } else {
        State::InProgress
    };
    let inserted = assessments::insert(
        &mut tx,
        &NewAssessment {
            organisation_id: row.organisation_id,
            framework_id: &framework.id,
            framework_version: &framework.version,
            state: initial,
            renewal_of: Some(id),
        },
        now,
    )
    .await;
    let new_id = match inserted {
        Err(e) if db::is_unique_violation(&e) => {
            return Err(AppError::Conflict(
                "The renewal of this award has just been started by someone else. Open it from the award's page."
                    .into(),
            ))
        }
        other => other?,
    };
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
                kind: old.kind,
                title: &old.title,
                statement: &old.statement,
                url: &old.url,
                file: old.file(),
                applies_from: old.applies_from,
                valid_until: old.valid_until,
                for_submission: 1,
                carried_from: Some(old.id),
            },
            &acting.audit,
            now,
        )
        .await?;
    }
    let ending_early = carried.iter().filter(|(_, flagged)| *flagged).count();
    let note = format!(
        "Renewal of assessment {id} on {} version {}; {} item(s) of evidence carried over",
        framework.name,
        framework.version,
        carried.len()
    );
    assessments::record_event(&mut tx, new_id, acting.at(now), "", initial, &note).await?;
    let entry = Entry::assessment("assessment.renew", new_id, row.organisation_id)
        .after(json!({"renewal_of": id, "framework_version": framework.version,
            "carried_over": carried.len(), "ending_before_next_expiry": ending_early}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(RenewalStarted {
        id: new_id,
        framework_name: framework.name.clone(),
        framework_version: framework.version.clone(),
        carried_over: carried.len(),
        ending_early,
    })
}

// ---------------------------------------------------------------- the API's views

/// An award's dates and status, for the API.
#[derive(Debug, Clone, Serialize)]
pub struct AwardView {
    pub awarded_on: Option<NaiveDate>,
    pub expires_on: Option<NaiveDate>,
    pub status: &'static str,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revocation_reason: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct FrameworkRef {
    pub id: String,
    pub version: String,
    pub name: String,
}

/// One assessment in the API's list.
#[derive(Debug, Clone, Serialize)]
pub struct ApiSummary {
    pub id: i64,
    pub organisation: IdName,
    pub framework: FrameworkRef,
    pub state: State,
    pub status: &'static str,
    pub status_label: &'static str,
    pub submission: i64,
    pub enrolled_at: DateTime<Utc>,
    pub submitted_at: Option<DateTime<Utc>>,
    pub award: Option<AwardView>,
    pub renewal_of: Option<i64>,
    pub renewed_by: Option<i64>,
}

impl From<Summary> for ApiSummary {
    fn from(s: Summary) -> Self {
        let award = s.awarded_on.is_some().then(|| AwardView {
            awarded_on: s.awarded_on,
            expires_on: s.expires_on,
            status: s.standing,
            revoked_at: s.revoked_at,
            revocation_reason: s.revocation_reason.clone(),
        });
        ApiSummary {
            id: s.id,
            organisation: IdName {
                id: s.organisation_id,
                name: s.organisation_name,
            },
            framework: FrameworkRef {
                id: s.framework_id,
                version: s.framework_version,
                name: s.framework_name,
            },
            state: s.state,
            status: s.standing,
            status_label: s.standing_label,
            submission: s.submission,
            enrolled_at: s.enrolled_at,
            submitted_at: s.submitted_at,
            award,
            renewal_of: s.renewal_of,
            renewed_by: s.renewed_by,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiPage {
    pub assessments: Vec<ApiSummary>,
    pub total: i64,
    pub page: i64,
    pub page_size: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiDecision {
    pub decision: lifecycle::Decision,
    pub feedback: String,
    pub submission: i64,
    pub decided_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApiCriterion {
    pub id: String,
    pub area_id: String,
    pub standard_id: String,
    pub mandatory: bool,
    pub status: Option<&'static str>,
    pub evidence_count: usize,
    pub expired_evidence_count: usize,
    pub changed_since_decision: bool,
    pub decision: Option<ApiDecision>,
    /// The criterion's training requirement, if it has one.
    pub training: Option<ApiTraining>,
}

/// A training requirement judged live, or as frozen at submission.
#[derive(Debug, Clone, Serialize)]
pub struct ApiTraining {
    pub programme: String,
    pub completion: String,
    pub asks: String,
    pub met: bool,
    pub figures: String,
    pub trained: Vec<String>,
    pub not_trained: Vec<String>,
    pub as_of: NaiveDate,
    /// When it was frozen at submission; `None` for a live judgement.
    pub frozen_at: Option<DateTime<Utc>>,
}

impl From<&CriterionTraining> for ApiTraining {
    fn from(t: &CriterionTraining) -> Self {
        ApiTraining {
            programme: t.programme_id.clone(),
            completion: t.completion_id.clone(),
            asks: t.asks.clone(),
            met: t.judgement.met,
            figures: t.judgement.figures.clone(),
            trained: t.judgement.trained_names.clone(),
            not_trained: t.judgement.untrained_names.clone(),
            as_of: t.judgement.as_of,
            frozen_at: t.frozen_at,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct CriterionReason {
    pub id: String,
    pub reason: String,
}

impl From<Blocker> for CriterionReason {
    fn from(b: Blocker) -> Self {
        CriterionReason {
            id: b.criterion_id,
            reason: b.reason,
        }
    }
}

/// One assessment with every criterion's status, for the API.
#[derive(Debug, Clone, Serialize)]
pub struct ApiAssessment {
    #[serde(flatten)]
    pub summary: ApiSummary,
    pub criteria: Vec<ApiCriterion>,
    pub missing_for_submission: Vec<CriterionReason>,
    pub blocking_award: Vec<CriterionReason>,
    pub projected_expiry: String,
    pub projected_expiry_label: String,
}

/// A filter the API was given that names no state.
pub struct UnknownState;

/// One page of the assessments `actor` may see, for the API.
pub async fn api_list(
    ctx: Ctx<'_>,
    actor: &Actor,
    state: Option<&str>,
    framework_id: Option<&str>,
    page: i64,
    page_size: i64,
) -> AppResult<Result<ApiPage, UnknownState>> {
    if !actor.can_view_assessments() {
        return Err(AppError::Forbidden);
    }
    // A filter that was given must name a state, even an empty one.
    let state = match state {
        Some(name) if State::parse(name).is_none() => return Ok(Err(UnknownState)),
        Some(name) => name,
        None => "",
    };
    let page = page.max(1);
    let (rows, total) = assessments::list(
        ctx.db,
        &assessments::ListFilter {
            scope: actor.org_scope(),
            state,
            framework_id: framework_id.unwrap_or(""),
            limit: page_size,
            offset: (page - 1).saturating_mul(page_size),
        },
    )
    .await?;
    Ok(Ok(ApiPage {
        assessments: rows
            .iter()
            .map(|row| Summary::of(row, ctx.app, ctx.today()).into())
            .collect(),
        total,
        page,
        page_size,
    }))
}

/// One assessment with every criterion's status, for the API.
pub async fn api_one(ctx: Ctx<'_>, actor: &Actor, id: i64) -> AppResult<ApiAssessment> {
    let row = visible(ctx.db, actor, id).await?;
    let summary = Summary::of(&row, ctx.app, ctx.today());
    let view = load_view(ctx, actor, row).await?;
    let criteria = view
        .framework
        .areas
        .iter()
        .flat_map(|area| area.standards.iter().map(move |s| (area, s)))
        .flat_map(|(area, standard)| standard.criteria.iter().map(move |c| (area, standard, c)))
        .map(|(area, standard, criterion)| {
            let progress = view.progress.get(&criterion.id);
            ApiCriterion {
                id: criterion.id.clone(),
                area_id: area.id.clone(),
                standard_id: standard.id.clone(),
                mandatory: criterion.mandatory,
                status: progress.map(|p| p.status.as_str()),
                evidence_count: progress.map(|p| p.usable_evidence).unwrap_or(0),
                expired_evidence_count: progress.map(|p| p.expired_evidence).unwrap_or(0),
                changed_since_decision: progress.is_some_and(|p| p.changed_since_decision),
                decision: view.latest_decision(&criterion.id).map(|d| ApiDecision {
                    decision: d.decision,
                    feedback: d.feedback.clone(),
                    submission: d.submission,
                    decided_at: d.decided_at,
                }),
                training: view.training_of(&criterion.id).map(ApiTraining::from),
            }
        })
        .collect();
    let reasons = |list: &[&CriterionProgress]| -> Vec<CriterionReason> {
        blockers(list).into_iter().map(CriterionReason::from).collect()
    };
    Ok(ApiAssessment {
        summary: summary.into(),
        criteria,
        missing_for_submission: reasons(&view.progress.missing_for_submission()),
        blocking_award: reasons(&view.progress.blocking_award()),
        projected_expiry: view.projected_expiry.format("%Y-%m-%d").to_string(),
        projected_expiry_label: display_date(view.projected_expiry),
    })
}
