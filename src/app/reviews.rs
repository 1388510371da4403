//! The assessor's workflows: record decisions and feedback per criterion,
//! send an assessment back for changes, recommend an award.

use super::assessments::{framework_of, load_view, move_state, moved_on, visible, with_training, Blocker};
use super::{Acting, Ctx};
use crate::db::assessments::{self as rows, AssessmentRow, NewDecision};
use crate::db::audit::{self, Entry};
use crate::db::{self, evidence};
use crate::domain::assessment::{blocking_reason, Action, Decision, State};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use serde_json::json;

/// The longest feedback (or summary note) an assessor may write.
pub const MAX_FEEDBACK_CHARS: usize = 4_000;

/// The assessment, if `acting` may review it.
pub async fn reviewable(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<AssessmentRow> {
    let row = visible(ctx.db, &acting.access, id).await?;
    acting.require(|a| a.can_review())?;
    Ok(row)
}

fn not_now(e: crate::domain::assessment::TransitionError) -> AppError {
    AppError::Conflict(e.to_string())
}

/// One criterion's decision as the assessor gave it.
pub struct DecisionInput {
    pub criterion_id: String,
    pub decision: Decision,
    pub feedback: String,
}

/// Records decisions on the submission the assessor was looking at (`seen`,
/// as read before they were checked). An unchanged answer to an unchanged
/// criterion is not a new decision. Returns how many were saved.
pub async fn record_decisions(
    ctx: Ctx<'_>,
    acting: &Acting,
    seen: &AssessmentRow,
    decisions: &[DecisionInput],
) -> AppResult<usize> {
    acting.require(|a| a.can_review())?;
    let id = seen.id;
    let from = seen.state;
    from.apply(Action::RecordDecisions).map_err(not_now)?;
    let framework = framework_of(ctx.app, seen)?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let current = rows::find_in(&mut tx, id).await?.ok_or(AppError::NotFound)?;
    if current.state != from || current.submission != seen.submission {
        return Err(moved_on());
    }
    let evidence = evidence::for_assessment_in(&mut tx, id).await?;
    let existing = rows::decisions_in(&mut tx, id).await?;
    let (progress, _) = with_training(&mut tx, ctx, framework, &current, &evidence, &existing).await?;
    let mut saved = Vec::new();
    for input in decisions {
        let latest = existing.iter().rev().find(|d| d.criterion_id == input.criterion_id);
        let stale = progress
            .get(&input.criterion_id)
            .is_some_and(|p| p.changed_since_decision);
        let same = latest.is_some_and(|d| d.decision == input.decision && d.feedback == input.feedback);
        if same && !stale {
            continue;
        }
        rows::insert_decision(
            &mut tx,
            id,
            &NewDecision {
                criterion_id: &input.criterion_id,
                submission: current.submission,
                decision: input.decision.as_str(),
                feedback: &input.feedback,
            },
            &acting.audit,
            now,
        )
        .await?;
        saved.push(
            json!({"criterion_id": input.criterion_id, "decision": input.decision, "feedback": input.feedback,
            "before": latest.map(|d| json!({"decision": d.decision, "feedback": d.feedback}))}),
        );
    }
    let to = from.apply(Action::RecordDecisions).map_err(|_| moved_on())?;
    if !saved.is_empty() {
        if to != from {
            let note = if from == State::Recommended {
                "Recommendation withdrawn: decisions changed"
            } else {
                "Review started"
            };
            move_state(&mut tx, id, from, to, acting.at(now), note).await?;
        }
        let entry = Entry::assessment("review.decide", id, seen.organisation_id)
            .before(json!({"state": from}))
            .after(json!({"state": to, "submission": current.submission, "decisions": saved}));
        audit::record(&mut tx, acting.at(now), entry).await?;
    }
    tx.commit().await?;
    Ok(saved.len())
}

pub struct ChangesRequested {
    pub organisation_name: String,
    /// The criteria sent back.
    pub criteria: Vec<String>,
}

/// Sends the assessment back to the organisation with a summary `note`.
/// Refused unless at least one criterion is recorded as needing action.
pub async fn request_changes(
    ctx: Ctx<'_>,
    acting: &Acting,
    id: i64,
    note: &str,
) -> AppResult<Result<ChangesRequested, FieldErrors>> {
    let row = reviewable(ctx, acting, id).await?;
    let from = row.state;
    let to = from.apply(Action::RequestChanges).map_err(not_now)?;
    let note = note.trim();
    let mut errors = FieldErrors::default();
    if note.chars().count() > MAX_FEEDBACK_CHARS {
        errors.add(
            "note",
            format!("The summary must be {MAX_FEEDBACK_CHARS} characters or fewer"),
        );
        return Ok(Err(errors));
    }
    let view = load_view(ctx, &acting.access, row).await?;
    let criteria: Vec<String> = view
        .progress
        .needing_action()
        .iter()
        .map(|c| c.criterion_id.clone())
        .collect();
    if criteria.is_empty() {
        errors.add(
            "note",
            "Record at least one criterion as partially met or not met, with feedback, before sending the assessment back",
        );
        return Ok(Err(errors));
    }
    let row = view.row;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    move_state(&mut tx, id, from, to, acting.at(now), note).await?;
    let entry = Entry::assessment("assessment.request_changes", id, row.organisation_id)
        .before(json!({"state": from}))
        .after(json!({"state": to, "criteria": criteria, "note": note}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    super::reminders::changes_requested(&mut tx, ctx, &row).await?;
    tx.commit().await?;
    Ok(Ok(ChangesRequested {
        organisation_name: row.organisation_name,
        criteria,
    }))
}

/// Recommends the award to the programme lead; refused while a mandatory
/// criterion is not met.
pub async fn recommend(ctx: Ctx<'_>, acting: &Acting, id: i64) -> AppResult<Result<String, Vec<Blocker>>> {
    let row = reviewable(ctx, acting, id).await?;
    let from = row.state;
    let to = from.apply(Action::Recommend).map_err(not_now)?;
    let view = load_view(ctx, &acting.access, row).await?;
    let blocking: Vec<Blocker> = view
        .progress
        .blocking_award()
        .iter()
        .map(|c| Blocker {
            criterion_id: c.criterion_id.clone(),
            reason: blocking_reason(c),
        })
        .collect();
    if !blocking.is_empty() {
        return Ok(Err(blocking));
    }
    let row = view.row;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    move_state(&mut tx, id, from, to, acting.at(now), "").await?;
    let entry = Entry::assessment("assessment.recommend", id, row.organisation_id)
        .before(json!({"state": from}))
        .after(json!({"state": to}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(row.organisation_name))
}
