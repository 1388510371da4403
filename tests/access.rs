//! Every page so far against every role: who gets in, who is refused.

mod common;

use common::TestApp;
use reqwest::StatusCode;

const OK: u16 = 200;
const SIGN_IN: u16 = 303;
const FORBIDDEN: u16 = 403;
const NOT_FOUND: u16 = 404;

#[rocket::async_test]
async fn every_route_against_every_role() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let own = app.organisation(&lead, "Own Org", "voluntary_sector").await;
    let other = app.organisation(&lead, "Other Org", "police").await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let trainer = app.user(&lead, "t@council.example", "training_lead", None).await;
    let member = app.user(&lead, "m@own.example", "org_member", Some(own)).await;
    let anonymous = app.browser();
    let lead_id = 1;
    for (org, name) in [(own, "Own Person"), (other, "Other Person")] {
        let res = lead
            .submit(
                &format!("/organisations/{org}/people/new"),
                &format!("/organisations/{org}/people"),
                &[("full_name", name), ("email", ""), ("job_title", "")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    let (own_person, other_person) = (1, 2);

    // path, then the status for: programme lead, assessor, training lead, member of "own", anonymous.
    let table: Vec<(String, [u16; 5])> = vec![
        ("/".into(), [OK, OK, OK, OK, SIGN_IN]),
        ("/organisations".into(), [OK, OK, OK, OK, SIGN_IN]),
        (
            "/organisations/new".into(),
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, SIGN_IN],
        ),
        (format!("/organisations/{own}"), [OK, OK, OK, OK, SIGN_IN]),
        (format!("/organisations/{other}"), [OK, OK, OK, NOT_FOUND, SIGN_IN]),
        (
            format!("/organisations/{own}/edit"),
            [OK, FORBIDDEN, FORBIDDEN, OK, SIGN_IN],
        ),
        (
            format!("/organisations/{other}/edit"),
            [OK, FORBIDDEN, FORBIDDEN, NOT_FOUND, SIGN_IN],
        ),
        (
            format!("/organisations/{own}/people/new"),
            [OK, FORBIDDEN, OK, OK, SIGN_IN],
        ),
        (
            format!("/organisations/{other}/people/new"),
            [OK, FORBIDDEN, OK, NOT_FOUND, SIGN_IN],
        ),
        ("/frameworks".into(), [OK, OK, OK, OK, SIGN_IN]),
        ("/frameworks/daha/2024.1".into(), [OK, OK, OK, OK, SIGN_IN]),
        ("/frameworks/daha/2024.1/areas/3".into(), [OK, OK, OK, OK, SIGN_IN]),
        (
            "/frameworks/daha/1999.1".into(),
            [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, SIGN_IN],
        ),
        ("/users".into(), [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, SIGN_IN]),
        ("/users/new".into(), [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, SIGN_IN]),
        (
            format!("/users/{lead_id}"),
            [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, SIGN_IN],
        ),
        ("/audit".into(), [OK, FORBIDDEN, FORBIDDEN, FORBIDDEN, SIGN_IN]),
        ("/account".into(), [OK, OK, OK, OK, SIGN_IN]),
        ("/training".into(), [OK, OK, OK, FORBIDDEN, SIGN_IN]),
        ("/training/sessions".into(), [OK, OK, OK, FORBIDDEN, SIGN_IN]),
        ("/training/sessions/new".into(), [OK, FORBIDDEN, OK, FORBIDDEN, SIGN_IN]),
        (
            "/training/sessions/999".into(),
            [NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, SIGN_IN],
        ),
        ("/training/imports".into(), [OK, FORBIDDEN, OK, FORBIDDEN, SIGN_IN]),
        (
            "/training/imports/999".into(),
            [NOT_FOUND, FORBIDDEN, NOT_FOUND, FORBIDDEN, SIGN_IN],
        ),
        ("/training/programmes/iris".into(), [OK, OK, OK, FORBIDDEN, SIGN_IN]),
        (
            "/training/programmes/iris/organisations".into(),
            [OK, OK, OK, FORBIDDEN, SIGN_IN],
        ),
        (
            "/training/programmes/no-such".into(),
            [NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, SIGN_IN],
        ),
        (
            "/training/cohorts/999".into(),
            [NOT_FOUND, NOT_FOUND, NOT_FOUND, FORBIDDEN, SIGN_IN],
        ),
        ("/training/ambassadors".into(), [OK, OK, OK, OK, SIGN_IN]),
        (format!("/people/{own_person}/training"), [OK, OK, OK, OK, SIGN_IN]),
        (
            format!("/people/{other_person}/training"),
            [OK, OK, OK, NOT_FOUND, SIGN_IN],
        ),
        (
            "/no/such/page".into(),
            [NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND, NOT_FOUND],
        ),
        ("/healthz".into(), [OK, OK, OK, OK, OK]),
        ("/static/qmtrack.css".into(), [OK, OK, OK, OK, OK]),
    ];
    let browsers = [&lead, &assessor, &trainer, &member, &anonymous];
    let names = ["programme lead", "assessor", "training lead", "member", "anonymous"];
    let mut failures = Vec::new();
    for (path, expected) in &table {
        for ((browser, name), want) in browsers.iter().zip(names).zip(expected) {
            let got = browser.get(path).await.status();
            if got != StatusCode::from_u16(*want).expect("status") {
                failures.push(format!("{name} GET {path}: expected {want}, got {}", got.as_u16()));
            }
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));

    // Refusals are friendly pages in the site's layout.
    let (_, body) = assessor.get_text("/users").await;
    assert!(body.contains("You do not have permission to see this page"));
    assert!(body.contains("Sign out"), "the error page keeps the navigation");
    let (_, body) = member.get_text(&format!("/organisations/{other}")).await;
    assert!(body.contains("Page not found") && !body.contains("Other Org"));
}

#[rocket::async_test]
async fn posts_are_refused_to_roles_that_may_not_make_them() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Own Org", "employer").await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let member = app.user(&lead, "m@own.example", "org_member", Some(org)).await;
    for browser in [&assessor, &member] {
        let token = browser.csrf_token("/account").await;
        let res = browser
            .post(
                "/users",
                &[
                    ("csrf_token", token.as_str()),
                    ("name", "Sneaky"),
                    ("email", "sneaky@example.org"),
                    ("role", "programme_lead"),
                    ("organisation_id", ""),
                    ("password", "long enough password"),
                    ("password_confirm", "long enough password"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = browser
            .post(
                "/users/1/active",
                &[("csrf_token", token.as_str()), ("active", "false")],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let res = browser
            .post(
                "/users/1/role",
                &[
                    ("csrf_token", token.as_str()),
                    ("role", "assessor"),
                    ("organisation_id", ""),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    assert_eq!(
        app.browser()
            .login("sneaky@example.org", "long enough password")
            .await
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(lead.get("/").await.status(), StatusCode::OK, "the lead is untouched");
}
