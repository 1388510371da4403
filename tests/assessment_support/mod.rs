//! Helpers for the assessment tests: enrol, add evidence as a person would
//! (open the form, fill it in, send it), record decisions, and look inside
//! the evidence store.

#![allow(dead_code)]

use crate::common::{csrf_in, location, texts, Browser, TestApp};
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use std::path::{Path, PathBuf};

#[allow(unused_imports)]
pub use qmtrack::domain::filetype::samples;

/// The shipped standards, as the app loads them.
pub fn library() -> qmtrack::domain::standards::StandardsLibrary {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("standards");
    qmtrack::domain::standards::load_dir(&dir).expect("shipped standards load")
}

/// Criterion ids of the current version of `framework`, mandatory ones only if asked.
pub fn criteria(framework: &str, mandatory_only: bool) -> Vec<String> {
    let library = library();
    let f = library.current_version(framework).expect("framework ships");
    f.criteria()
        .filter(|c| c.mandatory || !mandatory_only)
        .map(|c| c.id.clone())
        .collect()
}

/// Enrols `organisation` (ignored for members, who enrol their own) and returns the assessment id.
pub async fn enrol(browser: &Browser, organisation: Option<i64>, framework: &str) -> i64 {
    let org = organisation.map(|o| o.to_string()).unwrap_or_default();
    let res = browser
        .submit(
            "/assessments/new",
            "/assessments",
            &[("organisation_id", &org), ("framework_id", framework)],
        )
        .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "enrolment should succeed: {}",
        res.text().await.unwrap_or_default()
    );
    id_from(&location(&res), "/assessments/")
}

pub fn id_from(path: &str, prefix: &str) -> i64 {
    path.trim_start_matches(prefix)
        .split(['/', '?', '#'])
        .next()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no id in {path}"))
}

/// A file part named as a browser would send it.
pub fn file_part(name: &str, bytes: Vec<u8>) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_string())
        .mime_str("application/octet-stream")
        .expect("mime")
}

/// Posts a multipart form with the given token, fields and file.
pub async fn post_multipart(
    browser: &Browser,
    action: &str,
    token: Option<&str>,
    fields: &[(&str, &str)],
    file: Option<Part>,
) -> Response {
    // Names go out exactly as given (as a browser sends them), so the
    // server's own checks on path parts and control characters are tested.
    let mut form = Form::new().percent_encode_noop();
    if let Some(token) = token {
        form = form.text("csrf_token", token.to_string());
    }
    for (name, value) in fields {
        form = form.text(name.to_string(), value.to_string());
    }
    if let Some(part) = file {
        form = form.part("file", part);
    }
    browser
        .client
        .post(format!("{}{action}", browser.base))
        .multipart(form)
        .send()
        .await
        .expect("POST")
}

/// Like a person: opens the upload page for the criterion, then sends the file.
pub async fn upload(
    browser: &Browser,
    assessment: i64,
    criterion: &str,
    name: &str,
    bytes: Vec<u8>,
    extra: &[(&str, &str)],
) -> Response {
    let page = format!("/assessments/{assessment}/criteria/{criterion}/evidence/new?kind=file");
    let (status, body) = browser.get_text(&page).await;
    assert_eq!(status, StatusCode::OK, "{page}: {body}");
    let token = csrf_in(&body).expect("token on the upload page");
    let mut fields = vec![
        ("kind", "file"),
        ("title", ""),
        ("applies_from", "2026-01-01"),
        ("valid_until", ""),
    ];
    for (k, v) in extra {
        fields.retain(|(name, _)| name != k);
        fields.push((k, v));
    }
    post_multipart(
        browser,
        &format!("/assessments/{assessment}/criteria/{criterion}/evidence"),
        Some(&token),
        &fields,
        Some(file_part(name, bytes)),
    )
    .await
}

/// Adds a written statement to a criterion.
pub async fn statement(browser: &Browser, assessment: i64, criterion: &str, title: &str, text: &str) -> Response {
    let page = format!("/assessments/{assessment}/criteria/{criterion}/evidence/new?kind=statement");
    let (status, body) = browser.get_text(&page).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let token = csrf_in(&body).expect("token");
    post_multipart(
        browser,
        &format!("/assessments/{assessment}/criteria/{criterion}/evidence"),
        Some(&token),
        &[
            ("kind", "statement"),
            ("title", title),
            ("statement", text),
            ("applies_from", "2026-01-01"),
            ("valid_until", ""),
        ],
        None,
    )
    .await
}

/// Gives every listed criterion a statement.
pub async fn fill(browser: &Browser, assessment: i64, criteria: &[String]) {
    for criterion in criteria {
        let res = statement(browser, assessment, criterion, "Our approach", "We do this.").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "statement for {criterion}");
    }
}

/// Records decisions as an assessor would on the review page.
pub async fn decide(browser: &Browser, assessment: i64, decisions: &[(&str, &str, &str)]) -> Response {
    let token = browser.csrf_token(&format!("/assessments/{assessment}/review")).await;
    let mut fields: Vec<(String, String)> = vec![("csrf_token".into(), token), ("area".into(), String::new())];
    for (i, (criterion, decision, feedback)) in decisions.iter().enumerate() {
        fields.push((format!("decisions[{i}].criterion"), criterion.to_string()));
        fields.push((format!("decisions[{i}].decision"), decision.to_string()));
        fields.push((format!("decisions[{i}].feedback"), feedback.to_string()));
    }
    let borrowed: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    browser
        .post(&format!("/assessments/{assessment}/decisions"), &borrowed)
        .await
}

/// Every criterion met.
pub async fn meet_all(browser: &Browser, assessment: i64, criteria: &[String]) {
    let decisions: Vec<(&str, &str, &str)> = criteria.iter().map(|c| (c.as_str(), "met", "")).collect();
    let res = decide(browser, assessment, &decisions).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
}

/// The programme lead awards the assessment, dated `awarded_on` (YYYY-MM-DD).
pub async fn award(lead: &Browser, assessment: i64, awarded_on: &str) -> Response {
    lead.submit(
        &format!("/assessments/{assessment}"),
        &format!("/assessments/{assessment}/award"),
        &[("awarded_on", awarded_on)],
    )
    .await
}

pub async fn submit(browser: &Browser, assessment: i64) -> Response {
    browser
        .submit(
            &format!("/assessments/{assessment}"),
            &format!("/assessments/{assessment}/submit"),
            &[],
        )
        .await
}

/// The text of the status tag at the top of the assessment page.
pub async fn status_of(browser: &Browser, assessment: i64) -> String {
    let (code, body) = browser.get_text(&format!("/assessments/{assessment}")).await;
    assert_eq!(code, StatusCode::OK);
    texts(&body, "#status").pop().unwrap_or_default()
}

/// Files in the evidence store (temporary ones included), as the data
/// folder names them, wherever they are kept.
pub async fn stored_files(app: &TestApp) -> Vec<PathBuf> {
    crate::common::stored_names(&app.database_url, &app.data_dir, "evidence")
        .await
        .into_iter()
        .map(|name| app.data_dir.join("evidence").join(name))
        .collect()
}

/// Evidence rows in the database, read directly: the pages could hide a dangling one.
pub async fn evidence_rows(app: &TestApp) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("connect");
    let rows = sqlx::query("SELECT id FROM evidence")
        .fetch_all(&pool)
        .await
        .expect("count");
    pool.close().await;
    rows.len() as i64
}

/// Entries in the audit log with this action, as the programme lead sees them.
pub async fn audit_count(lead: &Browser, action: &str) -> usize {
    let (status, body) = lead.get_text(&format!("/audit?action={action}")).await;
    assert_eq!(status, StatusCode::OK);
    texts(&body, ".qm-table tbody tr").len()
}

/// Moves the clock on. Sessions lapse after 30 idle minutes, so everyone
/// given signs in again afterwards.
pub async fn time_passes(app: &TestApp, by: chrono::Duration, people: &[(&Browser, &str)]) {
    app.clock.advance(by);
    for (browser, email) in people {
        let res = browser.login(email, crate::common::PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} signs in again");
    }
}
