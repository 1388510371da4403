//! Reports: the figures the scenario's README states, accreditation figures
//! across period edges counted by hand, every format giving the same
//! figures, kept completions equal to a rebuild, publishing, and who may
//! see an organisation's progress report.

mod assessment_support;
mod common;

use assessment_support::{criteria, enrol, fill, meet_all, submit};
use common::{attrs, board_figures as figures, location, page_text, qmtrack, Browser, TestApp, PASSWORD};
use reqwest::StatusCode;
use serde_json::Value;
use std::collections::BTreeMap;
use std::process::Command;

const SCENARIO: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/scenario");
const CHILDRENS_SERVICES: &str = "Northbridge Children's Services";

/// Imports one scenario file as its README says; whether it was committed.
fn import(app: &TestApp, file: &str) -> bool {
    let path = format!("{SCENARIO}/{file}");
    let mut args = vec!["import-attendance", path.as_str(), "--json"];
    if file.starts_with("safe-and-together") {
        args.extend(["--organisation", CHILDRENS_SERVICES]);
    }
    let output = qmtrack(app, &args);
    let result: Value = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    let committed = output.status.success() && result["committed"] == true;
    if !committed {
        eprintln!(
            "{file}: {}\n{}",
            result["errors"],
            String::from_utf8_lossy(&output.stderr)
        );
    }
    committed
}

/// The organisation the Safe & Together sheet cannot name, as the README's
/// `--create-organisations` would make it.
async fn scenario_app() -> (TestApp, Browser) {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    app.organisation(&lead, CHILDRENS_SERVICES, "council_service").await;
    (app, lead)
}

fn value(figures: &BTreeMap<String, Value>, id: &str) -> i64 {
    figures.get(id).unwrap_or_else(|| panic!("no figure {id}"))["value"]
        .as_i64()
        .expect("a number")
}

fn items(figures: &BTreeMap<String, Value>, id: &str) -> Vec<String> {
    figures.get(id).unwrap_or_else(|| panic!("no figure {id}"))["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

fn previous(figures: &BTreeMap<String, Value>, id: &str) -> i64 {
    figures.get(id).unwrap_or_else(|| panic!("no figure {id}"))["previous"]
        .as_i64()
        .expect("a number")
}

#[rocket::async_test]
async fn the_iris_and_workforce_sheets_give_the_readme_figures() {
    let (app, lead) = scenario_app().await;
    for file in ["iris-2024-25.xlsx", "workforce-2024.xlsx"] {
        assert!(import(&app, file), "{file} imports");
    }

    let fy = figures(&lead, "2024-04-01", "2025-03-31").await;
    assert_eq!(value(&fy, "training.iris.organisations.signed_up"), 9);
    assert_eq!(value(&fy, "training.iris.organisations.meeting_rule"), 2);
    assert_eq!(
        items(&fy, "training.iris.organisations.meeting_rule"),
        ["Hollybush Surgery", "Riverside Medical Centre"]
    );
    assert_eq!(value(&fy, "training.iris.organisations.in_training"), 7);
    assert_eq!(value(&fy, "training.iris.completion.clinical.started"), 61);
    assert_eq!(value(&fy, "training.iris.completion.clinical.completed"), 42);
    // The year before had none of this.
    assert_eq!(previous(&fy, "training.iris.organisations.signed_up"), 0);

    let year = figures(&lead, "2024-01-01", "2024-12-31").await;
    assert_eq!(value(&year, "training.dva-awareness.sessions"), 40);
    assert_eq!(value(&year, "training.dva-awareness.attendances"), 549);
    assert_eq!(value(&year, "training.dva-awareness.people"), 512);
    assert_eq!(value(&year, "training.marac-briefing.sessions"), 12);
    let mut reached: Vec<String> = items(&year, "training.dva-awareness.organisations");
    reached.extend(items(&year, "training.marac-briefing.organisations"));
    reached.sort();
    reached.dedup();
    assert_eq!(reached.len(), 8, "{reached:?}");

    // The dashboard shows the same figures, each linked to what it counts.
    let (status, body) = lead.get_text("/?from=2024-04-01&to=2025-03-31").await;
    assert_eq!(status, StatusCode::OK);
    let row = common::texts(&body, "tr[id='training.iris.organisations.meeting_rule'] td");
    assert_eq!(
        row.first().and_then(|t| t.split(':').next()).map(str::trim),
        Some("2"),
        "{row:?}"
    );
    assert!(
        attrs(&body, "tr[id='training.iris.organisations.meeting_rule'] a", "href")
            .contains(&"/training/programmes/iris/organisations".to_string())
    );
    assert!(body.contains("<svg"), "charts are drawn");
    assert!(
        !common::texts(&body, "svg title").is_empty(),
        "each chart says what it shows"
    );

    // Any dates, typed into day, month and year boxes as the form sends them,
    // give the same figures; a date that is not real is said, not guessed.
    let (_, boxes) = lead
        .get_text("/reports?from.day=1&from.month=4&from.year=2024&to.day=31&to.month=3&to.year=2025")
        .await;
    assert_eq!(
        common::texts(&boxes, "tr[id='training.iris.organisations.meeting_rule'] td").first(),
        row.first()
    );
    assert_eq!(attrs(&boxes, "input[name='from.day']", "value"), ["1"]);
    let (_, wrong) = lead
        .get_text("/reports?from.day=31&from.month=2&from.year=2024&to.day=31&to.month=3&to.year=2025")
        .await;
    assert!(
        common::page_text(&wrong).contains("Enter the start of the period as a real date"),
        "{}",
        common::page_text(&wrong)
    );
}

/// The rest of the README. These need the import work that makes the whole
/// archive import: the Safe & Together grids (title rows, "Surname, First"),
/// the ambassador sheets (the day in a `Training day` column) and the
/// workforce sheet's "Did not attend" read as absent.
#[rocket::async_test]
async fn the_cohorts_ambassadors_and_marac_absences_give_the_readme_figures() {
    let (app, lead) = scenario_app().await;
    for file in [
        "safe-and-together-core-2024-25.xlsx",
        "ambassadors-2023.csv",
        "ambassadors-2024.csv",
        "workforce-2024.xlsx",
    ] {
        assert!(import(&app, file), "{file} imports");
    }
    let fy = figures(&lead, "2024-04-01", "2025-03-31").await;
    assert_eq!(value(&fy, "training.safe-and-together.cohorts.people"), 42);
    assert_eq!(value(&fy, "training.safe-and-together.completion.core.completed"), 39);
    assert_eq!(
        cohort_sizes(&fy, "safe-and-together"),
        [(18, 18), (24, 21)],
        "21 of 24 and 18 of 18"
    );

    let year = figures(&lead, "2024-01-01", "2024-12-31").await;
    assert_eq!(
        value(
            &year,
            "training.domestic-abuse-ambassadors.completion.ambassador.completed"
        ),
        30
    );
    assert_eq!(
        value(
            &year,
            "training.domestic-abuse-ambassadors.completion.ambassador.holding"
        ),
        52,
        "active on 31 December 2024"
    );
    assert_eq!(value(&year, "training.marac-briefing.people"), 97);
    assert_eq!(value(&year, "training.marac-briefing.absences"), 6);
    // Both ends' holders come from one read: each period gets its own.
    let holding = "training.domestic-abuse-ambassadors.completion.ambassador.holding";
    // Worked out with the 2024 report's own (so not taken from an earlier
    // request's figures): the 52 of 2024's end less the 30 who completed in 2024.
    assert_eq!(previous(&year, holding), 22, "active on 31 December 2023");
    let next_year = figures(&lead, "2025-01-01", "2025-12-31").await;
    assert_eq!(previous(&next_year, holding), 52, "active on 31 December 2024");
    let year_before = figures(&lead, "2023-01-01", "2023-12-31").await;
    assert_eq!(previous(&year, holding), value(&year_before, holding));
    assert_ne!(value(&next_year, holding), 52, "the ends differ, so a swap would show");
    // Long after, every ambassador here has lapsed.
    let later = figures(&lead, "2027-01-01", "2027-03-31").await;
    assert_eq!(
        value(
            &later,
            "training.domestic-abuse-ambassadors.completion.ambassador.holding"
        ),
        0
    );
}

/// (people, completed) of each cohort of a programme, smallest first.
fn cohort_sizes(figures: &BTreeMap<String, Value>, programme: &str) -> Vec<(i64, i64)> {
    let prefix = format!("training.{programme}.cohort.");
    let mut cohorts: Vec<(i64, i64)> = figures
        .iter()
        .filter(|(id, _)| id.starts_with(&prefix) && id.ends_with(".people"))
        .map(|(id, f)| {
            let done = id.trim_end_matches(".people").to_string() + ".completed";
            (f["value"].as_i64().expect("size"), value(figures, &done))
        })
        .collect();
    cohorts.sort_unstable();
    cohorts
}

/// Cohorts from the single-sheet sample (hand-counted from the sheet: each
/// cohort and who attended all four CORE days).
#[rocket::async_test]
async fn cohorts_give_their_size_and_how_many_completed() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    app.organisation(&lead, "Children's Social Care", "council_service")
        .await;
    let file = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/attendance/safe-and-together-core-cohorts.xlsx"
    );
    let output = qmtrack(
        &app,
        &[
            "import-attendance",
            file,
            "--organisation",
            "Children's Social Care",
            "--json",
        ],
    );
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let all = figures(&lead, "2020-01-01", "2030-12-31").await;
    // Cohort 3: Priya, Oluwaseun, Mohammed and Zoë; only Priya has all four
    // days in full. Cohort 4: Tomás and Aisha; only Tomás has.
    assert_eq!(cohort_sizes(&all, "safe-and-together"), [(2, 1), (4, 1)]);
    assert_eq!(value(&all, "training.safe-and-together.cohorts.people"), 6);
    assert_eq!(value(&all, "training.safe-and-together.cohorts.completed"), 2);
    // The cohort page says the same.
    let (_, programme) = lead.get_text("/training/programmes/safe-and-together").await;
    let mut said = Vec::new();
    for link in attrs(&programme, "a[href^='/training/cohorts/']", "href") {
        let (_, page) = lead.get_text(&link).await;
        said.extend(common::texts(&page, "#cohort-progress"));
    }
    said.sort();
    assert_eq!(
        said,
        ["1 of 2 completed CORE training.", "1 of 4 completed CORE training."]
    );
}

/// Connects to the test's database directly, as an operator would.
async fn pool_of(app: &TestApp) -> qmtrack::db::Pool {
    qmtrack::db::connect(&app.database_url, 1).await.expect("connect")
}

fn programmes() -> qmtrack::domain::programmes::ProgrammeLibrary {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("standards/training");
    qmtrack::domain::programmes::load_dir(&dir).unwrap_or_else(|_| panic!("programmes load"))
}

#[rocket::async_test]
async fn kept_completions_and_session_records_equal_a_rebuild_from_scratch() {
    let (app, lead) = scenario_app().await;
    for file in ["iris-2024-25.xlsx", "workforce-2024.xlsx"] {
        assert!(import(&app, file), "{file} imports");
    }
    // A register changed by hand: someone who came to IRIS session 1 is marked absent.
    let (_, sessions) = lead.get_text("/training/sessions?programme=iris").await;
    let session = attrs(&sessions, "a[href^='/training/sessions/']", "href")
        .into_iter()
        .find(|h| h.trim_start_matches("/training/sessions/").parse::<i64>().is_ok())
        .expect("a session");
    let (_, register) = lead.get_text(&session).await;
    let field = attrs(&register, "select[name^='status[']", "name")
        .into_iter()
        .next()
        .expect("a register row");
    let res = lead
        .submit(&session, &format!("{session}/register"), &[(&field, "absent")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    // And one import undone.
    let (_, history) = lead.get_text("/training/imports").await;
    let imports: Vec<String> = attrs(&history, "a[href^='/training/imports/']", "href");
    let last = imports.first().expect("an import").clone();
    let res = lead.submit(&last, &format!("{last}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);

    let pool = pool_of(&app).await;
    let library = programmes();
    let kept = qmtrack::db::completions::kept(&pool).await.expect("kept");
    let rebuilt = qmtrack::db::completions::recompute_all(&pool, &library)
        .await
        .expect("rebuilt");
    // The IRIS sheet's people remain after the workforce import is undone.
    assert!(kept.0.len() > 50, "{} completions kept", kept.0.len());
    assert_eq!(kept.0, rebuilt.0, "completions");
    assert_eq!(kept.1, rebuilt.1, "spells");
    // Each session's records kept for the reports, likewise.
    common::assert_session_records_rebuilt(&app.database_url, "a register change and an undo").await;
}

/// The board report's CSV for a period as the command line writes it
/// (computed afresh each time: no server, so no shared figures).
fn report_csv(app: &TestApp, from: &str, to: &str, organisation: Option<&str>) -> String {
    let out = tempfile::tempdir().expect("dir");
    let path = out.path().join("report.csv");
    let mut args = vec!["report", "--from", from, "--to", to, "--format", "csv"];
    if let Some(name) = organisation {
        args.extend(["--organisation", name]);
    }
    args.extend(["--out", path.to_str().expect("path")]);
    let cli = qmtrack(app, &args);
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    std::fs::read_to_string(&path).expect("written")
}

/// Attendance records whose kept organisation (migration 0038) is not their person's.
async fn attendance_organisations_astray(pool: &sqlx::AnyPool) -> (i64, i64) {
    sqlx::query_as(
        "SELECT COUNT(*), SUM(CASE WHEN a.organisation_id IS NULL OR a.organisation_id <> p.organisation_id
                                   THEN 1 ELSE 0 END)
         FROM attendance a JOIN people p ON p.id = a.person_id",
    )
    .fetch_one(pool)
    .await
    .expect("attendance")
}

#[rocket::async_test]
async fn attendance_keeps_its_persons_organisation_and_the_figures_do_not_rest_on_it() {
    let (app, lead) = scenario_app().await;
    for file in ["iris-2024-25.xlsx", "workforce-2024.xlsx"] {
        assert!(import(&app, file), "{file} imports");
    }
    // Someone put on a register by hand, the other way attendance is written.
    let clinic = app.organisation(&lead, "Larkspur Clinic", "gp_practice").await;
    common::dva_session_attended_by(&lead, "12/06/2024", &[("Imogen Hale", clinic)]).await;

    sqlx::any::install_default_drivers();
    let pool = sqlx::AnyPool::connect(&app.database_url).await.expect("connect");
    let (records, astray) = attendance_organisations_astray(&pool).await;
    assert!(records > 500, "{records} attendance records");
    assert_eq!(astray, 0, "every record keeps its person's organisation");

    let board = report_csv(&app, "2024-01-01", "2024-12-31", None);
    let clinics = report_csv(&app, "2024-01-01", "2024-12-31", Some("Larkspur Clinic"));
    assert!(board.contains("training.dva-awareness.people"), "{board}");
    let kept_pool = pool_of(&app).await;
    let texts = qmtrack::db::session_records::from_scratch(&kept_pool)
        .await
        .expect("session records");
    // Rows restored from a backup made before the organisation was kept
    // have none: the figures are the same from the people's own.
    sqlx::query("UPDATE attendance SET organisation_id = NULL")
        .execute(&pool)
        .await
        .expect("forget the kept organisations");
    let (_, astray) = attendance_organisations_astray(&pool).await;
    assert_eq!(astray, records);
    pool.close().await;
    // Each session's records, as kept for the reports, name the same organisations.
    let without = qmtrack::db::session_records::from_scratch(&kept_pool)
        .await
        .expect("session records");
    assert_eq!(without, texts);
    assert_eq!(report_csv(&app, "2024-01-01", "2024-12-31", None), board);
    assert_eq!(
        report_csv(&app, "2024-01-01", "2024-12-31", Some("Larkspur Clinic")),
        clinics
    );
}

/// Splits a `pdftotext -layout` line into its columns.
fn columns(line: &str) -> Vec<String> {
    line.trim()
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_string)
        .collect()
}

fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("report.pdf");
    std::fs::write(&path, bytes).expect("write");
    let output = Command::new("pdftotext")
        .args(["-layout", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext (poppler-utils) is installed");
    assert!(output.status.success());
    String::from_utf8_lossy(&output.stdout).to_string()
}

#[rocket::async_test]
async fn every_format_gives_the_same_figures() {
    let (app, lead) = scenario_app().await;
    for file in ["iris-2024-25.xlsx", "workforce-2024.xlsx"] {
        assert!(import(&app, file), "{file} imports");
    }
    let (from, to) = ("2024-04-01", "2025-03-31");
    let json = figures(&lead, from, to).await;
    let download = |format: &'static str| {
        let lead = &lead;
        async move {
            let res = lead.get(&format!("/reports/board.{format}?from={from}&to={to}")).await;
            assert_eq!(res.status(), StatusCode::OK, "{format}");
            assert!(res
                .headers()
                .get("content-disposition")
                .and_then(|h| h.to_str().ok())
                .is_some_and(|h| h.starts_with("attachment")));
            res.bytes().await.expect("body").to_vec()
        }
    };

    // CSV: one row per figure.
    let csv_bytes = download("csv").await;
    let mut reader = csv::Reader::from_reader(csv_bytes.as_slice());
    assert_eq!(
        reader.headers().expect("header").iter().collect::<Vec<_>>(),
        ["id", "section", "label", "period_from", "period_to", "value"]
    );
    let mut from_csv = BTreeMap::new();
    for row in reader.records() {
        let row = row.expect("row");
        assert_eq!((&row[3], &row[4]), (from, to));
        from_csv.insert(row[0].to_string(), row[5].parse::<i64>().expect("number"));
    }
    let from_json: BTreeMap<String, i64> = json.keys().map(|id| (id.clone(), value(&json, id))).collect();
    assert_eq!(from_csv, from_json);

    // XLSX: a sheet per section, values as number cells, dates as date cells.
    use calamine::{Data, Reader};
    let xlsx = download("xlsx").await;
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(xlsx)).expect("workbook");
    let names = book.sheet_names();
    assert_eq!(
        names.len(),
        1 + json
            .values()
            .map(|f| f["section"].as_str())
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    let cover = book.worksheet_range("Report").expect("cover");
    assert!(
        cover.rows().any(|r| matches!(r.get(1), Some(Data::DateTime(_)))),
        "the period is in date cells"
    );
    let mut from_xlsx = BTreeMap::new();
    for name in names.iter().skip(1) {
        let range = book.worksheet_range(name).expect("sheet");
        for row in range.rows() {
            if let (Some(Data::Float(v)), Some(Data::String(id))) = (row.get(1), row.get(5)) {
                from_xlsx.insert(id.clone(), *v as i64);
            }
        }
    }
    assert_eq!(from_xlsx, from_json);

    // PDF: the text read back gives each figure's label and value, in order.
    let pdf = download("pdf").await;
    assert!(pdf.starts_with(b"%PDF-"));
    assert_eq!(pdf, download("pdf").await, "the same report gives the same bytes");
    let text = pdf_text(&pdf);
    assert!(text.contains("Contents"));
    assert!(text.contains("Page 1 of"));
    let lines: Vec<&str> = text.lines().collect();
    let mut at = 0;
    let res = lead.get(&format!("/reports/board.json?from={from}&to={to}")).await;
    let ordered: Value = res.json().await.expect("json");
    for figure in ordered["figures"].as_array().expect("figures") {
        let label = figure["label"].as_str().expect("label");
        let start: String = label.chars().take(30).collect();
        let found = lines[at..]
            .iter()
            .position(|line| line.trim_start().starts_with(&start))
            .unwrap_or_else(|| panic!("“{label}” is in the PDF after line {at}"));
        at += found;
        let cells = columns(lines[at]);
        assert_eq!(
            cells.get(1).map(String::as_str),
            Some(figure["value"].to_string().as_str()),
            "{label}: {}",
            lines[at]
        );
        at += 1;
    }

    // HTML: each figure's row holds its value.
    let html = String::from_utf8(download("html").await).expect("utf-8");
    let document = scraper::Html::parse_document(&html);
    let rows = scraper::Selector::parse("tr[id]").expect("selector");
    let cell = scraper::Selector::parse("td").expect("selector");
    let mut from_html = BTreeMap::new();
    for row in document.select(&rows) {
        let first = row.select(&cell).next().map(|c| c.text().collect::<String>());
        if let (Some(id), Some(first)) = (row.value().attr("id"), first) {
            from_html.insert(id.to_string(), first.trim().parse::<i64>().expect("number"));
        }
    }
    assert_eq!(from_html, from_json);

    // The command line writes the same figures with the same engine.
    let out = tempfile::tempdir().expect("dir");
    let path = out.path().join("report.csv");
    let cli = qmtrack(
        &app,
        &[
            "report",
            "--from",
            from,
            "--to",
            to,
            "--format",
            "csv",
            "--out",
            path.to_str().expect("path"),
        ],
    );
    assert!(cli.status.success(), "{}", String::from_utf8_lossy(&cli.stderr));
    assert_eq!(std::fs::read(&path).expect("written"), csv_bytes);
}

/// Text a spreadsheet would run as a formula: what the checks below look for.
const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

/// Every CSV field is either a number or text that cannot start a formula;
/// returns the fields.
fn csv_fields_are_safe(csv: &[u8]) -> Vec<String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(csv);
    let mut fields = Vec::new();
    for record in reader.records() {
        for field in record.expect("a CSV record").iter() {
            assert!(
                field.parse::<f64>().is_ok() || !field.starts_with(FORMULA_STARTS),
                "a CSV field could run as a formula: {field:?}"
            );
            fields.push(field.to_string());
        }
    }
    fields
}

/// No cell of the workbook is a formula; returns its text cells.
fn xlsx_has_no_formulas(bytes: &[u8]) -> Vec<String> {
    use calamine::{Data, Reader};
    let mut book = calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes.to_vec())).expect("workbook");
    let mut strings = Vec::new();
    for name in book.sheet_names() {
        let formulas = book.worksheet_formula(&name).expect("formulas");
        assert!(
            formulas.used_cells().all(|(_, _, f)| f.is_empty()),
            "no formulas in {name}"
        );
        let range = book.worksheet_range(&name).expect("sheet");
        strings.extend(range.used_cells().filter_map(|(_, _, c)| match c {
            Data::String(s) => Some(s.clone()),
            _ => None,
        }));
    }
    strings
}

#[rocket::async_test]
async fn text_that_looks_like_a_formula_stays_text_in_the_exports() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    // Names and a locality starting with each character a spreadsheet would
    // run; a tab or a carriage return cannot get past the forms' checks,
    // so the export's own test covers those.
    let names = [
        "=HYPERLINK(\"http://x.example\")",
        "+Plus Agency",
        "-Minus Agency",
        "@SUM(1+1) Agency",
    ];
    let mut organisations = Vec::new();
    for name in names {
        let res = lead
            .submit(
                "/organisations/new",
                "/organisations",
                &[
                    ("name", name),
                    ("org_type", "employer"),
                    ("locality", "+44 20 7946 0000"),
                    ("address", ""),
                    ("contact_name", ""),
                    ("contact_email", ""),
                    ("contact_phone", ""),
                    ("da_lead_name", ""),
                    ("da_lead_email", ""),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
        organisations.push(location(&res).trim_start_matches("/organisations/").to_string());
    }
    // DVA awareness sessions in cohorts whose names start like formulas,
    // each attended by someone of one of those organisations.
    let cohorts = ["=1+2 cohort", "-Cohort minus", "@Cohort at", "+Cohort plus"];
    for (index, cohort) in cohorts.iter().enumerate() {
        let res = lead
            .submit(
                "/training/sessions/new",
                "/training/sessions",
                &[
                    ("module", "dva-awareness/dva-awareness"),
                    ("date", &format!("1{index}/02/2026")),
                    ("start_time", ""),
                    ("venue", "Town hall"),
                    ("trainer", ""),
                    ("capacity", "20"),
                    ("cohort", cohort),
                ],
            )
            .await;
        assert_eq!(
            res.status(),
            StatusCode::SEE_OTHER,
            "{}",
            res.text().await.unwrap_or_default()
        );
        let session = location(&res);
        let res = lead
            .submit(
                &session,
                &format!("{session}/attendees"),
                &[
                    ("organisation_id", organisations[index].as_str()),
                    ("full_name", &format!("Pat Example {index}")),
                    ("email", &format!("pat{index}@example.org")),
                    ("status", "attended"),
                ],
            )
            .await;
        assert_eq!(res.status(), StatusCode::SEE_OTHER);
    }

    let query = "from=2026-01-01&to=2026-03-31";
    let download = |path: String| {
        let lead = &lead;
        async move {
            let res = lead.get(&path).await;
            assert_eq!(res.status(), StatusCode::OK, "{path}");
            res.bytes().await.expect("body").to_vec()
        }
    };
    let csv = download(format!("/reports/board.csv?{query}")).await;
    let fields = csv_fields_are_safe(&csv);
    assert!(
        fields.iter().any(|f| f.starts_with("Completed in the period: +44")),
        "labels keep the locality as written"
    );
    for cohort in cohorts {
        assert!(
            fields.iter().any(|f| f.starts_with(&format!("'{cohort}"))),
            "the cohort {cohort} is there, as text: {fields:?}"
        );
    }
    let strings = xlsx_has_no_formulas(&download(format!("/reports/board.xlsx?{query}")).await);
    for text in names.iter().chain(cohorts.iter()) {
        assert!(
            strings.iter().any(|s| s.contains(text)),
            "{text} is in the workbook, as text"
        );
    }

    // Each organisation's progress report, in both spreadsheet formats.
    for (name, id) in names.iter().zip(&organisations) {
        let path = format!("/organisations/{id}/report?{query}");
        csv_fields_are_safe(&download(format!("{path}&format=csv")).await);
        let strings = xlsx_has_no_formulas(&download(format!("{path}&format=xlsx")).await);
        assert!(
            strings.iter().any(|s| s == name),
            "{name} is on its report's cover, as text"
        );
    }
}

/// Awards through the real workflow: enrol, evidence, submit, decisions, award.
async fn award(lead: &Browser, organisation: i64, awarded_on: &str) -> i64 {
    let id = enrol(lead, Some(organisation), "daha").await;
    fill(lead, id, &criteria("daha", true)).await;
    assert_eq!(submit(lead, id).await.status(), StatusCode::SEE_OTHER);
    meet_all(lead, id, &criteria("daha", false)).await;
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/award"),
            &[("awarded_on", awarded_on)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "awarded on {awarded_on}");
    id
}

async fn move_clock_to(app: &TestApp, lead: &Browser, when: &str) {
    let target = chrono::DateTime::parse_from_rfc3339(when)
        .expect("time")
        .with_timezone(&chrono::Utc);
    app.clock.advance(target - app.clock.now());
    assert_eq!(
        lead.login("lead@council.example", PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
}

/// Counted by hand. DAHA runs for 36 months.
/// - Birch: awarded 15 Feb 2023, so it expires on 15 Feb 2026 (inside Q1 2026), not renewed.
/// - Dale: awarded 15 May 2023, expires 15 May 2026: renewal due within 90 days of 31 Mar 2026.
/// - Cedar: awarded 1 Jun 2025, revoked 2 Mar 2026, awarded again 20 Mar 2026.
/// - Avon: awarded on 31 Mar 2026, the last day of Q1 2026.
/// - Elm: submitted 2 Mar 2026 and still waiting at the end of Q1.
#[rocket::async_test]
async fn accreditation_figures_across_period_edges() {
    let app = TestApp::spawn_with(common::Options {
        clock_start: Some("2023-02-15T09:00:00Z"),
        ..common::Options::default()
    })
    .await;
    let lead = app.programme_lead().await;
    let mut org = BTreeMap::new();
    for name in [
        "Avon Homes",
        "Birch Housing",
        "Cedar Living",
        "Dale Housing",
        "Elm Homes",
    ] {
        org.insert(name, app.organisation(&lead, name, "housing_provider").await);
    }
    award(&lead, org["Birch Housing"], "2023-02-15").await;
    move_clock_to(&app, &lead, "2023-05-15T09:00:00Z").await;
    award(&lead, org["Dale Housing"], "2023-05-15").await;
    move_clock_to(&app, &lead, "2025-06-01T09:00:00Z").await;
    let cedar = award(&lead, org["Cedar Living"], "2025-06-01").await;
    move_clock_to(&app, &lead, "2026-03-02T09:00:00Z").await;
    let res = lead
        .submit(
            &format!("/assessments/{cedar}"),
            &format!("/assessments/{cedar}/revoke"),
            &[("reason", "Policy no longer in place")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let elm = enrol(&lead, Some(org["Elm Homes"]), "daha").await;
    fill(&lead, elm, &criteria("daha", true)).await;
    assert_eq!(submit(&lead, elm).await.status(), StatusCode::SEE_OTHER);
    move_clock_to(&app, &lead, "2026-03-20T09:00:00Z").await;
    award(&lead, org["Cedar Living"], "2026-03-20").await;
    move_clock_to(&app, &lead, "2026-03-31T09:00:00Z").await;
    award(&lead, org["Avon Homes"], "2026-03-31").await;

    let q1 = figures(&lead, "2026-01-01", "2026-03-31").await;
    let id = |name: &str| format!("accreditation.daha.{name}");
    assert_eq!(items(&q1, &id("awarded")), ["Avon Homes", "Cedar Living"]);
    assert_eq!(value(&q1, &id("awarded")), 2);
    assert_eq!(
        items(&q1, &id("holding")),
        ["Avon Homes", "Cedar Living", "Dale Housing"]
    );
    assert_eq!(value(&q1, &id("awarded_ever")), 4);
    assert_eq!(items(&q1, &id("renewal_due")), ["Dale Housing"]);
    assert_eq!(items(&q1, &id("expired")), ["Birch Housing"]);
    assert_eq!(items(&q1, &id("revoked")), ["Cedar Living"]);
    assert_eq!(value(&q1, &id("stage.submitted")), 1);
    assert_eq!(items(&q1, &id("review_queue")), ["Elm Homes: 29 days (submitted)"]);
    assert_eq!(value(&q1, &id("review_queue.oldest_days")), 29);
    // The quarter before: Birch, Cedar and Dale held it; Birch's renewal was due.
    assert_eq!(previous(&q1, &id("holding")), 3);
    assert_eq!(previous(&q1, &id("renewal_due")), 1);
    assert_eq!(previous(&q1, &id("awarded")), 0);
    assert_eq!(previous(&q1, &id("stage.submitted")), 0);
    assert_eq!(value(&q1, "accreditation.all.awarded_ever"), 4);

    // A day earlier, Avon's award had not been made.
    let before_avon = figures(&lead, "2026-01-01", "2026-03-30").await;
    assert_eq!(items(&before_avon, &id("awarded")), ["Cedar Living"]);
    assert_eq!(items(&before_avon, &id("holding")), ["Cedar Living", "Dale Housing"]);
    // On 2 March Cedar's first award was revoked, so at the end of that day it held nothing.
    let revoked_day = figures(&lead, "2026-03-01", "2026-03-02").await;
    assert_eq!(items(&revoked_day, &id("holding")), ["Dale Housing"]);
}

#[rocket::async_test]
async fn a_published_report_reopens_byte_for_byte_after_more_imports() {
    let (app, lead) = scenario_app().await;
    assert!(import(&app, "iris-2024-25.xlsx"));
    let (from, to) = ("2024-01-01", "2024-12-31");
    let (status, page) = lead.get_text(&format!("/reports/publish?from={from}&to={to}")).await;
    assert_eq!(status, StatusCode::OK);
    let field = attrs(&page, "textarea[name='narrative[training.iris]']", "name");
    assert_eq!(field.len(), 1, "a narrative box per section");
    let res = lead
        .submit(
            &format!("/reports/publish?from={from}&to={to}"),
            "/reports/publish",
            &[
                ("from", from),
                ("to", to),
                (
                    "narrative[training.iris]",
                    "IRIS reached nine practices.\n\nTwo are fully trained.",
                ),
                (
                    "narrative[training.dva-awareness]",
                    "Awareness sessions begin next year.",
                ),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let published = location(&res);
    let (_, shown) = lead.get_text(&published).await;
    assert!(page_text(&shown).contains("IRIS reached nine practices."));
    let links = attrs(&shown, "a[href*='/file/']", "href");
    assert_eq!(links.len(), 5, "PDF, HTML, XLSX, CSV and JSON");
    let mut files = BTreeMap::new();
    for link in &links {
        let res = lead.get(link).await;
        assert_eq!(res.status(), StatusCode::OK);
        let bytes = res.bytes().await.expect("file").to_vec();
        use sha2::Digest;
        let sha = format!("{:x}", sha2::Sha256::digest(&bytes));
        assert!(shown.contains(&sha), "the page lists the SHA-256 of {link}");
        files.insert(link.clone(), bytes);
    }
    let pdf = files
        .iter()
        .find(|(l, _)| l.ends_with("/pdf"))
        .map(|(_, b)| b.clone())
        .expect("pdf");
    assert!(pdf_text(&pdf).contains("Two are fully trained."));
    let before = figures(&lead, from, to).await;
    assert_eq!(value(&before, "training.dva-awareness.sessions"), 0);

    // The data moves on.
    assert!(import(&app, "workforce-2024.xlsx"));
    let after = figures(&lead, from, to).await;
    assert_eq!(value(&after, "training.dva-awareness.sessions"), 40);
    for (link, bytes) in &files {
        assert_eq!(
            &lead.get(link).await.bytes().await.expect("file").to_vec(),
            bytes,
            "{link}"
        );
    }
    let (_, again) = lead.get_text(&published).await;
    let sessions = common::texts(&again, "tr[id='training.dva-awareness.sessions'] td");
    assert_eq!(sessions.first().map(String::as_str), Some("0"));

    // Listed, and withdrawn only with a reason; it stays on record.
    let (_, list) = lead.get_text("/reports/published").await;
    assert!(attrs(&list, "a", "href").contains(&published));
    let res = lead
        .submit(&published, &format!("{published}/withdraw"), &[("reason", " ")])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, still) = lead.get_text(&published).await;
    assert!(page_text(&still).contains("Give the reason"));
    let res = lead
        .submit(
            &published,
            &format!("{published}/withdraw"),
            &[("reason", "Figures restated")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, withdrawn) = lead.get_text(&published).await;
    assert!(page_text(&withdrawn).contains("Figures restated"));
    for (link, bytes) in &files {
        assert_eq!(&lead.get(link).await.bytes().await.expect("file").to_vec(), bytes);
    }
    assert_eq!(assessment_support::audit_count(&lead, "report.withdraw").await, 1);
    assert_eq!(assessment_support::audit_count(&lead, "report.publish").await, 1);
}

/// An organisation added by an import, found as the lead would find it.
async fn organisation_id(lead: &Browser, name: &str) -> i64 {
    let (_, body) = lead
        .get_text(&format!("/organisations?q={}", name.replace(' ', "+")))
        .await;
    let document = scraper::Html::parse_document(&body);
    let links = scraper::Selector::parse("a[href^='/organisations/']").expect("selector");
    document
        .select(&links)
        .find(|a| a.text().collect::<String>().trim() == name)
        .and_then(|a| a.value().attr("href"))
        .and_then(|href| href.trim_start_matches("/organisations/").parse().ok())
        .unwrap_or_else(|| panic!("{name} is listed"))
}

#[rocket::async_test]
async fn only_the_lead_has_the_dashboard_and_organisations_see_only_their_own_report() {
    let (app, lead) = scenario_app().await;
    assert!(import(&app, "iris-2024-25.xlsx"));
    let riverside = organisation_id(&lead, "Riverside Medical Centre").await;
    let other = app.organisation(&lead, "Somewhere Else", "employer").await;
    let member = app
        .user(&lead, "m@riverside.example", "org_member", Some(riverside))
        .await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let trainer = app.user(&lead, "t@council.example", "training_lead", None).await;
    for who in [&member, &assessor, &trainer] {
        assert_eq!(who.get("/reports").await.status(), StatusCode::FORBIDDEN);
        assert_eq!(
            who.get("/reports/sections/training.iris?from=2024-04-01&to=2025-03-31")
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
        assert_eq!(
            who.get("/reports/board.csv?from=2024-01-01&to=2024-12-31")
                .await
                .status(),
            StatusCode::FORBIDDEN
        );
    }
    let own = format!("/organisations/{riverside}/report?from=2024-04-01&to=2025-03-31");
    let (status, body) = member.get_text(&own).await;
    assert_eq!(status, StatusCode::OK);
    let row = common::texts(&body, "tr[id='training.iris.organisations.meeting_rule'] td");
    assert_eq!(
        row.first().map(String::as_str),
        Some("1"),
        "its own practice, fully trained"
    );
    let pdf = member.get(&format!("{own}&format=pdf")).await;
    assert_eq!(pdf.status(), StatusCode::OK);
    assert!(pdf_text(&pdf.bytes().await.expect("pdf")).contains("Riverside Medical Centre"));
    assert_eq!(
        member.get(&format!("/organisations/{other}/report")).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        assessor.get(&format!("/organisations/{other}/report")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        trainer.get(&format!("/organisations/{other}/report")).await.status(),
        StatusCode::NOT_FOUND
    );
}

/// An organisation's progress report opens with where it stands: the
/// mandatory criteria still needing evidence, its staff trained as a share
/// of its staff list (agreeing with the training figures beside it), and
/// its certificates.
#[rocket::async_test]
async fn an_organisations_report_says_what_is_outstanding_and_how_much_of_its_staff_is_trained() {
    let (app, lead) = scenario_app().await;
    assert!(import(&app, "iris-2024-25.xlsx"));
    let riverside = organisation_id(&lead, "Riverside Medical Centre").await;
    let member = app
        .user(&lead, "m@riverside.example", "org_member", Some(riverside))
        .await;
    let assessment = enrol(&member, None, "dva-quality-mark-gp").await;
    let mandatory = criteria("dva-quality-mark-gp", true);
    let own = format!("/organisations/{riverside}/report?from=2024-04-01&to=2025-03-31");
    let value = |body: &str, id: &str| -> i64 {
        common::texts(body, &format!("tr[id='{id}'] td"))
            .first()
            .and_then(|t| t.split(':').next())
            .and_then(|t| t.trim().parse().ok())
            .unwrap_or_else(|| panic!("figure {id} in the report"))
    };
    let (status, body) = member.get_text(&own).await;
    assert_eq!(status, StatusCode::OK);
    let outstanding = "standing.assessment.dva-quality-mark-gp";
    assert_eq!(value(&body, outstanding), mandatory.len() as i64);
    // What it has nothing in is left out, and named where it would have been:
    // a GP practice has no DAHA (housing) accreditation and no MARAC briefings.
    assert!(common::texts(&body, "section[id='accreditation.daha']").is_empty());
    assert!(common::texts(&body, "section[id='training.marac-briefing']").is_empty());
    let notes = common::texts(&body, "p.report-note").join(" ");
    assert!(notes.contains("DAHA accreditation"), "{notes}");
    assert!(notes.contains("MARAC"), "{notes}");
    assert_eq!(
        common::texts(&body, "section[id='training.iris'] h2").len(),
        1,
        "IRIS, which it trains in, stays"
    );

    // Evidence for two mandatory criteria: two fewer to do.
    fill(&member, assessment, &mandatory[..2]).await;
    let (_, body) = member.get_text(&own).await;
    assert_eq!(value(&body, outstanding), mandatory.len() as i64 - 2);
    let text = page_text(&body);
    assert!(!text.contains(&format!("{} ", mandatory[0])) || text.contains(&mandatory[2]));

    // The share of the staff list agrees with the training figures.
    let staff = value(&body, "standing.staff.listed");
    let holding = value(&body, "training.iris.completion.clinical.holding");
    assert!(staff > 0 && holding > 0, "staff {staff}, holding {holding}");
    let share = value(&body, "standing.staff.iris.clinical.share");
    assert_eq!(share, (holding * 200 + staff) / (2 * staff));
    assert!(text.contains(&format!("{holding} of {staff} people")), "{text}");
    assert!(
        value(&body, "standing.certificates.training") >= holding,
        "each clinician holding the completion has its certificate (and other completions theirs)"
    );

    // The same section is in the PDF.
    let pdf = member.get(&format!("{own}&format=pdf")).await;
    let pdf = pdf_text(&pdf.bytes().await.expect("pdf"));
    assert!(pdf.contains("Where Riverside Medical Centre stands"));
    // Its cover is the organisation's progress report, not a board paper.
    assert!(pdf.contains("Progress report of one organisation"), "{pdf}");
    assert!(!pdf.contains("VAWG strategic group"), "{pdf}");
}

/// The figures are computed once and shared, but never kept past a write:
/// an award, and then renaming the organisation, show on the dashboard and
/// in the board report at once.
#[rocket::async_test]
async fn a_write_changes_the_dashboard_figures_at_once() {
    let app = TestApp::spawn_with(common::Options {
        clock_start: Some("2026-03-02T09:00:00Z"),
        ..common::Options::default()
    })
    .await;
    let lead = app.programme_lead().await;
    let avon = app.organisation(&lead, "Avon Homes", "housing_provider").await;
    let dashboard = "/?from=2026-01-01&to=2026-03-31";
    let awarded = "accreditation.daha.awarded";

    let before = page_text(&lead.get(dashboard).await.text().await.expect("page"));
    // The organisation may already be named elsewhere on the page (organisations
    // reached, assessments in progress): the award must add its own mention.
    let mentions_before = before.matches("Avon Homes").count();
    assert_eq!(value(&figures(&lead, "2026-01-01", "2026-03-31").await, awarded), 0);

    award(&lead, avon, "2026-03-02").await;
    let after = page_text(&lead.get(dashboard).await.text().await.expect("page"));
    assert!(
        after.matches("Avon Homes").count() > mentions_before,
        "the award is on the dashboard at once"
    );
    let board = figures(&lead, "2026-01-01", "2026-03-31").await;
    assert_eq!(items(&board, awarded), ["Avon Homes"]);

    let mut form = common::organisation_form("Avon Housing", "housing_provider");
    form.retain(|(field, _)| *field != "name");
    form.push(("name", "Avon Housing"));
    let path = format!("/organisations/{avon}/edit");
    let res = lead.submit(&path, &path, &form).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renamed = figures(&lead, "2026-01-01", "2026-03-31").await;
    assert_eq!(items(&renamed, awarded), ["Avon Housing"]);
    let page = page_text(&lead.get(dashboard).await.text().await.expect("page"));
    assert!(page.contains("Avon Housing") && !page.contains("Avon Homes"));
}
