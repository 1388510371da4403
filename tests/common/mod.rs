//! Test harness: each test gets the real app on its own port with a fresh
//! database (SQLite in a temporary folder, or a new PostgreSQL database when
//! QMTRACK_TEST_POSTGRES_URL names a server), a manual clock, and browsers
//! with their own cookie jars that talk to it over HTTP.

#![allow(dead_code)]

pub mod imports;

use qmtrack::Clock;
use reqwest::header::LOCATION;
use reqwest::{Response, StatusCode};
use rocket::figment::Figment;
use scraper::{Html, Selector};
use std::collections::HashMap;

pub const PASSWORD: &str = "correct horse battery staple";

pub struct TestApp {
    pub base: String,
    pub clock: Clock,
    pub database_url: String,
    pub data_dir: std::path::PathBuf,
    shutdown: rocket::Shutdown,
    // Dropped after `shutdown` has been notified (fields drop after `drop`).
    /// None when serving an existing database (its owner drops it).
    _database: Option<TestDatabase>,
    _dir: tempfile::TempDir,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        self.shutdown.clone().notify();
    }
}

/// One test's database. A PostgreSQL database is dropped when this is, so
/// test runs do not pile databases up on a shared server; a SQLite file goes
/// with the test's temporary folder.
pub struct TestDatabase {
    pub url: String,
    /// The server's admin URL and the database's name, on PostgreSQL.
    postgres: Option<(String, String)>,
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on;
        // the statement runs on a runtime of its own in its own thread.
        // FORCE ends the connections the app (or the test) may still hold.
        let dropped = std::thread::spawn(move || {
            let runtime = rocket::tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| e.to_string())?;
            runtime.block_on(async {
                use sqlx::Executor;
                let admin = sqlx::AnyPool::connect(&admin_url).await.map_err(|e| e.to_string())?;
                let result = admin
                    .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                    .await
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                admin.close().await;
                result
            })
        })
        .join();
        // Never panic here: a failing test is already unwinding through this.
        match dropped {
            Ok(Ok(())) => {}
            Ok(Err(e)) => eprintln!("could not drop the test database: {e}"),
            Err(_) => eprintln!("could not drop the test database"),
        }
    }
}

/// A fresh database for one test on the backend this run is testing.
pub async fn fresh_database(dir: &std::path::Path) -> TestDatabase {
    match std::env::var("QMTRACK_TEST_POSTGRES_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            use sqlx::Executor;
            sqlx::any::install_default_drivers();
            let suffix: String = qmtrack::security::random_token()
                .chars()
                .filter(char::is_ascii_alphanumeric)
                .take(16)
                .collect::<String>()
                .to_lowercase();
            let name = format!("qmtrack_test_{suffix}");
            let admin = sqlx::AnyPool::connect(&admin_url)
                .await
                .expect("connect to the test PostgreSQL server");
            admin
                .execute(format!("CREATE DATABASE {name}").as_str())
                .await
                .expect("create test database");
            admin.close().await;
            let mut url = url::Url::parse(&admin_url).expect("valid admin URL");
            url.set_path(&format!("/{name}"));
            TestDatabase {
                url: url.to_string(),
                postgres: Some((admin_url, name)),
            }
        }
        _ => TestDatabase {
            url: format!("sqlite://{}", dir.join("qmtrack.sqlite").display()),
            postgres: None,
        },
    }
}

pub struct Options {
    pub login_slowdown_after: i64,
    pub login_lockout_after: i64,
    pub session_absolute_hours: i64,
    /// Another standards folder (for a test that needs a newer framework version).
    pub standards_dir: Option<std::path::PathBuf>,
    /// A smaller evidence size limit than the default 25 MiB.
    pub evidence_max_bytes: Option<u64>,
    /// When the manual clock starts (RFC 3339), for tests that need a past.
    pub clock_start: Option<&'static str>,
    /// Take the client's address from `X-Real-IP`, as behind a proxy that sets it.
    pub trust_ip_header: bool,
    /// The partnership's logo file, printed on certificates.
    pub partnership_logo: Option<std::path::PathBuf>,
    /// Serve this database and data folder instead of fresh ones (a restored
    /// or copied one).
    pub existing: Option<(String, std::path::PathBuf)>,
    /// Further configuration keys and their values (`("smtp_url", …)`).
    pub settings: Vec<(&'static str, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            login_slowdown_after: 3,
            login_lockout_after: 10,
            session_absolute_hours: 12,
            standards_dir: None,
            evidence_max_bytes: None,
            clock_start: None,
            trust_ip_header: false,
            partnership_logo: None,
            existing: None,
            settings: Vec::new(),
        }
    }
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(Options::default()).await
    }

    pub async fn spawn_with(options: Options) -> TestApp {
        let dir = tempfile::tempdir().expect("temp dir");
        let (database, database_url, data_dir) = match options.existing {
            Some((url, data_dir)) => (None, url, data_dir),
            None => {
                let database = fresh_database(dir.path()).await;
                let url = database.url.clone();
                (Some(database), url, dir.path().to_path_buf())
            }
        };
        let clock = Clock::manual(
            chrono::DateTime::parse_from_rfc3339(options.clock_start.unwrap_or("2026-03-02T09:00:00Z"))
                .expect("date")
                .into(),
        );
        let figment = Figment::from(rocket::Config::figment())
            .merge(("port", 0))
            .merge((
                "log_level",
                if std::env::var("QMTRACK_TEST_LOG").is_ok() {
                    "normal"
                } else {
                    "off"
                },
            ))
            .merge(("shutdown.ctrlc", false))
            .merge(("shutdown.grace", 0))
            .merge(("shutdown.mercy", 0))
            .merge(("data_dir", data_dir.display().to_string()))
            .merge(("database_url", database_url.clone()))
            .merge(("database_max_connections", 4))
            .merge(("login_delay_ms", 5))
            .merge(("login_slowdown_after", options.login_slowdown_after))
            .merge(("login_lockout_after", options.login_lockout_after))
            .merge(("session_absolute_hours", options.session_absolute_hours));
        let figment = match options.standards_dir {
            Some(dir) => figment.merge(("standards_dir", dir.display().to_string())),
            None => figment,
        };
        let figment = if options.trust_ip_header {
            figment.merge(("ip_header", "X-Real-IP"))
        } else {
            figment
        };
        let figment = match options.partnership_logo {
            Some(path) => figment.merge(("partnership_logo", path.display().to_string())),
            None => figment,
        };
        let figment = match options.evidence_max_bytes {
            Some(max) => figment.merge(("evidence_max_bytes", max)),
            None => figment,
        };
        // Each value read as an environment variable's would be ("0" a number).
        let figment = options.settings.iter().fold(figment, |figment, (key, value)| {
            let value = match value.parse::<rocket::figment::value::Value>() {
                Ok(value) => value,
                Err(never) => match never {},
            };
            figment.merge((*key, value))
        });
        let (tx, rx) = rocket::tokio::sync::oneshot::channel();
        let tx = std::sync::Mutex::new(Some(tx));
        let rocket = qmtrack::build_rocket(figment, clock.clone())
            .expect("app builds")
            .attach(rocket::fairing::AdHoc::on_liftoff("report port", move |rocket| {
                let port = rocket.config().port;
                if let Some(tx) = tx.lock().ok().and_then(|mut t| t.take()) {
                    let _ = tx.send(port);
                }
                Box::pin(async {})
            }));
        let rocket = rocket.ignite().await.expect("app ignites");
        let shutdown = rocket.shutdown();
        rocket::tokio::spawn(async move {
            let _ = rocket.launch().await;
        });
        let port = rx.await.expect("app reports its port");
        TestApp {
            base: format!("http://127.0.0.1:{port}"),
            clock,
            database_url,
            data_dir,
            shutdown,
            _database: database,
            _dir: dir,
        }
    }

    /// A browser with its own cookies, signed in as nobody.
    pub fn browser(&self) -> Browser {
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_store(true)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }

    /// Runs first-time set-up and returns the programme lead's browser.
    pub async fn programme_lead(&self) -> Browser {
        let lead = self.browser();
        let res = lead
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
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "set-up should succeed");
        lead
    }

    /// Has `lead` add a user, then signs them in in a new browser.
    pub async fn user(&self, lead: &Browser, email: &str, role: &str, organisation_id: Option<i64>) -> Browser {
        let org = organisation_id.map(|id| id.to_string()).unwrap_or_default();
        let res = lead
            .submit(
                "/users/new",
                "/users",
                &[
                    ("name", email),
                    ("email", email),
                    ("role", role),
                    ("organisation_id", &org),
                    ("password", PASSWORD),
                    ("password_confirm", PASSWORD),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "adding {email} should succeed: {}",
            res.text().await.unwrap_or_default()
        );
        let browser = self.browser();
        let res = browser.login(email, PASSWORD).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{email} should be able to sign in");
        browser
    }

    /// Has `lead` add an organisation and returns its id.
    pub async fn organisation(&self, lead: &Browser, name: &str, org_type: &str) -> i64 {
        let res = lead
            .submit(
                "/organisations/new",
                "/organisations",
                &organisation_form(name, org_type),
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        location(&res)
            .trim_start_matches("/organisations/")
            .parse()
            .expect("new organisation's id")
    }
}

/// The real `qmtrack serve` as a child process on a free port, stopped when
/// dropped.
pub struct ServerProcess {
    pub child: std::process::Child,
    pub base: String,
}

impl ServerProcess {
    /// Starts the binary with the settings `configure` gives it (standard
    /// output and error go nowhere unless it says otherwise) and waits until
    /// `/healthz` answers.
    pub async fn start(configure: impl FnOnce(&mut std::process::Command)) -> ServerProcess {
        use std::time::{Duration, Instant};
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_qmtrack"));
        command
            .arg("serve")
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("ROCKET_PORT", port.to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        configure(&mut command);
        let server = ServerProcess {
            child: command.spawn().expect("start qmtrack"),
            base: format!("http://127.0.0.1:{port}"),
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(res) = reqwest::get(format!("{}/healthz", server.base)).await {
                if res.status() == StatusCode::OK {
                    return server;
                }
            }
            assert!(Instant::now() < deadline, "the server did not start");
            rocket::tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

impl ServerProcess {
    /// SIGKILL: no clean-up code runs.
    pub fn kill(mut self) {
        self.child.kill().expect("kill");
        self.child.wait().expect("reaped");
    }

    /// A browser keeping its cookies in `jar`, which may outlive this server.
    pub fn browser(&self, jar: std::sync::Arc<reqwest::cookie::Jar>) -> Browser {
        Browser {
            base: self.base.clone(),
            client: reqwest::Client::builder()
                .cookie_provider(jar)
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("client"),
        }
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The organisation form filled in as a person would.
pub fn organisation_form<'a>(name: &'a str, org_type: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("org_type", org_type),
        ("locality", "East Vale"),
        ("address", "1 High Street"),
        ("contact_name", "Jo Bloggs"),
        ("contact_email", "jo@example.org"),
        ("contact_phone", ""),
        ("da_lead_name", "Sam Lead"),
        ("da_lead_email", ""),
    ]
}

pub fn location(res: &Response) -> String {
    res.headers()
        .get(LOCATION)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

#[derive(Clone)]
pub struct Browser {
    pub base: String,
    pub client: reqwest::Client,
}

impl Browser {
    pub async fn get(&self, path: &str) -> Response {
        self.client
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("GET")
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let res = self.get(path).await;
        let status = res.status();
        (status, res.text().await.expect("body"))
    }

    pub async fn post(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client
            .post(format!("{}{path}", self.base))
            .form(fields)
            .send()
            .await
            .expect("POST")
    }

    /// The CSRF token a page's forms carry.
    pub async fn csrf_token(&self, page: &str) -> String {
        let (status, body) = self.get_text(page).await;
        assert!(status.is_success(), "{page} gave {status}");
        csrf_in(&body).unwrap_or_else(|| panic!("no CSRF token on {page}"))
    }

    /// Like a person: opens `page`, fills in the form, posts it to `action`.
    pub async fn submit(&self, page: &str, action: &str, fields: &[(&str, &str)]) -> Response {
        let token = self.csrf_token(page).await;
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    pub async fn login(&self, email: &str, password: &str) -> Response {
        self.submit("/login", "/login", &[("email", email), ("password", password)])
            .await
    }
}

pub fn csrf_in(body: &str) -> Option<String> {
    let doc = Html::parse_document(body);
    let selector = Selector::parse("input[name=csrf_token]").expect("selector");
    let token = doc.select(&selector).next()?.value().attr("value")?.to_string();
    Some(token)
}

/// The visible text of the elements matching `selector`.
pub fn texts(body: &str, selector: &str) -> Vec<String> {
    let doc = Html::parse_document(body);
    let selector = Selector::parse(selector).expect("selector");
    doc.select(&selector)
        .map(|e| {
            e.text()
                .collect::<Vec<_>>()
                .join(" ")
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

/// All the text a person would read on the page, entities decoded.
pub fn page_text(body: &str) -> String {
    texts(body, "body").join(" ")
}

/// The values of `attribute` on the elements matching `selector`, decoded.
pub fn attrs(body: &str, selector: &str, attribute: &str) -> Vec<String> {
    let doc = Html::parse_document(body);
    let selector = Selector::parse(selector).expect("selector");
    doc.select(&selector)
        .filter_map(|e| e.value().attr(attribute).map(str::to_string))
        .collect()
}

pub fn error_summary(body: &str) -> Vec<String> {
    texts(body, ".qm-error-summary__list a")
}

pub fn h1(body: &str) -> String {
    texts(body, "h1").into_iter().next().unwrap_or_default()
}

/// Field name → error message, read from the page.
pub fn field_errors(body: &str) -> HashMap<String, String> {
    let doc = Html::parse_document(body);
    let selector = Selector::parse(".qm-error-summary__list a").expect("selector");
    doc.select(&selector)
        .map(|a| {
            (
                a.value()
                    .attr("href")
                    .unwrap_or_default()
                    .trim_start_matches('#')
                    .to_string(),
                a.text().collect::<String>(),
            )
        })
        .collect()
}

/// Creates an API token in the browser, as a user would, and returns it.
pub async fn api_token(browser: &Browser, label: &str) -> String {
    let res = browser.submit("/account", "/account/tokens", &[("label", label)]).await;
    assert_eq!(res.status(), StatusCode::CREATED);
    let token = texts(&res.text().await.expect("body"), "#token")
        .pop()
        .expect("token shown");
    assert!(token.starts_with("qmt_"));
    token
}

/// `GET /api/v1{path}` with a bearer token: the status and the JSON body.
pub async fn api(app: &TestApp, token: &str, path: &str) -> (StatusCode, serde_json::Value) {
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1{path}", app.base))
        .bearer_auth(token)
        .send()
        .await
        .expect("GET");
    let status = res.status();
    (status, res.json().await.unwrap_or(serde_json::Value::Null))
}

/// The board report's figures for a period by id, as its JSON gives them.
pub async fn board_figures(
    browser: &Browser,
    from: &str,
    to: &str,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    let res = browser.get(&format!("/reports/board.json?from={from}&to={to}")).await;
    assert_eq!(res.status(), StatusCode::OK);
    let json: serde_json::Value = res.json().await.expect("JSON");
    assert_eq!(json["period"]["from"], from);
    assert_eq!(json["period"]["to"], to);
    json["figures"]
        .as_array()
        .expect("figures")
        .iter()
        .map(|f| (f["id"].as_str().expect("id").to_string(), f.clone()))
        .collect()
}

/// Runs the `qmtrack` binary against a test's database, as an operator would.
pub fn qmtrack(app: &TestApp, args: &[&str]) -> std::process::Output {
    qmtrack_on(&app.database_url, &app.data_dir, args)
}

/// Runs the `qmtrack` binary against a given database and data folder.
pub fn qmtrack_on(database_url: &str, data_dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qmtrack"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QMTRACK_DATABASE_URL", database_url)
        .env("QMTRACK_DATA_DIR", data_dir)
        .env("QMTRACK_LOG", "warn")
        .output()
        .expect("run qmtrack")
}

/// Runs `qmtrack demo` against the test's database and data folder.
pub fn demo(app: &TestApp) -> std::process::Output {
    std::process::Command::new(env!("CARGO_BIN_EXE_qmtrack"))
        .arg("demo")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("QMTRACK_DATABASE_URL", &app.database_url)
        .env("QMTRACK_DATA_DIR", &app.data_dir)
        .env("QMTRACK_LOG", "warn")
        .output()
        .expect("run qmtrack demo")
}

/// Checks that each session's records kept for the reports equal records
/// made from scratch from the attendance, and that some session has any.
pub async fn assert_session_records_rebuilt(database_url: &str, after: &str) {
    let pool = qmtrack::db::connect(database_url, 1).await.expect("connect");
    let kept = qmtrack::db::session_records::kept(&pool)
        .await
        .expect("session records");
    let from_scratch = qmtrack::db::session_records::from_scratch(&pool)
        .await
        .expect("session records from scratch");
    assert!(!from_scratch.is_empty(), "no session has attendance after {after}");
    assert_eq!(kept, from_scratch, "session records after {after}");
}

/// Whether this run tests PostgreSQL, where the app keeps evidence files and
/// uploaded sheets in the database rather than the data folder.
pub fn files_in_database(database_url: &str) -> bool {
    database_url.starts_with("postgres")
}

/// The names of the files the app holds under `folder` ("evidence" or
/// "imports"), as the data folder would name them: from the database on
/// PostgreSQL, together with anything (such as a temporary file) left in
/// the folder itself.
pub async fn stored_names(database_url: &str, data_dir: &std::path::Path, folder: &str) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(data_dir.join(folder))
        .map(|entries| {
            entries
                .flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    if files_in_database(database_url) {
        let pool = sqlx::PgPool::connect(database_url).await.expect("connect");
        // A database that a refused restore left untouched has no tables yet.
        let has_table: bool = sqlx::query_scalar("SELECT to_regclass('stored_files') IS NOT NULL")
            .fetch_one(&pool)
            .await
            .expect("table check");
        let stored: Vec<String> = if has_table {
            sqlx::query_scalar("SELECT name FROM stored_files WHERE name LIKE $1")
                .bind(format!("{folder}/%"))
                .fetch_all(&pool)
                .await
                .expect("stored files")
        } else {
            Vec::new()
        };
        pool.close().await;
        names.extend(
            stored
                .into_iter()
                .map(|name| name.trim_start_matches(&format!("{folder}/")).to_string()),
        );
    }
    names.sort();
    names
}

/// A file the app holds, by its name under the data folder
/// (`evidence/<sha256>`, `imports/<id>.upload`), wherever it is kept.
pub async fn stored_file(database_url: &str, data_dir: &std::path::Path, name: &str) -> Option<Vec<u8>> {
    if !files_in_database(database_url) {
        return std::fs::read(data_dir.join(name)).ok();
    }
    let pool = sqlx::PgPool::connect(database_url).await.expect("connect");
    let chunks: Vec<Vec<u8>> = sqlx::query_scalar(
        "SELECT c.bytes FROM stored_files f JOIN stored_file_chunks c ON c.name = f.name
         WHERE f.name = $1 ORDER BY c.seq",
    )
    .bind(name)
    .fetch_all(&pool)
    .await
    .expect("chunks");
    let exists: Option<String> = sqlx::query_scalar("SELECT name FROM stored_files WHERE name = $1")
        .bind(name)
        .fetch_optional(&pool)
        .await
        .expect("file");
    pool.close().await;
    exists.map(|_| chunks.concat())
}

/// Adds a DVA awareness session on `date` (`DD/MM/YYYY`), puts each
/// `(name, organisation)` on its register as attended, and gives its path.
pub async fn dva_session_attended_by(trainer: &Browser, date: &str, people: &[(&str, i64)]) -> String {
    dva_session_with(trainer, date, people, "attended").await
}

/// Adds a DVA awareness session on `date` (`DD/MM/YYYY`), puts each
/// `(name, organisation)` on its register with `status`, and gives its path.
pub async fn dva_session_with(trainer: &Browser, date: &str, people: &[(&str, i64)], status: &str) -> String {
    session_with(trainer, "dva-awareness/dva-awareness", date, people, status).await
}

/// Adds a session of `module` (`programme/module`) on `date` (`DD/MM/YYYY`)
/// with `places`, and gives its path.
pub async fn add_session(trainer: &Browser, module: &str, date: &str, places: &str) -> String {
    let res = trainer
        .submit(
            "/training/sessions/new",
            "/training/sessions",
            &[
                ("module", module),
                ("date", date),
                ("start_time", "10:00"),
                ("venue", "Civic Centre"),
                ("trainer", "Niamh"),
                ("capacity", places),
                ("cohort", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "session on {date}");
    location(&res)
}

/// Adds a session of `module` (`programme/module`) on `date` (`DD/MM/YYYY`),
/// puts each `(name, organisation)` on its register with `status`, and gives its path.
pub async fn session_with(trainer: &Browser, module: &str, date: &str, people: &[(&str, i64)], status: &str) -> String {
    let session = add_session(trainer, module, date, "40").await;
    for (name, organisation) in people {
        let res = trainer
            .submit(
                &session,
                &format!("{session}/attendees"),
                &[
                    ("full_name", name),
                    ("email", ""),
                    ("organisation_id", &organisation.to_string()),
                    ("status", status),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name} on {date}");
    }
    session
}

/// Checks a PDF with qpdf and returns its text as `pdftotext -layout` reads
/// it (both from qpdf and poppler-utils).
pub fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("file.pdf");
    std::fs::write(&path, bytes).expect("write pdf");
    let check = std::process::Command::new("qpdf")
        .arg("--check")
        .arg(&path)
        .output()
        .expect("qpdf is installed");
    assert!(
        check.status.success(),
        "qpdf --check: {}",
        String::from_utf8_lossy(&check.stdout)
    );
    let text = std::process::Command::new("pdftotext")
        .arg("-layout")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(text.status.success());
    String::from_utf8_lossy(&text.stdout).into_owned()
}
