//! Evidence files: what is accepted, what is refused (and that a refusal
//! stores nothing), CSRF on multipart forms, interrupted uploads, and
//! downloads.

mod assessment_support;
mod common;

use assessment_support::*;
use common::{field_errors, h1, texts, Browser, Options, TestApp};
use reqwest::StatusCode;
use std::sync::Arc;

const SMALL_LIMIT: u64 = 64 * 1024;

/// An app with a housing provider enrolled on DAHA by its member.
async fn enrolled(options: Options) -> (TestApp, Browser, Browser, i64, i64) {
    let app = TestApp::spawn_with(options).await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = app.user(&lead, "m@riverside.example", "org_member", Some(org)).await;
    let id = enrol(&member, None, "daha").await;
    (app, lead, member, org, id)
}

fn small() -> Options {
    Options {
        evidence_max_bytes: Some(SMALL_LIMIT),
        ..Options::default()
    }
}

async fn file_error(res: reqwest::Response) -> String {
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    field_errors(&body)
        .remove("file")
        .unwrap_or_else(|| panic!("no file error in {body}"))
}

#[rocket::async_test]
async fn every_accepted_kind_is_stored_once_by_content() {
    let (app, _lead, member, _org, id) = enrolled(small()).await;
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("policy.pdf", samples::pdf("Policy", &[])),
        ("Procedure.DOCX", samples::docx("Procedure")),
        ("register.xlsx", samples::xlsx()),
        ("plan.odt", samples::odt()),
        ("figures.ods", samples::ods()),
        ("old policy.doc", samples::ole("WordDocument")),
        ("old figures.xls", samples::ole("Workbook")),
        ("poster.png", samples::png(8, 8, [200, 0, 0])),
        ("photo.jpg", samples::jpeg()),
        ("photo copy.jpeg", samples::jpeg()),
    ];
    for (name, bytes) in &files {
        let res = upload(&member, id, "1.1.1", name, bytes.clone(), &[]).await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{name}: {}",
            res.text().await.unwrap_or_default()
        );
    }
    // A file of exactly the limit is accepted.
    let mut at_limit = samples::pdf("Big", &[]);
    at_limit.resize(SMALL_LIMIT as usize, b' ');
    assert_eq!(
        upload(&member, id, "1.1.1", "big.pdf", at_limit, &[]).await.status(),
        StatusCode::SEE_OTHER
    );
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    assert_eq!(texts(&body, "[id^='evidence-']").len(), 11);
    for label in [
        "Word document",
        "Excel spreadsheet",
        "OpenDocument text",
        "Word 97-2003 document",
        "JPEG image",
    ] {
        assert!(body.contains(label), "{label}");
    }
    // Ten distinct contents (the two JPEGs are the same bytes), named by hash, no temporary files.
    let stored = stored_files(&app).await;
    assert_eq!(stored.len(), 10, "{stored:?}");
    for path in &stored {
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(
            name.len() == 64 && name.bytes().all(|b| b.is_ascii_hexdigit()),
            "{name}"
        );
    }
    assert_eq!(evidence_rows(&app).await, 11);
}

#[rocket::async_test]
async fn bad_files_are_refused_with_a_reason_and_nothing_is_stored() {
    let (app, _lead, member, _org, id) = enrolled(small()).await;
    let pdf = samples::pdf("Policy", &[]);

    let error = file_error(upload(&member, id, "1.1.1", "policy.pdf", Vec::new(), &[]).await).await;
    assert_eq!(error, "“policy.pdf” is empty. Choose a file with something in it.");
    let error = file_error(upload(&member, id, "1.1.1", "", Vec::new(), &[]).await).await;
    assert_eq!(error, "Choose a file to upload");
    let error = file_error(upload(&member, id, "1.1.1", "poster.pdf", samples::png(2, 2, [0; 3]), &[]).await).await;
    assert!(
        error.contains("says it is a PDF document but its content is a PNG image"),
        "{error}"
    );
    let error = file_error(
        upload(
            &member,
            id,
            "1.1.1",
            "page.pdf",
            b"<html><script>x</script>".to_vec(),
            &[],
        )
        .await,
    )
    .await;
    assert!(error.contains("its content is not"), "{error}");
    let error = file_error(upload(&member, id, "1.1.1", "sheet.xlsx", samples::docx("x"), &[]).await).await;
    assert!(
        error.contains("Excel spreadsheet but its content is a Word document"),
        "{error}"
    );
    let error = file_error(upload(&member, id, "1.1.1", "setup.exe", b"MZ".to_vec(), &[]).await).await;
    assert!(error.contains("does not end with one of those extensions"), "{error}");
    for bad_name in ["../../etc/policy.pdf", "C:\\Users\\jo\\policy.pdf", "/policy.pdf"] {
        let error = file_error(upload(&member, id, "1.1.1", bad_name, pdf.clone(), &[]).await).await;
        assert!(error.contains("without folders"), "{bad_name:?}: {error}");
    }
    let error = file_error(upload(&member, id, "1.1.1", "policy\t.pdf", pdf.clone(), &[]).await).await;
    assert!(error.contains("control characters"), "{error}");
    // Other control characters cannot even be sent in a part's headers:
    // the form is refused as unreadable before it reaches the check.
    let res = upload(&member, id, "1.1.1", "policy\u{1}.pdf", pdf.clone(), &[]).await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
    assert!(res.text().await.expect("body").contains("Nothing has been saved"));
    // Other fields are checked too, and the page keeps what was typed.
    let res = upload(
        &member,
        id,
        "1.1.1",
        "policy.pdf",
        pdf.clone(),
        &[
            ("applies_from", "2026-13-01"),
            ("valid_until", "soon"),
            ("title", "Kept title"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    let errors = field_errors(&body);
    assert!(
        errors.contains_key("applies_from") && errors.contains_key("valid_until"),
        "{errors:?}"
    );
    assert!(body.contains("value=\"Kept title\""));

    // Over the limit: a clear page, status 413.
    let mut too_big = pdf.clone();
    too_big.resize(SMALL_LIMIT as usize + 1, b' ');
    let res = upload(&member, id, "1.1.1", "big.pdf", too_big, &[]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    let body = res.text().await.expect("body");
    assert_eq!(h1(&body), "The file is too large");
    assert!(body.contains("Files must be 64 KB or smaller. Nothing has been saved."));

    assert!(stored_files(&app).await.is_empty(), "{:?}", stored_files(&app).await);
    assert_eq!(evidence_rows(&app).await, 0);
    assert_eq!(
        status_of(&member, id).await,
        "Enrolled",
        "nothing moved the assessment on"
    );
}

#[rocket::async_test]
async fn the_default_limit_is_25_mib() {
    let (app, _lead, member, _org, id) = enrolled(Options::default()).await;
    let mut too_big = samples::pdf("Huge", &[]);
    too_big.resize(25 * 1024 * 1024 + 1, b' ');
    let res = upload(&member, id, "1.1.1", "huge.pdf", too_big, &[]).await;
    assert_eq!(res.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(res
        .text()
        .await
        .expect("body")
        .contains("Files must be 25 MB or smaller"));
    assert!(stored_files(&app).await.is_empty());
    assert_eq!(evidence_rows(&app).await, 0);
}

#[rocket::async_test]
async fn statements_and_links_are_checked() {
    let (app, _lead, member, _org, id) = enrolled(small()).await;
    let res = statement(&member, id, "1.1.1", "", "   ").await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors = field_errors(&res.text().await.expect("body"));
    assert_eq!(errors["title"], "Enter a title for the statement");
    assert_eq!(errors["statement"], "Enter the statement");
    let token = member
        .csrf_token(&format!("/assessments/{id}/criteria/1.1.1/evidence/new?kind=link"))
        .await;
    for bad in ["javascript:alert(1)", "intranet/policy"] {
        let res = post_multipart(
            &member,
            &format!("/assessments/{id}/criteria/1.1.1/evidence"),
            Some(&token),
            &[("kind", "link"), ("url", bad), ("applies_from", "2026-01-01")],
            None,
        )
        .await;
        assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY, "{bad}");
        assert!(field_errors(&res.text().await.expect("body")).contains_key("url"));
    }
    // A statement keeps its line breaks and is shown escaped.
    let res = statement(&member, id, "1.1.1", "Our approach", "Line one <b>bold?</b>\nLine two").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    assert!(
        body.contains("Line one &lt;b&gt;bold?&lt;&#x2F;b&gt;<br>Line two")
            || body.contains("Line one &lt;b&gt;bold?&lt;/b&gt;<br>Line two"),
        "{body}"
    );
    assert_eq!(evidence_rows(&app).await, 1);
}

#[rocket::async_test]
async fn removing_an_item_keeps_it_in_the_history() {
    let (app, lead, member, _org, id) = enrolled(small()).await;
    let res = statement(&member, id, "1.1.1", "Draft", "Wrong criterion").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    let action = body
        .split("action=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .find(|a| a.ends_with("/remove"))
        .expect("remove form")
        .to_string();
    let res = member
        .submit(&format!("/assessments/{id}/criteria/1.1.1"), &action, &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    assert!(body.contains("No evidence yet.") && body.contains("Removed items (1)"));
    // Removing again (a stale page) is refused, not repeated.
    let res = member
        .submit(&format!("/assessments/{id}/criteria/1.1.1"), &action, &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert_eq!(audit_count(&lead, "evidence.remove").await, 1);
    assert_eq!(evidence_rows(&app).await, 1, "kept, marked removed");
}

#[rocket::async_test]
async fn multipart_forms_need_the_right_csrf_token() {
    let (app, lead, member, _org, id) = enrolled(small()).await;
    let action = format!("/assessments/{id}/criteria/1.1.1/evidence");
    let fields = [("kind", "file"), ("applies_from", "2026-01-01")];
    let pdf = samples::pdf("Policy", &[]);
    let lead_token = lead.csrf_token("/").await;
    for token in [None, Some("forged"), Some(lead_token.as_str())] {
        let res = post_multipart(
            &member,
            &action,
            token,
            &fields,
            Some(file_part("policy.pdf", pdf.clone())),
        )
        .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN, "token {token:?}");
        assert!(res
            .text()
            .await
            .expect("body")
            .contains("This form had expired or did not come from this site"));
    }
    // A url-encoded post to the upload address is not a way round it.
    let res = member
        .post(&action, &[("kind", "statement"), ("title", "x"), ("statement", "y")])
        .await;
    assert!(res.status().is_client_error(), "{}", res.status());
    assert!(stored_files(&app).await.is_empty());
    assert_eq!(evidence_rows(&app).await, 0);
}

#[rocket::async_test]
async fn an_interrupted_upload_leaves_no_file_and_no_row() {
    use rocket::tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (app, _lead, _member, org, id) = enrolled(small()).await;
    // A second browser for the member whose cookies the test can read, to
    // send a request by hand over a raw connection.
    let jar = Arc::new(reqwest::cookie::Jar::default());
    let raw = Browser {
        base: app.base.clone(),
        client: reqwest::Client::builder()
            .cookie_provider(jar.clone())
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client"),
    };
    assert_eq!(
        raw.login("m@riverside.example", common::PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    let url: reqwest::Url = app.base.parse().expect("url");
    let cookies = reqwest::cookie::CookieStore::cookies(jar.as_ref(), &url).expect("cookies");
    let token = raw
        .csrf_token(&format!("/assessments/{id}/criteria/1.1.1/evidence/new?kind=file"))
        .await;

    let boundary = "----qmtrackinterrupted";
    let mut body = String::new();
    for (name, value) in [
        ("csrf_token", token.as_str()),
        ("kind", "file"),
        ("applies_from", "2026-01-01"),
    ] {
        body.push_str(&format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n"
        ));
    }
    body.push_str(&format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"policy.pdf\"\r\nContent-Type: application/pdf\r\n\r\n%PDF-1.4\n"
    ));
    let sent = body.into_bytes();
    let partial_file = vec![b'x'; 20_000];
    let head = format!(
        "POST /assessments/{id}/criteria/1.1.1/evidence HTTP/1.1\r\nHost: {}\r\nCookie: {}\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.host_str().unwrap_or("127.0.0.1"),
        cookies.to_str().expect("ascii cookies"),
        sent.len() + partial_file.len() + 40_000,
    );
    let address = format!("{}:{}", url.host_str().unwrap_or("127.0.0.1"), url.port().unwrap_or(80));
    let mut stream = rocket::tokio::net::TcpStream::connect(address).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("head");
    stream.write_all(&sent).await.expect("fields");
    stream.write_all(&partial_file).await.expect("part of the file");
    // The connection drops with 40,000 promised bytes unsent.
    stream.shutdown().await.expect("shutdown");
    let mut response = Vec::new();
    let _ = rocket::tokio::time::timeout(std::time::Duration::from_secs(10), stream.read_to_end(&mut response)).await;
    let response = String::from_utf8_lossy(&response);
    assert!(
        response.starts_with("HTTP/1.1 400"),
        "the server answers a cut-off upload with 400: {response}"
    );

    assert!(stored_files(&app).await.is_empty(), "{:?}", stored_files(&app).await);
    assert_eq!(evidence_rows(&app).await, 0);
    // The same upload, complete, works: the refusal above was for the interruption.
    let res = upload(&raw, id, "1.1.1", "policy.pdf", samples::pdf("Policy", &[]), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(stored_files(&app).await.len(), 1);
    assert_eq!(evidence_rows(&app).await, 1);
    let _ = org;
}

#[rocket::async_test]
async fn downloads_are_attachments_for_those_allowed_and_every_one_is_logged() {
    let (app, lead, member, org, id) = enrolled(small()).await;
    let other_org = app.organisation(&lead, "Hillside Surgery", "gp_practice").await;
    let outsider = app
        .user(&lead, "m@hillside.example", "org_member", Some(other_org))
        .await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let trainer = app.user(&lead, "t@council.example", "training_lead", None).await;
    let pdf = samples::pdf("Confidential casework", &["Survivor details redacted"]);
    let res = upload(&member, id, "1.1.1", "Case audit “March”.pdf", pdf.clone(), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    let doc = scraper::Html::parse_document(&body);
    let links = scraper::Selector::parse("a[href$='/download']").expect("selector");
    let href = doc
        .select(&links)
        .next()
        .and_then(|a| a.value().attr("href"))
        .expect("download link")
        .to_string();

    for (who, browser) in [("member", &member), ("assessor", &assessor), ("lead", &lead)] {
        let res = browser.get(&href).await;
        assert_eq!(res.status(), StatusCode::OK, "{who}");
        let header = |name: &str| {
            res.headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .unwrap_or_default()
                .to_string()
        };
        assert_eq!(header("content-type"), "application/pdf");
        assert_eq!(header("x-content-type-options"), "nosniff");
        let disposition = header("content-disposition");
        assert!(
            disposition.starts_with("attachment; filename=\"Case audit _March_.pdf\""),
            "{disposition}"
        );
        assert!(
            disposition.contains("filename*=UTF-8''Case%20audit%20%E2%80%9CMarch%E2%80%9D.pdf"),
            "{disposition}"
        );
        assert_eq!(
            res.bytes().await.expect("bytes").to_vec(),
            pdf,
            "{who} gets the file as uploaded"
        );
    }
    assert_eq!(trainer.get(&href).await.status(), StatusCode::FORBIDDEN);
    assert_eq!(outsider.get(&href).await.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        app.browser().get(&href).await.status(),
        StatusCode::SEE_OTHER,
        "sign in first"
    );
    assert_eq!(
        member.get("/evidence/99999/download").await.status(),
        StatusCode::NOT_FOUND
    );

    // Three downloads logged, each against the organisation, with who did it.
    let (_, body) = lead
        .get_text(&format!("/audit?action=evidence.download&organisation={org}"))
        .await;
    let rows = texts(&body, ".qm-table tbody tr");
    assert_eq!(rows.len(), 3, "{rows:?}");
    assert!(rows.iter().any(|r| r.contains("a@council.example")));
    assert!(rows.iter().all(|r| r.contains("Riverside Homes")));
    let (_, body) = lead
        .get_text(&format!("/audit?action=evidence.download&organisation={other_org}"))
        .await;
    assert!(texts(&body, ".qm-table tbody tr").is_empty());
}

#[rocket::async_test]
async fn dates_are_typed_as_day_month_and_year_the_way_people_write_them() {
    let (_app, _lead, member, _org, id) = enrolled(Options::default()).await;
    let (_, form) = member
        .get_text(&format!("/assessments/{id}/criteria/1.1.1/evidence/new?kind=file"))
        .await;
    assert_eq!(
        common::attrs(&form, "#applies_from, #applies_from-month, #applies_from-year", "name"),
        ["applies_from.day", "applies_from.month", "applies_from.year"],
        "three boxes, the day box carrying the field's id for the error summary"
    );
    let pdf = samples::pdf("Policy", &[]);
    for (month, day) in [("March", "3"), ("03", "4"), ("mar", "05")] {
        let res = upload(
            &member,
            id,
            "1.1.1",
            &format!("policy-{day}.pdf"),
            samples::pdf(&format!("Policy {day}"), &[]),
            &[
                ("applies_from", ""),
                ("applies_from.day", day),
                ("applies_from.month", month),
                ("applies_from.year", "2026"),
            ],
        )
        .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "{day} {month} 2026");
    }
    let (_, page) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    let text = common::page_text(&page);
    for date in ["3 March 2026", "4 March 2026", "5 March 2026"] {
        assert!(text.contains(date), "{date}: {text}");
    }

    // Not a date: said so, with what was typed kept in the boxes.
    let res = upload(
        &member,
        id,
        "1.1.1",
        "policy.pdf",
        pdf,
        &[
            ("applies_from", ""),
            ("applies_from.day", "31"),
            ("applies_from.month", "February"),
            ("applies_from.year", "2026"),
        ],
    )
    .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    assert!(field_errors(&body)["applies_from"].contains("must be a real date"));
    assert_eq!(common::attrs(&body, "#applies_from-month", "value"), ["February"]);
    assert_eq!(common::attrs(&body, "a[href='#applies_from']", "href").len(), 1);
}
