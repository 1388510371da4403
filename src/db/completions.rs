//! Completions kept beside the attendance they come from. Whoever writes
//! attendance calls [`refresh_people`] in the same transaction, so the two
//! never disagree; reports and lists then read these rows through indexes
//! instead of working completion out from every attendance row. The rules
//! themselves are [`crate::domain::completion`]'s: this module only stores
//! their answers.

use super::FetchFully;
use super::{db_run, Backend, Conn, Pool};
use super::{insert_many, Bind};
use crate::domain::completion::{held_spells, person_completions, AttendanceFact, AttendanceStatus, CompletionState};
use crate::domain::programmes::ProgrammeLibrary;
use chrono::NaiveDate;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};

/// One person's standing on one completion they have started.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, sqlx::FromRow)]
pub struct KeptCompletion {
    pub person_id: i64,
    pub programme_id: String,
    pub completion_id: String,
    pub organisation_id: i64,
    pub started_on: NaiveDate,
    /// `None` while not (yet) completed.
    pub completed_on: Option<NaiveDate>,
    pub lapses_on: Option<NaiveDate>,
}

/// A stretch in which a person held a completion; `held_until` `None` while it lasts.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, sqlx::FromRow)]
pub struct KeptSpell {
    pub person_id: i64,
    pub programme_id: String,
    pub completion_id: String,
    pub organisation_id: i64,
    pub held_from: NaiveDate,
    pub held_until: Option<NaiveDate>,
}

/// Ids bound per `IN (…)` list: well under both backends' limits.
const CHUNK: usize = 500;

fn in_list(count: usize) -> String {
    (1..=count).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

/// (person, organisation, programme, module, date, status) of these people's attendance.
type FactRow = (i64, i64, String, String, NaiveDate, String);

async fn facts_of(conn: &mut Conn, person_ids: &[i64]) -> Result<Vec<FactRow>, sqlx::Error> {
    db_run!(conn => {
        let mut rows = Vec::new();
        for chunk in person_ids.chunks(CHUNK) {
            let sql = format!(
                "SELECT a.person_id, p.organisation_id, s.programme_id, s.module_id, s.session_date, a.status
             FROM attendance a
             JOIN training_sessions s ON s.id = a.session_id
             JOIN people p ON p.id = a.person_id
             WHERE a.person_id IN ({})",
                in_list(chunk.len())
            );
            let mut query = sqlx::query_as::<_, FactRow>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            rows.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok(rows)
    })
}

const ALL_FACTS: &str = "SELECT a.person_id, p.organisation_id, s.programme_id, s.module_id, s.session_date, a.status
    FROM attendance a
    JOIN training_sessions s ON s.id = a.session_id
    JOIN people p ON p.id = a.person_id";

/// What the completion rules make of these attendance rows.
pub fn derive(programmes: &ProgrammeLibrary, rows: &[FactRow]) -> (Vec<KeptCompletion>, Vec<KeptSpell>) {
    type Key<'a> = (i64, &'a str);
    let mut grouped: BTreeMap<Key<'_>, (i64, Vec<AttendanceFact>)> = BTreeMap::new();
    for (person, organisation, programme, module, date, status) in rows {
        let Some(status) = AttendanceStatus::parse(status) else {
            continue;
        };
        grouped
            .entry((*person, programme.as_str()))
            .or_insert_with(|| (*organisation, Vec::new()))
            .1
            .push(AttendanceFact {
                module_id: module.clone(),
                date: *date,
                status,
            });
    }
    let mut completions = Vec::new();
    let mut spells = Vec::new();
    for ((person_id, programme_id), (organisation_id, facts)) in grouped {
        // Completion is judged by the current version, as every page does;
        // sessions of a programme no longer shipped count for nothing.
        let Some(programme) = programmes.current_version(programme_id) else {
            continue;
        };
        // Only dates are kept, never the state on a day, so "today" does not matter.
        for held in person_completions(programme, &facts, NaiveDate::MIN) {
            if held.state == CompletionState::NotStarted {
                continue;
            }
            let Some(definition) = programme.completion(&held.completion_id) else {
                continue;
            };
            let started_on = facts
                .iter()
                .filter(|f| f.status.was_present() && definition.modules.contains(&f.module_id))
                .map(|f| f.date)
                .min();
            let Some(started_on) = started_on else {
                continue;
            };
            for spell in held_spells(programme, &held, &facts) {
                spells.push(KeptSpell {
                    person_id,
                    programme_id: programme_id.to_string(),
                    completion_id: held.completion_id.clone(),
                    organisation_id,
                    held_from: spell.from,
                    held_until: spell.until,
                });
            }
            completions.push(KeptCompletion {
                person_id,
                programme_id: programme_id.to_string(),
                completion_id: held.completion_id.clone(),
                organisation_id,
                started_on,
                completed_on: held.completed_on,
                lapses_on: held.lapses_on,
            });
        }
    }
    (completions, spells)
}

/// Works these people's completions out again from their attendance and
/// replaces what was kept for them. Call it inside the transaction that
/// changed their attendance.
pub async fn refresh_people(
    conn: &mut Conn,
    programmes: &ProgrammeLibrary,
    person_ids: &[i64],
) -> Result<(), sqlx::Error> {
    let people: Vec<i64> = person_ids
        .iter()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if people.is_empty() {
        return Ok(());
    }
    // Two registers saved at once on PostgreSQL would both delete (nothing)
    // and then both insert the same people's rows; one at a time, each sees
    // what the other kept. SQLite's writers already take turns.
    let backend = conn.backend();
    db_run!(conn => {
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(4702)")
                .execute(&mut *conn)
                .await?;
        }
        for chunk in people.chunks(CHUNK) {
            for table in ["person_completions", "completion_spells"] {
                let sql = format!("DELETE FROM {table} WHERE person_id IN ({})", in_list(chunk.len()));
                let mut query = sqlx::query(&sql);
                for id in chunk {
                    query = query.bind(*id);
                }
                query.execute(&mut *conn).await?;
            }
        }
    });
    let rows = facts_of(conn, &people).await?;
    let (completions, spells) = derive(programmes, &rows);
    write(conn, &completions, &spells).await
}

async fn write(conn: &mut Conn, completions: &[KeptCompletion], spells: &[KeptSpell]) -> Result<(), sqlx::Error> {
    let rows: Vec<Vec<Bind>> = completions
        .iter()
        .map(|c| {
            vec![
                Bind::Int(c.person_id),
                Bind::Int(c.organisation_id),
                Bind::Text(c.programme_id.as_str().into()),
                Bind::Text(c.completion_id.as_str().into()),
                Bind::Date(c.started_on),
                Bind::MaybeDate(c.completed_on),
                Bind::MaybeDate(c.lapses_on),
            ]
        })
        .collect();
    insert_many(
            conn,
            "person_completions (person_id, organisation_id, programme_id, completion_id, started_on, completed_on, lapses_on)",
            &rows,
        )
        .await?;
    let rows: Vec<Vec<Bind>> = spells
        .iter()
        .map(|s| {
            vec![
                Bind::Int(s.person_id),
                Bind::Int(s.organisation_id),
                Bind::Text(s.programme_id.as_str().into()),
                Bind::Text(s.completion_id.as_str().into()),
                Bind::Date(s.held_from),
                Bind::MaybeDate(s.held_until),
            ]
        })
        .collect();
    insert_many(
        conn,
        "completion_spells (person_id, organisation_id, programme_id, completion_id, held_from, held_until)",
        &rows,
    )
    .await
}

/// Everyone's completions worked out from scratch, without touching what is kept.
pub async fn recompute_all(
    pool: &Pool,
    programmes: &ProgrammeLibrary,
) -> Result<(Vec<KeptCompletion>, Vec<KeptSpell>), sqlx::Error> {
    db_run!(pool => {
        let rows: Vec<FactRow> = sqlx::query_as(ALL_FACTS).fetch_all(pool).await?;
        let (mut completions, mut spells) = derive(programmes, &rows);
        completions.sort();
        spells.sort();
        Ok((completions, spells))
    })
}

/// What is kept, in the same order as [`recompute_all`].
pub async fn kept(pool: &Pool) -> Result<(Vec<KeptCompletion>, Vec<KeptSpell>), sqlx::Error> {
    db_run!(pool => {
        let mut completions: Vec<KeptCompletion> = sqlx::query_as(
            "SELECT person_id, programme_id, completion_id, organisation_id, started_on, completed_on, lapses_on
             FROM person_completions",
        )
        .fetch_all(pool)
        .await?;
        let mut spells: Vec<KeptSpell> = sqlx::query_as(
            "SELECT person_id, programme_id, completion_id, organisation_id, held_from, held_until FROM completion_spells",
        )
        .fetch_all(pool)
        .await?;
        completions.sort();
        spells.sort();
        Ok((completions, spells))
    })
}

/// The programme definitions the kept rows were worked out with: when the
/// files change (a new version, another refresher period), everything is
/// worked out again.
fn fingerprint(programmes: &ProgrammeLibrary) -> String {
    let current: Vec<_> = programmes.current();
    let text = serde_json::to_string(&current).unwrap_or_default();
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

const FINGERPRINT_KEY: &str = "completions";

/// Rebuilds every kept completion if they were worked out under other
/// programme files or never at all (a database from before they were
/// kept). Returns whether it rebuilt.
pub async fn bring_up_to_date(pool: &Pool, programmes: &ProgrammeLibrary) -> Result<bool, sqlx::Error> {
    let wanted = fingerprint(programmes);
    let stored: Option<(String,)> = db_run!(pool => {
        sqlx::query_as("SELECT fingerprint FROM derived_fingerprints WHERE name = $1")
            .bind(FINGERPRINT_KEY)
            .fetch_first(pool)
            .await?
    });
    if stored.as_ref().is_some_and(|(f,)| *f == wanted) {
        return Ok(false);
    }
    rebuild(pool, programmes).await?;
    Ok(true)
}

/// Throws away everything kept and works it all out again, in one transaction.
pub async fn rebuild(pool: &Pool, programmes: &ProgrammeLibrary) -> Result<(), sqlx::Error> {
    let mut tx = super::begin_write(pool).await?;
    let conn: &mut Conn = &mut tx;
    let rows: Vec<FactRow> = db_run!(conn => {
        sqlx::query("DELETE FROM person_completions").execute(&mut *conn).await?;
        sqlx::query("DELETE FROM completion_spells").execute(&mut *conn).await?;
        sqlx::query_as(ALL_FACTS).fetch_all(&mut *conn).await?
    });
    let (completions, spells) = derive(programmes, &rows);
    write(conn, &completions, &spells).await?;
    db_run!(conn => {
        sqlx::query("DELETE FROM derived_fingerprints WHERE name = $1")
            .bind(FINGERPRINT_KEY)
            .execute(&mut *conn)
            .await?;
        sqlx::query("INSERT INTO derived_fingerprints (name, fingerprint) VALUES ($1, $2)")
            .bind(FINGERPRINT_KEY)
            .bind(fingerprint(programmes))
            .execute(&mut *conn)
            .await?;
    });
    tx.commit().await
}
