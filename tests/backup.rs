//! Backups and restores, and the move from SQLite to PostgreSQL, as an
//! operator runs them: `qmtrack backup` while people are adding evidence,
//! `qmtrack restore` into a new place, then the restored app as people see
//! it.

mod assessment_support;
mod common;

use assessment_support::*;
use common::{
    fresh_database, qmtrack_on, stored_file, stored_names, Browser, Options, TestApp, TestDatabase, PASSWORD,
};
use reqwest::StatusCode;
use scraper::{Html, Selector};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

fn said(output: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

fn sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

/// An app with an organisation's member enrolled on DAHA.
async fn enrolled(options: Options) -> (TestApp, Browser, i64) {
    let app = TestApp::spawn_with(options).await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = app.user(&lead, "m@riverside.example", "org_member", Some(org)).await;
    let id = enrol(&member, None, "daha").await;
    (app, member, id)
}

/// A new, empty place to restore into: a database on this run's backend
/// and a data folder.
async fn empty_target() -> (tempfile::TempDir, TestDatabase) {
    let dir = tempfile::tempdir().expect("dir");
    let database = fresh_database(dir.path()).await;
    (dir, database)
}

/// The evidence on a criterion page: file name to download link.
async fn downloads(browser: &Browser, assessment: i64) -> HashMap<String, String> {
    let (status, body) = browser
        .get_text(&format!("/assessments/{assessment}/criteria/1.1.1"))
        .await;
    assert_eq!(status, StatusCode::OK);
    let page = Html::parse_document(&body);
    let card = Selector::parse("[id^='evidence-']").expect("selector");
    let link = Selector::parse("h3 a").expect("selector");
    let name = Selector::parse(".qm-body-s").expect("selector");
    page.select(&card)
        .filter_map(|card| {
            let href = card.select(&link).next()?.value().attr("href")?.to_string();
            let file = card.select(&name).next()?.text().collect::<String>();
            Some((file.trim().to_string(), href))
        })
        .collect()
}

async fn download(browser: &Browser, href: &str) -> Vec<u8> {
    let res = browser.get(href).await;
    assert_eq!(res.status(), StatusCode::OK, "{href}");
    res.bytes().await.expect("body").to_vec()
}

/// An upload the app answered: file name, content, and whether the answer
/// came before the backup started.
type Acknowledged = (String, Vec<u8>, bool);

#[rocket::async_test]
async fn a_backup_taken_while_people_add_evidence_restores_everything_acknowledged() {
    let (app, _member, assessment) = enrolled(Options::default()).await;
    let acknowledged: Arc<Mutex<Vec<Acknowledged>>> = Arc::default();
    let backup_started = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let mut clients = Vec::new();
    for client in 0..4 {
        let browser = app.browser();
        assert_eq!(
            browser.login("m@riverside.example", PASSWORD).await.status(),
            StatusCode::SEE_OTHER
        );
        let (acknowledged, backup_started, stop) = (acknowledged.clone(), backup_started.clone(), stop.clone());
        clients.push(rocket::tokio::spawn(async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                n += 1;
                let name = format!("policy-{client}-{n}.pdf");
                let bytes = samples::pdf(&format!("Policy {client} {n}"), &[]);
                let res = upload(&browser, assessment, "1.1.1", &name, bytes.clone(), &[]).await;
                assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name}");
                // Answered before the backup began: it must be in it.
                let before = !backup_started.load(Ordering::SeqCst);
                acknowledged.lock().expect("lock").push((name, bytes, before));
            }
        }));
    }
    // Let some uploads land, then back up while they go on.
    while acknowledged.lock().expect("lock").len() < 8 {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let archive = app.data_dir.join("..").join(format!(
        "backup-{}.zip",
        app.data_dir.file_name().and_then(|n| n.to_str()).unwrap_or("x")
    ));
    backup_started.store(true, Ordering::SeqCst);
    let (url, dir, out) = (app.database_url.clone(), app.data_dir.clone(), archive.clone());
    let output = rocket::tokio::task::spawn_blocking(move || {
        qmtrack_on(&url, &dir, &["backup", "--out", &out.display().to_string()])
    })
    .await
    .expect("backup ran");
    let during = acknowledged.lock().expect("lock").len();
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.await.expect("client finished");
    }
    assert!(output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("Wrote"), "{}", said(&output));
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&archive).expect("archive").permissions().mode();
    assert_eq!(mode & 0o777, 0o600, "the archive holds personal data");
    let uploads = acknowledged.lock().expect("lock").clone();
    assert!(
        uploads.len() > 8 && during > 8,
        "uploads went on during the backup: {during}"
    );

    let (target_dir, target) = empty_target().await;
    let target_url = target.url.clone();
    let target_data = target_dir.path().join("data");
    let output = qmtrack_on(&target_url, &target_data, &["restore", &archive.display().to_string()]);
    let _ = std::fs::remove_file(&archive);
    assert!(output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("Restored"), "{}", said(&output));

    let restored = TestApp::spawn_with(Options {
        existing: Some((target_url, target_data.clone())),
        ..Options::default()
    })
    .await;
    let member = {
        let browser = restored.browser();
        assert_eq!(
            browser.login("m@riverside.example", PASSWORD).await.status(),
            StatusCode::SEE_OTHER,
            "the restored accounts sign in"
        );
        browser
    };
    let shown = downloads(&member, assessment).await;
    let mut before = 0;
    for (name, bytes, acknowledged_before) in &uploads {
        match shown.get(name) {
            Some(href) => {
                assert_eq!(&download(&member, href).await, bytes, "{name} comes back the same");
                let stored = stored_file(
                    &restored.database_url,
                    &target_data,
                    &format!("evidence/{}", sha256(bytes)),
                )
                .await
                .expect("file restored");
                assert_eq!(&stored, bytes);
            }
            None => assert!(
                !acknowledged_before,
                "{name} was acknowledged before the backup and is missing"
            ),
        }
        before += usize::from(*acknowledged_before);
    }
    assert!(before >= 8);
    let attempted: Vec<&String> = uploads.iter().map(|(name, _, _)| name).collect();
    for name in shown.keys() {
        assert!(attempted.contains(&name), "{name} was never uploaded");
    }
    drop(member);
    drop(restored);
}

#[rocket::async_test]
async fn restore_refuses_a_target_in_use_and_a_tampered_archive() {
    let (app, member, assessment) = enrolled(Options::default()).await;
    let bytes = samples::pdf("Safeguarding policy", &[]);
    let res = upload(&member, assessment, "1.1.1", "safeguarding.pdf", bytes.clone(), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let work = tempfile::tempdir().expect("dir");
    let archive = work.path().join("backup.zip");
    let output = qmtrack_on(
        &app.database_url,
        &app.data_dir,
        &["backup", "--out", &archive.display().to_string()],
    );
    assert!(output.status.success(), "{}", said(&output));

    // Into the running app's own database and folder: refused, unchanged.
    let output = qmtrack_on(
        &app.database_url,
        &app.data_dir,
        &["restore", &archive.display().to_string()],
    );
    assert!(!output.status.success());
    assert!(
        said(&output).contains("already holds files") || said(&output).contains("is not empty"),
        "{}",
        said(&output)
    );
    assert_eq!(evidence_rows(&app).await, 1);

    // An empty data folder but a database with rows: refused too.
    let elsewhere = work.path().join("other-data");
    let output = qmtrack_on(
        &app.database_url,
        &elsewhere,
        &["restore", &archive.display().to_string()],
    );
    assert!(!output.status.success());
    assert!(said(&output).contains("is not empty"), "{}", said(&output));

    // One evidence file changed inside the archive: refused, nothing restored.
    let tampered = work.path().join("tampered.zip");
    rewrite_archive(&archive, &tampered, &format!("files/evidence/{}", sha256(&bytes)));
    let (target_dir, target) = empty_target().await;
    let target_url = target.url.clone();
    let target_data = target_dir.path().join("data");
    let output = qmtrack_on(&target_url, &target_data, &["restore", &tampered.display().to_string()]);
    assert!(!output.status.success());
    assert!(
        said(&output).contains("does not match the manifest"),
        "{}",
        said(&output)
    );
    assert!(
        stored_names(&target_url, &target_data, "evidence").await.is_empty(),
        "no file was put in place"
    );
    // The untouched archive restores into that same target afterwards.
    let output = qmtrack_on(&target_url, &target_data, &["restore", &archive.display().to_string()]);
    assert!(output.status.success(), "{}", said(&output));
    assert_eq!(
        stored_file(&target_url, &target_data, &format!("evidence/{}", sha256(&bytes)))
            .await
            .expect("restored file"),
        bytes
    );
}

/// Copies a zip archive, changing the last byte of one entry.
fn rewrite_archive(from: &Path, to: &Path, changed: &str) {
    use std::io::{Read, Write};
    let mut source = zip::ZipArchive::new(std::fs::File::open(from).expect("open")).expect("zip");
    let mut out = zip::ZipWriter::new(std::fs::File::create(to).expect("create"));
    let mut found = false;
    for i in 0..source.len() {
        let mut entry = source.by_index(i).expect("entry");
        let name = entry.name().expect("entry name").to_string();
        let mut content = Vec::new();
        entry.read_to_end(&mut content).expect("read");
        if name == changed {
            if let Some(last) = content.last_mut() {
                *last ^= 0x01;
            }
            found = true;
        }
        out.start_file(name, zip::write::SimpleFileOptions::default())
            .expect("start");
        out.write_all(&content).expect("write");
    }
    out.finish().expect("finish");
    assert!(found, "{changed} is in the archive");
}

#[rocket::async_test]
async fn copy_database_moves_a_sqlite_database_to_postgres_and_the_app_serves_it() {
    if std::env::var("QMTRACK_TEST_POSTGRES_URL").map_or(true, |url| url.is_empty()) {
        eprintln!(
            "SKIPPED: copy-database needs QMTRACK_TEST_POSTGRES_URL (a PostgreSQL server); scripts/test.sh sets it"
        );
        return;
    }
    let sqlite_dir = tempfile::tempdir().expect("dir");
    let sqlite_url = format!("sqlite://{}", sqlite_dir.path().join("qmtrack.sqlite").display());
    let data_dir: PathBuf = sqlite_dir.path().to_path_buf();
    let (app, member, assessment) = enrolled(Options {
        existing: Some((sqlite_url.clone(), data_dir.clone())),
        ..Options::default()
    })
    .await;
    let bytes = samples::pdf("Training plan", &[]);
    let res = upload(&member, assessment, "1.1.1", "training-plan.pdf", bytes.clone(), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let (_pg_dir, pg) = empty_target().await;
    let pg_url = pg.url.clone();
    assert!(pg_url.starts_with("postgres"), "{pg_url}");
    let output = qmtrack_on(&sqlite_url, &data_dir, &["copy-database", "--to", &pg_url]);
    assert!(output.status.success(), "{}", said(&output));
    assert!(said(&output).contains("every table's rows match"), "{}", said(&output));
    assert!(said(&output).contains("1 files"), "{}", said(&output));
    // A second copy into the now-filled database is refused.
    let output = qmtrack_on(&sqlite_url, &data_dir, &["copy-database", "--to", &pg_url]);
    assert!(!output.status.success());
    assert!(said(&output).contains("is not empty"), "{}", said(&output));
    drop(member);
    drop(app);

    // Served with an empty data folder: on PostgreSQL the files were copied
    // into the database, where every app server finds them.
    let moved = TestApp::spawn_with(Options {
        existing: Some((pg_url, _pg_dir.path().join("data"))),
        ..Options::default()
    })
    .await;
    let member = moved.browser();
    assert_eq!(
        member.login("m@riverside.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let shown = downloads(&member, assessment).await;
    let href = shown.get("training-plan.pdf").expect("the copied evidence is listed");
    assert_eq!(download(&member, href).await, bytes);
    // New rows get new ids after the copied ones (the sequences moved on).
    let lead = moved.browser();
    assert_eq!(
        lead.login("lead@council.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let second = moved.organisation(&lead, "Northside Refuge", "housing_provider").await;
    assert!(second > 1, "{second}");
    let (status, body) = lead.get_text("/organisations").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("Riverside Homes") && body.contains("Northside Refuge"));
}
