//! A housing provider takes DAHA from enrolment to award with an assessor
//! and the programme lead; then renewal falls due, the award expires, is
//! renewed with its evidence carried over, and is revoked.

mod assessment_support;
mod common;

use assessment_support::*;
use chrono::Duration;
use common::{error_summary, field_errors, location, texts, TestApp};
use reqwest::StatusCode;
use serde_json::Value;

fn ids_of(body: &str, selector: &str, prefix: &str) -> Vec<i64> {
    let doc = scraper::Html::parse_document(body);
    let selector = scraper::Selector::parse(selector).expect("selector");
    doc.select(&selector)
        .filter_map(|e| e.value().attr("id").or(e.value().attr("href")))
        .filter_map(|v| v.strip_prefix(prefix))
        .filter_map(|v| v.split('/').next()?.parse().ok())
        .collect()
}

#[rocket::async_test]
async fn daha_from_enrolment_to_award_renewal_expiry_and_revocation() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let homes = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    let member = app.user(&lead, "m@riverside.example", "org_member", Some(homes)).await;
    let assessor = app.user(&lead, "a@council.example", "assessor", None).await;
    let mandatory = criteria("daha", true);
    assert_eq!(mandatory.len(), 24);

    // The member finds "Your assessments" and enrols on DAHA.
    let (_, home) = member.get_text("/").await;
    assert!(texts(&home, ".qm-nav__link").contains(&"Your assessments".to_string()));
    let (_, body) = member.get_text("/assessments").await;
    assert!(body.contains("has not enrolled on a framework yet"));
    let id = enrol(&member, None, "daha").await;
    let (status, body) = member.get_text(&format!("/assessments/{id}")).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&body, "#status"), ["Enrolled"]);
    assert!(body.contains("2024.1"), "pinned to the version current at enrolment");
    let areas = texts(&body, "caption.qm-table__caption");
    assert_eq!(areas.len(), 9, "eight areas and the history: {areas:?}");
    assert_eq!(areas[0], "1. Policies & Procedures");
    assert_eq!(
        texts(&body, "tr[id^='criterion-'] .qm-tag--grey").len(),
        36,
        "every criterion starts without evidence"
    );

    // A second enrolment on the same framework is refused and says why.
    let res = member
        .submit("/assessments/new", "/assessments", &[("framework_id", "daha")])
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(field_errors(&res.text().await.expect("body"))["framework_id"].contains("already working towards"));

    // Submitting with nothing is refused, listing every mandatory criterion.
    let res = submit(&member, id).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let summary = error_summary(&res.text().await.expect("body"));
    assert_eq!(summary.len(), 24);
    assert_eq!(summary[0], "Add evidence for 1.1.1: no evidence yet");

    // Evidence: a PDF, a file that stops being valid before a renewed award
    // would end, one that will have lapsed by renewal, statements, a link.
    let res = upload(
        &member,
        id,
        "1.1.1",
        "DA policy 2025.pdf",
        samples::pdf("Domestic abuse policy", &["Approved"]),
        &[],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/assessments/{id}/criteria/1.1.1"));
    assert_eq!(status_of(&member, id).await, "In progress");
    let res = upload(
        &member,
        id,
        "1.2.1",
        "Procedure.docx",
        samples::docx("Procedure"),
        &[("valid_until", "2029-06-30"), ("title", "Practice guide")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = upload(
        &member,
        id,
        "1.1.2",
        "Board minutes.png",
        samples::png(4, 4, [10, 20, 30]),
        &[("valid_until", "2028-01-31")],
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (last, rest) = mandatory.split_last().expect("criteria");
    let rest: Vec<String> = rest
        .iter()
        .filter(|c| !["1.1.1", "1.1.2", "1.2.1"].contains(&c.as_str()))
        .cloned()
        .collect();
    fill(&member, id, &rest).await;
    let res = submit(&member, id).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_summary(&res.text().await.expect("body")),
        [format!("Add evidence for {last}: no evidence yet")]
    );
    let token = member
        .csrf_token(&format!("/assessments/{id}/criteria/{last}/evidence/new?kind=link"))
        .await;
    let res = post_multipart(
        &member,
        &format!("/assessments/{id}/criteria/{last}/evidence"),
        Some(&token),
        &[
            ("kind", "link"),
            ("url", "https://riverside.example/domestic-abuse"),
            ("title", ""),
            ("applies_from", "2026-02-01"),
            ("valid_until", ""),
        ],
        None,
    )
    .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    assert!(body.contains("DA policy 2025.pdf") && body.contains("PDF document"));
    assert_eq!(
        texts(&body, "h1 ~ p .qm-tag").first().map(String::as_str),
        Some("Evidence added")
    );

    let res = submit(&member, id).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&member, id).await, "Submitted");
    // Sent evidence is locked until the assessor returns it.
    let (status_code, body) = member
        .get_text(&format!("/assessments/{id}/criteria/1.1.1/evidence/new?kind=file"))
        .await;
    assert_eq!(status_code, StatusCode::BAD_REQUEST);
    assert!(body.contains("cannot be changed while the assessment is submitted"));

    // The assessor's queue, oldest first, with its age.
    let everyone = [
        (&lead, "lead@council.example"),
        (&member, "m@riverside.example"),
        (&assessor, "a@council.example"),
    ];
    time_passes(&app, Duration::days(3), &everyone).await;
    let (status_code, body) = assessor.get_text("/reviews").await;
    assert_eq!(status_code, StatusCode::OK);
    let rows = texts(&body, ".qm-table tbody tr");
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].contains("Riverside Homes") && rows[0].contains("3 days"),
        "{rows:?}"
    );

    // Review: feedback is required for "partially met".
    let res = decide(&assessor, id, &[("1.1.1", "partially_met", "")]).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_summary(&res.text().await.expect("body")),
        ["Give feedback on 1.1.1 so the organisation knows what to change"]
    );
    let all = criteria("daha", false);
    let mut decisions: Vec<(&str, &str, &str)> = all.iter().map(|c| (c.as_str(), "met", "")).collect();
    decisions[0] = (
        "1.1.1",
        "partially_met",
        "The policy does not cover staff who are victims.",
    );
    let res = decide(&assessor, id, &decisions).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&member, id).await, "Under review");
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    assert!(
        !body.contains("does not cover staff"),
        "the organisation sees decisions only when the review is returned"
    );

    // Neither a recommendation nor an award while a mandatory criterion is not met.
    let res = assessor
        .submit(
            &format!("/assessments/{id}/review"),
            &format!("/assessments/{id}/recommend"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let today = "2026-03-05";
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/award"),
            &[("awarded_on", today)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_summary(&res.text().await.expect("body")),
        ["1.1.1 must be met before an award: partially met"]
    );

    // Changes requested: the organisation sees the feedback and the summary.
    let res = assessor
        .submit(
            &format!("/assessments/{id}/review"),
            &format!("/assessments/{id}/request-changes"),
            &[("note", "Nearly there: one policy gap.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&member, id).await, "Changes requested");
    let (_, body) = member.get_text(&format!("/assessments/{id}")).await;
    let to_address = texts(&body, "#to-address li");
    assert_eq!(to_address.len(), 1);
    assert!(to_address[0].contains("1.1.1") && to_address[0].contains("does not cover staff"));
    assert!(body.contains("Nearly there: one policy gap."));

    // The member replaces the policy: a new version, the old one kept.
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    let item = ids_of(&body, "a[href$='/replace']", "/evidence/")[0];
    let token = member.csrf_token(&format!("/evidence/{item}/replace")).await;
    let res = post_multipart(
        &member,
        &format!("/evidence/{item}/replace"),
        Some(&token),
        &[
            ("title", "Policy v2, covers staff"),
            ("applies_from", "2026-03-05"),
            ("valid_until", ""),
        ],
        Some(file_part(
            "DA policy 2026.pdf",
            samples::pdf("Policy v2", &["Covers staff"]),
        )),
    )
    .await;
    assert_eq!(
        res.status(),
        StatusCode::SEE_OTHER,
        "{}",
        res.text().await.unwrap_or_default()
    );
    let (_, body) = member.get_text(&format!("/assessments/{id}/criteria/1.1.1")).await;
    assert!(body.contains("Policy v2, covers staff") && body.contains("Earlier versions of this item (1)"));
    assert!(texts(&body, "details li")
        .iter()
        .any(|l| l.contains("DA policy 2025.pdf")));
    let res = submit(&member, id).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&member, id).await, "Resubmitted");

    // The assessor sees exactly what changed, and must decide it afresh.
    let (_, body) = assessor.get_text(&format!("/assessments/{id}/review")).await;
    assert_eq!(texts(&body, "#changed-criteria li"), ["1.1.1"]);
    assert_eq!(
        texts(&body, "#criterion-1\\.1\\.1 .qm-tag--blue")
            .iter()
            .filter(|t| t.as_str() == "New since last review")
            .count(),
        1
    );
    assert!(texts(&body, "#previous-1\\.1\\.1")[0].contains("Partially met"));
    let doc = scraper::Html::parse_document(&body);
    let checked = scraper::Selector::parse("input[type=radio][checked]").expect("selector");
    assert_eq!(
        doc.select(&checked).count(),
        all.len() - 1,
        "unchanged decisions stand; the changed criterion is not pre-answered"
    );
    let res = decide(&assessor, id, &[("1.1.1", "met", "Now covers staff.")]).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = assessor
        .submit(
            &format!("/assessments/{id}/review"),
            &format!("/assessments/{id}/recommend"),
            &[],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(status_of(&lead, id).await, "Recommended for award");
    assert!(assessor.get_text("/reviews").await.1.contains("Recommended for award"));

    // Only the programme lead awards, and not with a date in the future.
    let res = assessor
        .post(
            &format!("/assessments/{id}/award"),
            &[("csrf_token", &assessor.csrf_token("/").await), ("awarded_on", today)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN);
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/award"),
            &[("awarded_on", "2026-03-06")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&res.text().await.expect("body"))["awarded_on"],
        "The award date cannot be in the future"
    );
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/award"),
            &[("awarded_on", today)],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{id}")).await;
    assert_eq!(texts(&body, "#status"), ["Awarded"]);
    assert_eq!(texts(&body, "#awarded-on"), ["5 March 2026"]);
    assert_eq!(texts(&body, "#expires-on"), ["5 March 2029"], "DAHA lasts 36 months");
    assert!(
        !assessor.get_text("/reviews").await.1.contains("Riverside Homes"),
        "off the queue"
    );

    // Status follows the dates: renewal is due 90 days before expiry.
    time_passes(&app, Duration::days(1005), &everyone).await; // 2028-12-04: 91 days left
    assert_eq!(status_of(&member, id).await, "Awarded");
    time_passes(&app, Duration::days(1), &everyone).await; // 2028-12-05: 90 days left
    assert_eq!(status_of(&member, id).await, "Renewal due");

    // Renewal carries over what is still valid, for re-review, and flags what ends too soon.
    let res = member
        .submit(&format!("/assessments/{id}"), &format!("/assessments/{id}/renew"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let renewal = id_from(&location(&res), "/assessments/");
    assert_ne!(renewal, id);
    let (_, body) = member.get_text(&format!("/assessments/{renewal}")).await;
    let flash = texts(&body, ".qm-notification__title").join(" ");
    assert!(flash.contains("23 item(s) of evidence carried over"), "{flash}");
    assert!(
        flash.contains("1 of them stop being valid before the renewed award would end"),
        "{flash}"
    );
    assert_eq!(texts(&body, "#status"), ["In progress"]);
    let statuses = texts(&body, "tr[id^='criterion-'] td .qm-tag");
    assert_eq!(
        statuses
            .iter()
            .filter(|s| s.as_str() == "Carried over: to re-review")
            .count(),
        23
    );
    assert!(
        texts(&body, "#criterion-1\\.1\\.2 td .qm-tag").contains(&"No evidence".to_string()),
        "lapsed evidence stays behind"
    );
    let (_, body) = member.get_text(&format!("/assessments/{renewal}/criteria/1.2.1")).await;
    assert!(body.contains("Ends before the award would") && body.contains("Carried over: to re-review"));
    let (_, body) = member.get_text(&format!("/assessments/{renewal}/criteria/1.1.1")).await;
    assert!(
        body.contains("Policy v2, covers staff") && !body.contains("DA policy 2025.pdf"),
        "only the current version"
    );
    // The carried file is the same stored file, and still downloads.
    let (_, body) = lead.get_text(&format!("/assessments/{renewal}/criteria/1.1.1")).await;
    let download = ids_of(&body, "a[href$='/download']", "/evidence/")[0];
    let res = lead.get(&format!("/evidence/{download}/download")).await;
    assert_eq!(res.status(), StatusCode::OK);
    assert!(res.bytes().await.expect("bytes").starts_with(b"%PDF-"));
    // Starting it twice is a conflict that names the renewal already started.
    let res = member
        .submit(&format!("/assessments/{id}"), &format!("/assessments/{id}/renew"), &[])
        .await;
    assert_eq!(res.status(), StatusCode::CONFLICT);
    assert!(res
        .text()
        .await
        .expect("body")
        .contains(&format!("already been started (assessment {renewal})")));

    // The old award expires on its date; the API agrees with the page.
    time_passes(&app, Duration::days(90), &everyone).await; // 2029-03-05
    assert_eq!(status_of(&member, id).await, "Expired");
    let token = create_token(&member).await;
    let res = reqwest::Client::new()
        .get(format!("{}/api/v1/assessments/{id}", app.base))
        .bearer_auth(&token)
        .send()
        .await
        .expect("GET");
    let json: Value = res.json().await.expect("json");
    assert_eq!(json["status"], "expired");
    assert_eq!(json["award"]["expires_on"], "2029-03-05");

    // Revocation needs a reason, which the organisation then sees.
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/revoke"),
            &[("reason", " ")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        field_errors(&res.text().await.expect("body"))["reason"],
        "Enter the reason for revoking the award"
    );
    let res = member
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/revoke"),
            &[("reason", "No")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "only the programme lead revokes");
    let res = lead
        .submit(
            &format!("/assessments/{id}"),
            &format!("/assessments/{id}/revoke"),
            &[("reason", "Serious case review found the policy was not followed.")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = member.get_text(&format!("/assessments/{id}")).await;
    assert_eq!(texts(&body, "#status"), ["Revoked"]);
    assert_eq!(
        texts(&body, "#revocation-reason"),
        ["Serious case review found the policy was not followed."]
    );
    let history = texts(&body, "#history tbody tr");
    assert!(
        history
            .iter()
            .any(|h| h.contains("Awarded → Revoked") && h.contains("Alex Morgan")),
        "the lead by name, not email: {history:?}"
    );

    // Every step is in the audit log.
    for action in [
        "assessment.enrol",
        "assessment.submit",
        "review.decide",
        "assessment.request_changes",
        "evidence.replace",
        "assessment.resubmit",
        "assessment.recommend",
        "assessment.award",
        "assessment.renew",
        "assessment.revoke",
        "evidence.download",
    ] {
        assert!(
            audit_count(&lead, action).await >= 1,
            "{action} missing from the audit log"
        );
    }
    assert_eq!(audit_count(&lead, "evidence.add").await, 24);
}

async fn create_token(browser: &common::Browser) -> String {
    let res = browser
        .submit("/account", "/account/tokens", &[("label", "test")])
        .await;
    assert_eq!(res.status(), StatusCode::CREATED);
    texts(&res.text().await.expect("body"), "#token").pop().expect("token")
}
