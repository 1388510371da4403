//! Deciding who each person on a sheet is: someone already recorded, or
//! someone new, and which organisation they belong to. Exact matches are
//! taken; near matches ("Zoe" for "Zoë") are only ever suggestions that the
//! user confirms.

use super::values::{is_near_match, name_key, normalise};
use super::{AttendanceRecord, Issue, Severity};
use serde::Serialize;
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

/// A person on the sheet who looks like someone already recorded.
#[derive(Debug, Clone, Serialize)]
pub struct NearMatch {
    pub person_key: String,
    pub name_on_sheet: String,
    pub organisation_on_sheet: String,
    /// (person id, name, organisation name)
    pub candidates: Vec<(i64, String, String)>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Resolution {
    pub people: BTreeMap<String, PersonChoice>,
    pub near_matches: Vec<NearMatch>,
    pub new_organisations: Vec<String>,
    pub issues: Vec<Issue>,
}

impl Resolution {
    pub fn new_people(&self) -> usize {
        self.people
            .values()
            .filter(|p| matches!(p, PersonChoice::New { .. }))
            .count()
    }
}

/// `answers` holds the user's decisions on near matches: person key → the
/// existing person's id, or 0 for "a different person".
pub fn resolve(
    records: &[AttendanceRecord],
    people: &[KnownPerson],
    organisations: &[KnownOrganisation],
    default_organisation: Option<i64>,
    answers: &HashMap<String, i64>,
) -> Resolution {
    let by_email: HashMap<&str, &KnownPerson> = people
        .iter()
        .filter(|p| !p.email.is_empty())
        .map(|p| (p.email.as_str(), p))
        .collect();
    let mut by_name: HashMap<(String, i64), &KnownPerson> = HashMap::new();
    let mut by_org: HashMap<i64, Vec<&KnownPerson>> = HashMap::new();
    for person in people {
        by_name
            .entry((name_key(&person.full_name), person.organisation_id))
            .or_insert(person);
        by_org.entry(person.organisation_id).or_default().push(person);
    }
    let org_by_key: HashMap<&str, &KnownOrganisation> = organisations
        .iter()
        .flat_map(|o| o.keys.iter().map(move |k| (k.as_str(), o)))
        .collect();
    let org_name: HashMap<i64, &str> = organisations.iter().map(|o| (o.id, o.name.as_str())).collect();

    let mut resolution = Resolution::default();
    let mut new_org_names: BTreeMap<String, String> = BTreeMap::new();
    for record in records {
        if resolution.people.contains_key(&record.person_key) {
            continue;
        }
        let key = record.person_key.clone();
        let person = &record.person;
        if let Some(found) = by_email.get(person.email.as_str()) {
            resolution.people.insert(key, PersonChoice::Existing(found.id));
            continue;
        }
        let organisation = if person.organisation.is_empty() {
            match default_organisation {
                Some(id) => OrgChoice::Existing(id),
                None => {
                    resolution.issues.push(Issue {
                        severity: Severity::Error,
                        sheet: record.sheet.clone(),
                        row: Some(record.row),
                        column: None,
                        message: format!(
                            "{} is not on record and the sheet does not say which organisation they work for. Add an Organisation column or choose a default organisation.",
                            person.full_name
                        ),
                    });
                    continue;
                }
            }
        } else {
            let org_key = normalise(&person.organisation);
            match org_by_key.get(org_key.as_str()) {
                Some(org) => OrgChoice::Existing(org.id),
                None => {
                    let name = new_org_names
                        .entry(org_key)
                        .or_insert_with(|| person.organisation.clone())
                        .clone();
                    OrgChoice::New(name)
                }
            }
        };
        if let OrgChoice::Existing(org_id) = organisation {
            if let Some(found) = by_name.get(&(name_key(&person.full_name), org_id)) {
                resolution.people.insert(key, PersonChoice::Existing(found.id));
                continue;
            }
            match answers.get(&key) {
                Some(id) if *id > 0 && by_org.get(&org_id).is_some_and(|p| p.iter().any(|c| c.id == *id)) => {
                    resolution.people.insert(key, PersonChoice::Existing(*id));
                    continue;
                }
                Some(_) => {}
                None => {
                    let candidates: Vec<(i64, String, String)> = by_org
                        .get(&org_id)
                        .map(|list| {
                            list.iter()
                                .filter(|c| is_near_match(&c.full_name, &person.full_name))
                                .map(|c| {
                                    (
                                        c.id,
                                        c.full_name.clone(),
                                        org_name.get(&org_id).unwrap_or(&"").to_string(),
                                    )
                                })
                                .collect()
                        })
                        .unwrap_or_default();
                    if !candidates.is_empty() {
                        resolution.issues.push(Issue {
                            severity: Severity::Warning,
                            sheet: record.sheet.clone(),
                            row: Some(record.row),
                            column: None,
                            message: format!(
                                "{} looks like {} already on record. They will be added as a new person unless you say they are the same.",
                                person.full_name,
                                candidates.iter().map(|c| c.1.as_str()).collect::<Vec<_>>().join(" or ")
                            ),
                        });
                        resolution.near_matches.push(NearMatch {
                            person_key: key.clone(),
                            name_on_sheet: person.full_name.clone(),
                            organisation_on_sheet: person.organisation.clone(),
                            candidates,
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
    for name in new_org_names.values() {
        resolution.issues.push(Issue {
            severity: Severity::Warning,
            sheet: String::new(),
            row: None,
            column: None,
            message: format!("“{name}” is not a known organisation; it will be added (type “Other”: change it afterwards if needed)."),
        });
    }
    resolution.new_organisations = new_org_names.into_values().collect();
    resolution
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::completion::AttendanceStatus;
    use crate::domain::import::{ModuleRef, PersonRef};

    fn record(name: &str, email: &str, org: &str) -> AttendanceRecord {
        let person = PersonRef {
            full_name: name.into(),
            email: email.into(),
            organisation: org.into(),
            job_title: String::new(),
        };
        AttendanceRecord {
            person_key: person.key(),
            sheet: "S".into(),
            row: 5,
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

    fn known() -> (Vec<KnownPerson>, Vec<KnownOrganisation>) {
        (
            vec![
                KnownPerson {
                    id: 1,
                    full_name: "Zoë O'Brien".into(),
                    email: "zoe@x.example".into(),
                    organisation_id: 10,
                },
                KnownPerson {
                    id: 2,
                    full_name: "Łukasz Nowak".into(),
                    email: String::new(),
                    organisation_id: 10,
                },
            ],
            vec![KnownOrganisation {
                id: 10,
                name: "Thames View Surgery".into(),
                keys: vec!["thames view surgery".into(), "thames view".into()],
            }],
        )
    }

    #[test]
    fn email_first_then_name_and_organisation_alias() {
        let (people, orgs) = known();
        let records = [
            record("Zoe OBrien", "zoe@x.example", ""),
            record("Dr Łukasz Nowak", "", "Thames View"),
        ];
        let r = resolve(&records, &people, &orgs, None, &HashMap::new());
        assert_eq!(r.people[&records[0].person.key()], PersonChoice::Existing(1));
        assert_eq!(r.people[&records[1].person.key()], PersonChoice::Existing(2));
        assert!(r.issues.is_empty(), "{:?}", r.issues);
    }

    #[test]
    fn near_matches_are_asked_about_and_answers_are_used() {
        let (people, orgs) = known();
        let records = [record("Zoe O'Brien", "", "Thames View Surgery")];
        let key = records[0].person.key();
        let r = resolve(&records, &people, &orgs, None, &HashMap::new());
        assert_eq!(r.near_matches.len(), 1);
        assert_eq!(r.near_matches[0].candidates[0].0, 1);
        assert!(
            matches!(r.people[&key], PersonChoice::New { .. }),
            "new unless confirmed"
        );
        let same = resolve(&records, &people, &orgs, None, &HashMap::from([(key.clone(), 1)]));
        assert_eq!(same.people[&key], PersonChoice::Existing(1));
        assert!(same.near_matches.is_empty());
        let different = resolve(&records, &people, &orgs, None, &HashMap::from([(key.clone(), 0)]));
        assert!(matches!(different.people[&key], PersonChoice::New { .. }));
        assert!(different.near_matches.is_empty());
    }

    #[test]
    fn unknown_organisations_are_added_once_and_missing_ones_need_a_default() {
        let (people, orgs) = known();
        let records = [
            record("A B", "", "Oval Practice"),
            record("C D", "", "oval  practice"),
            record("E F", "", ""),
        ];
        let r = resolve(&records, &people, &orgs, None, &HashMap::new());
        assert_eq!(r.new_organisations, ["Oval Practice"]);
        assert_eq!(r.issues.iter().filter(|i| i.severity == Severity::Error).count(), 1);
        let r = resolve(&records, &people, &orgs, Some(10), &HashMap::new());
        assert!(r.issues.iter().all(|i| i.severity == Severity::Warning));
        assert_eq!(r.new_people(), 3);
    }
}
