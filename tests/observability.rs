//! Watching the service: `/metrics` for a scraper holding the token, a
//! request id on every response that the error page shows, and JSON log
//! lines from the real binary that carry the same id.

mod common;

use common::{fresh_database, page_text, Options, ServerProcess, TestApp};
use reqwest::StatusCode;
use std::time::{Duration, Instant};

const TOKEN: &str = "scrape-me-6f1d2c";

async fn app_with_metrics() -> TestApp {
    TestApp::spawn_with(Options {
        // No reminder scan in the background: the test queues them.
        settings: vec![
            ("metrics_token", TOKEN.to_string()),
            ("reminders_every_seconds", "0".to_string()),
        ],
        ..Options::default()
    })
    .await
}

async fn scrape(app: &TestApp) -> String {
    let res = reqwest::Client::new()
        .get(format!("{}/metrics", app.base))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET /metrics");
    assert_eq!(res.status(), StatusCode::OK);
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    assert!(content_type.contains("version=0.0.4"), "{content_type}");
    res.text().await.expect("body")
}

/// The value of the sample written exactly as `series` (name and labels),
/// or None when the page has no such line.
fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' '))
        .map(|value| value.parse().expect("a number"))
}

fn request_id(res: &reqwest::Response) -> String {
    res.headers()
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .expect("an X-Request-Id header")
        .to_string()
}

#[rocket::async_test]
async fn metrics_are_not_served_without_a_configured_token() {
    let app = TestApp::spawn().await;
    let client = reqwest::Client::new();
    for token in ["", "anything"] {
        let res = client
            .get(format!("{}/metrics", app.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET");
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
}

#[rocket::async_test]
async fn metrics_refuse_a_missing_or_wrong_token() {
    let app = app_with_metrics().await;
    let client = reqwest::Client::new();
    let url = format!("{}/metrics", app.base);
    let missing = client.get(&url).send().await.expect("GET");
    assert_eq!(missing.status(), StatusCode::UNAUTHORIZED);
    assert!(missing.headers().contains_key("www-authenticate"));
    for wrong in ["scrape-me", "scrape-me-6f1d2c0", "SCRAPE-ME-6F1D2C", ""] {
        let res = client.get(&url).bearer_auth(wrong).send().await.expect("GET");
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "token {wrong:?}");
        let body = res.text().await.expect("body");
        assert!(!body.contains("qmtrack_http_requests_total"), "{body}");
    }
    // The token as a password or a cookie is not the token as a bearer.
    let res = client
        .get(&url)
        .basic_auth("metrics", Some(TOKEN))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    assert!(scrape(&app).await.contains("qmtrack_http_requests_total"));
}

#[rocket::async_test]
async fn requests_are_counted_by_route_pattern() {
    let app = app_with_metrics().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Riverside Refuge", "voluntary_sector").await;
    let series = r#"qmtrack_http_requests_total{route="/organisations/<id>",method="GET",status="2xx"}"#;
    let timed = r#"qmtrack_http_request_duration_seconds_count{route="/organisations/<id>"}"#;
    let not_found = r#"qmtrack_http_requests_total{route="unmatched",method="GET",status="4xx"}"#;

    let before = scrape(&app).await;
    for query in ["", "?q=Jane+Doe", ""] {
        let res = lead.get(&format!("/organisations/{org}{query}")).await;
        assert_eq!(res.status(), StatusCode::OK);
    }
    let res = lead.get("/no-such-page/Jane-Doe").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let after = scrape(&app).await;

    let counted = |page: &str, series: &str| sample(page, series).unwrap_or(0.0);
    assert_eq!(counted(&after, series) - counted(&before, series), 3.0, "{after}");
    assert_eq!(counted(&after, timed) - counted(&before, timed), 3.0, "{after}");
    assert_eq!(counted(&after, not_found) - counted(&before, not_found), 1.0, "{after}");
    let inf = r#"qmtrack_http_request_duration_seconds_bucket{route="/organisations/<id>",le="+Inf"}"#;
    assert_eq!(sample(&after, inf), sample(&after, timed));
    // The first scrape is counted by the second.
    assert_eq!(
        sample(
            &after,
            r#"qmtrack_http_requests_total{route="/metrics",method="GET",status="2xx"}"#
        ),
        Some(1.0)
    );
    // Labels name routes, never what was asked for.
    assert!(!after.contains(&format!("/organisations/{org}\"")), "{after}");
    assert!(!after.contains("Jane"), "{after}");
    assert!(!after.contains('?'), "{after}");

    assert_eq!(sample(&after, "qmtrack_imports_running"), Some(0.0), "{after}");
    assert_eq!(sample(&after, "qmtrack_outbox_depth"), Some(0.0), "{after}");
    assert_eq!(sample(&after, "qmtrack_database_up"), Some(1.0), "{after}");
    let pools: &[&str] = if app.database_url.starts_with("postgres") {
        &["main", "quick"]
    } else {
        &["readers", "writer", "quick"]
    };
    for pool in pools {
        let size = sample(&after, &format!(r#"qmtrack_db_pool_connections{{pool="{pool}"}}"#)).expect("pool size");
        let idle = sample(&after, &format!(r#"qmtrack_db_pool_idle{{pool="{pool}"}}"#)).expect("idle");
        let in_use = sample(&after, &format!(r#"qmtrack_db_pool_in_use{{pool="{pool}"}}"#)).expect("in use");
        let max = sample(&after, &format!(r#"qmtrack_db_pool_max{{pool="{pool}"}}"#)).expect("max");
        assert_eq!(size, idle + in_use, "{after}");
        assert!(size <= max && max >= 1.0, "{after}");
    }
    // The readers' pool was used by the pages above.
    let readers = if pools.len() == 2 { "main" } else { "readers" };
    assert!(sample(&after, &format!(r#"qmtrack_db_pool_connections{{pool="{readers}"}}"#)) >= Some(1.0));
    // Each page's session was read on the quick lane.
    assert!(sample(&after, r#"qmtrack_db_pool_connections{pool="quick"}"#) >= Some(1.0));

    // No mail server: the lead's weekly digest waits in the outbox.
    let res = lead.submit("/outbox", "/outbox/scan", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let page = scrape(&app).await;
    assert_eq!(sample(&page, "qmtrack_outbox_depth"), Some(1.0), "{page}");
}

#[rocket::async_test]
async fn the_error_page_shows_the_request_id() {
    let app = TestApp::spawn().await;
    let browser = app.browser();
    let res = browser.get("/no-such-page").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let id = request_id(&res);
    assert!(id.len() >= 12, "{id}");
    let text = page_text(&res.text().await.expect("body"));
    assert!(text.contains(&format!("Reference: {id}")), "{text}");

    // Each request has its own, and an id the client makes up is not
    // taken unless configured.
    let res = browser
        .client
        .get(format!("{}/no-such-page", app.base))
        .header("X-Request-Id", "chosen-by-client")
        .send()
        .await
        .expect("GET");
    let other = request_id(&res);
    assert_ne!(other, id);
    assert_ne!(other, "chosen-by-client");
    assert!(page_text(&res.text().await.expect("body")).contains(&format!("Reference: {other}")));

    // Successful responses carry one too.
    let res = browser.get("/healthz").await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!request_id(&res).is_empty());
}

#[rocket::async_test]
async fn a_trusted_proxy_id_is_used_when_it_is_a_plain_id() {
    let app = TestApp::spawn_with(Options {
        settings: vec![("trust_request_id_header", "true".to_string())],
        ..Options::default()
    })
    .await;
    let client = reqwest::Client::new();
    let url = format!("{}/no-such-page", app.base);
    let res = client
        .get(&url)
        .header("X-Request-Id", "lb-7f3a.9")
        .send()
        .await
        .expect("GET");
    assert_eq!(request_id(&res), "lb-7f3a.9");
    assert!(page_text(&res.text().await.expect("body")).contains("Reference: lb-7f3a.9"));
    for unsafe_id in ["<b>x</b>", "a b", &"x".repeat(65)] {
        let res = client
            .get(&url)
            .header("X-Request-Id", unsafe_id)
            .send()
            .await
            .expect("GET");
        let id = request_id(&res);
        assert_ne!(id, unsafe_id);
        assert!(
            id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_'),
            "{id}"
        );
    }
}

#[rocket::async_test]
async fn json_logs_are_one_object_per_line_with_the_request_id() {
    let dir = tempfile::tempdir().expect("dir");
    let database = fresh_database(dir.path()).await;
    let log_path = dir.path().join("qmtrack.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = ServerProcess::start(|command| {
        command
            .env("QMTRACK_DATA_DIR", dir.path().join("data"))
            .env("QMTRACK_DATABASE_URL", &database.url)
            .env("QMTRACK_LOG_FORMAT", "json")
            // The default filter, given as an operator would: Rocket must
            // not take it for its own deprecated `log` setting and warn.
            .env("QMTRACK_LOG", "info,rocket::server=warn,rocket::server::_=off")
            .env("ROCKET_CLI_COLORS", "false")
            .stderr(log);
    })
    .await;
    let base = &server.base;

    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let res = client
        .get(format!("{base}/organisations/12345?q=Jane+Doe"))
        .send()
        .await
        .expect("GET");
    // Not signed in (nobody is yet): sent elsewhere.
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = client
        .get(format!("{base}/no-such-page?q=Jane+Doe"))
        .header("Cookie", "qm_session=secret-cookie-value")
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let id = request_id(&res);

    // The line is written before the response is sent; wait for the
    // file's writes all the same.
    let deadline = Instant::now() + Duration::from_secs(10);
    let (lines, ours) = loop {
        let text = std::fs::read_to_string(&log_path).expect("log");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}")))
            .collect();
        let ours = lines.iter().find(|line| line["request_id"] == id.as_str()).cloned();
        if let Some(ours) = ours {
            break (lines, ours);
        }
        assert!(Instant::now() < deadline, "no log line has request id {id}:\n{text}");
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(ours["method"], "GET", "{ours}");
    assert_eq!(ours["route"], "unmatched", "{ours}");
    assert_eq!(ours["status"], 404, "{ours}");
    assert!(ours["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0), "{ours}");
    assert!(ours["timestamp"].is_string() && ours["level"] == "INFO", "{ours}");
    // One line for the request, and nothing it was asked with.
    assert_eq!(
        lines
            .iter()
            .filter(|line| line.to_string().contains(id.as_str()))
            .count(),
        1
    );
    let all = lines.iter().map(|line| line.to_string()).collect::<Vec<_>>().join("\n");
    assert!(!all.contains("Jane"), "{all}");
    assert!(!all.contains("secret-cookie-value"), "{all}");
    assert!(!all.contains("deprecated"), "{all}");
    let organisation = lines
        .iter()
        .find(|line| line["route"] == "/organisations/<id>")
        .unwrap_or_else(|| panic!("no line for the organisation page:\n{all}"));
    assert!(!organisation.to_string().contains("12345"), "{organisation}");
    // Rocket's own start-up lines came through as JSON too.
    assert!(lines.len() > 2, "{all}");
}
