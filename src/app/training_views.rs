//! The views of training records that pages and the API show: sessions with
//! their module's title, registers, and each person's completions.

use super::AppState;
use crate::db::training::{PersonFactRow, RegisterRow, SessionRow};
use crate::domain::completion::{person_completions, AttendanceFact, AttendanceStatus, PersonCompletion};
use crate::domain::programmes::Programme;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::HashMap;

/// A module's title in its programme's current version (its id if the
/// programme no longer has it).
pub fn module_title(state: &AppState, programme_id: &str, module_id: &str) -> String {
    state
        .programmes
        .current_version(programme_id)
        .and_then(|p| p.modules.iter().find(|m| m.id == module_id))
        .map(|m| m.title.clone())
        .unwrap_or_else(|| module_id.to_string())
}

/// One attendance row as a fact the completion rules read; `None` for a
/// date or status no version of qmtrack writes.
pub fn fact(row: &PersonFactRow) -> Option<AttendanceFact> {
    Some(AttendanceFact {
        module_id: row.module_id.clone(),
        date: row.session_date,
        status: AttendanceStatus::parse(&row.status)?,
    })
}

/// Facts grouped by person, keeping each person's name and organisation.
pub fn by_person(rows: &[PersonFactRow]) -> Vec<(&PersonFactRow, Vec<AttendanceFact>)> {
    let mut order: Vec<i64> = Vec::new();
    let mut grouped: HashMap<i64, (&PersonFactRow, Vec<AttendanceFact>)> = HashMap::new();
    for row in rows {
        let entry = grouped.entry(row.person_id).or_insert_with(|| {
            order.push(row.person_id);
            (row, Vec::new())
        });
        entry.1.extend(fact(row));
    }
    order.into_iter().filter_map(|id| grouped.remove(&id)).collect()
}

/// One person's standing against each of a programme's completions.
#[derive(Debug, Clone, Serialize)]
pub struct PersonCompletions {
    pub person_id: i64,
    pub name: String,
    pub organisation_id: i64,
    pub organisation: String,
    pub completions: Vec<PersonCompletion>,
}

/// Everyone in `rows`, with where they stand in `programme` on `today`.
pub fn completions_by_person(
    programme: &Programme,
    rows: &[PersonFactRow],
    today: NaiveDate,
) -> Vec<PersonCompletions> {
    by_person(rows)
        .into_iter()
        .map(|(person, facts)| PersonCompletions {
            person_id: person.person_id,
            name: person.full_name.clone(),
            organisation_id: person.organisation_id,
            organisation: person.organisation_name.clone(),
            completions: person_completions(programme, &facts, today),
        })
        .collect()
}

/// A training session (with how many attended) and its module's title.
#[derive(Debug, Clone, Serialize)]
pub struct SessionView {
    #[serde(flatten)]
    pub session: SessionRow,
    pub module_title: String,
}

impl SessionView {
    pub fn of(state: &AppState, session: SessionRow) -> Self {
        SessionView {
            module_title: module_title(state, &session.programme_id, &session.module_id),
            session,
        }
    }
}

/// One line of a session's register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterEntry {
    pub attendance_id: i64,
    pub person_id: i64,
    pub full_name: String,
    pub email: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    /// `None` only for a status no version of qmtrack writes.
    pub status: Option<AttendanceStatus>,
}

impl From<RegisterRow> for RegisterEntry {
    fn from(row: RegisterRow) -> Self {
        RegisterEntry {
            status: AttendanceStatus::parse(&row.status),
            attendance_id: row.attendance_id,
            person_id: row.person_id,
            full_name: row.full_name,
            email: row.email,
            organisation_id: row.organisation_id,
            organisation_name: row.organisation_name,
        }
    }
}

/// A session with its register.
#[derive(Debug, Clone, Serialize)]
pub struct SessionWithRegister {
    #[serde(flatten)]
    pub session: SessionView,
    pub attendance: Vec<RegisterEntry>,
}
