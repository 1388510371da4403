//! Training that counts as evidence (issue 14, part 1), end to end over
//! HTTP: staff in categories, training recorded through the registers, the
//! requirement judged live on the assessment, frozen at submission, and
//! the names kept from other organisations.

mod assessment_support;
mod common;

use assessment_support::*;
use common::{api, api_token, attrs, error_summary, page_text, texts, Browser, TestApp};
use reqwest::StatusCode;

/// The service Quality Mark asks that 80% of frontline staff hold DVA awareness.
const FRAMEWORK: &str = "dva-quality-mark-service";
const CRITERION: &str = "2.2.1";

/// Adds a person on the organisation's person form and checks it worked.
/// The person form's fields: a support worker with no email.
fn person_form<'a>(name: &'a str, category: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("full_name", name),
        ("email", ""),
        ("job_title", "Support worker"),
        ("staff_category", category),
    ]
}

async fn add_person(lead: &Browser, organisation: i64, name: &str, category: &str) {
    let res = lead
        .submit(
            &format!("/organisations/{organisation}/people/new"),
            &format!("/organisations/{organisation}/people"),
            &person_form(name, category),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "{name}");
}

/// The text of the element with this id (ids with dots need no escaping this way).
fn by_id(body: &str, id: &str) -> String {
    texts(body, &format!("[id=\"{id}\"]")).join(" ")
}

fn names(body: &str, id: &str) -> Vec<String> {
    texts(body, &format!("[id=\"{id}\"] li"))
}

#[rocket::async_test]
async fn a_criterion_is_met_through_training_and_frozen_at_submission() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let refuge = app.organisation(&lead, "Riverside Refuge", "voluntary_sector").await;
    let other = app.organisation(&lead, "Hilltop Advice", "voluntary_sector").await;
    for name in ["Ann Able", "Bob Brook", "Cy Cole", "Di Dale"] {
        add_person(&lead, refuge, name, " Frontline ").await;
    }
    add_person(&lead, refuge, "Ed Office", "office").await;
    add_person(&lead, other, "Zoe Other", "frontline").await;

    // The staff list shows each person's category, stored in one form.
    let (_, staff) = lead.get_text(&format!("/organisations/{refuge}")).await;
    assert!(
        page_text(&staff).contains("Support worker Category: frontline"),
        "{}",
        page_text(&staff)
    );
    assert!(page_text(&staff).contains("Category: office"));

    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;
    let member = app
        .user(&lead, "member@refuge.example", "org_member", Some(refuge))
        .await;
    let outsider = app
        .user(&lead, "member@hilltop.example", "org_member", Some(other))
        .await;
    let assessor = app.user(&lead, "assessor@council.example", "assessor", None).await;

    // Two of the four frontline staff trained, and the office worker, who does not count.
    common::dva_session_attended_by(
        &trainer,
        "05/02/2026",
        &[("Ann Able", refuge), ("Bob Brook", refuge), ("Ed Office", refuge)],
    )
    .await;
    let assessment = enrol(&member, None, FRAMEWORK).await;
    let page = format!("/assessments/{assessment}");
    let criterion_page = format!("{page}/criteria/{CRITERION}");

    let (status, body) = member.get_text(&page).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        by_id(&body, &format!("training-{CRITERION}")),
        "Training not met: 2 of 4 frontline staff (50%); needs 80%"
    );
    assert!(by_id(&body, &format!("names-{CRITERION}"))
        .contains("Trained: Ann Able, Bob Brook. Not trained: Cy Cole, Di Dale."));
    let (_, body) = member.get_text(&criterion_page).await;
    assert!(
        page_text(&body).contains("Training record today: not met, 2 of 4 frontline staff (50%); needs 80%."),
        "{}",
        page_text(&body)
    );
    assert_eq!(names(&body, &format!("trained-{CRITERION}")), ["Ann Able", "Bob Brook"]);
    assert_eq!(
        names(&body, &format!("not-trained-{CRITERION}")),
        ["Cy Cole", "Di Dale"]
    );
    assert!(page_text(&body).contains("80% of frontline staff hold DVA awareness"));

    // Every other mandatory criterion has a statement; this one waits for training.
    let others: Vec<String> = criteria(FRAMEWORK, true)
        .into_iter()
        .filter(|c| c != CRITERION)
        .collect();
    fill(&member, assessment, &others).await;
    let res = submit(&member, assessment).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused = error_summary(&res.text().await.expect("body"));
    assert_eq!(refused.len(), 1, "{refused:?}");
    assert!(refused[0].contains(CRITERION), "{refused:?}");

    // Three of four is still short of 80%; four of four is enough.
    common::dva_session_attended_by(&trainer, "12/02/2026", &[("Cy Cole", refuge)]).await;
    let (_, body) = member.get_text(&page).await;
    assert_eq!(
        by_id(&body, &format!("training-{CRITERION}")),
        "Training not met: 3 of 4 frontline staff (75%); needs 80%"
    );
    let last_session = common::dva_session_attended_by(&trainer, "19/02/2026", &[("Di Dale", refuge)]).await;
    let (_, body) = member.get_text(&page).await;
    assert_eq!(
        by_id(&body, &format!("training-{CRITERION}")),
        "Training met: 4 of 4 frontline staff (100%); needs 80%"
    );
    // With no upload, the status says what stands in for it.
    let cells = texts(&body, "td");
    let status_cell = cells
        .iter()
        .find(|cell| cell.contains("Training met: 4 of 4"))
        .expect("the criterion's status cell");
    assert!(status_cell.starts_with("Training record meets it"), "{status_cell}");

    // Nothing was uploaded for it, and yet it can be sent.
    let res = submit(&member, assessment).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let frozen = "met, 4 of 4 frontline staff (100%); needs 80%.";
    let review = format!("{page}/review");
    let (status, body) = assessor.get_text(&review).await;
    assert_eq!(status, StatusCode::OK);
    let record = by_id(&body, &format!("training-{CRITERION}"));
    assert!(
        record.contains("Training record at submission, 2 March 2026"),
        "{record}"
    );
    assert!(record.contains(frozen), "{record}");
    assert_eq!(
        names(&body, &format!("trained-{CRITERION}")),
        ["Ann Able", "Bob Brook", "Cy Cole", "Di Dale"]
    );

    // Later the register says Di Dale was absent after all, and a new
    // frontline worker joins untrained: the live record would be 3 of 5,
    // but the assessor still reviews what was true at submission.
    let (_, register) = trainer.get_text(&last_session).await;
    let field = attrs(&register, "select[name^=\"status[\"]", "name")
        .pop()
        .expect("Di Dale's mark");
    let res = trainer
        .submit(
            &last_session,
            &format!("{last_session}/register"),
            &[(&field, "absent")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    add_person(&lead, refuge, "Flo Fern", "frontline").await;
    let (_, body) = assessor.get_text(&review).await;
    let record = by_id(&body, &format!("training-{CRITERION}"));
    assert!(record.contains(frozen), "{record}");
    assert!(!page_text(&body).contains("Flo Fern"));
    let (_, body) = member.get_text(&criterion_page).await;
    assert!(page_text(&body).contains(&format!("Training record at submission, 2 March 2026, 09:00: {frozen}")));

    // The API's view of the assessment carries the same frozen judgement.
    let token = api_token(&member, "script").await;
    let (status, json) = api(&app, &token, &format!("/assessments/{assessment}")).await;
    assert_eq!(status, StatusCode::OK);
    let criterion = json["criteria"]
        .as_array()
        .expect("criteria")
        .iter()
        .find(|c| c["id"] == CRITERION)
        .expect("criterion")
        .clone();
    assert_eq!(criterion["training"]["met"], true);
    assert_eq!(
        criterion["training"]["figures"],
        "4 of 4 frontline staff (100%); needs 80%"
    );
    assert_eq!(criterion["training"]["not_trained"], serde_json::json!([]));
    assert!(criterion["training"]["frozen_at"].is_string());
    assert_eq!(criterion["evidence_count"], 0);

    // Nobody else sees the names: not another organisation's member (its
    // own assessment counts its own staff), and not a training lead.
    assert_eq!(outsider.get(&page).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(outsider.get(&criterion_page).await.status(), StatusCode::NOT_FOUND);
    let outsider_token = api_token(&outsider, "script").await;
    let (status, _) = api(&app, &outsider_token, &format!("/assessments/{assessment}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let own = enrol(&outsider, None, FRAMEWORK).await;
    let (_, body) = outsider.get_text(&format!("/assessments/{own}")).await;
    assert_eq!(
        by_id(&body, &format!("training-{CRITERION}")),
        "Training not met: 0 of 1 frontline staff (0%); needs 80%"
    );
    for name in ["Ann Able", "Bob Brook", "Cy Cole", "Di Dale"] {
        assert!(!body.contains(name), "{name} shown to another organisation");
    }
    assert_eq!(trainer.get(&page).await.status(), StatusCode::FORBIDDEN);

    // The assessor accepts the record but sends the assessment back over
    // another criterion. While the organisation works on it again the record
    // is live (3 of 5 now), and without enough training it cannot go back.
    let res = decide(
        &assessor,
        assessment,
        &[
            (CRITERION, "met", ""),
            ("1.1.1", "partially_met", "Name the lead in a job description."),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = assessor
        .submit(&review, &format!("{page}/request-changes"), &[("note", "")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&page).await;
    assert_eq!(
        by_id(&body, &format!("training-{CRITERION}")),
        "Training not met: 3 of 5 frontline staff (60%); needs 80%"
    );
    let res = submit(&member, assessment).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);

    // Di Dale was there after all: 4 of 5 is 80%, met again, but not the
    // record the assessor accepted, so that decision no longer stands.
    let res = trainer
        .submit(
            &last_session,
            &format!("{last_session}/register"),
            &[(&field, "attended")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = submit(&member, assessment).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = assessor.get_text(&review).await;
    let record = by_id(&body, &format!("training-{CRITERION}"));
    assert!(
        record.contains("met, 4 of 5 frontline staff (80%); needs 80%."),
        "{record}"
    );
    let heading = texts(&body, &format!("[id=\"criterion-{CRITERION}\"] h4")).join(" ");
    assert!(heading.contains("Updated since review"), "{heading}");
}

#[rocket::async_test]
async fn a_people_count_is_met_by_one_trained_person_of_the_category() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let refuge = app.organisation(&lead, "Riverside Refuge", "voluntary_sector").await;
    add_person(&lead, refuge, "Lee Lead", "DVA lead").await;
    add_person(&lead, refuge, "Max Other", "frontline").await;
    // The framework's own pages say what each requirement asks.
    let (_, body) = lead.get_text(&format!("/frameworks/{FRAMEWORK}/2024.1/areas/1")).await;
    assert!(
        page_text(&body).contains("Training that counts At least 1 of the dva lead staff holds MARAC briefed"),
        "{}",
        page_text(&body)
    );
    let assessment = enrol(&lead, Some(refuge), FRAMEWORK).await;
    // 1.1.2: at least one DVA lead is MARAC briefed.
    let (_, body) = lead.get_text(&format!("/assessments/{assessment}")).await;
    assert_eq!(
        by_id(&body, "training-1.1.2"),
        "Training not met: 0 of 1 dva lead staff trained; needs at least 1"
    );
    let token = api_token(&lead, "script").await;
    let (_, json) = api(&app, &token, &format!("/assessments/{assessment}")).await;
    let missing: Vec<&str> = json["missing_for_submission"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(missing.contains(&"1.1.2"), "{missing:?}");
    common::session_with(
        &lead,
        "marac-briefing/marac-briefing",
        "10/02/2026",
        &[("Lee Lead", refuge)],
        "attended",
    )
    .await;
    let (_, body) = lead.get_text(&format!("/assessments/{assessment}")).await;
    assert_eq!(
        by_id(&body, "training-1.1.2"),
        "Training met: 1 of 1 dva lead staff trained; needs at least 1"
    );
    let (_, json) = api(&app, &token, &format!("/assessments/{assessment}")).await;
    let missing: Vec<&str> = json["missing_for_submission"]
        .as_array()
        .expect("missing")
        .iter()
        .filter_map(|c| c["id"].as_str())
        .collect();
    assert!(!missing.contains(&"1.1.2"), "{missing:?}");
}

#[rocket::async_test]
async fn an_import_sets_staff_categories_of_new_and_recorded_people_and_undo_puts_them_back() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let refuge = app.organisation(&lead, "Riverside Refuge", "voluntary_sector").await;
    add_person(&lead, refuge, "Ed Office", "office").await;
    add_person(&lead, refuge, "Kim Keep", "manager").await;
    add_person(&lead, refuge, "Flo Field", "office").await;
    let dir = tempfile::tempdir().expect("dir");
    let sheet = dir.path().join("awareness.csv");
    std::fs::write(
        &sheet,
        "Name,Organisation,Staff category,Course date,Course,Attended\n\
         Ed Office,Riverside Refuge,Frontline,05/01/2026,DVA awareness session,Yes\n\
         Gus New,Riverside Refuge,Clinician,05/01/2026,DVA awareness session,Yes\n\
         Kim Keep,Riverside Refuge,,05/01/2026,DVA awareness session,Yes\n\
         Flo Field,Riverside Refuge,Frontline,05/01/2026,DVA awareness session,Yes\n",
    )
    .expect("sheet");
    let output = common::qmtrack(&app, &["import-attendance", sheet.to_str().expect("path")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let said = String::from_utf8_lossy(&output.stdout).to_string();
    let staff_rows = || async {
        let (_, staff) = lead.get_text(&format!("/organisations/{refuge}")).await;
        texts(&staff, "table.qm-table tbody tr")
    };
    let row_of = |rows: &[String], name: &str| rows.iter().find(|r| r.contains(name)).cloned().unwrap_or_default();
    let rows = staff_rows().await;
    assert!(row_of(&rows, "Ed Office").contains("Category: frontline"), "{rows:?}");
    assert!(row_of(&rows, "Gus New").contains("Category: clinician"), "{rows:?}");
    assert!(
        row_of(&rows, "Kim Keep").contains("Category: manager"),
        "a blank category changes nothing: {rows:?}"
    );
    assert!(
        said.contains("Staff category set for 3 people."),
        "Ed, Flo and the new Gus: {said}"
    );

    // Someone changes Flo's category by hand after the import; undoing the
    // import puts back what the sheet replaced, but not over that change.
    let (_, page) = lead.get_text(&format!("/organisations/{refuge}")).await;
    let flo = page
        .split("href=\"/people/")
        .skip(1)
        .find(|rest| rest.contains("Flo Field"))
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .expect("Flo's page")
        .to_string();
    let edit = format!("/people/{flo}/edit");
    let res = lead.submit(&edit, &edit, &person_form("Flo Field", "manager")).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let import = said
        .split("Imported (import ")
        .nth(1)
        .and_then(|rest| rest.split(')').next())
        .expect("the import's id")
        .to_string();
    let page = format!("/training/imports/{import}");
    let res = lead.submit(&page, &format!("{page}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let rows = staff_rows().await;
    assert!(row_of(&rows, "Ed Office").contains("Category: office"), "{rows:?}");
    assert!(row_of(&rows, "Flo Field").contains("Category: manager"), "{rows:?}");
    assert!(row_of(&rows, "Kim Keep").contains("Category: manager"), "{rows:?}");
    // Gus stays on record, as the holder of the certificate the import issued
    // (now revoked), but without the category the sheet gave.
    let gus = row_of(&rows, "Gus New");
    assert!(!gus.is_empty() && !gus.contains("Category"), "{rows:?}");
}

#[test]
fn standards_check_refuses_a_training_requirement_naming_what_does_not_exist() {
    let dir = tempfile::tempdir().expect("dir");
    let standards = dir.path().join("standards");
    let shipped = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("standards");
    std::fs::create_dir_all(standards.join("training")).expect("dirs");
    for entry in std::fs::read_dir(shipped.join("training")).expect("training") {
        let path = entry.expect("entry").path();
        if path.extension().is_some_and(|e| e == "toml") {
            std::fs::copy(&path, standards.join("training").join(path.file_name().expect("name"))).expect("copy");
        }
    }
    let file = "dva-quality-mark-service-2024.1.toml";
    let text = std::fs::read_to_string(shipped.join(file)).expect("framework");
    let line = text
        .lines()
        .position(|l| l == "completion = \"aware\"")
        .expect("requirement")
        + 1;
    std::fs::write(
        standards.join(file),
        text.replacen("completion = \"aware\"", "completion = \"expert\"", 1),
    )
    .expect("write");
    let output = common::qmtrack_on(
        "sqlite://unused",
        dir.path(),
        &["standards", "check", standards.to_str().expect("path")],
    );
    assert!(!output.status.success());
    let errors = String::from_utf8_lossy(&output.stderr).to_string();
    let expected = format!(
        "{}:{}: criterion {CRITERION}: programme \"dva-awareness\" has no completion \"expert\" (it has: aware)",
        standards.join(file).display(),
        line - 1
    );
    assert!(errors.contains(&expected), "expected {expected}\ngot {errors}");
}
