//! The programme lead's audit log: filtered by action, record, organisation,
//! who and when, and paged with the filter kept.

mod assessment_support;
mod common;

use assessment_support::*;
use chrono::Duration;
use common::{attrs, error_summary, texts, TestApp};
use reqwest::StatusCode;

fn rows(body: &str) -> Vec<String> {
    texts(body, ".qm-table tbody tr")
}

#[rocket::async_test]
async fn the_audit_log_filters_by_action_record_organisation_person_and_date() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let a = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let b = app.organisation(&lead, "Beta Practice", "gp_practice").await;
    let member = app.user(&lead, "m@alpha.example", "org_member", Some(a)).await;
    let id = enrol(&member, None, "daha").await;
    let res = upload(&member, id, "1.1.1", "policy.pdf", samples::pdf("Policy", &[]), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let (_, body) = lead.get_text("/audit?action=organisation.create").await;
    assert_eq!(rows(&body).len(), 2);
    assert!(texts(&body, "#audit-total")[0].starts_with("2 entries match"));
    let (_, body) = lead.get_text("/audit?entity=assessment").await;
    let found = rows(&body);
    assert_eq!(found.len(), 1);
    assert!(found[0].contains("Enrolled on a framework") && found[0].contains("Alpha Housing"));
    let (_, body) = lead.get_text(&format!("/audit?organisation={b}")).await;
    let found = rows(&body);
    assert_eq!(found.len(), 1, "only B's creation: {found:?}");
    assert!(found[0].contains("Beta Practice"));
    let (_, body) = lead.get_text(&format!("/audit?organisation={a}")).await;
    assert!(rows(&body).iter().all(|r| r.contains("Alpha Housing")));
    let (_, body) = lead.get_text("/audit?actor=M@ALPHA").await;
    let found = rows(&body);
    assert_eq!(found.len(), 2, "the member enrolled and uploaded: {found:?}");
    assert!(found.iter().all(|r| r.contains("m@alpha.example")));
    // The choices offered are the actions that occur, named for people.
    let options = texts(&body, "#action option");
    assert!(
        options.contains(&"Evidence added".to_string()) && options.contains(&"User added".to_string()),
        "{options:?}"
    );
    assert!(!body.contains(">evidence.add<"), "internal names stay out of sight");

    // Dates are whole days, "to" included.
    app.clock.advance(Duration::days(2));
    let lead = {
        let res = lead.login("lead@council.example", common::PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        lead
    };
    app.organisation(&lead, "Gamma Centre", "childrens_centre").await;
    let (_, body) = lead.get_text("/audit?from=2026-03-04").await;
    let found = rows(&body);
    assert_eq!(found.len(), 1, "{found:?}");
    assert!(found[0].contains("Gamma Centre") || found[0].contains("Organisation added"));
    let (_, body) = lead.get_text("/audit?to=2026-03-02&action=organisation.create").await;
    assert_eq!(rows(&body).len(), 2);
    let (_, body) = lead.get_text("/audit?from=2026-03-03&to=2026-03-03").await;
    assert!(rows(&body).is_empty());

    // A date that is not one is shown as a problem with the field.
    let (status, body) = lead.get_text("/audit?from=31/03/2026").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_summary(&body),
        ["The ‘from’ date must be a real date, like 1 3 2026"]
    );

    // The day, month and year boxes, typed as people type them.
    let (_, body) = lead.get_text("/audit?from.day=4&from.month=March&from.year=2026").await;
    assert_eq!(rows(&body).len(), 1, "4 March 2026 onwards");
    let (_, body) = lead
        .get_text("/audit?to.day=2&to.month=03&to.year=2026&action=organisation.create")
        .await;
    assert_eq!(rows(&body).len(), 2);
    assert_eq!(
        attrs(&body, "input[name='to.month']", "value"),
        ["03"],
        "the boxes keep what was typed"
    );
    let (status, body) = lead.get_text("/audit?to.day=31&to.month=2&to.year=2026").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_summary(&body),
        ["The ‘to’ date must be a real date, like 31 3 2026"]
    );
    assert_eq!(
        attrs(&body, ".qm-error-summary a", "href"),
        ["#to"],
        "the link lands on the day box"
    );
}

#[rocket::async_test]
async fn pages_keep_the_filter() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let id = enrol(&lead, Some(org), "daha").await;
    let all = criteria("daha", false);
    for criterion in all.iter().chain(all.iter()).take(55) {
        let res = statement(&lead, id, criterion, "Statement", "Text").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let (_, body) = lead.get_text("/audit?action=evidence.add").await;
    assert_eq!(rows(&body).len(), 50);
    assert!(body.contains("Page 1 of 2"));
    let doc = scraper::Html::parse_document(&body);
    let next = scraper::Selector::parse("a[rel=next]").expect("selector");
    let href = doc
        .select(&next)
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("next link")
        .to_string();
    assert!(href.contains("action=evidence.add"), "{href}");
    let (_, body) = lead.get_text(&href).await;
    assert_eq!(rows(&body).len(), 5);
    assert!(rows(&body).iter().all(|r| r.contains("Evidence added")));
}

/// The organisation is typed, not chosen from a list of every organisation:
/// a name (or text only one name contains) picks it, and text that several
/// names contain says so and offers them.
#[rocket::async_test]
async fn the_organisation_filter_takes_a_typed_name() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    app.organisation(&lead, "Beta Practice", "gp_practice").await;
    app.organisation(&lead, "Beta Surgery", "gp_practice").await;

    let (status, body) = lead.get_text("/audit?organisation=alpha+housing").await;
    assert_eq!(status, StatusCode::OK);
    let shown = rows(&body);
    assert!(
        !shown.is_empty() && shown.iter().all(|r| r.contains("Alpha Housing")),
        "{shown:?}"
    );

    let (_, body) = lead.get_text("/audit?organisation=Practice").await;
    let shown = rows(&body);
    assert!(
        !shown.is_empty() && shown.iter().all(|r| r.contains("Beta Practice")),
        "{shown:?}"
    );

    let (status, body) = lead.get_text("/audit?organisation=beta").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let errors = common::field_errors(&body);
    assert!(errors["organisation"].contains("2 organisations"), "{errors:?}");
    assert!(body.contains("<option value=\"Beta Practice\">") && body.contains("<option value=\"Beta Surgery\">"));

    let (status, body) = lead.get_text("/audit?organisation=Gamma").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(common::field_errors(&body)["organisation"].contains("No organisation"));
}

/// With ten thousand organisations the forms that pick one stay small: no
/// page lists them all.
#[rocket::async_test]
async fn forms_that_pick_an_organisation_stay_small_with_ten_thousand() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let pool = qmtrack::db::connect(&app.database_url, 1).await.expect("connect");
    // Added straight into the database: ten thousand through the form would take minutes.
    let insert = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
        INSERT INTO organisations (name, name_key, org_type, created_at, updated_at)
        SELECT 'Organisation ' || i, 'organisation ' || i, 'housing_provider',
            '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z' FROM n";
    match &pool {
        qmtrack::db::Pool::Sqlite { writer, .. } => sqlx::query(insert).execute(writer).await.map(|_| ()),
        qmtrack::db::Pool::Postgres { pool: pg, .. } => sqlx::query(insert).execute(pg).await.map(|_| ()),
    }
    .expect("ten thousand organisations");
    let org = app.organisation(&lead, "Zeta Housing", "housing_provider").await;
    for path in [
        "/audit".to_string(),
        "/users/new".to_string(),
        "/assessments/new".to_string(),
        format!("/assessments/new?organisation={org}"),
    ] {
        let (status, body) = lead.get_text(&path).await;
        assert_eq!(status, StatusCode::OK, "{path}");
        assert!(body.len() < 40_000, "{path} is {} bytes", body.len());
    }
}
