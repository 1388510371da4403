//! Each role's home page says what to do next, from the real records:
//! the assessor's queue with ages, the training lead's sessions, registers
//! and imports, an organisation member's assessments, renewal, expiring
//! evidence and certificates (and never another organisation's). Also the
//! organisations list's status column and filter, and the organisation page.

mod assessment_support;
mod common;

use assessment_support::{award, criteria, decide, enrol, fill, meet_all, samples, submit, upload};
use chrono::Duration;
use common::{attrs, dva_session_attended_by, h1, location, page_text, texts, Browser, TestApp, PASSWORD};

/// Whether the page links to `href` (attributes decoded, as a browser reads them).
fn links_to(body: &str, href: &str) -> bool {
    attrs(body, "a", "href").iter().any(|h| h == href)
}
use reqwest::StatusCode;

/// Signs a user in again after the clock has moved past their session.
async fn again(app: &TestApp, email: &str) -> Browser {
    let browser = app.browser();
    assert_eq!(browser.login(email, PASSWORD).await.status(), StatusCode::SEE_OTHER);
    browser
}

/// Enrols the member's organisation on DAHA and sends it for review with
/// every mandatory criterion answered.
async fn submitted_daha(member: &Browser) -> i64 {
    let id = enrol(member, None, "daha").await;
    fill(member, id, &criteria("daha", true)).await;
    assert_eq!(submit(member, id).await.status(), StatusCode::SEE_OTHER);
    id
}

#[rocket::async_test]
async fn the_assessor_starts_with_the_oldest_reviews_and_their_ages() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let alpha = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let beta = app.organisation(&lead, "Beta Homes", "housing_provider").await;
    let alpha_member = app.user(&lead, "m@alpha.example", "org_member", Some(alpha)).await;
    let assessor_email = "assessor@council.example";
    app.user(&lead, assessor_email, "assessor", None).await;

    let assessor = again(&app, assessor_email).await;
    let (status, body) = assessor.get_text("/").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(h1(&body), "Assessments to review");
    assert_eq!(texts(&body, "#queue-summary"), ["Nothing is waiting for review."]);
    assert!(texts(&body, "#home-queue").is_empty());

    // Alpha sends first; Beta three days later.
    let first = submitted_daha(&alpha_member).await;
    app.clock.advance(Duration::days(3));
    let lead = again(&app, "lead@council.example").await;
    let beta_member = app.user(&lead, "m@beta.example", "org_member", Some(beta)).await;
    let second = submitted_daha(&beta_member).await;

    let assessor = again(&app, assessor_email).await;
    let (_, body) = assessor.get_text("/").await;
    assert_eq!(
        texts(&body, "#queue-summary"),
        ["2 assessments are waiting for an assessor."]
    );
    let rows = texts(&body, "#home-queue tbody tr");
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert!(
        rows[0].starts_with("Alpha Housing") && rows[0].ends_with("3 days"),
        "{rows:?}"
    );
    assert!(
        rows[1].starts_with("Beta Homes") && rows[1].ends_with("Today"),
        "{rows:?}"
    );
    assert!(!body.contains("You have started this review"));
    // The button goes to the oldest one's review.
    assert_eq!(
        attrs(&body, "main a.qm-button", "href"),
        [format!("/assessments/{first}/review")]
    );

    // A review the assessor has begun is marked as theirs.
    let res = decide(&assessor, second, &[("1.1.1", "met", "")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = assessor.get_text("/").await;
    let rows = texts(&body, "#home-queue tbody tr");
    assert!(!rows[0].contains("You have started this review"), "{rows:?}");
    assert!(rows[1].contains("You have started this review"), "{rows:?}");

    // Recommended: no longer waiting for an assessor, but for the lead.
    meet_all(&assessor, first, &criteria("daha", false)).await;
    let res = assessor
        .submit(
            &format!("/assessments/{first}/review"),
            &format!("/assessments/{first}/recommend"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = assessor.get_text("/").await;
    assert_eq!(
        texts(&body, "#queue-summary"),
        ["1 assessment is waiting for an assessor."]
    );
    assert!(page_text(&body).contains("1 assessment recommended for award is waiting for the programme lead"));
}

#[rocket::async_test]
async fn the_training_lead_sees_sessions_registers_to_take_and_imports_waiting() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Gamma Centre", "childrens_centre").await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;

    let (_, body) = trainer.get_text("/").await;
    assert_eq!(h1(&body), "Training: what needs doing");
    assert!(links_to(&body, "/training"), "a way to Training");
    assert!(page_text(&body).contains("No sessions are planned"));
    assert!(
        page_text(&body).contains("Every session held since 2 December 2025 (the last 90 days) has its register"),
        "the page says how far back it looks"
    );

    // Today is 2 March 2026: one session next week, two last month (one with
    // its register), and one in November, before the 90 days looked back.
    let mut sessions = Vec::new();
    for (date, register) in [
        ("09/03/2026", vec![]),
        ("10/02/2026", vec![]),
        ("12/02/2026", vec![("Pat Jones", org)]),
        ("20/11/2025", vec![]),
    ] {
        sessions.push(dva_session_attended_by(&trainer, date, &register).await);
    }

    // A sheet uploaded and checked, but not imported yet.
    let sheet = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/attendance/ambassador-training-2025.csv"
    ))
    .expect("fixture");
    let res = common::imports::upload(&trainer, "ambassador-training-2025.csv", sheet, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let import_path = location(&res);

    let (_, body) = trainer.get_text("/").await;
    let upcoming = texts(&body, "#upcoming-sessions tbody tr");
    assert_eq!(upcoming.len(), 1, "{upcoming:?}");
    assert!(
        upcoming[0].starts_with("9 March 2026 10:00 DVA awareness"),
        "{upcoming:?}"
    );
    let unmarked = texts(&body, "#unmarked li");
    assert_eq!(
        unmarked.len(),
        1,
        "only the session with no one on its register: {unmarked:?}"
    );
    assert!(unmarked[0].contains("10 February 2026"), "{unmarked:?}");
    assert!(
        page_text(&body)
            .contains("1 session held since 2 December 2025 (the last 90 days) has no one on the register yet"),
        "{}",
        page_text(&body)
    );
    assert!(!links_to(&body, &sessions[3]), "November's is history");
    assert!(links_to(&body, &sessions[1]), "a link to take it");
    let imports = texts(&body, "#pending-imports li");
    assert_eq!(imports.len(), 1);
    assert!(imports[0].contains("ambassador-training-2025.csv"), "{imports:?}");
    assert!(links_to(&body, &import_path));

    // Committed, it is no longer waiting.
    common::imports::commit(&trainer, &import_path).await;
    let (_, body) = trainer.get_text("/").await;
    assert!(texts(&body, "#pending-imports li").is_empty());
    assert!(page_text(&body).contains("No sign-in sheet is waiting to be imported"));
}

#[rocket::async_test]
async fn a_member_sees_their_own_organisation_its_renewal_evidence_and_certificates() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let alpha = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let beta = app.organisation(&lead, "Beta Practice", "gp_practice").await;
    app.organisation(&lead, "Gamma Centre", "childrens_centre").await;
    let alpha_member = app.user(&lead, "m@alpha.example", "org_member", Some(alpha)).await;
    let beta_member = app.user(&lead, "m@beta.example", "org_member", Some(beta)).await;
    app.user(&lead, "a@council.example", "assessor", None).await;
    app.user(&lead, "t@council.example", "training_lead", None).await;

    // Nothing started: the member is told how to begin.
    let (_, body) = alpha_member.get_text("/").await;
    assert_eq!(h1(&body), "Next steps for Alpha Housing");
    assert!(page_text(&body).contains("Alpha Housing has not started on a quality mark yet"));
    assert!(links_to(&body, "/assessments/new"));

    // Alpha: awarded DAHA, with a policy valid until 31 January 2029.
    let id = enrol(&alpha_member, None, "daha").await;
    let mandatory = criteria("daha", true);
    fill(&alpha_member, id, &mandatory[1..]).await;
    let res = upload(
        &alpha_member,
        id,
        &mandatory[0],
        "policy.pdf",
        samples::pdf("Policy", &["Our policy"]),
        &[("title", "Domestic abuse policy"), ("valid_until", "2029-01-31")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Ten training records that run out two weeks after the policy.
    for n in 1..=10 {
        let res = upload(
            &alpha_member,
            id,
            &mandatory[1],
            "record.pdf",
            samples::pdf("Record", &["Training record"]),
            &[
                ("title", &format!("Training record {n:02}")),
                ("valid_until", "2029-02-14"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }
    assert_eq!(submit(&alpha_member, id).await.status(), StatusCode::SEE_OTHER);
    let assessor = again(&app, "a@council.example").await;
    meet_all(&assessor, id, &criteria("daha", false)).await;
    assert_eq!(award(&lead, id, "2026-03-02").await.status(), StatusCode::SEE_OTHER);

    // Beta: enrolled, with work to do.
    let beta_id = enrol(&beta_member, None, "dva-quality-mark-gp").await;
    let beta_mandatory = criteria("dva-quality-mark-gp", true).len();

    let (_, body) = alpha_member.get_text("/").await;
    let text = page_text(&body);
    assert!(text.contains("Awarded until 2 March 2029"), "{text}");
    assert!(!text.contains("renewal is due"), "not yet: {text}");
    assert!(text.contains("No evidence runs out in the next 90 days"), "{text}");
    let certificates = texts(&body, "#award-certificates li");
    assert_eq!(certificates.len(), 1, "{certificates:?}");
    assert!(certificates[0].contains("DAHA accreditation") && certificates[0].contains("Valid"));

    let (_, body) = beta_member.get_text("/").await;
    let text = page_text(&body);
    assert_eq!(h1(&body), "Next steps for Beta Practice");
    assert!(
        text.contains(&format!("{beta_mandatory} mandatory criteria still need evidence")),
        "{text}"
    );
    assert!(links_to(&body, &format!("/assessments/{beta_id}")));
    // Nothing of Alpha's reaches Beta's member, nor the other way round.
    assert!(!text.contains("Alpha") && !text.contains("DAHA"), "{text}");
    assert!(!links_to(&body, &format!("/assessments/{id}")));
    let (_, body) = alpha_member.get_text("/").await;
    assert!(!page_text(&body).contains("Beta") && !links_to(&body, &format!("/assessments/{beta_id}")));
    assert_eq!(
        beta_member.get(&format!("/organisations/{alpha}")).await.status(),
        StatusCode::NOT_FOUND
    );

    // The organisations list: one status per organisation, and a filter by it.
    let (_, body) = lead.get_text("/organisations").await;
    let rows = texts(&body, "table.qm-table tbody tr");
    assert!(
        rows[0].contains("Awarded DAHA accreditation, expires 2 March 2029"),
        "{rows:?}"
    );
    assert!(
        rows[1].starts_with("Beta Practice") && rows[1].contains("In progress"),
        "{rows:?}"
    );
    assert!(
        rows[2].starts_with("Gamma Centre") && rows[2].contains("— None"),
        "{rows:?}"
    );
    for (status, expected) in [
        ("awarded", vec!["Alpha Housing"]),
        ("in_progress", vec!["Beta Practice"]),
        ("not_started", vec!["Gamma Centre"]),
        ("renewal_due", vec![]),
        ("expired", vec![]),
    ] {
        let (_, body) = lead.get_text(&format!("/organisations?status={status}")).await;
        assert_eq!(
            texts(&body, "table.qm-table tbody td:first-child"),
            expected,
            "{status}"
        );
    }
    // The organisation's page joins its assessments, award and certificates.
    let (_, body) = lead.get_text(&format!("/organisations/{alpha}")).await;
    assert_eq!(
        texts(&body, "#organisation-status"),
        ["Awarded DAHA accreditation, expires 2 March 2029"]
    );
    let assessments = texts(&body, "#organisation-assessments tbody tr");
    assert_eq!(
        assessments,
        ["DAHA accreditation Awarded Awarded 2 March 2026, expires 2 March 2029"]
    );
    assert_eq!(texts(&body, "#award-certificates li").len(), 1);
    // Training leads have no part in assessments: no status, no assessments.
    let trainer = again(&app, "t@council.example").await;
    let (_, body) = trainer.get_text("/organisations").await;
    assert!(!body.contains("Quality mark") && !body.contains("In progress"));
    let (_, body) = trainer.get_text(&format!("/organisations/{alpha}")).await;
    assert!(texts(&body, "#organisation-assessments").is_empty() && !body.contains("DAHA accreditation"));
    let (_, body) = trainer.get_text("/organisations?status=awarded&q=a").await;
    assert_eq!(
        texts(&body, "table.qm-table tbody td:first-child").len(),
        3,
        "the filter is not theirs"
    );

    // Seventy-two days before expiry: the renewal is due, and the policy runs out first.
    app.clock.advance(Duration::days(1023));
    let alpha_member = again(&app, "m@alpha.example").await;
    let (_, body) = alpha_member.get_text("/").await;
    let text = page_text(&body);
    assert!(
        text.contains("Your DAHA accreditation renewal is due on 2 March 2029"),
        "{text}"
    );
    assert!(texts(&body, ".qm-notification--renewal a")[0].starts_with("Start the renewal"));
    let expiring = texts(&body, "#expiring-evidence li");
    assert_eq!(expiring.len(), 10, "a bounded list: {expiring:?}");
    assert_eq!(
        texts(&body, "#expiring-more"),
        ["And 1 more run out within 90 days. See them all in your progress report"]
    );
    assert!(
        expiring[0].starts_with("Domestic abuse policy Valid until 31 January 2029"),
        "{expiring:?}"
    );
    let lead = again(&app, "lead@council.example").await;
    let (_, body) = lead.get_text("/organisations?status=renewal_due").await;
    assert_eq!(texts(&body, "table.qm-table tbody td:first-child"), ["Alpha Housing"]);
    assert!(page_text(&body).contains("Awarded DAHA accreditation, renewal due by 2 March 2029"));

    // Renewal started: the member is told to carry on with it.
    let res = alpha_member
        .submit(&format!("/assessments/{id}"), &format!("/assessments/{id}/renew"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renewal = location(&res);
    let (_, body) = alpha_member.get_text("/").await;
    assert!(page_text(&body).contains("You have started the renewal"));
    assert!(links_to(&body, &renewal));

    // After the expiry date, with the renewal not awarded, the award has expired.
    app.clock.advance(Duration::days(80));
    let lead = again(&app, "lead@council.example").await;
    let (_, body) = lead.get_text("/organisations").await;
    let rows = texts(&body, "table.qm-table tbody tr");
    assert!(rows[0].contains("In progress"), "the renewal is under way: {rows:?}");
}

#[rocket::async_test]
async fn the_training_lead_sees_whose_training_lapses_and_a_member_their_staffs_training() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let alpha = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let beta = app.organisation(&lead, "Beta Practice", "gp_practice").await;
    let alpha_member = app.user(&lead, "m@alpha.example", "org_member", Some(alpha)).await;
    let beta_member = app.user(&lead, "m@beta.example", "org_member", Some(beta)).await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;

    let (_, body) = trainer.get_text("/").await;
    assert!(
        page_text(&body).contains("No one's training lapses by 1 May 2026"),
        "today is 2 March 2026, the window 60 days"
    );
    let (_, body) = alpha_member.get_text("/").await;
    assert!(page_text(&body).contains("No one from Alpha Housing has attended training yet"));

    // DVA awareness lapses three years after the session. Today is 2 March
    // 2026: Bob's lapses on 1 April 2026 and eleven Alpha staff's on 10 April,
    // all within 60 days; Cara's lapsed in 2023; Dan's lapses in June 2026.
    dva_session_attended_by(&trainer, "01/04/2023", &[("Bob Other", beta)]).await;
    let alpha_staff: Vec<String> = (1..=11).map(|n| format!("Alpha Person {n:02}")).collect();
    let on_register: Vec<(&str, i64)> = alpha_staff.iter().map(|n| (n.as_str(), alpha)).collect();
    dva_session_attended_by(&trainer, "10/04/2023", &on_register).await;
    dva_session_attended_by(&trainer, "20/06/2020", &[("Cara Lapsed", alpha)]).await;
    dva_session_attended_by(&trainer, "20/06/2023", &[("Dan Later", beta)]).await;

    let (_, body) = trainer.get_text("/").await;
    let rows = texts(&body, "#lapsing-training tbody tr");
    assert_eq!(rows.len(), 10, "a bounded list: {rows:?}");
    assert_eq!(rows[0], "Bob Other Beta Practice DVA awareness 1 April 2026");
    assert_eq!(rows[1], "Alpha Person 01 Alpha Housing DVA awareness 10 April 2026");
    assert!(
        rows.iter().all(|r| !r.contains("Cara") && !r.contains("Dan")),
        "{rows:?}"
    );
    assert_eq!(texts(&body, "#lapsing-more"), ["And 2 more lapse by 1 May 2026."]);
    let people = attrs(&body, "#lapsing-training a", "href");
    assert!(people
        .iter()
        .all(|h| h.starts_with("/people/") && h.ends_with("/training")));

    // Alpha's member sees Alpha's staff only: 12 attended, 11 still trained.
    let (_, body) = alpha_member.get_text("/").await;
    assert_eq!(
        texts(&body, "#staff-training tbody tr"),
        ["DVA awareness 12 DVA awareness: 11 of 12 staff (92%)"]
    );
    let text = page_text(&body);
    assert!(!text.contains("Bob Other") && !text.contains("Beta"), "{text}");
    // Beta's member: Bob and Dan, both still trained.
    let (_, body) = beta_member.get_text("/").await;
    assert_eq!(
        texts(&body, "#staff-training tbody tr"),
        ["DVA awareness 2 DVA awareness: 2 of 2 staff (100%)"]
    );
    assert!(!page_text(&body).contains("Alpha"));
}

#[rocket::async_test]
async fn the_programme_leads_home_starts_with_what_needs_attention() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let (_, body) = lead.get_text("/").await;
    assert_eq!(h1(&body), "Dashboard");
    let text = page_text(&body);
    assert!(text.contains("Needs your attention"), "{text}");
    assert!(text.contains("No award expires in the next 90 days"), "{text}");
    assert!(text.contains("Nothing is waiting for an assessor"), "{text}");
    assert!(text.contains("No sign-in sheet is waiting to be imported"), "{text}");

    let alpha = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let beta = app.organisation(&lead, "Beta Homes", "housing_provider").await;
    let alpha_member = app.user(&lead, "m@alpha.example", "org_member", Some(alpha)).await;
    let beta_member = app.user(&lead, "m@beta.example", "org_member", Some(beta)).await;
    let trainer = app.user(&lead, "t@council.example", "training_lead", None).await;
    app.user(&lead, "a@council.example", "assessor", None).await;

    // Alpha is awarded; Beta sends its assessment for review; a sheet waits in preview.
    let awarded = submitted_daha(&alpha_member).await;
    let assessor = again(&app, "a@council.example").await;
    meet_all(&assessor, awarded, &criteria("daha", false)).await;
    assert_eq!(
        award(&lead, awarded, "2026-03-02").await.status(),
        StatusCode::SEE_OTHER
    );
    let waiting = submitted_daha(&beta_member).await;
    let sheet = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/attendance/ambassador-training-2025.csv"
    ))
    .expect("fixture");
    let res = common::imports::upload(&trainer, "ambassador-training-2025.csv", sheet, &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let import_path = location(&res);

    let (_, body) = lead.get_text("/").await;
    assert!(texts(&body, "#awards-due li").is_empty(), "not due for three years");
    assert_eq!(
        texts(&body, "#oldest-reviews li"),
        ["Beta Homes: DAHA accreditation Sent for review today"]
    );
    assert!(links_to(&body, &format!("/assessments/{waiting}")));
    let imports = texts(&body, "#imports-waiting li");
    assert_eq!(imports.len(), 1, "{imports:?}");
    assert!(imports[0].starts_with("ambassador-training-2025.csv"), "{imports:?}");
    assert!(links_to(&body, &import_path));
    // The attention list is the home page's: the dashboard under Reports goes straight to the figures.
    let (_, body) = lead.get_text("/reports").await;
    assert!(!page_text(&body).contains("Needs your attention"));

    // 72 days before expiry Alpha's renewal is due; Beta's review has waited as long.
    app.clock.advance(Duration::days(1023));
    let lead = again(&app, "lead@council.example").await;
    let (_, body) = lead.get_text("/").await;
    assert_eq!(
        texts(&body, "#awards-due li"),
        ["Alpha Housing: DAHA accreditation Expires 2 March 2029. Renewal not started yet."]
    );
    assert!(links_to(&body, &format!("/assessments/{awarded}")));
    assert_eq!(
        texts(&body, "#oldest-reviews li"),
        ["Beta Homes: DAHA accreditation Waiting 1023 days"]
    );

    // Once the member starts the renewal, the list says so and leads to it.
    let alpha_member = again(&app, "m@alpha.example").await;
    let res = alpha_member
        .submit(
            &format!("/assessments/{awarded}"),
            &format!("/assessments/{awarded}/renew"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renewal = location(&res);
    let (_, body) = lead.get_text("/").await;
    assert_eq!(
        texts(&body, "#awards-due li"),
        ["Alpha Housing: DAHA accreditation Expires 2 March 2029. Renewal started."]
    );
    assert!(links_to(&body, &renewal));

    // The member sees one card for DAHA, not the award and its renewal apart.
    let (_, body) = alpha_member.get_text("/").await;
    let cards = texts(&body, ".qm-home-card h3");
    assert_eq!(cards, ["DAHA accreditation"], "one card per quality mark");
    let card = texts(&body, ".qm-home-card .qm-home-card__next");
    assert!(
        card[0].starts_with("The award runs until 2 March 2029. You have started the renewal:"),
        "{card:?}"
    );
}

/// Each organisation's status lines on the list, as `(name, [line kinds])`.
fn listed_statuses(body: &str) -> Vec<(String, Vec<String>)> {
    let doc = scraper::Html::parse_document(body);
    let row = scraper::Selector::parse("table.qm-table tbody tr").expect("selector");
    let name = scraper::Selector::parse("td:first-child").expect("selector");
    let line = scraper::Selector::parse(".qm-org-status__line").expect("selector");
    doc.select(&row)
        .map(|tr| {
            let org = tr
                .select(&name)
                .map(|td| td.text().collect::<String>())
                .collect::<String>();
            let kinds = tr
                .select(&line)
                .filter_map(|l| l.value().attr("data-status").map(str::to_string))
                .collect();
            (org.trim().to_string(), kinds)
        })
        .collect()
}

/// The status column is worded in Rust and the filter is SQL: for every
/// status, the filter finds exactly the organisations whose column says it.
#[rocket::async_test]
async fn the_organisations_status_column_and_its_filter_agree_for_every_status() {
    use qmtrack::domain::organisation_status::{StatusFilter, StatusLine};
    let app = TestApp::spawn_with(common::Options {
        clock_start: Some("2022-01-10T09:00:00Z"),
        ..common::Options::default()
    })
    .await;
    let lead = app.programme_lead().await;
    app.user(&lead, "a@council.example", "assessor", None).await;
    let mut ids = std::collections::BTreeMap::new();
    for (n, name) in [
        "Due Homes",
        "Held Housing",
        "Idle Trust",
        "Lapsed Practice",
        "Revoked Refuge",
        "Working Centre",
    ]
    .into_iter()
    .enumerate()
    {
        let org = app.organisation(&lead, name, "housing_provider").await;
        if name == "Idle Trust" {
            continue;
        }
        let member = app
            .user(&lead, &format!("m{n}@org.example"), "org_member", Some(org))
            .await;
        let id = if name == "Working Centre" {
            enrol(&member, None, "daha").await
        } else {
            submitted_daha(&member).await
        };
        ids.insert(name, id);
    }
    let assessor = again(&app, "a@council.example").await;
    for name in ["Due Homes", "Held Housing", "Lapsed Practice", "Revoked Refuge"] {
        meet_all(&assessor, ids[name], &criteria("daha", false)).await;
    }
    // Awarded today (10 January 2022): Lapsed's runs out in 2025; Revoked's is taken away.
    for name in ["Lapsed Practice", "Revoked Refuge"] {
        assert_eq!(
            award(&lead, ids[name], "2022-01-10").await.status(),
            StatusCode::SEE_OTHER
        );
    }
    let revoked = ids["Revoked Refuge"];
    let res = lead
        .submit(
            &format!("/assessments/{revoked}"),
            &format!("/assessments/{revoked}/revoke"),
            &[("reason", "Policy withdrawn")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // 2 March 2026: Due's award (from April 2023) expires in 30 days; Held's is new.
    app.clock.advance(Duration::days(1512));
    let lead = again(&app, "lead@council.example").await;
    assert_eq!(
        award(&lead, ids["Due Homes"], "2023-04-01").await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(
        award(&lead, ids["Held Housing"], "2026-03-02").await.status(),
        StatusCode::SEE_OTHER
    );

    let (_, body) = lead.get_text("/organisations").await;
    let listed = listed_statuses(&body);
    assert_eq!(listed.len(), 6, "{listed:?}");
    let rows = texts(&body, "table.qm-table tbody tr");
    for (name, says) in [
        ("Due Homes", "Awarded DAHA accreditation, renewal due by 1 April 2026"),
        ("Held Housing", "Awarded DAHA accreditation, expires 2 March 2029"),
        ("Idle Trust", "— None"),
        ("Lapsed Practice", "Award expired on 10 January 2025"),
        ("Revoked Refuge", "Award revoked"),
        ("Working Centre", "In progress"),
    ] {
        assert!(
            rows.iter().any(|r| r.starts_with(name) && r.contains(says)),
            "{name}: {says} in {rows:?}"
        );
    }
    for filter in StatusFilter::ALL {
        let expected: Vec<String> = listed
            .iter()
            .filter(|(_, kinds)| {
                kinds.iter().any(|kind| {
                    let status = StatusFilter::parse(kind).expect("a known status");
                    filter.finds(&StatusLine {
                        text: String::new(),
                        colour: "",
                        status,
                    })
                })
            })
            .map(|(name, _)| name.clone())
            .collect();
        assert!(!expected.is_empty(), "{filter:?} is tried on an organisation");
        let (_, body) = lead
            .get_text(&format!("/organisations?status={}", filter.as_str()))
            .await;
        assert_eq!(
            texts(&body, "table.qm-table tbody td:first-child"),
            expected,
            "{filter:?}"
        );
    }
}
