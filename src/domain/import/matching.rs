//! Deciding who each person on a sheet is: someone already recorded, or
//! someone new, and which organisation they belong to.
//!
//! The identity rules (also in the README, with a table of cases in the tests):
//! 1. The same email is the same person.
//! 2. The same name at the same organisation, where neither has an email,
//!    is the same person: nothing tells them apart (rows of one sheet are
//!    grouped the same way).
//! 3. The same name at the same organisation where the emails differ, or only
//!    one has an email, is a near match: never merged silently.
//! 4. A similar name at the same organisation ("Zoe" for "Zoë") is a near match.
//! 5. Near matches are settled by the user (same person, or a new one), by the
//!    policy given (`--near-matches`), or by a decision remembered from an
//!    earlier import. Undecided ones become new people unless the policy is
//!    to ask, which refuses to commit.
//!
//! Because a person's email (or, without one, name and organisation) decides
//! every rule, importing file A then B gives the same people as B then A.

use super::values::{name_key, normalise};
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
    /// Treat each as the one person it looks like (when there is only one).
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
    pub remembered: HashMap<String, Vec<Remembered>>,
    pub policy: NearMatchPolicy,
}

/// A recorded person with their name key worked out once.
struct Colleague<'a> {
    person: &'a KnownPerson,
    key: String,
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
    let org_by_key: HashMap<&str, &KnownOrganisation> = context
        .organisations
        .iter()
        .flat_map(|o| o.keys.iter().map(move |k| (k.as_str(), o)))
        .collect();
    let org_name: HashMap<i64, &str> = context.organisations.iter().map(|o| (o.id, o.name.as_str())).collect();

    let mut resolution = Resolution::default();
    // New organisations by key: (name as first written, the emails of their people).
    let mut new_orgs: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    if let Some(OrgChoice::New(name)) = &context.default_organisation {
        new_orgs.insert(normalise(name), (name.clone(), Vec::new()));
    }
    let mut unplaced: Vec<&str> = Vec::new();
    let mut seen: std::collections::HashSet<&str> = std::collections::HashSet::new();
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
        if let OrgChoice::Existing(org_id) = organisation {
            let sheet_key = name_key(&person.full_name);
            let colleagues = colleagues_of.entry(org_id).or_insert_with(|| {
                by_org
                    .get(&org_id)
                    .map(|list| {
                        list.iter()
                            .map(|p| Colleague {
                                person: p,
                                key: name_key(&p.full_name),
                            })
                            .collect()
                    })
                    .unwrap_or_default()
            });
            // Rule 2: one name, one organisation, no email on either side.
            if person.email.is_empty() {
                if let Some(found) = colleagues
                    .iter()
                    .find(|c| c.person.email.is_empty() && c.key == sheet_key)
                {
                    resolution.people.insert(key, PersonChoice::Existing(found.person.id));
                    continue;
                }
            }
            let ruled_out = |id: i64| remembered.iter().any(|r| !r.same && r.person_id == id);
            let candidates: Vec<&Colleague> = colleagues
                .iter()
                .filter(|c| {
                    (c.key == sheet_key || super::values::is_near_key(&c.key, &sheet_key)) && !ruled_out(c.person.id)
                })
                .collect();
            if !candidates.is_empty() {
                let answer = context.answers.get(&key).copied();
                match answer {
                    Some(id) if id > 0 && candidates.iter().any(|c| c.person.id == id) => {
                        resolution.decisions.push((key.clone(), id, true));
                        resolution.people.insert(key, PersonChoice::Existing(id));
                        continue;
                    }
                    Some(0) => {
                        for candidate in &candidates {
                            resolution.decisions.push((key.clone(), candidate.person.id, false));
                        }
                    }
                    _ if context.policy == NearMatchPolicy::Same && candidates.len() == 1 => {
                        let id = candidates[0].person.id;
                        resolution.decisions.push((key.clone(), id, true));
                        resolution.people.insert(key, PersonChoice::Existing(id));
                        continue;
                    }
                    _ => {
                        let same_name = candidates.iter().any(|c| c.key == sheet_key);
                        let reason = if same_name && person.email.is_empty() {
                            "the same name at the same organisation; the sheet gives no email".to_string()
                        } else if same_name && candidates.iter().all(|c| c.person.email.is_empty()) {
                            "the same name at the same organisation; the record has no email".to_string()
                        } else if same_name {
                            "the same name at the same organisation with a different email".to_string()
                        } else {
                            "a similar name at the same organisation".to_string()
                        };
                        let names = candidates
                            .iter()
                            .map(|c| {
                                if c.person.email.is_empty() {
                                    c.person.full_name.clone()
                                } else {
                                    format!("{} <{}>", c.person.full_name, c.person.email)
                                }
                            })
                            .collect::<Vec<_>>()
                            .join(" or ");
                        let on_sheet = if person.email.is_empty() {
                            person.full_name.clone()
                        } else {
                            format!("{} <{}>", person.full_name, person.email)
                        };
                        let (severity, then) = match context.policy {
                            NearMatchPolicy::Ask => (
                                Severity::Error,
                                "Say whether they are the same person before importing (on the import page, or with --near-matches same|new).",
                            ),
                            _ => (
                                Severity::Warning,
                                "They will be added as a new person unless you say they are the same.",
                            ),
                        };
                        resolution.issues.push(Issue::new(
                            severity,
                            &record.sheet,
                            Some(record.row),
                            None,
                            format!("{on_sheet} looks like {names} already on record ({reason}). {then}"),
                        ));
                        resolution.near_matches.push(NearMatch {
                            person_key: key.clone(),
                            name_on_sheet: person.full_name.clone(),
                            email_on_sheet: person.email.clone(),
                            organisation_on_sheet: person.organisation.clone(),
                            candidates: candidates
                                .iter()
                                .map(|c| {
                                    (
                                        c.person.id,
                                        c.person.full_name.clone(),
                                        org_name.get(&org_id).copied().unwrap_or_default().to_string(),
                                    )
                                })
                                .collect(),
                            reason,
                        });
                    }
                }
            }
        }
        resolution.people.insert(
            key,
            PersonChoice::New {
                full_name: person.full_name.clone(),
                email: person.email.clone(),
                job_title: person.job_title.clone(),
                organisation,
            },
        );
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
