//! Training that counts as evidence. A criterion in a framework file may
//! state that some of the organisation's staff hold a completion of a
//! training programme ("80% of frontline staff have DVA awareness", "at
//! least one person is a domestic abuse ambassador"). qmtrack already knows
//! who was trained, so this module judges the requirement from the staff
//! list and the completions held on a day: met or not, with the figures and
//! the names behind them. Pure: the callers load the facts.

use super::programmes::ProgrammeLibrary;
use super::standards::{StandardsError, StandardsLibrary};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// What a criterion asks of the organisation's training record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TrainingRequirement {
    /// A programme id in `standards/training` (its current version decides completion).
    pub programme: String,
    /// One of that programme's completions.
    pub completion: String,
    pub amount: Amount,
    /// Only staff of this category count (normalised by [`normalise_category`]).
    pub category: Option<String>,
    /// The line of the requirement in its framework file, for messages.
    #[serde(skip)]
    pub line: usize,
}

/// How many must hold the completion.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Amount {
    /// A share of the staff in scope, more than 0 and at most 1.
    Share(f64),
    /// At least this many people.
    People(u32),
}

/// A staff category as stored and compared: trimmed, single-spaced and
/// lower-case ("Frontline " and "frontline" are one category); `None` when
/// nothing is given.
pub fn normalise_category(text: &str) -> Option<String> {
    let words: Vec<String> = text.split_whitespace().map(|w| w.to_lowercase()).collect();
    (!words.is_empty()).then(|| words.join(" "))
}

/// One person on the organisation's staff list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StaffMember {
    pub person_id: i64,
    pub full_name: String,
    pub category: Option<String>,
}

/// A stretch in which a person held the completion: from `from` up to the
/// day before `until` (`None` while it lasts), as kept in `completion_spells`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holding {
    pub person_id: i64,
    pub from: NaiveDate,
    pub until: Option<NaiveDate>,
}

impl Holding {
    pub fn covers(&self, day: NaiveDate) -> bool {
        self.from <= day && self.until.is_none_or(|until| day < until)
    }
}

/// The requirement judged on one day: met or not, the figures in a
/// sentence, and who is and is not trained among the staff in scope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Judgement {
    pub met: bool,
    /// Staff in scope holding the completion.
    pub trained: usize,
    /// Staff in scope (all staff, or those of the category).
    pub in_scope: usize,
    /// How many must hold it.
    pub needed: usize,
    /// "7 of 9 frontline staff (78%); needs 80%".
    pub figures: String,
    pub trained_names: Vec<String>,
    pub untrained_names: Vec<String>,
    pub as_of: NaiveDate,
}

/// Parts per million of a share, so that 0.8 of 10 people is 8, not the
/// 8.000000000000002 floating point makes of it (which would round up to 9).
fn share_ppm(share: f64) -> u64 {
    (share * 1_000_000.0).round().clamp(0.0, 1_000_000.0) as u64
}

/// How many of `in_scope` people a share needs: rounded up, so 80% of 9 is 8.
pub fn needed_for_share(share: f64, in_scope: usize) -> usize {
    let scope = in_scope as u64;
    usize::try_from((scope * share_ppm(share)).div_ceil(1_000_000)).unwrap_or(usize::MAX)
}

/// "80", "75", "33.3": a share as a percentage, without needless decimals.
fn percent_text(share: f64) -> String {
    let whole = share_ppm(share) / 10_000;
    let tenth = (share_ppm(share) % 10_000) / 1_000;
    if tenth == 0 {
        whole.to_string()
    } else {
        format!("{whole}.{tenth}")
    }
}

/// The requirement in words, e.g. "80% of frontline staff hold DVA
/// awareness", "At least 1 person holds Domestic abuse ambassador".
pub fn describe(requirement: &TrainingRequirement, completion_title: &str) -> String {
    let who = |all: &str| match &requirement.category {
        None => all.to_string(),
        Some(category) => format!("{category} staff"),
    };
    match requirement.amount {
        Amount::Share(share) if share_ppm(share) == 1_000_000 => {
            format!("All {} hold {completion_title}", who("staff"))
        }
        Amount::Share(share) => format!("{}% of {} hold {completion_title}", percent_text(share), who("staff")),
        Amount::People(1) if requirement.category.is_none() => format!("At least 1 person holds {completion_title}"),
        Amount::People(1) => format!("At least 1 of the {} holds {completion_title}", who("staff")),
        Amount::People(n) if requirement.category.is_none() => format!("At least {n} people hold {completion_title}"),
        Amount::People(n) => format!("At least {n} of the {} hold {completion_title}", who("staff")),
    }
}

/// Judges `requirement` on `as_of` from the organisation's staff list (in
/// the order names should be shown) and the stretches in which its people
/// held the completion. People not on the staff list are ignored. No staff
/// in scope never meets a requirement: there is no one to show trained.
pub fn judge(
    requirement: &TrainingRequirement,
    staff: &[StaffMember],
    holdings: &[Holding],
    as_of: NaiveDate,
) -> Judgement {
    let in_scope: Vec<&StaffMember> = staff
        .iter()
        .filter(|member| match &requirement.category {
            None => true,
            Some(wanted) => member.category.as_deref() == Some(wanted.as_str()),
        })
        .collect();
    let (mut trained_names, mut untrained_names) = (Vec::new(), Vec::new());
    for member in &in_scope {
        let holds = holdings
            .iter()
            .any(|h| h.person_id == member.person_id && h.covers(as_of));
        if holds {
            trained_names.push(member.full_name.clone());
        } else {
            untrained_names.push(member.full_name.clone());
        }
    }
    let trained = trained_names.len();
    let scope_count = in_scope.len();
    let who = match &requirement.category {
        None => "staff".to_string(),
        Some(category) => format!("{category} staff"),
    };
    let (needed, figures) = match requirement.amount {
        Amount::Share(share) => {
            let needed = needed_for_share(share, scope_count);
            let wanted = percent_text(share);
            let figures = if scope_count == 0 {
                format!("No {who} on the staff list; needs {wanted}%")
            } else {
                let met = trained >= needed;
                let exact = trained as f64 * 100.0 / scope_count as f64;
                let mut shown = exact.round();
                // Never show a share that looks enough when it is not (79.6% as "80%").
                if !met && shown * 10_000.0 >= share_ppm(share) as f64 {
                    shown = exact.floor();
                }
                format!("{trained} of {scope_count} {who} ({shown}%); needs {wanted}%")
            };
            (needed, figures)
        }
        Amount::People(people) => {
            let needed = people as usize;
            let figures = if scope_count == 0 {
                format!("No {who} on the staff list; needs at least {needed}")
            } else {
                format!("{trained} of {scope_count} {who} trained; needs at least {needed}")
            };
            (needed, figures)
        }
    };
    Judgement {
        met: scope_count > 0 && trained >= needed.max(1),
        trained,
        in_scope: scope_count,
        needed,
        figures,
        trained_names,
        untrained_names,
        as_of,
    }
}

impl Judgement {
    /// The same record of who was trained, whatever day it was judged on.
    pub fn same_record(&self, other: &Judgement) -> bool {
        self.met == other.met
            && self.figures == other.figures
            && self.trained_names == other.trained_names
            && self.untrained_names == other.untrained_names
    }
}

/// A judgement frozen at one submission of an assessment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frozen {
    pub criterion_id: String,
    pub submission: i64,
    pub judgement: Judgement,
}

/// Criteria whose training record frozen at a later submission differs from
/// the one the assessor decided on (frozen at the submission of their latest
/// decision, `decided_in`): like changed evidence, the decision no longer stands.
pub fn changed_since_decisions(frozen: &[Frozen], decided_in: &[(&str, i64)]) -> Vec<String> {
    let mut changed = Vec::new();
    for (criterion_id, decided) in decided_in {
        let of = |submission: i64| {
            frozen
                .iter()
                .find(|f| f.criterion_id == *criterion_id && f.submission == submission)
        };
        let latest = frozen
            .iter()
            .filter(|f| f.criterion_id == *criterion_id && f.submission > *decided)
            .max_by_key(|f| f.submission);
        let differs = match (latest, of(*decided)) {
            (None, _) => false,
            (Some(_), None) => true,
            (Some(now), Some(then)) => !now.judgement.same_record(&then.judgement),
        };
        if differs {
            changed.push(criterion_id.to_string());
        }
    }
    changed
}

/// The problems with a framework file's requirement as written, before any
/// programme is looked at: exactly one of share and people, a share in
/// (0, 1], at least one person. Messages name the criterion.
pub fn shape_problems(criterion_id: &str, share: Option<f64>, people: Option<i64>) -> Vec<String> {
    let mut problems = Vec::new();
    match (share, people) {
        (Some(_), Some(_)) => problems.push(format!(
            "criterion {criterion_id}: a training requirement gives either share or people, not both"
        )),
        (None, None) => problems.push(format!(
            "criterion {criterion_id}: a training requirement needs share (a part of the staff, such as 0.8) or people (a number, such as 1)"
        )),
        _ => {}
    }
    if let Some(share) = share {
        if !(share > 0.0 && share <= 1.0) {
            problems.push(format!(
                "criterion {criterion_id}: share must be more than 0 and at most 1 (0.8 is 80%), not {share}"
            ));
        }
    }
    if let Some(people) = people {
        if people < 1 {
            problems.push(format!(
                "criterion {criterion_id}: people must be at least 1, not {people}"
            ));
        }
    }
    problems
}

/// Every training requirement in the frameworks that names a programme or
/// completion the programme files do not have, as `file:line: message`.
pub fn check_references(standards: &StandardsLibrary, programmes: &ProgrammeLibrary) -> Vec<StandardsError> {
    let mut errors = Vec::new();
    for framework in standards.all() {
        for criterion in framework.criteria() {
            let Some(requirement) = &criterion.training else {
                continue;
            };
            let message = match programmes.current_version(&requirement.programme) {
                None => Some(format!(
                    "criterion {}: training programme \"{}\" is not one of the programme files in training/ ({})",
                    criterion.id,
                    requirement.programme,
                    programmes
                        .current()
                        .iter()
                        .map(|p| p.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some(programme) if programme.completion(&requirement.completion).is_none() => Some(format!(
                    "criterion {}: programme \"{}\" has no completion \"{}\" (it has: {})",
                    criterion.id,
                    requirement.programme,
                    requirement.completion,
                    programme
                        .completions
                        .iter()
                        .map(|c| c.id.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
                Some(_) => None,
            };
            if let Some(message) = message {
                errors.push(StandardsError {
                    file: framework.file.clone(),
                    line: requirement.line,
                    message,
                });
            }
        }
    }
    errors
}

/// The categories the frameworks ask for, sorted: offered as suggestions
/// where a person's category is typed.
pub fn categories_in_use(standards: &StandardsLibrary) -> Vec<String> {
    let mut categories: Vec<String> = standards
        .all()
        .iter()
        .flat_map(|f| f.criteria())
        .filter_map(|c| c.training.as_ref().and_then(|t| t.category.clone()))
        .collect();
    categories.sort();
    categories.dedup();
    categories
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("date")
    }

    fn requirement(amount: Amount, category: Option<&str>) -> TrainingRequirement {
        TrainingRequirement {
            programme: "dva-awareness".into(),
            completion: "aware".into(),
            amount,
            category: category.map(str::to_string),
            line: 1,
        }
    }

    fn staff(people: &[(i64, &str, Option<&str>)]) -> Vec<StaffMember> {
        people
            .iter()
            .map(|(id, name, category)| StaffMember {
                person_id: *id,
                full_name: name.to_string(),
                category: category.map(str::to_string),
            })
            .collect()
    }

    fn held(person_id: i64, from: &str, until: Option<&str>) -> Holding {
        Holding {
            person_id,
            from: day(from),
            until: until.map(day),
        }
    }

    #[test]
    fn a_share_rounds_up_to_whole_people() {
        assert_eq!(needed_for_share(0.8, 9), 8);
        assert_eq!(needed_for_share(0.8, 10), 8, "not 9 from 8.000000000000002");
        assert_eq!(needed_for_share(0.8, 11), 9);
        assert_eq!(needed_for_share(1.0, 7), 7);
        assert_eq!(needed_for_share(0.5, 1), 1);
        assert_eq!(needed_for_share(0.3, 0), 0);
    }

    #[test]
    fn seven_of_nine_frontline_is_not_eighty_percent() {
        let mut people = Vec::new();
        for id in 1..=9 {
            people.push((id, "Frontline", Some("frontline")));
        }
        people.push((10, "Office", Some("office")));
        people.push((11, "Unset", None));
        let names: Vec<String> = (1..=11).map(|i| format!("Person {i:02}")).collect();
        let list: Vec<(i64, &str, Option<&str>)> = people
            .iter()
            .map(|(id, _, c)| (*id, names[(*id - 1) as usize].as_str(), *c))
            .collect();
        let staff = staff(&list);
        // Everyone but 8 and 9 trained, including the office worker, who does not count.
        let holdings: Vec<Holding> = [1, 2, 3, 4, 5, 6, 7, 10]
            .iter()
            .map(|id| held(*id, "2026-01-10", None))
            .collect();
        let wanted = requirement(Amount::Share(0.8), Some("frontline"));
        let judged = judge(&wanted, &staff, &holdings, day("2026-06-01"));
        assert!(!judged.met);
        assert_eq!(judged.figures, "7 of 9 frontline staff (78%); needs 80%");
        assert_eq!(judged.untrained_names, ["Person 08", "Person 09"]);
        assert_eq!(judged.trained_names.len(), 7);
        assert_eq!(judged.needed, 8);

        let more: Vec<Holding> = holdings.iter().copied().chain([held(8, "2026-05-01", None)]).collect();
        let judged = judge(&wanted, &staff, &more, day("2026-06-01"));
        assert!(judged.met);
        assert_eq!(judged.figures, "8 of 9 frontline staff (89%); needs 80%");
    }

    #[test]
    fn a_share_just_short_is_not_shown_as_enough() {
        // 199 of 200 is 99.5%, which rounds to 100%; the page must not say 100% of 100%.
        let list: Vec<(i64, String)> = (1..=200).map(|i| (i, format!("P{i}"))).collect();
        let staff: Vec<StaffMember> = list
            .iter()
            .map(|(id, name)| StaffMember {
                person_id: *id,
                full_name: name.clone(),
                category: None,
            })
            .collect();
        let holdings: Vec<Holding> = (1..200).map(|id| held(id, "2026-01-01", None)).collect();
        let judged = judge(
            &requirement(Amount::Share(1.0), None),
            &staff,
            &holdings,
            day("2026-02-01"),
        );
        assert!(!judged.met);
        assert_eq!(judged.figures, "199 of 200 staff (99%); needs 100%");
    }

    #[test]
    fn no_staff_in_scope_is_never_met() {
        let staff = staff(&[(1, "Ann", Some("office"))]);
        let holdings = [held(1, "2026-01-01", None)];
        let judged = judge(
            &requirement(Amount::Share(0.5), Some("clinician")),
            &staff,
            &holdings,
            day("2026-02-01"),
        );
        assert!(!judged.met);
        assert_eq!(judged.figures, "No clinician staff on the staff list; needs 50%");
        let judged = judge(&requirement(Amount::People(1), None), &[], &[], day("2026-02-01"));
        assert!(!judged.met);
        assert_eq!(judged.figures, "No staff on the staff list; needs at least 1");
    }

    #[test]
    fn a_number_of_people_counts_heads() {
        let staff = staff(&[(1, "Ann", None), (2, "Bob", None), (3, "Cy", None)]);
        let wanted = requirement(Amount::People(2), None);
        let one = [held(2, "2026-01-01", None)];
        let judged = judge(&wanted, &staff, &one, day("2026-02-01"));
        assert!(!judged.met);
        assert_eq!(judged.figures, "1 of 3 staff trained; needs at least 2");
        assert_eq!(judged.trained_names, ["Bob"]);
        assert_eq!(judged.untrained_names, ["Ann", "Cy"]);
        let two = [held(2, "2026-01-01", None), held(3, "2026-01-20", None)];
        assert!(judge(&wanted, &staff, &two, day("2026-02-01")).met);
        // Someone trained who has left the staff list does not count.
        let gone = [held(2, "2026-01-01", None), held(99, "2026-01-01", None)];
        assert!(!judge(&wanted, &staff, &gone, day("2026-02-01")).met);
    }

    #[test]
    fn an_expired_or_future_completion_does_not_count() {
        let staff = staff(&[(1, "Ann", None)]);
        let wanted = requirement(Amount::People(1), None);
        let lapsed = [held(1, "2023-01-01", Some("2026-01-01"))];
        assert!(judge(&wanted, &staff, &lapsed, day("2025-12-31")).met);
        let judged = judge(&wanted, &staff, &lapsed, day("2026-01-01"));
        assert!(!judged.met, "the day it lapses it is no longer held");
        assert_eq!(judged.untrained_names, ["Ann"]);
        let later = [held(1, "2026-03-01", None)];
        assert!(!judge(&wanted, &staff, &later, day("2026-02-01")).met);
        // Renewed after a lapse: the new stretch counts.
        let renewed = [
            held(1, "2023-01-01", Some("2026-01-01")),
            held(1, "2026-01-15", Some("2029-01-15")),
        ];
        assert!(judge(&wanted, &staff, &renewed, day("2026-02-01")).met);
    }

    #[test]
    fn a_requirement_reads_as_a_sentence() {
        let all = requirement(Amount::Share(1.0), Some("clinician"));
        assert_eq!(
            describe(&all, "IRIS clinical training"),
            "All clinician staff hold IRIS clinical training"
        );
        let most = requirement(Amount::Share(0.8), Some("frontline"));
        assert_eq!(
            describe(&most, "DVA awareness"),
            "80% of frontline staff hold DVA awareness"
        );
        let one = requirement(Amount::People(1), None);
        assert_eq!(describe(&one, "MARAC briefed"), "At least 1 person holds MARAC briefed");
        let two = requirement(Amount::People(2), Some("dva lead"));
        assert_eq!(
            describe(&two, "MARAC briefed"),
            "At least 2 of the dva lead staff hold MARAC briefed"
        );
    }

    #[test]
    fn a_decision_stands_until_the_frozen_record_changes() {
        let staff = staff(&[(1, "Ann", None), (2, "Bob", None)]);
        let wanted = requirement(Amount::People(1), None);
        let one = judge(&wanted, &staff, &[held(1, "2026-01-01", None)], day("2026-02-01"));
        let same_later = judge(&wanted, &staff, &[held(1, "2026-01-01", None)], day("2026-03-01"));
        let two = judge(
            &wanted,
            &staff,
            &[held(1, "2026-01-01", None), held(2, "2026-02-10", None)],
            day("2026-03-01"),
        );
        let frozen = |submission: i64, judgement: &Judgement| Frozen {
            criterion_id: "1.1.2".into(),
            submission,
            judgement: judgement.clone(),
        };
        let decided = [("1.1.2", 1)];
        assert!(changed_since_decisions(&[frozen(1, &one)], &decided).is_empty());
        assert!(
            changed_since_decisions(&[frozen(1, &one), frozen(2, &same_later)], &decided).is_empty(),
            "judged on another day, but the same record"
        );
        assert_eq!(
            changed_since_decisions(&[frozen(1, &one), frozen(2, &two)], &decided),
            ["1.1.2"]
        );
        assert_eq!(
            changed_since_decisions(&[frozen(2, &one)], &decided),
            ["1.1.2"],
            "decided before any record was frozen"
        );
        assert!(changed_since_decisions(&[frozen(1, &one), frozen(2, &two)], &[("1.1.2", 2)]).is_empty());
    }

    #[test]
    fn categories_compare_without_case_or_spacing() {
        assert_eq!(normalise_category("  Front   Line "), Some("front line".into()));
        assert_eq!(normalise_category("   "), None);
        assert_eq!(percent_text(0.8), "80");
        assert_eq!(percent_text(0.333), "33.3");
        assert_eq!(percent_text(1.0), "100");
    }

    #[test]
    fn shape_problems_name_the_criterion() {
        assert!(shape_problems("1.1.2", Some(0.5), None).is_empty());
        assert!(shape_problems("1.1.2", None, Some(1)).is_empty());
        assert!(shape_problems("1.1.2", Some(0.5), Some(1))[0].contains("not both"));
        assert!(shape_problems("1.1.2", None, None)[0].starts_with("criterion 1.1.2: "));
        assert!(shape_problems("1.1.2", Some(0.0), None)[0].contains("more than 0"));
        assert!(shape_problems("1.1.2", Some(1.2), None)[0].contains("at most 1"));
        assert!(shape_problems("1.1.2", None, Some(0))[0].contains("at least 1"));
    }
}
