//! The public register of award holders: read by anyone without signing in,
//! as a page, CSV and JSON; worked out from the awards' dates when it is
//! read, so an award drops off the day it expires (the clock moves, no job
//! runs) or when it is revoked; an organisation may choose not to be listed
//! and the programme lead may hide a listing, both in the audit log.

mod common;

use common::{attrs, page_text, qmtrack, texts, Browser, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

const ALPHA: &str = "Alpha Housing Trust";
const BETA: &str = "Beta Surgery";
const GAMMA: &str = "Gamma Academy";
/// A name a spreadsheet would run as a formula if the CSV let it.
const SUMS: &str = "=SUM(1+1) Works";

/// Four organisations and their awards from the award history (with
/// certificates): Alpha's expires on 1 June 2026, Gamma's was revoked.
/// The test clock starts on 2 March 2026.
async fn partnership(app: &TestApp, lead: &Browser) -> [i64; 4] {
    let ids = [
        app.organisation(lead, ALPHA, "housing_provider").await,
        app.organisation(lead, BETA, "gp_practice").await,
        app.organisation(lead, GAMMA, "employer").await,
        app.organisation(lead, SUMS, "employer").await,
    ];
    let history = format!(
        "Organisation,Framework,Awarded on,Expires on,Revoked on
{ALPHA},daha,01/06/2023,01/06/2026,
{BETA},dva-quality-mark-gp,01/01/2025,01/01/2028,
{GAMMA},dva-quality-mark-workplace,01/01/2025,01/01/2028,01/02/2026
\"{SUMS}\",dva-quality-mark-workplace,01/09/2025,01/09/2028,
"
    );
    let path = app.data_dir.join("history.csv");
    std::fs::write(&path, history).expect("write history");
    let output = qmtrack(
        app,
        &[
            "import-awards",
            &path.display().to_string(),
            "--commit",
            "--certificates",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    ids
}

/// The organisations on the register page, in order.
async fn listed(app: &TestApp) -> Vec<String> {
    let (status, body) = app.browser().get_text("/register").await;
    assert_eq!(status, StatusCode::OK);
    texts(&body, "table.register-holders tbody td:first-child")
}

#[rocket::async_test]
async fn the_register_follows_the_awards_dates_and_revocations() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let [_, beta, _, _] = partnership(&app, &lead).await;

    // Anyone may read it: grouped by framework, revoked Gamma left out.
    let stranger = app.browser();
    let (status, body) = stranger.get_text("/register").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        texts(&body, "main h2.qm-heading-m"),
        [
            "DAHA accreditation",
            "Domestic Violence and Abuse Quality Mark (GP practice)",
            "Domestic Violence and Abuse Quality Mark (workplace)"
        ]
    );
    assert_eq!(listed(&app).await, [ALPHA, BETA, SUMS]);
    let text = page_text(&body);
    assert!(text.contains("1 June 2023") && text.contains("1 June 2026"), "{text}");
    // Each listing links to its award certificate's public check, which says it is valid.
    let checks = attrs(&body, "table.register-holders a", "href");
    assert_eq!(checks.len(), 3, "{checks:?}");
    let path = checks[0]
        .split_once("/verify/")
        .map(|(_, code)| format!("/verify/{code}"))
        .expect("a verify link");
    let (status, verified) = stranger.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page_text(&verified).contains(ALPHA), "{verified}");

    // The JSON says the same, with dates as data.
    let res = stranger.get("/register.json").await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: Value = res.json().await.expect("json");
    assert_eq!(json["as_of"], "2026-03-02");
    assert_eq!(json["frameworks"][0]["framework_id"], "daha");
    assert_eq!(json["frameworks"][0]["holders"][0]["organisation"], ALPHA);
    assert_eq!(json["frameworks"][0]["holders"][0]["expires_on"], "2026-06-01");

    // The CSV is an attachment whose formula-like name stays text.
    let res = stranger.get("/register.csv").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/csv")));
    let csv = res.text().await.expect("csv");
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(
        lines[0],
        "framework,organisation,locality,awarded_on,expires_on,verify_url"
    );
    assert_eq!(lines.len(), 4, "{csv}");
    assert!(lines[3].contains(",'=SUM(1+1) Works,"), "{csv}");
    assert!(!csv.contains(GAMMA));

    // The day before Alpha's expiry it is listed; on the day it is not. No job runs.
    app.clock.advance(chrono::Duration::days(90));
    assert_eq!(listed(&app).await, [ALPHA, BETA, SUMS]);
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(listed(&app).await, [BETA, SUMS]);
    let json: Value = stranger.get("/register.json").await.json().await.expect("json");
    assert_eq!(json["frameworks"].as_array().map(Vec::len), Some(2));

    // A revoked award drops off at once.
    let res = lead.login("lead@council.example", common::PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the lead signs in again");
    let (_, org_page) = lead.get_text(&format!("/organisations/{beta}")).await;
    let assessment = attrs(&org_page, "#organisation-assessments a", "href")
        .pop()
        .expect("Beta's assessment");
    let res = lead
        .submit(
            &assessment,
            &format!("{assessment}/revoke"),
            &[("reason", "The practice closed its domestic abuse service.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(listed(&app).await, [SUMS]);
}

async fn post_status(browser: &Browser, org: i64, action: &str, fields: &[(&str, &str)]) -> StatusCode {
    // The token comes from the home page: another organisation's page is not found.
    let action = format!("/organisations/{org}{action}");
    browser.submit("/", &action, fields).await.status()
}

async fn register_status(browser: &Browser, org: i64) -> String {
    let (_, body) = browser.get_text(&format!("/organisations/{org}")).await;
    texts(&body, "#register-status").join("")
}

#[rocket::async_test]
async fn an_organisation_opts_out_and_the_lead_hides_a_listing() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let [alpha, beta, _, _] = partnership(&app, &lead).await;
    let alpha_member = app.user(&lead, "amira@alpha.example", "org_member", Some(alpha)).await;
    let beta_member = app.user(&lead, "bo@beta.example", "org_member", Some(beta)).await;
    assert!(register_status(&alpha_member, alpha)
        .await
        .starts_with("Listed on the public register"));

    // A member opts their own organisation out, and back in.
    assert_eq!(
        post_status(&alpha_member, alpha, "/register", &[("listed", "false")]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(listed(&app).await, [BETA, SUMS]);
    assert!(register_status(&alpha_member, alpha).await.starts_with("Not listed"));
    // Another organisation's member cannot, nor may a member hide anything.
    assert_eq!(
        post_status(&beta_member, alpha, "/register", &[("listed", "true")]).await,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        post_status(&beta_member, beta, "/register/hide", &[("reason", "x")]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(listed(&app).await, [BETA, SUMS]);
    assert_eq!(
        post_status(&alpha_member, alpha, "/register", &[("listed", "true")]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(listed(&app).await, [ALPHA, BETA, SUMS]);

    // The lead hides Beta's listing, only with a reason.
    assert_eq!(
        post_status(&lead, beta, "/register/hide", &[("reason", "  ")]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(listed(&app).await, [ALPHA, BETA, SUMS], "no reason, not hidden");
    let reason = "Complaint under investigation";
    assert_eq!(
        post_status(&lead, beta, "/register/hide", &[("reason", reason)]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(listed(&app).await, [ALPHA, SUMS]);
    assert_eq!(
        register_status(&beta_member, beta).await,
        format!("Hidden by the programme lead: {reason}")
    );
    // Opting in again does not undo the lead's hiding; only the lead shows it again.
    post_status(&beta_member, beta, "/register", &[("listed", "true")]).await;
    assert_eq!(
        post_status(&beta_member, beta, "/register/show", &[]).await,
        StatusCode::FORBIDDEN
    );
    assert_eq!(listed(&app).await, [ALPHA, SUMS]);
    assert_eq!(
        post_status(&lead, beta, "/register/show", &[]).await,
        StatusCode::SEE_OTHER
    );
    assert_eq!(listed(&app).await, [ALPHA, BETA, SUMS]);

    // Each change is in the audit log, with the reason.
    let (_, log) = lead.get_text("/audit?action=register.hide").await;
    let rows = texts(&log, ".qm-table tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(page_text(&log).contains(reason), "{log}");
    for (action, count) in [("register.opt_out", 1), ("register.opt_in", 2), ("register.show", 1)] {
        let (_, log) = lead.get_text(&format!("/audit?action={action}")).await;
        assert_eq!(texts(&log, ".qm-table tbody tr").len(), count, "{action}");
    }
}
