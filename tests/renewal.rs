//! An assessment stays on the framework version it started on; a renewal
//! starts on the version current at renewal, carrying over only evidence for
//! criteria that version still has. The standards are loaded at start, so
//! the test restarts the app (same database, same files) with a new version
//! of DAHA added, as an administrator would.

mod assessment_support;
mod common;

use assessment_support::*;
use common::{location, texts, Browser, TestApp, PASSWORD};
use qmtrack::Clock;
use reqwest::StatusCode;
use rocket::figment::Figment;
use std::path::Path;

/// A second server over the same database and data folder, with `standards`.
async fn restart(app: &TestApp, standards: &Path, now: &str) -> (String, Clock, rocket::Shutdown) {
    let clock = Clock::manual(chrono::DateTime::parse_from_rfc3339(now).expect("time").into());
    let figment = Figment::from(rocket::Config::figment())
        .merge(("port", 0))
        .merge(("log_level", "off"))
        .merge(("shutdown.ctrlc", false))
        .merge(("shutdown.grace", 0))
        .merge(("shutdown.mercy", 0))
        .merge(("data_dir", app.data_dir.display().to_string()))
        .merge(("database_url", app.database_url.clone()))
        .merge(("database_max_connections", 4))
        .merge(("login_delay_ms", 5))
        .merge(("standards_dir", standards.display().to_string()));
    let (tx, rx) = rocket::tokio::sync::oneshot::channel();
    let tx = std::sync::Mutex::new(Some(tx));
    let rocket = qmtrack::build_rocket(figment, clock.clone())
        .expect("app builds")
        .attach(rocket::fairing::AdHoc::on_liftoff("report port", move |rocket| {
            let port = rocket.config().port;
            if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                let _ = tx.send(port);
            }
            Box::pin(async {})
        }))
        .ignite()
        .await
        .expect("app ignites");
    let shutdown = rocket.shutdown();
    rocket::tokio::spawn(async move {
        let _ = rocket.launch().await;
    });
    let port = rx.await.expect("port");
    (format!("http://127.0.0.1:{port}"), clock, shutdown)
}

/// The same person, signed in again on the restarted server.
async fn again(base: &str, email: &str) -> Browser {
    let browser = Browser {
        base: base.to_string(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    };
    assert_eq!(browser.login(email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    browser
}

#[rocket::async_test]
async fn renewal_starts_on_the_current_version_and_keeps_what_still_applies() {
    let standards = tempfile::tempdir().expect("dir");
    let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join("standards/daha-2024.1.toml");
    let daha = std::fs::read_to_string(&shipped).expect("daha");
    std::fs::write(standards.path().join("daha-2024.1.toml"), &daha).expect("write");
    let app = TestApp::spawn_with(common::Options {
        standards_dir: Some(standards.path().to_path_buf()),
        ..common::Options::default()
    })
    .await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = app.user(&lead, "m@riverside.example", "org_member", Some(org)).await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;

    // The first award, on 2024.1, with evidence for an optional criterion too.
    let id = enrol(&member, None, "daha").await;
    let mandatory = criteria("daha", true);
    fill(&member, id, &mandatory).await;
    fill(&member, id, &["1.1.3".to_string()]).await;
    assert_eq!(submit(&member, id).await.status(), StatusCode::SEE_OTHER);
    meet_all(&assessor, id, &criteria("daha", false)).await;
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/award"),
            &[("awarded_on", "2026-03-02")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // A new version: 1.1.3 becomes 1.1.4, and awards last 24 months.
    let newer = daha
        .replace("version = \"2024.1\"", "version = \"2025.1\"")
        .replace("validity_months = 36", "validity_months = 24")
        .replace("id = \"1.1.3\"", "id = \"1.1.4\"");
    std::fs::write(standards.path().join("daha-2025.1.toml"), newer).expect("write");
    let (base, clock, shutdown) = restart(&app, standards.path(), "2028-12-20T09:00:00Z").await;
    let lead = again(&base, "lead@council.example").await;
    let member = again(&base, "m@riverside.example").await;
    let assessor = again(&base, "a@council.example").await;

    // The award is still judged by the version it was made under.
    let (_, body) = member.get_text(&format!("/assessments/{id}")).await;
    assert!(body.contains(">2024.1<"), "pinned to 2024.1");
    assert_eq!(texts(&body, "#expires-on"), ["2 March 2029"]);
    assert_eq!(texts(&body, "#status"), ["Renewal due"]);
    let (_, body) = member.get_text("/assessments/new").await;
    assert!(body.contains("Version 2025.1"), "new enrolments get the new version");

    let res = member
        .submit(&format!("/assessments/{id}"), &format!("/assessments/{id}/renew"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renewal = id_from(&location(&res), "/assessments/");
    let (_, body) = member.get_text(&format!("/assessments/{renewal}")).await;
    assert!(body.contains(">2025.1<"), "the renewal is on the current version");
    assert!(
        texts(&body, ".qm-notification__title")[0].contains("24 item(s) of evidence carried over"),
        "the 1.1.3 statement has no criterion to go to"
    );
    assert!(texts(&body, "#criterion-1\\.1\\.4 td .qm-tag").contains(&"No evidence".to_string()));
    assert!(!body.contains("criterion-1.1.3"));

    // Renewed and awarded: 24 months now, and the old award shows as renewed.
    assert_eq!(submit(&member, renewal).await.status(), StatusCode::SEE_OTHER);
    let new_criteria: Vec<String> = criteria("daha", false)
        .into_iter()
        .map(|c| if c == "1.1.3" { "1.1.4".to_string() } else { c })
        .collect();
    meet_all(&assessor, renewal, &new_criteria).await;
    let res = lead
        .submit(
            &format!("/assessments/{renewal}"),
            &format!("/assessments/{renewal}/award"),
            &[("awarded_on", "2028-12-20")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{renewal}")).await;
    assert_eq!(texts(&body, "#expires-on"), ["20 December 2030"]);
    assert_eq!(status_of(&member, id).await, "Renewed");
    drop(clock);
    shutdown.notify();
}

/// Several "start renewal" clicks at once (a double click, two people) give
/// one renewal; every other request is told the renewal has already been
/// started, with a 409, never a server error. A later click is told the same.
#[rocket::async_test]
async fn renewals_started_at_once_give_one_renewal_and_conflicts() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = app.user(&lead, "m@riverside.example", "org_member", Some(org)).await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let id = enrol(&member, None, "daha").await;
    fill(&member, id, &criteria("daha", true)).await;
    assert_eq!(submit(&member, id).await.status(), StatusCode::SEE_OTHER);
    meet_all(&assessor, id, &criteria("daha", false)).await;
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/award"),
            &[("awarded_on", "2026-03-02")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let token = member.csrf_token(&format!("/assessments/{id}")).await;
    let action = format!("/assessments/{id}/renew");
    let fields = [("csrf_token", token.as_str())];
    let (a, b, c, d) = rocket::tokio::join!(
        member.post(&action, &fields),
        member.post(&action, &fields),
        member.post(&action, &fields),
        member.post(&action, &fields),
    );
    let mut statuses: Vec<StatusCode> = [&a, &b, &c, &d].iter().map(|r| r.status()).collect();
    statuses.sort();
    assert_eq!(
        statuses,
        [
            StatusCode::SEE_OTHER,
            StatusCode::CONFLICT,
            StatusCode::CONFLICT,
            StatusCode::CONFLICT
        ]
    );
    let started = [a, b, c, d]
        .into_iter()
        .find(|r| r.status() == StatusCode::SEE_OTHER)
        .expect("one renewal");
    let renewal = id_from(&location(&started), "/assessments/");
    assert_eq!(audit_count(&lead, "assessment.renew").await, 1);
    let (_, list) = member.get_text("/assessments").await;
    assert_eq!(texts(&list, ".qm-table tbody tr").len(), 2, "the award and one renewal");

    let res = member.submit(&format!("/assessments/{id}"), &action, &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    let body = res.text().await.expect("body");
    assert!(
        body.contains(&format!("has already been started (assessment {renewal})")),
        "{body}"
    );
}
