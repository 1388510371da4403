//! Hostile values in every form field and query parameter, on the pages and
//! the API: control characters are refused with 422 and a message saying
//! so; huge page numbers, odd-but-harmless text and foreign `next` targets
//! never cause a server error.

mod assessment_support;
mod common;

use assessment_support::{enrol, post_multipart};
use common::{api_token, csrf_in, location, page_text, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;

/// Characters that have no place in any text a person types.
const CONTROL: [&str; 5] = ["nul\0byte", "\u{1}", "esc\u{1b}[2J", "del\u{7f}", "c1\u{85}line"];

/// Harmless however odd: accepted or refused, but never a server error.
const ODD: [&str; 6] = [
    "' OR 1=1 --",
    "%00",
    "<script>alert(1)</script>",
    "a\u{202e}gpj.pdf",
    "🙂 émigré ﷽",
    "{{ 7 * 7 }}",
];

const PAGES: [&str; 6] = [
    "9223372036854775807",
    "-9223372036854775808",
    "99999999999999999999",
    "0",
    "1e9",
    "abc",
];

fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A form: the page it is on, where it posts, and values that would be accepted.
type FormCase = (String, String, Vec<(&'static str, &'static str)>);

/// The forms a signed-in programme lead can send.
fn forms(org: i64, person: i64) -> Vec<FormCase> {
    let organisation = vec![
        ("name", "Hostile Test Org"),
        ("org_type", "voluntary_sector"),
        ("locality", "East Vale"),
        ("address", "1 High Street"),
        ("contact_name", "Jo Bloggs"),
        ("contact_email", "jo@example.org"),
        ("contact_phone", "01234 567890"),
        ("da_lead_name", "Sam Lead"),
        ("da_lead_email", "sam@example.org"),
    ];
    vec![
        (
            "/organisations/new".into(),
            "/organisations".into(),
            organisation.clone(),
        ),
        (
            format!("/organisations/{org}/edit"),
            format!("/organisations/{org}/edit"),
            organisation,
        ),
        (
            format!("/organisations/{org}"),
            format!("/organisations/{org}/aliases"),
            vec![("alias", "Another Name")],
        ),
        (
            format!("/organisations/{org}/people/new"),
            format!("/organisations/{org}/people"),
            vec![
                ("full_name", "Amy Pond"),
                ("email", "amy@example.org"),
                ("job_title", "Nurse"),
            ],
        ),
        (
            format!("/people/{person}/edit"),
            format!("/people/{person}/edit"),
            vec![("full_name", "Rory Williams"), ("email", ""), ("job_title", "Nurse")],
        ),
        (
            "/users/new".into(),
            "/users".into(),
            vec![
                ("name", "New Person"),
                ("email", "new@council.example"),
                ("role", "assessor"),
                ("organisation_id", ""),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        ),
        ("/account".into(), "/account/tokens".into(), vec![("label", "Script")]),
        (
            "/training/sessions/new".into(),
            "/training/sessions".into(),
            vec![
                ("module", "dva-awareness/dva-awareness"),
                ("date", "05/02/2026"),
                ("start_time", "10:00"),
                ("venue", "Civic Centre"),
                ("trainer", "Niamh"),
                ("capacity", "20"),
                ("cohort", ""),
            ],
        ),
    ]
}

fn assert_refused_with_message(what: &str, status: StatusCode, body: &str) {
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{what}: {body}");
    let text = page_text(body) + body;
    assert!(text.contains("control character"), "{what}: no message: {text}");
}

#[rocket::async_test]
async fn control_characters_are_refused_in_every_form_field() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Eastvale Housing", "housing_provider").await;
    let res = lead
        .submit(
            &format!("/organisations/{org}/people/new"),
            &format!("/organisations/{org}/people"),
            &[("full_name", "Rory Williams"), ("email", ""), ("job_title", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("connect");
    let (person,): (i64,) = sqlx::query_as("SELECT id FROM people")
        .fetch_one(&pool)
        .await
        .expect("the person");
    pool.close().await;
    for (page, action, fields) in forms(org, person) {
        for (index, (field, _)) in fields.iter().enumerate() {
            for value in CONTROL {
                let mut hostile = fields.clone();
                hostile[index].1 = value;
                let res = lead.submit(&page, &action, &hostile).await;
                let status = res.status();
                let body = res.text().await.unwrap_or_default();
                assert_refused_with_message(&format!("{action} {field}={value:?}"), status, &body);
            }
            for value in ODD {
                let mut odd = fields.clone();
                odd[index].1 = value;
                let res = lead.submit(&page, &action, &odd).await;
                assert!(
                    !res.status().is_server_error(),
                    "{action} {field}={value:?}: {}",
                    res.status()
                );
            }
        }
    }
    // Nothing hostile was stored: no organisation name holds a NUL.
    let (_, list) = lead.get_text("/organisations").await;
    assert!(!list.contains('\0'));
}

#[rocket::async_test]
async fn control_characters_are_refused_in_evidence_and_log_in() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Eastvale Housing", "housing_provider").await;
    let assessment = enrol(&lead, Some(org), "daha").await;
    let page = format!("/assessments/{assessment}/criteria/1.1.1/evidence/new?kind=statement");
    for field in ["title", "statement"] {
        for value in CONTROL {
            let token = csrf_in(&lead.get_text(&page).await.1).expect("token");
            let mut fields = vec![
                ("kind", "statement"),
                ("title", "Our policy"),
                ("statement", "We train every member of staff."),
                ("applies_from", "2026-01-01"),
                ("valid_until", ""),
            ];
            for entry in fields.iter_mut() {
                if entry.0 == field {
                    entry.1 = value;
                }
            }
            let res = post_multipart(
                &lead,
                &format!("/assessments/{assessment}/criteria/1.1.1/evidence"),
                Some(&token),
                &fields,
                None,
            )
            .await;
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            assert_refused_with_message(&format!("evidence {field}={value:?}"), status, &body);
        }
    }

    let visitor = app.browser();
    for value in CONTROL {
        for (email, password) in [(value, PASSWORD), ("lead@council.example", value)] {
            let res = visitor.login(email, password).await;
            let status = res.status();
            let body = res.text().await.unwrap_or_default();
            assert_refused_with_message(&format!("log-in {email:?}/{password:?}"), status, &body);
        }
    }
}

#[rocket::async_test]
async fn next_goes_only_to_plain_paths_on_this_site() {
    let app = TestApp::spawn().await;
    app.programme_lead().await;
    for next in [
        "https://evil.example/",
        "//evil.example",
        "/café",
        "/a b",
        "/\\evil.example",
        // Browsers drop tabs and line breaks in URLs: this is //evil.example.
        "/\t/evil.example",
        "/a\r\nSet-Cookie: x=1",
    ] {
        let browser = app.browser();
        let token = browser.csrf_token("/login").await;
        let res = browser
            .post(
                "/login",
                &[
                    ("csrf_token", token.as_str()),
                    ("email", "lead@council.example"),
                    ("password", PASSWORD),
                    ("next", next),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{next:?}");
        assert_eq!(location(&res), "/", "{next:?} is ignored");
    }
    let browser = app.browser();
    let token = browser.csrf_token("/login").await;
    let res = browser
        .post(
            "/login",
            &[
                ("csrf_token", token.as_str()),
                ("email", "lead@council.example"),
                ("password", PASSWORD),
                ("next", "/organisations?page=2"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/organisations?page=2", "a real path is kept");
}

/// Every query parameter of the pages and the API.
fn query_parameters(org: i64) -> Vec<(String, &'static str)> {
    let mut all = Vec::new();
    for (path, params) in [
        ("/organisations".to_string(), &["q", "org_type"][..]),
        (format!("/organisations/{org}"), &["q"][..]),
        (
            "/audit".to_string(),
            &["action", "entity", "organisation", "actor", "from", "to"][..],
        ),
        ("/assessments".to_string(), &["state", "framework"][..]),
        ("/assessments/new".to_string(), &["organisation"][..]),
        ("/training/sessions".to_string(), &["programme"][..]),
        ("/training/ambassadors".to_string(), &["organisation"][..]),
        (
            "/certificates".to_string(),
            &["programme", "organisation", "session", "cohort", "format"][..],
        ),
        ("/login".to_string(), &["next"][..]),
        ("/api/v1/organisations".to_string(), &["q"][..]),
        ("/api/v1/assessments".to_string(), &["state", "framework"][..]),
        ("/api/v1/certificates".to_string(), &["programme", "organisation"][..]),
        ("/api/v1/sessions".to_string(), &["programme"][..]),
        (
            "/api/v1/completions".to_string(),
            &["programme", "organisation", "after"][..],
        ),
    ] {
        for param in params {
            all.push((path.clone(), *param));
        }
    }
    all
}

async fn get(browser: &Browser, token: &str, path: &str) -> (StatusCode, String) {
    let res = if path.starts_with("/api/") {
        browser
            .client
            .get(format!("{}{path}", browser.base))
            .bearer_auth(token)
            .send()
            .await
            .expect("GET")
    } else {
        browser.get(path).await
    };
    let status = res.status();
    (status, res.text().await.unwrap_or_default())
}

#[rocket::async_test]
async fn hostile_query_parameters_get_a_clear_refusal_never_a_server_error() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Eastvale Housing", "housing_provider").await;
    let token = api_token(&lead, "hostile").await;
    for (path, param) in query_parameters(org) {
        for value in CONTROL {
            let url = format!("{path}?{param}={}", encode(value));
            let (status, body) = get(&lead, &token, &url).await;
            assert_refused_with_message(&url, status, &body);
        }
        for value in ODD {
            let url = format!("{path}?{param}={}", encode(value));
            let (status, body) = get(&lead, &token, &url).await;
            assert!(!status.is_server_error(), "{url}: {status} {body}");
        }
    }
    for path in [
        "/organisations",
        "/audit",
        "/assessments",
        "/api/v1/organisations",
        "/api/v1/assessments",
    ] {
        for page in PAGES {
            let url = format!("{path}?page={}", encode(page));
            let (status, body) = get(&lead, &token, &url).await;
            assert!(!status.is_server_error(), "{url}: {status} {body}");
        }
    }
}

/// A browser signed in as `email`, with its session cookie for hand-made requests.
async fn signed_in(app: &TestApp, email: &str) -> String {
    let jar = std::sync::Arc::new(reqwest::cookie::Jar::default());
    let browser = Browser {
        base: app.base.clone(),
        client: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    };
    let res = browser.login(email, PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    use reqwest::cookie::CookieStore;
    jar.cookies(&reqwest::Url::parse(&app.base).expect("url"))
        .and_then(|v| v.to_str().ok().map(str::to_string))
        .expect("session cookie")
}

/// Sends the headers of a 25 MiB upload to `path` and the first 4 KiB of
/// its body, never the rest, and returns the status line of the answer,
/// which must come without the rest of the body.
async fn answer_before_the_body(app: &TestApp, cookie: Option<&str>, path: &str) -> String {
    use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
    let address = app.base.trim_start_matches("http://").to_string();
    let mut stream = rocket::tokio::net::TcpStream::connect(&address).await.expect("connect");
    let cookie = cookie.map(|c| format!("Cookie: {c}\r\n")).unwrap_or_default();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {address}\r\n{cookie}\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n",
        25 * 1024 * 1024
    );
    stream.write_all(head.as_bytes()).await.expect("send headers");
    // Rocket looks at the first 512 bytes of every body before routing.
    let start = format!(
        "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n{}",
        "x".repeat(4096)
    );
    stream
        .write_all(start.as_bytes())
        .await
        .expect("send the start of the body");
    let mut answer = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !answer.contains("\r\n") {
        let mut buffer = [0u8; 256];
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let n = rocket::tokio::time::timeout(left, stream.read(&mut buffer))
            .await
            .unwrap_or_else(|_| panic!("{path}: no answer before the body: {answer}"))
            .expect("read");
        assert!(n > 0, "{path}: closed without an answer: {answer}");
        answer.push_str(&String::from_utf8_lossy(&buffer[..n]));
    }
    answer.lines().next().unwrap_or_default().to_string()
}

/// A role that may not upload (evidence, or a sign-in sheet) is refused as
/// soon as the request's headers (and the few bytes Rocket peeks at)
/// arrive: the server answers without waiting for the 25 MiB body, and
/// nothing of it reaches the upload folder. Nobody signed in is sent to
/// the log-in page just as early.
#[rocket::async_test]
async fn an_upload_from_a_role_without_the_right_is_refused_before_its_body() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Eastvale Housing", "housing_provider").await;
    let assessment = enrol(&lead, Some(org), "daha").await;
    app.user(&lead, "trainer@council.example", "training_lead", None).await;
    app.user(&lead, "member@eastvale.example", "org_member", Some(org))
        .await;
    app.user(&lead, "assessor@council.example", "assessor", None).await;
    let evidence = format!("/assessments/{assessment}/criteria/1.1.1/evidence");
    let cases = [
        ("trainer@council.example", evidence.as_str(), "HTTP/1.1 403 Forbidden"),
        ("assessor@council.example", evidence.as_str(), "HTTP/1.1 403 Forbidden"),
        ("member@eastvale.example", "/training/imports", "HTTP/1.1 403 Forbidden"),
        (
            "assessor@council.example",
            "/training/imports",
            "HTTP/1.1 403 Forbidden",
        ),
        ("", evidence.as_str(), "HTTP/1.1 303 See Other"),
        ("", "/training/imports", "HTTP/1.1 303 See Other"),
    ];
    for (email, path, want) in cases {
        let cookie = match email {
            "" => None,
            email => Some(signed_in(&app, email).await),
        };
        let status = answer_before_the_body(&app, cookie.as_deref(), path).await;
        assert_eq!(status, want, "{email} posting to {path}");
    }
    let received: Vec<_> = std::fs::read_dir(app.data_dir.join("tmp"))
        .expect("upload folder")
        .flatten()
        .flat_map(|process| std::fs::read_dir(process.path()).into_iter().flatten().flatten())
        .map(|f| f.file_name().to_string_lossy().into_owned())
        .filter(|name| name != "lock")
        .collect();
    assert_eq!(
        received,
        Vec::<String>::new(),
        "nothing of the refused bodies was written"
    );
}
