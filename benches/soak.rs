//! Soak benchmark (issue 9's bar): `cargo bench --bench soak`.
//!
//! Starts the release server on a fresh, empty database and runs 64 clients
//! for 60 s, each going round page views, evidence statements and register
//! marks with no pause, while one sheet is uploaded and committed in the
//! middle of it. Afterwards it checks that every write the app acknowledged
//! is in the database (evidence added, each register mark's last value, every
//! row of the import) and prints p50 / p95 / p99 per kind of request, the
//! 5xx count and the lost writes. The bar: zero 5xx and zero lost writes.
//!
//! Runs on SQLite (a database in a temporary data folder), then also on
//! PostgreSQL when `QMTRACK_BENCH_POSTGRES_URL` names a server's admin
//! database (a fresh database is made there and dropped afterwards).
//! `QMTRACK_SOAK_CLIENTS` (64), `QMTRACK_SOAK_SECONDS` (60) and
//! `QMTRACK_SOAK_IMPORT_ROWS` (5,000) change the size, for a quick run.

mod support;

use reqwest::StatusCode;
use rocket::tokio;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use support::{ms, percentile, signed_in, RouteStats};

const LEAD_EMAIL: &str = "soak.lead@council.example";
const LEAD_PASSWORD: &str = "soak bench lead password 2026";
/// Organisations whose assessments take the evidence.
const ORGANISATIONS: usize = 8;
const IMPORT_ORGANISATION: &str = "Soak Import Refuge";

const PAGE: &str = "page view";
const EVIDENCE: &str = "evidence add";
const MARK: &str = "register mark";
const UPLOAD: &str = "import upload";
const COMMIT: &str = "import commit";
const KINDS: [&str; 5] = [PAGE, EVIDENCE, MARK, UPLOAD, COMMIT];

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(default)
}

struct Settings {
    clients: usize,
    seconds: u64,
    import_rows: usize,
}

/// What the set-up made: the pages to view, where evidence goes, the
/// register and its attendees (one per client).
struct World {
    assessments: Vec<String>,
    pages: Vec<String>,
    session: String,
    attendance_ids: Vec<i64>,
}

/// What one client's writes were acknowledged as.
#[derive(Default)]
struct Written {
    evidence_titles: Vec<String>,
    /// (attendance id, the last status acknowledged for it)
    last_mark: Option<(i64, &'static str)>,
}

type Stats = BTreeMap<&'static str, RouteStats>;

fn record(stats: &mut Stats, kind: &'static str, started: Instant, status: Option<StatusCode>) {
    let entry = stats.entry(kind).or_default();
    match status {
        Some(status) => {
            entry.latencies.push(started.elapsed());
            if status.is_server_error() {
                entry.server_errors += 1;
            } else if !(status.is_success() || status.is_redirection()) {
                entry.other_failures += 1;
            }
        }
        None => entry.other_failures += 1,
    }
}

/// A form post; its status, or None when the request itself failed.
async fn post_form(client: &reqwest::Client, url: String, fields: &[(&str, &str)]) -> Option<StatusCode> {
    client.post(url).form(fields).send().await.ok().map(|r| r.status())
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

async fn set_up(base: &str, clients: usize) -> World {
    let (lead, csrf) = signed_in(base, LEAD_EMAIL, LEAD_PASSWORD).await;
    let mut assessments = Vec::new();
    let mut organisation_ids = Vec::new();
    for n in 0..ORGANISATIONS + 1 {
        let name = if n == ORGANISATIONS {
            IMPORT_ORGANISATION.to_string()
        } else {
            format!("Soak Housing {n}")
        };
        let res = lead
            .post(format!("{base}/organisations"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("name", &name),
                ("org_type", "housing_provider"),
                ("locality", "East Vale"),
                ("address", "1 High Street"),
                ("contact_name", "Jo Bloggs"),
                ("contact_email", "jo@example.org"),
                ("contact_phone", ""),
                ("da_lead_name", "Sam Lead"),
                ("da_lead_email", ""),
            ])
            .send()
            .await
            .expect("create an organisation");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "organisation {name}");
        let org = location(&res).trim_start_matches("/organisations/").to_string();
        if n == ORGANISATIONS {
            organisation_ids.push(org);
            continue;
        }
        let res = lead
            .post(format!("{base}/assessments"))
            .form(&[
                ("csrf_token", csrf.as_str()),
                ("organisation_id", &org),
                ("framework_id", "daha"),
            ])
            .send()
            .await
            .expect("enrol");
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "enrol {name}");
        assessments.push(location(&res));
        organisation_ids.push(org);
    }
    let res = lead
        .post(format!("{base}/training/sessions"))
        .form(&[
            ("csrf_token", csrf.as_str()),
            ("module", "dva-awareness/dva-awareness"),
            ("date", "05/02/2026"),
            ("start_time", "10:00"),
            ("venue", "Civic Centre"),
            ("trainer", "Niamh"),
            ("capacity", &(clients + 10).to_string()),
            ("cohort", ""),
        ])
        .send()
        .await
        .expect("create a session");
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "session");
    let session = location(&res);
    for n in 0..clients {
        let status = post_form(
            &lead,
            format!("{base}{session}/attendees"),
            &[
                ("csrf_token", csrf.as_str()),
                ("full_name", &format!("Soak Attendee {n}")),
                ("email", ""),
                ("organisation_id", &organisation_ids[n % ORGANISATIONS]),
                ("status", "absent"),
            ],
        )
        .await;
        assert_eq!(status, Some(StatusCode::SEE_OTHER), "attendee {n}");
    }
    let register = lead
        .get(format!("{base}{session}"))
        .send()
        .await
        .expect("register")
        .text()
        .await
        .unwrap_or_default();
    let mut attendance_ids: Vec<i64> = register
        .match_indices("name=\"status[")
        .filter_map(|(at, found)| {
            let rest = &register[at + found.len()..];
            rest[..rest.find(']')?].parse().ok()
        })
        .collect();
    attendance_ids.sort_unstable();
    attendance_ids.dedup();
    assert_eq!(attendance_ids.len(), clients, "one attendee per client on the register");
    let mut pages = vec![
        "/".to_string(),
        "/organisations".into(),
        "/assessments".into(),
        "/training".into(),
        "/training/sessions".into(),
        session.clone(),
        "/certificates".into(),
        "/audit".into(),
    ];
    pages.extend(organisation_ids.iter().map(|id| format!("/organisations/{id}")));
    pages.extend(assessments.iter().cloned());
    World {
        assessments,
        pages,
        session,
        attendance_ids,
    }
}

/// One client: round and round page views, evidence and its register mark until the deadline.
async fn client_loop(
    client: reqwest::Client,
    csrf: String,
    base: String,
    world: Arc<World>,
    n: usize,
    deadline: Instant,
) -> (Stats, Written) {
    let mut stats = Stats::new();
    let mut written = Written::default();
    let attendance = world.attendance_ids[n];
    let assessment = &world.assessments[n % world.assessments.len()];
    let mut step = n;
    while Instant::now() < deadline {
        step += 1;
        let started = Instant::now();
        match step % 5 {
            1 => {
                let title = format!("Soak statement {n}-{step}");
                let form = reqwest::multipart::Form::new()
                    .text("csrf_token", csrf.clone())
                    .text("kind", "statement")
                    .text("title", title.clone())
                    .text("statement", "How we work with survivors, written under load.")
                    .text("applies_from", "2026-01-01")
                    .text("valid_until", "");
                let status = client
                    .post(format!("{base}{assessment}/criteria/1.1.1/evidence"))
                    .multipart(form)
                    .send()
                    .await
                    .ok()
                    .map(|r| r.status());
                if status == Some(StatusCode::SEE_OTHER) {
                    written.evidence_titles.push(title);
                }
                record(&mut stats, EVIDENCE, started, status);
            }
            3 => {
                let mark = if step % 10 < 5 { "attended" } else { "absent" };
                let field = format!("status[{attendance}]");
                let status = post_form(
                    &client,
                    format!("{base}{}/register", world.session),
                    &[("csrf_token", csrf.as_str()), (field.as_str(), mark)],
                )
                .await;
                if status == Some(StatusCode::SEE_OTHER) {
                    written.last_mark = Some((attendance, mark));
                }
                record(&mut stats, MARK, started, status);
            }
            _ => {
                let page = &world.pages[step % world.pages.len()];
                let status = match client.get(format!("{base}{page}")).send().await {
                    Ok(res) => {
                        let status = res.status();
                        let body = res.bytes().await.map(|b| b.len()).unwrap_or(0);
                        stats.entry(PAGE).or_default().bytes += body;
                        Some(status)
                    }
                    Err(_) => None,
                };
                record(&mut stats, PAGE, started, status);
            }
        }
    }
    (stats, written)
}

/// The one import: a sheet of `rows` people uploaded and committed while
/// the clients work. Returns its path (`/training/imports/ID`) once committed.
async fn import_during(base: String, rows: usize, after: Duration) -> (Stats, Option<String>) {
    tokio::time::sleep(after).await;
    let mut stats = Stats::new();
    let (client, csrf) = signed_in(&base, LEAD_EMAIL, LEAD_PASSWORD).await;
    let mut sheet = String::from("Name,Organisation,Email,Date,Course,Attended\n");
    for n in 0..rows {
        sheet.push_str(&format!(
            "Soak Person {n},{IMPORT_ORGANISATION},soak.person{n}@refuge.example,14/01/2025,MARAC briefing,Yes\n"
        ));
    }
    let form = reqwest::multipart::Form::new().text("csrf_token", csrf.clone()).part(
        "file",
        reqwest::multipart::Part::bytes(sheet.into_bytes()).file_name("soak-register.csv"),
    );
    let started = Instant::now();
    let res = client
        .post(format!("{base}/training/imports"))
        .multipart(form)
        .send()
        .await
        .ok();
    record(&mut stats, UPLOAD, started, res.as_ref().map(|r| r.status()));
    let Some(res) = res.filter(|r| r.status() == StatusCode::SEE_OTHER) else {
        return (stats, None);
    };
    let import = location(&res);
    let started = Instant::now();
    let status = post_form(
        &client,
        format!("{base}{import}/commit"),
        &[("csrf_token", csrf.as_str())],
    )
    .await;
    record(&mut stats, COMMIT, started, status);
    (stats, (status == Some(StatusCode::SEE_OTHER)).then_some(import))
}

/// Counts and values read back from the database after the run.
async fn query_all(database_url: &str, sql: &str) -> Vec<(i64, String)> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url)
        .await
        .expect("connect to the database");
    let rows = sqlx::query_as(sql).fetch_all(&pool).await.expect(sql);
    pool.close().await;
    rows
}

async fn soak(backend: &str, database_url: &str, data_dir: &std::path::Path, settings: &Settings) {
    println!(
        "\nsoak on {backend}: {} clients for {} s, with one import of {} rows",
        settings.clients, settings.seconds, settings.import_rows
    );
    let migrate = support::qmtrack_command(data_dir, database_url)
        .arg("migrate")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("run qmtrack migrate");
    assert!(migrate.success(), "qmtrack migrate failed");
    let added = support::add_user(
        support::qmtrack_command(data_dir, database_url),
        LEAD_EMAIL,
        "Soak Lead",
        "programme_lead",
        LEAD_PASSWORD,
    );
    assert!(added, "could not add the bench's programme lead");
    let server = support::start(support::qmtrack_command(data_dir, database_url)).await;
    let world = Arc::new(set_up(&server.base, settings.clients).await);
    let mut signed = Vec::new();
    for _ in 0..settings.clients {
        signed.push(signed_in(&server.base, LEAD_EMAIL, LEAD_PASSWORD).await);
    }
    let started = Instant::now();
    let deadline = started + Duration::from_secs(settings.seconds);
    let importer = tokio::spawn(import_during(
        server.base.clone(),
        settings.import_rows,
        Duration::from_secs(settings.seconds / 4),
    ));
    let tasks: Vec<_> = signed
        .into_iter()
        .enumerate()
        .map(|(n, (client, csrf))| {
            tokio::spawn(client_loop(
                client,
                csrf,
                server.base.clone(),
                world.clone(),
                n,
                deadline,
            ))
        })
        .collect();
    let mut stats = Stats::new();
    let mut written = Vec::new();
    for task in tasks {
        let (client_stats, client_written) = task.await.expect("client task");
        for (kind, s) in client_stats {
            stats.entry(kind).or_default().merge(s);
        }
        written.push(client_written);
    }
    let elapsed = started.elapsed();
    let (import_stats, import) = importer.await.expect("import task");
    for (kind, s) in import_stats {
        stats.entry(kind).or_default().merge(s);
    }
    // The commit runs in the background: wait for it to finish.
    let import_id: i64 = import
        .as_deref()
        .and_then(|path| path.trim_start_matches("/training/imports/").parse().ok())
        .unwrap_or(0);
    let mut import_state = String::from("never committed");
    let wait_until = Instant::now() + Duration::from_secs(600);
    while import_id > 0 && Instant::now() < wait_until {
        let rows = query_all(
            database_url,
            &format!("SELECT id, state FROM imports WHERE id = {import_id}"),
        )
        .await;
        import_state = rows.first().map(|(_, s)| s.clone()).unwrap_or_default();
        if import_state != "running" && import_state != "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let requests: usize = stats.values().map(|s| s.latencies.len()).sum();
    println!(
        "{requests} requests in {:.1} s, {:.0} per second",
        elapsed.as_secs_f64(),
        requests as f64 / elapsed.as_secs_f64()
    );
    println!(
        "{:<16} {:>7} {:>9} {:>9} {:>9} {:>9} {:>5} {:>8}",
        "request", "n", "p50 ms", "p95 ms", "p99 ms", "max ms", "5xx", "failed"
    );
    let mut total_5xx = 0;
    for kind in KINDS {
        let Some(s) = stats.get_mut(kind) else { continue };
        s.latencies.sort();
        total_5xx += s.server_errors;
        println!(
            "{:<16} {:>7} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>5} {:>8}",
            kind,
            s.latencies.len(),
            ms(percentile(&s.latencies, 50.0)),
            ms(percentile(&s.latencies, 95.0)),
            ms(percentile(&s.latencies, 99.0)),
            ms(s.latencies.last().copied().unwrap_or_default()),
            s.server_errors,
            s.other_failures
        );
    }

    // Lost writes: acknowledged, but not in the database.
    let stored: std::collections::HashSet<String> = query_all(
        database_url,
        "SELECT id, title FROM evidence WHERE title LIKE 'Soak statement %'",
    )
    .await
    .into_iter()
    .map(|(_, title)| title)
    .collect();
    let acknowledged: Vec<&String> = written.iter().flat_map(|w| &w.evidence_titles).collect();
    let lost_evidence = acknowledged.iter().filter(|t| !stored.contains(t.as_str())).count();
    let marks: BTreeMap<i64, String> = query_all(
        database_url,
        &format!(
            "SELECT id, status FROM attendance WHERE id IN ({})",
            world
                .attendance_ids
                .iter()
                .map(i64::to_string)
                .collect::<Vec<_>>()
                .join(",")
        ),
    )
    .await
    .into_iter()
    .collect();
    let last_marks: Vec<(i64, &str)> = written.iter().filter_map(|w| w.last_mark).collect();
    let lost_marks = last_marks
        .iter()
        .filter(|(id, status)| marks.get(id).map(String::as_str) != Some(*status))
        .count();
    let imported = query_all(
        database_url,
        &format!("SELECT COUNT(*), 'rows' FROM attendance WHERE import_id = {import_id} AND import_id > 0"),
    )
    .await
    .first()
    .map(|(count, _)| *count as usize)
    .unwrap_or(0);
    let lost_import = settings.import_rows.saturating_sub(imported);
    println!(
        "writes acknowledged: {} evidence, {} register marks (the last of each client's), 1 import of {} rows ({import_state})",
        acknowledged.len(),
        last_marks.len(),
        settings.import_rows
    );
    println!(
        "lost writes: {} evidence, {} register marks, {} import rows (target: 0)",
        lost_evidence, lost_marks, lost_import
    );
    println!("5xx responses: {total_5xx} (target: 0)");
    drop(server);
}

/// A fresh database on the PostgreSQL server at `admin_url`; its URL and name.
async fn fresh_postgres(admin_url: &str) -> (String, String) {
    sqlx::any::install_default_drivers();
    let name = format!("qmtrack_soak_{}", std::process::id());
    let pool = sqlx::AnyPool::connect(admin_url).await.expect("connect to PostgreSQL");
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name}"))
        .execute(&pool)
        .await
        .expect("drop an old soak database");
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&pool)
        .await
        .expect("create the soak database");
    pool.close().await;
    let mut url = url::Url::parse(admin_url).expect("a PostgreSQL URL");
    url.set_path(&format!("/{name}"));
    (url.to_string(), name)
}

async fn drop_postgres(admin_url: &str, name: &str) {
    if let Ok(pool) = sqlx::AnyPool::connect(admin_url).await {
        let _ = sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .execute(&pool)
            .await;
        pool.close().await;
    }
}

#[rocket::main]
async fn main() {
    let settings = Settings {
        clients: env_number("QMTRACK_SOAK_CLIENTS", 64).max(1),
        seconds: env_number("QMTRACK_SOAK_SECONDS", 60).max(1) as u64,
        import_rows: env_number("QMTRACK_SOAK_IMPORT_ROWS", 5_000).max(1),
    };
    let sqlite_dir = tempfile::tempdir().expect("a temporary data folder");
    let sqlite_url = format!("sqlite://{}/qmtrack.sqlite", sqlite_dir.path().display());
    soak("sqlite", &sqlite_url, sqlite_dir.path(), &settings).await;
    if let Ok(admin_url) = std::env::var("QMTRACK_BENCH_POSTGRES_URL") {
        let data_dir = tempfile::tempdir().expect("a temporary data folder");
        let (url, name) = fresh_postgres(&admin_url).await;
        soak("postgres", &url, data_dir.path(), &settings).await;
        drop_postgres(&admin_url, &name).await;
    }
}
