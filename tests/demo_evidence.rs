//! `qmtrack demo` adds assessments at every stage, with real files in the
//! evidence store, and adds nothing the second time.

mod assessment_support;
mod common;

use common::{texts, TestApp};
use reqwest::StatusCode;
use std::process::{Command, Output};

fn demo(app: &TestApp) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qmtrack"))
        .arg("demo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QMTRACK_DATABASE_URL", &app.database_url)
        .env("QMTRACK_DATA_DIR", &app.data_dir)
        .env("QMTRACK_LOG", "warn")
        .output()
        .expect("run qmtrack demo")
}

#[rocket::async_test]
async fn the_demo_has_assessments_at_every_stage_once() {
    let app = TestApp::spawn().await;
    let first = demo(&app);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let printed = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        printed.contains("Assessments: 10 added (10 in the demo set)"),
        "{printed}"
    );
    let lead_password = printed
        .lines()
        .find(|l| l.contains("alex.morgan@"))
        .and_then(|l| l.split("password: ").nth(1))
        .expect("password")
        .trim()
        .to_string();
    let files = assessment_support::stored_files(&app);
    assert!(files.len() >= 10, "{files:?}");
    let rows = assessment_support::evidence_rows(&app).await;

    let second = demo(&app);
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("Assessments: 0 added"));
    assert_eq!(assessment_support::evidence_rows(&app).await, rows, "no duplicates");
    assert_eq!(assessment_support::stored_files(&app).len(), files.len());

    // The demo dates things from today; the app's test clock must agree.
    let behind = chrono::Utc::now() - app.clock.now();
    if behind > chrono::Duration::zero() {
        app.clock.advance(behind);
    }
    let lead = app.browser();
    assert_eq!(
        lead.login("alex.morgan@northbridge.example.org", &lead_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, body) = lead.get_text("/assessments").await;
    assert!(body.contains("11 assessments"), "ten and a renewal");
    let stages: Vec<String> = texts(&body, ".qm-table tbody .qm-tag");
    for stage in [
        "Enrolled",
        "In progress",
        "Submitted",
        "Changes requested",
        "Resubmitted",
        "Recommended for award",
        "Awarded",
        "Renewal due",
        "Expired",
        "Revoked",
    ] {
        assert!(stages.iter().any(|s| s == stage), "{stage} missing from {stages:?}");
    }
    let (_, queue) = lead.get_text("/reviews").await;
    let waiting = texts(&queue, ".qm-table tbody tr");
    assert_eq!(waiting.len(), 3, "{waiting:?}");
    assert!(waiting[0].contains("20 days"), "oldest first: {waiting:?}");

    // A demo file downloads and is what it says it is.
    let doc = scraper::Html::parse_document(&body);
    let link = scraper::Selector::parse(".qm-table a[href^='/assessments/']").expect("selector");
    let first = doc
        .select(&link)
        .filter_map(|a| a.value().attr("href"))
        .next()
        .expect("an assessment")
        .to_string();
    let (_, page) = lead.get_text(&format!("{first}/criteria/1.1.1")).await;
    let doc = scraper::Html::parse_document(&page);
    let download = scraper::Selector::parse("a[href$='/download']").expect("selector");
    let href = doc
        .select(&download)
        .filter_map(|a| a.value().attr("href"))
        .next()
        .expect("the first criterion has a file");
    let res = lead.get(href).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"%PDF-"), "a real PDF");
}
