//! Many people writing at once. 32 clients hit each kind of write route
//! together (evidence, organisation aliases, organisation create and edit,
//! review decisions, register marks): no request may fail with a server
//! error, and every write the app acknowledged must be in the database
//! afterwards. On SQLite, writers must wait their turn rather than fail
//! with "database is locked".

mod assessment_support;
mod common;

use assessment_support::{criteria, decide, enrol, fill, statement, submit};
use common::{location, organisation_form, Browser, TestApp};
use reqwest::StatusCode;
use rocket::futures::future::join_all;
use std::future::Future;

const CLIENTS: usize = 32;

/// Runs `CLIENTS` clients at once; each gets its number and returns the
/// statuses of its requests, tagged with what it wrote.
async fn together<F, Fut>(client: F) -> Vec<(StatusCode, String)>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = Vec<(StatusCode, String)>>,
{
    join_all((0..CLIENTS).map(client)).await.into_iter().flatten().collect()
}

/// No server errors; returns the writes that were acknowledged (303).
fn acknowledged(what: &str, results: &[(StatusCode, String)]) -> Vec<String> {
    let failures: Vec<_> = results.iter().filter(|(s, _)| s.is_server_error()).collect();
    assert!(
        failures.is_empty(),
        "{what}: {} of {} requests failed with a server error: {:?}",
        failures.len(),
        results.len(),
        &failures[..failures.len().min(5)]
    );
    results
        .iter()
        .filter(|(s, _)| *s == StatusCode::SEE_OTHER)
        .map(|(_, written)| written.clone())
        .collect()
}

async fn query_texts(app: &TestApp, sql: &str) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("connect");
    let rows: Vec<(String,)> = sqlx::query_as(sql).fetch_all(&pool).await.expect("query");
    pool.close().await;
    rows.into_iter().map(|(text,)| text).collect()
}

fn assert_all_present(what: &str, acknowledged: &[String], stored: &[String]) {
    let missing: Vec<_> = acknowledged.iter().filter(|w| !stored.contains(w)).collect();
    assert!(missing.is_empty(), "{what}: acknowledged but not stored: {missing:?}");
}

async fn post_form(browser: &Browser, page: &str, action: &str, fields: &[(&str, &str)]) -> StatusCode {
    browser.submit(page, action, fields).await.status()
}

#[rocket::async_test]
async fn writers_on_every_route_wait_their_turn() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Eastvale Housing", "housing_provider").await;
    let member = app
        .user(&lead, "member@eastvale.example", "org_member", Some(org))
        .await;
    let assessor = app.user(&lead, "assessor@council.example", "assessor", None).await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;

    // Evidence: written statements added to one assessment all at once.
    let assessment = enrol(&member, None, "daha").await;
    let results = together(|client| {
        let member = member.clone();
        async move {
            let mut out = Vec::new();
            for n in 0..3 {
                let title = format!("Statement {client}-{n}");
                let res = statement(&member, assessment, "1.1.1", &title, "How we do it").await;
                out.push((res.status(), title));
            }
            out
        }
    })
    .await;
    let written = acknowledged("evidence", &results);
    assert_eq!(
        written.len(),
        results.len(),
        "nothing conflicts: every statement is saved"
    );
    let stored = query_texts(&app, "SELECT title FROM evidence").await;
    assert_all_present("evidence", &written, &stored);

    // Aliases of one organisation.
    let page = format!("/organisations/{org}");
    let action = format!("/organisations/{org}/aliases");
    let results = together(|client| {
        let (lead, page, action) = (lead.clone(), page.clone(), action.clone());
        async move {
            let mut out = Vec::new();
            for n in 0..3 {
                let alias = format!("Eastvale alias {client} {n}");
                out.push((post_form(&lead, &page, &action, &[("alias", &alias)]).await, alias));
            }
            out
        }
    })
    .await;
    let written = acknowledged("aliases", &results);
    assert_eq!(written.len(), results.len());
    let stored = query_texts(&app, "SELECT alias FROM organisation_aliases").await;
    assert_all_present("aliases", &written, &stored);

    // Organisations created, then each edited, all at once.
    let results = together(|client| {
        let lead = lead.clone();
        async move {
            let name = format!("Partner {client}");
            let res = lead
                .submit(
                    "/organisations/new",
                    "/organisations",
                    &organisation_form(&name, "voluntary_sector"),
                )
                .await;
            let status = res.status();
            let id = location(&res).trim_start_matches("/organisations/").to_string();
            vec![(status, format!("{name}|{id}"))]
        }
    })
    .await;
    let created = acknowledged("organisation create", &results);
    assert_eq!(created.len(), CLIENTS);
    let stored = query_texts(&app, "SELECT name FROM organisations").await;
    let names: Vec<String> = created
        .iter()
        .map(|w| w.split('|').next().unwrap_or_default().to_string())
        .collect();
    assert_all_present("organisation create", &names, &stored);
    let results = together(|client| {
        let (lead, written) = (lead.clone(), created[client].clone());
        async move {
            let (name, id) = written.split_once('|').unwrap_or_default();
            let locality = format!("Ward {client}");
            let mut fields = organisation_form(name, "voluntary_sector");
            for field in fields.iter_mut().filter(|(field, _)| *field == "locality") {
                field.1 = &locality;
            }
            let edit = format!("/organisations/{id}/edit");
            let status = post_form(&lead, &edit, &edit, &fields).await;
            vec![(status, locality)]
        }
    })
    .await;
    let written = acknowledged("organisation edit", &results);
    assert_eq!(written.len(), CLIENTS);
    let stored = query_texts(&app, "SELECT locality FROM organisations").await;
    assert_all_present("organisation edit", &written, &stored);

    // Review decisions on a submitted assessment. One is recorded first, so
    // the review is under way and the parallel ones do not race to start it.
    let mandatory = criteria("daha", true);
    let reviewed_org = app.organisation(&lead, "Westvale Homes", "housing_provider").await;
    let reviewed = enrol(&lead, Some(reviewed_org), "daha").await;
    fill(&lead, reviewed, &mandatory).await;
    assert_eq!(submit(&lead, reviewed).await.status(), StatusCode::SEE_OTHER);
    let res = decide(&assessor, reviewed, &[(mandatory[0].as_str(), "met", "first look")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let results = together(|client| {
        let (assessor, criterion) = (assessor.clone(), mandatory[client % mandatory.len()].clone());
        async move {
            let feedback = format!("Decision from client {client}");
            let res = decide(&assessor, reviewed, &[(criterion.as_str(), "met", feedback.as_str())]).await;
            vec![(res.status(), feedback)]
        }
    })
    .await;
    let written = acknowledged("review decisions", &results);
    assert_eq!(written.len(), CLIENTS);
    let stored = query_texts(&app, "SELECT feedback FROM review_decisions").await;
    assert_all_present("review decisions", &written, &stored);

    // A register: each client marks a different attendee at once.
    let names: Vec<String> = (0..CLIENTS).map(|n| format!("Attendee {n}")).collect();
    let people: Vec<(&str, i64)> = names.iter().map(|name| (name.as_str(), org)).collect();
    let session = common::dva_session_with(&trainer, "05/02/2026", &people, "absent").await;
    let attendance = query_texts(&app, "SELECT CAST(id AS TEXT) FROM attendance ORDER BY id").await;
    assert_eq!(attendance.len(), CLIENTS);
    let results = together(|client| {
        let (trainer, session, id) = (trainer.clone(), session.clone(), attendance[client].clone());
        async move {
            let field = format!("status[{id}]");
            let status = post_form(
                &trainer,
                &session,
                &format!("{session}/register"),
                &[(&field, "attended")],
            )
            .await;
            vec![(status, id)]
        }
    })
    .await;
    let written = acknowledged("register marks", &results);
    assert_eq!(written.len(), CLIENTS);
    let stored = query_texts(
        &app,
        "SELECT CAST(id AS TEXT) FROM attendance WHERE status = 'attended'",
    )
    .await;
    assert_all_present("register marks", &written, &stored);
    // Every completion earned one certificate, however many saves ran at once.
    let certificates = query_texts(&app, "SELECT CAST(person_id AS TEXT) FROM certificates").await;
    let mut distinct = certificates.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(certificates.len(), distinct.len(), "no certificate issued twice");
    // The session's records kept for the reports have every mark, not just
    // those of the last save to commit.
    common::assert_session_records_rebuilt(&app.database_url, "saves at once").await;
}
