//! The JSON API: tokens, scoping by role, the OpenAPI document, health.

mod common;

use common::{api, api_token, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

#[rocket::async_test]
async fn tokens_are_shown_once_scoped_like_the_web_and_revocable() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let a = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let b = app.organisation(&lead, "Beta Practice", "gp_practice").await;
    let member = app.user(&lead, "m@alpha.example", "org_member", Some(a)).await;

    let lead_token = api_token(&lead, "report script").await;
    let member_token = api_token(&member, "my script").await;
    let (_, account_page) = lead.get_text("/account").await;
    assert!(
        account_page.contains("report script") && !account_page.contains(&lead_token),
        "shown only once"
    );

    let (status, me) = api(&app, &member_token, "/me").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["role"], "org_member");
    assert_eq!(me["organisation_id"], a);

    let (_, all) = api(&app, &lead_token, "/organisations").await;
    assert_eq!(all["total"], 2);
    let (_, own) = api(&app, &member_token, "/organisations").await;
    assert_eq!(own["total"], 1);
    assert_eq!(own["organisations"][0]["name"], "Alpha Housing");
    assert_eq!(
        api(&app, &member_token, &format!("/organisations/{a}")).await.0,
        StatusCode::OK
    );
    let (status, body) = api(&app, &member_token, &format!("/organisations/{b}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(body["error"]["status"], 404);
    assert!(!body.to_string().contains("Beta"));

    let (status, frameworks) = api(&app, &member_token, "/frameworks").await;
    assert_eq!(status, StatusCode::OK);
    assert!(frameworks["frameworks"]
        .as_array()
        .expect("list")
        .iter()
        .any(|f| f["id"] == "daha"));
    let (_, daha) = api(&app, &member_token, "/frameworks/daha/2024.1").await;
    assert_eq!(daha["areas"].as_array().expect("areas").len(), 8);
    assert!(daha["areas"][0]["standards"][0]["criteria"][0]["text"].is_string());

    // Bad, missing and revoked tokens all get 401 JSON.
    assert_eq!(api(&app, "qmt_made_up", "/me").await.0, StatusCode::UNAUTHORIZED);
    let res = reqwest::get(format!("{}/api/v1/me", app.base)).await.expect("GET");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(res.json::<Value>().await.expect("json")["error"]["status"], 401);
    let (_, page) = member.get_text("/account").await;
    let revoke_action = page
        .split("action=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/revoke"))
        .expect("revoke form")
        .to_string();
    let res = member.submit("/account", &revoke_action, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(api(&app, &member_token, "/me").await.0, StatusCode::UNAUTHORIZED);
    // Someone else's token cannot be revoked by guessing its id.
    let res = member.submit("/account", "/account/tokens/1/revoke", &[]).await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(api(&app, &lead_token, "/me").await.0, StatusCode::OK);
}

#[rocket::async_test]
async fn a_deactivated_users_tokens_stop_working() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let token = api_token(&assessor, "script").await;
    assert_eq!(api(&app, &token, "/me").await.0, StatusCode::OK);
    lead.submit("/users/2", "/users/2/active", &[("active", "false")]).await;
    assert_eq!(api(&app, &token, "/me").await.0, StatusCode::UNAUTHORIZED);
}

#[rocket::async_test]
async fn the_openapi_document_describes_every_route() {
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    let paths: Vec<&str> = doc["paths"]
        .as_object()
        .expect("paths")
        .keys()
        .map(String::as_str)
        .collect();
    for path in [
        "/me",
        "/frameworks",
        "/frameworks/{id}/{version}",
        "/organisations",
        "/organisations/{id}",
        "/certificates",
    ] {
        assert!(paths.contains(&path), "{path} missing from {paths:?}");
    }
    // Every $ref points at a schema that exists.
    let text = doc.to_string();
    for reference in text.split("\"$ref\":\"#/components/schemas/").skip(1) {
        let name = reference.split('"').next().expect("name");
        assert!(doc["components"]["schemas"][name].is_object(), "missing schema {name}");
    }
}

#[rocket::async_test]
async fn healthz_names_the_database_state() {
    let app = TestApp::spawn().await;
    let res = reqwest::get(format!("{}/healthz", app.base)).await.expect("GET");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    assert_eq!(body["status"], "ok");
    assert_eq!(body["database"]["state"], "ok");
    let backend = if app.database_url.starts_with("postgres") {
        "postgres"
    } else {
        "sqlite"
    };
    assert_eq!(body["database"]["backend"], backend);
    assert!(body["database"]["migrations"].as_i64().expect("count") >= 1);
}
