//! Every assessment, evidence and review route against every role, and an
//! organisation member trying another organisation's ids (pages, posts,
//! downloads, API): refused, and never revealed.

mod assessment_support;
mod common;

use assessment_support::*;
use common::{texts, Browser, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

const OK: u16 = 200;
const SIGN_IN: u16 = 303;
const FORBIDDEN: u16 = 403;
const NOT_FOUND: u16 = 404;

struct World {
    app: TestApp,
    lead: Browser,
    assessor: Browser,
    trainer: Browser,
    member: Browser,
    own: i64,
    other: i64,
    /// The member's organisation's assessment and one of its files.
    a: i64,
    ea: i64,
    /// The other organisation's.
    b: i64,
    eb: i64,
}

fn first_download_id(body: &str) -> i64 {
    let doc = scraper::Html::parse_document(body);
    let selector = scraper::Selector::parse("a[href$='/download']").expect("selector");
    doc.select(&selector)
        .filter_map(|a| a.value().attr("href"))
        .find_map(|h| h.strip_prefix("/evidence/")?.split('/').next()?.parse().ok())
        .expect("a download link")
}

async fn world() -> World {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let own = app.organisation(&lead, "Own Housing", "housing_provider").await;
    let other = app.organisation(&lead, "Other Housing", "housing_provider").await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let trainer = app.user(&lead, "t@council.example", "training_lead", None).await;
    let member = app.user(&lead, "m@own.example", "org_member", Some(own)).await;
    let a = enrol(&member, None, "daha").await;
    let res = upload(&member, a, "1.1.1", "own.pdf", samples::pdf("Own", &[]), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let ea = first_download_id(&member.get_text(&format!("/assessments/{a}/criteria/1.1.1")).await.1);
    // The programme lead works on the other organisation's behalf.
    let b = enrol(&lead, Some(other), "daha").await;
    let res = upload(
        &lead,
        b,
        "1.1.1",
        "other.pdf",
        samples::pdf("Other's casework", &[]),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let eb = first_download_id(&lead.get_text(&format!("/assessments/{b}/criteria/1.1.1")).await.1);
    World {
        app,
        lead,
        assessor,
        trainer,
        member,
        own,
        other,
        a,
        ea,
        b,
        eb,
    }
}

#[rocket::async_test]
async fn every_page_against_every_role() {
    let w = world().await;
    let (a, b, ea, eb) = (w.a, w.b, w.ea, w.eb);
    let anonymous = w.app.browser();
    // Path, then the status for: programme lead, assessor, training lead, member of "own", anonymous.
    let table: Vec<(String, [u16; 5])> = vec![
        ("/assessments".into(), [OK, OK, FORBIDDEN, OK, SIGN_IN]),
        (
            "/assessments?state=enrolled&framework=daha".into(),
            [OK, OK, FORBIDDEN, OK, SIGN_IN],
        ),
        ("/assessments/new".into(), [OK, FORBIDDEN, FORBIDDEN, OK, SIGN_IN]),
        (format!("/assessments/{a}"), [OK, OK, FORBIDDEN, OK, SIGN_IN]),
        (format!("/assessments/{b}"), [OK, OK, FORBIDDEN, NOT_FOUND, SIGN_IN]),
        (
            "/assessments/99999".into(),
            [NOT_FOUND, NOT_FOUND, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            format!("/assessments/{a}/criteria/1.1.1"),
            [OK, OK, FORBIDDEN, OK, SIGN_IN],
        ),
        (
            format!("/assessments/{b}/criteria/1.1.1"),
            [OK, OK, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            format!("/assessments/{a}/criteria/9.9.9"),
            [NOT_FOUND, NOT_FOUND, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            format!("/assessments/{a}/criteria/1.1.1/evidence/new?kind=statement"),
            [OK, FORBIDDEN, FORBIDDEN, OK, SIGN_IN],
        ),
        (
            format!("/assessments/{b}/criteria/1.1.1/evidence/new"),
            [OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            format!("/evidence/{ea}/replace"),
            [OK, FORBIDDEN, FORBIDDEN, OK, SIGN_IN],
        ),
        (
            format!("/evidence/{eb}/replace"),
            [OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            "/evidence/99999/replace".into(),
            [NOT_FOUND, NOT_FOUND, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (format!("/evidence/{ea}/download"), [OK, OK, FORBIDDEN, OK, SIGN_IN]),
        (
            format!("/evidence/{eb}/download"),
            [OK, OK, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            "/evidence/99999/download".into(),
            [NOT_FOUND, NOT_FOUND, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            format!("/assessments/{a}/review"),
            [OK, OK, FORBIDDEN, FORBIDDEN, SIGN_IN],
        ),
        (
            format!("/assessments/{b}/review"),
            [OK, OK, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        ("/reviews".into(), [OK, OK, FORBIDDEN, FORBIDDEN, SIGN_IN]),
        (
            "/audit?action=evidence.download".into(),
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, SIGN_IN],
        ),
        (
            "/audit?from=2026-03-01&to=2026-03-31".into(),
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, SIGN_IN],
        ),
    ];
    let browsers = [&w.lead, &w.assessor, &w.trainer, &w.member, &anonymous];
    let names = ["programme lead", "assessor", "training lead", "member", "anonymous"];
    let mut failures = Vec::new();
    for (path, expected) in &table {
        for ((browser, name), want) in browsers.iter().zip(names).zip(expected) {
            let got = browser.get(path).await.status();
            if got.as_u16() != *want {
                failures.push(format!("{name} GET {path}: expected {want}, got {}", got.as_u16()));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    // What each role's navigation offers.
    let nav = |body: String| texts(&body, ".qm-nav__link");
    assert!(nav(w.member.get_text("/").await.1).contains(&"Your assessments".to_string()));
    let lead_nav = nav(w.lead.get_text("/").await.1);
    assert!(lead_nav.contains(&"Assessments".to_string()) && lead_nav.contains(&"Review queue".to_string()));
    assert!(nav(w.assessor.get_text("/").await.1).contains(&"Review queue".to_string()));
    let trainer_nav = nav(w.trainer.get_text("/").await.1);
    assert!(!trainer_nav
        .iter()
        .any(|l| l.contains("ssessments") || l.contains("Review")));

    // The member's list shows only their own; B's name appears nowhere.
    let (_, body) = w.member.get_text("/assessments").await;
    assert!(body.contains("Own Housing") || texts(&body, ".qm-table tbody tr").len() == 1);
    assert!(!body.contains("Other Housing"));
    let (_, body) = w.member.get_text(&format!("/assessments/{b}")).await;
    assert!(body.contains("Page not found") && !body.contains("Other Housing"));
    let _ = (w.own, w.other);
}

#[rocket::async_test]
async fn another_organisations_ids_are_refused_for_every_action() {
    let w = world().await;
    let (b, eb) = (w.b, w.eb);
    let token = w.member.csrf_token("/").await;
    let rows_before = evidence_rows(&w.app).await;

    // Multipart posts with a good token, to B's assessment and evidence, and to made-up ids.
    for action in [
        format!("/assessments/{b}/criteria/1.1.1/evidence"),
        format!("/evidence/{eb}/replace"),
        "/assessments/99999/criteria/1.1.1/evidence".to_string(),
        "/evidence/99999/replace".to_string(),
    ] {
        let res = post_multipart(
            &w.member,
            &action,
            Some(&token),
            &[("kind", "file"), ("applies_from", "2026-01-01")],
            Some(file_part("x.pdf", samples::pdf("x", &[]))),
        )
        .await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
        assert!(!res.text().await.expect("body").contains("Other Housing"));
    }
    // Url-encoded posts.
    for (action, fields) in [
        (format!("/evidence/{eb}/remove"), vec![]),
        (format!("/assessments/{b}/submit"), vec![]),
        (format!("/assessments/{b}/renew"), vec![]),
        (format!("/assessments/{b}/award"), vec![("awarded_on", "2026-03-02")]),
        (format!("/assessments/{b}/revoke"), vec![("reason", "x")]),
        (
            format!("/assessments/{b}/decisions"),
            vec![("decisions[0].criterion", "1.1.1"), ("decisions[0].decision", "met")],
        ),
        (format!("/assessments/{b}/request-changes"), vec![("note", "x")]),
        (format!("/assessments/{b}/recommend"), vec![]),
        ("/evidence/99999/remove".to_string(), vec![]),
        ("/assessments/99999/submit".to_string(), vec![]),
        ("/assessments/99999/renew".to_string(), vec![]),
    ] {
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend(fields);
        let res = w.member.post(&action, &all).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{action}");
    }
    // Enrolling another organisation.
    let res = w
        .member
        .post(
            "/assessments",
            &[
                ("csrf_token", token.as_str()),
                ("organisation_id", &w.other.to_string()),
                ("framework_id", "dva-quality-mark-service"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);

    // Nothing of B's changed.
    assert_eq!(evidence_rows(&w.app).await, rows_before);
    assert_eq!(status_of(&w.lead, b).await, "In progress");
    let (_, body) = w.lead.get_text(&format!("/assessments/{b}/criteria/1.1.1")).await;
    assert!(body.contains("other.pdf"));
    let (_, body) = w.lead.get_text("/assessments?framework=dva-quality-mark-service").await;
    assert!(body.contains("0 assessments"), "no enrolment was made for B");
}

#[rocket::async_test]
async fn roles_may_only_take_their_own_steps() {
    let w = world().await;
    let a = w.a;
    // The member may not review, recommend, award or revoke their own assessment.
    let token = w.member.csrf_token("/").await;
    for (action, fields) in [
        (
            format!("/assessments/{a}/decisions"),
            vec![("decisions[0].criterion", "1.1.1"), ("decisions[0].decision", "met")],
        ),
        (format!("/assessments/{a}/request-changes"), vec![]),
        (format!("/assessments/{a}/recommend"), vec![]),
        (format!("/assessments/{a}/award"), vec![("awarded_on", "2026-03-02")]),
        (format!("/assessments/{a}/revoke"), vec![("reason", "x")]),
    ] {
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend(fields);
        assert_eq!(
            w.member.post(&action, &all).await.status(),
            StatusCode::FORBIDDEN,
            "{action}"
        );
    }
    // Assessors judge; they do not enrol, add evidence, submit or renew.
    let token = w.assessor.csrf_token("/").await;
    for action in [format!("/assessments/{a}/submit"), format!("/assessments/{a}/renew")] {
        let res = w.assessor.post(&action, &[("csrf_token", token.as_str())]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    let res = w
        .assessor
        .post(
            "/assessments",
            &[
                ("csrf_token", token.as_str()),
                ("organisation_id", &w.own.to_string()),
                ("framework_id", "daha"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = post_multipart(
        &w.assessor,
        &format!("/assessments/{a}/criteria/1.1.1/evidence"),
        Some(&token),
        &[
            ("kind", "statement"),
            ("title", "x"),
            ("statement", "y"),
            ("applies_from", "2026-01-01"),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // Training leads have no part in assessments at all.
    let token = w.trainer.csrf_token("/").await;
    for action in [format!("/assessments/{a}/submit"), format!("/evidence/{}/remove", w.ea)] {
        let res = w.trainer.post(&action, &[("csrf_token", token.as_str())]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "{action}");
    }
    assert_eq!(status_of(&w.lead, a).await, "In progress", "nothing moved");
}

#[rocket::async_test]
async fn the_api_is_scoped_like_the_pages() {
    let w = world().await;
    let (member, assessor, trainer) = (
        common::api_token(&w.member, "script").await,
        common::api_token(&w.assessor, "script").await,
        common::api_token(&w.trainer, "script").await,
    );
    let (status, own) = common::api(&w.app, &member, "/assessments").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(own["total"], 1);
    assert_eq!(own["assessments"][0]["organisation"]["name"], "Own Housing");
    let (status, body) = common::api(&w.app, &member, &format!("/assessments/{}", w.b)).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(!body.to_string().contains("Other"));
    assert_eq!(
        common::api(&w.app, &member, "/assessments/99999").await.0,
        StatusCode::NOT_FOUND
    );

    let (_, all) = common::api(&w.app, &assessor, "/assessments").await;
    assert_eq!(all["total"], 2);
    let (_, filtered) = common::api(&w.app, &assessor, "/assessments?state=submitted").await;
    assert_eq!(filtered["total"], 0);
    assert_eq!(
        common::api(&w.app, &assessor, "/assessments?state=nonsense").await.0,
        StatusCode::BAD_REQUEST
    );

    let (status, one) = common::api(&w.app, &assessor, &format!("/assessments/{}", w.a)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(one["state"], "in_progress");
    assert_eq!(one["framework"]["version"], "2024.1");
    assert!(one["award"].is_null());
    let criteria = one["criteria"].as_array().expect("criteria");
    assert_eq!(criteria.len(), 36);
    assert_eq!(criteria[0]["id"], "1.1.1");
    assert_eq!(criteria[0]["status"], "evidence_added");
    assert_eq!(criteria[0]["evidence_count"], 1);
    assert_eq!(criteria[1]["status"], "no_evidence");
    assert_eq!(one["missing_for_submission"].as_array().expect("list").len(), 23);

    let (status, body) = common::api(&w.app, &trainer, "/assessments").await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    assert_eq!(body["error"]["status"], 403);
    assert_eq!(
        common::api(&w.app, &trainer, &format!("/assessments/{}", w.a)).await.0,
        StatusCode::FORBIDDEN
    );
}

#[rocket::async_test]
async fn the_openapi_document_describes_the_assessment_routes() {
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    for path in ["/assessments", "/assessments/{id}"] {
        assert!(doc["paths"][path]["get"].is_object(), "{path} missing");
    }
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().expect("name");
        assert!(doc["components"]["schemas"][name].is_object(), "missing schema {name}");
    }
}
