//! Session evaluations (issue 14, part 2): a session's public link is
//! answered without an account, counted on the session's results and in the
//! board report, refused before the session day and once closed (409),
//! capped per session and rate limited per client; a response row holds
//! nothing that identifies who gave it; an organisation's member never sees
//! results; another survey tool's export is imported after a preview.

mod common;

use common::imports::upload_to;
use common::{attrs, board_figures, location, page_text, texts, Browser, Options, TestApp};
use reqwest::StatusCode;

const IMPROVE: &str = "improved-practice";
const CONFIDENT: &str = "confident-to-respond";
const REFER: &str = "know-where-to-refer";

/// A DVA awareness session on `date` (`DD/MM/YYYY`) with `places`, and its path.
async fn add_session(trainer: &Browser, date: &str, places: &str) -> String {
    common::add_session(trainer, "dva-awareness/dva-awareness", date, places).await
}

/// The path of a session's public evaluation link, as its results page shows it.
async fn public_link(trainer: &Browser, session: &str) -> String {
    let (status, body) = trainer.get_text(&format!("{session}/evaluation")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let url = attrs(&body, "#evaluation-link", "href")
        .pop()
        .expect("the link is shown");
    let path = &url[url.find("/evaluate/").expect("an evaluation link")..];
    assert_eq!(path.len(), "/evaluate/".len() + 43, "256 random bits, URL-safe: {path}");
    assert!(body.contains("<svg"), "the QR code is on the page");
    path.to_string()
}

/// One person's answers, posted from the public form (or, when the link no
/// longer shows a form, as a form loaded earlier would post them).
async fn answer(browser: &Browser, link: &str, improve: &str, comment: &str) -> reqwest::Response {
    let token = match common::csrf_in(&browser.get_text(link).await.1) {
        Some(token) => token,
        None => browser.csrf_token("/login").await,
    };
    browser
        .post(
            link,
            &[
                ("csrf_token", &token),
                (&format!("answer[{IMPROVE}]") as &str, improve),
                (&format!("answer[{CONFIDENT}]"), "Fairly confident"),
                (&format!("answer[{REFER}]"), "Yes"),
                ("comment", comment),
            ],
        )
        .await
}

async fn staff(app: &TestApp) -> (Browser, Browser) {
    let lead = app.programme_lead().await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;
    (lead, trainer)
}

#[rocket::async_test]
async fn an_evaluation_is_answered_from_its_link_counted_and_refused_once_closed() {
    let app = TestApp::spawn().await;
    let (lead, trainer) = staff(&app).await;
    let org = app.organisation(&lead, "Alpha Housing Trust", "housing_provider").await;
    let session = common::dva_session_attended_by(&trainer, "02/03/2026", &[("Ann Lee", org)]).await;
    let (_, session_page) = trainer.get_text(&session).await;
    assert!(session_page.contains(&format!("{session}/evaluation")));
    assert!(session_page.contains(&format!("{session}/sign-in-sheet.pdf")));
    let link = public_link(&trainer, &session).await;
    // Opening it again keeps the same link.
    assert_eq!(public_link(&lead, &session).await, link);

    // Someone with no account opens it: the form names the programme, the
    // session and its date, with a fieldset and legend per question.
    let attendee = app.browser();
    let (status, body) = attendee.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    let text = page_text(&body);
    for expected in ["DVA awareness", "DVA awareness session", "2 March 2026", "anonymous"] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    let legends = texts(&body, "fieldset legend");
    assert_eq!(legends.len(), 3, "{legends:?}");
    assert!(legends[0].contains("improve your practice"));
    assert_eq!(attrs(&body, "input[type=radio]", "id")[0], format!("q-{IMPROVE}"));

    // An unanswered question is named in the error summary, linked to its first answer.
    let res = attendee
        .submit(
            &link,
            &link,
            &[(&format!("answer[{IMPROVE}]") as &str, "To a great extent")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = res.text().await.expect("body");
    assert_eq!(
        attrs(&body, ".qm-error-summary__list a", "href"),
        [format!("#q-{CONFIDENT}"), format!("#q-{REFER}")]
    );
    // Without the form's token (another site posting), refused.
    let res = app
        .browser()
        .post(&link, &[(&format!("answer[{IMPROVE}]") as &str, "Not at all")])
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);

    for (improve, comment) in [
        ("To a great extent", "Clear and practical"),
        ("To a great extent", ""),
        ("To some extent", "More on economic abuse please"),
    ] {
        let attendee = app.browser();
        let res = answer(&attendee, &link, improve, comment).await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "on to a page of its own");
        let sent = location(&res);
        assert_eq!(sent, format!("{link}/sent"));
        let (status, thanks) = attendee.get_text(&sent).await;
        assert_eq!(status, StatusCode::OK);
        assert!(page_text(&thanks).contains("Thank you"));
    }

    let (_, results) = trainer.get_text(&format!("{session}/evaluation")).await;
    let summary = texts(&results, "#summary").pop().expect("summary");
    assert!(
        summary.starts_with("3 responses; 67% said it will help them improve their practice to a great extent"),
        "{summary}"
    );
    let text = page_text(&results);
    assert!(text.contains("Clear and practical") && text.contains("More on economic abuse please"));

    // The API gives the same counts, and the comments without who wrote them.
    let token = common::api_token(&trainer, "evaluations").await;
    let session_id = session.rsplit('/').next().expect("session id");
    let (status, api) = common::api(&app, &token, &format!("/sessions/{session_id}/evaluation")).await;
    assert_eq!(status, StatusCode::OK, "{api}");
    assert_eq!(api["responses"], 3);
    assert_eq!(api["programme_id"], "dva-awareness");
    assert_eq!(api["session_date"], "2026-03-02");
    let improve = &api["questions"][0];
    assert_eq!(improve["id"], IMPROVE);
    assert_eq!(improve["headline_percent"], 67);
    let counts: Vec<(String, i64)> = improve["counts"]
        .as_array()
        .expect("counts")
        .iter()
        .map(|c| {
            (
                c["answer"].as_str().unwrap_or("").to_string(),
                c["count"].as_i64().unwrap_or(-1),
            )
        })
        .filter(|(_, count)| *count > 0)
        .collect();
    assert_eq!(
        counts,
        [("To a great extent".to_string(), 2), ("To some extent".to_string(), 1)]
    );
    assert_eq!(
        api["comments"],
        serde_json::json!(["Clear and practical", "More on economic abuse please"])
    );

    let figures = board_figures(&lead, "2026-03-01", "2026-03-31").await;
    assert_eq!(figures["evaluation.dva-awareness.responses"]["value"], 3);
    assert_eq!(
        figures[&format!("evaluation.dva-awareness.{IMPROVE}.top_share")]["value"],
        67
    );
    assert_eq!(
        figures[&format!("evaluation.dva-awareness.{REFER}.top_share")]["value"],
        100
    );
    assert_eq!(figures["evaluation.iris.responses"]["value"], 0);
    // The responses figure carries the sentence the board quotes.
    let sentence = "3 responses; 67% said it will help them improve their practice to a great extent";
    let items = figures["evaluation.dva-awareness.responses"]["items"].to_string();
    assert!(items.contains(sentence), "{items}");
    let csv = lead
        .get("/reports/board.csv?from=2026-03-01&to=2026-03-31")
        .await
        .text()
        .await
        .expect("csv");
    assert!(
        csv.contains("evaluation.dva-awareness.responses,Session evaluations,Responses,2026-03-01,2026-03-31,3"),
        "{csv}"
    );
    let res = lead.get("/reports/board.xlsx?from=2026-03-01&to=2026-03-31").await;
    assert_eq!(res.status(), StatusCode::OK);
    let pdf = lead
        .get("/reports/board.pdf?from=2026-03-01&to=2026-03-31")
        .await
        .bytes()
        .await
        .expect("pdf");
    let text = common::pdf_text(&pdf);
    assert!(text.contains("Session evaluations"), "{text}");
    assert!(
        text.contains("3 responses; 67% said it will help them improve"),
        "{text}"
    );
    let html = lead
        .get("/reports/board.html?from=2026-03-01&to=2026-03-31")
        .await
        .text()
        .await
        .expect("html");
    assert!(page_text(&html).contains("Session evaluations"));
    assert!(page_text(&html).contains(sentence));

    // By programme, for the period.
    let (status, by_programme) = trainer
        .get_text("/training/evaluations?from=2026-03-01&to=2026-03-31")
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(texts(&by_programme, "#summary-dva-awareness")[0].starts_with("3 responses; 67%"));
    let captions = texts(&by_programme, "table caption");
    assert_eq!(captions.len(), 3, "the DVA awareness questions only: {captions:?}");
    assert!(captions[0].ends_with("(3 answered)"), "{captions:?}");
    assert!(
        !attrs(&by_programme, "input[name=preset]", "value").is_empty(),
        "the period picker"
    );

    // Open to the end of the 14th day after the session, then closed.
    app.clock.advance(chrono::Duration::days(14));
    let res = answer(&app.browser(), &link, "Not at all", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "still open on the last day");
    app.clock.advance(chrono::Duration::days(1));
    let closed = app.browser();
    let (status, body) = closed.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page_text(&body).contains("This form has closed"));
    assert!(texts(&body, "fieldset").is_empty(), "no form once closed");
    let res = answer(&closed, &link, "Not at all", "").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(page_text(&res.text().await.expect("body")).contains("This form has closed"));
    // Signed in again, as sessions last at most a day.
    let res = lead.login("lead@council.example", common::PASSWORD).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let figures = board_figures(&lead, "2026-03-01", "2026-03-31").await;
    assert_eq!(figures["evaluation.dva-awareness.responses"]["value"], 4);

    // An unknown link is not found.
    let (status, _) = app.browser().get_text(&format!("/evaluate/{}", "x".repeat(43))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[rocket::async_test]
async fn a_form_is_refused_before_its_session_day() {
    let app = TestApp::spawn().await;
    let (_, trainer) = staff(&app).await;
    let session = add_session(&trainer, "10/03/2026", "12").await;
    let link = public_link(&trainer, &session).await;
    let attendee = app.browser();
    let (status, body) = attendee.get_text(&link).await;
    assert_eq!(status, StatusCode::OK);
    assert!(page_text(&body).contains("not open yet"), "{}", page_text(&body));
    let res = answer(&attendee, &link, "To a great extent", "").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    app.clock.advance(chrono::Duration::days(8));
    let res = answer(&attendee, &link, "To a great extent", "").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "open on the session day");
}

#[rocket::async_test]
async fn a_session_takes_at_most_its_cap_of_responses() {
    let app = TestApp::spawn().await;
    let (_, trainer) = staff(&app).await;
    // One place and nobody on the register: the floor of 30 applies.
    let session = add_session(&trainer, "02/03/2026", "1").await;
    let link = public_link(&trainer, &session).await;
    let attendee = app.browser();
    for n in 0..30 {
        let res = answer(&attendee, &link, "To a great extent", "").await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER, "response {n}");
    }
    let res = answer(&attendee, &link, "To a great extent", "").await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(page_text(&res.text().await.expect("body")).contains("all the answers it can take"));
    let (_, results) = trainer.get_text(&format!("{session}/evaluation")).await;
    assert!(texts(&results, "#summary")[0].starts_with("30 responses"));
}

/// Forty people answering at the same moment, one place on the session: the
/// cap of 30 holds exactly, and no one gets an error instead of an answer.
#[rocket::async_test]
async fn answers_posted_at_once_keep_to_the_cap() {
    let app = TestApp::spawn_with(Options {
        trust_ip_header: true,
        ..Options::default()
    })
    .await;
    let (_, trainer) = staff(&app).await;
    let session = add_session(&trainer, "02/03/2026", "1").await;
    let link = public_link(&trainer, &session).await;
    let client = app.browser();
    let token = client.csrf_token(&link).await;
    let posts = (0..40).map(|n| {
        let (client, link, token) = (&client, &link, &token);
        async move { answer_from(client, link, token, &format!("198.51.100.{n}")).await }
    });
    let statuses = rocket::futures::future::join_all(posts).await;
    let taken = statuses.iter().filter(|s| **s == StatusCode::SEE_OTHER).count();
    let refused = statuses.iter().filter(|s| **s == StatusCode::CONFLICT).count();
    assert_eq!((taken, refused), (30, 10), "{statuses:?}");
    let (_, results) = trainer.get_text(&format!("{session}/evaluation")).await;
    assert!(texts(&results, "#summary")[0].starts_with("30 responses"));
}

/// Posts answers as a client at `ip` (the app trusts `X-Real-IP` here).
async fn answer_from(browser: &Browser, link: &str, token: &str, ip: &str) -> StatusCode {
    browser
        .client
        .post(format!("{}{link}", browser.base))
        .header("X-Real-IP", ip)
        .form(&[
            ("csrf_token", token),
            (&format!("answer[{IMPROVE}]") as &str, "To some extent"),
            (&format!("answer[{CONFIDENT}]"), "Very confident"),
            (&format!("answer[{REFER}]"), "Partly"),
        ])
        .send()
        .await
        .expect("POST")
        .status()
}

#[rocket::async_test]
async fn posts_are_rate_limited_per_client() {
    let app = TestApp::spawn_with(Options {
        trust_ip_header: true,
        ..Options::default()
    })
    .await;
    let (_, trainer) = staff(&app).await;
    // 40 places: room for 120 responses, more than one client may send.
    let first = add_session(&trainer, "02/03/2026", "40").await;
    let link = public_link(&trainer, &first).await;
    let client = app.browser();
    let token = client.csrf_token(&link).await;
    for n in 0..60 {
        assert_eq!(
            answer_from(&client, &link, &token, "203.0.113.7").await,
            StatusCode::SEE_OTHER,
            "post {n}"
        );
    }
    assert_eq!(
        answer_from(&client, &link, &token, "203.0.113.7").await,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another client is not held back, and the limit is an hour's.
    assert_eq!(
        answer_from(&client, &link, &token, "203.0.113.8").await,
        StatusCode::SEE_OTHER
    );
    app.clock.advance(chrono::Duration::minutes(61));
    assert_eq!(
        answer_from(&client, &link, &token, "203.0.113.7").await,
        StatusCode::SEE_OTHER
    );
}

/// The column names of `evaluation_responses` and its rows' days and comments.
async fn stored_responses(database_url: &str) -> (Vec<String>, Vec<(String, String)>, i64) {
    let (columns_sql, rows_sql) = if database_url.starts_with("postgres") {
        (
            "SELECT column_name::text FROM information_schema.columns
             WHERE table_name = 'evaluation_responses' ORDER BY ordinal_position",
            "SELECT answered_on::text, comment FROM evaluation_responses ORDER BY id",
        )
    } else {
        (
            "SELECT name FROM pragma_table_info('evaluation_responses')",
            "SELECT answered_on, comment FROM evaluation_responses ORDER BY id",
        )
    };
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(database_url).await.expect("connect");
    let columns: Vec<String> = sqlx::query_scalar(columns_sql).fetch_all(&pool).await.expect("columns");
    let rows: Vec<(String, String)> = sqlx::query_as(rows_sql).fetch_all(&pool).await.expect("rows");
    let audit: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM audit_log")
        .fetch_one(&pool)
        .await
        .expect("audit");
    pool.close().await;
    (columns, rows, audit)
}

#[rocket::async_test]
async fn a_response_keeps_nothing_that_identifies_who_gave_it() {
    let app = TestApp::spawn().await;
    let (_, trainer) = staff(&app).await;
    let session = add_session(&trainer, "02/03/2026", "10").await;
    let link = public_link(&trainer, &session).await;
    let (_, _, audit_before) = stored_responses(&app.database_url).await;
    // Even someone signed in answers anonymously.
    let res = answer(&trainer, &link, "To a great extent", "Useful").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (columns, rows, audit_after) = stored_responses(&app.database_url).await;
    assert_eq!(columns, ["id", "session_id", "answered_on", "answers", "comment"]);
    assert_eq!(
        rows,
        [("2026-03-02".to_string(), "Useful".to_string())],
        "the day, not the time"
    );
    assert_eq!(audit_after, audit_before, "no audit entry with its moment");
}

#[rocket::async_test]
async fn an_organisations_member_never_sees_results() {
    let app = TestApp::spawn().await;
    let (lead, trainer) = staff(&app).await;
    let org = app.organisation(&lead, "Alpha Housing Trust", "housing_provider").await;
    let member = app.user(&lead, "m@alpha.example", "org_member", Some(org)).await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let session = common::dva_session_attended_by(&trainer, "02/03/2026", &[("Ann Lee", org)]).await;
    let link = public_link(&trainer, &session).await;
    assert_eq!(
        answer(&app.browser(), &link, "To a great extent", "").await.status(),
        StatusCode::SEE_OTHER
    );
    // Its own progress report has no evaluation figures: answers belong to
    // sessions, not to any organisation.
    let (status, own) = member
        .get_text(&format!("/organisations/{org}/report?from=2026-03-01&to=2026-03-31"))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(!texts(&own, "tr[id^='training.dva-awareness.']").is_empty());
    assert!(texts(&own, "tr[id^='evaluation.']").is_empty());
    assert!(!page_text(&own).contains("Session evaluations"));
    let session_id = session.rsplit('/').next().expect("session id");
    for who in [&member, &assessor] {
        let token = common::api_token(who, "results").await;
        let (status, _) = common::api(&app, &token, &format!("/sessions/{session_id}/evaluation")).await;
        assert_eq!(status, StatusCode::FORBIDDEN);
        for path in [
            format!("{session}/evaluation"),
            "/training/evaluations".to_string(),
            format!("{session}/sign-in-sheet.pdf"),
        ] {
            let res = who.get(&path).await;
            assert_eq!(res.status(), StatusCode::FORBIDDEN, "{path}");
        }
    }
}

#[rocket::async_test]
async fn the_sign_in_sheet_is_a_pdf() {
    let app = TestApp::spawn().await;
    let (_, trainer) = staff(&app).await;
    let session = add_session(&trainer, "02/03/2026", "10").await;
    let res = trainer.get(&format!("{session}/sign-in-sheet.pdf")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert_eq!(res.headers()["content-type"], "application/pdf");
    let text = common::pdf_text(&res.bytes().await.expect("pdf"));
    for expected in [
        "DVA awareness session",
        "2 March 2026, 10:00, Civic Centre",
        "Trainer: Niamh",
        "Work email",
        "Signature",
    ] {
        assert!(text.contains(expected), "{expected} in {text}");
    }
    // The evaluation link is printed under its QR code, whole.
    let link = public_link(&trainer, &session).await;
    let printed: String = text.split_whitespace().collect();
    assert!(printed.contains(&link), "{link} in {text}");
    // The same session's sheet is the same each time it is printed.
    let again = trainer
        .get(&format!("{session}/sign-in-sheet.pdf"))
        .await
        .bytes()
        .await
        .expect("pdf");
    assert_eq!(common::pdf_text(&again), text);
}

#[rocket::async_test]
async fn an_export_from_another_survey_tool_is_imported_after_a_preview() {
    let app = TestApp::spawn().await;
    let (lead, trainer) = staff(&app).await;
    let session = add_session(&trainer, "02/03/2026", "20").await;
    let results_page = format!("{session}/evaluation");
    let csv = "Timestamp,Q1. To what extent will this session help you improve your practice?,\
How confident do you now feel responding to a disclosure of domestic abuse?,\
Do you know where to refer someone who tells you about domestic abuse?,\
Is there anything else you would like to tell us about the session?
02/03/2026 11:02,To a great extent,Very confident,Yes,Great trainer
02/03/2026 11:05,to some extent,Fairly confident,partly,
02/03/2026 11:09,Quite a lot,Very confident,Yes,
";
    let import = format!("{session}/evaluation/import");
    let res = upload_to(
        &trainer,
        &results_page,
        &import,
        "survey.csv",
        csv.as_bytes().to_vec(),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::OK);
    let preview = res.text().await.expect("preview");
    assert!(texts(&preview, "#import-count")[0].starts_with("2 responses"));
    let problems = texts(&preview, "#import-problems li");
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("Row 4: “Quite a lot”"), "{problems:?}");
    // Nothing is added until confirmed.
    let (_, results) = trainer.get_text(&results_page).await;
    assert!(texts(&results, "#summary")[0].starts_with("0 responses"));

    let responses = attrs(&preview, "input[name=responses]", "value")
        .pop()
        .expect("responses");
    let token = common::csrf_in(&preview).expect("token");
    let res = trainer
        .post(
            &format!("{import}/confirm"),
            &[
                ("csrf_token", &token),
                ("responses", &responses),
                ("file_name", "survey.csv"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, results) = trainer.get_text(&results_page).await;
    assert!(texts(&results, "#summary")[0].starts_with("2 responses; 50%"));
    assert!(page_text(&results).contains("Great trainer"));
    let figures = board_figures(&lead, "2026-03-01", "2026-03-31").await;
    assert_eq!(figures["evaluation.dva-awareness.responses"]["value"], 2);
    assert_eq!(
        figures[&format!("evaluation.dva-awareness.{REFER}.top_share")]["value"],
        50
    );
    let (_, audit) = lead.get_text("/audit").await;
    assert!(page_text(&audit).contains("Evaluation responses imported"));

    // A workbook is read the same way, from its first sheet.
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    let rows = [
        [
            "Do you know where to refer someone who tells you about domestic abuse?",
            "Comments",
        ],
        ["No", "Helpful"],
    ];
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            sheet.write_string(r as u32, c as u16, *text).expect("cell");
        }
    }
    let xlsx = book.save_to_buffer().expect("xlsx");
    let res = upload_to(&trainer, &results_page, &import, "survey.xlsx", xlsx, &[]).await;
    assert_eq!(res.status(), StatusCode::OK);
    let preview = res.text().await.expect("preview");
    assert!(
        texts(&preview, "#import-count")[0].starts_with("1 response "),
        "{}",
        page_text(&preview)
    );
    assert!(page_text(&preview).contains("No column was found for"));

    // The session's cap holds for imports too: all or nothing.
    let small = add_session(&trainer, "03/03/2026", "1").await;
    let mut many = String::from("To what extent will this session help you improve your practice?\n");
    for _ in 0..31 {
        many.push_str("To some extent\n");
    }
    let res = upload_to(
        &trainer,
        &format!("{small}/evaluation"),
        &format!("{small}/evaluation/import"),
        "many.csv",
        many.into_bytes(),
        &[],
    )
    .await;
    let preview = res.text().await.expect("preview");
    assert!(texts(&preview, "#import-count")[0].starts_with("31 responses"));
    let responses = attrs(&preview, "input[name=responses]", "value")
        .pop()
        .expect("responses");
    let res = trainer
        .post(
            &format!("{small}/evaluation/import/confirm"),
            &[("csrf_token", &token), ("responses", &responses)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, results) = trainer.get_text(&format!("{small}/evaluation")).await;
    assert!(
        page_text(&results).contains("can take 30 more"),
        "{}",
        page_text(&results)
    );
    assert!(texts(&results, "#summary")[0].starts_with("0 responses"));

    // A tampered confirmation with an answer off the scale is refused.
    let res = trainer
        .post(
            &format!("{import}/confirm"),
            &[
                ("csrf_token", &token),
                (
                    "responses",
                    r#"[{"answers":{"improved-practice":"Hugely"},"comment":""}]"#,
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::BAD_REQUEST);
}

#[rocket::async_test]
async fn the_log_never_holds_an_evaluation_token() {
    let dir = tempfile::tempdir().expect("dir");
    let database = common::fresh_database(dir.path()).await;
    let log_path = dir.path().join("qmtrack.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let server = common::ServerProcess::start(|command| {
        command
            .env("QMTRACK_DATA_DIR", dir.path().join("data"))
            .env("QMTRACK_DATABASE_URL", &database.url)
            .env_remove("QMTRACK_LOG")
            .env("ROCKET_CLI_COLORS", "false")
            .stderr(log);
    })
    .await;
    let token = "TokenThatMustNotBeLogged0123456789abcdefghi";
    let client = reqwest::Client::new();
    let res = client
        .get(format!("{}/evaluate/{token}", server.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(res.status(), StatusCode::NOT_FOUND);
    let res = client
        .post(format!("{}/evaluate/{token}", server.base))
        .form(&[("comment", "x")])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    // The refusal's line names the path with its token left out.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let text = std::fs::read_to_string(&log_path).expect("log");
        assert!(!text.contains(token), "{text}");
        if text.contains("/evaluate/…") {
            break;
        }
        assert!(std::time::Instant::now() < deadline, "no refusal logged:\n{text}");
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}
