//! Certificates: issued from completions, downloaded as PDFs whose text
//! reads back exactly, checked publicly by code, revoked and reissued, and
//! kept from other organisations.

mod assessment_support;
mod common;

use common::imports::qmtrack;
use common::{attrs, location, page_text, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;
use std::process::Command;

const SAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/attendance");

/// Imports the ambassador sheet (two people complete: Hannah Brooks and
/// Kwame Mensah) and has the lead issue their certificates.
async fn two_ambassadors(app: &TestApp, lead: &Browser) -> Vec<(String, String)> {
    let output = qmtrack(
        app,
        &["import-attendance", &format!("{SAMPLES}/ambassador-training-2025.csv")],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let res = lead.submit("/certificates", "/certificates/issue", &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // Issuing again adds nothing.
    lead.submit("/certificates", "/certificates/issue", &[]).await;
    let (_, list) = lead.get_text("/certificates").await;
    let links = attrs(&list, "table.qm-table tbody td:first-child a", "href");
    let names = common::texts(&list, "table.qm-table tbody td:first-child a");
    assert_eq!(names, ["Hannah Brooks", "Kwame Mensah"], "{list}");
    links.into_iter().zip(names).collect()
}

async fn pdf_of(browser: &Browser, path: &str) -> Vec<u8> {
    let res = browser.get(&format!("{path}.pdf")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(
        res.headers().get("content-type").and_then(|v| v.to_str().ok()),
        Some("application/pdf")
    );
    assert!(res
        .headers()
        .get("content-disposition")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("attachment")));
    res.bytes().await.expect("pdf").to_vec()
}

/// Checks the file with qpdf and returns its text as pdftotext reads it.
fn check_and_read(pdf: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let check = Command::new("qpdf").arg("--check").arg(&path).output().expect("qpdf");
    assert!(
        check.status.success(),
        "qpdf --check: {}{}",
        String::from_utf8_lossy(&check.stdout),
        String::from_utf8_lossy(&check.stderr)
    );
    let text = Command::new("pdftotext")
        .arg(&path)
        .arg("-")
        .output()
        .expect("pdftotext");
    assert!(text.status.success());
    String::from_utf8(text.stdout).expect("utf-8 text")
}

/// The pictures embedded in a PDF (not their transparency masks), as
/// `(width, height)` in pixels, as pdfimages lists them.
fn images_in(pdf: &[u8]) -> Vec<(u32, u32)> {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("c.pdf");
    std::fs::write(&path, pdf).expect("write pdf");
    let list = Command::new("pdfimages")
        .arg("-list")
        .arg(&path)
        .output()
        .expect("pdfimages");
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    String::from_utf8_lossy(&list.stdout)
        .lines()
        .skip(2)
        .filter_map(|line| {
            let columns: Vec<&str> = line.split_whitespace().collect();
            (columns.get(2) == Some(&"image")).then(|| {
                let size = |i: usize| columns.get(i).and_then(|c| c.parse().ok()).unwrap_or(0);
                (size(3), size(4))
            })
        })
        .collect()
}

fn code_on(page: &str) -> String {
    common::texts(page, "#code").join("")
}

async fn verify_json(app: &TestApp, code: &str) -> (StatusCode, Value) {
    let res = app.browser().get(&format!("/verify/{code}.json")).await;
    let status = res.status();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[rocket::async_test]
async fn completions_get_certificates_that_read_back_exactly_and_verify() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let certs = two_ambassadors(&app, &lead).await;
    let (path, name) = &certs[0];
    let (_, page) = lead.get_text(path).await;
    let code = code_on(&page);
    assert_eq!(code.len(), 19, "{page}");
    assert!(page_text(&page).contains("Domestic abuse ambassador") || page.contains("mbassador"));

    let pdf = pdf_of(&lead, path).await;
    assert_eq!(
        pdf,
        pdf_of(&lead, path).await,
        "the same certificate renders to the same bytes"
    );
    let text = check_and_read(&pdf);
    assert!(text.contains(name.as_str()), "{text}");
    assert!(text.contains(&code), "{text}");
    assert!(text.contains("mbassador"), "{text}");
    // The title says what it is once, and the issuer is named.
    assert!(!text.contains("ambassadors: "), "no repeated title: {text}");
    assert!(text.contains("Issued by Domestic Abuse Partnership"), "{text}");
    assert!(images_in(&pdf).is_empty(), "no logo is configured, so none is printed");

    // The public check: no sign-in, the least that makes it useful.
    let anyone = app.browser();
    let (status, body) = anyone.get_text(&format!("/verify/{code}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(common::texts(&body, "#state"), ["Valid"]);
    assert_eq!(common::texts(&body, "#title"), ["Domestic abuse ambassador"]);
    assert!(body.contains(name.as_str()));
    assert!(!body.contains("Housing Services"), "no organisation internals");
    // Codes are forgiving of case and grouping, as people type them.
    let (status, _) = anyone
        .get_text(&format!("/verify/{}", code.to_lowercase().replace('-', "")))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, json) = verify_json(&app, &code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["state"], "valid");
    assert_eq!(json["holder_name"], name.as_str());
    assert!(json.get("organisation_id").is_none() && json.get("revoked_reason").is_none());

    // Reissue with a corrected name: a new code, the old one points to it.
    let res = lead
        .submit(path, &format!("{path}/reissue"), &[("holder_name", "Zoë O'Brien")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let new_path = location(&res);
    let (_, new_page) = lead.get_text(&new_path).await;
    let new_code = code_on(&new_page);
    assert_ne!(new_code, code);
    let (_, json) = verify_json(&app, &code).await;
    assert_eq!(json["state"], "superseded");
    assert_eq!(json["superseded_by"], new_code.as_str());
    let (_, old_page) = anyone.get_text(&format!("/verify/{code}")).await;
    assert_eq!(
        attrs(&old_page, "#superseded-by", "href"),
        [format!("/verify/{new_code}")]
    );
    let text = check_and_read(&pdf_of(&lead, &new_path).await);
    assert!(text.contains("Zoë O'Brien") && text.contains(&new_code), "{text}");

    // Revoke: the date shows, the reason never does.
    let (other_path, _) = &certs[1];
    let (_, other) = lead.get_text(other_path).await;
    let other_code = code_on(&other);
    let res = lead
        .submit(
            other_path,
            &format!("{other_path}/revoke"),
            &[("reason", "Attendance sheet was forged")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, json) = verify_json(&app, &other_code).await;
    assert_eq!(json["state"], "revoked");
    assert_eq!(json["revoked_on"].as_str().map(str::len), Some(10));
    assert!(!json.to_string().contains("forged"));
    let (_, body) = anyone.get_text(&format!("/verify/{other_code}")).await;
    assert_eq!(common::texts(&body, "#state"), ["Revoked"]);
    assert!(!body.contains("forged"));

    // Years later the ambassador completion has lapsed: expired.
    app.clock.advance(chrono::Duration::days(365 * 3));
    let (_, json) = verify_json(&app, &new_code).await;
    assert_eq!(json["state"], "expired", "{json}");
    let (_, body) = anyone.get_text(&format!("/verify/{new_code}")).await;
    assert_eq!(common::texts(&body, "#state"), ["Expired"]);
}

#[rocket::async_test]
async fn names_in_any_alphabet_come_out_exactly() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let certs = two_ambassadors(&app, &lead).await;
    let mut path = certs[0].0.clone();
    for name in [
        "Łukasz Nowak",
        "Siobhán Ní Bhriain",
        "Nguyễn Thị Lan",
        "Joanna Wiśniewska",
    ] {
        let res = lead
            .submit(&path, &format!("{path}/reissue"), &[("holder_name", name)])
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        path = location(&res);
        let (_, page) = lead.get_text(&path).await;
        let text = check_and_read(&pdf_of(&lead, &path).await);
        assert!(text.contains(name), "{name} in {text}");
        assert!(text.contains(&code_on(&page)));
    }
}

#[rocket::async_test]
async fn organisations_see_only_their_own_certificates() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let certs = two_ambassadors(&app, &lead).await;
    let (path, _) = &certs[0];
    let (_, page) = lead.get_text(path).await;
    let (_, orgs) = lead.get_text("/organisations?q=Housing").await;
    let housing: i64 = orgs
        .split("/organisations/")
        .skip(1)
        .find_map(|s| s.split('"').next().and_then(|id| id.parse().ok()))
        .expect("Housing Services listed");
    let own = app
        .user(&lead, "member@housing.example", "org_member", Some(housing))
        .await;
    let other_org = app.organisation(&lead, "Riverside Surgery", "gp_practice").await;
    let other = app
        .user(&lead, "member@riverside.example", "org_member", Some(other_org))
        .await;

    assert_eq!(own.get(path).await.status(), StatusCode::OK);
    assert_eq!(own.get(&format!("{path}.pdf")).await.status(), StatusCode::OK);
    let (_, list) = own.get_text("/certificates").await;
    assert_eq!(
        common::texts(&list, "table.qm-table tbody td:first-child a"),
        ["Hannah Brooks"]
    );

    assert_eq!(other.get(path).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(other.get(&format!("{path}.pdf")).await.status(), StatusCode::NOT_FOUND);
    let (_, list) = other.get_text("/certificates?organisation=0").await;
    assert!(list.contains("No certificates yet"), "{list}");
    // Asking for another organisation's ZIP gives an empty one, never theirs.
    let res = other
        .get(&format!("/certificates?format=zip&organisation={housing}"))
        .await;
    assert_eq!(res.status(), StatusCode::OK);
    let zip = res.bytes().await.expect("zip");
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("a zip");
    assert_eq!(archive.len(), 0);
    // Members cannot revoke.
    let res = own.submit(path, &format!("{path}/revoke"), &[("reason", "x")]).await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    assert!(!code_on(&page).is_empty());

    // The lead's ZIP holds every certificate, each a PDF with the right name.
    let res = lead.get("/certificates?format=zip").await;
    let zip = res.bytes().await.expect("zip");
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("a zip");
    assert_eq!(archive.len(), 2);
    let mut pdf = Vec::new();
    std::io::Read::read_to_end(&mut archive.by_index(1).expect("entry"), &mut pdf).expect("read");
    assert!(check_and_read(&pdf).contains("Kwame Mensah"));
}

#[rocket::async_test]
async fn unknown_codes_reveal_nothing_and_slow_down() {
    let app = TestApp::spawn().await;
    let _lead = app.programme_lead().await;
    let anyone = app.browser();
    let (status, body) = anyone.get_text("/verify/ABCD-EFGH-JKLM-NPQR").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status2, body2) = anyone.get_text("/verify/not-a-code").await;
    assert_eq!(status2, StatusCode::NOT_FOUND);
    assert_eq!(
        common::h1(&body),
        common::h1(&body2),
        "malformed and unknown look the same"
    );
    let (status, json) = verify_json(&app, "ABCD-EFGH-JKLM-NPQR").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(json, serde_json::json!({"error": "not found"}));
    for _ in 0..4 {
        anyone.get("/verify/ABCD-EFGH-JKLM-NPQS").await;
    }
    let started = std::time::Instant::now();
    anyone.get("/verify/ABCD-EFGH-JKLM-NPQT").await;
    assert!(
        started.elapsed() >= std::time::Duration::from_millis(200),
        "the seventh unknown look-up waits"
    );
    let _ = PASSWORD;
}

#[rocket::async_test]
async fn a_code_typed_into_the_verify_form_leads_to_its_certificate() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let certs = two_ambassadors(&app, &lead).await;
    let (_, page) = lead.get_text(&certs[0].0).await;
    let code = code_on(&page);

    let anyone = app.browser();
    let (status, form) = anyone.get_text("/verify").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(common::h1(&form), "Check a certificate");
    assert_eq!(attrs(&form, "form[action='/verify'] input", "name"), ["code"]);

    // As people type it: lower case, spaces for dashes.
    let typed = code.to_lowercase().replace('-', " ");
    let res = anyone.get(&format!("/verify?code={}", typed.replace(' ', "+"))).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/verify/{code}"));

    let (status, body) = anyone.get_text("/verify?code=ABCD-EFGH-JKLM-NPQR").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(
        common::error_summary(&body)[0].starts_with("No certificate has that code"),
        "{body}"
    );
    assert_eq!(
        attrs(&body, "#code", "value"),
        ["ABCD-EFGH-JKLM-NPQR"],
        "what was typed stays"
    );
    let (status, body) = anyone.get_text("/verify?code=").await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        common::error_summary(&body),
        ["Enter the code printed on the certificate"]
    );
}

#[rocket::async_test]
async fn the_api_and_command_line_give_certificates() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let certs = two_ambassadors(&app, &lead).await;
    let (_, page) = lead.get_text(&certs[1].0).await;
    let code = code_on(&page);

    let output = qmtrack(&app, &["token", "create", "--email", "lead@council.example"]);
    let token = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/certificates", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::OK);
    let body: Value = res.json().await.expect("json");
    let list = body["certificates"].as_array().expect("a list");
    assert_eq!(list.len(), 2);
    assert!(list.iter().all(|c| c["state"] == "valid"));
    assert!(list.iter().any(|c| c["code"] == code.as_str()));

    let dir = tempfile::tempdir().expect("dir");
    let out = dir.path().join("one.pdf");
    let output = qmtrack(
        &app,
        &[
            "certificates",
            "render",
            &code.to_lowercase(),
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pdf = std::fs::read(&out).expect("pdf written");
    assert_eq!(
        pdf,
        pdf_of(&lead, &certs[1].0).await,
        "the command line and the web give the same bytes"
    );
    let output = qmtrack(
        &app,
        &[
            "certificates",
            "render",
            "ABCD-EFGH-JKLM-NPQR",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert!(!output.status.success());

    let out = dir.path().join("all.zip");
    let output = qmtrack(
        &app,
        &[
            "certificates",
            "batch",
            "--organisation",
            "Housing Services",
            "--out",
            out.to_str().unwrap_or(""),
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let archive = zip::ZipArchive::new(std::fs::File::open(&out).expect("zip")).expect("a zip");
    assert_eq!(archive.len(), 1);

    // A session's certificates: the people on its register who completed.
    let (_, sessions) = lead.get_text("/training/sessions").await;
    let session: i64 = sessions
        .split("/training/sessions/")
        .skip(1)
        .find_map(|s| s.split('"').next().and_then(|id| id.parse().ok()))
        .expect("a session listed");
    let (_, session_page) = lead.get_text(&format!("/training/sessions/{session}")).await;
    let zip_link = format!("/certificates?session={session}&format=zip");
    assert!(attrs(&session_page, "a", "href").contains(&zip_link));
    let zip = lead.get(&zip_link).await.bytes().await.expect("zip");
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zip.to_vec())).expect("a zip");
    assert_eq!(archive.len(), 2);
}

#[rocket::async_test]
async fn the_demo_issues_certificates_in_every_state_once() {
    let app = TestApp::spawn().await;
    let _lead = app.programme_lead().await;
    for _ in 0..2 {
        let output = qmtrack(&app, &["demo"]);
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    }
    let output = qmtrack(&app, &["token", "create", "--email", "lead@council.example"]);
    let token = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let body: Value = reqwest::Client::new()
        .get(format!("{}/api/v1/certificates", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("json");
    let list = body["certificates"].as_array().expect("a list");
    let states: std::collections::BTreeSet<&str> = list.iter().filter_map(|c| c["state"].as_str()).collect();
    assert_eq!(
        states.into_iter().collect::<Vec<_>>(),
        ["expired", "revoked", "superseded", "valid"],
        "{body}"
    );
    // Run twice, issued once: no completion has two certificates but for the reissue.
    let codes: std::collections::BTreeSet<&str> = list.iter().filter_map(|c| c["code"].as_str()).collect();
    assert_eq!(codes.len(), list.len());
    let count = |kind: &str, state: &str| list.iter().filter(|c| c["kind"] == kind && c["state"] == state).count();
    assert_eq!(count("training", "superseded"), 1);
    assert_eq!(count("training", "revoked"), 1);
    // The demo's awards were made through the award workflow: each has its
    // certificate, and the revoked award's certificate is revoked with it.
    assert_eq!(count("award", "revoked"), 1);
    assert_eq!(list.iter().filter(|c| c["kind"] == "award").count(), 4);
}

#[rocket::async_test]
async fn an_award_issues_the_organisations_certificate() {
    use assessment_support::{criteria, enrol, fill, meet_all, submit};
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = app.user(&lead, "m@riverside.example", "org_member", Some(org)).await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let id = enrol(&member, None, "daha").await;
    fill(&member, id, &criteria("daha", true)).await;
    assert_eq!(submit(&member, id).await.status(), StatusCode::SEE_OTHER);
    meet_all(&assessor, id, &criteria("daha", false)).await;
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/award"),
            &[("awarded_on", "2026-03-02")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let (_, list) = member.get_text("/certificates").await;
    assert_eq!(
        common::texts(&list, "table.qm-table tbody td:first-child a"),
        ["Riverside Homes"]
    );
    let path = attrs(&list, "table.qm-table tbody td:first-child a", "href").remove(0);
    let (_, page) = member.get_text(&path).await;
    let code = code_on(&page);
    let (status, json) = verify_json(&app, &code).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(json["kind"], "award");
    assert_eq!(json["state"], "valid");
    assert_eq!(json["holder_name"], "Riverside Homes");
    assert_eq!(json["issued_on"], "2026-03-02");
    assert!(
        json["expires_on"].as_str().is_some_and(|d| d.starts_with("2029")),
        "{json}"
    );
    let text = check_and_read(&pdf_of(&member, &path).await);
    assert!(text.contains("Riverside Homes") && text.contains(&code), "{text}");

    // Revoking the award revokes its certificate; the reason stays internal.
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/revoke"),
            &[("reason", "Case audit found serious failings")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, json) = verify_json(&app, &code).await;
    assert_eq!(json["state"], "revoked", "{json}");
    assert!(!json.to_string().contains("failings"));
}

#[rocket::async_test]
async fn the_partnerships_logo_is_printed_when_one_is_configured() {
    let app = TestApp::spawn_with(common::Options {
        partnership_logo: Some(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/logo/partnership.jpg").into()),
        ..common::Options::default()
    })
    .await;
    let lead = app.programme_lead().await;
    let certs = two_ambassadors(&app, &lead).await;
    let (path, name) = &certs[0];
    let pdf = pdf_of(&lead, path).await;
    assert_eq!(pdf, pdf_of(&lead, path).await, "still the same bytes each time");
    assert_eq!(images_in(&pdf), [(40, 20)], "the logo, at its own size in pixels");
    let text = check_and_read(&pdf);
    assert!(text.contains(name.as_str()), "{text}");
}

/// A partnership holds hundreds of thousands of certificates: the list
/// comes a page at a time in name order, in the browser and the API, and a
/// ZIP of more than a batch is refused with what to do instead.
#[rocket::async_test]
async fn the_certificates_list_pages_and_a_zip_is_bounded() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let people = 2_001;
    let mut sheet = String::from("Name,Organisation,Email,Date,Course,Attended\n");
    for n in 0..people {
        sheet.push_str(&format!(
            "Person {n:04},Paging Housing,person{n:04}@paging.example,03/03/2025,DVA awareness,Y\n"
        ));
    }
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("many.csv");
    std::fs::write(&file, sheet).expect("sheet written");
    let output = qmtrack(&app, &["import-attendance", file.to_str().unwrap_or("")]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let (status, first) = lead.get_text("/certificates").await;
    assert_eq!(status, StatusCode::OK);
    let holders: Vec<String> = attrs(&first, "a", "href")
        .iter()
        .filter(|h| h.starts_with("/certificates/") && h[14..].parse::<i64>().is_ok())
        .cloned()
        .collect();
    assert_eq!(holders.len(), 50, "one page of 50");
    assert!(first.contains("Person 0000") && first.contains("Person 0049") && !first.contains("Person 0050"));
    assert!(attrs(&first, "a", "href").contains(&"/certificates?page=2".to_string()));

    let (_, last) = lead.get_text("/certificates?page=41").await;
    assert!(last.contains("Person 2000"), "the last page holds the last name");
    assert!(!last.contains("rel=\"next\""), "and offers no next page");

    let res = lead.get("/certificates?format=zip").await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    let text = res.text().await.unwrap_or_default();
    assert!(text.contains("at most 2000 certificates"), "{text}");

    let output = qmtrack(&app, &["token", "create", "--email", "lead@council.example"]);
    let token = String::from_utf8_lossy(&output.stdout).trim().to_string();
    let page = |n: i64| {
        reqwest::Client::new()
            .get(format!("{}/api/v1/certificates?page={n}", app.base))
            .bearer_auth(&token)
            .send()
    };
    let body: Value = page(2).await.expect("GET").json().await.expect("json");
    assert_eq!(body["certificates"].as_array().map(Vec::len), Some(50));
    assert_eq!(body["certificates"][0]["holder_name"], "Person 0050");
    assert_eq!(body["has_next"], true);
    let body: Value = page(41).await.expect("GET").json().await.expect("json");
    assert_eq!(body["certificates"].as_array().map(Vec::len), Some(1));
    assert_eq!(body["has_next"], false);
}
