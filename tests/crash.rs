//! Pulling the plug: the real `qmtrack` binary runs as a child process on
//! a temporary data folder and is killed with SIGKILL in the middle of an
//! upload and in the middle of an import's commit. After a restart nothing
//! is stuck and no file is left behind.

mod common;

use common::{
    csrf_in, files_in_database, fresh_database, location, organisation_form, page_text, stored_file, stored_names,
    Browser, ServerProcess, TestDatabase, PASSWORD,
};
use reqwest::StatusCode;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The server as a child process, killed with SIGKILL by [`Server::kill`].
type Server = ServerProcess;

/// One test's data folder and database, which outlive the servers started
/// on them: each restart finds what the killed one left.
struct Site {
    database: TestDatabase,
    data_dir: PathBuf,
    _dir: tempfile::TempDir,
}

impl Site {
    async fn new() -> Site {
        let dir = tempfile::tempdir().expect("dir");
        Site {
            database: fresh_database(dir.path()).await,
            data_dir: dir.path().join("data"),
            _dir: dir,
        }
    }

    fn database_url(&self) -> &str {
        &self.database.url
    }

    async fn start(&self) -> Server {
        ServerProcess::start(|command| {
            command
                .env("QMTRACK_DATA_DIR", &self.data_dir)
                .env("QMTRACK_DATABASE_URL", self.database_url())
                .env("ROCKET_LOG_LEVEL", "off")
                .env("QMTRACK_LOG", "error");
        })
        .await
    }

    /// The first start: the programme lead set up in a browser keeping its
    /// cookies in `jar`, and an organisation added. Returns the server, the
    /// lead's browser and the organisation's id.
    async fn first_start(
        &self,
        jar: Arc<reqwest::cookie::Jar>,
        organisation: &str,
        kind: &str,
    ) -> (Server, Browser, String) {
        let server = self.start().await;
        let lead = server.browser(jar);
        set_up_lead(&lead).await;
        let res = lead
            .submit(
                "/organisations/new",
                "/organisations",
                &organisation_form(organisation, kind),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let org = location(&res).trim_start_matches("/organisations/").to_string();
        (server, lead, org)
    }
}

/// Enrols the organisation on DAHA; returns the assessment's path.
async fn enrol_on_daha(lead: &Browser, org: &str) -> String {
    let res = lead
        .submit(
            "/assessments/new",
            "/assessments",
            &[("organisation_id", org), ("framework_id", "daha")],
        )
        .await;
    location(&res)
}

/// The lead signed in again, in a new browser, after a restart.
async fn lead_after_restart(server: &Server) -> Browser {
    let lead = server.browser(Arc::new(reqwest::cookie::Jar::default()));
    sign_in(&lead).await;
    lead
}

async fn set_up_lead(browser: &Browser) {
    let res = browser
        .submit(
            "/setup",
            "/setup",
            &[
                ("name", "Alex Morgan"),
                ("email", "lead@council.example"),
                ("password", PASSWORD),
                ("password_confirm", PASSWORD),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

async fn sign_in(browser: &Browser) {
    let res = browser.login("lead@council.example", PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

fn names_in(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Every file under `dir`, however deep.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(files_under(&path));
        } else {
            found.push(path);
        }
    }
    found
}

/// After a restart: one upload folder (the new process's) holding only its
/// lock, and no half-received evidence.
fn assert_no_upload_leftovers(data_dir: &Path) {
    let scratch = names_in(&data_dir.join("tmp"));
    assert_eq!(
        scratch.len(),
        1,
        "only the running process's upload folder: {scratch:?}"
    );
    let left: Vec<_> = files_under(&data_dir.join("tmp"))
        .into_iter()
        .filter(|p| p.file_name().is_some_and(|n| n != "lock"))
        .collect();
    assert!(left.is_empty(), "half-received uploads left behind: {left:?}");
    let incoming: Vec<_> = names_in(&data_dir.join("evidence"))
        .into_iter()
        .filter(|n| n.starts_with(".incoming-"))
        .collect();
    assert!(incoming.is_empty(), "temporary evidence files left: {incoming:?}");
}

async fn query_one(database_url: &str, sql: &str) -> (String, String) {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    let row: (String, String) = sqlx::query_as(sql).fetch_one(&pool).await.expect("query");
    pool.close().await;
    row
}

async fn count(database_url: &str, table: &str) -> i64 {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    let (n,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}"))
        .fetch_one(&pool)
        .await
        .expect("count");
    pool.close().await;
    n
}

#[rocket::async_test]
async fn a_kill_during_an_upload_leaves_nothing_behind() {
    let site = Site::new().await;
    let (data_dir, database_url) = (&site.data_dir, site.database_url());
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let (server, lead, org) = site
        .first_start(jar.clone(), "Eastvale Housing", "housing_provider")
        .await;
    let assessment = enrol_on_daha(&lead, &org).await;
    let page = format!("{assessment}/criteria/1.1.1/evidence/new?kind=file");
    let (_, body) = lead.get_text(&page).await;
    let token = csrf_in(&body).expect("token");
    let cookie = {
        use reqwest::cookie::CookieStore;
        let url = reqwest::Url::parse(&server.base).expect("url");
        jar.cookies(&url)
            .and_then(|v| v.to_str().ok().map(str::to_string))
            .expect("session cookie")
    };

    // A 20 MiB upload, of which 4 MiB arrive before the plug is pulled.
    let boundary = "qmtrackcrashtest";
    let mut head = String::new();
    for (name, value) in [
        ("csrf_token", token.as_str()),
        ("kind", "file"),
        ("title", ""),
        ("applies_from", "2026-01-01"),
        ("valid_until", ""),
    ] {
        head.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    head.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"policy.pdf\"\r\nContent-Type: application/pdf\r\n\r\n"
    ));
    let total = head.len() + 20 * 1024 * 1024;
    let action = format!("{assessment}/criteria/1.1.1/evidence");
    let address = server.base.trim_start_matches("http://").to_string();
    let mut stream = std::net::TcpStream::connect(&address).expect("connect");
    write!(
        stream,
        "POST {action} HTTP/1.1\r\nHost: {address}\r\nCookie: {cookie}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {total}\r\n\r\n{head}"
    )
    .expect("send headers");
    let chunk = vec![b'x'; 64 * 1024];
    for _ in 0..64 {
        stream.write_all(&chunk).expect("send part of the file");
    }
    stream.flush().expect("flush");
    // Rocket is streaming it into its upload folder under the data folder.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let receiving = files_under(&data_dir.join("tmp"))
            .iter()
            .any(|p| p.file_name().is_some_and(|n| n != "lock") && p.metadata().is_ok_and(|m| m.len() > 0));
        if receiving {
            break;
        }
        assert!(Instant::now() < deadline, "the upload never reached the data folder");
        rocket::tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server.kill();
    drop(stream);

    let server = site.start().await;
    assert_no_upload_leftovers(data_dir);
    assert_eq!(count(database_url, "evidence").await, 0);
    // The service works as before.
    let lead = lead_after_restart(&server).await;
    let (status, _) = lead.get_text(&assessment).await;
    assert_eq!(status, StatusCode::OK);
}

#[rocket::async_test]
async fn a_kill_during_an_import_commit_leaves_nothing_stuck() {
    let site = Site::new().await;
    let (data_dir, database_url) = (&site.data_dir, site.database_url());
    let (server, lead, _) = site
        .first_start(Arc::new(reqwest::cookie::Jar::default()), "Refuge", "voluntary_sector")
        .await;

    // A sheet large enough that its commit takes a while.
    let mut csv = String::from("Name,Organisation,Date,Course,Attended\n");
    for n in 0..20_000 {
        csv.push_str(&format!("Person Number{n},Refuge,14/01/2025,MARAC briefing,Yes\n"));
    }
    let token = lead.csrf_token("/training/imports").await;
    let form = reqwest::multipart::Form::new().text("csrf_token", token).part(
        "file",
        reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("register.csv"),
    );
    let res = lead
        .client
        .post(format!("{}/training/imports", server.base))
        .multipart(form)
        .send()
        .await
        .expect("upload");
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let import_path = location(&res);
    let import_id = import_path.trim_start_matches("/training/imports/").to_string();
    let sheet_name = format!("imports/{import_id}.upload");
    let sheet = || stored_file(database_url, data_dir, &sheet_name);
    assert!(sheet().await.is_some(), "the sheet waits for its commit");

    let res = lead.submit(&import_path, &format!("{import_path}/commit"), &[]).await;
    assert!(res.status().is_redirection(), "{}", res.status());
    // Kill it as soon as the commit is under way.
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (state, _) = query_one(
            database_url,
            &format!("SELECT state, message FROM imports WHERE id = {import_id}"),
        )
        .await;
        if state == "running" {
            break;
        }
        assert_eq!(state, "pending", "the commit finished before it could be interrupted");
        assert!(Instant::now() < deadline, "the commit never started");
        rocket::tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill();

    let server = site.start().await;
    let (state, message) = query_one(
        database_url,
        &format!("SELECT state, message FROM imports WHERE id = {import_id}"),
    )
    .await;
    assert_eq!(state, "failed");
    assert!(message.contains("nothing was saved"), "{message}");
    assert_eq!(count(database_url, "attendance").await, 0, "nothing of it was saved");
    assert!(
        sheet().await.is_none(),
        "the sheet, which holds personal data, is removed"
    );
    assert_eq!(
        stored_names(database_url, data_dir, "imports").await,
        Vec::<String>::new()
    );
    assert_no_upload_leftovers(data_dir);
    // The history shows it failed, no longer running.
    let lead = lead_after_restart(&server).await;
    let (status, body) = lead.get_text("/training/imports").await;
    assert_eq!(status, StatusCode::OK);
    let text = page_text(&body);
    assert!(text.contains("register.csv") && text.contains("Failed"), "{text}");
}

fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).expect("metadata").permissions().mode() & 0o777
}

/// Evidence files and uploaded sheets hold personal data: they are written
/// readable by the service alone, and any that others could read (from an
/// older version, or restored by hand) are made private at the next start.
#[rocket::async_test]
async fn files_holding_personal_data_are_private_and_made_so_at_start() {
    use std::os::unix::fs::PermissionsExt;
    let site = Site::new().await;
    if files_in_database(site.database_url()) {
        eprintln!("skipped: on PostgreSQL the files are kept in the database, not in files with modes");
        return;
    }
    let data_dir = &site.data_dir;
    let (server, lead, org) = site
        .first_start(
            Arc::new(reqwest::cookie::Jar::default()),
            "Eastvale Housing",
            "housing_provider",
        )
        .await;
    let assessment = enrol_on_daha(&lead, &org).await;
    let token = lead
        .csrf_token(&format!("{assessment}/criteria/1.1.1/evidence/new?kind=file"))
        .await;
    let pdf = qmtrack::domain::filetype::samples::pdf("Policy", &["Adopted by the board"]);
    let form = reqwest::multipart::Form::new()
        .text("csrf_token", token)
        .text("kind", "file")
        .text("title", "")
        .text("applies_from", "2026-01-01")
        .text("valid_until", "")
        .part("file", reqwest::multipart::Part::bytes(pdf).file_name("policy.pdf"));
    let res = lead
        .client
        .post(format!("{}{assessment}/criteria/1.1.1/evidence", server.base))
        .multipart(form)
        .send()
        .await
        .expect("evidence upload");
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let token = lead.csrf_token("/training/imports").await;
    let sheet = "Name,Organisation,Date,Course,Attended\nAnn Lee,Eastvale Housing,14/01/2025,MARAC briefing,Yes\n";
    let form = reqwest::multipart::Form::new().text("csrf_token", token).part(
        "file",
        reqwest::multipart::Part::bytes(sheet.as_bytes().to_vec()).file_name("register.csv"),
    );
    let res = lead
        .client
        .post(format!("{}/training/imports", server.base))
        .multipart(form)
        .send()
        .await
        .expect("sheet upload");
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );

    let stored: Vec<PathBuf> = [data_dir.join("evidence"), data_dir.join("imports")]
        .iter()
        .flat_map(|d| files_under(d))
        .collect();
    assert_eq!(stored.len(), 2, "one evidence file and one waiting sheet: {stored:?}");
    for path in &stored {
        assert_eq!(mode_of(path), 0o600, "{} is written private", path.display());
    }
    server.kill();
    for path in &stored {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o644)).expect("widen");
    }
    let _server = site.start().await;
    for path in &stored {
        assert_eq!(
            mode_of(path),
            0o600,
            "{} is private again after a restart",
            path.display()
        );
    }
}
