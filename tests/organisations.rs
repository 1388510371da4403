//! Organisations and people, and who may see and change them.

mod common;

use common::{error_summary, field_errors, h1, location, texts, TestApp};
use reqwest::StatusCode;

fn org_fields<'a>(name: &'a str, org_type: &'a str, lead: &'a str) -> Vec<(&'a str, &'a str)> {
    vec![
        ("name", name),
        ("org_type", org_type),
        ("locality", "West Vale"),
        ("address", "2 Low Road"),
        ("contact_name", "Pat"),
        ("contact_email", "pat@example.org"),
        ("contact_phone", "01632 960001"),
        ("da_lead_name", lead),
        ("da_lead_email", "lead@example.org"),
    ]
}

#[rocket::async_test]
async fn the_programme_lead_adds_searches_and_edits_organisations() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;

    // A bad form is shown again with each problem linked to its field, and nothing is saved.
    let res = lead
        .submit("/organisations/new", "/organisations", &org_fields("  ", "castle", ""))
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let errors = field_errors(&res.text().await.expect("body"));
    assert_eq!(errors["name"], "Enter the organisation's name");
    assert_eq!(errors["org_type"], "Select the type of organisation");

    let homes = app.organisation(&lead, "Riverside Homes", "housing_provider").await;
    app.organisation(&lead, "Hillside Surgery", "gp_practice").await;
    let (_, body) = lead.get_text(&format!("/organisations/{homes}")).await;
    assert_eq!(h1(&body), "Riverside Homes");
    assert!(body.contains("Housing provider"));

    // A contact with only an email address is that address, with no blank
    // line above it; with none at all, the page says so.
    let mut fields = common::organisation_form("Email Only Trust", "employer");
    fields.retain(|(name, _)| !name.starts_with("contact_"));
    fields.extend([
        ("contact_name", ""),
        ("contact_email", "only@example.org"),
        ("contact_phone", ""),
    ]);
    let res = lead.submit("/organisations/new", "/organisations", &fields).await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = lead.get_text(&location(&res)).await;
    assert!(
        body.contains(r#"<dd class="qm-summary-list__value">only@example.org</dd>"#),
        "{body}"
    );
    fields.retain(|(name, _)| !name.starts_with("contact_") && *name != "name");
    fields.extend([
        ("name", "No Contact Trust"),
        ("contact_name", ""),
        ("contact_email", ""),
        ("contact_phone", ""),
    ]);
    let res = lead.submit("/organisations/new", "/organisations", &fields).await;
    let (_, body) = lead.get_text(&location(&res)).await;
    assert!(
        body.contains(r#"<dd class="qm-summary-list__value">Not given</dd>"#),
        "{body}"
    );

    // The same name in another case is a duplicate.
    let res = lead
        .submit(
            "/organisations/new",
            "/organisations",
            &org_fields("riverside  HOMES", "employer", ""),
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        error_summary(&res.text().await.expect("body")),
        ["There is already an organisation called riverside HOMES"]
    );

    let (_, body) = lead.get_text("/organisations?q=hill").await;
    assert_eq!(
        texts(&body, "table.qm-table tbody td:first-child"),
        ["Hillside Surgery"]
    );
    let (_, body) = lead.get_text("/organisations?org_type=housing_provider").await;
    assert_eq!(texts(&body, "table.qm-table tbody td:first-child"), ["Riverside Homes"]);
    let (_, body) = lead.get_text("/organisations?q=%25").await;
    assert!(body.contains("0 organisations"), "a % in the search is literal");

    let res = lead
        .submit(
            &format!("/organisations/{homes}/edit"),
            &format!("/organisations/{homes}/edit"),
            &org_fields("Riverside Homes Group", "housing_provider", "Zoë O'Brien"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = lead.get_text(&format!("/organisations/{homes}")).await;
    assert_eq!(h1(&body), "Riverside Homes Group");
    assert!(
        body.contains("Zoë O&#x27;Brien") || body.contains("Zoë O'Brien"),
        "{body}"
    );

    // Every change is in the audit log.
    let (_, body) = lead.get_text("/audit").await;
    assert!(body.contains("organisation.update") && body.contains("organisation.create"));
}

#[rocket::async_test]
async fn members_see_and_change_only_their_own_organisation() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let a = app.organisation(&lead, "Alpha Housing", "housing_provider").await;
    let b = app.organisation(&lead, "Beta Practice", "gp_practice").await;
    let member = app.user(&lead, "member@alpha.example", "org_member", Some(a)).await;

    let (status, body) = member.get_text("/organisations").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(texts(&body, "table.qm-table tbody td:first-child"), ["Alpha Housing"]);
    assert!(!body.contains("Beta Practice"));

    // B does not exist as far as A's member can tell, whatever they try.
    for path in [
        format!("/organisations/{b}"),
        format!("/organisations/{b}/edit"),
        format!("/organisations/{b}/people/new"),
        "/organisations/99999".to_string(),
    ] {
        assert_eq!(member.get(&path).await.status(), StatusCode::NOT_FOUND, "{path}");
    }
    let token = member.csrf_token("/").await;
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend(org_fields("Hijacked", "other", ""));
    assert_eq!(
        member.post(&format!("/organisations/{b}/edit"), &fields).await.status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        member
            .post(
                &format!("/organisations/{b}/people"),
                &[
                    ("csrf_token", token.as_str()),
                    ("full_name", "X"),
                    ("email", ""),
                    ("job_title", "")
                ]
            )
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        member.post("/organisations", &fields).await.status(),
        StatusCode::FORBIDDEN
    );
    let (_, body) = lead.get_text(&format!("/organisations/{b}")).await;
    assert_eq!(h1(&body), "Beta Practice", "B is unchanged");

    // Their own organisation they can edit, and add people to.
    let res = member
        .submit(
            &format!("/organisations/{a}/edit"),
            &format!("/organisations/{a}/edit"),
            &org_fields("Alpha Housing", "housing_provider", "Łukasz Nowak"),
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let res = member
        .submit(
            &format!("/organisations/{a}/people/new"),
            &format!("/organisations/{a}/people"),
            &[
                ("full_name", "Nguyễn Thị Lan"),
                ("email", "Lan@Alpha.Example"),
                ("job_title", "Housing Officer"),
            ],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    assert_eq!(location(&res), format!("/organisations/{a}"));
    let (_, body) = member.get_text(&format!("/organisations/{a}")).await;
    assert!(body.contains("Nguyễn Thị Lan") && body.contains("lan@alpha.example"));
}

#[rocket::async_test]
async fn council_staff_read_everything_and_training_leads_add_people() {
    let app = TestApp::spawn().await;
    let lead = app.programme_lead().await;
    let org = app.organisation(&lead, "Gamma Centre", "childrens_centre").await;
    let assessor = app.user(&lead, "assessor@council.example", "assessor", None).await;
    let trainer = app.user(&lead, "trainer@council.example", "training_lead", None).await;

    assert_eq!(
        assessor.get(&format!("/organisations/{org}")).await.status(),
        StatusCode::OK
    );
    assert_eq!(
        assessor.get(&format!("/organisations/{org}/edit")).await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        assessor.get(&format!("/organisations/{org}/people/new")).await.status(),
        StatusCode::FORBIDDEN
    );

    let res = trainer
        .submit(
            &format!("/organisations/{org}/people/new"),
            &format!("/organisations/{org}/people"),
            &[("full_name", "Joanna Wiśniewska"), ("email", ""), ("job_title", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::SEE_OTHER);
    let (_, body) = trainer.get_text(&format!("/organisations/{org}")).await;
    let edit_link = texts(&body, "a[href^='/people/'][href$='/edit']");
    assert_eq!(edit_link, ["Edit Joanna Wiśniewska"]);

    // A person's name is required, and edits keep the organisation.
    let doc_id = body
        .split("/people/")
        .skip(1)
        .filter_map(|s| s.split('/').next())
        .find(|s| s.parse::<i64>().is_ok())
        .expect("person id")
        .to_string();
    let res = trainer
        .submit(
            &format!("/people/{doc_id}/edit"),
            &format!("/people/{doc_id}/edit"),
            &[("full_name", ""), ("email", ""), ("job_title", "")],
        )
        .await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let res = trainer
        .submit(
            &format!("/people/{doc_id}/edit"),
            &format!("/people/{doc_id}/edit"),
            &[
                ("full_name", "Joanna Wiśniewska"),
                ("email", "jw@gamma.example"),
                ("job_title", "Family Worker"),
            ],
        )
        .await;
    assert_eq!(location(&res), format!("/organisations/{org}"));
    assert_eq!(
        assessor.get(&format!("/people/{doc_id}/edit")).await.status(),
        StatusCode::FORBIDDEN
    );
}
