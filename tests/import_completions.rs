//! An import works out again only the completions it touched (the people it
//! creates from the rows in memory, the (person, programme) pairs it changes
//! from the database). Whatever it skips must still be right: after every
//! import and undo below, what is kept (completions, and each session's
//! records for the reports) equals a rebuild from scratch, and each
//! completed completion has its certificate.

mod common;

use common::{attrs, qmtrack, TestApp};
use reqwest::StatusCode;

const HEADINGS: &str = "Name,Organisation,Email,Date,Course,Attended";

fn programmes() -> qmtrack::domain::programmes::ProgrammeLibrary {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("standards/training");
    qmtrack::domain::programmes::load_dir(&dir).unwrap_or_else(|_| panic!("programmes load"))
}

/// Imports these sheet rows from the command line, creating organisations.
fn import(app: &TestApp, name: &str, rows: &[&str]) {
    let path = app.data_dir.join(name);
    std::fs::write(&path, format!("{HEADINGS}\n{}\n", rows.join("\n"))).expect("write sheet");
    let output = qmtrack(
        app,
        &[
            "import-attendance",
            path.to_str().expect("path"),
            "--create-organisations",
            "--json",
        ],
    );
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap_or_default();
    assert!(
        output.status.success() && result["committed"] == true,
        "{name}: {} {}",
        result["errors"],
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Checks the kept completions against a rebuild from scratch, and returns
/// (completed completions, training certificates).
async fn check(app: &TestApp, step: &str) -> (usize, usize) {
    let pool = qmtrack::db::connect(&app.database_url, 1).await.expect("connect");
    let kept = qmtrack::db::completions::kept(&pool).await.expect("kept");
    let rebuilt = qmtrack::db::completions::recompute_all(&pool, &programmes())
        .await
        .expect("rebuilt");
    assert_eq!(kept.0, rebuilt.0, "completions after {step}");
    assert_eq!(kept.1, rebuilt.1, "spells after {step}");
    // Each session's records kept for the reports, likewise.
    common::assert_session_records_rebuilt(&app.database_url, step).await;
    let completed = kept.0.iter().filter(|c| c.completed_on.is_some()).count();
    let certificates = qmtrack::db::certificates::training_ids(&pool)
        .await
        .expect("certificates");
    (completed, certificates.len())
}

#[rocket::async_test]
async fn kept_completions_follow_imports_of_new_and_known_people_and_undo() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;

    // New people only: everything is worked out from the rows in memory.
    import(
        &app,
        "a.csv",
        &[
            "Ann Ash,Northbridge Homes,ann@homes.example,03/03/2025,Ambassador initial training day 1,Y",
            "Bob Birch,Northbridge Homes,bob@homes.example,04/03/2025,MARAC briefing,Y",
            "Dee Dale,Northbridge Homes,dee@homes.example,04/03/2025,MARAC briefing,N",
        ],
    );
    let (completed, certificates) = check(&app, "the first import").await;
    assert_eq!((completed, certificates), (1, 1), "Bob's MARAC briefing");

    // Known people in a programme they started (Ann completes), in another
    // programme (Bob), a known person's row unchanged (Dee's absence, again),
    // and someone new.
    import(
        &app,
        "b.csv",
        &[
            "Ann Ash,Northbridge Homes,ann@homes.example,10/03/2025,Ambassador initial training day 2,Y",
            "Bob Birch,Northbridge Homes,bob@homes.example,11/03/2025,DVA awareness,Y",
            "Dee Dale,Northbridge Homes,dee@homes.example,04/03/2025,MARAC briefing,N",
            "Cara Cole,Northbridge Homes,cara@homes.example,11/03/2025,DVA awareness,Y",
        ],
    );
    let (completed, certificates) = check(&app, "the second import").await;
    assert_eq!(completed, 4, "Bob twice, Ann's ambassador training, Cara");
    assert_eq!(certificates, 4, "each completion earned its certificate");

    // A register corrected by a later sheet: Bob did not come to the briefing
    // after all, and Dee did.
    import(
        &app,
        "c.csv",
        &[
            "Bob Birch,Northbridge Homes,bob@homes.example,04/03/2025,MARAC briefing,N",
            "Dee Dale,Northbridge Homes,dee@homes.example,04/03/2025,MARAC briefing,Y",
        ],
    );
    let (completed, certificates) = check(&app, "the correcting import").await;
    assert_eq!(completed, 4, "Bob's briefing went, Dee's came");
    assert_eq!(
        certificates, 5,
        "Dee's certificate; Bob's is kept (a revocation is a decision)"
    );

    // Undoing the correction puts both back as they were.
    let (_, history) = lead.get_text("/training/imports").await;
    let last = attrs(&history, "a[href^='/training/imports/']", "href")
        .into_iter()
        .find(|h| h.trim_start_matches("/training/imports/").parse::<i64>().is_ok())
        .expect("the last import");
    let res = lead.submit(&last, &format!("{last}/undo"), &[]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (completed, _) = check(&app, "undoing the correction").await;
    assert_eq!(completed, 4, "Bob's briefing is back and Dee's is gone");
}
