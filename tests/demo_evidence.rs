//! `qmtrack demo` adds assessments at every stage, with real files in the
//! evidence store, and adds nothing the second time.

mod assessment_support;
mod common;

use common::{demo, texts, TestApp};
use reqwest::StatusCode;

#[rocket::async_test]
async fn the_demo_has_assessments_at_every_stage_once() {
    let app = TestApp::spawn().await;
    let first = demo(&app);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let printed = String::from_utf8_lossy(&first.stdout).to_string();
    assert!(
        printed.contains("Assessments: 10 added (10 in the demo set)"),
        "{printed}"
    );
    let lead_password = printed
        .lines()
        .find(|l| l.contains("alex.morgan@"))
        .and_then(|l| l.split("password: ").nth(1))
        .expect("password")
        .trim()
        .to_string();
    let files = assessment_support::stored_files(&app).await;
    assert!(files.len() >= 10, "{files:?}");
    let rows = assessment_support::evidence_rows(&app).await;

    let second = demo(&app);
    assert!(second.status.success());
    assert!(String::from_utf8_lossy(&second.stdout).contains("Assessments: 0 added"));
    assert_eq!(assessment_support::evidence_rows(&app).await, rows, "no duplicates");
    assert_eq!(assessment_support::stored_files(&app).await.len(), files.len());

    // The demo dates things from today; the app's test clock must agree.
    let behind = chrono::Utc::now() - app.clock.now();
    if behind > chrono::Duration::zero() {
        app.clock.advance(behind);
    }
    let lead = app.browser();
    assert_eq!(
        lead.login("alex.morgan@northbridge.example.org", &lead_password)
            .await
            .status(),
        StatusCode::SEE_OTHER
    );
    let (_, body) = lead.get_text("/assessments").await;
    assert!(body.contains("11 assessments"), "ten and a renewal");
    let stages: Vec<String> = texts(&body, ".qm-table tbody .qm-tag");
    for stage in [
        "Enrolled",
        "In progress",
        "Submitted",
        "Changes requested",
        "Resubmitted",
        "Recommended for award",
        "Awarded",
        "Renewal due",
        "Expired",
        "Revoked",
    ] {
        assert!(stages.iter().any(|s| s == stage), "{stage} missing from {stages:?}");
    }
    let (_, queue) = lead.get_text("/reviews").await;
    let waiting = texts(&queue, ".qm-table tbody tr");
    assert_eq!(waiting.len(), 3, "{waiting:?}");
    assert!(waiting[0].contains("20 days"), "oldest first: {waiting:?}");

    // A demo file downloads and is what it says it is.
    let doc = scraper::Html::parse_document(&body);
    let link = scraper::Selector::parse(".qm-table a[href^='/assessments/']").expect("selector");
    let first = doc
        .select(&link)
        .filter_map(|a| a.value().attr("href"))
        .next()
        .expect("an assessment")
        .to_string();
    let (_, page) = lead.get_text(&format!("{first}/criteria/1.1.1")).await;
    let doc = scraper::Html::parse_document(&page);
    let download = scraper::Selector::parse("a[href$='/download']").expect("selector");
    let href = doc
        .select(&download)
        .filter_map(|a| a.value().attr("href"))
        .next()
        .expect("the first criterion has a file");
    let res = lead.get(href).await;
    assert_eq!(res.status(), StatusCode::OK);
    let bytes = res.bytes().await.expect("bytes");
    assert!(bytes.starts_with(b"%PDF-"), "a real PDF");

    // The demo awards through the same workflow as the web, so every award
    // (renewed, current, revoked and expired) has its certificate, in the
    // state its award is in.
    let token = common::api_token(&lead, "demo check").await;
    let (status, listed) = common::api(&app, &token, "/certificates").await;
    assert_eq!(status, StatusCode::OK);
    let mut award_states: Vec<String> = listed["certificates"]
        .as_array()
        .expect("a list")
        .iter()
        .filter(|c| c["kind"] == "award")
        .map(|c| c["state"].as_str().unwrap_or_default().to_string())
        .collect();
    award_states.sort();
    assert_eq!(award_states, ["expired", "revoked", "valid", "valid"], "{listed}");
    // And its history reads as the web's would: the award and its certificate in the audit log.
    assert_eq!(assessment_support::audit_count(&lead, "assessment.award").await, 4);
}

/// Every column of a certificate, holders read as 0 and other absent
/// values as '' (the shape before migrations 0005, 0012 and 0030) so rows
/// compare across it.
#[derive(Debug, PartialEq, sqlx::FromRow)]
struct CertificateColumns {
    id: i64,
    code: String,
    kind: String,
    person: i64,
    organisation_id: i64,
    programme_id: String,
    completion_id: String,
    assessment: i64,
    holder_name: String,
    title: String,
    issued_on: String,
    expires_on: String,
    revoked_at: String,
    revoked_reason: String,
    superseded_by_code: String,
    created_at: String,
}

async fn all_certificates(raw: &sqlx::AnyPool) -> Vec<CertificateColumns> {
    sqlx::query_as(
        "SELECT id, code, kind, COALESCE(person_id, 0) AS person, organisation_id,
             COALESCE(programme_id, '') AS programme_id, COALESCE(completion_id, '') AS completion_id,
             COALESCE(assessment_id, 0) AS assessment, holder_name, title, issued_on, COALESCE(expires_on, '') AS expires_on,
             COALESCE(revoked_at, '') AS revoked_at, revoked_reason,
             COALESCE(superseded_by_code, '') AS superseded_by_code, created_at
         FROM certificates ORDER BY id",
    )
    .fetch_all(raw)
    .await
    .expect("certificates")
}

/// Migration 0005 (certificate holders become nullable foreign keys with a
/// CHECK) on a database holding the demo's data as the migrations before it
/// stored them: every certificate comes through unchanged, "no holder" is
/// NULL rather than 0, and the constraints hold afterwards.
#[rocket::async_test]
async fn certificate_holders_migrate_with_every_row() {
    let app = TestApp::spawn().await;
    let output = demo(&app);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pool = qmtrack::db::connect(&app.database_url, 1).await.expect("pool");
    // Raw SQL on the tables, outside the data layer.
    sqlx::any::install_default_drivers();
    let raw = sqlx::AnyPool::connect(&app.database_url).await.expect("raw pool");
    if pool.backend() == qmtrack::db::Backend::Postgres {
        // As text, as they were before 0019 typed them (and as 0004 makes them).
        sqlx::raw_sql(
            "ALTER TABLE certificates
                 ALTER COLUMN issued_on TYPE TEXT USING to_char(issued_on, 'YYYY-MM-DD'),
                 ALTER COLUMN expires_on TYPE TEXT USING to_char(expires_on, 'YYYY-MM-DD'),
                 ALTER COLUMN revoked_at TYPE TEXT
                     USING to_char(revoked_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),
                 ALTER COLUMN created_at TYPE TEXT
                     USING to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')",
        )
        .execute(&raw)
        .await
        .expect("dates as text");
    }
    let before = all_certificates(&raw).await;
    assert!(before.iter().any(|c| c.kind == "award") && before.iter().any(|c| c.kind == "training"));

    // Back to the schema 0004 made, by its own text, holding the same rows
    // with 0 for "no holder" as the code before 0005 wrote them.
    let (old_schema, drop_constraints) = match pool.backend() {
        qmtrack::db::Backend::Sqlite => (include_str!("../migrations/sqlite/0004_certificates.sql"), ""),
        qmtrack::db::Backend::Postgres => (
            include_str!("../migrations/postgres/0004_certificates.sql"),
            "ALTER TABLE certificates_v5 DROP CONSTRAINT certificates_one_holder;",
        ),
    };
    use sqlx::Executor;
    let mut conn = raw.acquire().await.expect("connection");
    conn.execute(
        "DROP INDEX certificates_by_completion; DROP INDEX certificates_by_organisation;
         DROP INDEX certificates_by_assessment; ALTER TABLE certificates RENAME TO certificates_v5;",
    )
    .await
    .expect("set the new table aside");
    if !drop_constraints.is_empty() {
        conn.execute(drop_constraints).await.expect("constraints");
    }
    conn.execute(old_schema).await.expect("0004's table");
    conn.execute(
        "INSERT INTO certificates (id, code, kind, person_id, organisation_id, programme_id, completion_id,
             assessment_id, holder_name, title, issued_on, expires_on, revoked_at, revoked_reason,
             superseded_by_code, created_at)
         SELECT id, code, kind, COALESCE(person_id, 0), organisation_id, COALESCE(programme_id, ''),
             COALESCE(completion_id, ''),
             COALESCE(assessment_id, 0), holder_name, title, issued_on, COALESCE(expires_on, ''),
             COALESCE(revoked_at, ''), revoked_reason, COALESCE(superseded_by_code, ''), created_at
         FROM certificates_v5;
         DROP TABLE certificates_v5;
         DELETE FROM _sqlx_migrations WHERE version = 5;",
    )
    .await
    .expect("rows in the old shape");
    drop(conn);
    let (zeros,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM certificates WHERE person_id = 0 OR assessment_id = 0")
        .fetch_one(&raw)
        .await
        .expect("count");
    assert_eq!(zeros as usize, before.len(), "every row has one holder written as 0");

    qmtrack::db::migrate(&pool).await.expect("0005 applies");
    assert_eq!(
        all_certificates(&raw).await,
        before,
        "every certificate survives unchanged"
    );
    let (zeros, nulls): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT COUNT(*) FROM certificates WHERE person_id = 0 OR assessment_id = 0),
                (SELECT COUNT(*) FROM certificates WHERE person_id IS NULL OR assessment_id IS NULL)",
    )
    .fetch_one(&raw)
    .await
    .expect("count");
    assert_eq!((zeros, nulls as usize), (0, before.len()), "no holder is NULL now");

    // A certificate with no holder, or a holder that does not exist, is refused.
    let organisation = before[0].organisation_id;
    for (id, person, assessment) in [(900001, "NULL", "NULL"), (900002, "999999", "NULL")] {
        let refused = sqlx::query(&format!(
            "INSERT INTO certificates (id, code, kind, person_id, organisation_id, assessment_id, holder_name, title,
                 issued_on, created_at)
             VALUES ({id}, 'TEST-CODE-{id}', 'training', {person}, {organisation}, {assessment}, 'X', 'Y',
                 '2026-01-01', '2026-01-01T00:00:00Z')"
        ))
        .execute(&raw)
        .await;
        assert!(refused.is_err(), "person {person} accepted");
    }
}

/// `qmtrack demo` before the first start (as the README says to try it)
/// leaves completions recorded as worked out under today's programme files,
/// so the server's first start does not work them all out again: on the
/// large set that took a minute. When the files do change, the next door
/// to open works them out again once, with an audit entry.
#[rocket::async_test]
async fn the_demo_leaves_completions_current_for_the_first_start() {
    let dir = tempfile::tempdir().expect("temporary folder");
    let database = common::fresh_database(dir.path()).await;
    let output = common::qmtrack_on(&database.url, dir.path(), &["demo"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&database.url).await.expect("connect");
    let recorded: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM derived_fingerprints WHERE name = 'completions'")
        .fetch_one(&pool)
        .await
        .expect("fingerprints");
    let kept: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_completions")
        .fetch_one(&pool)
        .await
        .expect("completions");
    assert_eq!(recorded, 1, "the programme files the completions were worked out with");
    assert!(kept > 0, "the demo's training gives completions");

    // As if the programme files had changed since: the next command to open the
    // app works them all out again, once, and the audit log says so.
    for statement in [
        "UPDATE derived_fingerprints SET fingerprint = 'older programme files' WHERE name = 'completions'",
        "DELETE FROM person_completions",
    ] {
        sqlx::query(statement).execute(&pool).await.expect("make them stale");
    }
    let out = dir.path().join("report.json");
    let report = [
        "report",
        "--from",
        "2025-04-01",
        "--to",
        "2026-03-31",
        "--format",
        "json",
        "--out",
        out.to_str().expect("path"),
    ];
    for _ in 0..2 {
        let output = common::qmtrack_on(&database.url, dir.path(), &report);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let rebuilt: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM person_completions")
        .fetch_one(&pool)
        .await
        .expect("completions");
    assert_eq!(rebuilt, kept, "the same completions, worked out again");
    let entries: Vec<(String, String)> =
        sqlx::query_as("SELECT actor_label, after_json FROM audit_log WHERE action = 'completions.rebuild'")
            .fetch_all(&pool)
            .await
            .expect("audit");
    pool.close().await;
    assert_eq!(entries.len(), 1, "once, not on every command: {entries:?}");
    assert_eq!(entries[0].0, "command line (report)");
    assert!(
        entries[0].1.contains(&format!("\"completions\":{kept}")),
        "{}",
        entries[0].1
    );
}
