//! Sheets as training leads really write them, each case made here in two
//! formats (xlsx and csv) and read the same from both: names written
//! "Surname, First name", a course column with an unhelpful heading, an
//! "Outcome" column, a titled grid of "Day N" columns, half-day columns,
//! a grid without organisations, people with one name and different
//! emails (across files and within one), and the command line's choices.

mod common;

use common::imports::{json_of, qmtrack};
use common::{api, api_token, TestApp};
use serde_json::Value;
use std::path::PathBuf;

/// Writes the rows as an .xlsx and a .csv in a temporary folder (empty text is an empty cell).
fn write_both(dir: &std::path::Path, stem: &str, rows: &[Vec<String>]) -> [PathBuf; 2] {
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name(stem).expect("sheet name");
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            if !text.is_empty() {
                sheet.write_string(r as u32, c as u16, text).expect("cell");
            }
        }
    }
    let xlsx = dir.join(format!("{stem}.xlsx"));
    book.save(&xlsx).expect("save xlsx");
    let csv_path = dir.join(format!("{stem}.csv"));
    let mut writer = csv::WriterBuilder::new()
        .flexible(true)
        .from_path(&csv_path)
        .expect("csv");
    for row in rows {
        writer.write_record(row).expect("row");
    }
    writer.flush().expect("flush");
    [xlsx, csv_path]
}

fn rows(lines: &[&[&str]]) -> Vec<Vec<String>> {
    lines
        .iter()
        .map(|l| l.iter().map(|c| c.to_string()).collect())
        .collect()
}

/// A fresh app and one sheet written as .xlsx and .csv (in a folder that
/// lasts as long as the returned guard).
async fn app_with_sheet(stem: &str, lines: &[Vec<String>]) -> (TestApp, tempfile::TempDir, [PathBuf; 2]) {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("dir");
    let files = write_both(dir.path(), stem, lines);
    (app, dir, files)
}

/// The dry-run preview of a file as JSON, with any extra flags.
fn preview(app: &TestApp, file: &std::path::Path, flags: &[&str]) -> Value {
    let path = file.to_str().expect("path");
    let mut args = vec!["import-attendance", path, "--dry-run", "--json"];
    args.extend_from_slice(flags);
    json_of(&qmtrack(app, &args))
}

/// Previews both formats and checks they read the same; returns the xlsx's.
fn preview_both(app: &TestApp, files: &[PathBuf; 2], flags: &[&str]) -> Value {
    let [xlsx, csv] = files;
    let (a, b) = (preview(app, xlsx, flags), preview(app, csv, flags));
    for key in ["counts", "errors", "new_organisations"] {
        assert_eq!(a[key], b[key], "{key} differ between xlsx and csv: {a} / {b}");
    }
    let columns = |v: &Value| v["sheets"][0]["columns"].clone();
    assert_eq!(columns(&a), columns(&b), "the columns are read the same");
    a
}

fn column<'a>(preview: &'a Value, heading: &str) -> &'a Value {
    preview["sheets"][0]["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .find(|c| c["heading"] == heading)
        .unwrap_or_else(|| panic!("no column “{heading}” was used: {preview}"))
}

fn no_errors(preview: &Value) {
    assert_eq!(preview["errors"], Value::Array(vec![]), "{preview}");
}

#[rocket::async_test]
async fn headings_and_values_say_what_each_column_is() {
    let (app, _dir, files) = app_with_sheet(
        "ambassadors",
        &rows(&[
            &[
                "Surname, First name",
                "Organisation",
                "Work e-mail",
                "Training day",
                "Date",
                "Outcome",
            ],
            &[
                "Nowak, Łukasz",
                "Libraries",
                "l.nowak@lib.example",
                "Ambassador initial training day 1",
                "05/03/2024",
                "Attended",
            ],
            &[
                "Nowak, Łukasz",
                "Libraries",
                "l.nowak@lib.example",
                "Ambassador initial training day 2",
                "19/03/2024",
                "Did not attend",
            ],
            &[
                "O'Brien, Zoë",
                "Libraries",
                "z.obrien@lib.example",
                "Ambassador initial training day 1",
                "05/03/2024",
                "Attended",
            ],
        ]),
    )
    .await;
    let json = preview_both(&app, &files, &[]);
    no_errors(&json);
    assert_eq!(column(&json, "Surname, First name")["field"], "full_name");
    assert_eq!(column(&json, "Work e-mail")["field"], "email");
    let course = column(&json, "Training day");
    assert_eq!(course["field"], "module");
    assert!(
        course["reason"]
            .as_str()
            .expect("reason")
            .contains("values match “Ambassador initial training day 1”"),
        "{course}"
    );
    let outcome = column(&json, "Outcome");
    assert_eq!(outcome["field"], "status");
    assert!(
        outcome["reason"].as_str().expect("reason").contains("attendance marks"),
        "{outcome}"
    );
    assert_eq!(json["counts"]["by_status"]["attended"], 2);
    assert_eq!(
        json["counts"]["by_status"]["absent"], 1,
        "“Did not attend” is not attended"
    );
    assert_eq!(json["counts"]["people"], 2);
    assert_eq!(json["new_organisations"][0]["org_type"], "council_service");
}

#[rocket::async_test]
async fn a_titled_grid_of_day_columns_is_the_course_its_title_names() {
    let (app, _dir, files) = app_with_sheet(
        "cohort",
        &rows(&[
            &["Safe & Together CORE training: Cohort A Oct 2024"],
            &["", "", "", "", "", "15/10/2024", "22/10/2024"],
            &[
                "Participant",
                "Email",
                "Team",
                "Day 1 (01/10/2024)",
                "Day 2 (08/10/2024)",
                "Day 3",
                "Day 4",
            ],
            &["Abara, Piotr", "p.abara@nb.example", "Fostering", "N", "Y", "Y", "Y"],
            &["Doyle, Vikram", "v.doyle@nb.example", "Assessment", "Y", "Y", "Y", "Y"],
        ]),
    )
    .await;
    let flags = [
        "--organisation",
        "Northbridge Children's Services",
        "--create-organisations",
    ];
    let json = preview_both(&app, &files, &flags);
    no_errors(&json);
    let sheet = &json["sheets"][0];
    assert_eq!(sheet["header_row"], 3);
    let days: Vec<(&str, &str)> = sheet["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .filter_map(|c| Some((c["module"].as_str()?, c["date"].as_str()?)))
        .collect();
    assert_eq!(
        days,
        [
            ("core-day-1", "2024-10-01"),
            ("core-day-2", "2024-10-08"),
            ("core-day-3", "2024-10-15"),
            ("core-day-4", "2024-10-22")
        ]
    );
    assert!(sheet["notes"][0]
        .as_str()
        .expect("note")
        .contains("the title names Safe & Together"));
    assert_eq!(json["counts"]["attendance_records"], 8);
    assert_eq!(json["counts"]["sessions"], 4);
    assert_eq!(json["new_organisations"][0]["org_type"], "council_service");
    // Without the organisation the sheet cannot place anyone: one problem, not one per cell.
    let unplaced = preview(&app, &files[0], &[]);
    assert_eq!(unplaced["errors"].as_array().map(Vec::len), Some(1), "{unplaced}");
    assert_eq!(unplaced["errors"][0]["count"], 2);
    assert_eq!(
        unplaced["counts"]["new_people"], 2,
        "the preview's count agrees with the error"
    );
}

#[rocket::async_test]
async fn a_grid_of_eighty_people_without_organisations_gives_one_problem() {
    let mut lines = vec![
        vec!["Safe & Together CORE training: Cohort C".to_string()],
        [
            "Name",
            "Email",
            "Day 1 (04/02/2025)",
            "Day 2 (11/02/2025)",
            "Day 3 (18/02/2025)",
            "Day 4 (25/02/2025)",
        ]
        .map(String::from)
        .to_vec(),
    ];
    for n in 0..80 {
        lines.push(vec![
            format!("Person {n:02}"),
            format!("person{n:02}@nb.example"),
            "Y".into(),
            "Y".into(),
            "Y".into(),
            "Y".into(),
        ]);
    }
    let (app, _dir, files) = app_with_sheet("grid", &lines).await;
    let json = preview_both(&app, &files, &[]);
    let errors = json["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0]["count"], 80);
    assert_eq!(errors[0]["rows"], "3–82");
    assert_eq!(json["counts"]["new_people"], 80);
}

#[rocket::async_test]
async fn half_day_columns_count_as_attended_only_when_both_halves_are() {
    let (app, _dir, files) = app_with_sheet(
        "halves",
        &rows(&[
            &["MARAC briefing"],
            &["Date:", "14/01/2025"],
            &["Name", "Organisation", "AM", "PM"],
            &["Ann Lee", "Refuge", "Y", "Y"],
            &["Bo Tan", "Refuge", "Y", "N"],
            &["Cy Orr", "Refuge", "N", "N"],
        ]),
    )
    .await;
    let json = preview_both(&app, &files, &[]);
    no_errors(&json);
    let by_status = &json["counts"]["by_status"];
    assert_eq!(
        (
            by_status["attended"].as_u64(),
            by_status["partial"].as_u64(),
            by_status["absent"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{json}"
    );
    assert!(json["sheets"][0]["notes"].to_string().contains("parts of one session"));
}

#[rocket::async_test]
async fn the_command_line_takes_a_mapping_a_heading_row_and_new_organisations() {
    let (app, _dir, files) = app_with_sheet(
        "register",
        &rows(&[
            &["Who", "Where", "When", "What"],
            &["Delegate", "Base", "Held", "Course"],
            &[
                "Amira Haddad",
                "Hollybush Surgery",
                "12/03/2025",
                "IRIS clinical session 1",
            ],
        ]),
    )
    .await;
    let flags = [
        "--header-row",
        "2",
        "--map",
        "Delegate=full_name",
        "--map",
        "Base=organisation",
        "--map",
        "Held=date",
    ];
    let json = preview_both(&app, &files, &flags);
    no_errors(&json);
    assert_eq!(json["sheets"][0]["header_row"], 2);
    assert_eq!(column(&json, "Delegate")["reason"], "you chose it");
    let new = &json["new_organisations"][0];
    assert_eq!(
        (new["name"].as_str(), new["org_type"].as_str()),
        (Some("Hollybush Surgery"), Some("gp_practice"))
    );
    assert!(new["reason"].as_str().expect("reason").contains("surgery"));
    let text = qmtrack(
        &app,
        &[
            "import-attendance",
            files[0].to_str().expect("path"),
            "--dry-run",
            "--header-row",
            "2",
            "--map",
            "Delegate=full_name",
            "--map",
            "Base=organisation",
            "--map",
            "Held=date",
        ],
    );
    let shown = String::from_utf8_lossy(&text.stdout);
    assert!(shown.contains("headings on row 2"), "{shown}");
    assert!(shown.contains("“Delegate” → Full name (you chose it)"), "{shown}");
    assert!(shown.contains("Hollybush Surgery (GP practice"), "{shown}");
    let unknown = qmtrack(
        &app,
        &[
            "import-attendance",
            files[0].to_str().expect("path"),
            "--map",
            "Delegate=shoe size",
        ],
    );
    assert!(!unknown.status.success());
}

/// An IRIS register of Oval Practice: (name, email, date, course) per row, all attended.
fn register(dir: &std::path::Path, stem: &str, people: &[(&str, &str, &str, &str)]) -> [PathBuf; 2] {
    let mut lines = vec![["Name", "Organisation", "Email", "Date", "Course", "Attended"]
        .map(String::from)
        .to_vec()];
    for (name, email, date, course) in people {
        lines.push(
            [*name, "Oval Practice", *email, *date, *course, "Y"]
                .map(String::from)
                .to_vec(),
        );
    }
    write_both(dir, stem, &lines)
}

const SESSION_1: &str = "IRIS clinical session 1";
const SESSION_2: &str = "IRIS clinical session 2";

/// Two registers of one practice. Each has someone to ask about: "Hannah
/// Brooks" with two emails across the files and twice in B, "Amira Haddad"
/// with and without an email in A.
fn registers(dir: &std::path::Path) -> ([PathBuf; 2], [PathBuf; 2]) {
    let a = register(
        dir,
        "register-a",
        &[
            ("Hannah Brooks", "hb1@oval.example", "12/03/2025", SESSION_1),
            ("Kwame Mensah", "", "12/03/2025", SESSION_1),
            ("Amira Haddad", "a.haddad@oval.example", "12/03/2025", SESSION_1),
            ("Amira Haddad", "", "12/03/2025", SESSION_1),
        ],
    );
    let b = register(
        dir,
        "register-b",
        &[
            ("Hannah Brooks", "hb2@oval.example", "26/03/2025", SESSION_2),
            ("Kwame Mensah", "", "26/03/2025", SESSION_2),
            ("Hannah Brooks", "hb1@oval.example", "26/03/2025", SESSION_2),
        ],
    );
    (a, b)
}

/// Everyone on record with an IRIS attendance: (name, email), sorted.
async fn people(app: &TestApp, token: &str) -> Vec<(String, String)> {
    let (_, sessions) = api(app, token, "/sessions?programme=iris").await;
    let mut found = std::collections::BTreeSet::new();
    for session in sessions["sessions"].as_array().expect("sessions") {
        let (_, register) = api(app, token, &format!("/sessions/{}", session["id"])).await;
        for mark in register["attendance"].as_array().expect("register") {
            found.insert((
                mark["person_id"].as_i64().expect("id"),
                mark["full_name"].as_str().expect("name").to_string(),
                mark["email"].as_str().expect("email").to_string(),
            ));
        }
    }
    let mut list: Vec<(String, String)> = found.into_iter().map(|(_, n, e)| (n, e)).collect();
    list.sort();
    list
}

/// Whether the same person is asked about on record or on the same sheet,
/// the files give the same people in either order, both when near matches
/// are left apart and when they are taken as the same.
#[rocket::async_test]
async fn people_are_kept_apart_the_same_whichever_file_comes_first() {
    let dir = tempfile::tempdir().expect("dir");
    let (a, b) = registers(dir.path());
    for (policy, expected) in [("new", 5), ("same", 3)] {
        let mut outcomes = Vec::new();
        for order in [[&a[0], &b[1]], [&b[0], &a[1]]] {
            let app = TestApp::spawn().await;
            let lead = app.programme_lead().await;
            let token = api_token(&lead, "people").await;
            for file in order {
                let path = file.to_str().expect("path");
                let asked = preview(&app, file, &[]);
                assert!(
                    asked["warnings"].to_string().contains("looks like"),
                    "a same-name pair with different emails is asked about: {asked}"
                );
                let refused = qmtrack(&app, &["import-attendance", path, "--near-matches", "ask"]);
                assert!(!refused.status.success(), "ask refuses while a near match is undecided");
                let said = String::from_utf8_lossy(&refused.stderr);
                assert!(
                    said.contains("Hannah Brooks") || said.contains("Amira Haddad"),
                    "{said}"
                );
                let committed = qmtrack(&app, &["import-attendance", path, "--near-matches", policy]);
                assert!(
                    committed.status.success(),
                    "{}",
                    String::from_utf8_lossy(&committed.stderr)
                );
            }
            outcomes.push(people(&app, &token).await);
        }
        assert_eq!(
            outcomes[0], outcomes[1],
            "--near-matches {policy}: A then B gives the same people as B then A"
        );
        assert_eq!(
            outcomes[0].len(),
            expected,
            "--near-matches {policy}: {:?}",
            outcomes[0]
        );
    }
}

/// `--near-matches same` takes the one person a near match can be; with
/// two equally likely people on record it refuses, naming them, rather
/// than guess.
#[rocket::async_test]
async fn near_matches_same_refuses_to_choose_between_two_people() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let token = api_token(&lead, "people").await;
    let dir = tempfile::tempdir().expect("dir");
    let two = register(
        dir.path(),
        "two-hannahs",
        &[
            ("Hannah Brooks", "hb1@oval.example", "12/03/2025", SESSION_1),
            ("Hannah Brooks", "hb2@oval.example", "12/03/2025", SESSION_1),
        ],
    );
    let kept_apart = qmtrack(&app, &["import-attendance", two[0].to_str().expect("path")]);
    assert!(kept_apart.status.success());
    let third = register(dir.path(), "third", &[("Hannah Brooks", "", "26/03/2025", SESSION_2)]);
    let path = third[0].to_str().expect("path");
    let refused = qmtrack(&app, &["import-attendance", path, "--near-matches", "same"]);
    assert!(!refused.status.success(), "two people it could be: no guess");
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        said.contains("Hannah Brooks <hb1@oval.example> or Hannah Brooks <hb2@oval.example>")
            && said.contains("--near-matches same cannot choose between them"),
        "{said}"
    );
    let json = preview(&app, &third[0], &["--near-matches", "same"]);
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(1), "{json}");
    assert_eq!(people(&app, &token).await.len(), 2, "nothing was imported");
    // Told "new", it imports them as someone else.
    let new = qmtrack(&app, &["import-attendance", path, "--near-matches", "new"]);
    assert!(new.status.success(), "{}", String::from_utf8_lossy(&new.stderr));
    assert_eq!(people(&app, &token).await.len(), 3);
}

#[rocket::async_test]
async fn a_decision_on_a_near_match_is_remembered_for_the_next_import() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let token = api_token(&lead, "people").await;
    let dir = tempfile::tempdir().expect("dir");
    let (a, b) = registers(dir.path());
    assert!(qmtrack(&app, &["import-attendance", a[0].to_str().expect("path")])
        .status
        .success());
    // "These are the same person": the second address is Hannah's too.
    let same = qmtrack(
        &app,
        &[
            "import-attendance",
            b[0].to_str().expect("path"),
            "--near-matches",
            "same",
        ],
    );
    assert!(same.status.success(), "{}", String::from_utf8_lossy(&same.stderr));
    let hannahs = people(&app, &token)
        .await
        .into_iter()
        .filter(|(name, _)| name == "Hannah Brooks")
        .count();
    assert_eq!(hannahs, 1, "Hannah is one person");
    // A later sheet with that address is matched without asking.
    let later = register(
        dir.path(),
        "register-c",
        &[(
            "Hannah Brooks",
            "hb2@oval.example",
            "02/04/2025",
            "IRIS admin and reception session",
        )],
    );
    let json = preview(&app, &later[0], &["--near-matches", "ask"]);
    no_errors(&json);
    assert_eq!(json["counts"]["new_people"], 0, "{json}");
}

/// "The same person as the other on this sheet" is remembered too: a later
/// sheet with that person is matched without asking.
#[rocket::async_test]
async fn a_same_person_answer_within_one_sheet_is_remembered_for_the_next_import() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("dir");
    let first = register(
        dir.path(),
        "register-first",
        &[
            ("Amira Haddad", "a.haddad@oval.example", "12/03/2025", SESSION_1),
            ("Amira Haddad", "", "12/03/2025", SESSION_1),
        ],
    );
    let asked = preview(&app, &first[0], &["--near-matches", "ask"]);
    assert!(
        asked["errors"].as_array().is_some_and(|e| !e.is_empty()),
        "the sheet asks: {asked}"
    );
    let same = qmtrack(
        &app,
        &[
            "import-attendance",
            first[0].to_str().expect("path"),
            "--near-matches",
            "same",
        ],
    );
    assert!(same.status.success(), "{}", String::from_utf8_lossy(&same.stderr));
    let later = register(
        dir.path(),
        "register-later",
        &[("Amira Haddad", "", "26/03/2025", SESSION_2)],
    );
    for file in &later {
        let json = preview(&app, file, &["--near-matches", "ask"]);
        no_errors(&json);
        assert_eq!(json["counts"]["new_people"], 0, "{json}");
        assert_eq!(json["counts"]["near_matches"], 0, "{json}");
    }
}
