//! User administration by the programme lead.

mod common;

use common::{field_errors, TestApp, PASSWORD};
use reqwest::StatusCode;

#[rocket::async_test]
async fn the_lead_adds_users_changes_roles_and_deactivates() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Delta Homes", "housing_provider").await;

    // A member needs an organisation; a duplicate email is refused.
    let res = lead
        .submit(
            "/users/new",
            "/users",
            &[
                ("name", "Pat"),
                ("email", "pat@delta.example"),
                ("role", "org_member"),
                ("organisation_id", ""),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&res.text().await.expect("body"))["organisation_id"],
        "Select the organisation this person works for"
    );
    // Nothing chosen for the role (a radio button sends nothing) is an error on the page, not a crash.
    let res = lead
        .submit(
            "/users/new",
            "/users",
            &[
                ("name", "Pat"),
                ("email", "pat@delta.example"),
                ("organisation_id", ""),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(field_errors(&res.text().await.expect("body"))["role"], "Select a role");
    let pat = app.user(&lead, "pat@delta.example", "org_member", Some(org)).await;
    let res = lead
        .submit(
            "/users/new",
            "/users",
            &[
                ("name", "Pat 2"),
                ("email", "PAT@delta.example"),
                ("role", "assessor"),
                ("organisation_id", ""),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    let (_, body) = lead.get_text("/users").await;
    assert!(body.contains("pat@delta.example") && body.contains("Organisation member") && body.contains("Delta Homes"));

    // Changing a role signs the user out, and the new role applies at the next sign-in.
    let pat_id = 2;
    let res = lead
        .submit(
            &format!("/users/{pat_id}"),
            &format!("/users/{pat_id}/role"),
            &[("role", "assessor"), ("organisation_id", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(pat.get("/organisations").await.status(), StatusCode::SEE_OTHER);
    pat.login("pat@delta.example", PASSWORD).await;
    let (_, body) = pat.get_text("/organisations").await;
    assert!(body.contains("Assessor"));

    // Deactivating ends their sessions and stops them signing in.
    let res = lead
        .submit(
            &format!("/users/{pat_id}"),
            &format!("/users/{pat_id}/active"),
            &[("active", "false")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(pat.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        pat.login("pat@delta.example", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let res = lead
        .submit(
            &format!("/users/{pat_id}"),
            &format!("/users/{pat_id}/active"),
            &[("active", "true")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        pat.login("pat@delta.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

#[rocket::async_test]
async fn the_last_programme_lead_cannot_be_demoted_or_deactivated() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let res = lead
        .submit(
            "/users/1",
            "/users/1/role",
            &[("role", "assessor"), ("organisation_id", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_errors(&res.text().await.expect("body"))["role"].contains("only active programme lead"));
    let res = lead.submit("/users/1", "/users/1/active", &[("active", "false")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        lead.get("/users").await.status(),
        StatusCode::OK,
        "still a working programme lead"
    );
}

#[rocket::async_test]
async fn changing_your_password_signs_you_out_everywhere() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let second = app.browser();
    second.login("lead@council.example", PASSWORD).await;
    let res = lead
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", "wrong wrong wrong"),
                ("password", "a brand new passphrase"),
                ("password_confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = lead
        .submit(
            "/account",
            "/account/password",
            &[
                ("current_password", PASSWORD),
                ("password", "a brand new passphrase"),
                ("password_confirm", "a brand new passphrase"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(second.get("/").await.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        app.browser().login("lead@council.example", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        app.browser()
            .login("lead@council.example", "a brand new passphrase")
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
}
