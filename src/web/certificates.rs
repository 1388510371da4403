//! Certificates in the browser: the public verification page (and its
//! JSON), the PDF and its HTML equivalent for the holder's organisation and
//! staff, a ZIP of many, and the programme lead's issue / revoke / reissue.

use super::csrf::{CsrfForm, ReasonForm};
use super::reports::{attachment, ReportFile};
use super::templates::Template;
use super::{page_offset, url_encode, AppState, SignedIn, Visitor, PAGE_SIZE};
use crate::db::certificates::{self, CertificateRow, Filter};
use crate::db::throttle;
use crate::db::Db;
use crate::domain::access::OrgScope;
use crate::domain::certificate::{self as cert, long_date, State as CertState};
use crate::domain::validation::FieldErrors;
use crate::error::{AppError, AppResult};
use rocket::form::FromForm;
use rocket::http::Status;
use rocket::response::{Flash, Redirect, Responder};
use rocket::serde::json::Json;
use rocket::{get, post, routes, Route};
use serde_json::{json, Value};
use std::net::IpAddr;
use std::time::Duration;

pub fn routes() -> Vec<Route> {
    routes![verify, verify_form, list, show, issue_missing, revoke, reissue]
}

/// Unknown-code look-ups per client address are counted in the database
/// (so several app servers share the count). A guesser is slowed, not
/// blocked, so a person who mistypes a code a few times is not locked out.
/// Unknown look-ups allowed in a window before each further look-up waits.
const FREE_MISSES: u32 = 5;
const WINDOW: chrono::Duration = chrono::Duration::minutes(10);

/// The wait before a look-up from a client that has had `misses` unknown
/// codes in the window: nothing for the first few, then a quarter second
/// more for each, up to three seconds.
pub fn throttle_delay(misses: u32) -> Duration {
    let over = misses.saturating_sub(FREE_MISSES);
    Duration::from_millis(u64::from(over.min(12)) * 250)
}

fn verify_throttle_key(ip: IpAddr) -> String {
    format!("verify-miss:{}", crate::domain::login::client_network(ip))
}

/// What the public is told: enough to check a certificate against the
/// paper, nothing about the organisation's internals or why it was revoked.
fn public_view(row: &CertificateRow, today: chrono::NaiveDate) -> Value {
    let state = row.state(today);
    let mut view = json!({
        "code": row.code,
        "state": state.as_str(),
        "state_label": state.label(),
        "kind": row.kind.as_str(),
        "kind_label": row.kind.label(),
        "holder_name": row.holder_name,
        "title": row.title,
        "issued_on": row.issued_on,
        "issued_display": long_date(row.content(&cert::Issuer::default()).issued_on),
        "expires_on": row.expires_on,
        "expires_display": row.content(&cert::Issuer::default()).expires_on.map(long_date),
    });
    match &state {
        CertState::Revoked { on } => {
            view["revoked_on"] = json!(on.to_string());
            view["revoked_display"] = json!(long_date(*on));
        }
        CertState::Superseded { by } => view["superseded_by"] = json!(by),
        CertState::Expired { .. } | CertState::Valid => {}
    }
    view
}

#[derive(Responder)]
pub enum Verified {
    Page(Template),
    Json(Json<Value>),
    Missing((Status, Json<Value>)),
}

/// Finds a certificate by its code as typed, slowing a client that keeps
/// asking for codes that do not exist.
async fn look_up(code: &str, ip: Option<IpAddr>, db: &Db, state: &AppState) -> AppResult<Option<CertificateRow>> {
    let ip = ip.unwrap_or(IpAddr::from([0, 0, 0, 0]));
    let now = state.clock.now();
    let (key, window_expired_before) = (verify_throttle_key(ip), now - WINDOW);
    let misses = throttle::peek(db, &key, window_expired_before).await?;
    let wait = throttle_delay(u32::try_from(misses).unwrap_or(u32::MAX));
    if !wait.is_zero() {
        rocket::tokio::time::sleep(wait).await;
    }
    let found = match cert::normalise_code(code) {
        Some(code) => certificates::find_by_code(db, &code).await?,
        None => None,
    };
    if found.is_none() {
        throttle::hit(&mut db.acquire().await?, &key, now, window_expired_before).await?;
    }
    Ok(found)
}

/// `GET /verify/<code>` and `GET /verify/<code>.json`, public.
#[get("/verify/<code>")]
async fn verify(code: &str, ip: Option<IpAddr>, visitor: Visitor<'_>) -> AppResult<Verified> {
    let Visitor(page, db, state) = visitor;
    let (code, as_json) = match code.strip_suffix(".json") {
        Some(code) => (code, true),
        None => (code, false),
    };
    let Some(row) = look_up(code, ip, db, state).await? else {
        // The same answer for a malformed code and an unknown one.
        return if as_json {
            Ok(Verified::Missing((
                Status::NotFound,
                Json(json!({"error": "not found"})),
            )))
        } else {
            Err(AppError::NotFound)
        };
    };
    let view = public_view(&row, state.clock.today());
    if as_json {
        return Ok(Verified::Json(Json(view)));
    }
    Ok(Verified::Page(page.render(
        "certificates/verify",
        json!({"certificate": view, "title": "Check a certificate"}),
    )))
}

/// `GET /verify`: where a person holding a paper certificate types its
/// code. A code found leads to its page (an address they can keep); one
/// not found shows the form again, saying so.
#[get("/verify?<code>")]
async fn verify_form(
    code: Option<&str>,
    ip: Option<IpAddr>,
    visitor: Visitor<'_>,
) -> AppResult<Result<Redirect, (Status, Template)>> {
    let Visitor(page, db, state) = visitor;
    let typed = code.unwrap_or("").trim();
    let context = json!({"title": "Check a certificate", "code": typed});
    let mut errors = FieldErrors::default();
    if typed.is_empty() {
        if code.is_none() {
            return Ok(Err((Status::Ok, page.render("certificates/verify_form", context))));
        }
        errors.add("code", "Enter the code printed on the certificate");
        return Ok(Err(page.render_errors("certificates/verify_form", &errors, context)));
    }
    match look_up(typed, ip, db, state).await? {
        Some(row) => Ok(Ok(Redirect::to(format!("/verify/{}", row.code)))),
        None => {
            errors.add(
                "code",
                "No certificate has that code. Check it against the certificate: 16 letters and numbers, such as K7QM-3XPA-WT9C-HD2E",
            );
            let (_, template) = page.render_errors("certificates/verify_form", &errors, context);
            Ok(Err((Status::NotFound, template)))
        }
    }
}

/// Who may see a certificate: staff see all; an organisation member only
/// its own organisation's. Anyone else is told it does not exist.
use crate::app::certificates::{self as workflow, visible, NeedsText};

fn staff_view(row: &CertificateRow, state: &AppState) -> Value {
    let mut view = public_view(row, state.clock.today());
    view["id"] = json!(row.id);
    view["organisation_id"] = json!(row.organisation_id);
    view["person_id"] = json!(row.person_id);
    view["verify_url"] = json!(cert::verify_url(&state.config.public_base_url, &row.code));
    view["revoked_reason"] = json!(row.revoked_reason);
    view
}

#[derive(Responder)]
pub enum CertificateFile {
    Pdf(ReportFile),
    Page(Template),
}

/// A file name from the holder's name: letters and digits kept (accents
/// too, as browsers handle UTF-8 names), the rest dashes.
fn file_name(row: &CertificateRow) -> String {
    let name: String = row
        .holder_name
        .chars()
        .map(|c| if c.is_alphanumeric() { c } else { '-' })
        .filter(char::is_ascii)
        .collect();
    format!("certificate-{}-{}.pdf", name.trim_matches('-'), row.code)
}

pub async fn render_pdf(row: &CertificateRow, issuer: &cert::Issuer) -> AppResult<Vec<u8>> {
    let content = row.content(issuer);
    rocket::tokio::task::spawn_blocking(move || crate::domain::certificate_pdf::render(&content))
        .await
        .map_err(|e| AppError::Internal(format!("certificate rendering stopped: {e}")))?
        .map_err(AppError::Internal)
}

/// `GET /certificates/<id>` (HTML, for screen readers and people who
/// prefer it) and `GET /certificates/<id>.pdf` (an attachment).
#[get("/certificates/<name>", rank = 2)]
async fn show(name: &str, signed_in: SignedIn<'_>) -> AppResult<CertificateFile> {
    let SignedIn(user, page, db, state) = signed_in;
    let (id, as_pdf) = match name.strip_suffix(".pdf") {
        Some(id) => (id, true),
        None => (name, false),
    };
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let actor = user.actor();
    let row = visible(db, &actor, id).await?;
    if as_pdf {
        let body = render_pdf(&row, &state.issuer).await?;
        return Ok(CertificateFile::Pdf(attachment(
            body,
            "application/pdf",
            file_name(&row),
        )));
    }
    Ok(CertificateFile::Page(page.render(
        "certificates/show",
        json!({
            "title": format!("Certificate for {}", row.holder_name),
            "certificate": staff_view(&row, state),
            "can_manage": actor.is_programme_lead(),
            "section": "certificates",
        }),
    )))
}

#[derive(Responder)]
pub enum Listing {
    Page(Template),
    Zip(ReportFile),
}

/// `GET /certificates`: the list a user may see, filtered; with
/// `format=zip` the same certificates as one ZIP of PDFs.
#[get("/certificates?<programme>&<organisation>&<session>&<cohort>&<format>&<page>")]
async fn list(
    programme: Option<&str>,
    organisation: Option<i64>,
    session: Option<i64>,
    cohort: Option<i64>,
    format: Option<&str>,
    page: Option<i64>,
    signed_in: SignedIn<'_>,
) -> AppResult<Listing> {
    let SignedIn(user, view, db, state) = signed_in;
    let actor = user.actor();
    let organisation_id = match actor.org_scope() {
        // An organisation sees only its own, whatever it asks for.
        OrgScope::Only(own) => own,
        OrgScope::All => organisation.unwrap_or(0),
    };
    let filter = Filter {
        organisation_id,
        programme_id: programme.unwrap_or(""),
        session_id: session.unwrap_or(0),
        cohort_id: cohort.unwrap_or(0),
        kind: "",
        training_only: false,
    };
    let query = |key: &str, value: String| {
        if value.is_empty() || value == "0" {
            String::new()
        } else {
            format!("&{key}={}", url_encode(&value))
        }
    };
    let filters = format!(
        "{}{}{}{}",
        query("programme", filter.programme_id.to_string()),
        query("organisation", filter.organisation_id.to_string()),
        query("session", filter.session_id.to_string()),
        query("cohort", filter.cohort_id.to_string()),
    );
    if format == Some("zip") {
        // One more than a ZIP may hold tells a list that is too long from
        // one that just fits, without reading (or rendering) all of it.
        let mut rows = certificates::list_part(db, &filter, ZIP_MOST + 1, 0).await?;
        if rows.len() > usize::try_from(ZIP_MOST).unwrap_or(usize::MAX) {
            return Err(AppError::BadRequest(format!(
                "A ZIP holds at most {ZIP_MOST} certificates, and this list has more. \
                 Choose a programme, organisation, session or cohort to narrow it, then download again."
            )));
        }
        rows.shrink_to_fit();
        let issuer = state.issuer.clone();
        let body = rocket::tokio::task::spawn_blocking(move || zip_of(&rows, &issuer))
            .await
            .map_err(|e| AppError::Internal(format!("certificate rendering stopped: {e}")))??;
        return Ok(Listing::Zip(attachment(
            body,
            "application/zip",
            "certificates.zip".into(),
        )));
    }
    let (page, offset) = page_offset(page);
    let mut rows = certificates::list_part(db, &filter, PAGE_SIZE + 1, offset).await?;
    let has_next = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(50);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
    let views: Vec<Value> = rows.iter().map(|r| staff_view(r, state)).collect();
    let pager_href = match filters.strip_prefix('&') {
        Some(chosen) => format!("/certificates?{chosen}&"),
        None => "/certificates?".to_string(),
    };
    let programmes: Vec<Value> = state
        .programmes
        .current()
        .iter()
        .map(|p| json!({"id": p.id, "name": p.name, "selected": filter.programme_id == p.id}))
        .collect();
    Ok(Listing::Page(view.render(
        "certificates/list",
        json!({
            "title": "Certificates",
            "certificates": views,
            "zip_link": format!("/certificates?format=zip{filters}"),
            "zip_most": ZIP_MOST,
            "page": page,
            "has_next": has_next,
            "pager_href": pager_href,
            "programmes": programmes,
            "can_issue": actor.can_manage_training(),
            "section": "certificates",
        }),
    )))
}

/// The most certificates one ZIP holds: a few minutes of a printer's work,
/// rendered in seconds. A longer list is narrowed first, so one click
/// cannot set the server rendering every certificate on record.
pub const ZIP_MOST: i64 = 2_000;

/// Many certificates as one ZIP, rendered on two threads (the machine's
/// cores; more would only contend).
pub fn zip_of(rows: &[CertificateRow], issuer: &cert::Issuer) -> AppResult<Vec<u8>> {
    use std::io::Write;
    let contents: Vec<_> = rows.iter().map(|r| r.content(issuer)).collect();
    let pdfs = crate::domain::certificate_pdf::render_many(&contents, 2);
    let mut writer = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    // PDF streams are already compressed; storing them saves time for nothing lost.
    let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Stored);
    for (row, pdf) in rows.iter().zip(pdfs) {
        let pdf = pdf.map_err(AppError::Internal)?;
        writer
            .start_file(file_name(row), options)
            .map_err(|e| AppError::Internal(e.to_string()))?;
        writer.write_all(&pdf).map_err(|e| AppError::Internal(e.to_string()))?;
    }
    let cursor = writer.finish().map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(cursor.into_inner())
}

/// The "Issue certificates" button: every current completion without a
/// certificate gets one (the same runs after imports and registers).
#[post("/certificates/issue", data = "<_form>")]
async fn issue_missing(_form: CsrfForm<super::csrf::TokenOnly>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    let issued = workflow::issue_missing(state.ctx(db), &user.acting()).await?;
    Ok(Flash::success(
        Redirect::to("/certificates"),
        format!("{issued} certificate{} issued.", if issued == 1 { "" } else { "s" }),
    ))
}

#[post("/certificates/<id>/revoke", data = "<form>")]
async fn revoke(id: i64, form: CsrfForm<ReasonForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    let back = Redirect::to(format!("/certificates/{id}"));
    Ok(
        match workflow::revoke(state.ctx(db), &user.acting(), id, &form.0.reason).await? {
            Ok(()) => Flash::success(back, "The certificate has been revoked."),
            Err(NeedsText(message)) => Flash::error(back, message),
        },
    )
}

#[derive(FromForm)]
pub struct ReissueForm {
    #[field(default = String::new())]
    holder_name: String,
}

#[post("/certificates/<id>/reissue", data = "<form>")]
async fn reissue(id: i64, form: CsrfForm<ReissueForm>, signed_in: SignedIn<'_>) -> AppResult<Flash<Redirect>> {
    let SignedIn(user, _, db, state) = signed_in;
    Ok(
        match workflow::reissue(state.ctx(db), &user.acting(), id, &form.0.holder_name).await? {
            Ok(reissued) => Flash::success(
                Redirect::to(format!("/certificates/{}", reissued.id)),
                format!("Reissued as {}; the old code now points here.", reissued.code),
            ),
            Err(NeedsText(message)) => Flash::error(Redirect::to(format!("/certificates/{id}")), message),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guessing_slows_down_after_a_few_misses() {
        assert!(throttle_delay(0).is_zero());
        assert!(throttle_delay(FREE_MISSES).is_zero());
        assert_eq!(throttle_delay(FREE_MISSES + 1), Duration::from_millis(250));
        assert_eq!(throttle_delay(1000), Duration::from_secs(3));
        assert_ne!(
            verify_throttle_key(IpAddr::from([10, 0, 0, 1])),
            verify_throttle_key(IpAddr::from([10, 0, 0, 2]))
        );
    }
}
