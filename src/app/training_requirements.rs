//! Criteria's training requirements for an assessment: judged live from the
//! organisation's staff and training while it can still change its
//! evidence, and frozen at submission (in the submit transaction) so the
//! assessor reviews what was true then. A met requirement counts as the
//! criterion's evidence (see [`crate::domain::assessment::Progress::with_training_met`]).

use crate::db::assessments::AssessmentRow;
use crate::db::assessments::DecisionRow;
use crate::db::training_requirements::{self as rows, NewSnapshot, SnapshotRow};
use crate::db::Conn;
use crate::domain::programmes::ProgrammeLibrary;
use crate::domain::standards::Framework;
use crate::domain::training_requirement::{
    changed_since_decisions, describe, judge, Frozen, Holding, Judgement, TrainingRequirement,
};
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use std::collections::hash_map::{Entry, HashMap};

/// One criterion's training requirement and where it stands.
#[derive(Debug, Clone, Serialize)]
pub struct CriterionTraining {
    pub criterion_id: String,
    pub programme_id: String,
    pub programme_name: String,
    pub completion_id: String,
    pub completion_title: String,
    /// The requirement in words: "80% of frontline staff hold DVA awareness".
    pub asks: String,
    pub judgement: Judgement,
    /// When the snapshot was taken, if this is the one frozen at submission
    /// rather than a live judgement.
    pub frozen_at: Option<DateTime<Utc>>,
}

/// The framework's criteria that state a training requirement, in framework order.
fn requirements(framework: &Framework) -> Vec<(&str, &TrainingRequirement)> {
    framework
        .criteria()
        .filter_map(|c| c.training.as_ref().map(|t| (c.id.as_str(), t)))
        .collect()
}

/// The names a requirement's programme and completion go by (their ids if
/// the programme files no longer have them).
fn names(programmes: &ProgrammeLibrary, requirement: &TrainingRequirement) -> (String, String) {
    let programme = programmes.current_version(&requirement.programme);
    let completion = programme.and_then(|p| p.completion(&requirement.completion));
    (
        programme.map_or_else(|| requirement.programme.clone(), |p| p.name.clone()),
        completion.map_or_else(|| requirement.completion.clone(), |c| c.title.clone()),
    )
}

fn shown(
    programmes: &ProgrammeLibrary,
    criterion_id: &str,
    requirement: &TrainingRequirement,
    judgement: Judgement,
    frozen_at: Option<DateTime<Utc>>,
) -> CriterionTraining {
    let (programme_name, completion_title) = names(programmes, requirement);
    CriterionTraining {
        criterion_id: criterion_id.to_string(),
        programme_id: requirement.programme.clone(),
        programme_name,
        asks: describe(requirement, &completion_title),
        completion_id: requirement.completion.clone(),
        completion_title,
        judgement,
        frozen_at,
    }
}

/// Every requirement of the framework judged now, on `today`, for the organisation.
pub async fn live(
    conn: &mut Conn,
    programmes: &ProgrammeLibrary,
    framework: &Framework,
    organisation_id: i64,
    today: NaiveDate,
) -> Result<Vec<CriterionTraining>, sqlx::Error> {
    let wanted = requirements(framework);
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let staff = rows::staff_of(conn, organisation_id).await?;
    let mut held: HashMap<(&str, &str), Vec<Holding>> = HashMap::new();
    let mut judged = Vec::new();
    for (criterion_id, requirement) in wanted {
        let key = (requirement.programme.as_str(), requirement.completion.as_str());
        let holdings = match held.entry(key) {
            Entry::Occupied(known) => known.into_mut(),
            Entry::Vacant(new) => new.insert(rows::holdings(conn, organisation_id, key.0, key.1).await?),
        };
        let judgement = judge(requirement, &staff, holdings, today);
        judged.push(shown(programmes, criterion_id, requirement, judgement, None));
    }
    Ok(judged)
}

/// The judgement a snapshot keeps.
fn judgement_of(row: &SnapshotRow) -> AppResult<Judgement> {
    serde_json::from_str(&row.names).map_err(|e| {
        AppError::Internal(format!(
            "the training snapshot of criterion {} cannot be read: {e}",
            row.criterion_id
        ))
    })
}

fn from_snapshot(
    programmes: &ProgrammeLibrary,
    framework: &Framework,
    row: SnapshotRow,
) -> AppResult<Option<CriterionTraining>> {
    let judgement = judgement_of(&row)?;
    let requirement = framework
        .criteria()
        .find(|c| c.id == row.criterion_id)
        .and_then(|c| c.training.as_ref());
    Ok(requirement.map(|r| shown(programmes, &row.criterion_id, r, judgement, Some(row.taken_at))))
}

/// What the assessment's pages show and count as evidence: the live
/// judgements while the organisation can still change its evidence, the
/// ones frozen at its latest submission once it cannot (none, for an
/// assessment submitted before requirements were recorded).
pub async fn for_assessment(
    conn: &mut Conn,
    programmes: &ProgrammeLibrary,
    framework: &Framework,
    row: &AssessmentRow,
    today: NaiveDate,
) -> AppResult<Vec<CriterionTraining>> {
    if requirements(framework).is_empty() {
        return Ok(Vec::new());
    }
    if row.state.evidence_editable() {
        return Ok(live(conn, programmes, framework, row.organisation_id, today).await?);
    }
    let mut frozen = Vec::new();
    for snapshot in rows::latest_snapshots(conn, row.id).await? {
        frozen.extend(from_snapshot(programmes, framework, snapshot)?);
    }
    Ok(frozen)
}

/// Keeps the judgements as they stand for `submission`, inside the submit
/// transaction; they never change afterwards.
pub async fn freeze(
    tx: &mut Conn,
    assessment_id: i64,
    submission: i64,
    judged: &[CriterionTraining],
    now: DateTime<Utc>,
) -> AppResult<()> {
    for training in judged {
        let names = serde_json::to_string(&training.judgement)
            .map_err(|e| AppError::Internal(format!("cannot keep a training snapshot: {e}")))?;
        rows::insert_snapshot(
            tx,
            &NewSnapshot {
                assessment_id,
                submission,
                criterion_id: &training.criterion_id,
                met: training.judgement.met,
                figures: &training.judgement.figures,
                names: &names,
            },
            now,
        )
        .await?;
    }
    Ok(())
}

/// The criteria whose requirement is met, for [`crate::domain::assessment::Progress::with_training_met`].
pub fn met(judged: &[CriterionTraining]) -> impl Iterator<Item = &str> {
    judged
        .iter()
        .filter(|t| t.judgement.met)
        .map(|t| t.criterion_id.as_str())
}

/// Criteria whose training record frozen at a later submission differs
/// from the one the assessor's latest decision on them was made on.
pub async fn changed_since(conn: &mut Conn, assessment_id: i64, decisions: &[DecisionRow]) -> AppResult<Vec<String>> {
    if decisions.is_empty() {
        return Ok(Vec::new());
    }
    let mut frozen = Vec::new();
    for row in rows::all_snapshots(conn, assessment_id).await? {
        frozen.push(Frozen {
            judgement: judgement_of(&row)?,
            criterion_id: row.criterion_id,
            submission: row.submission,
        });
    }
    if frozen.is_empty() {
        return Ok(Vec::new());
    }
    let mut decided: Vec<(&str, i64)> = Vec::new();
    for decision in decisions {
        match decided.iter_mut().find(|(c, _)| *c == decision.criterion_id) {
            Some(latest) => latest.1 = latest.1.max(decision.submission),
            None => decided.push((decision.criterion_id.as_str(), decision.submission)),
        }
    }
    Ok(changed_since_decisions(&frozen, &decided))
}
