//! Certificates in the API: each with its code and its state today, scoped
//! as the web list is (organisation members see only their own).

use super::params::Optional;
use super::ApiUser;
use crate::db::certificates::{self, CertificateRow, Filter};
use crate::db::Db;
use crate::domain::access::OrgScope;
use crate::domain::certificate::{Kind, State as CertificateState};
use crate::error::AppResult;
use crate::web::AppState;
use chrono::NaiveDate;
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
    programme_id: String,
    issued_on: String,
    expires_on: Option<String>,
    revoked_at: Option<String>,
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

#[derive(Serialize)]
pub struct Certificates {
    certificates: Vec<Certificate>,
}

#[get("/certificates?<programme>&<organisation>")]
pub async fn list(
    user: ApiUser,
    db: &Db,
    state: &State<AppState>,
    programme: Optional<String>,
    organisation: Optional<i64>,
) -> AppResult<Json<Certificates>> {
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
    let rows = certificates::list(db, &filter).await?;
    Ok(Json(Certificates {
        certificates: rows.into_iter().map(|row| Certificate::of(row, today)).collect(),
    }))
}
