//! The Northbridge scenario (tests/fixtures/scenario/README.md): five files
//! of a partnership's year, imported with no column mapping (and, for the
//! Safe & Together cohorts only, the organisation given), each preview free
//! of errors, from the command line and from the browser. The people,
//! sessions and attendance that result give the README's figures.

mod common;

use common::imports::{commit, json_of, qmtrack, upload};
use common::{api, api_token, location, page_text, Browser, TestApp};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenario");
const CHILDRENS_SERVICES: &str = "Northbridge Children's Services";

/// A file of the scenario, its flags and what its preview must count.
struct File {
    name: &'static str,
    /// The only file that needs anything: the organisation its cohorts belong to.
    organisation: Option<&'static str>,
    records: u64,
    sessions: u64,
    people: u64,
}

const FILES: [File; 5] = [
    File {
        name: "iris-2024-25.xlsx",
        organisation: None,
        records: 123,
        sessions: 29,
        people: 79,
    },
    File {
        name: "safe-and-together-core-2024-25.xlsx",
        organisation: Some(CHILDRENS_SERVICES),
        records: 168,
        sessions: 8,
        people: 42,
    },
    File {
        name: "ambassadors-2023.csv",
        organisation: None,
        records: 44,
        sessions: 12,
        people: 22,
    },
    File {
        name: "ambassadors-2024.csv",
        organisation: None,
        records: 60,
        sessions: 12,
        people: 30,
    },
    File {
        name: "workforce-2024.xlsx",
        organisation: None,
        records: 652,
        sessions: 52,
        people: 615,
    },
];

fn path_of(file: &File) -> String {
    format!("{SCENARIO}/{}", file.name)
}

fn cli_args(file: &File) -> Vec<String> {
    let mut args = vec!["import-attendance".to_string(), path_of(file)];
    if let Some(organisation) = file.organisation {
        args.extend([
            "--organisation".to_string(),
            organisation.to_string(),
            "--create-organisations".to_string(),
        ]);
    }
    args
}

fn run(app: &TestApp, args: &[String], extra: &[&str]) -> std::process::Output {
    let mut all: Vec<&str> = args.iter().map(String::as_str).collect();
    all.extend_from_slice(extra);
    qmtrack(app, &all)
}

/// What the records say, read through the API as a script would.
#[derive(Debug, PartialEq)]
struct Figures {
    /// programme → (sessions, attendance rows, attended rows, distinct people attending)
    programmes: BTreeMap<String, (usize, u64, u64, usize)>,
    organisations: usize,
    gp_practices: BTreeSet<String>,
    /// cohort → (people, people who attended all four days)
    cohorts: BTreeMap<String, (usize, usize)>,
    clinicians_session_1: usize,
    clinicians_both_sessions: usize,
    ambassadors_trained_2024: usize,
    core_certificates: usize,
}

async fn figures(app: &TestApp, token: &str) -> Figures {
    let mut programmes = BTreeMap::new();
    let mut cohorts: BTreeMap<String, BTreeMap<i64, usize>> = BTreeMap::new();
    let mut clinical: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    for programme in [
        "dva-awareness",
        "marac-briefing",
        "safe-and-together",
        "domestic-abuse-ambassadors",
        "iris",
    ] {
        let (status, body) = api(app, token, &format!("/sessions?programme={programme}")).await;
        assert_eq!(status, StatusCode::OK);
        let sessions = body["sessions"].as_array().expect("sessions").clone();
        let (mut marked, mut attended) = (0, 0);
        let mut people = BTreeSet::new();
        for session in &sessions {
            marked += session["marked"].as_u64().expect("marked");
            attended += session["attended"].as_u64().expect("attended");
            let id = session["id"].as_i64().expect("id");
            let (_, register) = api(app, token, &format!("/sessions/{id}")).await;
            for mark in register["attendance"].as_array().expect("register") {
                if mark["status"] != "attended" {
                    continue;
                }
                let person = mark["person_id"].as_i64().expect("person id");
                people.insert(person);
                if let Some(cohort) = session["cohort_name"].as_str().filter(|c| !c.is_empty()) {
                    *cohorts
                        .entry(cohort.to_string())
                        .or_default()
                        .entry(person)
                        .or_default() += 1;
                }
                let module: Option<&'static str> = match session["module_id"].as_str() {
                    Some("clinical-1") => Some("clinical-1"),
                    Some("clinical-2") => Some("clinical-2"),
                    _ => None,
                };
                if let Some(module) = module {
                    clinical.entry(module).or_default().insert(person);
                }
            }
            if let Some(cohort) = session["cohort_name"].as_str().filter(|c| !c.is_empty()) {
                for mark in register["attendance"].as_array().expect("register") {
                    let person = mark["person_id"].as_i64().expect("person id");
                    cohorts
                        .entry(cohort.to_string())
                        .or_default()
                        .entry(person)
                        .or_default();
                }
            }
        }
        programmes.insert(programme.to_string(), (sessions.len(), marked, attended, people.len()));
    }
    let (_, first) = api(app, token, "/organisations?page=1").await;
    let organisations = first["total"].as_u64().expect("total") as usize;
    let mut gp_practices = BTreeSet::new();
    let pages = organisations.div_ceil(first["page_size"].as_u64().expect("page size") as usize);
    for page in 1..=pages {
        let (_, body) = api(app, token, &format!("/organisations?page={page}")).await;
        for org in body["organisations"].as_array().expect("organisations") {
            if org["org_type"] == "gp_practice" {
                gp_practices.insert(org["name"].as_str().expect("name").to_string());
            }
        }
    }
    // Every page of the ambassadors' completions.
    let mut ambassadors = Vec::new();
    let mut path = "/completions?programme=domestic-abuse-ambassadors".to_string();
    loop {
        let (_, page) = api(app, token, &path).await;
        ambassadors.extend(page["people"].as_array().expect("people").iter().cloned());
        match page["next_after"].as_i64() {
            Some(after) => path = format!("/completions?programme=domestic-abuse-ambassadors&after={after}"),
            None => break,
        }
    }
    let ambassadors_trained_2024 = ambassadors
        .iter()
        .filter(|p| {
            p["completions"].as_array().expect("completions").iter().any(|c| {
                c["completion_id"] == "ambassador" && c["completed_on"].as_str().is_some_and(|d| d.starts_with("2024-"))
            })
        })
        .count();
    let (_, certificates) = api(app, token, "/certificates?programme=safe-and-together").await;
    // Nobody here attended the overview or supervisor training: these are all for CORE.
    let core_certificates = certificates["certificates"].as_array().expect("certificates").len();
    let empty = BTreeSet::new();
    let session_1 = clinical.get("clinical-1").unwrap_or(&empty);
    let session_2 = clinical.get("clinical-2").unwrap_or(&empty);
    Figures {
        programmes,
        organisations,
        gp_practices,
        cohorts: cohorts
            .into_iter()
            .map(|(name, people)| {
                let all_four = people.values().filter(|days| **days == 4).count();
                (name, (people.len(), all_four))
            })
            .collect(),
        clinicians_session_1: session_1.len(),
        clinicians_both_sessions: session_1.intersection(session_2).count(),
        ambassadors_trained_2024,
        core_certificates,
    }
}

/// The figures the scenario's README gives (and what they rest on).
fn check_readme_figures(figures: &Figures) {
    let p = &figures.programmes;
    assert_eq!(
        p["dva-awareness"],
        (40, 549, 549, 512),
        "DVA awareness: sessions, attendances, attended, people"
    );
    assert_eq!(
        p["marac-briefing"],
        (12, 103, 97, 97),
        "MARAC: 97 attended and 6 did not"
    );
    assert_eq!(p["safe-and-together"].0, 8, "two cohorts of four days");
    assert_eq!(figures.cohorts.len(), 2, "{:?}", figures.cohorts);
    let cohorts: Vec<(usize, usize)> = figures.cohorts.values().copied().collect();
    assert_eq!(
        cohorts,
        [(24, 21), (18, 18)],
        "people and four-day completers per cohort"
    );
    assert_eq!(figures.clinicians_session_1, 61);
    assert_eq!(figures.clinicians_both_sessions, 42);
    assert_eq!(figures.ambassadors_trained_2024, 30);
    assert_eq!(
        figures.core_certificates, 39,
        "every CORE completion has its certificate"
    );
    assert_eq!(
        figures.gp_practices.len(),
        9,
        "the nine practices are GP practices: {:?}",
        figures.gp_practices
    );
    assert!(figures.gp_practices.contains("Riverside Medical Centre"));
    assert_eq!(
        figures.organisations, 22,
        "8 agencies, 9 practices, 4 more employers and children's services"
    );
}

#[rocket::async_test]
async fn the_scenario_imports_from_the_command_line_as_its_readme_says() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let token = api_token(&lead, "figures").await;
    for file in &FILES {
        let args = cli_args(file);
        let preview = run(&app, &args, &["--dry-run", "--json"]);
        let json = json_of(&preview);
        assert!(preview.status.success(), "{}: {json}", file.name);
        assert_eq!(json["errors"], Value::Array(vec![]), "{}", file.name);
        let counts = &json["counts"];
        assert_eq!(
            (
                counts["attendance_records"].as_u64(),
                counts["sessions"].as_u64(),
                counts["people"].as_u64()
            ),
            (Some(file.records), Some(file.sessions), Some(file.people)),
            "{}: {counts}",
            file.name
        );
        for sheet in json["sheets"].as_array().expect("sheets") {
            assert!(sheet["header_row"].is_u64(), "{}: {sheet}", file.name);
            assert!(!sheet["modules"].as_array().expect("modules").is_empty(), "{sheet}");
        }
        let done = run(&app, &args, &["--json"]);
        let json = json_of(&done);
        assert!(done.status.success(), "{}: {json}", file.name);
        assert_eq!(json["result"]["attendance_created"].as_u64(), Some(file.records));
    }
    check_readme_figures(&figures(&app, &token).await);

    // Every file again changes nothing.
    for file in &FILES {
        let again = json_of(&run(&app, &cli_args(file), &["--json"]));
        assert!(again["already_imported"].is_i64(), "{}: {again}", file.name);
    }
}

/// Uploads and commits one scenario file in the browser, checking its preview first.
async fn import_in_browser(browser: &Browser, file: &File) {
    let bytes = std::fs::read(path_of(file)).expect("scenario file");
    let fields: Vec<(&str, &str)> = match file.organisation {
        Some(name) => vec![("new_organisation", name)],
        None => vec![],
    };
    let res = upload(browser, file.name, bytes, &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{}", file.name);
    let path = location(&res);
    let (_, preview) = browser.get_text(&path).await;
    let text = page_text(&preview);
    assert!(!text.contains("Errors and warnings"), "{}: {text}", file.name);
    assert!(
        text.contains(&format!("Import {} records", file.records)),
        "{}: {text}",
        file.name
    );
    let done = commit(browser, &path).await;
    assert!(
        page_text(&done).contains("Imported"),
        "{}: {}",
        file.name,
        page_text(&done)
    );
}

#[rocket::async_test]
async fn the_scenario_imports_in_the_browser_as_its_readme_says() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;
    let token = api_token(&lead, "figures").await;
    // Another order than the command line's: the people must come out the same.
    for index in [4, 3, 2, 1, 0] {
        import_in_browser(&trainer, &FILES[index]).await;
    }
    check_readme_figures(&figures(&app, &token).await);
}
