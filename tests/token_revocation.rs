//! API tokens follow the account's security: changing your password offers
//! to revoke your tokens, and deactivating a user revokes theirs for good
//! (reactivating the account does not bring them back).

mod common;

use common::{api, api_token, TestApp, PASSWORD};
use reqwest::StatusCode;

async fn change_password(browser: &common::Browser, from: &str, to: &str, revoke_tokens: bool) {
    let mut fields = vec![("current_password", from), ("password", to), ("password_confirm", to)];
    if revoke_tokens {
        fields.push(("revoke_tokens", "true"));
    }
    let res = browser.submit("/account", "/account/password", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[rocket::async_test]
async fn a_password_change_revokes_tokens_when_asked() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let (_, page) = lead.get_text("/account").await;
    assert!(
        page.contains("name=\"revoke_tokens\""),
        "the password form offers revoking tokens"
    );
    let kept = api_token(&lead, "kept").await;
    change_password(&lead, PASSWORD, "a first new passphrase", false).await;
    assert_eq!(
        api(&app, &kept, "/me").await.0,
        StatusCode::OK,
        "not asked: tokens stay"
    );

    let lead = app.browser();
    let res = lead.login("lead@council.example", "a first new passphrase").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let another = api_token(&lead, "another").await;
    change_password(&lead, "a first new passphrase", "a second new passphrase", true).await;
    for token in [&kept, &another] {
        assert_eq!(api(&app, token, "/me").await.0, StatusCode::UNAUTHORIZED);
    }
}

#[rocket::async_test]
async fn deactivation_revokes_tokens_for_good() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let token = api_token(&assessor, "script").await;
    assert_eq!(api(&app, &token, "/me").await.0, StatusCode::OK);
    let res = lead.submit("/users/2", "/users/2/active", &[("active", "false")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = lead.submit("/users/2", "/users/2/active", &[("active", "true")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        api(&app, &token, "/me").await.0,
        StatusCode::UNAUTHORIZED,
        "a token from before the deactivation stays revoked"
    );
}
