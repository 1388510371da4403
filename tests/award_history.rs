//! Importing awards made before qmtrack, as the programme lead would: a
//! spreadsheet written here (xlsx with a title block, or csv), the preview
//! with every error by row, commit, the board report's figures for a past
//! period, undo, who may do it, and the web page and the command line
//! leaving identical rows.

mod common;

use common::{board_figures as figures, page_text, qmtrack, texts, Browser, TestApp};
use reqwest::StatusCode;
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
use serde_json::Value;
use sqlx::Row;
use std::collections::BTreeMap;

const RIVERSIDE: &str = "Riverside Housing Association";
const EASTFIELD: &str = "Eastfield Surgery";
const NORTHGATE: &str = "Northgate Academy Trust";
const HILLSIDE: &str = "Hillside Police Station";

/// The organisations the history names, one of them also known as "Riverside HA".
async fn partnership(app: &TestApp, lead: &Browser) {
    let riverside = app.organisation(lead, RIVERSIDE, "housing_provider").await;
    app.organisation(lead, EASTFIELD, "gp_practice").await;
    app.organisation(lead, NORTHGATE, "employer").await;
    app.organisation(lead, HILLSIDE, "police").await;
    let page = format!("/organisations/{riverside}");
    let res = lead
        .submit(&page, &format!("{page}/aliases"), &[("alias", "Riverside HA")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
}

type Day = (u16, u8, u8);

/// A partnership's award history as its spreadsheet holds it: a title block
/// above the headings, date cells and typed dates mixed, frameworks written
/// by id, by name and by the usual shorthand, an organisation by its other
/// name, one expiry left for the framework to give, one award revoked and
/// one made on the last day of 2018.
fn history_xlsx() -> Vec<u8> {
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    sheet.set_name("Awards").expect("name");
    let date = Format::new().set_num_format("dd/mm/yyyy");
    sheet.write(0, 0, "Quality Mark awards 2007 to 2019").expect("title");
    sheet.write(1, 0, "Kept by the partnership office").expect("title");
    for (column, heading) in ["Organisation", "Framework", "Date awarded", "Expiry date", "Revoked on"]
        .iter()
        .enumerate()
    {
        sheet.write(3, column as u16, *heading).expect("heading");
    }
    let day = |y: u16, m: u8, d: u8| ExcelDateTime::from_ymd(y, m, d).expect("date");
    /// Organisation, framework, awarded, expires, revoked.
    type Award<'a> = (&'a str, &'a str, Day, Option<Day>, Option<Day>);
    let rows: [Award; 5] = [
        (RIVERSIDE, "DAHA", (2009, 5, 1), Some((2012, 5, 1)), None),
        (RIVERSIDE, "DAHA accreditation", (2012, 5, 1), Some((2015, 5, 1)), None),
        ("Riverside HA", "daha", (2015, 5, 1), Some((2018, 5, 1)), None),
        (
            NORTHGATE,
            "dva-quality-mark-workplace",
            (2017, 9, 1),
            Some((2020, 9, 1)),
            Some((2018, 6, 15)),
        ),
        (
            HILLSIDE,
            "DVA Quality Mark (service)",
            (2018, 12, 31),
            Some((2021, 12, 31)),
            None,
        ),
    ];
    for (index, (organisation, framework, awarded, expires, revoked)) in rows.iter().enumerate() {
        let row = index as u32 + 4;
        sheet.write(row, 0, *organisation).expect("cell");
        sheet.write(row, 1, *framework).expect("cell");
        sheet
            .write_with_format(row, 2, day(awarded.0, awarded.1, awarded.2), &date)
            .expect("cell");
        if let Some((y, m, d)) = expires {
            sheet.write_with_format(row, 3, day(*y, *m, *d), &date).expect("cell");
        }
        if let Some((y, m, d)) = revoked {
            sheet.write_with_format(row, 4, day(*y, *m, *d), &date).expect("cell");
        }
    }
    // Typed as text, with no expiry: the framework's 36 months give 14/03/2019.
    sheet.write(9, 0, EASTFIELD).expect("cell");
    sheet
        .write(9, 1, "Domestic Violence and Abuse Quality Mark (GP practice)")
        .expect("cell");
    sheet.write(9, 2, "14/03/2016").expect("cell");
    book.save_to_buffer().expect("xlsx")
}

/// A sheet with one of each mistake, for after the history above is on record.
const MISTAKES_CSV: &str = "Organisation,Framework,Awarded on,Expires on,Revoked on
Unknown Refuge Ltd,DAHA,01/01/2010,01/01/2013,
Riverside Housing Association,Gold Star,01/01/2010,,
Riverside Housing Association,DAHA,01/06/2019,01/01/2019,
Eastfield Surgery,DVA Quality Mark (GP practice),01/06/2010,01/06/2013,01/01/2010
Eastfield Surgery,dva-quality-mark-gp,01/06/2009,01/06/2012,
Eastfield Surgery,dva-quality-mark-gp,01/06/2009,01/06/2012,
Riverside HA,DAHA,01/01/2011,01/01/2014,
Hillside Police Station,DAHA,sometime in 2012,,
";

fn write_file(app: &TestApp, name: &str, bytes: &[u8]) -> String {
    let path = app.data_dir.join(name);
    std::fs::write(&path, bytes).expect("write the sheet");
    path.display().to_string()
}

/// Uploads a sheet on the award history page; returns the import's page.
async fn upload(lead: &Browser, file_name: &str, bytes: Vec<u8>, fields: &[(&str, &str)]) -> String {
    let res = upload_response(lead, file_name, bytes, fields).await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "the upload is kept for its preview"
    );
    common::location(&res)
}

async fn upload_response(
    browser: &Browser,
    file_name: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> reqwest::Response {
    // The home page: one every role can open, so refusals come from the upload itself.
    common::imports::upload_to(browser, "/", "/awards/history", file_name, bytes, fields).await
}

fn value(figures: &BTreeMap<String, Value>, id: &str) -> i64 {
    figures.get(id).unwrap_or_else(|| panic!("no figure {id}"))["value"]
        .as_i64()
        .expect("a number")
}

fn items(figures: &BTreeMap<String, Value>, id: &str) -> Vec<String> {
    let figure = figures.get(id).unwrap_or_else(|| panic!("no figure {id}"));
    let names: Vec<String> = figure["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default();
    assert_eq!(
        figure["value"].as_u64(),
        Some(names.len() as u64),
        "{id} counts its list"
    );
    names
}

/// What an award import leaves, as rows an operator could compare.
async fn recorded(app: &TestApp) -> Vec<String> {
    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("connect");
    let awards: Vec<Vec<String>> = sqlx::query(
        "SELECT o.name, a.framework_id, a.framework_version, a.state, CAST(a.awarded_on AS TEXT),
                CAST(a.expires_on AS TEXT), COALESCE(CAST(a.revoked_at AS TEXT), ''), CASE WHEN a.imported THEN 'imported' ELSE 'made here' END
         FROM assessments a JOIN organisations o ON o.id = a.organisation_id ORDER BY o.name, a.awarded_on",
    )
    .fetch_all(&pool)
    .await
    .expect("assessments")
    .iter()
    .map(|row| (0..8).map(|i| row.try_get::<String, _>(i).expect("text")).collect())
    .collect();
    let certificates: Vec<(String, String, String, String)> = sqlx::query_as(
        "SELECT holder_name, title, CAST(issued_on AS TEXT), CAST(expires_on AS TEXT) FROM certificates
         ORDER BY holder_name, issued_on",
    )
    .fetch_all(&pool)
    .await
    .expect("certificates");
    let (evidence,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM evidence")
        .fetch_one(&pool)
        .await
        .expect("evidence");
    pool.close().await;
    awards
        .into_iter()
        .map(|a| format!("{a:?}"))
        .chain(certificates.into_iter().map(|c| format!("certificate {c:?}")))
        .chain([format!("{evidence} evidence")])
        .collect()
}

#[rocket::async_test]
async fn imported_history_counts_in_the_board_report_from_the_first_day_and_undo_removes_it() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    partnership(&app, &lead).await;
    let before = figures(&lead, "2018-01-01", "2018-12-31").await;
    assert_eq!(value(&before, "accreditation.all.awarded_ever"), 0);

    let page = upload(&lead, "awards since 2007.xlsx", history_xlsx(), &[]).await;
    let (status, body) = lead.get_text(&page).await;
    assert_eq!(status, StatusCode::OK);
    let rows = texts(&body, "#award-rows tbody tr");
    assert_eq!(rows.len(), 6, "every award is shown before it is saved: {rows:?}");
    assert!(texts(&body, "#award-errors tbody tr").is_empty());
    let eastfield = rows.iter().find(|r| r.contains(EASTFIELD)).expect("Eastfield's row");
    assert!(
        eastfield.contains("14/03/2016") && eastfield.contains("14/03/2019"),
        "{eastfield}"
    );
    assert!(
        rows.iter().filter(|r| r.contains(RIVERSIDE)).count() == 3,
        "the other name finds the organisation: {rows:?}"
    );
    // Nothing is recorded by the preview.
    let unchanged = figures(&lead, "2018-01-01", "2018-12-31").await;
    assert_eq!(value(&unchanged, "accreditation.all.awarded_ever"), 0);

    let res = lead.submit(&page, &format!("{page}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = lead.get_text(&page).await;
    assert!(
        page_text(&body).contains("6 awards (1 revoked), 0 organisations added, 0 certificates"),
        "{}",
        page_text(&body)
    );

    // 2018 as hand-counted: Riverside's DAHA expired on 1 May; Northgate's
    // was revoked in June; Hillside's came on the last day; Eastfield's runs
    // to March 2019.
    let year = figures(&lead, "2018-01-01", "2018-12-31").await;
    assert_eq!(value(&year, "accreditation.all.awarded_ever"), 4);
    assert_eq!(value(&year, "accreditation.daha.awarded_ever"), 1);
    assert_eq!(items(&year, "accreditation.all.holding"), [EASTFIELD, HILLSIDE]);
    assert_eq!(items(&year, "accreditation.all.awarded"), [HILLSIDE]);
    assert_eq!(items(&year, "accreditation.daha.expired"), [RIVERSIDE]);
    assert_eq!(
        items(&year, "accreditation.dva-quality-mark-workplace.revoked"),
        [NORTHGATE]
    );
    assert!(items(&year, "accreditation.daha.holding").is_empty());
    // Earlier periods see only what had happened by then.
    let early = figures(&lead, "2010-01-01", "2010-12-31").await;
    assert_eq!(value(&early, "accreditation.all.awarded_ever"), 1);
    assert_eq!(items(&early, "accreditation.daha.holding"), [RIVERSIDE]);
    // Historic awards have no certificates unless asked for, and wait in no queue.
    let (_, certificates) = lead.get_text("/certificates").await;
    assert!(!page_text(&certificates).contains(HILLSIDE));

    let res = lead.submit(&page, &format!("{page}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let after = figures(&lead, "2018-01-01", "2018-12-31").await;
    assert_eq!(value(&after, "accreditation.all.awarded_ever"), 0);
    assert!(items(&after, "accreditation.all.holding").is_empty());
    let res = lead.submit(&page, &format!("{page}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::CONFLICT, "an import is undone once");
    let (_, audit) = lead.get_text("/audit").await;
    let audit = page_text(&audit);
    assert!(audit.contains("Award history imported") && audit.contains("Award history import undone"));
}

#[rocket::async_test]
async fn every_mistake_is_named_by_row_and_nothing_is_imported() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    partnership(&app, &lead).await;
    let history = write_file(&app, "history.xlsx", &history_xlsx());
    let output = qmtrack(&app, &["import-awards", &history, "--commit", "--json"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let mistakes = write_file(&app, "mistakes.csv", MISTAKES_CSV.as_bytes());
    let output = qmtrack(&app, &["import-awards", &mistakes, "--commit", "--json"]);
    assert!(!output.status.success(), "a sheet with errors is refused");
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["committed"], false);
    let errors: Vec<(u64, String)> = json["errors"]
        .as_array()
        .expect("errors")
        .iter()
        .map(|e| {
            (
                e["row"].as_u64().expect("row"),
                e["message"].as_str().expect("message").to_string(),
            )
        })
        .collect();
    let on_row = |row: u64| -> String {
        errors
            .iter()
            .filter(|(r, _)| *r == row)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join(" | ")
    };
    assert!(
        on_row(2).contains("no organisation called “Unknown Refuge Ltd”"),
        "{}",
        on_row(2)
    );
    assert!(on_row(3).contains("“Gold Star” is not a framework"), "{}", on_row(3));
    assert!(
        on_row(4).contains("expires (01/01/2019) before it was awarded"),
        "{}",
        on_row(4)
    );
    assert!(on_row(5).contains("revoked before it was awarded"), "{}", on_row(5));
    assert!(on_row(6).is_empty(), "row 6 is fine: {}", on_row(6));
    assert!(on_row(7).contains("repeats row 6"), "{}", on_row(7));
    assert!(
        on_row(8).contains("overlaps the award of 01/05/2009 already on record"),
        "{}",
        on_row(8)
    );
    assert!(on_row(9).contains("“sometime in 2012” is not a date"), "{}", on_row(9));
    assert_eq!(errors.len(), 7, "{errors:?}");

    // The page shows the same errors, offers no import, and refuses one.
    let page = upload(&lead, "mistakes.csv", MISTAKES_CSV.as_bytes().to_vec(), &[]).await;
    let (_, body) = lead.get_text(&page).await;
    assert_eq!(texts(&body, "#award-errors tbody tr").len(), 7);
    assert!(!body.contains("/commit\""), "no import button while there are errors");
    let res = lead.submit(&page, &format!("{page}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = lead.get_text(&page).await;
    assert!(page_text(&body).contains("still has errors"));
    let year = figures(&lead, "2009-01-01", "2013-12-31").await;
    assert_eq!(
        value(&year, "accreditation.all.awarded_ever"),
        1,
        "nothing of it was recorded"
    );
    assert_eq!(items(&year, "accreditation.daha.holding"), [RIVERSIDE]);

    // Allowed to add organisations, the unknown one is to be added instead of an error.
    let output = qmtrack(&app, &["import-awards", &mistakes, "--create-organisations", "--json"]);
    let json: Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(json["new_organisations"][0]["name"], "Unknown Refuge Ltd");
    assert_eq!(json["errors"].as_array().map(Vec::len), Some(6));
}

#[rocket::async_test]
async fn only_the_programme_lead_imports_award_history() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    partnership(&app, &lead).await;
    let page = upload(&lead, "history.xlsx", history_xlsx(), &[]).await;
    let org = app.organisation(&lead, "Member Org", "voluntary_sector").await;
    let others = [
        app.user(&lead, "assessor@council.example", "assessor", None).await,
        app.user(&lead, "training@council.example", "training_lead", None).await,
        app.user(&lead, "member@org.example", "org_member", Some(org)).await,
    ];
    for browser in &others {
        assert_eq!(browser.get("/awards/history").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(browser.get(&page).await.status(), StatusCode::FORBIDDEN);
        let res = upload_response(browser, "history.xlsx", history_xlsx(), &[]).await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
        let token = browser.csrf_token("/").await;
        let res = browser
            .post(&format!("{page}/commit"), &[("csrf_token", token.as_str())])
            .await;
        assert_eq!(res.status(), StatusCode::FORBIDDEN);
    }
    let (_, body) = lead.get_text("/assessments").await;
    assert!(body.contains("href=\"/awards/history\""));
    let (_, body) = others[0].get_text("/assessments").await;
    assert!(!body.contains("href=\"/awards/history\""));
    let year = figures(&lead, "2018-01-01", "2018-12-31").await;
    assert_eq!(value(&year, "accreditation.all.awarded_ever"), 0);
}

#[rocket::async_test]
async fn the_page_and_the_command_line_leave_identical_rows() {
    let by_web = TestApp::spawn().await;
    let lead = by_web.programme_lead().await;
    partnership(&by_web, &lead).await;
    let sheet = history_xlsx();
    // The first mistake of the other sheet is fine once organisations may be added.
    let extra = MISTAKES_CSV.lines().take(2).collect::<Vec<_>>().join("\n");
    let page = upload(
        &lead,
        "history.xlsx",
        sheet.clone(),
        &[("create_organisations", "true"), ("certificates", "true")],
    )
    .await;
    let res = lead.submit(&page, &format!("{page}/commit"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let refuge = upload(
        &lead,
        "refuge.csv",
        extra.clone().into_bytes(),
        &[("create_organisations", "true")],
    )
    .await;
    lead.submit(&refuge, &format!("{refuge}/commit"), &[]).await;

    let by_cli = TestApp::spawn().await;
    let lead_cli = by_cli.programme_lead().await;
    partnership(&by_cli, &lead_cli).await;
    let path = write_file(&by_cli, "history.xlsx", &sheet);
    let output = qmtrack(
        &by_cli,
        &[
            "import-awards",
            &path,
            "--commit",
            "--certificates",
            "--create-organisations",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let path = write_file(&by_cli, "refuge.csv", extra.as_bytes());
    let output = qmtrack(&by_cli, &["import-awards", &path, "--commit", "--create-organisations"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));

    let web_rows = recorded(&by_web).await;
    assert_eq!(web_rows, recorded(&by_cli).await);
    // Certificates for the five awards not revoked; the added organisation's award came without.
    assert_eq!(
        web_rows.iter().filter(|r| r.starts_with("certificate")).count(),
        5,
        "{web_rows:?}"
    );
    assert!(web_rows
        .iter()
        .any(|r| r.contains("Unknown Refuge Ltd") && r.contains("imported")));
    assert!(web_rows.iter().all(|r| !r.contains("made here")));
    assert!(web_rows.contains(&"0 evidence".to_string()));

    // Undoing from the command line removes the organisation the import added.
    let output = qmtrack(&by_cli, &["import-awards", "--undo", "2"]);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let rows = recorded(&by_cli).await;
    assert!(!rows.iter().any(|r| r.contains("Unknown Refuge Ltd")), "{rows:?}");
    let (_, organisations) = lead_cli.get_text("/organisations?q=Refuge").await;
    assert!(!page_text(&organisations).contains("Unknown Refuge Ltd"));
}
