//! Deciding who each person on a sheet is: someone already recorded, or
//! someone new, and which organisation they belong to.
//!
//! The identity rules (also in the README, with a table of cases in the tests):
//! 1. The same email is the same person.
//! 2. The same name at the same organisation, where neither has an email,
//!    is the same person: nothing tells them apart (rows of one sheet are
//!    grouped the same way).
//! 3. The same name at the same organisation where the emails differ, or only
//!    one has an email, is a near match: never merged silently, and never
//!    split silently either, whether the other is on record or on the same
//!    sheet.
//! 4. A similar name at the same organisation ("Zoe" for "Zoë") is a near match.
//! 5. Near matches are settled by the user (same person, or a new one), by the
//!    policy given (`--near-matches`), or by a decision remembered from an
//!    earlier import. Undecided ones become new people unless the policy is
//!    to ask, which refuses to commit.
//!
//! Because a person's email (or, without one, name and organisation) decides
//! every rule, importing file A then B gives the same people as B then A.

use super::values::{name_key, normalise, NearKey};
use super::{AttendanceRecord, Issue, Severity};
use crate::domain::organisation::{infer_type, OrgType};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone)]
pub struct KnownPerson {
    pub id: i64,
    pub full_name: String,
    pub email: String,
    pub organisation_id: i64,
}

#[derive(Debug, Clone)]
pub struct KnownOrganisation {
    pub id: i64,
    pub name: String,
    /// The name and its aliases, normalised.
    pub keys: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum OrgChoice {
    Existing(i64),
    New(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum PersonChoice {
    Existing(i64),
    /// The same person as another on this sheet (by key), decided on their own.
    SameAs(String),
    New {
        full_name: String,
        email: String,
        job_title: String,
        organisation: OrgChoice,
    },
}

/// An organisation the import will add, with the type it will have and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NewOrganisation {
    pub name: String,
    pub org_type: OrgType,
    pub type_label: &'static str,
    pub reason: String,
}

/// A person on the sheet who looks like someone already recorded.
#[derive(Debug, Clone, Serialize)]
pub struct NearMatch {
    pub person_key: String,
    pub name_on_sheet: String,
    pub email_on_sheet: String,
    pub organisation_on_sheet: String,
    /// (person id, name, organisation name)
    pub candidates: Vec<(i64, String, String)>,
    /// Another person on this sheet they may be ("Name <email>"): the one
    /// of their name whose key sorts first.
    pub on_sheet: Option<String>,
    /// Why they look alike.
    pub reason: String,
}

/// What to do with near matches nobody has answered.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NearMatchPolicy {
    /// Add them as new people (the default: nobody is merged without a decision).
    #[default]
    New,
    /// Treat each as the person it looks like: on the sheet, the first of
    /// that name; on record, the only candidate or the only one with exactly
    /// that name. Several equally likely people are an error, not a guess.
    Same,
    /// Refuse to commit until every near match is answered.
    Ask,
}

impl NearMatchPolicy {
    pub fn parse(text: &str) -> Option<NearMatchPolicy> {
        match text.trim().to_ascii_lowercase().as_str() {
            "new" => Some(Self::New),
            "same" => Some(Self::Same),
            "ask" => Some(Self::Ask),
            _ => None,
        }
    }
}

/// A decision about a sheet person (by [`super::PersonRef::key`]) kept from
/// an earlier import: they are, or are not, this recorded person.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Remembered {
    pub person_id: i64,
    pub same: bool,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Resolution {
    pub people: BTreeMap<String, PersonChoice>,
    pub near_matches: Vec<NearMatch>,
    pub new_organisations: Vec<NewOrganisation>,
    /// People who cannot be added because nothing says where they work.
    pub unplaced: usize,
    /// Decisions to remember for later imports: (person key, person id, same).
    pub decisions: Vec<(String, i64, bool)>,
    pub issues: Vec<Issue>,
}

impl Resolution {
    /// People the import would add, counting those it cannot yet place, so
    /// the preview's count agrees with its errors.
    pub fn new_people(&self) -> usize {
        self.people
            .values()
            .filter(|p| matches!(p, PersonChoice::New { .. }))
            .count()
            + self.unplaced
    }

    pub fn new_organisation_names(&self) -> Vec<&str> {
        self.new_organisations.iter().map(|o| o.name.as_str()).collect()
    }
}

/// Everything matching needs besides the sheet.
#[derive(Debug, Clone, Default)]
pub struct Context<'a> {
    pub people: &'a [KnownPerson],
    pub organisations: &'a [KnownOrganisation],
    /// For people the sheet does not place: an organisation on record, or one to add.
    pub default_organisation: Option<OrgChoice>,
    /// The user's answers: person key → the recorded person's id, or 0 for "someone new".
    pub answers: HashMap<String, i64>,
    /// People the user said are the same as the [`NearMatch::on_sheet`] person.
    pub same_as_on_sheet: std::collections::HashSet<String>,
    pub remembered: HashMap<String, Vec<Remembered>>,
    pub policy: NearMatchPolicy,
}

/// A recorded person with their name key worked out once.
struct Colleague<'a> {
    person: &'a KnownPerson,
    key: NearKey,
}

/// A sheet person the plain rules did not settle: placed at an organisation,
/// and perhaps someone on record or someone else on the sheet.
struct Open<'r, 'p> {
    record: &'r AttendanceRecord,
    organisation: OrgChoice,
    organisation_name: String,
    /// Recorded people at that organisation with the same or a similar name.
    candidates: Vec<&'p KnownPerson>,
    /// Exact name matches among `candidates`.
    same_name: Vec<bool>,
}

impl Open<'_, '_> {
    fn key(&self) -> &str {
        &self.record.person_key
    }

    fn new_person(&self) -> PersonChoice {
        let person = &self.record.person;
        PersonChoice::New {
            full_name: person.full_name.clone(),
            email: person.email.clone(),
            job_title: person.job_title.clone(),
            organisation: self.organisation.clone(),
        }
    }
}

/// Organisations by every name they go by (name and aliases, normalised):
/// look a sheet's text up with [`normalise`].
pub fn organisations_by_key(organisations: &[KnownOrganisation]) -> HashMap<&str, &KnownOrganisation> {
    organisations
        .iter()
        .flat_map(|o| o.keys.iter().map(move |k| (k.as_str(), o)))
        .collect()
}

/// "Name <email>", or the name alone when there is no email.
fn shown(name: &str, email: &str) -> String {
    if email.is_empty() {
        name.to_string()
    } else {
        format!("{name} <{email}>")
    }
}

pub fn resolve(records: &[AttendanceRecord], context: &Context<'_>) -> Resolution {
    let by_email: HashMap<&str, &KnownPerson> = context
        .people
        .iter()
        .filter(|p| !p.email.is_empty())
        .map(|p| (p.email.as_str(), p))
        .collect();
    let by_id: HashMap<i64, &KnownPerson> = context.people.iter().map(|p| (p.id, p)).collect();
    let mut by_org: HashMap<i64, Vec<&KnownPerson>> = HashMap::new();
    for person in context.people {
        by_org.entry(person.organisation_id).or_default().push(person);
    }
    // Name keys of an organisation's people, worked out the first time the sheet needs them.
    let mut colleagues_of: HashMap<i64, Vec<Colleague>> = HashMap::new();
    let org_by_key = organisations_by_key(context.organisations);
    let org_name: HashMap<i64, &str> = context.organisations.iter().map(|o| (o.id, o.name.as_str())).collect();

    let mut resolution = Resolution::default();
    // New organisations by key: (name as first written, the emails of their people).
    let mut new_orgs: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    if let Some(OrgChoice::New(name)) = &context.default_organisation {
        new_orgs.insert(normalise(name), (name.clone(), Vec::new()));
    }
    let mut unplaced: Vec<&str> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
    let mut open: Vec<Open> = Vec::new();
    for record in records {
        if !seen.insert(record.person_key.as_str()) {
            continue;
        }
        let key = record.person_key.clone();
        let person = &record.person;
        if let Some(found) = by_email.get(person.email.as_str()) {
            resolution.people.insert(key, PersonChoice::Existing(found.id));
            continue;
        }
        let remembered = context.remembered.get(&key).map(Vec::as_slice).unwrap_or_default();
        if let Some(same) = remembered.iter().find(|r| r.same && by_id.contains_key(&r.person_id)) {
            resolution.people.insert(key, PersonChoice::Existing(same.person_id));
            continue;
        }
        let organisation = if person.organisation.is_empty() {
            match &context.default_organisation {
                Some(choice) => {
                    if let OrgChoice::New(name) = choice {
                        if let Some(entry) = new_orgs.get_mut(&normalise(name)) {
                            entry.1.push(person.email.clone());
                        }
                    }
                    choice.clone()
                }
                None => {
                    unplaced.push(record.person_key.as_str());
                    continue;
                }
            }
        } else {
            let org_key = normalise(&person.organisation);
            match org_by_key.get(org_key.as_str()) {
                Some(org) => OrgChoice::Existing(org.id),
                None => {
                    let entry = new_orgs
                        .entry(org_key)
                        .or_insert_with(|| (person.organisation.clone(), Vec::new()));
                    entry.1.push(person.email.clone());
                    OrgChoice::New(entry.0.clone())
                }
            }
        };
        let sheet_key = NearKey::new(name_key(&person.full_name));
        let mut candidates = Vec::new();
        let mut same_name = Vec::new();
        let organisation_name = match &organisation {
            OrgChoice::Existing(org_id) => org_name.get(org_id).copied().unwrap_or_default().to_string(),
            OrgChoice::New(name) => name.clone(),
        };
        if let OrgChoice::Existing(org_id) = organisation {
            let colleagues = colleagues_of.entry(org_id).or_insert_with(|| {
                by_org
                    .get(&org_id)
                    .map(|list| {
                        list.iter()
                            .map(|p| Colleague {
                                person: p,
                                key: NearKey::new(name_key(&p.full_name)),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            });
            // Rule 2: one name, one organisation, no email on either side.
            if person.email.is_empty() {
                if let Some(found) = colleagues
                    .iter()
                    .find(|c| c.person.email.is_empty() && c.key.key() == sheet_key.key())
                {
                    resolution.people.insert(key, PersonChoice::Existing(found.person.id));
                    continue;
                }
            }
            let ruled_out = |id: i64| remembered.iter().any(|r| !r.same && r.person_id == id);
            for colleague in colleagues.iter() {
                let exact = colleague.key.key() == sheet_key.key();
                if (exact || colleague.key.is_near(&sheet_key)) && !ruled_out(colleague.person.id) {
                    candidates.push(colleague.person);
                    same_name.push(exact);
                }
            }
        }
        open.push(Open {
            record,
            organisation,
            organisation_name,
            candidates,
            same_name,
        });
    }
    // Rule 3 within the sheet: people with one name at one organisation but
    // different emails (or only one with an email) may be one person. Each is
    // asked about the one whose key sorts first, so the question (and the
    // answer "same") does not depend on the order of the rows or the files.
    let mut first_of_name: HashMap<(String, String), usize> = HashMap::new();
    for (index, person) in open.iter().enumerate() {
        let group = (
            normalise(&person.organisation_name),
            name_key(&person.record.person.full_name),
        );
        let first = first_of_name.entry(group).or_insert(index);
        if open[*first].key() > person.key() {
            *first = index;
        }
    }
    for person in &open {
        let group = (
            normalise(&person.organisation_name),
            name_key(&person.record.person.full_name),
        );
        let on_sheet = first_of_name
            .get(&group)
            .map(|&first| &open[first])
            .filter(|first| first.key() != person.key());
        settle(person, on_sheet, context, &mut resolution);
    }
    report_unplaced(records, &unplaced, &mut resolution);
    for (name, emails) in new_orgs.into_values() {
        let emails: Vec<&str> = emails.iter().map(String::as_str).filter(|e| !e.is_empty()).collect();
        let (org_type, reason) = infer_type(&name, &emails);
        resolution.issues.push(Issue::new(
            Severity::Warning,
            "",
            None,
            None,
            format!(
                "“{name}” is not a known organisation; it will be added as {} ({reason}).",
                org_type.label()
            ),
        ));
        resolution.new_organisations.push(NewOrganisation {
            name,
            org_type,
            type_label: org_type.label(),
            reason,
        });
    }
    resolution.issues = super::group_issues(std::mem::take(&mut resolution.issues));
    resolution
}

/// Decides one open sheet person: an answer, the policy, or a question.
/// `on_sheet` is the person earlier in key order on this sheet with the same
/// name at the same organisation, if any.
fn settle(person: &Open, on_sheet: Option<&Open>, context: &Context<'_>, resolution: &mut Resolution) {
    let key = person.key().to_string();
    if person.candidates.is_empty() && on_sheet.is_none() {
        resolution.people.insert(key, person.new_person());
        return;
    }
    let recorded = |id: i64| person.candidates.iter().any(|c| c.id == id);
    if context.same_as_on_sheet.contains(&key) {
        if let Some(first) = on_sheet {
            resolution
                .people
                .insert(key, PersonChoice::SameAs(first.key().to_string()));
            return;
        }
    }
    match context.answers.get(&key).copied() {
        Some(id) if id > 0 && recorded(id) => {
            resolution.decisions.push((key.clone(), id, true));
            resolution.people.insert(key, PersonChoice::Existing(id));
            return;
        }
        Some(0) => {
            for candidate in &person.candidates {
                resolution.decisions.push((key.clone(), candidate.id, false));
            }
            resolution.people.insert(key, person.new_person());
            return;
        }
        _ => {}
    }
    let sheet_person = &person.record.person;
    let mut names: Vec<String> = person
        .candidates
        .iter()
        .map(|c| shown(&c.full_name, &c.email))
        .collect();
    if let Some(first) = on_sheet {
        let other = &first.record.person;
        names.push(format!("{} on this sheet", shown(&other.full_name, &other.email)));
    }
    let names = names.join(" or ");
    let on_sheet_shown = shown(&sheet_person.full_name, &sheet_person.email);
    let question = match context.policy {
        NearMatchPolicy::Same => match (on_sheet, policy_choice(person)) {
            // Everyone of one name on the sheet follows the first of them,
            // who is matched against the record on their own.
            (Some(first), _) => {
                resolution.people.insert(key, PersonChoice::SameAs(first.key().to_string()));
                return;
            }
            (None, Some(id)) => {
                resolution.decisions.push((key.clone(), id, true));
                resolution.people.insert(key, PersonChoice::Existing(id));
                return;
            }
            (None, None) => Some((
                Severity::Error,
                "--near-matches same cannot choose between them: answer on the import page, or import with --near-matches new.",
            )),
        },
        NearMatchPolicy::Ask => Some((
            Severity::Error,
            "Say whether they are the same person before importing (on the import page, or with --near-matches same|new).",
        )),
        NearMatchPolicy::New => None,
    };
    let (severity, then) = question.unwrap_or((
        Severity::Warning,
        "They will be added as a new person unless you say they are the same.",
    ));
    let reason = near_match_reason(person, on_sheet);
    resolution.issues.push(Issue::new(
        severity,
        &person.record.sheet,
        Some(person.record.row),
        None,
        format!("{on_sheet_shown} looks like {names} ({reason}). {then}"),
    ));
    resolution.near_matches.push(NearMatch {
        person_key: key.clone(),
        name_on_sheet: sheet_person.full_name.clone(),
        email_on_sheet: sheet_person.email.clone(),
        organisation_on_sheet: sheet_person.organisation.clone(),
        candidates: person
            .candidates
            .iter()
            .map(|c| (c.id, c.full_name.clone(), person.organisation_name.clone()))
            .collect(),
        on_sheet: on_sheet.map(|first| {
            let other = &first.record.person;
            shown(&other.full_name, &other.email)
        }),
        reason,
    });
    resolution.people.insert(key, person.new_person());
}

/// The recorded person `--near-matches same` takes a sheet person to be: the
/// only candidate, or else the only one with exactly the same name. With
/// several equally good candidates it takes none, rather than guess.
fn policy_choice(person: &Open) -> Option<i64> {
    if let [only] = person.candidates.as_slice() {
        return Some(only.id);
    }
    let mut exact = person
        .candidates
        .iter()
        .zip(&person.same_name)
        .filter(|(_, same)| **same);
    match (exact.next(), exact.next()) {
        (Some((only, _)), None) => Some(only.id),
        _ => None,
    }
}

fn near_match_reason(person: &Open, on_sheet: Option<&Open>) -> String {
    let email = &person.record.person.email;
    let same_name = on_sheet.is_some() || person.same_name.iter().any(|s| *s);
    let where_ = if person.candidates.is_empty() {
        "the same organisation on this sheet"
    } else {
        "the same organisation"
    };
    let others_without_email = person.candidates.iter().all(|c| c.email.is_empty())
        && on_sheet.is_none_or(|first| first.record.person.email.is_empty());
    if !same_name {
        format!("a similar name at {where_}")
    } else if email.is_empty() {
        format!("the same name at {where_}; this one has no email")
    } else if others_without_email {
        format!("the same name at {where_}; the other has no email")
    } else {
        format!("the same name at {where_} with a different email")
    }
}

/// People nobody can place: one problem per sheet, naming them and covering all their rows.
fn report_unplaced(records: &[AttendanceRecord], unplaced: &[&str], resolution: &mut Resolution) {
    resolution.unplaced = unplaced.len();
    if unplaced.is_empty() {
        return;
    }
    let wanted: std::collections::HashSet<&str> = unplaced.iter().copied().collect();
    let mut by_sheet: BTreeMap<&str, (Vec<usize>, Vec<&str>)> = BTreeMap::new();
    let mut named: std::collections::HashSet<(&str, &str)> = std::collections::HashSet::new();
    for record in records.iter().filter(|r| wanted.contains(r.person_key.as_str())) {
        let (rows, names) = by_sheet.entry(record.sheet.as_str()).or_default();
        rows.push(record.row);
        if named.insert((record.sheet.as_str(), record.person_key.as_str())) {
            names.push(record.person.full_name.as_str());
        }
    }
    for (sheet, (rows, names)) in by_sheet {
        let shown: Vec<&str> = names.iter().take(5).copied().collect();
        let more = names.len().saturating_sub(shown.len());
        let list = if more > 0 {
            format!("{} and {more} more", shown.join(", "))
        } else {
            shown.join(", ")
        };
        let count = names.len();
        let who = if count == 1 {
            "1 person is".to_string()
        } else {
            format!("{count} people are")
        };
        resolution.issues.push(Issue::covering(
            Severity::Error,
            sheet,
            rows,
            count,
            format!(
                "{who} not on record and the sheet does not say which organisation they work for ({list}). Add an Organisation column, or choose or create the organisation for them."
            ),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::completion::AttendanceStatus;
    use crate::domain::import::{ModuleRef, PersonRef};

    fn record(name: &str, email: &str, org: &str) -> AttendanceRecord {
        record_at(name, email, org, 5)
    }

    fn record_at(name: &str, email: &str, org: &str, row: usize) -> AttendanceRecord {
        let person = PersonRef {
            full_name: name.into(),
            email: email.into(),
            organisation: org.into(),
            job_title: String::new(),
            staff_category: None,
        };
        AttendanceRecord {
            person_key: person.key(),
            sheet: "S".into(),
            row,
            column: "F".into(),
            person,
            module: ModuleRef {
                programme_id: "p".into(),
                programme_version: "1".into(),
                module_id: "m".into(),
            },
            date: chrono::NaiveDate::from_ymd_opt(2025, 3, 3).expect("date"),
            status: AttendanceStatus::Attended,
            cohort: None,
        }
    }

    fn person(id: i64, name: &str, email: &str) -> KnownPerson {
        KnownPerson {
            id,
            full_name: name.into(),
            email: email.into(),
            organisation_id: 10,
        }
    }

    fn organisations() -> Vec<KnownOrganisation> {
        vec![KnownOrganisation {
            id: 10,
            name: "Thames View Surgery".into(),
            keys: vec!["thames view surgery".into(), "thames view".into()],
        }]
    }

    fn resolve_against(records: &[AttendanceRecord], people: &[KnownPerson]) -> Resolution {
        let orgs = organisations();
        resolve(
            records,
            &Context {
                people,
                organisations: &orgs,
                ..Default::default()
            },
        )
    }

    #[derive(Debug, PartialEq)]
    enum Outcome {
        Same(i64),
        NearMatch,
        New,
    }

    /// The identity rules as a table: what is on record, what the sheet says, and the outcome.
    #[test]
    fn identity_rules() {
        use Outcome::*;
        // (case, on record, (name, email, organisation) on the sheet, outcome)
        type Case<'a> = (&'a str, KnownPerson, (&'a str, &'a str, &'a str), Outcome);
        let cases: &[Case] = &[
            (
                "same email, other name and organisation",
                person(1, "Zoë O'Brien", "zoe@x.example"),
                ("Zoe OBrien", "zoe@x.example", ""),
                Same(1),
            ),
            (
                "same name and organisation, no email either side",
                person(2, "Łukasz Nowak", ""),
                ("Dr Łukasz Nowak", "", "Thames View"),
                Same(2),
            ),
            (
                "same name and organisation, different emails",
                person(3, "Hannah Brooks", "hb1@x.example"),
                ("Hannah Brooks", "hb2@x.example", "Thames View Surgery"),
                NearMatch,
            ),
            (
                "same name and organisation, only the sheet has an email",
                person(4, "Hannah Brooks", ""),
                ("Hannah Brooks", "hb@x.example", "Thames View Surgery"),
                NearMatch,
            ),
            (
                "same name and organisation, only the record has an email",
                person(5, "Hannah Brooks", "hb@x.example"),
                ("Hannah Brooks", "", "Thames View Surgery"),
                NearMatch,
            ),
            (
                "similar name at the same organisation",
                person(6, "Zoë O'Brien", ""),
                ("Zoe O'Brien", "", "Thames View Surgery"),
                NearMatch,
            ),
            (
                "same name at another organisation",
                person(7, "Hannah Brooks", ""),
                ("Hannah Brooks", "", "Oval Practice"),
                New,
            ),
            (
                "nobody like them",
                person(8, "Kwame Mensah", ""),
                ("Hannah Brooks", "", "Thames View Surgery"),
                New,
            ),
        ];
        for (case, known, (name, email, org), want) in cases {
            let records = [record(name, email, org)];
            let r = resolve_against(&records, std::slice::from_ref(known));
            let got = match (&r.people[&records[0].person_key], r.near_matches.is_empty()) {
                (PersonChoice::Existing(id), _) => Same(*id),
                (PersonChoice::New { .. }, false) => NearMatch,
                (PersonChoice::New { .. }, true) => New,
                (PersonChoice::SameAs(other), _) => panic!("{case}: one sheet person follows another ({other})"),
            };
            assert_eq!(&got, want, "{case}");
        }
    }

    #[test]
    fn near_matches_are_answered_by_the_user_the_policy_or_a_remembered_decision() {
        let people = [person(1, "Zoë O'Brien", "zoe@x.example")];
        let orgs = organisations();
        let records = [record("Zoe O'Brien", "", "Thames View Surgery")];
        let key = records[0].person_key.clone();
        let with = |context: Context| resolve(&records, &context);
        let base = || Context {
            people: &people,
            organisations: &orgs,
            ..Default::default()
        };
        let asked = with(base());
        assert_eq!(asked.near_matches.len(), 1);
        assert!(
            matches!(asked.people[&key], PersonChoice::New { .. }),
            "new unless confirmed"
        );
        assert!(asked.issues.iter().all(|i| i.severity == Severity::Warning));

        let same = with(Context {
            answers: HashMap::from([(key.clone(), 1)]),
            ..base()
        });
        assert_eq!(same.people[&key], PersonChoice::Existing(1));
        assert_eq!(same.decisions, [(key.clone(), 1, true)]);

        let different = with(Context {
            answers: HashMap::from([(key.clone(), 0)]),
            ..base()
        });
        assert!(matches!(different.people[&key], PersonChoice::New { .. }));
        assert!(different.near_matches.is_empty());
        assert_eq!(different.decisions, [(key.clone(), 1, false)]);

        let by_policy = with(Context {
            policy: NearMatchPolicy::Same,
            ..base()
        });
        assert_eq!(by_policy.people[&key], PersonChoice::Existing(1));

        let must_ask = with(Context {
            policy: NearMatchPolicy::Ask,
            ..base()
        });
        assert!(must_ask.issues.iter().any(|i| i.severity == Severity::Error));

        let remembered_same = with(Context {
            remembered: HashMap::from([(
                key.clone(),
                vec![Remembered {
                    person_id: 1,
                    same: true,
                }],
            )]),
            ..base()
        });
        assert_eq!(remembered_same.people[&key], PersonChoice::Existing(1));
        let remembered_different = with(Context {
            remembered: HashMap::from([(
                key.clone(),
                vec![Remembered {
                    person_id: 1,
                    same: false,
                }],
            )]),
            policy: NearMatchPolicy::Ask,
            ..base()
        });
        assert!(remembered_different.near_matches.is_empty(), "not asked again");
        assert!(matches!(remembered_different.people[&key], PersonChoice::New { .. }));
    }

    #[test]
    fn unknown_organisations_are_added_once_with_a_type_and_missing_ones_are_one_problem() {
        let orgs = organisations();
        let records = [
            record_at("A B", "", "Oval Practice", 4),
            record_at("C D", "", "oval  practice", 5),
            record_at("E F", "", "", 6),
            record_at("E F", "", "", 7),
            record_at("G H", "", "", 8),
        ];
        let r = resolve_against(&records, &[]);
        assert_eq!(r.new_organisation_names(), ["Oval Practice"]);
        assert_eq!(r.new_organisations[0].org_type, OrgType::GpPractice);
        let errors: Vec<&Issue> = r.issues.iter().filter(|i| i.severity == Severity::Error).collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert_eq!((errors[0].count, errors[0].rows.as_str()), (2, "6–8"));
        assert_eq!(r.new_people(), 4, "the count includes the two it cannot place");
        let placed = resolve(
            &records,
            &Context {
                organisations: &orgs,
                default_organisation: Some(OrgChoice::New("Northbridge Children's Services".into())),
                ..Default::default()
            },
        );
        assert!(placed.issues.iter().all(|i| i.severity == Severity::Warning));
        assert_eq!(
            placed.new_organisation_names(),
            ["Northbridge Children's Services", "Oval Practice"]
        );
        assert_eq!(placed.new_people(), 4);
    }

    /// Rule 3 within one sheet: (rows on the sheet, people it gives, who is asked about).
    #[test]
    fn identity_rules_within_one_sheet() {
        type Case<'a> = (&'a str, Vec<AttendanceRecord>, usize, Vec<&'a str>);
        let org = "Thames View Surgery";
        let cases: Vec<Case> = vec![
            (
                "same name, different emails",
                vec![
                    record("Hannah Brooks", "hb2@x.example", org),
                    record("Hannah Brooks", "hb1@x.example", org),
                ],
                2,
                vec!["email:hb2@x.example"],
            ),
            (
                "same name, only one with an email",
                vec![
                    record("Hannah Brooks", "", org),
                    record("Hannah Brooks", "hb@x.example", org),
                ],
                2,
                vec!["name:hannah brooks|thames view surgery"],
            ),
            (
                "same name, no email on either row: one person",
                vec![record("Hannah Brooks", "", org), record("Hannah Brooks", "", org)],
                1,
                vec![],
            ),
            (
                "same name at an organisation the import adds",
                vec![
                    record("Hannah Brooks", "hb1@x.example", "Oval Practice"),
                    record("Hannah Brooks", "hb2@x.example", "oval practice"),
                ],
                2,
                vec!["email:hb2@x.example"],
            ),
            (
                "same name at two organisations",
                vec![
                    record("Hannah Brooks", "hb1@x.example", org),
                    record("Hannah Brooks", "hb2@x.example", "Oval Practice"),
                ],
                2,
                vec![],
            ),
        ];
        for (case, rows, people, asked) in cases {
            for rows in [rows.clone(), rows.into_iter().rev().collect()] {
                let r = resolve_against(&rows, &[]);
                assert_eq!(r.new_people(), people, "{case}");
                let keys: Vec<&str> = r.near_matches.iter().map(|n| n.person_key.as_str()).collect();
                assert_eq!(keys, asked, "{case}: the same question whatever the row order");
                assert!(
                    r.near_matches
                        .iter()
                        .all(|n| n.candidates.is_empty() && n.on_sheet.is_some()),
                    "{case}"
                );
            }
        }
    }

    #[test]
    fn a_near_match_within_the_sheet_is_answered_like_one_on_record() {
        let orgs = organisations();
        let records = [
            record("Hannah Brooks", "hb1@x.example", "Thames View Surgery"),
            record("Hannah Brooks", "hb2@x.example", "Thames View Surgery"),
        ];
        let asked = records[1].person_key.clone();
        let first = records[0].person_key.clone();
        let with = |same_as_on_sheet: &[&str], answers: &[(&str, i64)], policy| {
            resolve(
                &records,
                &Context {
                    organisations: &orgs,
                    same_as_on_sheet: same_as_on_sheet.iter().map(|k| k.to_string()).collect(),
                    answers: answers.iter().map(|(k, v)| (k.to_string(), *v)).collect(),
                    policy,
                    ..Default::default()
                },
            )
        };
        let same = with(&[&asked], &[], NearMatchPolicy::Ask);
        assert_eq!(same.people[&asked], PersonChoice::SameAs(first.clone()));
        assert_eq!((same.new_people(), same.near_matches.len()), (1, 0));
        let different = with(&[], &[(&asked, 0)], NearMatchPolicy::Ask);
        assert_eq!((different.new_people(), different.near_matches.len()), (2, 0));
        assert!(different.issues.iter().all(|i| i.severity == Severity::Warning));
        let must_ask = with(&[], &[], NearMatchPolicy::Ask);
        assert!(must_ask.issues.iter().any(
            |i| i.severity == Severity::Error && i.message.contains("Hannah Brooks <hb1@x.example> on this sheet")
        ));
        let by_policy = with(&[], &[], NearMatchPolicy::Same);
        assert_eq!(by_policy.people[&asked], PersonChoice::SameAs(first));
    }

    /// `--near-matches same` takes the only candidate, or the only one with
    /// exactly the name; between equals it asks instead of guessing.
    #[test]
    fn the_same_policy_never_guesses_between_equals() {
        let mut brookes = person(3, "Hannah Brookes", "hbk@x.example");
        brookes.organisation_id = 10;
        let exact_and_similar = [person(1, "Hannah Brooks", "hb1@x.example"), brookes];
        let two_exact = [
            person(1, "Hannah Brooks", "hb1@x.example"),
            person(2, "Hannah Brooks", "hb2@x.example"),
        ];
        let orgs = organisations();
        let records = [record("Hannah Brooks", "hb3@x.example", "Thames View Surgery")];
        let key = records[0].person_key.clone();
        let with = |people: &[KnownPerson]| {
            resolve(
                &records,
                &Context {
                    people,
                    organisations: &orgs,
                    policy: NearMatchPolicy::Same,
                    ..Default::default()
                },
            )
        };
        assert_eq!(with(&exact_and_similar).people[&key], PersonChoice::Existing(1));
        let undecided = with(&two_exact);
        assert!(matches!(undecided.people[&key], PersonChoice::New { .. }));
        let errors: Vec<&Issue> = undecided
            .issues
            .iter()
            .filter(|i| i.severity == Severity::Error)
            .collect();
        assert_eq!(errors.len(), 1, "{errors:?}");
        assert!(errors[0].message.contains("cannot choose"), "{}", errors[0].message);
        assert_eq!(undecided.near_matches[0].candidates.len(), 2);
    }

    /// Two files naming the same people differently give the same people whichever comes first.
    #[test]
    fn the_order_of_files_does_not_change_who_is_who() {
        let a = [
            record("Hannah Brooks", "hb1@x.example", "Thames View Surgery"),
            record("Kwame Mensah", "", "Thames View Surgery"),
        ];
        let b = [
            record("Hannah Brooks", "hb2@x.example", "Thames View Surgery"),
            record("Kwame Mensah", "", "Thames View Surgery"),
            record("Hannah Brooks", "hb1@x.example", "Thames View Surgery"),
        ];
        // Committing a file adds its new people; the second file is matched against them.
        let people_after = |first: &[AttendanceRecord], second: &[AttendanceRecord]| {
            let mut people: Vec<KnownPerson> = Vec::new();
            for file in [first, second] {
                let r = resolve_against(file, &people);
                for (key, choice) in &r.people {
                    if let PersonChoice::New { full_name, email, .. } = choice {
                        let _ = key;
                        people.push(KnownPerson {
                            id: people.len() as i64 + 1,
                            full_name: full_name.clone(),
                            email: email.clone(),
                            organisation_id: 10,
                        });
                    }
                }
            }
            let mut found: Vec<(String, String)> = people.into_iter().map(|p| (p.full_name, p.email)).collect();
            found.sort();
            found
        };
        let ab = people_after(&a, &b);
        assert_eq!(ab, people_after(&b, &a));
        assert_eq!(ab.len(), 3, "{ab:?}");
    }
}
