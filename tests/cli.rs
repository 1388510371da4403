//! The `qmtrack` binary's subcommands, run as a user would run them.

mod common;

use common::{qmtrack_on as qmtrack, TestApp};
use reqwest::StatusCode;
use std::process::Output;

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).to_string()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).to_string()
}

#[test]
fn every_subcommand_has_help() {
    let dir = tempfile::tempdir().expect("dir");
    for args in [
        vec!["--help"],
        vec!["serve", "--help"],
        vec!["migrate", "--help"],
        vec!["standards", "check", "--help"],
        vec!["user", "add", "--help"],
        vec!["token", "create", "--help"],
        vec!["demo", "--help"],
    ] {
        let output = qmtrack("sqlite://unused", dir.path(), &args);
        assert!(output.status.success(), "{args:?}");
        assert!(stdout(&output).contains("Usage"), "{args:?}");
    }
}

#[test]
fn standards_check_passes_the_shipped_files_and_names_the_line_of_a_broken_one() {
    let dir = tempfile::tempdir().expect("dir");
    let output = qmtrack("sqlite://unused", dir.path(), &["standards", "check"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("framework files are valid"));

    let broken = dir.path().join("standards");
    std::fs::create_dir(&broken).expect("dir");
    let good =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/standards/daha-2024.1.toml")).expect("daha");
    let line = good
        .lines()
        .position(|l| l.starts_with("validity_months"))
        .expect("validity line")
        + 1;
    std::fs::write(
        broken.join("daha-2024.1.toml"),
        good.replace("validity_months = 36", "validity_months = \"three years\""),
    )
    .expect("write");
    let output = qmtrack(
        "sqlite://unused",
        dir.path(),
        &["standards", "check", broken.to_str().expect("path")],
    );
    assert!(!output.status.success());
    let expected = format!("{}:{line}: ", broken.join("daha-2024.1.toml").display());
    assert!(
        stderr(&output).starts_with(&expected),
        "expected {expected}, got {}",
        stderr(&output)
    );
}

#[rocket::async_test]
async fn the_server_refuses_to_start_with_a_broken_standards_file() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("bad-1.toml"), "format = 1\nid = \"bad\"\nname = 3\n").expect("write");
    let figment = rocket::figment::Figment::from(rocket::Config::figment())
        .merge(("standards_dir", dir.path().display().to_string()))
        .merge(("data_dir", dir.path().display().to_string()));
    match qmtrack::build_rocket(figment, qmtrack::Clock::system()) {
        Ok(_) => panic!("a broken standards file must stop start-up"),
        Err(e) => assert!(e.to_string().contains("bad-1.toml:3: "), "{e}"),
    }
}

#[rocket::async_test]
async fn the_server_refuses_to_start_with_a_logo_it_cannot_print() {
    let dir = tempfile::tempdir().expect("dir");
    let not_an_image = dir.path().join("logo.png");
    std::fs::write(&not_an_image, "<svg></svg>").expect("write");
    let missing = dir.path().join("missing.png");
    for (logo, says) in [
        (&missing, format!("cannot read {}", missing.display())),
        (
            &not_an_image,
            format!("{}: is not a PNG or JPEG image", not_an_image.display()),
        ),
    ] {
        let figment = rocket::figment::Figment::from(rocket::Config::figment())
            .merge(("partnership_logo", logo.display().to_string()))
            .merge(("data_dir", dir.path().display().to_string()));
        match qmtrack::build_rocket(figment, qmtrack::Clock::system()) {
            Ok(_) => panic!("{} must stop start-up", logo.display()),
            Err(e) => {
                let message = e.to_string();
                assert!(
                    message.starts_with("partnership_logo (QMTRACK_PARTNERSHIP_LOGO): ") && message.contains(&says),
                    "{message}"
                );
            }
        }
    }
}

#[rocket::async_test]
async fn user_add_and_token_create_work_from_the_command_line() {
    let app = TestApp::spawn().await;
    let output = qmtrack(
        &app.database_url,
        &app.data_dir,
        &[
            "user",
            "add",
            "--email",
            "Script.Lead@Council.Example",
            "--name",
            "Script Lead",
            "--role",
            "programme_lead",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let printed = stdout(&output);
    let password = printed
        .lines()
        .find_map(|l| l.strip_prefix("Password: "))
        .expect("a generated password is printed")
        .to_string();
    let browser = app.browser();
    assert_eq!(
        browser.login("script.lead@council.example", &password).await.status(),
        StatusCode::SEE_OTHER
    );

    // Bad input is refused with a message, not a crash.
    let output = qmtrack(
        &app.database_url,
        &app.data_dir,
        &[
            "user",
            "add",
            "--email",
            "x@example.org",
            "--name",
            "X",
            "--role",
            "org_member",
            "--organisation",
            "Nowhere",
        ],
    );
    assert!(!output.status.success());
    assert!(
        stderr(&output).contains("no organisation called"),
        "{}",
        stderr(&output)
    );
    let output = qmtrack(
        &app.database_url,
        &app.data_dir,
        &[
            "user",
            "add",
            "--email",
            "script.lead@council.example",
            "--name",
            "Again",
            "--role",
            "assessor",
        ],
    );
    assert!(!output.status.success());
    assert!(stderr(&output).contains("already a user"));

    let output = qmtrack(
        &app.database_url,
        &app.data_dir,
        &[
            "token",
            "create",
            "--email",
            "script.lead@council.example",
            "--label",
            "nightly",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let token = stdout(&output).trim().to_string();
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/me", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::OK);
    assert!(!qmtrack(
        &app.database_url,
        &app.data_dir,
        &["token", "create", "--email", "nobody@example.org"]
    )
    .status
    .success());
}

#[rocket::async_test]
async fn demo_loads_a_realistic_set_once() {
    // The command line's clock is the real one, and the demo dates its
    // training from it: the server must stand on the same day to see it as
    // the demo means it (ambassadors who qualified six months ago).
    let now: &'static str = Box::leak(chrono::Utc::now().to_rfc3339().into_boxed_str());
    let app = TestApp::spawn_with(common::Options {
        clock_start: Some(now),
        ..common::Options::default()
    })
    .await;
    let first = qmtrack(&app.database_url, &app.data_dir, &["demo"]);
    assert!(first.status.success(), "{}", stderr(&first));
    let printed = stdout(&first);
    assert!(printed.contains("Organisations: 12 added"), "{printed}");
    let lead_password = printed
        .lines()
        .find(|l| l.contains("alex.morgan@"))
        .and_then(|l| l.split("password: ").nth(1))
        .expect("the programme lead's password is printed")
        .trim()
        .to_string();
    for role in ["programme_lead", "assessor", "training_lead", "org_member"] {
        assert!(printed.contains(role), "{role}");
    }

    let second = qmtrack(&app.database_url, &app.data_dir, &["demo"]);
    assert!(second.status.success());
    assert!(stdout(&second).contains("Organisations: 0 added"));
    assert!(stdout(&second).contains("People: 0 added"));

    let lead = app.browser();
    assert_eq!(
        lead.login("alex.morgan@northbridge.example.org", &lead_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, body) = lead.get_text("/organisations").await;
    assert!(body.contains("12 organisations"), "no duplicates after a second run");
    assert!(body.contains("Riverside Medical Practice") && body.contains("Northbridge Homes"));

    // Training in every state: ambassadors active and lapsed, one IRIS practice fully trained and one part-way.
    assert!(stdout(&second).contains("Training: already loaded"));
    let (_, directory) = lead.get_text("/training/ambassadors").await;
    let names = common::texts(&directory, "table.qm-table tbody td:first-child");
    assert_eq!(
        names,
        ["Aisha Rahman", "Siobhán Ní Bhriain"],
        "Marcus has lapsed; Sophie missed day 2"
    );
    let (_, practices) = lead.get_text("/training/programmes/iris/organisations").await;
    let rows = common::texts(&practices, "table.qm-table tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("Riverside Medical Practice") && r.contains("Fully trained")),
        "{rows:?}"
    );
    assert!(
        rows.iter()
            .any(|r| r.contains("Hillside Surgery") && r.contains("In training")),
        "{rows:?}"
    );
}

#[test]
fn migrate_creates_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("sub/dir/qm.sqlite").display());
    let output = qmtrack(&url, dir.path(), &["migrate"]);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(stdout(&output).contains("up to date"));
    assert!(dir.path().join("sub/dir/qm.sqlite").exists());
}
