//! Training workflows: sessions, registers, cohort grids, adding someone to
//! a register, marking attendance in bulk, and programme sign-ups. Every
//! change to attendance is followed by the certificates it earns, whichever
//! page or command made it.

use super::certificates::{issue_training, Holders};
use super::{Acting, Ctx};
use crate::db::audit::{self, Entry};
use crate::db::Conn;
use crate::db::{self, organisations, training};
use crate::domain::completion::AttendanceStatus;
use crate::domain::import::ModuleRef;
use crate::domain::person::PersonDetails;
use crate::error::{AppError, AppResult};
use chrono::{DateTime, NaiveDate, Utc};
use serde_json::json;
use std::collections::{BTreeSet, HashMap, HashSet};

/// Keeps what is worked out from attendance up to date with the attendance
/// just written (these people's completions, these sessions' records for
/// the reports) and issues the certificates they earned, in the same
/// transaction.
async fn after_attendance(
    tx: &mut Conn,
    ctx: Ctx<'_>,
    acting: &Acting,
    stamp: DateTime<Utc>,
    people: &[i64],
    sessions: &BTreeSet<i64>,
) -> AppResult<()> {
    crate::db::session_records::refresh(tx, sessions).await?;
    crate::db::completions::refresh_people(tx, &ctx.app.programmes, people).await?;
    issue_training(
        tx,
        ctx.db.backend(),
        &ctx.app.programmes,
        stamp,
        &acting.audit,
        Holders::These(people),
        Vec::new(),
    )
    .await?;
    Ok(())
}

/// Why a sign-up was not recorded.
pub enum SignUpRefused {
    AlreadySignedUp(String),
}

/// Records that an organisation signed up to a programme on `date`.
pub async fn sign_up(
    ctx: Ctx<'_>,
    acting: &Acting,
    programme_id: &str,
    organisation_id: i64,
    date: NaiveDate,
) -> AppResult<Result<String, SignUpRefused>> {
    acting.require(|a| a.can_manage_training())?;
    let org = organisations::find(ctx.db, organisation_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    if !training::sign_up(&mut tx, org.id, programme_id, date, now).await? {
        return Ok(Err(SignUpRefused::AlreadySignedUp(org.name)));
    }
    let entry = Entry::organisation("programme.signup", org.id)
        .after(json!({"programme": programme_id, "signed_up_on": date.to_string()}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(Ok(org.name))
}

/// A session as the form gave it, already checked.
pub struct SessionInput<'a> {
    pub module: &'a ModuleRef,
    pub date: NaiveDate,
    /// As entered; `None` when not given.
    pub start_time: Option<&'a str>,
    pub venue: &'a str,
    pub online: bool,
    pub trainer: &'a str,
    /// Places; `None` for no limit.
    pub capacity: Option<u32>,
    /// '' for a session outside any cohort.
    pub cohort: &'a str,
}

pub async fn create_session(ctx: Ctx<'_>, acting: &Acting, input: &SessionInput<'_>) -> AppResult<i64> {
    acting.require(|a| a.can_manage_training())?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let cohort_id = if input.cohort.is_empty() {
        None
    } else {
        Some(
            training::find_or_create_cohort(&mut tx, &input.module.programme_id, input.cohort, now)
                .await?
                .0,
        )
    };
    let new = training::NewSession {
        module: input.module,
        date: input.date,
        start_time: input.start_time,
        venue: input.venue,
        online: input.online,
        trainer: input.trainer,
        capacity: input.capacity,
        cohort_id,
    };
    let id = training::create_session(&mut tx, &new, now).await?;
    let entry = Entry::of("session.create", "training_session", Some(id)).after(
        json!({"programme": input.module.programme_id, "module": input.module.module_id,
            "date": input.date.to_string(), "cohort": input.cohort}),
    );
    audit::record(&mut tx, acting.at(now), entry).await?;
    tx.commit().await?;
    Ok(id)
}

/// Saves a session's register: attendance id → status. Ids not on this
/// session's register are ignored. Returns how many marks changed.
pub async fn save_register(
    ctx: Ctx<'_>,
    acting: &Acting,
    session_id: i64,
    marks: &HashMap<i64, AttendanceStatus>,
) -> AppResult<usize> {
    acting.require(|a| a.can_manage_training())?;
    training::session(ctx.db, session_id).await?.ok_or(AppError::NotFound)?;
    let register = training::register(ctx.db, session_id).await?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let mut changed = 0;
    for row in &register {
        let Some(status) = marks.get(&row.attendance_id).copied() else {
            continue;
        };
        if status.as_str() == row.status {
            continue;
        }
        training::set_attendance_status(&mut tx, row.attendance_id, status.as_str(), None, now).await?;
        let entry = Entry::of("attendance.mark", "attendance", Some(row.attendance_id))
            .within(row.organisation_id)
            .before(json!({"status": row.status}))
            .after(json!({"status": status}));
        audit::record(&mut tx, acting.at(now), entry).await?;
        changed += 1;
    }
    let people: Vec<i64> = register.iter().map(|row| row.person_id).collect();
    after_attendance(&mut tx, ctx, acting, now, &people, &BTreeSet::from([session_id])).await?;
    tx.commit().await?;
    Ok(changed)
}

/// Saves a cohort's grid: (person, session) → status. Cells outside this
/// cohort's grid are ignored. Returns how many marks changed.
pub async fn save_cohort(
    ctx: Ctx<'_>,
    acting: &Acting,
    cohort_id: i64,
    marks: &HashMap<(i64, i64), AttendanceStatus>,
) -> AppResult<usize> {
    acting.require(|a| a.can_manage_training())?;
    training::cohort(ctx.db, cohort_id).await?.ok_or(AppError::NotFound)?;
    let sessions: HashSet<i64> = training::cohort_sessions(ctx.db, cohort_id)
        .await?
        .iter()
        .map(|s| s.id)
        .collect();
    let people: HashSet<i64> = training::cohort_register(ctx.db, cohort_id)
        .await?
        .iter()
        .map(|r| r.person_id)
        .collect();
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let mut changed = 0;
    for (&(person, session), &status) in marks {
        if !people.contains(&person) || !sessions.contains(&session) {
            continue;
        }
        let previous = training::mark(&mut tx, session, person, status.as_str(), now).await?;
        if previous.as_deref() != Some(status.as_str()) {
            changed += 1;
            let mut entry = Entry::of("attendance.mark", "attendance", Some(person))
                .after(json!({"session": session, "status": status}));
            if let Some(p) = previous {
                entry = entry.before(json!({"session": session, "status": p}));
            }
            audit::record(&mut tx, acting.at(now), entry).await?;
        }
    }
    let people: Vec<i64> = people.iter().copied().collect();
    let sessions: BTreeSet<i64> = sessions.into_iter().collect();
    after_attendance(&mut tx, ctx, acting, now, &people, &sessions).await?;
    tx.commit().await?;
    Ok(changed)
}

/// Who is being added to a register: someone on record, or someone new
/// for an organisation.
pub enum Attendee<'a> {
    Known(i64),
    New {
        organisation_id: i64,
        person: &'a PersonDetails,
    },
}

/// Puts a person on a session's register with `status`, adding them to
/// their organisation first if they are new.
pub async fn add_attendee(
    ctx: Ctx<'_>,
    acting: &Acting,
    session_id: i64,
    attendee: Attendee<'_>,
    status: AttendanceStatus,
) -> AppResult<()> {
    acting.require(|a| a.can_manage_training())?;
    training::session(ctx.db, session_id).await?.ok_or(AppError::NotFound)?;
    let now = ctx.now;
    let (person_id, organisation_id) = match attendee {
        Attendee::Known(id) => (id, None),
        Attendee::New { organisation_id, .. } => {
            organisations::find(ctx.db, organisation_id)
                .await?
                .ok_or(AppError::NotFound)?;
            (0, Some(organisation_id))
        }
    };
    let mut tx = db::begin_write(ctx.db).await?;
    let person_id = match attendee {
        Attendee::Known(_) => person_id,
        Attendee::New {
            organisation_id,
            person,
        } => super::organisations::insert_person(&mut tx, now, &acting.audit, organisation_id, person).await?,
    };
    let previous = training::mark(&mut tx, session_id, person_id, status.as_str(), now).await?;
    let mut entry = Entry::of("attendance.mark", "attendance", Some(person_id))
        .within(organisation_id)
        .after(json!({"session": session_id, "status": status}));
    if let Some(p) = previous {
        entry = entry.before(json!({"status": p}));
    }
    audit::record(&mut tx, acting.at(now), entry).await?;
    after_attendance(&mut tx, ctx, acting, now, &[person_id], &BTreeSet::from([session_id])).await?;
    tx.commit().await?;
    Ok(())
}

/// One attendance mark for [`record_attendance`]: the session is found by
/// module, date and cohort, or added.
pub struct Mark<'a> {
    pub module: &'a ModuleRef,
    pub date: NaiveDate,
    /// '' for a session outside any cohort.
    pub cohort: &'a str,
    pub person_id: i64,
    pub status: AttendanceStatus,
}

/// Records many marks at once (the demo's history, a script), finding or
/// adding the sessions and cohorts they name. Returns how many marks changed.
pub async fn record_attendance(ctx: Ctx<'_>, acting: &Acting, marks: &[Mark<'_>]) -> AppResult<usize> {
    acting.require(|a| a.can_manage_training())?;
    let now = ctx.now;
    let mut tx = db::begin_write(ctx.db).await?;
    let mut cohorts: HashMap<(String, String), i64> = HashMap::new();
    let mut sessions = BTreeSet::new();
    let mut changed = 0;
    for mark in marks {
        let cohort_id = if mark.cohort.is_empty() {
            None
        } else {
            let key = (mark.module.programme_id.clone(), mark.cohort.to_string());
            Some(match cohorts.get(&key) {
                Some(id) => *id,
                None => {
                    let (id, _) =
                        training::find_or_create_cohort(&mut tx, &mark.module.programme_id, mark.cohort, now).await?;
                    cohorts.insert(key, id);
                    id
                }
            })
        };
        let (session_id, _) = training::find_or_create_session(&mut tx, mark.module, mark.date, cohort_id, now).await?;
        let previous = training::mark(&mut tx, session_id, mark.person_id, mark.status.as_str(), now).await?;
        if previous.as_deref() != Some(mark.status.as_str()) {
            changed += 1;
            sessions.insert(session_id);
        }
    }
    let entry =
        Entry::of("attendance.record", "attendance", None).after(json!({"marks": marks.len(), "changed": changed}));
    audit::record(&mut tx, acting.at(now), entry).await?;
    let people: Vec<i64> = marks.iter().map(|m| m.person_id).collect();
    after_attendance(&mut tx, ctx, acting, now, &people, &sessions).await?;
    tx.commit().await?;
    Ok(changed)
}
