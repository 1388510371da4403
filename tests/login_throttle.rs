//! Throttles under parallel guessing. Log-in: the lock engages exactly at
//! the limit however many guesses arrive at once, an address spraying many
//! emails is stopped, and a guesser elsewhere cannot lock the real user out
//! of the place they usually sign in from. Certificate codes: guessing is
//! slowed through a count kept in the database.

mod common;

use common::{error_summary, Browser, Options, TestApp, PASSWORD};
use reqwest::StatusCode;
use rocket::futures::future::join_all;
use std::net::IpAddr;

/// A browser whose connections come from `address` (any 127.x.y.z reaches
/// the server on 127.0.0.1), so the app sees a different client address.
fn browser_from(app: &TestApp, address: [u8; 4]) -> Browser {
    Browser {
        base: app.base.clone(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .local_address(IpAddr::from(address))
            .build()
            .expect("client"),
    }
}

/// `guesses` wrong-password attempts at `email`, all sent at once, each from
/// its own browser; returns how many had their password checked (401) and
/// how many were refused unchecked (429).
async fn guess_in_parallel(app: &TestApp, address: [u8; 4], email: &str, guesses: usize) -> (usize, usize) {
    let statuses = join_all((0..guesses).map(|n| {
        let browser = browser_from(app, address);
        let guess = format!("wrong guess {n}");
        async move { browser.login(email, &guess).await.status() }
    }))
    .await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + refused, guesses, "{statuses:?}");
    (checked, refused)
}

#[rocket::async_test]
async fn parallel_guessers_get_no_more_tries_than_one() {
    let app = TestApp::spawn_with(Options {
        login_slowdown_after: 3,
        login_lockout_after: 10,
        ..Options::default()
    })
    .await;
    app.programme_lead().await;
    let attacker = [127, 0, 0, 2];
    let mut checked = 0;
    // Waves of 40 at once, as in the report that found the counter racing.
    for _ in 0..3 {
        let (wave_checked, _) = guess_in_parallel(&app, attacker, "lead@council.example", 40).await;
        checked += wave_checked;
    }
    assert_eq!(checked, 10, "exactly the limit of guesses had their password checked");
    // Locked: the right password from there is refused too, saying why.
    let res = browser_from(&app, attacker)
        .login("lead@council.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.expect("body");
    assert!(
        error_summary(&body)[0].starts_with("Too many failed attempts to sign in with this email address"),
        "{body}"
    );
    // The lock lasts its window, then lifts.
    app.clock.advance(chrono::Duration::minutes(16));
    let res = browser_from(&app, attacker)
        .login("lead@council.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[rocket::async_test]
async fn an_address_spraying_many_emails_is_stopped() {
    let app = TestApp::spawn().await;
    app.programme_lead().await;
    let sprayer = [127, 0, 0, 3];
    let statuses = join_all((0..40).map(|n| {
        let browser = browser_from(&app, sprayer);
        async move {
            browser
                .login(&format!("person{n}@council.example"), "Summer2026!")
                .await
                .status()
        }
    }))
    .await;
    let checked = statuses.iter().filter(|s| **s == StatusCode::UNAUTHORIZED).count();
    // The default per-address limit is 30 failures in the window.
    assert_eq!(checked, 30, "{statuses:?}");
    let res = browser_from(&app, sprayer)
        .login("lead@council.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    let body = res.text().await.expect("body");
    assert!(error_summary(&body)[0].contains("from this network address"), "{body}");
    // Another address is not affected.
    let res = browser_from(&app, [127, 0, 0, 4])
        .login("lead@council.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

/// A browser behind a proxy that reports the client as `address`.
fn browser_behind_proxy(app: &TestApp, address: &str) -> Browser {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("X-Real-IP", address.parse().expect("header value"));
    Browser {
        base: app.base.clone(),
        client: reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .default_headers(headers)
            .build()
            .expect("client"),
    }
}

/// An IPv6 client picks any address in its /64, so the per-address limit
/// counts the /64: a new address for every guess gains nothing.
#[rocket::async_test]
async fn an_ipv6_client_rotating_addresses_in_its_64_is_one_address() {
    let app = TestApp::spawn_with(Options {
        trust_ip_header: true,
        ..Options::default()
    })
    .await;
    app.programme_lead().await;
    for n in 0..30 {
        let res = browser_behind_proxy(&app, &format!("2001:db8:7:1:{n:x}::{}", n + 1))
            .login(&format!("person{n}@council.example"), "Summer2026!")
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "guess {n}");
    }
    let res = browser_behind_proxy(&app, "2001:db8:7:1:ffff:ffff:ffff:fffe")
        .login("lead@council.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the 31st try from the /64");
    let body = res.text().await.expect("body");
    assert!(error_summary(&body)[0].contains("from this network address"), "{body}");
    // The neighbouring /64 is another client.
    let res = browser_behind_proxy(&app, "2001:db8:7:2::1")
        .login("lead@council.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

#[rocket::async_test]
async fn a_guesser_elsewhere_cannot_lock_the_real_user_out() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    app.user(&lead, "victim@council.example", "assessor", None).await;
    // The victim has signed in from 127.0.0.1 (in `user`). Someone else
    // guesses their password from another address until locked.
    let (checked, refused) = guess_in_parallel(&app, [127, 0, 0, 5], "victim@council.example", 30).await;
    assert_eq!((checked, refused), (10, 20));
    // The victim, at their usual address, still gets in.
    let res = app.browser().login("victim@council.example", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "the real user is not locked out");
    // From an address they have never used, the account stays locked while
    // the guessing lasts.
    let res = browser_from(&app, [127, 0, 0, 6])
        .login("victim@council.example", PASSWORD)
        .await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// Unknown certificate codes: the count lives in the database (so every
/// app server sharing it sees the same count), and past a few misses each
/// look-up from that address waits, while other addresses do not.
#[rocket::async_test]
async fn guessing_certificate_codes_is_slowed_through_the_database() {
    let app = TestApp::spawn().await;
    let guesser = browser_from(&app, [127, 0, 0, 7]);
    for n in 0..6 {
        let res = guesser.get(&format!("/verify/AAAA-BBBB-CCCC-DDD{n}.json")).await;
        assert_eq!(res.status(), StatusCode::NOT_FOUND);
    }
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("connect");
    let (hits,): (i64,) = sqlx::query_as("SELECT hits FROM throttle_counters WHERE key = 'verify-miss:127.0.0.7'")
        .fetch_one(&pool)
        .await
        .expect("the count is in the database");
    pool.close().await;
    assert_eq!(hits, 6);
    let started = std::time::Instant::now();
    let res = guesser.get("/verify/AAAA-BBBB-CCCC-EEEE.json").await;
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    assert!(started.elapsed() >= std::time::Duration::from_millis(250), "slowed");
    let started = std::time::Instant::now();
    browser_from(&app, [127, 0, 0, 8])
        .get("/verify/AAAA-BBBB-CCCC-EEEE.json")
        .await;
    assert!(
        started.elapsed() < std::time::Duration::from_millis(250),
        "others are not"
    );
}
