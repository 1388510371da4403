//! Certificates in the API: each with its code and its state today, scoped
//! as the web list is (organisation members see only their own).

use super::params::{Optional, Page};
use super::ApiUser;
use crate::db::certificates::{self, CertificateRow, Filter};
use crate::db::Db;
use crate::domain::access::OrgScope;
use crate::domain::certificate::{Kind, State as CertificateState};
use crate::error::AppResult;
use crate::web::{AppState, PAGE_SIZE};
use chrono::{DateTime, NaiveDate, Utc};
use rocket::serde::json::Json;
use rocket::{get, State};
use serde::Serialize;

/// A certificate and what a verifier would be told about it today.
#[derive(Serialize)]
pub struct Certificate {
    id: i64,
    code: String,
    kind: Kind,
    state: &'static str,
    holder_name: String,
    title: String,
    organisation_id: i64,
    person_id: Option<i64>,
    /// `None` for an award certificate.
    programme_id: Option<String>,
    issued_on: NaiveDate,
    expires_on: Option<NaiveDate>,
    revoked_at: Option<DateTime<Utc>>,
    superseded_by: Option<String>,
}

impl Certificate {
    fn of(row: CertificateRow, today: NaiveDate) -> Self {
        let state_now = row.state(today);
        let state = state_now.as_str();
        let superseded_by = match state_now {
            CertificateState::Superseded { by } => Some(by),
            _ => None,
        };
        Certificate {
            id: row.id,
            code: row.code,
            kind: row.kind,
            state,
            holder_name: row.holder_name,
            title: row.title,
            organisation_id: row.organisation_id,
            person_id: row.person_id,
            programme_id: row.programme_id,
            issued_on: row.issued_on,
            expires_on: row.expires_on,
            revoked_at: row.revoked_at,
            superseded_by,
        }
    }
}

/// A page of certificates, in name order. `has_next` says whether the next
/// page has any: counting hundreds of thousands on every request is not
/// worth what a client gains from the total.
#[derive(Serialize)]
pub struct Certificates {
    certificates: Vec<Certificate>,
    page: i64,
    page_size: i64,
    has_next: bool,
}

#[get("/certificates?<programme>&<organisation>&<page>")]
pub async fn list(
    user: ApiUser,
    db: &Db,
    state: &State<AppState>,
    programme: Optional<String>,
    organisation: Optional<i64>,
    page: Optional<Page>,
) -> AppResult<Json<Certificates>> {
    let (page, offset) = Page::number_and_offset(page.0);
    let organisation_id = match user.actor().org_scope() {
        OrgScope::Only(own) => own,
        OrgScope::All => organisation.0.unwrap_or(0),
    };
    let filter = Filter {
        organisation_id,
        programme_id: programme.0.as_deref().unwrap_or(""),
        ..Filter::default()
    };
    let today = state.clock.today();
    let mut rows = certificates::list_part(db, &filter, PAGE_SIZE + 1, offset).await?;
    let has_next = rows.len() > usize::try_from(PAGE_SIZE).unwrap_or(50);
    rows.truncate(usize::try_from(PAGE_SIZE).unwrap_or(50));
    Ok(Json(Certificates {
        certificates: rows.into_iter().map(|row| Certificate::of(row, today)).collect(),
        page,
        page_size: PAGE_SIZE,
        has_next,
    }))
}
