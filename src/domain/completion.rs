//! Who has completed what, derived from attendance and never typed in, so
//! the figures always agree with the registers. The rules are those written in
//! the programme files (see `standards/training/README.md`): every module of a
//! completion attended, prerequisites first, completions lapsing after the
//! refresher period unless renewed, and an organisation rule for IRIS practices.

use crate::domain::programmes::{Completion, Programme};
use chrono::{Months, NaiveDate};
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;
use std::fmt;

/// What a register says about one person at one session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttendanceStatus {
    Attended,
    Partial,
    Absent,
    Cancelled,
}

impl AttendanceStatus {
    pub const ALL: [AttendanceStatus; 4] = [Self::Attended, Self::Partial, Self::Absent, Self::Cancelled];

    /// The stored form.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Attended => "attended",
            Self::Partial => "partial",
            Self::Absent => "absent",
            Self::Cancelled => "cancelled",
        }
    }

    /// Reads the stored form (any case, surrounding spaces ignored). Sheet
    /// wording such as "Y" or "did not attend" is the import's business.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        Self::ALL.into_iter().find(|s| s.as_str().eq_ignore_ascii_case(text))
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::Attended => "Attended",
            Self::Partial => "Partly attended",
            Self::Absent => "Absent",
            Self::Cancelled => "Cancelled",
        }
    }

    /// The person was there for at least some of the session: enough to have
    /// started a course, not enough to complete a module.
    pub fn was_present(self) -> bool {
        matches!(self, Self::Attended | Self::Partial)
    }
}

impl fmt::Display for AttendanceStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One person's attendance at one session of a module. Module ids are unique
/// only within a programme, so the facts given to this module must all be
/// about the one programme being evaluated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AttendanceFact {
    pub module_id: String,
    pub date: NaiveDate,
    pub status: AttendanceStatus,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionState {
    NotStarted,
    /// Some module attended or partly attended; `done` counts the modules attended in full.
    InProgress {
        done: usize,
        total: usize,
    },
    Completed,
    /// Completed once, but the refresher period has run out.
    Lapsed,
}

impl CompletionState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InProgress { .. } => "in_progress",
            Self::Completed => "completed",
            Self::Lapsed => "lapsed",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Not started",
            Self::InProgress { .. } => "In progress",
            Self::Completed => "Completed",
            Self::Lapsed => "Lapsed",
        }
    }

    /// Completed and not lapsed: what "trained" means in figures and directories.
    pub fn is_current(self) -> bool {
        self == Self::Completed
    }
}

/// Serialised as `{"code": "in_progress", "label": "In progress", "done": 2,
/// "total": 4}` (`done` and `total` only while in progress), so templates can
/// both test the state and show it without a lookup table.
impl Serialize for CompletionState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown {
            code: &'static str,
            label: &'static str,
            #[serde(skip_serializing_if = "Option::is_none")]
            done: Option<usize>,
            #[serde(skip_serializing_if = "Option::is_none")]
            total: Option<usize>,
        }
        let (done, total) = match self {
            Self::InProgress { done, total } => (Some(*done), Some(*total)),
            _ => (None, None),
        };
        Shown {
            code: self.as_str(),
            label: self.label(),
            done,
            total,
        }
        .serialize(serializer)
    }
}

/// One person's standing against one completion of a programme.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PersonCompletion {
    pub completion_id: String,
    pub title: String,
    pub state: CompletionState,
    /// The day the last required module was first attended.
    pub completed_on: Option<NaiveDate>,
    /// Set for completed (and lapsed) completions that have a refresher period.
    pub lapses_on: Option<NaiveDate>,
    /// Module ids attended in full (and in the right order, where the
    /// completion has a prerequisite), in the programme's order.
    pub modules_done: Vec<String>,
    pub modules_missing: Vec<String>,
    /// Why attendance did not count, e.g. supervisor training attended before CORE was complete.
    pub blocked_by: Option<String>,
}

/// The person's standing against every completion of `programme`, in the
/// order the file lists them. `facts` are this person's attendance at this
/// programme's modules, in any order.
pub fn person_completions(programme: &Programme, facts: &[AttendanceFact], today: NaiveDate) -> Vec<PersonCompletion> {
    let mut evaluator = Evaluator {
        programme,
        facts,
        today,
        results: vec![None; programme.completions.len()],
        visiting: vec![false; programme.completions.len()],
    };
    (0..programme.completions.len())
        .map(|index| evaluator.evaluate(index))
        .collect()
}

/// Evaluates completions once each, prerequisites first.
struct Evaluator<'a> {
    programme: &'a Programme,
    facts: &'a [AttendanceFact],
    today: NaiveDate,
    results: Vec<Option<PersonCompletion>>,
    /// Guards against `after` circles in a programme built in code; loaded files cannot have them.
    visiting: Vec<bool>,
}

/// Which attendance counts towards a completion, given its prerequisite.
enum CountsFrom {
    /// No prerequisite.
    Always,
    /// Attendance on or after the day the prerequisite was completed.
    From(NaiveDate),
    /// The prerequisite is not complete, so nothing counts yet.
    NotYet,
    /// The programme was built in code with a broken `after` (files are
    /// checked on load); the text says what is wrong.
    Broken(String),
}

impl CountsFrom {
    fn counts(&self, fact: &AttendanceFact) -> bool {
        match self {
            Self::Always => true,
            Self::From(from) => fact.date >= *from,
            Self::NotYet | Self::Broken(_) => false,
        }
    }
}

impl Evaluator<'_> {
    fn evaluate(&mut self, index: usize) -> PersonCompletion {
        if let Some(Some(done)) = self.results.get(index) {
            return done.clone();
        }
        let Some(completion) = self.programme.completions.get(index) else {
            // Only reachable through an index we made ourselves; an empty answer is safe.
            return PersonCompletion {
                completion_id: String::new(),
                title: String::new(),
                state: CompletionState::NotStarted,
                completed_on: None,
                lapses_on: None,
                modules_done: Vec::new(),
                modules_missing: Vec::new(),
                blocked_by: None,
            };
        };
        if let Some(flag) = self.visiting.get_mut(index) {
            *flag = true;
        }
        let counts_from = self.counts_from(completion);
        let result = self.judge(completion, counts_from);
        if let Some(flag) = self.visiting.get_mut(index) {
            *flag = false;
        }
        if let Some(slot) = self.results.get_mut(index) {
            *slot = Some(result.clone());
        }
        result
    }

    /// The prerequisite must be complete on or before the day a module of
    /// this completion is attended, so only attendance from that day counts.
    fn counts_from(&mut self, completion: &Completion) -> CountsFrom {
        let Some(after) = completion.after.as_deref() else {
            return CountsFrom::Always;
        };
        let Some(prerequisite_index) = self.programme.completions.iter().position(|c| c.id == after) else {
            return CountsFrom::Broken(format!(
                "{} needs “{after}”, which this programme does not define.",
                completion.title
            ));
        };
        if self.visiting.get(prerequisite_index).copied().unwrap_or(false) {
            return CountsFrom::Broken(format!("{} depends on itself in the programme.", completion.title));
        }
        match self.evaluate(prerequisite_index).completed_on {
            Some(date) => CountsFrom::From(date),
            None => CountsFrom::NotYet,
        }
    }

    fn judge(&self, completion: &Completion, counts_from: CountsFrom) -> PersonCompletion {
        let is_required = |fact: &&AttendanceFact| completion.modules.contains(&fact.module_id);
        let started = self
            .facts
            .iter()
            .filter(is_required)
            .any(|fact| fact.status.was_present());
        let attended: Vec<&AttendanceFact> = self
            .facts
            .iter()
            .filter(is_required)
            .filter(|fact| fact.status == AttendanceStatus::Attended)
            .collect();

        let mut modules_done = Vec::new();
        let mut modules_missing = Vec::new();
        let mut last_first_attended: Option<NaiveDate> = None;
        for module in &completion.modules {
            let first = attended
                .iter()
                .filter(|fact| fact.module_id == *module && counts_from.counts(fact))
                .map(|fact| fact.date)
                .min();
            match first {
                Some(date) => {
                    modules_done.push(module.clone());
                    last_first_attended = last_first_attended.max(Some(date));
                }
                None => modules_missing.push(module.clone()),
            }
        }
        let completed_on = if modules_missing.is_empty() {
            last_first_attended
        } else {
            None
        };

        let blocked_by = match completed_on {
            Some(_) => None,
            None => attended
                .iter()
                .filter(|fact| !counts_from.counts(fact))
                .min_by_key(|fact| fact.date)
                .map(|early| self.blocked_message(completion, early, &counts_from)),
        };

        let lapses_on = completed_on.and_then(|completed| self.lapses_on(completion, completed));
        let state = match (completed_on, lapses_on) {
            (Some(_), Some(lapses)) if self.today >= lapses => CompletionState::Lapsed,
            (Some(_), _) => CompletionState::Completed,
            (None, _) if started => CompletionState::InProgress {
                done: modules_done.len(),
                total: completion.modules.len(),
            },
            (None, _) => CompletionState::NotStarted,
        };
        PersonCompletion {
            completion_id: completion.id.clone(),
            title: completion.title.clone(),
            state,
            completed_on,
            lapses_on,
            modules_done,
            modules_missing,
            blocked_by,
        }
    }

    fn blocked_message(&self, completion: &Completion, early: &AttendanceFact, counts_from: &CountsFrom) -> String {
        let module = self
            .programme
            .module(&early.module_id)
            .map(|m| m.title.as_str())
            .unwrap_or(early.module_id.as_str());
        let prerequisite = completion
            .after
            .as_deref()
            .and_then(|id| self.programme.completion(id))
            .map(|c| c.title.as_str())
            .unwrap_or("its prerequisite");
        let attended_on = super::dates::uk_date(early.date);
        match counts_from {
            CountsFrom::Broken(reason) => reason.clone(),
            CountsFrom::From(from) => format!(
                "{module} was attended on {attended_on}, before {prerequisite} was completed on {}, so it does not count towards {}; it must be attended again.",
                super::dates::uk_date(*from),
                completion.title
            ),
            CountsFrom::NotYet | CountsFrom::Always => format!(
                "{module} was attended on {attended_on}, but {prerequisite} is not complete, so it does not count towards {} yet.",
                completion.title
            ),
        }
    }

    /// Refresher period after the completion or the latest renewal since it.
    fn lapses_on(&self, completion: &Completion, completed_on: NaiveDate) -> Option<NaiveDate> {
        let months = self.programme.refresher_months_of(completion)?;
        let renewed = renewals(completion, self.facts, completed_on)
            .max()
            .unwrap_or(completed_on);
        add_refresher(renewed, months)
    }
}

/// Days on or after `completed_on` when a module that renews `completion` was attended.
fn renewals<'a>(
    completion: &'a Completion,
    facts: &'a [AttendanceFact],
    completed_on: NaiveDate,
) -> impl Iterator<Item = NaiveDate> + 'a {
    facts
        .iter()
        .filter(|fact| fact.status == AttendanceStatus::Attended)
        .filter(|fact| completion.refreshed_by.contains(&fact.module_id))
        .map(|fact| fact.date)
        .filter(move |date| *date >= completed_on)
}

fn add_refresher(from: NaiveDate, months: u32) -> Option<NaiveDate> {
    // chrono ends at the last day of a shorter month (31 Jan + 1 month = 28 Feb).
    from.checked_add_months(Months::new(months))
}

/// A stretch of days in which a completion was held: from `from` up to the
/// day before `until` (`None` while it has not lapsed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct HeldSpell {
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

/// Every stretch in which `held` (one of [`person_completions`]'s answers
/// for these `facts`) was current: it starts on completion and on each
/// renewal, and runs for the refresher period from the latest of them, so
/// a network session after a lapse starts a new stretch. A report for a
/// past period asks which stretch covered its last day, which a refresher
/// attended later cannot change. The last stretch ends on `held.lapses_on`.
pub fn held_spells(programme: &Programme, held: &PersonCompletion, facts: &[AttendanceFact]) -> Vec<HeldSpell> {
    let Some(completed_on) = held.completed_on else {
        return Vec::new();
    };
    let Some(completion) = programme.completion(&held.completion_id) else {
        return Vec::new();
    };
    let Some(months) = programme.refresher_months_of(completion) else {
        return vec![HeldSpell {
            from: completed_on,
            until: None,
        }];
    };
    let mut starts: Vec<NaiveDate> = std::iter::once(completed_on)
        .chain(renewals(completion, facts, completed_on))
        .collect();
    starts.sort_unstable();
    starts.dedup();
    let mut spells: Vec<HeldSpell> = Vec::new();
    for start in starts {
        let until = add_refresher(start, months);
        match spells.last_mut() {
            // Renewed while still held (or on the day it lapsed): the stretch goes on.
            Some(last) if last.until.is_none_or(|end| start <= end) => last.until = until,
            _ => spells.push(HeldSpell { from: start, until }),
        }
    }
    spells
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrganisationTrainingState {
    NotStarted,
    InTraining,
    FullyTrained,
}

impl OrganisationTrainingState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::NotStarted => "not_started",
            Self::InTraining => "in_training",
            Self::FullyTrained => "fully_trained",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Self::NotStarted => "Not started",
            Self::InTraining => "In training",
            Self::FullyTrained => "Fully trained",
        }
    }
}

/// Serialised as `{"code": "fully_trained", "label": "Fully trained"}`, like [`CompletionState`].
impl Serialize for OrganisationTrainingState {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Shown {
            code: &'static str,
            label: &'static str,
        }
        Shown {
            code: self.as_str(),
            label: self.label(),
        }
        .serialize(serializer)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RequirementProgress {
    pub completion_id: String,
    pub title: String,
    /// People whose completion is current (lapsed ones do not count).
    pub completed_people: usize,
    /// People who attended, even partly, any module of the completion (including those who completed it).
    pub started_people: usize,
    pub at_least: u32,
    pub everyone_who_started: bool,
    pub met: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OrganisationProgress {
    pub state: OrganisationTrainingState,
    pub requirements: Vec<RequirementProgress>,
    pub rule_title: String,
    pub explanation: String,
}

/// How far one organisation is through the programme's organisation rule;
/// `None` when the programme has none. `people` holds each staff member's
/// attendance at this programme's modules (one entry per person).
pub fn organisation_progress(
    programme: &Programme,
    people: &[Vec<AttendanceFact>],
    today: NaiveDate,
) -> Option<OrganisationProgress> {
    let standings: Vec<Vec<(String, CompletionState)>> = people
        .iter()
        .map(|facts| {
            person_completions(programme, facts, today)
                .into_iter()
                .map(|c| (c.completion_id, c.state))
                .collect()
        })
        .collect();
    let any_attendance = people
        .iter()
        .flatten()
        .any(|fact| fact.status.was_present() && programme.modules.iter().any(|m| m.id == fact.module_id));
    organisation_progress_of(programme, &standings, any_attendance)
}

/// The organisation rule applied to each staff member's standing (completion
/// id and state) against the programme's completions. `any_attendance`:
/// someone was present at any module of the programme.
pub fn organisation_progress_of(
    programme: &Programme,
    standings: &[Vec<(String, CompletionState)>],
    any_attendance: bool,
) -> Option<OrganisationProgress> {
    let mut counts: BTreeMap<&str, PeopleCount> = BTreeMap::new();
    for (completion, state) in standings.iter().flatten() {
        let count = counts.entry(completion.as_str()).or_default();
        // A lapsed person has started (they attended) but does not count as completed.
        if *state != CompletionState::NotStarted {
            count.started += 1;
        }
        if state.is_current() {
            count.current += 1;
        }
    }
    organisation_progress_from_counts(
        programme,
        |completion| counts.get(completion).copied().unwrap_or_default(),
        any_attendance,
    )
}

/// How many of an organisation's staff have started a completion, and how
/// many of them hold it, current.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PeopleCount {
    pub started: usize,
    pub current: usize,
}

/// The organisation rule applied to how many staff started and hold each
/// completion (`count` by completion id), for callers that count them
/// already: the reports read the counts from the kept completions.
pub fn organisation_progress_from_counts(
    programme: &Programme,
    count: impl Fn(&str) -> PeopleCount,
    any_attendance: bool,
) -> Option<OrganisationProgress> {
    let rule = programme.organisation_rule.as_ref()?;
    let requirements: Vec<RequirementProgress> = rule
        .requires
        .iter()
        .map(|requirement| {
            let PeopleCount {
                started: started_people,
                current: completed_people,
            } = count(&requirement.completion);
            let enough = u32::try_from(completed_people).unwrap_or(u32::MAX) >= requirement.at_least;
            let everyone = !requirement.everyone_who_started || completed_people == started_people;
            RequirementProgress {
                completion_id: requirement.completion.clone(),
                title: programme
                    .completion(&requirement.completion)
                    .map(|c| c.title.clone())
                    .unwrap_or_else(|| requirement.completion.clone()),
                completed_people,
                started_people,
                at_least: requirement.at_least,
                everyone_who_started: requirement.everyone_who_started,
                met: enough && everyone,
            }
        })
        .collect();

    let state = if !requirements.is_empty() && requirements.iter().all(|r| r.met) {
        OrganisationTrainingState::FullyTrained
    } else if any_attendance {
        OrganisationTrainingState::InTraining
    } else {
        OrganisationTrainingState::NotStarted
    };
    Some(OrganisationProgress {
        state,
        requirements,
        rule_title: rule.title.clone(),
        explanation: rule.explanation.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as date;
    use crate::domain::programmes::shipped;

    fn programme(id: &str) -> Programme {
        shipped().current_version(id).cloned().expect("programme ships")
    }

    fn fact(module: &str, on: &str, status: AttendanceStatus) -> AttendanceFact {
        AttendanceFact {
            module_id: module.into(),
            date: date(on),
            status,
        }
    }

    fn attended(module: &str, on: &str) -> AttendanceFact {
        fact(module, on, AttendanceStatus::Attended)
    }

    fn find<'a>(completions: &'a [PersonCompletion], id: &str) -> &'a PersonCompletion {
        completions
            .iter()
            .find(|c| c.completion_id == id)
            .expect("completion listed")
    }

    /// Completion `id` of `programme` for someone who went to `facts`, as it stands on `today`.
    fn completion(programme: &Programme, facts: &[AttendanceFact], today: &str, id: &str) -> PersonCompletion {
        find(&person_completions(programme, facts, date(today)), id).clone()
    }

    /// Completed on the day `on`, with nothing holding it back.
    fn assert_completed_on(completion: &PersonCompletion, on: &str) {
        let id = &completion.completion_id;
        assert_eq!(completion.state, CompletionState::Completed, "{id}");
        assert_eq!(completion.completed_on, Some(date(on)), "{id}");
        assert_eq!(completion.blocked_by, None, "{id}");
    }

    #[test]
    fn statuses_round_trip() {
        for status in AttendanceStatus::ALL {
            assert_eq!(AttendanceStatus::parse(status.as_str()), Some(status));
        }
        assert_eq!(AttendanceStatus::parse(" Partial "), Some(AttendanceStatus::Partial));
        assert_eq!(AttendanceStatus::parse("yes"), None);
        assert_eq!(AttendanceStatus::Partial.label(), "Partly attended");
        assert_eq!(
            serde_json::to_string(&AttendanceStatus::Cancelled).expect("json"),
            "\"cancelled\""
        );
    }

    #[test]
    fn all_modules_attended_completes_on_the_last_first_attendance() {
        let st = programme("safe-and-together");
        let facts = [
            attended("core-day-1", "2025-06-02"),
            attended("core-day-2", "2025-06-03"),
            attended("core-day-3", "2025-06-04"),
            attended("core-day-4", "2025-06-05"),
            // Coming back for a day later does not move the completion date.
            attended("core-day-2", "2025-09-10"),
        ];
        let all = person_completions(&st, &facts, date("2025-07-01"));
        assert_eq!(
            all.iter().map(|c| c.completion_id.as_str()).collect::<Vec<_>>(),
            ["overview", "core", "supervisor"]
        );
        let core = find(&all, "core");
        assert_eq!(core.state, CompletionState::Completed);
        assert_eq!(core.completed_on, Some(date("2025-06-05")));
        assert_eq!(core.lapses_on, None, "CORE does not lapse");
        assert_eq!(core.modules_done.len(), 4);
        assert!(core.modules_missing.is_empty());
        assert_eq!(find(&all, "overview").state, CompletionState::NotStarted);
        assert_eq!(find(&all, "supervisor").state, CompletionState::NotStarted);
    }

    #[test]
    fn partial_absent_and_cancelled_do_not_count() {
        let st = programme("safe-and-together");
        // Mohammed in the sample: partial on day 2.
        let facts = [
            attended("core-day-1", "2025-06-02"),
            fact("core-day-2", "2025-06-03", AttendanceStatus::Partial),
            attended("core-day-3", "2025-06-04"),
            attended("core-day-4", "2025-06-05"),
        ];
        let core = completion(&st, &facts, "2025-07-01", "core");
        assert_eq!(core.state, CompletionState::InProgress { done: 3, total: 4 });
        assert_eq!(core.completed_on, None);
        assert_eq!(core.modules_missing, ["core-day-2"]);

        let facts = [
            fact("core-day-1", "2025-06-02", AttendanceStatus::Absent),
            fact("core-day-2", "2025-06-03", AttendanceStatus::Cancelled),
        ];
        let core = completion(&st, &facts, "2025-07-01", "core");
        assert_eq!(core.state, CompletionState::NotStarted);

        let facts = [fact("core-day-1", "2025-06-02", AttendanceStatus::Partial)];
        let core = completion(&st, &facts, "2025-07-01", "core");
        assert_eq!(core.state, CompletionState::InProgress { done: 0, total: 4 });
    }

    fn core_days() -> Vec<AttendanceFact> {
        vec![
            attended("core-day-1", "2025-06-02"),
            attended("core-day-2", "2025-06-03"),
            attended("core-day-3", "2025-06-04"),
            attended("core-day-4", "2025-06-05"),
        ]
    }

    /// Safe & Together's supervisor completion on `today` for someone who
    /// completed CORE on 5 June 2025 and attended supervisor training on
    /// `supervisor_days`.
    fn supervisor_with_core_done(supervisor_days: &[&str], today: &str) -> PersonCompletion {
        let mut facts = core_days();
        facts.extend(supervisor_days.iter().map(|day| attended("supervisor", day)));
        completion(&programme("safe-and-together"), &facts, today, "supervisor")
    }

    #[test]
    fn supervisor_after_core_completes() {
        // The same day CORE completes counts as "on or after".
        let supervisor = supervisor_with_core_done(&["2025-06-05"], "2025-07-01");
        assert_completed_on(&supervisor, "2025-06-05");
    }

    #[test]
    fn supervisor_before_core_is_blocked() {
        let supervisor = supervisor_with_core_done(&["2025-05-20"], "2025-07-01");
        assert_eq!(supervisor.state, CompletionState::InProgress { done: 0, total: 1 });
        assert_eq!(supervisor.completed_on, None);
        let reason = supervisor.blocked_by.as_deref().expect("says why");
        assert!(reason.contains("20 May 2025"), "{reason}");
        assert!(
            reason.contains("CORE training was completed on 5 June 2025"),
            "{reason}"
        );

        // With CORE never finished the reason says so.
        let facts = [
            attended("core-day-1", "2025-06-02"),
            attended("supervisor", "2025-06-10"),
        ];
        let supervisor = completion(&programme("safe-and-together"), &facts, "2025-07-01", "supervisor");
        let reason = supervisor.blocked_by.expect("says why");
        assert!(reason.contains("CORE training is not complete"), "{reason}");

        // Attending supervisor training again after CORE puts it right.
        let supervisor = supervisor_with_core_done(&["2025-05-20", "2025-09-01"], "2025-10-01");
        assert_completed_on(&supervisor, "2025-09-01");
    }

    #[test]
    fn completions_lapse_after_the_refresher_period_and_renew() {
        let ambassadors = programme("domestic-abuse-ambassadors");
        let facts = vec![
            attended("initial-day-1", "2025-03-03"),
            attended("initial-day-2", "2025-03-10"),
        ];
        let ambassador = completion(&ambassadors, &facts, "2027-03-09", "ambassador");
        assert_eq!(ambassador.state, CompletionState::Completed);
        assert_eq!(ambassador.completed_on, Some(date("2025-03-10")));
        assert_eq!(ambassador.lapses_on, Some(date("2027-03-10")));
        let ambassador = completion(&ambassadors, &facts, "2027-03-10", "ambassador");
        assert_eq!(ambassador.state, CompletionState::Lapsed, "lapses on the day itself");

        // A refresher renews from its own date; a network session before completion does not.
        let mut renewed = facts.clone();
        renewed.push(attended("network-session", "2025-01-15"));
        renewed.push(attended("refresher", "2026-11-20"));
        renewed.push(fact("network-session", "2027-01-15", AttendanceStatus::Absent));
        let ambassador = completion(&ambassadors, &renewed, "2027-06-01", "ambassador");
        assert_eq!(ambassador.state, CompletionState::Completed);
        assert_eq!(ambassador.lapses_on, Some(date("2028-11-20")));

        // A network session after lapsing brings the ambassador back.
        let mut back = facts.clone();
        back.push(attended("network-session", "2028-01-10"));
        let ambassador = completion(&ambassadors, &back, "2028-02-01", "ambassador");
        assert_eq!(ambassador.state, CompletionState::Completed);
        assert_eq!(ambassador.lapses_on, Some(date("2030-01-10")));
    }

    #[test]
    fn held_spells_end_on_lapse_and_start_again_on_renewal() {
        let ambassadors = programme("domestic-abuse-ambassadors");
        let spells = |facts: &[AttendanceFact]| {
            let held = completion(&ambassadors, facts, "2030-01-01", "ambassador");
            let spells = held_spells(&ambassadors, &held, facts);
            // The last stretch ends when the completion lapses.
            assert_eq!(spells.last().and_then(|s| s.until), held.lapses_on);
            spells
                .into_iter()
                .map(|s| (s.from.to_string(), s.until.map(|d| d.to_string())))
                .collect::<Vec<_>>()
        };
        let initial = vec![
            attended("initial-day-1", "2025-03-03"),
            attended("initial-day-2", "2025-03-10"),
        ];
        assert_eq!(
            spells(&initial),
            [("2025-03-10".to_string(), Some("2027-03-10".to_string()))]
        );
        // A refresher while still held carries the same stretch on.
        let mut refreshed = initial.clone();
        refreshed.push(attended("refresher", "2026-11-20"));
        assert_eq!(
            spells(&refreshed),
            [("2025-03-10".to_string(), Some("2028-11-20".to_string()))]
        );
        // A network session after lapsing starts a new one, leaving a gap.
        let mut back = initial.clone();
        back.push(attended("network-session", "2028-01-10"));
        assert_eq!(
            spells(&back),
            [
                ("2025-03-10".to_string(), Some("2027-03-10".to_string())),
                ("2028-01-10".to_string(), Some("2030-01-10".to_string())),
            ]
        );
        // Without a refresher period a completion is held for good.
        let st = programme("safe-and-together");
        let core = completion(&st, &core_days(), "2030-01-01", "core");
        assert_eq!(
            held_spells(&st, &core, &core_days()),
            [HeldSpell {
                from: date("2025-06-05"),
                until: None
            }]
        );
        // Nothing held before completion.
        let started = [attended("core-day-1", "2025-06-02")];
        let core = completion(&st, &started, "2030-01-01", "core");
        assert!(held_spells(&st, &core, &started).is_empty());
    }

    #[test]
    fn a_briefing_is_renewed_by_attending_it_again() {
        let marac = programme("marac-briefing");
        let facts = [attended("marac-briefing", "2025-01-14")];
        let briefed = completion(&marac, &facts, "2028-02-01", "briefed");
        assert_eq!(briefed.lapses_on, Some(date("2028-01-14")));
        assert_eq!(briefed.state, CompletionState::Lapsed);
        let facts = [
            attended("marac-briefing", "2025-01-14"),
            attended("marac-briefing", "2027-12-01"),
        ];
        let briefed = completion(&marac, &facts, "2028-02-01", "briefed");
        assert_eq!(briefed.completed_on, Some(date("2025-01-14")));
        assert_eq!(briefed.lapses_on, Some(date("2030-12-01")));
        assert_eq!(briefed.state, CompletionState::Completed);
    }

    #[test]
    fn states_serialise_with_code_and_label() {
        let json = serde_json::to_value(CompletionState::InProgress { done: 2, total: 4 }).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"code": "in_progress", "label": "In progress", "done": 2, "total": 4})
        );
        let json = serde_json::to_value(CompletionState::Lapsed).expect("json");
        assert_eq!(json, serde_json::json!({"code": "lapsed", "label": "Lapsed"}));
        let json = serde_json::to_value(OrganisationTrainingState::FullyTrained).expect("json");
        assert_eq!(
            json,
            serde_json::json!({"code": "fully_trained", "label": "Fully trained"})
        );
    }

    fn clinician() -> Vec<AttendanceFact> {
        vec![
            attended("clinical-1", "2025-03-12"),
            attended("clinical-2", "2025-04-09"),
        ]
    }

    /// An IRIS practice's staff: `clinicians`, with a receptionist and a
    /// practice champion who attended their sessions.
    fn practice(clinicians: Vec<Vec<AttendanceFact>>) -> Vec<Vec<AttendanceFact>> {
        let mut people = clinicians;
        people.push(vec![attended("admin-reception", "2025-03-19")]);
        people.push(vec![attended("practice-champion", "2025-05-01")]);
        people
    }

    fn requirement<'a>(progress: &'a OrganisationProgress, id: &str) -> &'a RequirementProgress {
        progress
            .requirements
            .iter()
            .find(|r| r.completion_id == id)
            .expect("requirement listed")
    }

    #[test]
    fn an_iris_practice_is_fully_trained_when_the_rule_is_met() {
        let iris = programme("iris");
        let today = date("2025-06-01");
        let people = practice(vec![clinician(), clinician()]);
        let progress = organisation_progress(&iris, &people, today).expect("IRIS has a rule");
        assert_eq!(progress.state, OrganisationTrainingState::FullyTrained);
        assert_eq!(progress.rule_title, "Practice fully trained");
        assert!(!progress.explanation.is_empty());
        let clinical = requirement(&progress, "clinical");
        assert_eq!((clinical.completed_people, clinical.started_people), (2, 2));
        assert!(clinical.met && clinical.everyone_who_started);
        assert!(progress.requirements.iter().all(|r| r.met));
    }

    #[test]
    fn an_iris_practice_part_way_is_in_training() {
        let iris = programme("iris");
        let today = date("2025-06-01");
        // Everything present except that one clinician stopped after session 1.
        let people = practice(vec![
            clinician(),
            vec![
                attended("clinical-1", "2025-03-12"),
                fact("clinical-2", "2025-04-09", AttendanceStatus::Absent),
            ],
        ]);
        let progress = organisation_progress(&iris, &people, today).expect("rule");
        assert_eq!(progress.state, OrganisationTrainingState::InTraining);
        let clinical = requirement(&progress, "clinical");
        assert_eq!((clinical.completed_people, clinical.started_people), (1, 2));
        assert!(!clinical.met);
        assert!(requirement(&progress, "admin").met);

        // No champion yet.
        let people = vec![clinician(), vec![attended("admin-reception", "2025-03-19")]];
        let progress = organisation_progress(&iris, &people, today).expect("rule");
        assert_eq!(progress.state, OrganisationTrainingState::InTraining);
        assert!(!requirement(&progress, "champion").met);

        // Only a partial attendance so far still means training has begun.
        let people = vec![vec![fact("clinical-1", "2025-03-12", AttendanceStatus::Partial)]];
        let progress = organisation_progress(&iris, &people, today).expect("rule");
        assert_eq!(progress.state, OrganisationTrainingState::InTraining);
    }

    #[test]
    fn an_iris_practice_with_no_attendance_has_not_started() {
        let iris = programme("iris");
        let today = date("2025-06-01");
        for people in [
            vec![],
            vec![vec![]],
            vec![vec![fact("clinical-1", "2025-03-12", AttendanceStatus::Absent)]],
        ] {
            let progress = organisation_progress(&iris, &people, today).expect("rule");
            assert_eq!(progress.state, OrganisationTrainingState::NotStarted);
            assert_eq!(progress.requirements.len(), 3);
            assert!(progress.requirements.iter().all(|r| !r.met && r.completed_people == 0));
        }
    }

    #[test]
    fn programmes_without_a_rule_give_none() {
        let st = programme("safe-and-together");
        assert_eq!(organisation_progress(&st, &[core_days()], date("2025-07-01")), None);
    }

    #[test]
    fn lapsed_completions_do_not_count_for_the_organisation() {
        // IRIS ships without a refresher period; a later version might add one.
        let mut iris = programme("iris");
        iris.refresher_months = Some(24);
        let people = practice(vec![clinician()]);
        let progress = organisation_progress(&iris, &people, date("2027-03-01")).expect("rule");
        assert_eq!(progress.state, OrganisationTrainingState::FullyTrained);
        // The admin session lapsed on 19/03/2027 and the clinical training on 09/04/2027.
        let progress = organisation_progress(&iris, &people, date("2027-04-09")).expect("rule");
        assert_eq!(progress.state, OrganisationTrainingState::InTraining);
        let clinical = requirement(&progress, "clinical");
        assert_eq!((clinical.completed_people, clinical.started_people), (0, 1));
        let admin = requirement(&progress, "admin");
        assert_eq!(admin.completed_people, 0);
        assert!(!admin.met);
        assert!(requirement(&progress, "champion").met);
    }

    #[test]
    fn a_circle_built_in_code_does_not_hang() {
        let mut st = programme("safe-and-together");
        if let Some(core) = st.completions.iter_mut().find(|c| c.id == "core") {
            core.after = Some("supervisor".into());
        }
        let mut facts = core_days();
        facts.push(attended("supervisor", "2025-06-06"));
        let all = person_completions(&st, &facts, date("2025-07-01"));
        assert_eq!(all.len(), 3);
        assert!(all.iter().all(|c| c.state != CompletionState::Completed));
    }
}
