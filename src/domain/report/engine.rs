//! Computes every figure of a report from the facts of one period.

use super::{slug, Figure, Group, Period, Records, Report, Section};
use crate::domain::assessment::{award_status, AwardStatus, State};
use crate::domain::completion::{
    organisation_progress_from_counts, OrganisationProgress, OrganisationTrainingState, PeopleCount,
};
use crate::domain::evaluation::{summary, tally, Answers};
use crate::domain::organisation::OrgType;
use crate::domain::programmes::{Completion, Programme, ProgrammeLibrary};
use crate::domain::standards::StandardsLibrary;
use chrono::NaiveDate;
use std::collections::{BTreeMap, BTreeSet};

/// One award (an assessment that was awarded, here or before qmtrack).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwardRecord {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub framework_id: String,
    pub awarded_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    pub revoked_on: Option<NaiveDate>,
}

impl AwardRecord {
    /// Held at the end of `day`: an award ends at the start of its expiry
    /// date, and one revoked on a day is not held at the end of it.
    pub fn held_on(&self, day: NaiveDate) -> bool {
        self.awarded_on <= day
            && self.expires_on.is_none_or(|end| day < end)
            && self.revoked_on.is_none_or(|revoked| day < revoked)
    }
}

/// An assessment that was neither awarded nor revoked at the end of the period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenAssessment {
    pub assessment_id: i64,
    pub framework_id: String,
    pub organisation_name: String,
    pub state: State,
    /// When it last went to the review queue, while it is in it.
    pub waiting_since: Option<NaiveDate>,
}

/// A count of people (or organisations) of one type and locality.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupCount {
    pub org_type: String,
    pub locality: String,
    pub count: i64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Activity {
    pub sessions: i64,
    /// Attended in full or in part.
    pub attendances: i64,
    pub people: i64,
    /// Booked and marked absent.
    pub absences: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CompletionActivity {
    pub completion_id: String,
    /// People present at any of its modules in the period.
    pub started: Vec<GroupCount>,
    /// People who completed it in the period.
    pub completed: Vec<GroupCount>,
    /// People holding it, current, at the end of the period.
    pub holding: Vec<GroupCount>,
}

/// An organisation's staff on one completion at the end of the period, for
/// the organisation rule: how many had started it by then, and how many of
/// them held it, current.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StandingAtEnd {
    pub organisation_id: i64,
    pub organisation_name: String,
    pub completion_id: String,
    pub started: i64,
    pub holding: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CohortActivity {
    pub id: i64,
    pub name: String,
    /// People on its registers.
    pub people: i64,
    pub modules: Vec<String>,
    /// People of the cohort who had completed each completion by the end of the period.
    pub completed: Vec<(String, i64)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProgrammeActivity {
    pub programme_id: String,
    pub totals: Activity,
    /// Names of the organisations whose staff attended.
    pub organisations: Vec<String>,
    pub modules: Vec<(String, Activity)>,
    pub completions: Vec<CompletionActivity>,
    /// Organisations signed up by the end of the period (id, name).
    pub signed_up: Vec<(i64, String)>,
    pub standings: Vec<StandingAtEnd>,
    pub cohorts: Vec<CohortActivity>,
}

/// Everything the engine needs about one period.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeriodData {
    pub period: Period,
    pub renewal_notice_days: u64,
    pub awards: Vec<AwardRecord>,
    pub open_assessments: Vec<OpenAssessment>,
    pub programmes: Vec<ProgrammeActivity>,
    pub training: Activity,
    pub training_organisations: Vec<String>,
    /// Evaluation responses to the period's sessions, by programme id; `None`
    /// for an organisation's own report (answers are anonymous, so they
    /// belong to no organisation).
    pub evaluations: Option<BTreeMap<String, Vec<Answers>>>,
}

fn figure(section: &str, id: String, label: String, value: i64) -> Figure {
    Figure {
        id,
        section: section.to_string(),
        label,
        value,
        previous: None,
        items: Vec::new(),
        records: None,
    }
}

pub(super) fn count(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn group(title: &str, chart: bool, figures: Vec<Figure>) -> Group {
    Group {
        title: title.to_string(),
        chart,
        figures,
    }
}

/// Computes every figure for `data.period` (without the comparison: see
/// [`Report::compare_with`]).
pub fn compute(data: &PeriodData, standards: &StandardsLibrary, programmes: &ProgrammeLibrary) -> Report {
    let mut sections = vec![accreditation_summary(data)];
    for framework in standards.current() {
        sections.push(accreditation(data, &framework.id, &framework.name));
    }
    sections.push(training_summary(data));
    for programme in programmes.current() {
        let empty = ProgrammeActivity {
            programme_id: programme.id.clone(),
            totals: Activity::default(),
            organisations: Vec::new(),
            modules: Vec::new(),
            completions: Vec::new(),
            signed_up: Vec::new(),
            standings: Vec::new(),
            cohorts: Vec::new(),
        };
        let activity = data
            .programmes
            .iter()
            .find(|p| p.programme_id == programme.id)
            .unwrap_or(&empty);
        sections.push(training(programme, activity));
    }
    if let Some(responses) = &data.evaluations {
        sections.push(evaluations(programmes, responses));
    }
    Report {
        title: "Quality marks and training".into(),
        period: data.period,
        previous_period: data.period.previous(),
        organisation: None,
        sections,
    }
}

/// Distinct organisation names, in order.
fn names<'a>(awards: impl Iterator<Item = &'a AwardRecord>) -> Vec<String> {
    let set: BTreeMap<i64, &str> = awards
        .map(|a| (a.organisation_id, a.organisation_name.as_str()))
        .collect();
    let mut names: Vec<String> = set.into_values().map(str::to_string).collect();
    names.sort();
    names
}

struct AwardFigures {
    awarded: Vec<String>,
    holding: Vec<String>,
    ever: Vec<String>,
    renewal_due: Vec<String>,
    expired: Vec<String>,
    revoked: Vec<String>,
}

fn award_figures(awards: &[&AwardRecord], period: Period, notice_days: u64) -> AwardFigures {
    let end = period.to;
    let held_by = |organisation: i64, day: NaiveDate| {
        awards
            .iter()
            .any(|a| a.organisation_id == organisation && a.held_on(day))
    };
    // Renewal is due when the latest expiry among the awards an organisation
    // holds at the end falls within the notice period.
    let mut latest_expiry: BTreeMap<i64, Option<NaiveDate>> = BTreeMap::new();
    for award in awards.iter().filter(|a| a.held_on(end)) {
        let entry = latest_expiry.entry(award.organisation_id).or_insert(award.expires_on);
        *entry = match (*entry, award.expires_on) {
            (Some(a), Some(b)) => Some(a.max(b)),
            _ => None,
        };
    }
    let due: BTreeSet<i64> = latest_expiry
        .into_iter()
        .filter(|(_, expiry)| expiry.is_some_and(|e| award_status(e, end, notice_days) == AwardStatus::RenewalDue))
        .map(|(organisation, _)| organisation)
        .collect();
    AwardFigures {
        awarded: names(awards.iter().copied().filter(|a| period.contains(a.awarded_on))),
        holding: names(awards.iter().copied().filter(|a| a.held_on(end))),
        ever: names(awards.iter().copied().filter(|a| a.awarded_on <= end)),
        renewal_due: names(awards.iter().copied().filter(|a| due.contains(&a.organisation_id))),
        // Expired without a renewal taking over on the day, and not revoked first.
        expired: names(awards.iter().copied().filter(|a| {
            a.expires_on.is_some_and(|e| {
                period.contains(e) && a.revoked_on.is_none_or(|r| r >= e) && !held_by(a.organisation_id, e)
            })
        })),
        revoked: names(
            awards
                .iter()
                .copied()
                .filter(|a| a.revoked_on.is_some_and(|r| period.contains(r))),
        ),
    }
}

fn with_items(mut figure: Figure, items: Vec<String>) -> Figure {
    figure.value = count(items.len());
    figure.items = items;
    figure
}

fn accreditation_summary(data: &PeriodData) -> Section {
    let section = "accreditation";
    let all: Vec<&AwardRecord> = data.awards.iter().collect();
    let f = award_figures(&all, data.period, data.renewal_notice_days);
    let id = |name: &str| format!("accreditation.all.{name}");
    Section {
        notes: Vec::new(),
        id: section.into(),
        title: "Quality marks and accreditations: all frameworks".into(),
        groups: vec![group(
            "Organisations",
            false,
            vec![
                with_items(
                    figure(section, id("awarded"), "Organisations awarded in the period".into(), 0),
                    f.awarded,
                ),
                with_items(
                    figure(
                        section,
                        id("holding"),
                        "Organisations holding a current award at the end of the period".into(),
                        0,
                    ),
                    f.holding,
                ),
                figure(
                    section,
                    id("awarded_ever"),
                    "Organisations awarded since records began".into(),
                    count(f.ever.len()),
                ),
            ],
        )],
    }
}

fn accreditation(data: &PeriodData, framework_id: &str, framework_name: &str) -> Section {
    let section = format!("accreditation.{framework_id}");
    let id = |name: &str| format!("accreditation.{framework_id}.{name}");
    let awards: Vec<&AwardRecord> = data.awards.iter().filter(|a| a.framework_id == framework_id).collect();
    let f = award_figures(&awards, data.period, data.renewal_notice_days);
    let list = |state: &str| {
        Some(Records::Assessments {
            framework: framework_id.to_string(),
            state: state.to_string(),
        })
    };
    let mut awarded = with_items(
        figure(&section, id("awarded"), "Organisations awarded in the period".into(), 0),
        f.awarded,
    );
    awarded.records = list("awarded");
    let mut holding = with_items(
        figure(
            &section,
            id("holding"),
            "Organisations holding a current award at the end of the period".into(),
            0,
        ),
        f.holding,
    );
    holding.records = list("awarded");
    let headline = vec![
        awarded,
        holding,
        figure(
            &section,
            id("awarded_ever"),
            "Organisations awarded since records began".into(),
            count(f.ever.len()),
        ),
        with_items(
            figure(
                &section,
                id("renewal_due"),
                format!(
                    "Renewal due within {} days of the end of the period",
                    data.renewal_notice_days
                ),
                0,
            ),
            f.renewal_due,
        ),
        with_items(
            figure(
                &section,
                id("expired"),
                "Awards expired in the period, not renewed".into(),
                0,
            ),
            f.expired,
        ),
        with_items(
            figure(&section, id("revoked"), "Awards revoked in the period".into(), 0),
            f.revoked,
        ),
    ];

    let open: Vec<&OpenAssessment> = data
        .open_assessments
        .iter()
        .filter(|a| a.framework_id == framework_id)
        .collect();
    let stages: Vec<Figure> = State::ALL
        .into_iter()
        .filter(|s| s.is_open())
        .map(|state| {
            let mut f = figure(
                &section,
                id(&format!("stage.{}", state.as_str())),
                state.label().to_string(),
                count(open.iter().filter(|a| a.state == state).count()),
            );
            f.records = list(state.as_str());
            f
        })
        .collect();

    let mut queue: Vec<(i64, String)> = open
        .iter()
        .filter(|a| a.state.in_review())
        .map(|a| {
            let days = a
                .waiting_since
                .map_or(0, |since| (data.period.to - since).num_days().max(0));
            (
                days,
                format!(
                    "{}: {} days ({})",
                    a.organisation_name,
                    days,
                    a.state.label().to_lowercase()
                ),
            )
        })
        .collect();
    queue.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    let oldest = queue.first().map_or(0, |(days, _)| *days);
    let mut waiting = figure(
        &section,
        id("review_queue"),
        "Waiting for or in review at the end of the period".into(),
        count(queue.len()),
    );
    waiting.items = queue.into_iter().map(|(_, text)| text).collect();
    waiting.records = Some(Records::ReviewQueue);
    let review = vec![
        waiting,
        figure(
            &section,
            id("review_queue.oldest_days"),
            "Longest wait in the review queue (days)".into(),
            oldest,
        ),
    ];
    Section {
        notes: Vec::new(),
        id: section.clone(),
        title: framework_name.to_string(),
        groups: vec![
            group("Awards", false, headline),
            group(
                "Assessments in progress at the end of the period, by stage",
                true,
                stages,
            ),
            group("Review queue", false, review),
        ],
    }
}

fn activity_figures(section: &str, prefix: &str, activity: &Activity, records: Option<Records>) -> Vec<Figure> {
    let id = |name: &str| format!("{prefix}.{name}");
    let mut sessions = figure(section, id("sessions"), "Sessions delivered".into(), activity.sessions);
    sessions.records = records.clone();
    vec![
        sessions,
        figure(section, id("attendances"), "Attendances".into(), activity.attendances),
        figure(section, id("people"), "People who attended".into(), activity.people),
        figure(
            section,
            id("absences"),
            "Booked places not attended".into(),
            activity.absences,
        ),
    ]
}

fn training_summary(data: &PeriodData) -> Section {
    let section = "training";
    let mut figures = activity_figures(section, "training.all", &data.training, None);
    figures.push(with_items(
        figure(
            section,
            "training.all.organisations".into(),
            "Organisations whose staff attended".into(),
            0,
        ),
        data.training_organisations.clone(),
    ));
    Section {
        notes: Vec::new(),
        id: section.into(),
        title: "Training: all programmes".into(),
        groups: vec![group("Delivery", false, figures)],
    }
}

fn org_type_label(code: &str) -> String {
    OrgType::ALL
        .into_iter()
        .find(|t| t.as_str() == code)
        .map_or_else(|| code.to_string(), |t| t.label().to_string())
}

/// The counts summed by organisation type and by locality, as figures.
fn breakdowns(section: &str, prefix: &str, what: &str, counts: &[GroupCount]) -> (Vec<Figure>, Vec<Figure>) {
    let mut by_type: BTreeMap<&str, i64> = BTreeMap::new();
    let mut by_locality: BTreeMap<&str, i64> = BTreeMap::new();
    for c in counts {
        *by_type.entry(c.org_type.as_str()).or_default() += c.count;
        *by_locality.entry(c.locality.as_str()).or_default() += c.count;
    }
    let types = by_type
        .into_iter()
        .map(|(code, n)| {
            figure(
                section,
                format!("{prefix}.type.{code}"),
                format!("{what}: {}", org_type_label(code)),
                n,
            )
        })
        .collect();
    let localities = by_locality
        .into_iter()
        .map(|(name, n)| {
            let shown = if name.is_empty() { "Locality not recorded" } else { name };
            figure(
                section,
                format!("{prefix}.locality.{}", slug(name)),
                format!("{what}: {shown}"),
                n,
            )
        })
        .collect();
    (types, localities)
}

fn training(programme: &Programme, activity: &ProgrammeActivity) -> Section {
    let section = format!("training.{}", programme.id);
    let prefix = section.clone();
    let id = |name: &str| format!("{prefix}.{name}");
    let mut delivery = activity_figures(
        &section,
        &prefix,
        &activity.totals,
        Some(Records::Sessions {
            programme: programme.id.clone(),
        }),
    );
    let mut reached = with_items(
        figure(
            &section,
            id("organisations"),
            "Organisations whose staff attended".into(),
            0,
        ),
        activity.organisations.clone(),
    );
    reached.records = Some(Records::Programme {
        programme: programme.id.clone(),
    });
    delivery.push(reached);
    let mut groups = vec![group("Delivery", false, delivery)];

    let mut by_module = Vec::new();
    for module in &programme.modules {
        let found = activity
            .modules
            .iter()
            .find(|(m, _)| *m == module.id)
            .map(|(_, a)| a.clone())
            .unwrap_or_default();
        let module_prefix = id(&format!("module.{}", module.id));
        by_module.push(figure(
            &section,
            format!("{module_prefix}.sessions"),
            format!("{}: sessions", module.title),
            found.sessions,
        ));
        by_module.push(figure(
            &section,
            format!("{module_prefix}.people"),
            format!("{}: people who attended", module.title),
            found.people,
        ));
    }
    groups.push(group("By module", true, by_module));

    for completion in &programme.completions {
        let found = activity.completions.iter().find(|c| c.completion_id == completion.id);
        let total = |pick: fn(&CompletionActivity) -> &Vec<GroupCount>| -> i64 {
            found.map_or(0, |c| pick(c).iter().map(|g| g.count).sum())
        };
        let completion_prefix = id(&format!("completion.{}", completion.id));
        let mut headline = vec![
            figure(
                &section,
                format!("{completion_prefix}.started"),
                "People who attended any of its modules in the period".into(),
                total(|c| &c.started),
            ),
            figure(
                &section,
                format!("{completion_prefix}.completed"),
                "People who completed it in the period".into(),
                total(|c| &c.completed),
            ),
            figure(
                &section,
                format!("{completion_prefix}.holding"),
                "People holding it, current, at the end of the period".into(),
                total(|c| &c.holding),
            ),
        ];
        for figure in &mut headline {
            figure.records = Some(Records::Programme {
                programme: programme.id.clone(),
            });
        }
        groups.push(group(&completion.title, false, headline));
        let mut by_type = Vec::new();
        let mut by_locality = Vec::new();
        for (what, label, pick) in [
            (
                "completed",
                "Completed in the period",
                (|c: &CompletionActivity| &c.completed) as fn(&CompletionActivity) -> &Vec<GroupCount>,
            ),
            ("holding", "Holding at the end", |c: &CompletionActivity| &c.holding),
        ] {
            let counts: &[GroupCount] = found.map_or(&[], |c| pick(c).as_slice());
            let (types, localities) = breakdowns(&section, &format!("{completion_prefix}.{what}"), label, counts);
            by_type.extend(types);
            by_locality.extend(localities);
        }
        if !by_type.is_empty() {
            groups.push(group(
                &format!("{}: by type of organisation", completion.title),
                true,
                by_type,
            ));
        }
        if !by_locality.is_empty() {
            groups.push(group(&format!("{}: by locality", completion.title), true, by_locality));
        }
    }

    if let Some(rule) = &programme.organisation_rule {
        groups.push(group(
            &rule.title,
            false,
            organisation_rule_figures(programme, activity, &section),
        ));
    }

    if !activity.cohorts.is_empty() {
        let mut cohorts = vec![figure(
            &section,
            id("cohorts.people"),
            "People in cohorts".into(),
            activity.cohorts.iter().map(|c| c.people).sum(),
        )];
        let mut completed_total = 0;
        let mut cohort_rows = Vec::new();
        for cohort in &activity.cohorts {
            let aim = cohort_aim(programme, &cohort.modules);
            let completed = cohort_completed(programme, cohort);
            completed_total += completed;
            let cohort_prefix = id(&format!("cohort.{}", cohort.id));
            let mut size = figure(
                &section,
                format!("{cohort_prefix}.people"),
                format!("{}: people", cohort.name),
                cohort.people,
            );
            size.records = Some(Records::Cohort { id: cohort.id });
            let mut done = figure(
                &section,
                format!("{cohort_prefix}.completed"),
                format!(
                    "{}: completed {}",
                    cohort.name,
                    aim.map_or("the course", |c| c.title.as_str())
                ),
                completed,
            );
            done.items = vec![format!("{completed} of {}", cohort.people)];
            cohort_rows.push(size);
            cohort_rows.push(done);
        }
        cohorts.push(figure(
            &section,
            id("cohorts.completed"),
            "People in cohorts who completed".into(),
            completed_total,
        ));
        cohorts.extend(cohort_rows);
        groups.push(group("Cohorts", false, cohorts));
    }

    Section {
        notes: Vec::new(),
        id: section.clone(),
        title: programme.name.clone(),
        groups,
    }
}

/// "Session evaluations": for each programme with a form, how many
/// responses its sessions in the period had, and for each question the
/// share giving the headline answer (a whole percentage). The responses
/// figure's line reads as the board quotes it: "12 responses; 92% said …".
fn evaluations(programmes: &ProgrammeLibrary, responses: &BTreeMap<String, Vec<Answers>>) -> Section {
    let section = "evaluation";
    let mut groups = Vec::new();
    for programme in programmes.current() {
        let Some(form) = &programme.evaluation else {
            continue;
        };
        let answers: &[Answers] = responses.get(&programme.id).map(Vec::as_slice).unwrap_or_default();
        let tallies = tally(form, answers.iter());
        let total = count(answers.len());
        let prefix = format!("evaluation.{}", programme.id);
        let mut given = figure(section, format!("{prefix}.responses"), "Responses".into(), total);
        given.items = vec![summary(total, &tallies)];
        given.records = Some(Records::Sessions {
            programme: programme.id.clone(),
        });
        let mut figures = vec![given];
        for question in &tallies {
            figures.push(figure(
                section,
                format!("{prefix}.{}.top_share", question.id),
                format!("{}: % answering “{}”", question.text, question.headline),
                question.headline_percent,
            ));
        }
        groups.push(group(&programme.name, false, figures));
    }
    Section {
        notes: Vec::new(),
        id: section.into(),
        title: "Session evaluations".into(),
        groups,
    }
}

/// The completion a cohort works towards: the one that holds most of its modules.
pub fn cohort_aim<'a>(programme: &'a Programme, modules: &[String]) -> Option<&'a Completion> {
    programme
        .completions
        .iter()
        .max_by_key(|c| modules.iter().filter(|m| c.modules.contains(m)).count())
}

/// How many of the cohort had completed what it works towards.
pub fn cohort_completed(programme: &Programme, cohort: &CohortActivity) -> i64 {
    cohort_aim(programme, &cohort.modules)
        .and_then(|c| cohort.completed.iter().find(|(id, _)| *id == c.id))
        .map_or(0, |(_, n)| *n)
}

/// Each organisation signed up or with staff who started one of the
/// programme's completions, by id: its name and how far it is through the
/// programme's organisation rule (`None` when the programme has none), from
/// how many of its staff started and held each completion. The reports and
/// the programme's organisations page both judge them here.
pub fn organisation_standings(
    programme: &Programme,
    signed_up: &[(i64, String)],
    standings: &[StandingAtEnd],
) -> BTreeMap<i64, (String, Option<OrganisationProgress>)> {
    // Each organisation's name and its staff counts by completion id.
    let mut organisations: BTreeMap<i64, (String, BTreeMap<&str, PeopleCount>)> = BTreeMap::new();
    for (id, name) in signed_up {
        organisations
            .entry(*id)
            .or_insert_with(|| (name.clone(), BTreeMap::new()));
    }
    let people = |n: i64| usize::try_from(n).unwrap_or(0);
    for standing in standings {
        organisations
            .entry(standing.organisation_id)
            .or_insert_with(|| (standing.organisation_name.clone(), BTreeMap::new()))
            .1
            .insert(
                standing.completion_id.as_str(),
                PeopleCount {
                    started: people(standing.started),
                    current: people(standing.holding),
                },
            );
    }
    organisations
        .into_iter()
        .map(|(id, (name, counts))| {
            // Someone who started a completion attended one of its modules.
            let any_attendance = counts.values().any(|c| c.started > 0);
            let count = |completion: &str| counts.get(completion).copied().unwrap_or_default();
            (
                id,
                (
                    name,
                    organisation_progress_from_counts(programme, count, any_attendance),
                ),
            )
        })
        .collect()
}

fn organisation_rule_figures(programme: &Programme, activity: &ProgrammeActivity, section: &str) -> Vec<Figure> {
    let mut signed_up = Vec::new();
    let mut in_training = Vec::new();
    let mut fully_trained = Vec::new();
    for (name, progress) in organisation_standings(programme, &activity.signed_up, &activity.standings).into_values() {
        let state = progress.map(|p| p.state);
        signed_up.push(name.clone());
        if state == Some(OrganisationTrainingState::FullyTrained) {
            fully_trained.push(name.clone());
        } else {
            in_training.push(name.clone());
        }
    }
    for list in [&mut signed_up, &mut in_training, &mut fully_trained] {
        list.sort();
    }
    let id = |name: &str| format!("{section}.organisations.{name}");
    let records = Some(Records::ProgrammeOrganisations {
        programme: programme.id.clone(),
    });
    let mut figures = vec![
        with_items(
            figure(section, id("signed_up"), "Organisations signed up".into(), 0),
            signed_up,
        ),
        with_items(
            figure(
                section,
                id("in_training"),
                "Organisations in training (signed up, rule not yet met)".into(),
                0,
            ),
            in_training,
        ),
        with_items(
            figure(
                section,
                id("meeting_rule"),
                "Organisations meeting the rule at the end of the period".into(),
                0,
            ),
            fully_trained,
        ),
    ];
    for f in &mut figures {
        f.records = records.clone();
    }
    figures
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as day;

    fn award(organisation: i64, awarded: &str, expires: &str, revoked: Option<&str>) -> AwardRecord {
        AwardRecord {
            organisation_id: organisation,
            organisation_name: format!("Org {organisation}"),
            framework_id: "daha".into(),
            awarded_on: day(awarded),
            expires_on: Some(day(expires)),
            revoked_on: revoked.map(day),
        }
    }

    #[test]
    fn an_award_ends_at_the_start_of_its_expiry_and_on_the_day_it_is_revoked() {
        let a = award(1, "2023-02-15", "2026-02-15", None);
        assert!(a.held_on(day("2023-02-15")));
        assert!(a.held_on(day("2026-02-14")));
        assert!(!a.held_on(day("2026-02-15")));
        assert!(!a.held_on(day("2023-02-14")));
        let revoked = award(2, "2025-06-01", "2028-06-01", Some("2026-03-02"));
        assert!(revoked.held_on(day("2026-03-01")));
        assert!(!revoked.held_on(day("2026-03-02")));
    }

    #[test]
    fn an_award_renewed_before_it_expires_has_not_expired() {
        let first = award(1, "2023-01-10", "2026-01-10", None);
        let renewal = award(1, "2025-12-01", "2028-12-01", None);
        let lapsed = award(2, "2023-02-01", "2026-02-01", None);
        let all = [&first, &renewal, &lapsed];
        let quarter = Period::new(day("2026-01-01"), day("2026-03-31")).expect("period");
        let f = award_figures(&all, quarter, 90);
        assert_eq!(f.expired, ["Org 2"]);
        assert_eq!(f.holding, ["Org 1"]);
        assert_eq!(f.ever, ["Org 1", "Org 2"]);
        // Due for renewal on the day before the last one expires, not after.
        let before = Period::new(day("2025-10-01"), day("2025-11-30")).expect("period");
        assert_eq!(award_figures(&all, before, 90).renewal_due, ["Org 1", "Org 2"]);
    }
}
