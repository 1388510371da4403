//! The standards library in the browser: framework → areas → criteria.

mod common;

use common::{h1, texts, TestApp};
use reqwest::StatusCode;

#[rocket::async_test]
async fn daha_shows_its_eight_areas_and_their_criteria() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let member = app
        .user(
            &lead,
            "m@x.example",
            "org_member",
            Some(app.organisation(&lead, "X", "other").await),
        )
        .await;

    let (_, list) = member.get_text("/frameworks").await;
    let names = texts(&list, ".qm-card h2");
    for name in ["DAHA accreditation", "Domestic Violence and Abuse Quality Mark"] {
        assert!(names.iter().any(|n| n.starts_with(name)), "{name} not in {names:?}");
    }
    assert!(names.len() >= 4);

    let res = member.get("/frameworks/daha").await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (status, page) = member.get_text("/frameworks/daha/2024.1").await;
    assert_eq!(status, StatusCode::OK);
    let areas = texts(&page, "table.qm-table tbody td:first-child a");
    assert_eq!(
        areas,
        [
            "1. Policies & Procedures",
            "2. Case Management",
            "3. Risk Management",
            "4. Inclusivity & Accessibility",
            "5. Perpetrator Management",
            "6. Partnership Working",
            "7. Training",
            "8. Publicity & Awareness"
        ]
    );
    assert!(page.contains("illustrative"));

    let (_, area) = member.get_text("/frameworks/daha/2024.1/areas/3").await;
    assert_eq!(h1(&area), "3. Risk Management");
    let criteria = texts(&area, ".qm-card h3");
    assert!(!criteria.is_empty());
    assert!(criteria.iter().all(|c| c.starts_with("3.")), "{criteria:?}");
    assert!(area.contains("Evidence expected"));
    assert_eq!(
        member.get("/frameworks/daha/2024.1/areas/9").await.status(),
        StatusCode::NOT_FOUND
    );
}
