//! One import workflow for every door: the same file committed from the
//! browser and from the command line leaves the same rows, audit entries and
//! certificates; commit, undo and discard are compare-and-set moves, so a
//! second commit at the same moment is told "already committed" (409) and
//! never corrupts the import.

mod common;

use common::imports::{commit, finished, json_of, qmtrack, upload};
use common::{api, api_token, csrf_in, location, page_text, stored_file, texts, Browser, TestApp};
use reqwest::StatusCode;
use std::collections::BTreeSet;

const IRIS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenario/iris-2024-25.xlsx");

/// What an import left behind, as a user (or a script) sees it.
#[derive(Debug, PartialEq)]
struct Records {
    organisations: BTreeSet<(String, String)>,
    sessions: BTreeSet<(String, String, u64, u64)>,
    certificates: BTreeSet<(String, String, String)>,
    /// (action, record kind, what it recorded after)
    audit: Vec<(String, String, String)>,
}

async fn records(app: &TestApp, lead: &Browser, token: &str) -> Records {
    let (_, orgs) = api(app, token, "/organisations").await;
    let organisations = orgs["organisations"]
        .as_array()
        .expect("organisations")
        .iter()
        .map(|o| (o["name"].to_string(), o["org_type"].to_string()))
        .collect();
    let (_, list) = api(app, token, "/sessions?programme=iris").await;
    let sessions = list["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| {
            (
                s["module_id"].to_string(),
                s["session_date"].to_string(),
                s["attended"].as_u64().expect("attended"),
                s["marked"].as_u64().expect("marked"),
            )
        })
        .collect();
    let (_, certs) = api(app, token, "/certificates?programme=iris").await;
    let certificates = certs["certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .map(|c| {
            (
                c["holder_name"].to_string(),
                c["title"].to_string(),
                c["state"].to_string(),
            )
        })
        .collect();
    let (_, page) = lead.get_text("/audit?entity=import").await;
    let actions = texts(&page, "tbody tr td:nth-child(3)");
    let kinds = texts(&page, "tbody tr td:nth-child(4)");
    let after = texts(&page, "tbody tr td:nth-child(5)");
    let audit = actions
        .into_iter()
        .zip(kinds)
        .zip(after)
        .map(|((action, kind), after)| (action, kind.split(' ').next().unwrap_or_default().to_string(), after))
        .collect();
    Records {
        organisations,
        sessions,
        certificates,
        audit,
    }
}

#[rocket::async_test]
async fn the_same_file_from_the_browser_and_the_command_line_leaves_the_same_records() {
    let bytes = std::fs::read(IRIS).expect("fixture");

    let web = TestApp::spawn().await;
    let web_lead = web.programme_lead().await;
    let res = upload(&web_lead, "iris-2024-25.xlsx", bytes.clone(), &[]).await;
    let path = location(&res);
    assert!(page_text(&commit(&web_lead, &path).await).contains("Imported"));
    let web_token = api_token(&web_lead, "parity").await;
    let from_web = records(&web, &web_lead, &web_token).await;

    let cli = TestApp::spawn().await;
    let cli_lead = cli.programme_lead().await;
    let output = qmtrack(&cli, &["import-attendance", IRIS, "--json"]);
    assert!(output.status.success(), "{}", json_of(&output));
    let cli_token = api_token(&cli_lead, "parity").await;
    let from_cli = records(&cli, &cli_lead, &cli_token).await;

    assert!(!from_web.certificates.is_empty(), "the commit issued certificates");
    assert_eq!(from_web.audit.len(), 1, "one audit entry: {:?}", from_web.audit);
    assert_eq!(from_web.audit[0].0, "Attendance imported");
    assert_eq!(from_web, from_cli);
}

#[rocket::async_test]
async fn two_commits_at_once_import_once_and_the_second_is_told_why() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let res = upload(&lead, "iris-2024-25.xlsx", std::fs::read(IRIS).expect("fixture"), &[]).await;
    let path = location(&res);
    let (_, page) = lead.get_text(&path).await;
    let token = csrf_in(&page).expect("token");
    let post = |browser: Browser, token: String, path: String| async move {
        browser
            .client
            .post(format!("{}{path}/commit", browser.base))
            .form(&[("csrf_token", token.as_str())])
            .send()
            .await
            .expect("POST")
    };
    let (first, second) = rocket::tokio::join!(
        post(lead.clone(), token.clone(), path.clone()),
        post(lead.clone(), token.clone(), path.clone())
    );
    let mut statuses = [first.status(), second.status()];
    statuses.sort();
    assert_eq!(statuses, [StatusCode::SEE_OTHER, StatusCode::CONFLICT]);
    let refused = if first.status() == StatusCode::CONFLICT {
        first
    } else {
        second
    };
    let text = page_text(&refused.text().await.expect("body"));
    assert!(text.contains("already"), "{text}");

    let done = page_text(&finished(&lead, &path).await);
    assert!(
        done.contains("Imported") && done.contains("123 attendance records added"),
        "{done}"
    );
    let api_token = api_token(&lead, "check").await;
    let (_, sessions) = api(&app, &api_token, "/sessions?programme=iris").await;
    let marked: u64 = sessions["sessions"]
        .as_array()
        .expect("sessions")
        .iter()
        .map(|s| s["marked"].as_u64().expect("marked"))
        .sum();
    assert_eq!(marked, 123, "imported once");

    // It can still be undone, once.
    let res = lead.submit(&path, &format!("{path}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = lead
        .post(&format!("{path}/undo"), &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let (_, sessions) = api(&app, &api_token, "/sessions?programme=iris").await;
    assert_eq!(sessions["sessions"].as_array().map(Vec::len), Some(0));
}

/// A programme lead who has uploaded the IRIS sheet: the lead, the pending
/// import's page and the name its uploaded file is kept under.
async fn pending_import(app: &TestApp) -> (Browser, String, String) {
    let lead = app.programme_lead().await;
    let res = upload(&lead, "iris-2024-25.xlsx", std::fs::read(IRIS).expect("fixture"), &[]).await;
    let path = location(&res);
    let id = path.trim_start_matches("/training/imports/");
    let upload_file = format!("imports/{id}.upload");
    (lead, path, upload_file)
}

#[rocket::async_test]
async fn discard_really_discards() {
    let app = TestApp::spawn().await;
    let (lead, path, upload_file) = pending_import(&app).await;
    let sheet = || stored_file(&app.database_url, &app.data_dir, &upload_file);
    assert!(sheet().await.is_some(), "the sheet waits for the commit");
    let (_, page) = lead.get_text(&path).await;
    let token = csrf_in(&page).expect("token");
    let res = lead
        .post(&format!("{path}/discard"), &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert!(sheet().await.is_none(), "the sheet (personal data) is gone");
    let (_, page) = lead.get_text(&path).await;
    assert!(page_text(&page).contains("This upload was discarded"));
    let res = lead
        .post(&format!("{path}/commit"), &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(
        res.status(),
        StatusCode::CONFLICT,
        "a discarded import cannot be committed"
    );
    let res = lead
        .post(&format!("{path}/discard"), &[("csrf_token", token.as_str())])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
}

#[rocket::async_test]
async fn undoing_an_import_revokes_the_certificates_it_earned_and_they_stay_revoked() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let res = upload(&lead, "iris-2024-25.xlsx", std::fs::read(IRIS).expect("fixture"), &[]).await;
    let path = location(&res);
    assert!(page_text(&commit(&lead, &path).await).contains("Imported"));
    let token = api_token(&lead, "check").await;
    let states = |list: serde_json::Value| -> Vec<String> {
        list["certificates"]
            .as_array()
            .expect("certificates")
            .iter()
            .map(|c| c["state"].as_str().unwrap_or_default().to_string())
            .collect()
    };
    let (_, issued) = api(&app, &token, "/certificates?programme=iris").await;
    let issued = states(issued);
    assert!(!issued.is_empty(), "the commit issued certificates");
    assert!(issued.iter().all(|s| s == "valid" || s == "expired"), "{issued:?}");

    let res = lead.submit(&path, &format!("{path}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, after_undo) = api(&app, &token, "/certificates?programme=iris").await;
    let after_undo = states(after_undo);
    assert_eq!(after_undo.len(), issued.len(), "kept, for anyone who checks a code");
    assert!(after_undo.iter().all(|s| s == "revoked"), "{after_undo:?}");

    // Nothing is left to certify, so "Issue certificates" brings none back.
    let res = lead.submit("/certificates", "/certificates/issue", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = lead.get_text("/certificates").await;
    assert!(
        page_text(&page).contains("0 certificates issued."),
        "{}",
        page_text(&page)
    );
    let (_, again) = api(&app, &token, "/certificates?programme=iris").await;
    assert_eq!(states(again), after_undo);
}

/// A pending import is read when it is uploaded, and only then: viewing its
/// preview again and committing it use that reading, so they still work
/// once the uploaded file itself is gone.
#[rocket::async_test]
async fn a_pending_import_is_read_once_at_upload() {
    let app = TestApp::spawn().await;
    let (lead, path, upload_file) = pending_import(&app).await;
    if common::files_in_database(&app.database_url) {
        let pool = sqlx::PgPool::connect(&app.database_url).await.expect("connect");
        for table in ["stored_file_chunks", "stored_files"] {
            sqlx::query(&format!("DELETE FROM {table} WHERE name = $1"))
                .bind(&upload_file)
                .execute(&pool)
                .await
                .expect("remove the sheet");
        }
        pool.close().await;
    } else {
        std::fs::remove_file(app.data_dir.join(&upload_file)).expect("remove the sheet");
    }
    assert!(stored_file(&app.database_url, &app.data_dir, &upload_file)
        .await
        .is_none());
    for _ in 0..2 {
        let (status, page) = lead.get_text(&path).await;
        assert_eq!(status, StatusCode::OK);
        let text = page_text(&page);
        assert!(!text.contains("no longer available"), "read again: {text}");
        assert!(text.contains("Import ") && text.contains(" records"), "{text}");
    }
    assert!(page_text(&commit(&lead, &path).await).contains("Imported"));
}
