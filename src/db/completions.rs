//! Completions kept beside the attendance they come from. Whoever writes
//! attendance calls [`refresh_people`] in the same transaction, so the two
//! never disagree; reports and lists then read these rows through indexes
//! instead of working completion out from every attendance row. The rules
//! themselves are [`crate::domain::completion`]'s: this module only stores
//! their answers.

use super::FetchFully;
use super::{db_run, in_list, Backend, Conn, Pool, Tx};
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

impl KeptCompletion {
    /// The order of the indexes by completion and completion date.
    fn index_order(&self) -> impl Ord + '_ {
        (
            &self.programme_id,
            &self.completion_id,
            self.completed_on,
            self.organisation_id,
            self.person_id,
        )
    }
}

impl KeptSpell {
    /// The order of the indexes by completion and when it was held.
    fn index_order(&self) -> impl Ord + '_ {
        let order = (self.held_from, self.held_until, self.organisation_id, self.person_id);
        (&self.programme_id, &self.completion_id, order)
    }
}

/// Ids bound per `IN (…)` list: well under both backends' limits.
const CHUNK: usize = 500;

/// (person, organisation, programme, module, date, status) of these people's attendance.
pub type FactRow = (i64, i64, String, String, NaiveDate, String);

/// These people's attendance at `programme_ids` (every programme when empty).
async fn facts_of(
    conn: &mut Conn,
    person_ids: &[i64],
    programme_ids: &[&str],
    not_from_import: Option<i64>,
) -> Result<Vec<FactRow>, sqlx::Error> {
    let people = super::training::attendance_by_person(conn, person_ids, programme_ids, not_from_import).await?;
    Ok(people
        .into_iter()
        .flat_map(|(person, organisation, records)| {
            records
                .into_iter()
                .map(move |(programme, module, date, status)| (person, organisation, programme, module, date, status))
        })
        .collect())
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

/// Attendance a transaction wrote, for [`refresh`]: only what it touched is
/// worked out again, so the cost follows the size of the change rather than
/// everything the people involved ever attended.
#[derive(Debug, Default, Clone)]
pub struct Touched {
    /// (person, programme) pairs whose attendance changed: their facts are
    /// read back from the database.
    pub pairs: BTreeSet<(i64, String)>,
    /// Every attendance row of people created in this transaction, as
    /// written: they have nothing else on record, so nothing is read back.
    pub fresh: Vec<FactRow>,
    /// The import that wrote this transaction's rows for people on record,
    /// and those rows as written (new or with a changed status): only their
    /// other rows are read back. On the large data set reading back all of
    /// them took half of the reading for an import of 100,000 rows.
    pub written: Option<(i64, Vec<FactRow>)>,
    /// What [`derive`] made of more such rows, worked out by the caller
    /// (an import does it on another thread while its rows are written).
    pub fresh_derived: (Vec<KeptCompletion>, Vec<KeptSpell>),
}

/// What [`refresh`] changed: completions that are new or differ from what
/// was kept (the ones that may earn a certificate).
pub type Changed = Vec<KeptCompletion>;

/// Works these people's completions out again from their attendance, in
/// every programme, and keeps the answer. Call it inside the transaction
/// that changed their attendance.
pub async fn refresh_people(
    conn: &mut Conn,
    programmes: &ProgrammeLibrary,
    person_ids: &[i64],
) -> Result<Changed, sqlx::Error> {
    let people: BTreeSet<i64> = person_ids.iter().copied().collect();
    refresh_scope(conn, programmes, &people, &[], &|_, _| true, InMemory::default()).await
}

/// [`refresh_people`] for just the (person, programme) pairs a write
/// touched, plus the people it created, from the rows in memory.
pub async fn refresh(conn: &mut Conn, programmes: &ProgrammeLibrary, touched: Touched) -> Result<Changed, sqlx::Error> {
    let people: BTreeSet<i64> = touched.pairs.iter().map(|(person, _)| *person).collect();
    let pairs = &touched.pairs;
    // Only the programmes touched: the people's other attendance is not read.
    let touched_programmes: BTreeSet<&str> = pairs.iter().map(|(_, programme)| programme.as_str()).collect();
    let touched_programmes: Vec<&str> = touched_programmes.into_iter().collect();
    let in_scope = |person: i64, programme: &str| pairs.contains(&(person, programme.to_string()));
    let (written_by, mut rows) = match touched.written {
        Some((import_id, rows)) => (Some(import_id), rows),
        None => (None, Vec::new()),
    };
    rows.extend(touched.fresh);
    let in_memory = InMemory {
        rows,
        derived: touched.fresh_derived,
        written_by,
    };
    refresh_scope(conn, programmes, &people, &touched_programmes, &in_scope, in_memory).await
}

/// What a refresh is given rather than reads.
#[derive(Default)]
struct InMemory {
    /// Attendance rows as written in this transaction.
    rows: Vec<FactRow>,
    /// What [`derive`] made of fresh people's rows already.
    derived: (Vec<KeptCompletion>, Vec<KeptSpell>),
    /// The import whose rows in the database are among `rows`.
    written_by: Option<i64>,
}

type CompletionKey = (i64, String, String);

async fn refresh_scope(
    conn: &mut Conn,
    programmes: &ProgrammeLibrary,
    people: &BTreeSet<i64>,
    programme_ids: &[&str],
    in_scope: &(dyn Fn(i64, &str) -> bool + Sync),
    in_memory: InMemory,
) -> Result<Changed, sqlx::Error> {
    let people: Vec<i64> = people.iter().copied().collect();
    take_turn_for(conn, &people).await?;
    let mut rows = facts_of(conn, &people, programme_ids, in_memory.written_by).await?;
    rows.retain(|(person, _, programme, ..)| in_scope(*person, programme));
    let (kept_completions, kept_spells) = kept_of(conn, &people).await?;
    rows.extend(in_memory.rows);
    // Derived per (person, programme), and fresh people have nothing else:
    // their answers join the others' as they are.
    let (mut completions, mut spells) = derive(programmes, &rows);
    completions.extend(in_memory.derived.0);
    spells.extend(in_memory.derived.1);

    let key = |person: i64, programme: &str, completion: &str| (person, programme.to_string(), completion.to_string());
    let mut before: BTreeMap<CompletionKey, (Option<KeptCompletion>, Vec<KeptSpell>)> = BTreeMap::new();
    for c in kept_completions
        .into_iter()
        .filter(|c| in_scope(c.person_id, &c.programme_id))
    {
        let k = key(c.person_id, &c.programme_id, &c.completion_id);
        before.entry(k).or_default().0 = Some(c);
    }
    for s in kept_spells
        .into_iter()
        .filter(|s| in_scope(s.person_id, &s.programme_id))
    {
        before
            .entry(key(s.person_id, &s.programme_id, &s.completion_id))
            .or_default()
            .1
            .push(s);
    }
    let mut after: BTreeMap<CompletionKey, (Option<KeptCompletion>, Vec<KeptSpell>)> = BTreeMap::new();
    for c in completions {
        let k = key(c.person_id, &c.programme_id, &c.completion_id);
        after.entry(k).or_default().0 = Some(c);
    }
    for s in spells {
        after
            .entry(key(s.person_id, &s.programme_id, &s.completion_id))
            .or_default()
            .1
            .push(s);
    }
    for (_, spells) in before.values_mut().chain(after.values_mut()) {
        spells.sort();
    }

    // Only what differs is rewritten: stale keys are deleted, then the new
    // answer for each is inserted.
    let mut stale: Vec<&CompletionKey> = Vec::new();
    let mut new_completions = Vec::new();
    let mut new_spells = Vec::new();
    let mut changed = Vec::new();
    let empty = (None, Vec::new());
    for key in before.keys().chain(after.keys().filter(|k| !before.contains_key(*k))) {
        let old = before.get(key).unwrap_or(&empty);
        let new = after.get(key).unwrap_or(&empty);
        if old == new {
            continue;
        }
        if before.contains_key(key) {
            stale.push(key);
        }
        if let Some(completion) = &new.0 {
            if old.0.as_ref() != Some(completion) {
                changed.push(completion.clone());
            }
            new_completions.push(completion.clone());
        }
        new_spells.extend(new.1.iter().cloned());
    }
    forget(conn, &stale).await?;
    write(conn, &new_completions, &new_spells).await?;
    Ok(changed)
}

/// Two writers refreshing the same person at once on PostgreSQL would each
/// delete what the other has not yet kept and both insert; they take turns
/// per person (a row lock on the people row, in id order so two writers
/// never wait on each other), and readers, who take no locks, never wait.
/// A full rebuild takes the exclusive side of the shared lock held here.
/// SQLite's writers already take turns.
async fn take_turn_for(conn: &mut Conn, people: &[i64]) -> Result<(), sqlx::Error> {
    if conn.backend() != Backend::Postgres || people.is_empty() {
        return Ok(());
    }
    db_run!(conn => {
        sqlx::query("SELECT pg_advisory_xact_lock_shared(4702)")
            .execute(&mut *conn)
            .await?;
        for chunk in people.chunks(CHUNK) {
            let sql = format!(
                "SELECT id FROM people WHERE id IN ({}) ORDER BY id FOR NO KEY UPDATE",
                in_list(Backend::Postgres, 1, chunk.len())
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            query.execute(&mut *conn).await?;
        }
        Ok(())
    })
}

/// What is kept for these people.
async fn kept_of(conn: &mut Conn, people: &[i64]) -> Result<(Vec<KeptCompletion>, Vec<KeptSpell>), sqlx::Error> {
    let backend = conn.backend();
    db_run!(conn => {
        let mut completions = Vec::new();
        let mut spells = Vec::new();
        for chunk in people.chunks(CHUNK) {
            let sql = format!(
                "SELECT person_id, programme_id, completion_id, organisation_id, started_on, completed_on, lapses_on
                 FROM person_completions WHERE person_id IN ({})",
                in_list(backend, 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, KeptCompletion>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            completions.extend(query.fetch_all(&mut *conn).await?);
            let sql = format!(
                "SELECT person_id, programme_id, completion_id, organisation_id, held_from, held_until
                 FROM completion_spells WHERE person_id IN ({})",
                in_list(backend, 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, KeptSpell>(&sql);
            for id in chunk {
                query = query.bind(*id);
            }
            spells.extend(query.fetch_all(&mut *conn).await?);
        }
        Ok((completions, spells))
    })
}

/// Deletes what is kept for these (person, programme, completion) keys, a
/// statement per completion and few hundred people.
async fn forget(conn: &mut Conn, keys: &[&CompletionKey]) -> Result<(), sqlx::Error> {
    let mut by_completion: BTreeMap<(&str, &str), Vec<i64>> = BTreeMap::new();
    for (person, programme, completion) in keys {
        by_completion
            .entry((programme.as_str(), completion.as_str()))
            .or_default()
            .push(*person);
    }
    let backend = conn.backend();
    let (programme_at, completion_at) = match backend {
        Backend::Sqlite => ("?", "?"),
        Backend::Postgres => ("$1", "$2"),
    };
    db_run!(conn => {
        for ((programme, completion), people) in &by_completion {
            for chunk in people.chunks(CHUNK) {
                for table in ["person_completions", "completion_spells"] {
                    let sql = format!(
                        "DELETE FROM {table} WHERE programme_id = {programme_at} AND completion_id = {completion_at} AND person_id IN ({})",
                        in_list(backend, 3, chunk.len())
                    );
                    let mut query = sqlx::query(&sql).bind(*programme).bind(*completion);
                    for id in chunk {
                        query = query.bind(*id);
                    }
                    query.execute(&mut *conn).await?;
                }
            }
        }
        Ok(())
    })
}

async fn write(conn: &mut Conn, completions: &[KeptCompletion], spells: &[KeptSpell]) -> Result<(), sqlx::Error> {
    // Written in the order of the indexes by completion and date, so that
    // consecutive rows land on the same index pages: in person order each
    // one landed on a page of its own. On the large data set 16,000
    // completions and as many spells took 20 % less time so.
    let mut completions: Vec<&KeptCompletion> = completions.iter().collect();
    completions.sort_unstable_by(|a, b| a.index_order().cmp(&b.index_order()));
    let mut spells: Vec<&KeptSpell> = spells.iter().collect();
    spells.sort_unstable_by(|a, b| a.index_order().cmp(&b.index_order()));
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

/// What working completions out again kept.
/// Someone holding a completion on a given day, as a directory lists them.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Holder {
    pub person_id: i64,
    pub full_name: String,
    pub email: String,
    pub organisation_name: String,
    /// The day the completion lapses unless refreshed (`None`: it does not).
    pub held_until: Option<NaiveDate>,
}

/// One page of the people holding `completion_id` of `programme_id` on
/// `day`, read from the kept spells (never worked out from attendance):
/// those who qualified most recently first, skipping `skip`; up to `take`
/// of them and whether more follow. `organisation_id` keeps to the people
/// now on that organisation's staff.
pub async fn holders_on(
    pool: &Pool,
    programme_id: &str,
    completion_id: &str,
    day: NaiveDate,
    organisation_id: Option<i64>,
    skip: usize,
    take: usize,
) -> Result<(Vec<Holder>, bool), sqlx::Error> {
    const HOLDING: &str = "cs.programme_id = $1 AND cs.completion_id = $2
        AND cs.held_from <= $3 AND (cs.held_until IS NULL OR cs.held_until > $3)";
    // For one organisation, from its staff to each one's spells (CROSS JOIN
    // keeps SQLite to that order, as a few people have few spells); for
    // everyone, down the completion's spells by the day each began, which
    // stops once the page is full.
    let from_where = match organisation_id {
        Some(_) => format!(
            "people p CROSS JOIN completion_spells cs JOIN organisations o ON o.id = p.organisation_id
             WHERE p.organisation_id = $4 AND cs.person_id = p.id AND {HOLDING}"
        ),
        // `$4 = 0` only so that both statements take the same values.
        None => format!(
            "completion_spells cs JOIN people p ON p.id = cs.person_id
             JOIN organisations o ON o.id = p.organisation_id
             WHERE {HOLDING} AND $4 = 0"
        ),
    };
    let sql = format!(
        "SELECT p.id AS person_id, p.full_name, p.email, o.name AS organisation_name, cs.held_until
         FROM {from_where}
         ORDER BY cs.held_from DESC, cs.person_id DESC LIMIT $5 OFFSET $6"
    );
    let wanted = i64::try_from(take.saturating_add(1)).unwrap_or(i64::MAX);
    let values = [
        programme_id.into(),
        completion_id.into(),
        day.into(),
        organisation_id.unwrap_or(0).into(),
        wanted.into(),
        i64::try_from(skip).unwrap_or(i64::MAX).into(),
    ];
    let mut found: Vec<Holder> = super::rows(&mut pool.acquire().await?, &sql, &values).await?;
    let more = found.len() > take;
    found.truncate(take);
    Ok((found, more))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rebuilt {
    /// Kept before, and thrown away.
    pub completions_before: u64,
    pub completions: usize,
    pub spells: usize,
}

/// Whether the kept completions were worked out with these programme files.
pub async fn are_current(pool: &Pool, programmes: &ProgrammeLibrary) -> Result<bool, sqlx::Error> {
    let wanted = fingerprint(programmes);
    let stored: Option<(String,)> = db_run!(pool => {
        sqlx::query_as("SELECT fingerprint FROM derived_fingerprints WHERE name = $1")
            .bind(FINGERPRINT_KEY)
            .fetch_first(pool)
            .await?
    });
    Ok(stored.is_some_and(|(f,)| f == wanted))
}

/// Within a write transaction, throws away everything kept and works it all
/// out again, unless they are already current under these programme files
/// (another process may have done it while this one waited): `None` then.
pub async fn rebuild_if_stale(tx: &mut Tx, programmes: &ProgrammeLibrary) -> Result<Option<Rebuilt>, sqlx::Error> {
    let conn: &mut Conn = tx;
    let backend = conn.backend();
    let wanted = fingerprint(programmes);
    let stored: Option<(String,)> = db_run!(conn => {
        // Waits for refreshes in flight (they hold the shared side).
        if backend == Backend::Postgres {
            sqlx::query("SELECT pg_advisory_xact_lock(4702)").execute(&mut *conn).await?;
        }
        sqlx::query_as("SELECT fingerprint FROM derived_fingerprints WHERE name = $1")
            .bind(FINGERPRINT_KEY)
            .fetch_first(&mut *conn)
            .await?
    });
    if stored.is_some_and(|(f,)| f == wanted) {
        return Ok(None);
    }
    let (completions_before, rows): (u64, Vec<FactRow>) = db_run!(conn => {
        let removed = sqlx::query("DELETE FROM person_completions").execute(&mut *conn).await?;
        sqlx::query("DELETE FROM completion_spells").execute(&mut *conn).await?;
        (removed.rows_affected(), sqlx::query_as(ALL_FACTS).fetch_all(&mut *conn).await?)
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
            .bind(wanted)
            .execute(&mut *conn)
            .await?;
    });
    Ok(Some(Rebuilt {
        completions_before,
        completions: completions.len(),
        spells: spells.len(),
    }))
}
