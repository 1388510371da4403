//! A long sheet (over 10,000 rows) is read in two halves at once. What it
//! finds must be what one pass would: every row once, in order, with its
//! problems at the right rows on either side of the split, and the one
//! "which training" question asked once.

mod common;

use common::imports::{json_of, qmtrack};
use common::TestApp;
use serde_json::Value;

/// Data rows: enough that the sheet is read in two halves.
const ROWS: usize = 12_001;

/// A CSV of `ROWS` people, with an unreadable mark on the given data rows
/// (0-based among the data rows); `course` false leaves out the course column.
fn long_sheet(dir: &std::path::Path, bad: &[usize], course: bool) -> std::path::PathBuf {
    let path = dir.join(if course { "long.csv" } else { "long-no-course.csv" });
    let mut writer = csv::Writer::from_path(&path).expect("csv");
    let mut heading = vec!["Name", "Email", "Organisation", "Date", "Attended"];
    if course {
        heading.push("Course");
    }
    writer.write_record(&heading).expect("heading");
    for i in 0..ROWS {
        let mark = if bad.contains(&i) { "maybe?" } else { "Y" };
        let mut row = vec![
            format!("Person {i:05}"),
            format!("person{i:05}@long.example"),
            "Long Sheet Partnership".to_string(),
            "03/03/2025".to_string(),
            mark.to_string(),
        ];
        if course {
            row.push("MARAC briefing".to_string());
        }
        writer.write_record(&row).expect("row");
    }
    writer.flush().expect("flush");
    path
}

fn preview(app: &TestApp, file: &std::path::Path) -> Value {
    json_of(&qmtrack(
        app,
        &["import-attendance", file.to_str().expect("path"), "--dry-run", "--json"],
    ))
}

#[rocket::async_test]
async fn a_long_sheet_read_in_halves_keeps_every_row_and_its_problems_in_order() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("dir");
    // The first and last rows, and the rows either side of the middle
    // (data row 6,000 is the second half's first).
    let bad = [0, 5_999, 6_000, ROWS - 1];
    let found = preview(&app, &long_sheet(dir.path(), &bad, true));
    assert_eq!(
        found["counts"]["attendance_records"],
        (ROWS - bad.len()) as u64,
        "{}",
        found["counts"]
    );
    assert_eq!(found["counts"]["people"], (ROWS - bad.len()) as u64);
    let errors = found["errors"].as_array().expect("errors");
    assert_eq!(errors.len(), 1, "one grouped error for one cause: {errors:?}");
    // Sheet rows are 1-based and the headings are row 1: the rows either
    // side of the split are neighbours again.
    assert_eq!(errors[0]["count"], bad.len() as u64, "{}", errors[0]);
    assert_eq!(errors[0]["row"], 2, "{}", errors[0]);
    assert_eq!(errors[0]["rows"], "2, 6001–6002, 12002", "{}", errors[0]);
}

#[rocket::async_test]
async fn a_long_sheet_without_its_training_is_asked_about_once() {
    let app = TestApp::spawn().await;
    let dir = tempfile::tempdir().expect("dir");
    let found = preview(&app, &long_sheet(dir.path(), &[], false));
    let errors = found["errors"].as_array().expect("errors");
    let asked: Vec<&Value> = errors
        .iter()
        .filter(|e| {
            e["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("It is not clear which training this sheet records"))
        })
        .collect();
    assert_eq!(asked.len(), 1, "{errors:?}");
    assert_eq!(found["counts"]["attendance_records"], 0);
}
