//! Two app servers on one PostgreSQL database, as a large partnership runs
//! them behind a load balancer: what is done through one is seen through
//! the other. Each server has its own pool, its own data folder and its own
//! memory; only the database is shared.

mod assessment_support;
mod common;

use assessment_support::*;
use common::imports::upload as upload_sheet;
use common::{files_in_database, location, Browser, Options, TestApp, PASSWORD};
use reqwest::StatusCode;

/// Starts a first server on a fresh database and a second on the same
/// database with its own, separate data folder. None on SQLite, where
/// servers sharing files would have to share one machine's data folder.
async fn two_servers(options: impl Fn() -> Options) -> Option<(TestApp, TestApp, tempfile::TempDir)> {
    let first = TestApp::spawn_with(options()).await;
    if !files_in_database(&first.database_url) {
        eprintln!(
            "SKIPPED: several app servers share a PostgreSQL database; set QMTRACK_TEST_POSTGRES_URL (scripts/test.sh does)"
        );
        return None;
    }
    let own_folder = tempfile::tempdir().expect("dir");
    let second = TestApp::spawn_with(Options {
        existing: Some((first.database_url.clone(), own_folder.path().join("data"))),
        ..options()
    })
    .await;
    Some((first, second, own_folder))
}

/// Waits (up to two minutes: a 20,000-row commit on a busy machine) for an
/// import's page to stop saying it is importing, and returns the page.
async fn finished(browser: &Browser, import_path: &str) -> String {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    loop {
        let (_, body) = browser.get_text(import_path).await;
        if !body.contains("Importing") {
            return body;
        }
        assert!(std::time::Instant::now() < deadline, "the import did not finish");
        rocket::tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

/// The same person (the same cookies) talking to the other server.
fn through(app: &TestApp, browser: &Browser) -> Browser {
    Browser {
        base: app.base.clone(),
        client: browser.client.clone(),
    }
}

#[rocket::async_test]
async fn a_file_uploaded_through_one_server_downloads_through_the_other() {
    let Some((first, second, _folder)) = two_servers(Options::default).await else {
        return;
    };
    let lead = first.programme_lead().await;
    let org = first.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = first.user(&lead, "m@riverside.example", "org_member", Some(org)).await;
    let assessment = enrol(&member, None, "daha").await;
    let bytes = samples::pdf("Safeguarding policy", &[]);
    let res = upload(&member, assessment, "1.1.1", "safeguarding.pdf", bytes.clone(), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    // Signed in through the first server, the session works on the second.
    let member_there = through(&second, &member);
    let (status, body) = member_there
        .get_text(&format!("/assessments/{assessment}/criteria/1.1.1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let href = common::attrs(&body, "a[href$='/download']", "href")
        .pop()
        .expect("a download link");
    let res = member_there.get(&href).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.bytes().await.expect("body").to_vec(),
        bytes,
        "the same file, byte for byte"
    );
    // Nothing of it in the second server's folder: it came from the database.
    assert!(
        std::fs::read_dir(second.data_dir.join("evidence"))
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(true),
        "the second server holds no copy"
    );
}

#[rocket::async_test]
async fn an_import_started_on_one_server_is_watched_on_the_other() {
    let Some((first, second, _folder)) = two_servers(Options::default).await else {
        return;
    };
    let lead = first.programme_lead().await;
    first.organisation(&lead, "Refuge", "voluntary_sector").await;
    // Large enough that the commit is seen under way.
    let mut csv = String::from("Name,Organisation,Date,Course,Attended\n");
    for n in 0..20_000 {
        csv.push_str(&format!("Person Number{n},Refuge,14/01/2025,MARAC briefing,Yes\n"));
    }
    let res = upload_sheet(&lead, "register.csv", csv.into_bytes(), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let import_path = location(&res);

    // The preview reads the sheet kept in the database.
    let lead_there = through(&second, &lead);
    let (status, body) = lead_there.get_text(&import_path).await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body.contains("20000") || body.contains("20,000"),
        "the second server reads the sheet"
    );

    let res = lead.submit(&import_path, &format!("{import_path}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // The second server shows the first's progress, as the first records it.
    let mut seen_progress = false;
    for _ in 0..400 {
        let (_, body) = lead_there.get_text(&import_path).await;
        if body.contains("of 20000 rows") {
            seen_progress = true;
            break;
        }
        if body.contains("Imported") {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(seen_progress, "the second server showed the commit's progress");
    let body = finished(&lead_there, &import_path).await;
    assert!(body.contains("Imported"), "{body}");
    // And the sheet, personal data, is gone from the shared store.
    assert_eq!(
        common::stored_names(&first.database_url, &first.data_dir, "imports").await,
        Vec::<String>::new()
    );
}

#[rocket::async_test]
async fn a_restarting_server_leaves_another_servers_running_import_alone() {
    let Some((first, second, _folder)) = two_servers(Options::default).await else {
        return;
    };
    let lead = first.programme_lead().await;
    first.organisation(&lead, "Refuge", "voluntary_sector").await;
    let mut csv = String::from("Name,Organisation,Date,Course,Attended\n");
    for n in 0..20_000 {
        csv.push_str(&format!("Person Number{n},Refuge,14/01/2025,MARAC briefing,Yes\n"));
    }
    let res = upload_sheet(&lead, "register.csv", csv.into_bytes(), &[]).await;
    let import_path = location(&res);
    let res = lead.submit(&import_path, &format!("{import_path}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // A third server starts (a restart of the second, say) while the first
    // is committing: it must not mark the first's import failed.
    let third = TestApp::spawn_with(Options {
        existing: Some((first.database_url.clone(), second.data_dir.join("restarted"))),
        ..Options::default()
    })
    .await;
    let body = finished(&through(&third, &lead), &import_path).await;
    assert!(body.contains("Imported"), "{body}");
    assert!(!body.contains("Stopped by a restart"), "{body}");
}

#[rocket::async_test]
async fn a_lockout_counts_guesses_made_through_both_servers() {
    let options = || Options {
        login_slowdown_after: 2,
        login_lockout_after: 4,
        ..Options::default()
    };
    let Some((first, second, _folder)) = two_servers(options).await else {
        return;
    };
    let lead = first.programme_lead().await;
    first.user(&lead, "worker@council.example", "assessor", None).await;
    for (n, server) in [&first, &second, &first, &second].into_iter().enumerate() {
        let res = server
            .browser()
            .login("worker@council.example", &format!("wrong {n}"))
            .await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED, "guess {n} is checked");
    }
    // Four guesses in all, two on each: the limit is reached on both.
    for server in [&first, &second] {
        let res = server.browser().login("worker@council.example", PASSWORD).await;
        assert_eq!(
            res.status(),
            StatusCode::TOO_MANY_REQUESTS,
            "locked on {} too, even with the right password",
            server.base
        );
    }
}
