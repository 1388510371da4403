//! The API does what its OpenAPI document says. On the demo data, every
//! documented operation is called, as each role, with good and bad input;
//! each real response's status must be documented for that operation, its
//! content type must be the documented one, and its body must validate
//! against the documented schema (with `jsonschema`, formats asserted).
//! Every response the document lists must have been seen at least once, and
//! every route mounted under `/api/v1` must be documented.

mod common;

use common::{qmtrack, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use std::collections::BTreeSet;

const LEAD: &str = "alex.morgan@northbridge.example.org";
const TRAINING_LEAD: &str = "niamh.byrne@safehaven.example.org";
const MEMBER: &str = "siobhan.nibhriain@northbridgehomes.example.org";

struct Contract {
    base: String,
    doc: Value,
    client: reqwest::Client,
    /// (path template, status) pairs a response has been checked against.
    seen: BTreeSet<(String, String)>,
}

impl Contract {
    /// Calls `GET /api/v1{target}` (with `token` as bearer, if any) and checks
    /// the response against the document. Returns its status and body.
    async fn call(&mut self, token: Option<&str>, target: &str) -> (StatusCode, Value) {
        let path = target.split('?').next().expect("path");
        let template = qmtrack::api::openapi::template_for(path).unwrap_or_else(|| panic!("{path} is not documented"));
        let mut request = self.client.get(format!("{}/api/v1{target}", self.base));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let res = request.send().await.expect("GET");
        let status = res.status();
        let content_type = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        let text = res.text().await.expect("body");
        let documented = &self.doc["paths"][&template]["get"]["responses"][status.as_str()];
        assert!(
            documented.is_object(),
            "GET {target}: {status} is not documented for {template}: {text}"
        );
        let media = documented["content"]
            .as_object()
            .and_then(|c| c.keys().next().cloned())
            .unwrap_or_else(|| panic!("{template} {status} documents no content"));
        assert!(
            content_type.starts_with(&media),
            "GET {target}: content type {content_type:?}, documented {media}"
        );
        let body: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("GET {target}: not JSON ({e}): {text}"));
        let schema = &documented["content"][&media]["schema"];
        self.check(schema, &body, &format!("GET {target} ({status})"));
        self.seen.insert((template, status.as_str().to_string()));
        (status, body)
    }

    /// Validates `body` against `schema`, whose `$ref`s point into the document's components.
    fn check(&self, schema: &Value, body: &Value, what: &str) {
        let wrapper = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.doc["components"],
            "allOf": [schema],
        });
        let validator = jsonschema::options()
            .should_validate_formats(true)
            .build(&wrapper)
            .unwrap_or_else(|e| panic!("{what}: the documented schema does not compile: {e}"));
        let errors: Vec<String> = validator
            .iter_errors(body)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        assert!(
            errors.is_empty(),
            "{what}: the body does not match the document:\n{}",
            errors.join("\n")
        );
    }
}

fn token_for(app: &TestApp, email: &str) -> String {
    let out = qmtrack(app, &["token", "create", "--email", email, "--label", "contract"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn ids(list: &Value, key: &str) -> Vec<i64> {
    list[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} is a list"))
        .iter()
        .map(|item| item["id"].as_i64().expect("id"))
        .collect()
}

#[rocket::async_test]
async fn every_documented_response_is_the_real_one() {
    let app = TestApp::spawn().await;
    let demo = qmtrack(&app, &["demo"]);
    assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
    // The demo dates things from today; the app's clock must agree.
    let behind = chrono::Utc::now() - app.clock.now();
    if behind > chrono::Duration::zero() {
        app.clock.advance(behind);
    }
    let lead = token_for(&app, LEAD);
    let training_lead = token_for(&app, TRAINING_LEAD);
    let member = token_for(&app, MEMBER);

    let client = reqwest::Client::new();
    let doc: Value = client
        .get(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let mut api = Contract {
        base: app.base.clone(),
        doc,
        client,
        seen: BTreeSet::new(),
    };

    // The document is itself an operation, open to all.
    assert_eq!(api.call(None, "/openapi.json").await.0, StatusCode::OK);

    // Every operation but the document refuses a missing or unknown token.
    for target in [
        "/me",
        "/frameworks",
        "/frameworks/daha/2024.1",
        "/organisations",
        "/organisations/1",
        "/programmes",
        "/sessions",
        "/sessions/1",
        "/completions?programme=ambassadors",
        "/certificates",
        "/assessments",
        "/assessments/1",
    ] {
        assert_eq!(api.call(None, target).await.0, StatusCode::UNAUTHORIZED, "{target}");
        assert_eq!(api.call(Some("qmt_made_up"), target).await.0, StatusCode::UNAUTHORIZED);
    }

    for token in [&lead, &training_lead, &member] {
        let (status, me) = api.call(Some(token), "/me").await;
        assert_eq!(status, StatusCode::OK);
        assert!(me["email"].is_string());
    }

    // Standards: every framework version, each in full.
    let (_, frameworks) = api.call(Some(&member), "/frameworks").await;
    let versions: Vec<(String, String)> = frameworks["frameworks"]
        .as_array()
        .expect("frameworks")
        .iter()
        .map(|f| {
            (
                f["id"].as_str().expect("id").to_string(),
                f["version"].as_str().expect("v").to_string(),
            )
        })
        .collect();
    assert!(!versions.is_empty());
    for (id, version) in &versions {
        assert_eq!(
            api.call(Some(&member), &format!("/frameworks/{id}/{version}")).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        api.call(Some(&member), "/frameworks/daha/0.0").await.0,
        StatusCode::NOT_FOUND
    );

    // Organisations, as the lead (all) and a member (their own only).
    let (_, organisations) = api.call(Some(&lead), "/organisations").await;
    let organisation_ids = ids(&organisations, "organisations");
    assert!(organisation_ids.len() >= 12, "{organisations}");
    for id in &organisation_ids {
        assert_eq!(
            api.call(Some(&lead), &format!("/organisations/{id}")).await.0,
            StatusCode::OK
        );
    }
    let (_, own) = api.call(Some(&member), "/organisations?q=a&page=1").await;
    let own_id = ids(&own, "organisations")[0];
    let other = organisation_ids.iter().find(|id| **id != own_id).expect("another");
    assert_eq!(
        api.call(Some(&member), &format!("/organisations/{other}")).await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.call(Some(&lead), "/organisations/0").await.0, StatusCode::NOT_FOUND);
    assert_eq!(api.call(Some(&lead), "/organisations?page=2").await.0, StatusCode::OK);

    // Training: programmes, sessions with registers, completions.
    let (_, programmes) = api.call(Some(&member), "/programmes").await;
    let programme_ids: Vec<String> = programmes["programmes"]
        .as_array()
        .expect("programmes")
        .iter()
        .map(|p| p["id"].as_str().expect("id").to_string())
        .collect();
    let (_, sessions) = api.call(Some(&training_lead), "/sessions").await;
    let session_ids = ids(&sessions, "sessions");
    assert!(!session_ids.is_empty(), "the demo has sessions");
    for id in &session_ids {
        assert_eq!(
            api.call(Some(&training_lead), &format!("/sessions/{id}")).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        api.call(Some(&lead), "/sessions?programme=ambassadors").await.0,
        StatusCode::OK
    );
    assert_eq!(api.call(Some(&lead), "/sessions/0").await.0, StatusCode::NOT_FOUND);
    // Evaluation results: the demo's sessions have answers.
    let mut answered = 0;
    for id in &session_ids {
        let (status, results) = api
            .call(Some(&training_lead), &format!("/sessions/{id}/evaluation"))
            .await;
        assert_eq!(status, StatusCode::OK);
        answered += results["responses"].as_i64().expect("responses");
    }
    assert!(answered > 0, "the demo's sessions have evaluation answers");
    let evaluation = format!("/sessions/{}/evaluation", session_ids[0]);
    assert_eq!(api.call(None, &evaluation).await.0, StatusCode::UNAUTHORIZED);
    assert_eq!(api.call(Some(&member), &evaluation).await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        api.call(Some(&lead), "/sessions/0/evaluation").await.0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api.call(Some(&member), "/sessions").await.0, StatusCode::FORBIDDEN);
    assert_eq!(
        api.call(Some(&member), &format!("/sessions/{}", session_ids[0]))
            .await
            .0,
        StatusCode::FORBIDDEN
    );
    let mut people = 0;
    for programme in &programme_ids {
        let (status, completions) = api
            .call(Some(&lead), &format!("/completions?programme={programme}"))
            .await;
        assert_eq!(status, StatusCode::OK);
        people += completions["people"].as_array().map_or(0, Vec::len);
        let mine = format!("/completions?programme={programme}&organisation={own_id}");
        assert_eq!(api.call(Some(&member), &mine).await.0, StatusCode::OK);
    }
    assert!(people > 0, "the demo has people in training");
    assert_eq!(
        api.call(Some(&lead), "/completions?programme=no-such").await.0,
        StatusCode::NOT_FOUND
    );
    let others = format!("/completions?programme={}&organisation={other}", programme_ids[0]);
    assert_eq!(api.call(Some(&member), &others).await.0, StatusCode::NOT_FOUND);

    // Certificates: training and award, in every state the demo has.
    let (_, certificates) = api.call(Some(&lead), "/certificates").await;
    let kinds: BTreeSet<&str> = certificates["certificates"]
        .as_array()
        .expect("certificates")
        .iter()
        .filter_map(|c| c["kind"].as_str())
        .collect();
    assert!(kinds.contains("training") && kinds.contains("award"), "{kinds:?}");
    let filtered = format!("/certificates?programme={}&organisation={own_id}", programme_ids[0]);
    assert_eq!(api.call(Some(&lead), &filtered).await.0, StatusCode::OK);
    assert_eq!(api.call(Some(&member), "/certificates").await.0, StatusCode::OK);

    // Assessments at every stage, each in full.
    let (_, assessments) = api.call(Some(&lead), "/assessments").await;
    let assessment_ids = ids(&assessments, "assessments");
    assert!(assessment_ids.len() >= 10, "{assessments}");
    for id in &assessment_ids {
        assert_eq!(
            api.call(Some(&lead), &format!("/assessments/{id}")).await.0,
            StatusCode::OK
        );
    }
    assert_eq!(
        api.call(Some(&lead), "/assessments?state=awarded&framework=daha&page=1")
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(api.call(Some(&member), "/assessments").await.0, StatusCode::OK);
    assert_eq!(api.call(Some(&lead), "/assessments/0").await.0, StatusCode::NOT_FOUND);
    assert_eq!(
        api.call(Some(&training_lead), "/assessments").await.0,
        StatusCode::FORBIDDEN
    );
    let one = format!("/assessments/{}", assessment_ids[0]);
    assert_eq!(api.call(Some(&training_lead), &one).await.0, StatusCode::FORBIDDEN);
    for unknown_state in ["/assessments?state=bogus", "/assessments?state="] {
        assert_eq!(api.call(Some(&lead), unknown_state).await.0, StatusCode::BAD_REQUEST);
    }

    // Parameters not of their documented type are refused, never ignored.
    for target in [
        "/organisations?page=0",
        "/organisations?page=null",
        "/organisations?page=",
        "/organisations?page=1000001",
        "/organisations?q=%01",
        "/organisations/abc",
        "/organisations/9223372036854775808",
        "/sessions?programme=a%1Fb",
        "/sessions/1.5",
        "/sessions/x/evaluation",
        "/completions",
        "/completions?programme=ambassadors&organisation=null",
        "/certificates?organisation=x",
        "/certificates?programme=%7F",
        "/assessments?page=-1",
        "/assessments?framework=%C2%85",
        "/assessments/null",
    ] {
        assert_eq!(
            api.call(Some(&lead), target).await.0,
            StatusCode::UNPROCESSABLE_ENTITY,
            "{target}"
        );
    }

    // Every response the document lists has been seen and checked.
    let mut unexercised = Vec::new();
    for (template, item) in api.doc["paths"].as_object().expect("paths") {
        for status in item["get"]["responses"].as_object().expect("responses").keys() {
            if !api.seen.contains(&(template.clone(), status.clone())) {
                unexercised.push(format!("{template} {status}"));
            }
        }
    }
    assert!(unexercised.is_empty(), "documented but never checked: {unexercised:?}");
}

#[rocket::async_test]
async fn every_api_route_is_documented() {
    let app = TestApp::spawn().await;
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let documented: BTreeSet<String> = doc["paths"].as_object().expect("paths").keys().cloned().collect();
    let mut operations = BTreeSet::new();
    for route in qmtrack::api::routes() {
        let path = route.uri.path().to_string();
        if route.method != rocket::http::Method::Get {
            // The catch-alls that answer other methods with 405.
            assert_eq!(path, "/<_..>", "{} {path} is an operation", route.method);
            continue;
        }
        let template: String = path
            .split('/')
            .map(
                |segment| match segment.strip_prefix('<').and_then(|s| s.strip_suffix('>')) {
                    Some(name) => format!("{{{name}}}"),
                    None => segment.to_string(),
                },
            )
            .collect::<Vec<_>>()
            .join("/");
        operations.insert(template);
    }
    assert_eq!(operations, documented, "the API's GET routes and the documented paths");
    for (template, item) in doc["paths"].as_object().expect("paths") {
        let methods: Vec<&String> = item.as_object().expect("item").keys().collect();
        assert_eq!(methods, ["get"], "{template}");
    }
}

#[rocket::async_test]
async fn other_methods_on_api_paths_are_not_allowed() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    let query = Method::from_bytes(b"QUERY").expect("method");
    for (method, path) in [
        (Method::POST, "/me"),
        (Method::DELETE, "/organisations/1"),
        (Method::PUT, "/frameworks/daha/2024.1"),
        (Method::PATCH, "/assessments"),
        (Method::TRACE, "/sessions"),
        (query, "/certificates"),
    ] {
        let res = client
            .request(method.clone(), format!("{}/api/v1{path}", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::METHOD_NOT_ALLOWED, "{method} {path}");
        assert_eq!(res.headers()["allow"], "GET, HEAD", "{method} {path}");
        let body: Value = res.json().await.expect("json");
        assert_eq!(body["error"]["status"], 405);
    }
    // A path the API does not have stays 404, whatever the method.
    for method in [Method::GET, Method::POST] {
        let res = client
            .request(method.clone(), format!("{}/api/v1/no-such-thing", app.base))
            .send()
            .await
            .expect("request");
        assert_eq!(res.status(), StatusCode::NOT_FOUND, "{method}");
    }
    // HEAD comes with GET.
    let res = client
        .head(format!("{}/api/v1/openapi.json", app.base))
        .send()
        .await
        .expect("HEAD");
    assert_eq!(res.status(), StatusCode::OK);
}
