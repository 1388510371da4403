//! Set-up, signing in and out, sessions, CSRF and lock-out.

mod common;

use chrono::Duration;
use common::{error_summary, h1, location, Options, TestApp, PASSWORD};
use reqwest::StatusCode;

#[rocket::async_test]
async fn a_new_installation_sends_the_first_visitor_to_set_up_then_the_page_is_gone() {
    let app = TestApp::spawn().await;
    let visitor = app.browser();
    let res = visitor.get("/").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/login");
    let res = visitor.get("/login").await;
    assert_eq!(location(&res), "/setup");
    let (status, body) = visitor.get_text("/setup").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h1(&body), "Set up qmtrack");

    // Mistakes are shown next to their fields and nothing is created.
    let res = visitor
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", ""),
                ("email", "nope"),
                ("password", "short"),
                ("password_confirm", "short"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    assert_eq!(
        error_summary(&body),
        [
            "Enter their full name",
            "Enter an email address in the correct format, like name@example.org",
            "Password must be at least 12 characters"
        ]
    );

    let lead = app.programme_lead().await;
    let (status, body) = lead.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Welcome, Alex Morgan"), "{body}");
    assert!(body.contains("Programme lead"));

    // Once a programme lead exists, set-up is gone for everyone.
    assert_eq!(app.browser().get("/setup").await.status(), StatusCode::NOT_FOUND);
    let res = app
        .browser()
        .submit(
            "/login",
            "/setup",
            &[
                ("name", "Intruder"),
                ("email", "x@example.org"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.browser().login("x@example.org", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
}

#[rocket::async_test]
async fn signing_in_and_out() {
    let app = TestApp::spawn().await;
    app.programme_lead().await;
    let browser = app.browser();

    let res = browser.login("lead@council.example", "wrong password here").await;
    assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    let body = res.text().await.expect("body");
    assert_eq!(
        error_summary(&body),
        ["The email address or password is not right. Check them and try again."]
    );

    // Email is matched without regard to case or spaces; the page asked for is where you land.
    let token = browser.csrf_token("/login?next=/frameworks").await;
    let res = browser
        .post(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "  LEAD@Council.Example "),
                ("password", PASSWORD),
                ("next", "/frameworks"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), "/frameworks");
    assert_eq!(browser.get("/organisations").await.status(), StatusCode::OK);

    // Off-site "next" targets are ignored.
    let other = app.browser();
    let token = other.csrf_token("/login").await;
    let res = other
        .post(
            "/login",
            &[
                ("csrf_token", &token),
                ("email", "lead@council.example"),
                ("password", PASSWORD),
                ("next", "//evil.example/"),
            ],
        )
        .await;
    assert_eq!(location(&res), "/");

    let token = browser.csrf_token("/").await;
    let res = browser.post("/logout", &[("csrf_token", &token)]).await;
    assert_eq!(location(&res), "/login");
    assert_eq!(browser.get("/organisations").await.status(), StatusCode::SEE_OTHER);
}

#[rocket::async_test]
async fn a_signed_out_session_cookie_does_not_work_again() {
    let app = TestApp::spawn().await;
    app.programme_lead().await;
    // A client without a cookie jar, so the cookie can be replayed after log-out.
    let raw = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("client");
    let page = raw.get(format!("{}/login", app.base)).send().await.expect("GET");
    let csrf_cookie = cookie_named(&page, "qmtrack_csrf");
    let token = common::csrf_in(&page.text().await.expect("body")).expect("token");
    let res = raw
        .post(format!("{}/login", app.base))
        .header("Cookie", &csrf_cookie)
        .form(&[
            ("csrf_token", token.as_str()),
            ("email", "lead@council.example"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("POST");
    let session = cookie_named(&res, "qmtrack_session");
    let get = |path: &str| raw.get(format!("{}{path}", app.base)).header("Cookie", &session).send();
    let home = get("/").await.expect("GET");
    assert_eq!(home.status(), StatusCode::OK);
    let token = common::csrf_in(&home.text().await.expect("body")).expect("token");
    let res = raw
        .post(format!("{}/logout", app.base))
        .header("Cookie", &session)
        .form(&[("csrf_token", token.as_str())])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(
        get("/organisations").await.expect("GET").status(),
        StatusCode::SEE_OTHER
    );
}

fn cookie_named(res: &reqwest::Response, name: &str) -> String {
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_string())
        .unwrap_or_else(|| panic!("no {name} cookie"))
}

#[rocket::async_test]
async fn the_session_cookie_is_http_only_and_same_site() {
    let app = TestApp::spawn().await;
    app.programme_lead().await;
    let browser = app.browser();
    let res = browser.login("lead@council.example", PASSWORD).await;
    let cookie = res
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|c| c.starts_with("qmtrack_session="))
        .expect("session cookie")
        .to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    assert!(cookie.contains("SameSite=Lax"), "{cookie}");
}

#[rocket::async_test]
async fn an_idle_session_expires_and_so_does_an_old_one() {
    let app = TestApp::spawn_with(Options {
        session_absolute_hours: 1,
        ..Options::default()
    })
    .await;
    let lead = app.programme_lead().await;
    app.clock.advance(Duration::minutes(29));
    assert_eq!(lead.get("/organisations").await.status(), StatusCode::OK);
    app.clock.advance(Duration::minutes(31));
    let res = lead.get("/organisations").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "idle for 31 minutes: signed out");
    assert_eq!(location(&res), "/login?next=%2Forganisations");

    // Kept busy, a session still ends at its absolute limit (one hour here).
    let browser = app.browser();
    browser.login("lead@council.example", PASSWORD).await;
    for _ in 0..2 {
        app.clock.advance(Duration::minutes(25));
        assert_eq!(browser.get("/organisations").await.status(), StatusCode::OK);
    }
    app.clock.advance(Duration::minutes(25));
    assert_eq!(browser.get("/organisations").await.status(), StatusCode::SEE_OTHER);
}

#[rocket::async_test]
async fn forms_without_the_right_csrf_token_are_refused_and_change_nothing() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let fields = [
        ("name", "Forged Org"),
        ("org_type", "employer"),
        ("locality", ""),
        ("address", ""),
        ("contact_name", ""),
        ("contact_email", ""),
        ("contact_phone", ""),
        ("da_lead_name", ""),
        ("da_lead_email", ""),
    ];

    let res = lead.post("/organisations", &fields).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(res.text().await.expect("body").contains("did not come from this site"));

    let mut wrong = vec![("csrf_token", "not-the-token")];
    wrong.extend_from_slice(&fields);
    assert_eq!(
        lead.post("/organisations", &wrong).await.status(),
        StatusCode::FORBIDDEN
    );

    // Another user's token is no good either.
    let other = app.user(&lead, "assessor@council.example", "assessor", None).await;
    let other_token = other.csrf_token("/").await;
    let mut theirs = vec![("csrf_token", other_token.as_str())];
    theirs.extend_from_slice(&fields);
    assert_eq!(
        lead.post("/organisations", &theirs).await.status(),
        StatusCode::FORBIDDEN
    );

    let (_, body) = lead.get_text("/organisations?q=Forged").await;
    assert!(body.contains("0 organisations"), "nothing was created");

    // Log-in and log-out are protected too.
    let res = app
        .browser()
        .post("/login", &[("email", "lead@council.example"), ("password", PASSWORD)])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert_eq!(lead.post("/logout", &[]).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(
        lead.get("/organisations").await.status(),
        StatusCode::OK,
        "still signed in"
    );
}

#[rocket::async_test]
async fn repeated_failures_lock_the_account_for_a_while() {
    let app = TestApp::spawn_with(Options {
        login_slowdown_after: 2,
        login_lockout_after: 4,
        ..Options::default()
    })
    .await;
    app.programme_lead().await;
    let attacker = app.browser();
    for _ in 0..4 {
        assert_eq!(
            attacker
                .login("lead@council.example", "guess guess guess")
                .await
                .status(),
            StatusCode::UNAUTHORIZED
        );
    }
    // Locked: even the right password is refused, and the page says until when.
    let res = attacker.login("lead@council.example", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.expect("body");
    assert!(
        error_summary(&body)[0].starts_with("Too many failed attempts"),
        "{body}"
    );
    assert_eq!(
        app.browser().login("lead@council.example", PASSWORD).await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    // Unknown emails are counted the same way, so lock-out does not reveal who has an account.
    for _ in 0..4 {
        app.browser().login("nobody@council.example", "guess guess guess").await;
    }
    assert_eq!(
        app.browser().login("nobody@council.example", "x").await.status(),
        StatusCode::TOO_MANY_REQUESTS
    );

    app.clock.advance(Duration::minutes(16));
    let res = app.browser().login("lead@council.example", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the lock lifts after 15 minutes");
}

#[rocket::async_test]
async fn pages_carry_security_headers() {
    let app = TestApp::spawn().await;
    let res = app.browser().get("/login").await;
    let header = |name: &str| {
        res.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    assert!(header("content-security-policy").contains("default-src 'none'"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("x-frame-options"), "DENY");
    assert_eq!(header("cache-control"), "no-store");
}
