//! The assessment lifecycle: an organisation's work towards one framework
//! version, from enrolment to award, renewal and revocation.
//!
//! Stored states move only through [`State::apply`]. Whether an award is
//! current, due for renewal or expired is never stored: it follows from the
//! dates ([`award_status`]), so it is right on the day without a job to run.
//! Each criterion's status follows from its evidence and the assessor's
//! latest decision ([`Progress::compute`]).

use super::standards::Framework;
use chrono::{Days, Months, NaiveDate};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Enrolled,
    InProgress,
    Submitted,
    UnderReview,
    ChangesRequested,
    Resubmitted,
    Recommended,
    Awarded,
    Revoked,
}

/// Something that moves an assessment on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The organisation adds, replaces or removes evidence.
    EditEvidence,
    /// The organisation sends it for review (again, after changes).
    Submit,
    /// An assessor records decisions on criteria.
    RecordDecisions,
    /// An assessor sends it back with feedback.
    RequestChanges,
    /// An assessor recommends the award to the programme lead.
    Recommend,
    /// The programme lead awards it.
    Award,
    /// The programme lead takes an award away.
    Revoke,
}

impl Action {
    pub fn verb(self) -> &'static str {
        match self {
            Action::EditEvidence => "change evidence",
            Action::Submit => "submit",
            Action::RecordDecisions => "record decisions",
            Action::RequestChanges => "request changes",
            Action::Recommend => "recommend an award",
            Action::Award => "award",
            Action::Revoke => "revoke",
        }
    }
}

impl State {
    pub const ALL: [State; 9] = [
        State::Enrolled,
        State::InProgress,
        State::Submitted,
        State::UnderReview,
        State::ChangesRequested,
        State::Resubmitted,
        State::Recommended,
        State::Awarded,
        State::Revoked,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            State::Enrolled => "enrolled",
            State::InProgress => "in_progress",
            State::Submitted => "submitted",
            State::UnderReview => "under_review",
            State::ChangesRequested => "changes_requested",
            State::Resubmitted => "resubmitted",
            State::Recommended => "recommended",
            State::Awarded => "awarded",
            State::Revoked => "revoked",
        }
    }

    pub fn parse(text: &str) -> Option<State> {
        State::ALL.into_iter().find(|s| s.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            State::Enrolled => "Enrolled",
            State::InProgress => "In progress",
            State::Submitted => "Submitted",
            State::UnderReview => "Under review",
            State::ChangesRequested => "Changes requested",
            State::Resubmitted => "Resubmitted",
            State::Recommended => "Recommended for award",
            State::Awarded => "Awarded",
            State::Revoked => "Revoked",
        }
    }

    /// The organisation may change its evidence only before it is submitted
    /// and when an assessor has sent it back.
    pub fn evidence_editable(self) -> bool {
        matches!(self, State::Enrolled | State::InProgress | State::ChangesRequested)
    }

    /// Waiting for, or in, an assessor's review: what the queue shows.
    pub fn in_review(self) -> bool {
        matches!(
            self,
            State::Submitted | State::Resubmitted | State::UnderReview | State::Recommended
        )
    }

    /// Neither awarded nor revoked: work is still going on.
    pub fn is_open(self) -> bool {
        !matches!(self, State::Awarded | State::Revoked)
    }

    /// The state after `action`, or why it cannot happen now.
    pub fn apply(self, action: Action) -> Result<State, TransitionError> {
        use State::*;
        let next = match (self, action) {
            (Enrolled | InProgress, Action::EditEvidence) => InProgress,
            (ChangesRequested, Action::EditEvidence) => ChangesRequested,
            (Enrolled | InProgress, Action::Submit) => Submitted,
            (ChangesRequested, Action::Submit) => Resubmitted,
            // A new decision after a recommendation means the recommendation
            // no longer stands on the decisions it was made on.
            (Submitted | Resubmitted | UnderReview | Recommended, Action::RecordDecisions) => UnderReview,
            // The assessor may finish straight from a (re)submission: on a
            // resubmission the earlier decisions can all still stand.
            (Submitted | Resubmitted | UnderReview | Recommended, Action::RequestChanges) => ChangesRequested,
            (Submitted | Resubmitted | UnderReview, Action::Recommend) => Recommended,
            (Submitted | Resubmitted | UnderReview | Recommended, Action::Award) => Awarded,
            (Awarded, Action::Revoke) => Revoked,
            (state, action) => return Err(TransitionError { state, action }),
        };
        Ok(next)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TransitionError {
    pub state: State,
    pub action: Action,
}

impl std::fmt::Display for TransitionError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "You cannot {} an assessment that is {}.",
            self.action.verb(),
            self.state.label().to_lowercase()
        )
    }
}

/// An assessor's judgement on one criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decision {
    Met,
    PartiallyMet,
    NotMet,
    NotApplicable,
}

impl Decision {
    pub const ALL: [Decision; 4] = [
        Decision::Met,
        Decision::PartiallyMet,
        Decision::NotMet,
        Decision::NotApplicable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Met => "met",
            Decision::PartiallyMet => "partially_met",
            Decision::NotMet => "not_met",
            Decision::NotApplicable => "not_applicable",
        }
    }

    pub fn parse(text: &str) -> Option<Decision> {
        Decision::ALL.into_iter().find(|d| d.as_str() == text.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            Decision::Met => "Met",
            Decision::PartiallyMet => "Partially met",
            Decision::NotMet => "Not met",
            Decision::NotApplicable => "Not applicable",
        }
    }

    /// Counts towards an award. "Not applicable" does: the assessor has
    /// judged that the criterion does not apply to this organisation.
    pub fn satisfies(self) -> bool {
        matches!(self, Decision::Met | Decision::NotApplicable)
    }

    /// The organisation has something to do.
    pub fn needs_action(self) -> bool {
        matches!(self, Decision::PartiallyMet | Decision::NotMet)
    }
}

/// Whether an award is current, judged from its dates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AwardStatus {
    Awarded,
    RenewalDue,
    Expired,
}

impl AwardStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AwardStatus::Awarded => "awarded",
            AwardStatus::RenewalDue => "renewal_due",
            AwardStatus::Expired => "expired",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AwardStatus::Awarded => "Awarded",
            AwardStatus::RenewalDue => "Renewal due",
            AwardStatus::Expired => "Expired",
        }
    }
}

/// An award ends at the start of its expiry date; renewal is due from
/// `notice_days` before that.
pub fn award_status(expires_on: NaiveDate, today: NaiveDate, notice_days: u64) -> AwardStatus {
    if today >= expires_on {
        AwardStatus::Expired
    } else if expires_on
        .checked_sub_days(Days::new(notice_days))
        .is_some_and(|due| today >= due)
    {
        AwardStatus::RenewalDue
    } else {
        AwardStatus::Awarded
    }
}

/// The expiry date of an award made on `awarded_on` under a framework valid
/// for `validity_months` (31 January + 1 month = 28 or 29 February).
pub fn expiry_date(awarded_on: NaiveDate, validity_months: u32) -> NaiveDate {
    awarded_on
        .checked_add_months(Months::new(validity_months))
        .unwrap_or(NaiveDate::MAX)
}

/// One line to describe an assessment anywhere: its stored state, or for an
/// award, what its dates make it (and "renewed" once a renewal is awarded).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Standing {
    Working(State),
    Award(AwardStatus),
    Renewed,
    Revoked,
}

impl Standing {
    pub fn of(
        state: State,
        expires_on: Option<NaiveDate>,
        renewal_awarded: bool,
        today: NaiveDate,
        notice_days: u64,
    ) -> Standing {
        match (state, expires_on) {
            (State::Revoked, _) => Standing::Revoked,
            (State::Awarded, _) if renewal_awarded => Standing::Renewed,
            (State::Awarded, Some(expires)) => Standing::Award(award_status(expires, today, notice_days)),
            (state, _) => Standing::Working(state),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Standing::Working(state) => state.as_str(),
            Standing::Award(status) => status.as_str(),
            Standing::Renewed => "renewed",
            Standing::Revoked => "revoked",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Standing::Working(state) => state.label(),
            Standing::Award(status) => status.label(),
            Standing::Renewed => "Renewed",
            Standing::Revoked => "Revoked",
        }
    }

    /// The tag colour pages show it in.
    pub fn colour(self) -> &'static str {
        match self {
            Standing::Working(State::ChangesRequested) => "yellow",
            Standing::Working(State::Recommended) => "purple",
            Standing::Working(state) if state.in_review() => "blue",
            Standing::Working(_) => "grey",
            Standing::Award(AwardStatus::Awarded) => "green",
            Standing::Award(AwardStatus::RenewalDue) => "yellow",
            Standing::Award(AwardStatus::Expired) | Standing::Revoked => "red",
            Standing::Renewed => "grey",
        }
    }
}

/// What the lifecycle needs to know about one version of an evidence item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceFact {
    pub criterion_id: String,
    /// The submission this version was (or will be) part of.
    pub for_submission: i64,
    /// Neither replaced by a newer version nor removed.
    pub current: bool,
    /// The submission whose preparation removed it; 0 if not removed.
    pub removed_for_submission: i64,
    /// Copied from the previous award on renewal, for re-review.
    pub carried_over: bool,
    pub valid_until: Option<NaiveDate>,
}

/// The latest decision on a criterion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecisionFact {
    pub criterion_id: String,
    /// The submission it was made while reviewing.
    pub submission: i64,
    pub decision: Decision,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CriterionStatus {
    NoEvidence,
    EvidenceAdded,
    /// No upload, but the organisation's training record meets the
    /// criterion's training requirement, which counts as its evidence.
    TrainingRecorded,
    /// Evidence carried over from the previous award, not yet looked at again.
    CarriedOver,
    /// Evidence changed after the latest decision, which therefore no longer stands.
    ChangedSinceReview,
    Decided(Decision),
}

impl CriterionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CriterionStatus::NoEvidence => "no_evidence",
            CriterionStatus::EvidenceAdded => "evidence_added",
            CriterionStatus::TrainingRecorded => "training_recorded",
            CriterionStatus::CarriedOver => "carried_over",
            CriterionStatus::ChangedSinceReview => "changed_since_review",
            CriterionStatus::Decided(decision) => decision.as_str(),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            CriterionStatus::NoEvidence => "No evidence",
            CriterionStatus::EvidenceAdded => "Evidence added",
            CriterionStatus::TrainingRecorded => "Training record meets it",
            CriterionStatus::CarriedOver => "Carried over: to re-review",
            CriterionStatus::ChangedSinceReview => "Updated since review",
            CriterionStatus::Decided(decision) => decision.label(),
        }
    }

    pub fn colour(self) -> &'static str {
        match self {
            CriterionStatus::NoEvidence => "grey",
            CriterionStatus::EvidenceAdded
            | CriterionStatus::TrainingRecorded
            | CriterionStatus::ChangedSinceReview => "blue",
            CriterionStatus::CarriedOver => "purple",
            CriterionStatus::Decided(Decision::Met) => "green",
            CriterionStatus::Decided(Decision::NotApplicable) => "grey",
            CriterionStatus::Decided(Decision::PartiallyMet) => "yellow",
            CriterionStatus::Decided(Decision::NotMet) => "red",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriterionProgress {
    pub criterion_id: String,
    pub mandatory: bool,
    pub status: CriterionStatus,
    /// Current items whose validity has not ended.
    pub usable_evidence: usize,
    /// Current items whose validity has ended (they do not count).
    pub expired_evidence: usize,
    /// Evidence added, replaced or removed since the latest decision.
    pub changed_since_decision: bool,
    pub decision: Option<Decision>,
    /// The criterion's training requirement is met (live, or as frozen at
    /// submission): the training record is evidence, so nothing need be uploaded.
    pub training_met: bool,
}

impl CriterionProgress {
    /// Usable evidence of any kind: an item whose validity has not ended, or a met training requirement.
    pub fn has_evidence(&self) -> bool {
        self.usable_evidence > 0 || self.training_met
    }
}

/// Every criterion of the pinned framework version, in framework order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    pub criteria: Vec<CriterionProgress>,
}

impl Progress {
    /// `decisions` are the latest per criterion (older ones are ignored if given).
    pub fn compute(
        framework: &Framework,
        evidence: &[EvidenceFact],
        decisions: &[DecisionFact],
        today: NaiveDate,
    ) -> Progress {
        let mut latest: HashMap<&str, &DecisionFact> = HashMap::new();
        for decision in decisions {
            let keep = latest
                .get(decision.criterion_id.as_str())
                .is_none_or(|existing| existing.submission <= decision.submission);
            if keep {
                latest.insert(decision.criterion_id.as_str(), decision);
            }
        }
        let criteria = framework
            .criteria()
            .map(|criterion| {
                let items: Vec<&EvidenceFact> = evidence.iter().filter(|e| e.criterion_id == criterion.id).collect();
                let current: Vec<&&EvidenceFact> = items.iter().filter(|e| e.current).collect();
                let expired = current
                    .iter()
                    .filter(|e| e.valid_until.is_some_and(|until| until < today))
                    .count();
                let usable = current.len() - expired;
                let decision = latest.get(criterion.id.as_str()).copied();
                let changed = decision.is_some_and(|d| {
                    items
                        .iter()
                        .any(|e| e.for_submission > d.submission || e.removed_for_submission > d.submission)
                });
                let status = match decision {
                    Some(_) if changed => CriterionStatus::ChangedSinceReview,
                    Some(d) => CriterionStatus::Decided(d.decision),
                    // Evidence whose validity has ended is as good as none.
                    None if usable == 0 => CriterionStatus::NoEvidence,
                    None if current.iter().all(|e| e.carried_over) => CriterionStatus::CarriedOver,
                    None => CriterionStatus::EvidenceAdded,
                };
                CriterionProgress {
                    criterion_id: criterion.id.clone(),
                    mandatory: criterion.mandatory,
                    status,
                    usable_evidence: usable,
                    expired_evidence: expired,
                    changed_since_decision: changed,
                    decision: decision.map(|d| d.decision),
                    training_met: false,
                }
            })
            .collect();
        Progress { criteria }
    }

    pub fn get(&self, criterion_id: &str) -> Option<&CriterionProgress> {
        self.criteria.iter().find(|c| c.criterion_id == criterion_id)
    }

    /// Counts a met training requirement as evidence for each of `met`
    /// (criterion ids): a criterion that had none now has some.
    pub fn with_training_met<'a>(mut self, met: impl IntoIterator<Item = &'a str>) -> Progress {
        for id in met {
            if let Some(criterion) = self.criteria.iter_mut().find(|c| c.criterion_id == id) {
                criterion.training_met = true;
                if criterion.status == CriterionStatus::NoEvidence {
                    criterion.status = CriterionStatus::TrainingRecorded;
                }
            }
        }
        self
    }

    /// Marks each of `changed` (criterion ids) as changed since its
    /// decision, as changed evidence does: the assessor must look again.
    pub fn with_changed_since_decision(mut self, changed: &[String]) -> Progress {
        for criterion in self.criteria.iter_mut().filter(|c| changed.contains(&c.criterion_id)) {
            if criterion.decision.is_some() {
                criterion.changed_since_decision = true;
                criterion.status = CriterionStatus::ChangedSinceReview;
            }
        }
        self
    }

    /// Mandatory criteria with no usable evidence: submitting is refused
    /// while there are any.
    pub fn missing_for_submission(&self) -> Vec<&CriterionProgress> {
        self.criteria
            .iter()
            .filter(|c| c.mandatory && !c.has_evidence())
            .collect()
    }

    /// Mandatory criteria not (or no longer) judged met: an award is refused
    /// while there are any.
    pub fn blocking_award(&self) -> Vec<&CriterionProgress> {
        self.criteria
            .iter()
            .filter(|c| c.mandatory && !matches!(c.status, CriterionStatus::Decided(d) if d.satisfies()))
            .collect()
    }

    /// Criteria the assessor has judged partially met or not met: there must
    /// be at least one to send the assessment back.
    pub fn needing_action(&self) -> Vec<&CriterionProgress> {
        self.criteria
            .iter()
            .filter(|c| matches!(c.status, CriterionStatus::Decided(d) if d.needs_action()))
            .collect()
    }

    pub fn count(&self, wanted: impl Fn(&CriterionProgress) -> bool) -> usize {
        self.criteria.iter().filter(|c| wanted(c)).count()
    }
}

/// Why a criterion blocks submission or award, for the list on the page.
pub fn blocking_reason(criterion: &CriterionProgress) -> String {
    match criterion.status {
        CriterionStatus::NoEvidence if criterion.expired_evidence > 0 => "its evidence is no longer valid".into(),
        CriterionStatus::NoEvidence => "no evidence yet".into(),
        CriterionStatus::EvidenceAdded | CriterionStatus::TrainingRecorded | CriterionStatus::CarriedOver => {
            "not reviewed yet".into()
        }
        CriterionStatus::ChangedSinceReview => "evidence changed since the last review".into(),
        CriterionStatus::Decided(decision) => decision.label().to_lowercase(),
    }
}

/// The date an award would end if made now (or the real end, once awarded):
/// evidence that stops being valid before it is flagged.
pub fn projected_expiry(expires_on: Option<NaiveDate>, today: NaiveDate, validity_months: u32) -> NaiveDate {
    expires_on.unwrap_or_else(|| expiry_date(today, validity_months))
}

/// An evidence item on an earlier award, for deciding what a renewal keeps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CarryCandidate {
    pub evidence_id: i64,
    pub criterion_id: String,
    pub valid_until: Option<NaiveDate>,
}

/// What a renewal carries over: current evidence, still valid today, for
/// criteria that exist in the framework version the renewal starts on.
/// Each is flagged when it will stop being valid before the renewed award
/// would end.
pub fn carry_over(candidates: &[CarryCandidate], renewal_framework: &Framework, today: NaiveDate) -> Vec<(i64, bool)> {
    let ends = expiry_date(today, renewal_framework.validity_months);
    candidates
        .iter()
        .filter(|c| c.valid_until.is_none_or(|until| until >= today))
        .filter(|c| renewal_framework.criteria().any(|k| k.id == c.criterion_id))
        .map(|c| (c.evidence_id, c.valid_until.is_some_and(|until| until < ends)))
        .collect()
}

/// Parses a date typed as YYYY-MM-DD (what `<input type="date">` sends).
pub fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// "3 March 2026", for people.
pub fn display_date(date: NaiveDate) -> String {
    super::dates::uk_date(date)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::standards::parse_framework;

    fn date(text: &str) -> NaiveDate {
        parse_date(text).expect("valid date")
    }

    /// A framework of one standard with criteria 1.1.1 and 1.1.2 mandatory
    /// and 1.1.3 optional.
    fn framework() -> Framework {
        let mut text = String::from(
            "format = 1\nid = \"mini\"\nname = \"Mini mark\"\nversion = \"1\"\nvalidity_months = 36\n\
             audience = \"Tests\"\nsummary = \"Three criteria.\"\nillustrative = true\n\
             [[areas]]\nid = \"1\"\ntitle = \"Policy\"\n[[areas.standards]]\nid = \"1.1\"\ntitle = \"A policy\"\n",
        );
        for (id, mandatory) in [("1.1.1", true), ("1.1.2", true), ("1.1.3", false)] {
            text.push_str(&format!(
                "[[areas.standards.criteria]]\nid = \"{id}\"\ntext = \"Criterion {id}.\"\n\
                 guidance = \"Look.\"\nevidence = \"A document.\"\nmandatory = {mandatory}\n"
            ));
        }
        parse_framework("mini-1.toml", "mini-1.toml", &text).expect("valid")
    }

    fn evidence(criterion: &str, for_submission: i64) -> EvidenceFact {
        EvidenceFact {
            criterion_id: criterion.into(),
            for_submission,
            current: true,
            removed_for_submission: 0,
            carried_over: false,
            valid_until: None,
        }
    }

    fn decided(criterion: &str, submission: i64, decision: Decision) -> DecisionFact {
        DecisionFact {
            criterion_id: criterion.into(),
            submission,
            decision,
        }
    }

    #[test]
    fn the_happy_path_and_the_changes_loop() {
        let mut state = State::Enrolled;
        for (action, expected) in [
            (Action::EditEvidence, State::InProgress),
            (Action::Submit, State::Submitted),
            (Action::RecordDecisions, State::UnderReview),
            (Action::RequestChanges, State::ChangesRequested),
            (Action::EditEvidence, State::ChangesRequested),
            (Action::Submit, State::Resubmitted),
            (Action::RecordDecisions, State::UnderReview),
            (Action::Recommend, State::Recommended),
            (Action::Award, State::Awarded),
            (Action::Revoke, State::Revoked),
        ] {
            state = state.apply(action).unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(state, expected);
        }
    }

    #[test]
    fn out_of_order_actions_are_refused_with_a_reason() {
        assert!(State::Submitted.apply(Action::EditEvidence).is_err());
        assert!(State::Enrolled.apply(Action::Award).is_err());
        assert!(State::ChangesRequested.apply(Action::Award).is_err(), "resubmit first");
        assert!(State::InProgress.apply(Action::Recommend).is_err());
        assert!(State::InProgress.apply(Action::Revoke).is_err());
        assert!(State::Revoked.apply(Action::Submit).is_err());
        assert!(State::Awarded.apply(Action::EditEvidence).is_err());
        let error = State::Awarded.apply(Action::Submit).expect_err("refused");
        assert_eq!(error.to_string(), "You cannot submit an assessment that is awarded.");
        // A decision after a recommendation withdraws it.
        assert_eq!(
            State::Recommended.apply(Action::RecordDecisions),
            Ok(State::UnderReview)
        );
    }

    #[test]
    fn states_round_trip_and_group_sensibly() {
        for state in State::ALL {
            assert_eq!(State::parse(state.as_str()), Some(state));
        }
        assert!(State::ChangesRequested.evidence_editable());
        assert!(!State::Resubmitted.evidence_editable());
        assert!(State::Resubmitted.in_review());
        assert!(!State::Awarded.is_open() && !State::Revoked.is_open());
        for decision in Decision::ALL {
            assert_eq!(Decision::parse(decision.as_str()), Some(decision));
        }
    }

    #[test]
    fn award_status_follows_the_dates() {
        let expires = date("2029-03-02");
        assert_eq!(award_status(expires, date("2026-03-02"), 90), AwardStatus::Awarded);
        assert_eq!(award_status(expires, date("2028-12-01"), 90), AwardStatus::Awarded);
        assert_eq!(award_status(expires, date("2028-12-02"), 90), AwardStatus::RenewalDue);
        assert_eq!(award_status(expires, date("2029-03-01"), 90), AwardStatus::RenewalDue);
        assert_eq!(award_status(expires, date("2029-03-02"), 90), AwardStatus::Expired);
        assert_eq!(award_status(expires, date("2028-12-02"), 30), AwardStatus::Awarded);
    }

    #[test]
    fn expiry_adds_calendar_months() {
        assert_eq!(expiry_date(date("2026-03-02"), 36), date("2029-03-02"));
        assert_eq!(expiry_date(date("2027-01-31"), 1), date("2027-02-28"));
        assert_eq!(expiry_date(date("2028-02-29"), 12), date("2029-02-28"));
    }

    #[test]
    fn standing_combines_state_and_dates() {
        let today = date("2026-06-01");
        let soon = Some(date("2026-07-01"));
        assert_eq!(
            Standing::of(State::Awarded, soon, false, today, 90),
            Standing::Award(AwardStatus::RenewalDue)
        );
        assert_eq!(Standing::of(State::Awarded, soon, true, today, 90), Standing::Renewed);
        assert_eq!(Standing::of(State::Revoked, soon, false, today, 90), Standing::Revoked);
        assert_eq!(
            Standing::of(State::Submitted, None, false, today, 90).label(),
            "Submitted"
        );
    }

    #[test]
    fn submission_needs_usable_evidence_for_every_mandatory_criterion() {
        let today = date("2026-03-02");
        let framework = framework();
        let progress = Progress::compute(&framework, &[evidence("1.1.1", 1), evidence("1.1.3", 1)], &[], today);
        let missing: Vec<_> = progress
            .missing_for_submission()
            .iter()
            .map(|c| c.criterion_id.as_str())
            .collect();
        assert_eq!(missing, ["1.1.2"], "optional 1.1.3 is never required");

        // Expired or replaced evidence does not count.
        let mut expired = evidence("1.1.2", 1);
        expired.valid_until = Some(date("2026-03-01"));
        let mut replaced = evidence("1.1.2", 1);
        replaced.current = false;
        let progress = Progress::compute(&framework, &[evidence("1.1.1", 1), expired, replaced], &[], today);
        let missing = progress.missing_for_submission();
        assert_eq!(missing.len(), 1);
        assert_eq!(blocking_reason(missing[0]), "its evidence is no longer valid");

        let mut valid_today = evidence("1.1.2", 1);
        valid_today.valid_until = Some(today);
        let progress = Progress::compute(&framework, &[evidence("1.1.1", 1), valid_today], &[], today);
        assert!(progress.missing_for_submission().is_empty());
    }

    #[test]
    fn a_met_training_requirement_is_evidence() {
        let today = date("2026-03-02");
        let framework = framework();
        let progress = Progress::compute(&framework, &[evidence("1.1.1", 1)], &[], today).with_training_met(["1.1.2"]);
        assert!(progress.missing_for_submission().is_empty());
        let trained = progress.get("1.1.2").expect("criterion");
        assert!(trained.has_evidence() && trained.training_met);
        assert_eq!(trained.usable_evidence, 0, "no item was uploaded");
        assert_eq!(trained.status, CriterionStatus::TrainingRecorded);
        assert_eq!(trained.status.label(), "Training record meets it");
        // Met training does not stand in for a decision.
        assert_eq!(progress.blocking_award().len(), 2);
    }

    #[test]
    fn decisions_stand_until_the_evidence_changes() {
        let today = date("2026-03-02");
        let framework = framework();
        let evidence_now = [evidence("1.1.1", 1), evidence("1.1.2", 1)];
        let decisions = [
            decided("1.1.1", 1, Decision::Met),
            decided("1.1.2", 1, Decision::NotMet),
        ];
        let progress = Progress::compute(&framework, &evidence_now, &decisions, today);
        assert_eq!(
            progress.get("1.1.2").map(|c| c.status),
            Some(CriterionStatus::Decided(Decision::NotMet))
        );
        let blocking: Vec<_> = progress
            .blocking_award()
            .iter()
            .map(|c| c.criterion_id.clone())
            .collect();
        assert_eq!(blocking, ["1.1.2"]);
        assert_eq!(progress.needing_action().len(), 1);

        // The organisation replaces 1.1.2's evidence for the second submission.
        let mut old = evidence("1.1.2", 1);
        old.current = false;
        let changed = [evidence("1.1.1", 1), old, evidence("1.1.2", 2)];
        let progress = Progress::compute(&framework, &changed, &decisions, today);
        let c = progress.get("1.1.2").expect("criterion");
        assert_eq!(c.status, CriterionStatus::ChangedSinceReview);
        assert!(c.changed_since_decision);
        assert!(!progress.get("1.1.1").expect("criterion").changed_since_decision);
        assert!(progress.needing_action().is_empty());

        // Removing an item is a change too.
        let mut removed = evidence("1.1.1", 1);
        removed.current = false;
        removed.removed_for_submission = 2;
        let progress = Progress::compute(&framework, &[removed, evidence("1.1.2", 1)], &decisions, today);
        assert_eq!(
            progress.get("1.1.1").map(|c| c.status),
            Some(CriterionStatus::ChangedSinceReview)
        );

        // Re-decided in the second review: eligible, with N/A counting as satisfied.
        let decisions = [
            decided("1.1.1", 1, Decision::Met),
            decided("1.1.2", 1, Decision::NotMet),
            decided("1.1.2", 2, Decision::NotApplicable),
        ];
        let progress = Progress::compute(&framework, &changed, &decisions, today);
        assert!(progress.blocking_award().is_empty());
    }

    #[test]
    fn carried_over_evidence_awaits_re_review() {
        let today = date("2026-03-02");
        let mut carried = evidence("1.1.1", 1);
        carried.carried_over = true;
        let progress = Progress::compute(&framework(), &[carried.clone(), evidence("1.1.2", 1)], &[], today);
        assert_eq!(
            progress.get("1.1.1").map(|c| c.status),
            Some(CriterionStatus::CarriedOver)
        );
        assert_eq!(
            progress.get("1.1.2").map(|c| c.status),
            Some(CriterionStatus::EvidenceAdded)
        );
        assert!(progress.missing_for_submission().is_empty(), "carried evidence counts");
        assert_eq!(progress.blocking_award().len(), 2, "but must be reviewed again");
    }

    #[test]
    fn renewal_keeps_valid_evidence_for_criteria_that_still_exist() {
        let today = date("2029-01-10");
        let candidates = [
            CarryCandidate {
                evidence_id: 1,
                criterion_id: "1.1.1".into(),
                valid_until: None,
            },
            CarryCandidate {
                evidence_id: 2,
                criterion_id: "1.1.2".into(),
                valid_until: Some(date("2029-01-09")),
            },
            CarryCandidate {
                evidence_id: 3,
                criterion_id: "1.1.2".into(),
                valid_until: Some(date("2030-06-30")),
            },
            CarryCandidate {
                evidence_id: 4,
                criterion_id: "9.9.9".into(),
                valid_until: None,
            },
            CarryCandidate {
                evidence_id: 5,
                criterion_id: "1.1.3".into(),
                valid_until: Some(date("2032-01-10")),
            },
        ];
        // 2 has expired, 4's criterion is gone; 3 ends before 2032-01-10; 5 lasts.
        assert_eq!(
            carry_over(&candidates, &framework(), today),
            vec![(1, false), (3, true), (5, false)]
        );
    }

    #[test]
    fn dates_parse_strictly_and_display_for_people() {
        assert_eq!(parse_date(" 2026-03-02 "), Some(date("2026-03-02")));
        assert_eq!(parse_date("02/03/2026"), None);
        assert_eq!(parse_date("2026-02-30"), None);
        assert_eq!(display_date(date("2026-03-02")), "2 March 2026");
        assert_eq!(projected_expiry(None, date("2026-03-02"), 36), date("2029-03-02"));
    }
}
