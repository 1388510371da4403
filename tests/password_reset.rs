//! Forgotten passwords: a one-time link made by the programme lead (or the
//! command line), shown once, used once, and expiring.

mod common;

use chrono::Duration;
use common::{error_summary, h1, location, page_text, texts, TestApp, PASSWORD};
use reqwest::StatusCode;
use std::process::Command;

const NEW_PASSWORD: &str = "a brand new passphrase";

/// The lead makes a link for the user with `email` and reads it off the page.
async fn reset_link(app: &TestApp, lead: &common::Browser, user_id: i64) -> String {
    let res = lead
        .submit(
            &format!("/users/{user_id}"),
            &format!("/users/{user_id}/reset-password"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let body = res.text().await.expect("body");
    let link = texts(&body, "#reset-link").pop().expect("the link is shown");
    assert!(
        link.starts_with(&app.base) || link.contains("/reset-password/"),
        "{link}"
    );
    format!("/reset-password/{}", link.rsplit('/').next().expect("token"))
}

async fn user_id(lead: &common::Browser, email: &str) -> i64 {
    let (_, body) = lead.get_text("/users").await;
    let doc = scraper::Html::parse_document(&body);
    let links = scraper::Selector::parse("a[href^='/users/']").expect("selector");
    doc.select(&links)
        .find(|a| a.text().collect::<String>().contains(email))
        .and_then(|a| a.value().attr("href"))
        .and_then(|href| href.trim_start_matches("/users/").parse().ok())
        .expect("the user is listed")
}

#[rocket::async_test]
async fn a_reset_link_works_once_and_signs_out_the_old_sessions() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let member = app.user(&lead, "sam@example.org", "assessor", None).await;
    let id = user_id(&lead, "sam@example.org").await;

    let (_, login) = app.browser().get_text("/login").await;
    assert!(
        page_text(&login).contains("Ask your programme lead for a password reset link"),
        "the login page says how to get one"
    );

    let path = reset_link(&app, &lead, id).await;
    let visitor = app.browser();
    let (status, page) = visitor.get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h1(&page), "Choose a new password");

    // Too short: refused, and the link still works.
    let res = visitor
        .submit(&path, &path, &[("password", "short"), ("password_confirm", "short")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_summary(&res.text().await.expect("body")).len(), 1);

    let res = visitor
        .submit(
            &path,
            &path,
            &[("password", NEW_PASSWORD), ("password_confirm", NEW_PASSWORD)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");

    // Used up; the old session is gone; the old password no longer works.
    let (status, page) = visitor.get_text(&path).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(h1(&page), "This link no longer works");
    assert_eq!(member.get("/account").await.status(), StatusCode::SEE_OTHER);
    let res = app.browser().login("sam@example.org", PASSWORD).await;
    assert_ne!(res.status(), StatusCode::SEE_OTHER, "the old password is refused");
    let res = app.browser().login("sam@example.org", NEW_PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // The audit log names what happened, for people.
    let (_, audit) = lead.get_text("/audit?action=user.password_reset").await;
    assert!(page_text(&audit).contains("Password reset"), "{}", page_text(&audit));
}

#[rocket::async_test]
async fn a_link_expires_and_a_newer_link_replaces_it() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    app.user(&lead, "jo@example.org", "training_lead", None).await;
    let id = user_id(&lead, "jo@example.org").await;

    let first = reset_link(&app, &lead, id).await;
    let second = reset_link(&app, &lead, id).await;
    let (status, _) = app.browser().get_text(&first).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "the newer link replaces the first");
    let (status, _) = app.browser().get_text(&second).await;
    assert_eq!(status, StatusCode::OK);

    app.clock
        .advance(Duration::hours(qmtrack::web::password_reset::LINK_HOURS) + Duration::minutes(1));
    let (status, page) = app.browser().get_text(&second).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "expired");
    assert!(page_text(&page).contains("Ask your programme lead for a new link"));
}

#[rocket::async_test]
async fn only_the_programme_lead_makes_links_and_a_made_up_token_finds_nothing() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let assessor = app.user(&lead, "alex@example.org", "assessor", None).await;
    let id = user_id(&lead, "alex@example.org").await;
    let token = assessor.csrf_token("/").await;
    let res = assessor
        .post(&format!("/users/{id}/reset-password"), &[("csrf_token", &token)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let (status, _) = app.browser().get_text("/reset-password/not-a-real-token").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[rocket::async_test]
async fn the_command_line_prints_a_link_that_works() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    drop(lead);
    let output = Command::new(env!("CARGO_BIN_EXE_qmtrack"))
        .args(["user", "reset-password", "--email", "LEAD@council.example"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QMTRACK_DATABASE_URL", &app.database_url)
        .env("QMTRACK_DATA_DIR", &app.data_dir)
        .env("QMTRACK_PUBLIC_BASE_URL", &app.base)
        .env("QMTRACK_LOG", "warn")
        .output()
        .expect("run qmtrack");
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let link = String::from_utf8_lossy(&output.stdout).trim().to_string();
    assert!(link.starts_with(&format!("{}/reset-password/", app.base)), "{link}");
    let path = link.trim_start_matches(&app.base).to_string();
    let (status, page) = app.browser().get_text(&path).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h1(&page), "Choose a new password");

    let output = Command::new(env!("CARGO_BIN_EXE_qmtrack"))
        .args(["user", "reset-password", "--email", "nobody@example.org"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QMTRACK_DATABASE_URL", &app.database_url)
        .env("QMTRACK_DATA_DIR", &app.data_dir)
        .output()
        .expect("run qmtrack");
    assert!(!output.status.success(), "an unknown email is refused");
}
