//! Pages that stay small and fast however much is recorded: the review
//! queue and the user list come a page at a time, an organisation's page
//! reads only its own accounts, adding an attendee looks up only the people
//! who could be them, one record's history is a filter of the audit log,
//! and the dashboard's shared figures follow every new attendance.

mod common;

use common::{attrs, dva_session_attended_by, location, texts, Browser, TestApp};
use qmtrack::db::{Bind, Instant};
use reqwest::StatusCode;

/// Connects to the test's database directly, as an operator would.
async fn pool_of(app: &TestApp) -> qmtrack::db::Pool {
    qmtrack::db::connect(&app.database_url, 1).await.expect("connect")
}

async fn execute(pool: &qmtrack::db::Pool, sql: &str, values: &[Bind<'_>]) {
    let mut conn = pool.acquire().await.expect("connection");
    qmtrack::db::execute(&mut conn, sql, values).await.expect("statement");
}

fn at(text: &str) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(text).expect("instant").into()
}

/// The link text of each row's first cell: the records a list page shows.
fn first_cells(body: &str) -> Vec<String> {
    texts(body, "table.qm-table tbody tr td:first-child a")
}

fn rel_link(body: &str, rel: &str) -> Option<String> {
    attrs(body, &format!("nav.qm-pagination a[rel={rel}]"), "href")
        .into_iter()
        .next()
}

#[rocket::async_test]
async fn the_review_queue_comes_fifty_at_a_time_longest_waiting_first() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let pool = pool_of(&app).await;
    // 55 assessments sent for review on 55 different days, the first the
    // longest waiting. The queue reads the stored state; putting it there
    // directly saves filling in 55 sets of evidence.
    let mut names = Vec::new();
    for n in 1..=55 {
        let name = format!("Housing {n:02}");
        let organisation = app.organisation(&lead, &name, "housing_provider").await;
        let sent = at("2025-01-01T09:00:00Z") + chrono::Duration::days(n);
        execute(
            &pool,
            "INSERT INTO assessments (organisation_id, framework_id, framework_version, state, submission,
                 enrolled_at, submitted_at, updated_at)
             VALUES ($1, 'daha', '2024.1', 'submitted', 1, $2, $2, $2)",
            &[organisation.into(), Instant(sent).into()],
        )
        .await;
        names.push(name);
    }
    pool.close().await;

    let (status, first) = lead.get_text("/reviews").await;
    assert_eq!(status, StatusCode::OK);
    let shown = first_cells(&first);
    assert_eq!(shown.len(), 50);
    assert!(shown
        .iter()
        .zip(&names)
        .all(|(row, name)| row.starts_with(name.as_str())));
    assert!(texts(&first, "main p").iter().any(|p| p.contains("55 in all")));
    assert_eq!(rel_link(&first, "prev"), None);
    let next = rel_link(&first, "next").expect("a link to the next page");
    assert_eq!(next, "/reviews?page=2");

    let (status, second) = lead.get_text(&next).await;
    assert_eq!(status, StatusCode::OK);
    let rest = first_cells(&second);
    assert_eq!(rest.len(), 5, "{rest:?}");
    assert!(rest
        .iter()
        .zip(&names[50..])
        .all(|(row, name)| row.starts_with(name.as_str())));
    assert_eq!(rel_link(&second, "next"), None);
    assert_eq!(rel_link(&second, "prev").as_deref(), Some("/reviews?page=1"));
    assert!(texts(&second, "nav.qm-pagination").concat().contains("Page 2 of 2"));

    // Past the end: no rows, and the way back.
    let (status, beyond) = lead.get_text("/reviews?page=3").await;
    assert_eq!(status, StatusCode::OK);
    assert!(first_cells(&beyond).is_empty());
    assert!(attrs(&beyond, "main a", "href").contains(&"/reviews".to_string()));
}

#[rocket::async_test]
async fn users_come_a_page_at_a_time_and_an_organisation_lists_only_its_own_accounts() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let alpha = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let beta = app.organisation(&lead, "Beta Refuge", "voluntary_sector").await;
    let pool = pool_of(&app).await;
    // 60 accounts (made directly: hashing 60 passwords through the form
    // would take most of the test), 30 at each organisation.
    for n in 1..=60 {
        let (organisation, name) = if n % 2 == 0 { (alpha, "Alpha") } else { (beta, "Beta") };
        execute(
            &pool,
            "INSERT INTO users (email, name, password_hash, role, organisation_id, active, created_at, updated_at)
             VALUES ($1, $2, 'not a hash', 'org_member', $3, TRUE, $4, $4)",
            &[
                format!("member{n:02}@example.org").into(),
                format!("{name} member {n:02}").into(),
                organisation.into(),
                Instant(at("2026-03-01T09:00:00Z")).into(),
            ],
        )
        .await;
    }
    pool.close().await;

    let (status, first) = lead.get_text("/users").await;
    assert_eq!(status, StatusCode::OK);
    let mut everyone = first_cells(&first);
    assert_eq!(everyone.len(), 50);
    let next = rel_link(&first, "next").expect("a next page");
    let (_, second) = lead.get_text(&next).await;
    everyone.extend(first_cells(&second));
    assert_eq!(rel_link(&second, "next"), None);
    // The lead and the 60 members, each once.
    assert_eq!(everyone.len(), 61, "{everyone:?}");
    let mut distinct = everyone.clone();
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 61);

    let (_, page) = lead.get_text(&format!("/organisations/{alpha}")).await;
    let text = common::page_text(&page);
    assert!(text.contains("Alpha member 02") && text.contains("Alpha member 60"));
    assert!(!text.contains("Beta member"), "another organisation's accounts");
}

async fn add_attendee(trainer: &Browser, session: &str, name: &str, email: &str, organisation: &str) -> String {
    let res = trainer
        .submit(
            session,
            &format!("{session}/attendees"),
            &[
                ("full_name", name),
                ("email", email),
                ("organisation_id", organisation),
                ("status", "attended"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = trainer.get_text(&location(&res)).await;
    page
}

#[rocket::async_test]
async fn an_attendee_is_found_by_email_or_by_name_at_their_organisation() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let refuge = app.organisation(&lead, "Harbour Refuge", "voluntary_sector").await;
    let other = app.organisation(&lead, "Other Homes", "housing_provider").await;
    let first = dva_session_attended_by(&lead, "05/02/2026", &[]).await;
    let second = dva_session_attended_by(&lead, "12/02/2026", &[]).await;
    let third = dva_session_attended_by(&lead, "19/02/2026", &[]).await;

    add_attendee(&lead, &first, "Amy Pond", "amy@harbour.example", &refuge.to_string()).await;
    // The same email, with no organisation given: the person on record.
    let page = add_attendee(&lead, &second, "Amy Pond", "amy@harbour.example", "").await;
    assert!(page.contains("Amy Pond is on the register"), "found by email");
    // The same name at the same organisation, with no email: the same person.
    add_attendee(&lead, &third, "Amy Pond", "", &refuge.to_string()).await;
    // Unknown email and no organisation: refused, asking for one.
    let page = add_attendee(&lead, &third, "Rory Williams", "rory@elsewhere.example", "").await;
    assert!(page.contains("Rory Williams is not on record yet"));
    // The same name at another organisation is someone else.
    add_attendee(&lead, &third, "Amy Pond", "", &other.to_string()).await;

    let (_, refuge_page) = lead.get_text(&format!("/organisations/{refuge}")).await;
    let amy: Vec<String> = attrs(&refuge_page, "a", "href")
        .into_iter()
        .filter(|h| h.starts_with("/people/") && h.ends_with("/training"))
        .collect();
    assert_eq!(amy.len(), 1, "one Amy Pond at the refuge: {amy:?}");
    let (_, training) = lead.get_text(&amy[0]).await;
    for day in ["5 February 2026", "12 February 2026", "19 February 2026"] {
        assert!(common::page_text(&training).contains(day), "{day} on her record");
    }
    let (_, other_page) = lead.get_text(&format!("/organisations/{other}")).await;
    assert!(common::page_text(&other_page).contains("Amy Pond"));
}

#[rocket::async_test]
async fn one_records_history_is_a_filter_of_the_audit_log() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let alpha = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let beta = app.organisation(&lead, "Beta Homes", "housing_provider").await;
    let mut form = common::organisation_form("Alpha Homes", "housing_provider");
    form.retain(|(field, _)| *field != "name");
    form.push(("name", "Alpha Homes"));
    let edit = format!("/organisations/{alpha}/edit");
    assert_eq!(lead.submit(&edit, &edit, &form).await.status(), StatusCode::SEE_OTHER);

    let history = format!("/audit?entity=organisation&id={alpha}");
    let (status, page) = lead.get_text(&history).await;
    assert_eq!(status, StatusCode::OK);
    let records = texts(&page, "table.qm-table tbody tr td:nth-child(4) a");
    assert_eq!(records.len(), 2, "created and renamed: {records:?}");
    assert!(records.iter().all(|r| r.starts_with(&format!("Organisation {alpha}"))));
    assert!(texts(&page, "#audit-total")[0].starts_with(&format!("The history of organisation {alpha}: 2 entries")));
    // Each entry links to its record's history.
    let (_, all) = lead.get_text("/audit").await;
    let links = attrs(&all, "table.qm-table tbody a", "href");
    assert!(links.contains(&format!("/audit?entity=organisation&id={beta}")));
    let (_, beta_page) = lead.get_text(&format!("/audit?entity=organisation&id={beta}")).await;
    assert_eq!(texts(&beta_page, "table.qm-table tbody tr").len(), 1);
    // The filter's other fields keep the record: a page of its history by action.
    let (_, renamed) = lead.get_text(&format!("{history}&action=organisation.update")).await;
    assert_eq!(texts(&renamed, "table.qm-table tbody tr").len(), 1);
    assert_eq!(attrs(&renamed, "form input[name=id]", "value"), [alpha.to_string()]);
}

/// The dashboard is a summary: a breakdown of more than ten figures (here
/// by locality, with people trained in eleven places) is a link to its
/// section's own page, which has it in full; an unknown section is not found.
#[rocket::async_test]
async fn the_dashboard_links_a_long_breakdown_to_its_sections_own_page() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let names: Vec<String> = (1..=11).map(|n| format!("Trainee {n:02}")).collect();
    let mut people = Vec::new();
    for (n, name) in names.iter().enumerate() {
        let (organisation, locality) = (format!("Refuge {n:02}"), format!("Place {n:02}"));
        let mut form = common::organisation_form(&organisation, "voluntary_sector");
        form.retain(|(field, _)| *field != "locality");
        form.push(("locality", &locality));
        let res = lead.submit("/organisations/new", "/organisations", &form).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        let id: i64 = location(&res)
            .trim_start_matches("/organisations/")
            .parse()
            .expect("new organisation's id");
        people.push((name.as_str(), id));
    }
    dva_session_attended_by(&lead, "05/02/2026", &people).await;

    let (status, dashboard) = lead.get_text("/?from=2025-04-01&to=2026-03-31").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        texts(&dashboard, "tr[id='training.dva-awareness.attendances'] td")
            .first()
            .and_then(|v| v.split(':').next())
            .map(str::trim),
        Some("11")
    );
    assert!(
        !common::page_text(&dashboard).contains("Place 10"),
        "no locality is listed on the dashboard"
    );
    let links: Vec<String> = attrs(
        &dashboard,
        "a[href^='/reports/sections/training.dva-awareness?']",
        "href",
    );
    assert_eq!(links.len(), 1, "{links:?}");
    assert!(links[0].contains("from=2025-04-01&to=2026-03-31"), "{links:?}");

    let (status, section) = lead.get_text(&links[0]).await;
    assert_eq!(status, StatusCode::OK);
    let by_locality: Vec<String> = texts(&section, "table caption")
        .into_iter()
        .filter(|c| c.contains("by locality"))
        .collect();
    assert_eq!(by_locality.len(), 1, "{by_locality:?}");
    let rows = texts(&section, "table[id^='group-'] tbody tr th");
    for n in 0..11 {
        let place = format!("Place {n:02}");
        assert!(rows.iter().any(|r| r.contains(&place)), "{place} in {rows:?}");
    }
    assert_eq!(
        lead.get("/reports/sections/no-such-section?from=2025-04-01&to=2026-03-31")
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
}

#[rocket::async_test]
async fn the_dashboard_counts_a_new_attendance_on_the_next_load() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let refuge = app.organisation(&lead, "Harbour Refuge", "voluntary_sector").await;
    let dashboard = "/?from=2025-04-01&to=2026-03-31";
    let attendances = |body: &str| -> i64 {
        texts(body, "tr[id='training.dva-awareness.attendances'] td")
            .first()
            .and_then(|v| v.split(':').next().map(str::trim).and_then(|v| v.parse().ok()))
            .expect("the attendances figure")
    };
    dva_session_attended_by(&lead, "05/02/2026", &[("Amy Pond", refuge)]).await;
    let (_, before) = lead.get_text(dashboard).await;
    assert_eq!(attendances(&before), 1);
    // Loaded again with nothing new: the same (shared) figures.
    let (_, again) = lead.get_text(dashboard).await;
    assert_eq!(attendances(&again), 1);
    dva_session_attended_by(&lead, "12/02/2026", &[("Amy Pond", refuge), ("Rory Williams", refuge)]).await;
    let (_, after) = lead.get_text(dashboard).await;
    assert_eq!(attendances(&after), 3);
}
