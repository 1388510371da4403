//! Training: importing the sample sign-in sheets through the web and the
//! command line, registers, cohorts and completion.

mod common;

use common::imports::{commit, json_of, qmtrack, upload};
use common::{api, api_token, attrs, location, page_text, texts, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;
use std::collections::BTreeSet;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attendance");

fn sample(name: &str) -> Vec<u8> {
    std::fs::read(format!("{SAMPLES}/{name}")).unwrap_or_else(|e| panic!("sample {name}: {e}"))
}

/// Uploads the sample sheet `name` with the form's `fields`; the path of
/// its preview.
async fn preview_of_sample(browser: &Browser, name: &str, fields: &[(&str, &str)]) -> String {
    location(&upload(browser, name, sample(name), fields).await)
}

#[rocket::async_test]
async fn the_iris_sheet_imports_through_the_browser_and_again_changes_nothing() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let trainer = app.user(&lead, "iris@council.example", "training_lead", None).await;

    let res = upload(
        &trainer,
        "iris-clinical-session-1.xlsx",
        sample("iris-clinical-session-1.xlsx"),
        &[],
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let import_path = location(&res);
    let (_, preview) = trainer.get_text(&import_path).await;
    assert!(preview.contains("6, of whom 6 new"), "six people: {preview}");
    assert!(preview.contains("5 attended") && preview.contains("1 absent"));
    assert!(preview.contains("Oval Practice") && preview.contains("Thames View Surgery"));
    assert!(!preview.contains("Total attended</td>"), "the footer is not a person");
    assert!(page_text(&preview).contains("12 March 2025"), "{preview}");

    let done = commit(&trainer, &import_path).await;
    assert!(done.contains("Imported"), "{done}");
    assert!(done.contains("6 attendance records added"));

    let (_, orgs) = trainer.get_text("/organisations?q=Thames").await;
    let thames = orgs
        .split("/organisations/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("Thames View listed")
        .to_string();
    let (_, page) = trainer.get_text(&format!("/organisations/{thames}")).await;
    for name in ["Dr Siobhán Ní Bhriain", "Dr Łukasz Nowak", "Chloé Dubois"] {
        assert!(page.contains(name), "{name} kept exactly");
    }
    let (_, sessions) = trainer.get_text("/training/sessions").await;
    assert!(
        sessions.contains("12 March 2025") && sessions.contains("5 of 6"),
        "{sessions}"
    );

    // The same file again: the preview says so and nothing can be committed.
    let again = preview_of_sample(&trainer, "iris-clinical-session-1.xlsx", &[]).await;
    let (_, preview) = trainer.get_text(&again).await;
    assert!(preview.contains("was imported before"));
    let res = trainer.submit(&again, &format!("{again}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, sessions) = trainer.get_text("/training/sessions").await;
    assert!(sessions.contains("5 of 6"), "unchanged");

    // Undo removes what the import added.
    let res = trainer.submit(&import_path, &format!("{import_path}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, sessions) = trainer.get_text("/training/sessions").await;
    assert!(sessions.contains("No sessions yet"), "{sessions}");
    let (_, orgs) = trainer.get_text("/organisations?q=Thames").await;
    assert!(orgs.contains("0 organisations"));
}

#[rocket::async_test]
async fn the_ambassador_csv_gives_two_active_ambassadors() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let path = preview_of_sample(&lead, "ambassador-training-2025.csv", &[]).await;
    let (_, preview) = lead.get_text(&path).await;
    assert!(
        preview.contains("4 attended") && preview.contains("1 absent"),
        "{preview}"
    );
    commit(&lead, &path).await;
    let (_, directory) = lead.get_text("/training/ambassadors").await;
    let names = texts(&directory, "table.qm-table tbody td:first-child");
    assert_eq!(names, ["Hannah Brooks", "Kwame Mensah"]);
    // One organisation's ambassadors, found by typing its name.
    let (_, housing) = lead.get_text("/training/ambassadors?q=Housing+Services").await;
    let names = texts(&housing, "table.qm-table tbody td:first-child");
    assert_eq!(names, ["Hannah Brooks"], "{housing}");
    let (_, community) = lead.get_text("/training/ambassadors?q=Community+Solutions").await;
    assert!(
        community.contains("No active ambassadors"),
        "Saoirse missed day 1: {community}"
    );
    // Two years on, the completion has lapsed and the directory is empty.
    app.clock.advance(chrono::Duration::days(365 * 3));
    let lead = app.browser();
    lead.login("lead@council.example", PASSWORD).await;
    let (_, directory) = lead.get_text("/training/ambassadors").await;
    assert!(directory.contains("No active ambassadors"), "{directory}");
}

#[rocket::async_test]
async fn the_safe_and_together_cohorts_import_from_the_command_line() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    app.organisation(&lead, "Children's Social Care", "council_service")
        .await;
    let file = format!("{SAMPLES}/safe-and-together-core-cohorts.xlsx");

    let dry = qmtrack(
        &app,
        &[
            "import-attendance",
            &file,
            "--organisation",
            "Children's Social Care",
            "--dry-run",
            "--json",
        ],
    );
    assert!(dry.status.success(), "{}", String::from_utf8_lossy(&dry.stderr));
    let preview = json_of(&dry);
    assert_eq!(preview["committed"], false);
    assert_eq!(preview["counts"]["people"], 6);
    assert_eq!(preview["counts"]["attendance_records"], 24);
    assert_eq!(preview["counts"]["sessions"], 8);

    let real = qmtrack(
        &app,
        &[
            "import-attendance",
            &file,
            "--organisation",
            "Children's Social Care",
            "--json",
        ],
    );
    assert!(real.status.success(), "{}", String::from_utf8_lossy(&real.stderr));
    let result = json_of(&real);
    assert_eq!(result["committed"], true);
    assert_eq!(result["result"]["attendance_created"], 24);

    let (_, programme) = lead.get_text("/training/programmes/safe-and-together").await;
    let completed: Vec<String> = texts(&programme, "table.qm-table tbody tr")
        .into_iter()
        .filter(|row| row.contains("CORE") || row.contains("Completed"))
        .collect();
    let core_done: Vec<&String> = completed.iter().filter(|r| r.contains("Completed")).collect();
    assert_eq!(
        core_done.len(),
        2,
        "only Priya and Tomás complete all four days: {completed:?}"
    );
    assert!(
        core_done.iter().any(|r| r.contains("Priya Patel")) && core_done.iter().any(|r| r.contains("Tomás García"))
    );

    let cohorts = texts(&programme, "a[href^='/training/cohorts/']");
    assert_eq!(cohorts, ["Cohort 3", "Cohort 4"]);
    let cohort_path = programme
        .split("/training/cohorts/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("cohort link");
    let (_, grid) = lead.get_text(&format!("/training/cohorts/{cohort_path}")).await;
    assert_eq!(texts(&grid, "tbody th[scope=row]").len(), 4);
    assert!(grid.contains("2 June 2025") && grid.contains("5 June 2025"));

    // Run again: nothing changes, and the command says so.
    let again = qmtrack(
        &app,
        &[
            "import-attendance",
            &file,
            "--organisation",
            "Children's Social Care",
            "--json",
        ],
    );
    assert!(again.status.success());
    assert_eq!(json_of(&again)["committed"], false);
}

#[rocket::async_test]
async fn the_marac_register_reads_the_same_from_ods_and_xls() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    for file in ["marac-briefings.ods", "routine-enquiry-briefings.xls"] {
        let output = qmtrack(
            &app,
            &["import-attendance", &format!("{SAMPLES}/{file}"), "--dry-run", "--json"],
        );
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let preview = json_of(&output);
        assert_eq!(preview["counts"]["people"], 3, "{file}");
        assert_eq!(preview["counts"]["sessions"], 1, "{file}");
        assert_eq!(preview["counts"]["by_status"]["attended"], 2, "{file}");
        assert_eq!(preview["counts"]["by_status"]["absent"], 1, "{file}");
    }
    let output = qmtrack(&app, &["import-attendance", &format!("{SAMPLES}/marac-briefings.ods")]);
    assert!(output.status.success());
    let (_, sessions) = lead.get_text("/training/sessions").await;
    assert!(
        sessions.contains("14 January 2025") && sessions.contains("2 of 3"),
        "{sessions}"
    );
    // The xls holds the same register: importing it changes nothing.
    let output = qmtrack(
        &app,
        &[
            "import-attendance",
            &format!("{SAMPLES}/routine-enquiry-briefings.xls"),
            "--json",
        ],
    );
    assert!(output.status.success());
    assert_eq!(json_of(&output)["result"]["attendance_created"], 0);
    assert_eq!(json_of(&output)["result"]["attendance_unchanged"], 3);
}

#[rocket::async_test]
async fn bad_files_are_refused_with_a_reason_and_change_nothing() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let png = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0];
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        ("empty.csv", Vec::new(), "Choose a sign-in sheet"),
        ("photo.xlsx", png, "not a spreadsheet"),
        (
            "sheet.xlsx",
            b"Name,Email\nA,b@c.example\n".to_vec(),
            "its content is plain text",
        ),
    ];
    for (name, bytes, message) in cases {
        let res = upload(&lead, name, bytes, &[]).await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{name}");
        let body = res.text().await.expect("body");
        assert!(body.contains(message), "{name}: {body}");
    }

    // A CSV with a bad date and an unknown mark: each named by row and column; nothing can be committed.
    let csv = "Name,Organisation,Date,Course,Attended\nAmy Pond,Refuge,31/02/2025,MARAC briefing,Yes\nRory Williams,Refuge,01/02/2025,MARAC briefing,Maybe\n";
    let output_dir = tempfile::tempdir().expect("dir");
    let path = output_dir.path().join("bad.csv");
    std::fs::write(&path, csv).expect("write");
    let output = qmtrack(&app, &["import-attendance", path.to_str().expect("path"), "--json"]);
    assert!(!output.status.success(), "errors give a non-zero exit");
    let report = json_of(&output);
    let errors = report["errors"].as_array().expect("errors");
    assert!(
        errors
            .iter()
            .any(|e| e["row"] == 2 && e["column"] == "C" && e["message"].as_str().unwrap_or("").contains("not a date")),
        "{errors:?}"
    );
    assert!(errors.iter().any(|e| e["row"] == 3 && e["column"] == "E"), "{errors:?}");
    let (_, sessions) = lead.get_text("/training/sessions").await;
    assert!(sessions.contains("No sessions yet"));

    let output = qmtrack(&app, &["import-attendance", "/nonexistent/file.xlsx"]);
    assert!(!output.status.success());
}

#[rocket::async_test]
async fn registers_are_taken_in_the_browser() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Refuge", "voluntary_sector").await;
    let trainer = app.user(&lead, "t@council.example", "training_lead", None).await;
    let (_, form) = trainer.get_text("/training/sessions/new").await;
    let modules = attrs(&form, "select#module option", "value");
    assert!(
        modules.contains(&"dva-awareness/dva-awareness".to_string()),
        "{modules:?}"
    );
    let res = trainer
        .submit(
            "/training/sessions/new",
            "/training/sessions",
            &[
                ("module", ""),
                ("date", "31/02/2025"),
                ("start_time", ""),
                ("venue", ""),
                ("trainer", ""),
                ("capacity", "lots"),
                ("cohort", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors = common::field_errors(&res.text().await.expect("body"));
    assert_eq!(errors.len(), 3, "{errors:?}");
    let res = trainer
        .submit(
            "/training/sessions/new",
            "/training/sessions",
            &[
                ("module", "dva-awareness/dva-awareness"),
                ("date", "05/02/2025"),
                ("start_time", "10:00"),
                ("venue", "Civic Centre"),
                ("trainer", "Niamh"),
                ("capacity", "20"),
                ("cohort", ""),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let session_path = location(&res);
    let org_id = org.to_string();
    let res = trainer
        .submit(
            &session_path,
            &format!("{session_path}/attendees"),
            &[
                ("full_name", "Amy Pond"),
                ("email", ""),
                ("organisation_id", &org_id),
                ("status", "attended"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = trainer.get_text(&session_path).await;
    assert!(page.contains("Amy Pond"));
    assert!(page.contains("1 of 1 on the register"));

    // Read-only for assessors; refused to members.
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    assert_eq!(assessor.get(&session_path).await.status(), StatusCode::OK);
    assert_eq!(
        assessor.get("/training/sessions/new").await.status(),
        StatusCode::FORBIDDEN
    );
    let member = app.user(&lead, "m@refuge.example", "org_member", Some(org)).await;
    assert_eq!(member.get(&session_path).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(member.get("/training/imports").await.status(), StatusCode::FORBIDDEN);
    assert_eq!(member.get("/training/ambassadors").await.status(), StatusCode::OK);
}

#[rocket::async_test]
async fn the_api_gives_training_records_scoped_by_role() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let output = qmtrack(
        &app,
        &["import-attendance", &format!("{SAMPLES}/iris-clinical-session-1.xlsx")],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let lead_token = api_token(&lead, "script").await;
    let (_, orgs) = api(&app, &lead_token, "/organisations?q=Oval").await;
    let oval = orgs["organisations"][0]["id"].as_i64().expect("Oval Practice exists");
    let member = app.user(&lead, "pm@oval.example", "org_member", Some(oval)).await;
    let member_token = api_token(&member, "script").await;

    let (status, all) = api(&app, &lead_token, "/completions?programme=iris").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(all["people"].as_array().expect("people").len(), 6);
    assert!(all["next_after"].is_null(), "one page: {all}");
    let (_, own) = api(&app, &member_token, "/completions?programme=iris").await;
    let names: Vec<&str> = own["people"]
        .as_array()
        .expect("people")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(names.len(), 3, "{names:?}");
    assert!(
        names.iter().all(|n| !n.contains("Nowak")),
        "another practice's staff are not shown"
    );
    assert_eq!(
        api(
            &app,
            &member_token,
            &format!("/completions?programme=iris&organisation={}", oval + 1)
        )
        .await
        .0,
        StatusCode::NOT_FOUND
    );
    assert_eq!(api(&app, &member_token, "/sessions").await.0, StatusCode::FORBIDDEN);

    let (_, sessions) = api(&app, &lead_token, "/sessions").await;
    let id = sessions["sessions"][0]["id"].as_i64().expect("a session");
    let (_, session) = api(&app, &lead_token, &format!("/sessions/{id}")).await;
    assert_eq!(session["session_date"], "2025-03-12");
    assert_eq!(session["attendance"].as_array().expect("register").len(), 6);
    let (_, programmes) = api(&app, &member_token, "/programmes").await;
    assert!(programmes["programmes"]
        .as_array()
        .expect("list")
        .iter()
        .any(|p| p["id"] == "iris"));
}

/// Makes the database refuse the third attendance row written, as a disk or
/// constraint failure partway through a commit would.
async fn fail_after_two_attendance_rows(database_url: &str) {
    use sqlx::Executor;
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    if database_url.starts_with("postgres") {
        pool.execute(
            "CREATE FUNCTION fail_halfway() RETURNS trigger AS $$ BEGIN
                IF (SELECT COUNT(*) FROM attendance) >= 2 THEN RAISE EXCEPTION 'simulated failure'; END IF;
                RETURN NEW; END $$ LANGUAGE plpgsql",
        )
        .await
        .expect("function");
        pool.execute(
            "CREATE TRIGGER fail_halfway BEFORE INSERT ON attendance FOR EACH ROW EXECUTE FUNCTION fail_halfway()",
        )
        .await
        .expect("trigger");
    } else {
        pool.execute(
            "CREATE TRIGGER fail_halfway BEFORE INSERT ON attendance
             WHEN (SELECT COUNT(*) FROM attendance) >= 2
             BEGIN SELECT RAISE(ABORT, 'simulated failure'); END",
        )
        .await
        .expect("trigger");
    }
    pool.close().await;
}

#[rocket::async_test]
async fn a_failure_partway_through_a_commit_leaves_nothing_behind() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let path = preview_of_sample(&lead, "iris-clinical-session-1.xlsx", &[]).await;
    fail_after_two_attendance_rows(&app.database_url).await;
    let page = commit(&lead, &path).await;
    assert!(
        page_text(&page).contains("The import failed and nothing was changed"),
        "{page}"
    );
    let (_, orgs) = lead.get_text("/organisations").await;
    assert!(orgs.contains("0 organisations"), "no organisation was left behind");
    let (_, sessions) = lead.get_text("/training/sessions").await;
    assert!(sessions.contains("No sessions yet"));
}

#[rocket::async_test]
async fn a_near_match_is_asked_about_before_it_is_treated_as_the_same_person() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Refuge", "voluntary_sector").await;
    let res = lead
        .submit(
            &format!("/organisations/{org}/people/new"),
            &format!("/organisations/{org}/people"),
            &[("full_name", "Zoë O'Brien"), ("email", ""), ("job_title", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let csv = "Name,Organisation,Date,Course,Attended\nZoe O'Brien,Refuge,14/01/2025,MARAC briefing,Yes\nBrooks, Hannah,Refuge,14/01/2025,MARAC briefing,Yes\n";
    let csv = csv.replace("Brooks, Hannah", "\"Brooks, Hannah\"");
    let res = upload(&lead, "register.csv", csv.into_bytes(), &[]).await;
    let path = location(&res);
    let (_, preview) = lead.get_text(&path).await;
    let text = page_text(&preview);
    assert!(text.contains("Is this the same person?"), "{text}");
    assert!(text.contains("Yes, the same person as Zoë O'Brien"));
    assert!(
        text.contains("Hannah Brooks"),
        "“Surname, First” is read as Hannah Brooks"
    );

    // Say yes: Zoe on the sheet is Zoë on record.
    let person_key = attrs(&preview, "input[name='answer_key[0]']", "value")
        .pop()
        .expect("question");
    let existing = attrs(&preview, "input[name='answer[0]']", "value")
        .into_iter()
        .find(|v| v != "0")
        .expect("candidate");
    let res = lead
        .submit(
            &path,
            &format!("{path}/choices"),
            &[("answer_key[0]", &person_key), ("answer[0]", &existing)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, preview) = lead.get_text(&path).await;
    assert!(
        page_text(&preview).contains("2, of whom 1 new"),
        "{}",
        page_text(&preview)
    );
    commit(&lead, &path).await;
    let (_, page) = lead.get_text(&format!("/organisations/{org}")).await;
    assert_eq!(
        texts(&page, "table.qm-table tbody td:first-child a").len(),
        2,
        "Zoë was not added twice"
    );
}

/// Two rows of one sheet with one name at one organisation but different
/// emails are asked about too; answered "the same", they are one person.
#[rocket::async_test]
async fn a_near_match_within_one_sheet_is_asked_about_and_can_be_one_person() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Refuge", "voluntary_sector").await;
    let csv = "Name,Organisation,Email,Date,Course,Attended
\
               Hannah Brooks,Refuge,hb2@refuge.example,14/01/2025,MARAC briefing,Yes
\
               Hannah Brooks,Refuge,hb1@refuge.example,21/01/2025,MARAC briefing,Yes
";
    let res = upload(&lead, "register.csv", csv.as_bytes().to_vec(), &[]).await;
    let path = location(&res);
    let (_, preview) = lead.get_text(&path).await;
    let text = page_text(&preview);
    assert!(
        text.contains("Yes, the same person as Hannah Brooks <hb1@refuge.example> on this sheet"),
        "{text}"
    );
    assert!(text.contains("2, of whom 2 new"), "kept apart until answered: {text}");
    let person_key = attrs(&preview, "input[name='answer_key[0]']", "value")
        .pop()
        .expect("question");
    assert_eq!(person_key, "email:hb2@refuge.example", "asked about the later email");
    let res = lead
        .submit(
            &path,
            &format!("{path}/choices"),
            &[("answer_key[0]", &person_key), ("answer[0]", "on-sheet")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, preview) = lead.get_text(&path).await;
    assert!(
        page_text(&preview).contains("2, of whom 1 new"),
        "{}",
        page_text(&preview)
    );
    commit(&lead, &path).await;
    let (_, page) = lead.get_text(&format!("/organisations/{org}")).await;
    let people = texts(&page, "table.qm-table tbody td:first-child a");
    assert_eq!(people, ["Hannah Brooks"], "one person, with both sessions");
}

/// What the samples' README says a correct import gives: (file, people, attended, absent or no mark, sessions).
const EXPECTED: &[(&str, u64, u64, u64, u64)] = &[
    ("iris-clinical-session-1.xlsx", 6, 5, 1, 1),
    ("safe-and-together-core-cohorts.xlsx", 6, 18, 6, 8),
    ("ambassador-training-2025.csv", 3, 4, 1, 2),
    ("marac-briefings.ods", 3, 2, 1, 1),
    ("routine-enquiry-briefings.xls", 3, 2, 1, 1),
];

#[rocket::async_test]
async fn every_sample_sheet_reads_the_same_through_the_browser_and_the_command_line() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app
        .organisation(&lead, "Children's Social Care", "council_service")
        .await;
    for (file, people, attended, not_attended, sessions) in EXPECTED {
        let output = qmtrack(
            &app,
            &[
                "import-attendance",
                &format!("{SAMPLES}/{file}"),
                "--organisation",
                "Children's Social Care",
                "--dry-run",
                "--json",
            ],
        );
        assert!(
            output.status.success(),
            "{file}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        let preview = json_of(&output);
        let counts = &preview["counts"];
        assert_eq!(counts["people"], *people, "{file}");
        assert_eq!(counts["sessions"], *sessions, "{file}");
        assert_eq!(counts["by_status"]["attended"], *attended, "{file}");
        let partial = counts["by_status"]["partial"].as_u64().unwrap_or(0);
        let absent = counts["by_status"]["absent"].as_u64().unwrap_or(0);
        assert_eq!(absent + partial, *not_attended, "{file}");
        assert!(
            preview["errors"].as_array().expect("errors").is_empty(),
            "{file}: {preview}"
        );

        let org_id = org.to_string();
        let res = upload(&lead, file, sample(file), &[("default_organisation", &org_id)]).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{file}");
        let (_, page) = lead.get_text(&location(&res)).await;
        let text = page_text(&page);
        assert!(
            text.contains(&format!("Attendance records {}", attended + not_attended)),
            "{file}: {text}"
        );
        assert!(text.contains(&format!("People {people},")), "{file}: {text}");
    }
}

#[rocket::async_test]
async fn sheets_match_organisations_by_their_other_names() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Thames View Surgery", "gp_practice").await;
    let res = lead
        .submit(
            &format!("/organisations/{org}"),
            &format!("/organisations/{org}/aliases"),
            &[("alias", "Thames View")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = lead.get_text(&format!("/organisations/{org}")).await;
    assert!(
        page_text(&page).contains("Also known as Thames View"),
        "{}",
        page_text(&page)
    );
    let csv = "Name,Practice,Date,Course,Attended\nAmy Pond,Thames View,14/01/2025,MARAC briefing,Yes\n";
    let res = upload(&lead, "register.csv", csv.as_bytes().to_vec(), &[]).await;
    let (_, preview) = lead.get_text(&location(&res)).await;
    let text = page_text(&preview);
    assert!(
        text.contains("New organisations None"),
        "matched by the other name: {text}"
    );
}

#[rocket::async_test]
async fn iris_practices_are_signed_up_before_anyone_trains() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let practice = app.organisation(&lead, "Oval Practice", "gp_practice").await;
    let path = "/training/programmes/iris/organisations";
    let (_, page) = lead.get_text(path).await;
    assert!(page_text(&page).contains("0 signed up"));
    // The organisation is typed by name, not chosen from a list of every one.
    assert!(!page.contains("<select class=\"qm-select\" id=\"organisation_id\""));
    let res = lead
        .submit(
            path,
            path,
            &[("organisation_id", "Nowhere Surgery"), ("date", "01/02/2025")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = lead.get_text(path).await;
    let text = page_text(&page);
    assert!(
        text.contains("No organisation’s name contains “Nowhere Surgery”"),
        "{text}"
    );
    assert!(text.contains("0 signed up"), "{text}");
    let res = lead
        .submit(
            path,
            path,
            &[("organisation_id", "oval practice"), ("date", "01/02/2025")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = lead.get_text(path).await;
    let text = page_text(&page);
    assert!(text.contains("1 signed up: 1 not started"), "{text}");
    // By number too, as links carry it: already signed up.
    let res = lead
        .submit(path, path, &[("organisation_id", &practice.to_string()), ("date", "")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, page) = lead.get_text(path).await;
    assert!(
        page_text(&page).contains("Oval Practice is already signed up."),
        "{}",
        page_text(&page)
    );
    assert!(text.contains("Signed up 1 February 2025"), "one UK date style: {text}");
    // Training brings it into training.
    let output = qmtrack(
        &app,
        &["import-attendance", &format!("{SAMPLES}/iris-clinical-session-1.xlsx")],
    );
    assert!(output.status.success());
    let (_, page) = lead.get_text(path).await;
    let text = page_text(&page);
    assert!(
        text.contains("2 signed up"),
        "Thames View trained without signing up, so counts too: {text}"
    );
    let rows = texts(&page, "table.qm-table tbody tr");
    assert!(
        rows.iter()
            .any(|r| r.contains("Oval Practice") && r.contains("In training")),
        "{rows:?}"
    );
}

#[rocket::async_test]
async fn the_iris_practices_page_shows_fifty_a_page_and_each_state_on_its_own() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    // Sixty practices, each with a clinician at the first clinical session:
    // in training, and so counted as signed up.
    let mut csv = String::from("Name,Practice,Email,Date,Course,Attended\n");
    for n in 1..=60 {
        csv.push_str(&format!(
            "Clinician {n:02},Practice Surgery {n:02},clinician.{n}@surgery{n}.example,03/02/2025,IRIS clinical session 1,Yes\n"
        ));
    }
    let res = upload(&lead, "iris.csv", csv.into_bytes(), &[]).await;
    commit(&lead, &location(&res)).await;
    let practice = app.organisation(&lead, "Oval Practice", "gp_practice").await;
    let path = "/training/programmes/iris/organisations";
    let res = lead
        .submit(path, path, &[("organisation_id", &practice.to_string()), ("date", "")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let (_, first) = lead.get_text(path).await;
    let text = page_text(&first);
    assert!(text.contains("61 signed up: 60 in training, 1 not started."), "{text}");
    let rows = texts(&first, "table.qm-table tbody tr");
    assert_eq!(rows.len(), 50, "{rows:?}");
    assert!(text.contains("Page 1 of 2"), "{text}");
    assert!(rows[0].contains("Oval Practice"), "in name order: {rows:?}");
    let (_, second) = lead.get_text(&format!("{path}?page=2")).await;
    let rows = texts(&second, "table.qm-table tbody tr");
    assert_eq!(rows.len(), 11, "{rows:?}");
    assert!(rows[10].contains("Practice Surgery 60"), "{rows:?}");

    let (_, waiting) = lead.get_text(&format!("{path}?state=not-started")).await;
    let rows = texts(&waiting, "table.qm-table tbody tr");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert!(rows[0].contains("Oval Practice") && rows[0].contains("Not started"));
    let (_, none) = lead.get_text(&format!("{path}?state=fully-trained")).await;
    assert!(texts(&none, "table.qm-table tbody tr").is_empty());
    assert!(page_text(&none).contains("No organisation is in this state."));
    // An unknown state shows them all.
    let (_, all) = lead.get_text(&format!("{path}?state=bogus")).await;
    assert_eq!(texts(&all, "table.qm-table tbody tr").len(), 50);
}

#[rocket::async_test]
async fn the_completions_api_gives_fifty_people_a_page_each_once() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let res = upload(&lead, "dva-awareness-2025.csv", sixty_attendees(), &[]).await;
    commit(&lead, &location(&res)).await;
    let token = api_token(&lead, "script").await;
    let ids = |page: &serde_json::Value| -> Vec<i64> {
        page["people"]
            .as_array()
            .expect("people")
            .iter()
            .filter_map(|p| p["person_id"].as_i64())
            .collect()
    };
    let (status, first) = api(&app, &token, "/completions?programme=dva-awareness").await;
    assert_eq!(status, StatusCode::OK);
    let first_ids = ids(&first);
    assert_eq!(first_ids.len(), 50);
    assert_eq!(first["page_size"], 50);
    let after = first["next_after"].as_i64().expect("a next page");
    assert_eq!(Some(&after), first_ids.iter().max());
    let (_, second) = api(
        &app,
        &token,
        &format!("/completions?programme=dva-awareness&after={after}"),
    )
    .await;
    let second_ids = ids(&second);
    assert_eq!(second_ids.len(), 10);
    assert!(second["next_after"].is_null(), "{second}");
    let everyone: BTreeSet<i64> = first_ids.iter().chain(&second_ids).copied().collect();
    assert_eq!(everyone.len(), 60, "each person once");
    // Each has completed the awareness course.
    assert!(second["people"]
        .as_array()
        .expect("people")
        .iter()
        .all(|p| p["completions"]
            .as_array()
            .is_some_and(|c| c.iter().any(|c| c["completed_on"].is_string()))));
    // An organisation's own staff, the same way.
    let (_, orgs) = api(&app, &token, "/organisations?q=Pager").await;
    let pager = orgs["organisations"][0]["id"].as_i64().expect("Pager Trust");
    let (_, own) = api(
        &app,
        &token,
        &format!("/completions?programme=dva-awareness&organisation={pager}"),
    )
    .await;
    assert_eq!(ids(&own), first_ids);
    let (_, none) = api(&app, &token, "/completions?programme=iris").await;
    assert!(ids(&none).is_empty() && none["next_after"].is_null());
}

/// Sixty people of one organisation at DVA awareness, one a day from
/// 1 June 2025, so the most recent is the sixtieth.
fn sixty_attendees() -> Vec<u8> {
    let mut csv = String::from("First name,Surname,Organisation,Email,Course date,Course,Attended\n");
    for n in 1..=60 {
        let date = chrono::NaiveDate::from_ymd_opt(2025, 6, 1).expect("date") + chrono::Duration::days(n - 1);
        csv.push_str(&format!(
            "Person,Number {n:02},Pager Trust,person.{n}@pager.example,{},DVA awareness,Yes\n",
            date.format("%d/%m/%Y")
        ));
    }
    csv.into_bytes()
}

/// The people listed on a programme's page (each links to their training record).
const PEOPLE: &str = "table.qm-table tbody td:first-child a[href^='/people/']";

#[rocket::async_test]
async fn programme_and_organisation_pages_show_fifty_people_a_page() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let res = upload(&lead, "dva-awareness-2025.csv", sixty_attendees(), &[]).await;
    commit(&lead, &location(&res)).await;

    let path = "/training/programmes/dva-awareness";
    let (_, first) = lead.get_text(path).await;
    let names = texts(&first, PEOPLE);
    assert_eq!(names.len(), 50, "{names:?}");
    assert_eq!(names[0], "Person Number 60", "the most recent attendee comes first");
    assert!(names[0..50].iter().all(|n| n != "Person Number 10"));
    assert_eq!(attrs(&first, "a[rel=next]", "href").len(), 1);
    assert!(page_text(&first).contains("Completed"));

    let (_, second) = lead.get_text(&format!("{path}?page=2")).await;
    let names = texts(&second, PEOPLE);
    assert_eq!(names.len(), 10, "{names:?}");
    assert_eq!(names[9], "Person Number 01");
    assert!(attrs(&second, "a[rel=next]", "href").is_empty());
    assert_eq!(attrs(&second, "a[rel=prev]", "href").len(), 1);

    // Page numbers past the end, or absurd ones, give an empty page, not an error.
    for page in ["3", "9223372036854775807", "-4"] {
        let (status, body) = lead.get_text(&format!("{path}?page={page}")).await;
        assert_eq!(status, StatusCode::OK, "page {page}");
        let rows = texts(&body, PEOPLE).len();
        assert!(rows == 0 || page == "-4", "page {page}: {rows} rows");
    }

    // The organisation's staff list pages the same way, by name.
    let (_, orgs) = lead.get_text("/organisations?q=Pager").await;
    let org = attrs(&orgs, "table a[href^='/organisations/']", "href")
        .into_iter()
        .next()
        .expect("the organisation the import added");
    let (_, staff) = lead.get_text(&org).await;
    let names = texts(&staff, "table.qm-table tbody td:first-child a[href$='/training']");
    assert_eq!(names.len(), 50);
    assert_eq!(names[0], "Person Number 01");
    assert!(page_text(&staff).contains("Page 1 of 2"));
    let (_, staff) = lead.get_text(&format!("{org}?page=2")).await;
    let names = texts(&staff, "table.qm-table tbody td:first-child a[href$='/training']");
    assert_eq!(names.len(), 10);
    assert_eq!(names[9], "Person Number 60");

    // The training overview counts the programme's recent sessions.
    let (_, overview) = lead.get_text("/training").await;
    assert!(
        page_text(&overview).contains("60 sessions in the last 12 months"),
        "{}",
        page_text(&overview)
    );
}

#[rocket::async_test]
async fn a_programme_page_names_the_modules_each_completion_needs() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;

    let (_, page) = lead.get_text("/training/programmes/safe-and-together").await;
    // `texts` joins the bold title and the rest with a space: "Title : rule".
    let rules = texts(&page, "ul.qm-list--bullet li");
    assert!(
        rules.contains(&"CORE training : CORE day 1: assessment, CORE day 2: interviewing, CORE day 3: documentation and CORE day 4: case planning attended in full.".to_string()),
        "{rules:?}"
    );
    assert!(
        rules
            .iter()
            .any(|r| r.starts_with("Supervisor training : ") && r.ends_with(", after completing CORE training.")),
        "the earlier completion is named by its title, not its id: {rules:?}"
    );
    assert!(rules.iter().all(|r| !r.contains("every one of")), "{rules:?}");
}

#[rocket::async_test]
async fn a_grid_preview_reads_each_day_column_in_words() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let path = preview_of_sample(
        &lead,
        "safe-and-together-core-cohorts.xlsx",
        &[("new_organisation", "Children's Social Care")],
    )
    .await;
    let (_, preview) = lead.get_text(&path).await;

    let read_as: Vec<String> = texts(&preview, "table.qm-table tbody tr td:nth-child(3)")
        .into_iter()
        .filter(|cell| cell.starts_with("Attendance"))
        .collect();
    assert!(read_as.contains(&"Attendance on 02/06/2025".to_string()), "{read_as:?}");
    assert!(
        read_as
            .iter()
            .all(|cell| !cell.contains("core-day") && !cell.contains("2025-")),
        "no module ids or ISO dates: {read_as:?}"
    );
}
