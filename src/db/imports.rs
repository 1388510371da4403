//! Attendance imports: their history, committing one in a single
//! transaction, and undoing it.

use super::audit::Actor;
use super::completions::Touched;
use super::Instant;
use super::{db_run, in_list, Backend, Conn, Pool};
use super::{insert_many, Bind};
use crate::domain::import::matching::{
    KnownOrganisation, KnownPerson, OrgChoice, PersonChoice, Remembered, Resolution,
};
use crate::domain::import::values::normalise;
use crate::domain::import::AttendanceRecord;
use crate::domain::organisation::{OrganisationDetails, OrganisationInput};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;
use std::collections::HashMap;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ImportRow {
    pub id: i64,
    pub user_id: Option<i64>,
    pub actor_label: String,
    pub file_name: String,
    pub file_sha256: String,
    pub state: String,
    pub options_json: String,
    pub summary_json: String,
    pub message: String,
    pub created_at: DateTime<Utc>,
    pub committed_at: Option<DateTime<Utc>>,
    pub undone_at: Option<DateTime<Utc>>,
}

const COLUMNS: &str = "id, user_id, actor_label, file_name, file_sha256, state, options_json, summary_json, message,
    created_at, committed_at, undone_at";

pub async fn create(
    conn: &mut Conn,
    actor: &Actor,
    file_name: &str,
    sha256: &str,
    options_json: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO imports (user_id, actor_label, file_name, file_sha256, state, options_json, created_at)
         VALUES ($1, $2, $3, $4, 'pending', $5, $6) RETURNING id";
    let values = [
        actor.user_id.into(),
        actor.label.as_str().into(),
        file_name.into(),
        sha256.into(),
        options_json.into(),
        Instant(now).into(),
    ];
    let (id,) = super::one_row(conn, sql, &values).await?;
    Ok(id)
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<ImportRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM imports WHERE id = $1");
    super::first_row(&mut pool.acquire().await?, &sql, &[id.into()]).await
}

/// Finished imports (and failures), newest first.
pub async fn history(pool: &Pool, limit: i64) -> Result<Vec<ImportRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM imports WHERE state IN ('running', 'committed', 'failed', 'undone') ORDER BY id DESC LIMIT $1"
    );
    super::rows(&mut pool.acquire().await?, &sql, &[limit.into()]).await
}

/// The committed import of the same file, if there is one.
pub async fn committed_with_hash(pool: &Pool, sha256: &str) -> Result<Option<ImportRow>, sqlx::Error> {
    let sql = format!(
        "SELECT {COLUMNS} FROM imports WHERE file_sha256 = $1 AND state = 'committed' ORDER BY id DESC LIMIT 1"
    );
    super::first_row(&mut pool.acquire().await?, &sql, &[sha256.into()]).await
}

/// Moves an import from one state to another only if it is still in the
/// first: the compare-and-set that lets exactly one of two simultaneous
/// commits (or undos, or discards) through. Returns whether it moved.
pub async fn change_state(conn: &mut Conn, id: i64, from: &str, to: &str, message: &str) -> Result<bool, sqlx::Error> {
    db_run!(conn => {
        let done = sqlx::query("UPDATE imports SET state = $1, message = $2 WHERE id = $3 AND state = $4")
            .bind(to)
            .bind(message)
            .bind(id)
            .bind(from)
            .execute(conn)
            .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Imports a stopped process left "running" (its commit transaction was
/// rolled back with the process, so nothing of it was saved): marked failed
/// with `message`. Returns their ids.
pub async fn fail_interrupted(pool: &Pool, message: &str) -> Result<Vec<i64>, sqlx::Error> {
    let sql = "UPDATE imports SET state = 'failed', message = $1 WHERE state = 'running' RETURNING id";
    let rows: Vec<(i64,)> = super::rows(&mut pool.acquire().await?, sql, &[message.into()]).await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// Stores new choices for a pending import; false once it has moved on.
pub async fn set_options(pool: &Pool, id: i64, options_json: &str) -> Result<bool, sqlx::Error> {
    let sql = "UPDATE imports SET options_json = $1 WHERE id = $2 AND state = 'pending'";
    Ok(super::execute(&mut pool.acquire().await?, sql, &[options_json.into(), id.into()]).await? == 1)
}

/// Decisions about who is who, remembered from earlier imports, for these sheet keys.
pub async fn remembered_decisions(pool: &Pool, keys: &[&str]) -> Result<HashMap<String, Vec<Remembered>>, sqlx::Error> {
    let backend = pool.backend();
    db_run!(pool => {
        let mut found: HashMap<String, Vec<Remembered>> = HashMap::new();
        // A few hundred keys a query keeps the statement small on both backends.
        for chunk in keys.chunks(500) {
            let sql = format!(
                "SELECT person_key, person_id, same FROM identity_decisions WHERE person_key IN ({})",
                super::in_list(backend, 1, chunk.len())
            );
            let mut query = sqlx::query_as::<_, (String, i64, bool)>(&sql);
            for key in chunk {
                query = query.bind(*key);
            }
            for (key, person_id, same) in query.fetch_all(pool).await? {
                found.entry(key).or_default().push(Remembered {
                    person_id,
                    same,
                });
            }
        }
        Ok(found)
    })
}

/// Keeps the decisions made on an import's preview for the imports after it.
pub async fn remember_decisions(
    conn: &mut Conn,
    import_id: i64,
    decisions: &[(String, i64, bool)],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    db_run!(conn => {
        for (key, person_id, same) in decisions {
            sqlx::query("DELETE FROM identity_decisions WHERE person_key = $1 AND person_id = $2")
                .bind(key)
                .bind(person_id)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                "INSERT INTO identity_decisions (person_key, person_id, same, import_id, decided_at) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(key)
            .bind(person_id)
            .bind(*same)
            .bind(import_id)
            .bind(Instant(now))
            .execute(&mut *conn)
            .await?;
        }
        Ok(())
    })
}

/// Everyone on record, for matching. Kept lean: four columns.
pub async fn known_people(pool: &Pool) -> Result<Vec<KnownPerson>, sqlx::Error> {
    db_run!(pool => {
        let rows: Vec<(i64, String, String, i64)> =
            sqlx::query_as("SELECT id, full_name, email, organisation_id FROM people")
                .fetch_all(pool)
                .await?;
        Ok(rows
            .into_iter()
            .map(|(id, full_name, email, organisation_id)| KnownPerson {
                id,
                full_name,
                email,
                organisation_id,
            })
            .collect())
    })
}

/// The people a sheet could match: those with one of its emails, those at
/// one of its organisations, and those named by remembered decisions. Only
/// these are read, so a preview does not slow down as people on record grow.
pub async fn people_for(
    pool: &Pool,
    emails: &[&str],
    organisation_ids: &[i64],
    person_ids: &[i64],
) -> Result<Vec<KnownPerson>, sqlx::Error> {
    let backend = pool.backend();
    let mut conn = pool.acquire().await?;
    let lookups: [(&str, Vec<Bind>); 3] = [
        ("email", emails.iter().map(|&email| email.into()).collect()),
        (
            "organisation_id",
            organisation_ids.iter().map(|&id| id.into()).collect(),
        ),
        ("id", person_ids.iter().map(|&id| id.into()).collect()),
    ];
    let mut found: HashMap<i64, KnownPerson> = HashMap::new();
    for (column, values) in &lookups {
        // A few hundred values a statement keeps it small on both backends.
        // On SQLite, the index is named: given a few hundred values, sqlx's
        // SQLite read the whole table and tested each row against the list
        // (50 ms a statement on the large data set, 2 s for the emails of a
        // sheet of 20,000 people) instead of looking each value up.
        let index = match (backend, *column) {
            (Backend::Sqlite, "email") => "INDEXED BY people_by_email",
            (Backend::Sqlite, "organisation_id") => "INDEXED BY people_by_organisation",
            (Backend::Sqlite, _) => "NOT INDEXED", // by the table's own key, the id
            (Backend::Postgres, _) => "",
        };
        for chunk in values.chunks(500) {
            let sql = format!(
                "SELECT id, full_name, email, organisation_id FROM people {index} WHERE {column} IN ({})",
                super::in_list(backend, 1, chunk.len())
            );
            let rows: Vec<(i64, String, String, i64)> = super::rows(&mut conn, &sql, chunk).await?;
            for (id, full_name, email, organisation_id) in rows {
                found.entry(id).or_insert(KnownPerson {
                    id,
                    full_name,
                    email,
                    organisation_id,
                });
            }
        }
    }
    let mut people: Vec<KnownPerson> = found.into_values().collect();
    people.sort_by_key(|p| p.id);
    Ok(people)
}

/// Every organisation with its name and aliases as match keys.
pub async fn known_organisations(pool: &Pool) -> Result<Vec<KnownOrganisation>, sqlx::Error> {
    db_run!(pool => {
        let orgs: Vec<(i64, String)> = sqlx::query_as("SELECT id, name FROM organisations")
            .fetch_all(pool)
            .await?;
        let aliases: Vec<(i64, String)> = sqlx::query_as("SELECT organisation_id, alias_key FROM organisation_aliases")
            .fetch_all(pool)
            .await?;
        let mut by_org: HashMap<i64, Vec<String>> = HashMap::new();
        for (org, key) in aliases {
            by_org.entry(org).or_default().push(key);
        }
        Ok(orgs
            .into_iter()
            .map(|(id, name)| {
                let mut keys = vec![normalise(&name)];
                keys.extend(by_org.remove(&id).unwrap_or_default());
                KnownOrganisation { id, name, keys }
            })
            .collect())
    })
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CommitOutcome {
    pub organisations_created: usize,
    pub people_created: usize,
    pub sessions_created: usize,
    pub attendance_created: usize,
    pub attendance_updated: usize,
    pub attendance_unchanged: usize,
    /// People whose staff category the sheet changed (absent from the
    /// summaries of imports committed before it was counted).
    #[serde(default)]
    pub staff_categories_set: usize,
}

async fn effect(conn: &mut Conn, import_id: i64, kind: &str, entity_id: i64) -> Result<(), sqlx::Error> {
    db_run!(conn => {
        sqlx::query("INSERT INTO import_effects (import_id, kind, entity_id) VALUES ($1, $2, $3)")
            .bind(import_id)
            .bind(kind)
            .bind(entity_id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

/// What [`write`] did.
pub struct Written {
    pub outcome: CommitOutcome,
    /// The attendance it wrote, for `completions::refresh`.
    pub touched: Touched,
    /// Sheet people found to be the same as another on the sheet (person
    /// key, the person both became): decisions to remember.
    pub followed: Vec<(String, i64)>,
    /// The people it created: (id, organisation, full name). They have no
    /// certificates yet, so what they earn is known without reading back.
    pub created: Vec<(i64, i64, String)>,
}

/// Handed the attendance of the people an import creates (all they have on
/// record) once it is known and before the attendance rows are written, so
/// the caller can work out their completions while the database writes.
pub type FreshFacts<'f> = &'f mut (dyn FnMut(Vec<super::completions::FactRow>) + Send);

/// Inserts `rows` of import `import_id` into `table (columns)` and reads
/// `returned` back from the rows it added: those above the highest id
/// before, marked with the import.
async fn insert_and_read_back<T: super::Row>(
    conn: &mut Conn,
    table: &str,
    columns: &str,
    rows: &[Vec<Bind<'_>>],
    returned: &str,
    import_id: i64,
) -> Result<Vec<T>, sqlx::Error> {
    let highest = format!("SELECT COALESCE(MAX(id), 0) FROM {table}");
    let (before,): (i64,) = super::one_row(conn, &highest, &[]).await?;
    insert_many(conn, &format!("{table} ({columns})"), rows).await?;
    let added = format!("SELECT {returned} FROM {table} WHERE id > $1 AND import_id = $2");
    super::rows(conn, &added, &[before.into(), import_id.into()]).await
}

/// Attendance rows handed to the database at a time; progress is reported per batch.
const BATCH: usize = 2_000;

/// Writes an import's organisations, people, sessions and attendance on
/// `conn`, which the caller holds in a transaction (all of it or none).
/// `progress(done, total)` is called as attendance rows are written.
pub async fn write(
    conn: &mut Conn,
    import_id: i64,
    records: &[AttendanceRecord],
    resolution: &Resolution,
    now: DateTime<Utc>,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
    on_fresh: FreshFacts<'_>,
) -> Result<Written, sqlx::Error> {
    let mut outcome = CommitOutcome::default();
    let mut touched = Touched::default();

    // Organisations and people are written many rows a statement (a large
    // sheet can bring thousands), then their ids read back by what was written.
    let existing_orgs: HashMap<String, i64> =
        db_run!(conn => { sqlx::query_as::<_, (String, i64)>("SELECT name_key, id FROM organisations")
            .fetch_all(&mut *conn)
            .await? })
        .into_iter()
        .collect();
    let mut new_orgs: HashMap<String, i64> = HashMap::new();
    let mut org_rows = Vec::new();
    let mut org_keys: HashMap<String, String> = HashMap::new();
    for new in &resolution.new_organisations {
        let name = &new.name;
        let details = OrganisationDetails::try_from(&OrganisationInput {
            name: name.chars().take(200).collect(),
            org_type: new.org_type.as_str().into(),
            ..Default::default()
        })
        .map_err(|_| sqlx::Error::Protocol(format!("organisation name “{name}” is not valid")))?;
        let key = details.name_key();
        match existing_orgs.get(&key) {
            Some(id) => {
                new_orgs.insert(normalise(name), *id);
            }
            None if !org_keys.contains_key(&key) => {
                org_keys.insert(key.clone(), normalise(name));
                org_rows.push(vec![
                    Bind::Text(details.name.clone().into()),
                    Bind::Text(key.into()),
                    Bind::Text(details.org_type.as_str().into()),
                    Bind::Int(import_id),
                    Bind::Instant(now),
                    Bind::Instant(now),
                ]);
            }
            None => {}
        }
    }
    if !org_rows.is_empty() {
        let columns = "name, name_key, org_type, import_id, created_at, updated_at";
        let added: Vec<(i64, String)> =
            insert_and_read_back(conn, "organisations", columns, &org_rows, "id, name_key", import_id).await?;
        for (id, key) in added {
            if let Some(normal) = org_keys.get(&key) {
                new_orgs.insert(normal.clone(), id);
                outcome.organisations_created += 1;
            }
        }
    }
    let mut person_ids: HashMap<&str, i64> = HashMap::new();
    // People this import creates (id → organisation): their completions are
    // worked out from the rows written here alone.
    let mut created: HashMap<i64, i64> = HashMap::new();
    let mut created_people = Vec::new();
    let mut person_rows = Vec::new();
    let mut written: HashMap<(i64, String, String), &str> = HashMap::new();
    for (key, choice) in &resolution.people {
        match choice {
            PersonChoice::Existing(id) => {
                person_ids.insert(key.as_str(), *id);
            }
            // Settled below, once the person they follow has an id.
            PersonChoice::SameAs(_) => {}
            PersonChoice::New {
                full_name,
                email,
                job_title,
                organisation,
            } => {
                let organisation_id = match organisation {
                    OrgChoice::Existing(id) => *id,
                    OrgChoice::New(name) => new_orgs.get(&normalise(name)).copied().unwrap_or_default(),
                };
                written.insert((organisation_id, full_name.clone(), email.clone()), key.as_str());
                person_rows.push(vec![
                    Bind::Int(import_id),
                    Bind::Int(organisation_id),
                    Bind::Text(full_name.as_str().into()),
                    Bind::Text(email.as_str().into()),
                    Bind::Text(job_title.as_str().into()),
                    Bind::Instant(now),
                    Bind::Instant(now),
                ]);
            }
        }
    }
    if !person_rows.is_empty() {
        let columns = "import_id, organisation_id, full_name, email, job_title, created_at, updated_at";
        let returned = "id, organisation_id, full_name, email";
        let added: Vec<(i64, i64, String, String)> =
            insert_and_read_back(conn, "people", columns, &person_rows, returned, import_id).await?;
        for (id, organisation_id, full_name, email) in added {
            let person = (organisation_id, full_name, email);
            if let Some(key) = written.get(&person) {
                person_ids.insert(key, id);
                created.insert(id, organisation_id);
                created_people.push((id, organisation_id, person.1));
                outcome.people_created += 1;
            }
        }
    }
    let mut followed = Vec::new();
    for (key, choice) in &resolution.people {
        if let PersonChoice::SameAs(first) = choice {
            if let Some(id) = person_ids.get(first.as_str()).copied() {
                person_ids.insert(key.as_str(), id);
                followed.push((key.clone(), id));
            }
        }
    }
    outcome.staff_categories_set = set_staff_categories(conn, import_id, records, &person_ids).await?;
    let mut cohorts: HashMap<(&str, &str), i64> = HashMap::new();
    let mut sessions: HashMap<(&str, &str, chrono::NaiveDate, Option<i64>), i64> = HashMap::new();
    let mut new_sessions = std::collections::HashSet::new();
    for record in records {
        let cohort_id = match &record.cohort {
            None => None,
            Some(name) => Some(
                match cohorts.get(&(record.module.programme_id.as_str(), name.as_str())) {
                    Some(id) => *id,
                    None => {
                        let (id, created) =
                            super::training::find_or_create_cohort(conn, &record.module.programme_id, name, now)
                                .await?;
                        if created {
                            effect(conn, import_id, "cohort", id).await?;
                        }
                        cohorts.insert((record.module.programme_id.as_str(), name.as_str()), id);
                        id
                    }
                },
            ),
        };
        let key = (
            record.module.programme_id.as_str(),
            record.module.module_id.as_str(),
            record.date,
            cohort_id,
        );
        if let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(key) {
            let (id, created) =
                super::training::find_or_create_session(conn, &record.module, record.date, cohort_id, now).await?;
            if created {
                effect(conn, import_id, "session", id).await?;
                outcome.sessions_created += 1;
                new_sessions.insert(id);
            }
            slot.insert(id);
        }
    }
    let session_ids: Vec<i64> = sessions.values().copied().collect();
    let session_of: HashMap<i64, (&str, &str, chrono::NaiveDate)> = sessions
        .iter()
        .map(|((programme, module, date, _), id)| (*id, (*programme, *module, *date)))
        .collect();
    let existing = super::training::attendance_for_sessions(conn, &session_ids).await?;
    // One mark per person and session: two sheet people found to be one person
    // (a confirmed near match) may both be on a register; the later row wins.
    let mut marks: Vec<(i64, i64, &'static str)> = Vec::with_capacity(records.len());
    let mut position: HashMap<(i64, i64), usize> = HashMap::with_capacity(records.len());
    for record in records {
        let cohort_id = record
            .cohort
            .as_ref()
            .and_then(|name| cohorts.get(&(record.module.programme_id.as_str(), name.as_str())))
            .copied();
        let session_id = sessions[&(
            record.module.programme_id.as_str(),
            record.module.module_id.as_str(),
            record.date,
            cohort_id,
        )];
        let Some(person_id) = person_ids.get(record.person_key.as_str()).copied() else {
            continue;
        };
        let mark = (session_id, person_id, record.status.as_str());
        match position.get(&(session_id, person_id)) {
            Some(&at) => marks[at] = mark,
            None => {
                position.insert((session_id, person_id), marks.len());
                marks.push(mark);
            }
        }
    }
    let total = marks.len();
    // Each record keeps its person's organisation: those created here are
    // known, the others are read once for the whole import rather than once
    // a batch (on the large data set, 20 reads instead of 200).
    let mut organisation_of = super::training::organisations_of(
        conn,
        marks
            .iter()
            .map(|(_, person, _)| *person)
            .filter(|person| !created.contains_key(person)),
    )
    .await?;
    organisation_of.extend(created.iter().map(|(person, organisation)| (*person, *organisation)));
    let mut fresh = Vec::new();
    let mut written = Vec::new();
    for &(session_id, person_id, status) in &marks {
        let (programme, module, date) = &session_of[&session_id];
        let fact = || {
            let organisation_id = organisation_of.get(&person_id).copied().unwrap_or_default();
            let (programme, module) = (programme.to_string(), module.to_string());
            (person_id, organisation_id, programme, module, *date, status.to_string())
        };
        if created.contains_key(&person_id) {
            fresh.push(fact());
        } else if existing
            .get(&(session_id, person_id))
            .is_none_or(|(_, old_status, _)| old_status != status)
        {
            touched.pairs.insert((person_id, programme.to_string()));
            written.push(fact());
        }
    }
    touched.written = Some((import_id, written));
    on_fresh(fresh);
    let mut pending: Vec<(i64, i64, &'static str)> = Vec::with_capacity(BATCH);
    // The records of sessions this import made are all its own: their texts
    // for the reports are made here, and only other sessions' are read back.
    let mut new_session_records = super::session_records::Texts::default();
    let mut sessions_written = std::collections::BTreeSet::new();
    let mut done = 0;
    for (session_id, person_id, status) in marks {
        match existing.get(&(session_id, person_id)) {
            None => {
                pending.push((session_id, person_id, status));
                match organisation_of.get(&person_id) {
                    Some(organisation) if new_sessions.contains(&session_id) => {
                        new_session_records.add(session_id, person_id, *organisation, status)
                    }
                    _ => {
                        sessions_written.insert(session_id);
                    }
                }
            }
            Some((_, old_status, _)) if old_status == status => outcome.attendance_unchanged += 1,
            Some((id, old_status, old_import)) => {
                sessions_written.insert(session_id);
                super::training::set_attendance_status(conn, *id, status, Some(import_id), now).await?;
                db_run!(conn => { sqlx::query(
                    "INSERT INTO import_effects (import_id, kind, entity_id, previous_status, previous_import_id)
                     VALUES ($1, 'attendance_updated', $2, $3, $4)",
                )
                .bind(import_id)
                .bind(*id)
                .bind(old_status.as_str())
                .bind(*old_import)
                .execute(&mut *conn)
                .await?; });
                outcome.attendance_updated += 1;
            }
        }
        if pending.len() == BATCH {
            outcome.attendance_created +=
                super::training::insert_attendance_batch(conn, &pending, Some(import_id), now, &organisation_of)
                    .await?;
            pending.clear();
        }
        done += 1;
        if done % BATCH == 0 {
            progress(done, total);
        }
    }
    if !pending.is_empty() {
        outcome.attendance_created +=
            super::training::insert_attendance_batch(conn, &pending, Some(import_id), now, &organisation_of).await?;
    }
    // A new session whose text could not all be made here is read back whole.
    new_session_records.leave_out(&sessions_written);
    new_session_records.insert(conn).await?;
    super::session_records::refresh(conn, &sessions_written).await?;
    progress(total, total);
    Ok(Written {
        outcome,
        touched,
        followed,
        created: created_people,
    })
}

/// The (person, programme) pairs whose attendance an import wrote or
/// changed: undoing it works their kept completions out again.
pub async fn pairs_touched_by(conn: &mut Conn, import_id: i64) -> Result<Touched, sqlx::Error> {
    db_run!(conn => {
        let rows: Vec<(i64, String)> = sqlx::query_as(
            "SELECT a.person_id, s.programme_id FROM attendance a
            JOIN training_sessions s ON s.id = a.session_id
            WHERE a.import_id = $1
         UNION SELECT a.person_id, s.programme_id FROM attendance a
            JOIN training_sessions s ON s.id = a.session_id
            JOIN import_effects e ON e.entity_id = a.id AND e.kind = 'attendance_updated'
            WHERE e.import_id = $1",
        )
        .bind(import_id)
        .fetch_all(&mut *conn)
        .await?;
        Ok(Touched {
            pairs: rows.into_iter().collect(),
            ..Default::default()
        })
    })
}

/// The last step of a commit, in its transaction: a running import becomes
/// committed. False if it was no longer running (nothing should then be kept).
pub async fn finish_commit(
    conn: &mut Conn,
    import_id: i64,
    outcome: &CommitOutcome,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    db_run!(conn => {
        let summary = serde_json::to_string(outcome).unwrap_or_default();
        let done = sqlx::query(
            "UPDATE imports SET state = 'committed', summary_json = $1, committed_at = $2, message = ''
             WHERE id = $3 AND state = 'running'",
        )
        .bind(summary)
        .bind(Instant(now))
        .bind(import_id)
        .execute(conn)
        .await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Records the training certificates the import earned, so undoing it
/// revokes them.
pub async fn record_certificates(conn: &mut Conn, import_id: i64, ids: &[i64]) -> Result<(), sqlx::Error> {
    let rows: Vec<Vec<super::Bind>> = ids
        .iter()
        .map(|id| {
            vec![
                super::Bind::Int(import_id),
                super::Bind::Text("certificate".into()),
                super::Bind::Int(*id),
            ]
        })
        .collect();
    super::insert_many(conn, "import_effects (import_id, kind, entity_id)", &rows).await
}

/// Puts things back as they were before the import, in a few set-based
/// statements on `conn` (the caller's transaction): changed attendance gets
/// its old mark, people get back the staff category the sheet replaced
/// (where it is still the sheet's), added attendance goes, certificates issued for it are
/// revoked, and sessions, cohorts, people and organisations it added go too
/// unless something else now uses them. Returns how many attendance records
/// went, or None, changing nothing, if the import was not (or no longer)
/// committed.
pub async fn undo(conn: &mut Conn, import_id: i64, now: DateTime<Utc>) -> Result<Option<u64>, sqlx::Error> {
    let claimed = super::execute(
        conn,
        "UPDATE imports SET state = 'undone', undone_at = $1 WHERE id = $2 AND state = 'committed'",
        &[super::Bind::Instant(now), import_id.into()],
    )
    .await?;
    if claimed != 1 {
        return Ok(None);
    }
    let sessions = super::session_records::sessions_of_import(conn, import_id).await?;
    let changed = "SELECT entity_id FROM import_effects WHERE import_id = $1 AND kind = 'attendance_updated'";
    let attendance_steps = [
        format!(
            "UPDATE attendance SET
                status = (SELECT e.previous_status FROM import_effects e
                          WHERE e.import_id = $1 AND e.kind = 'attendance_updated' AND e.entity_id = attendance.id),
                import_id = (SELECT e.previous_import_id FROM import_effects e
                          WHERE e.import_id = $1 AND e.kind = 'attendance_updated' AND e.entity_id = attendance.id)
             WHERE id IN ({changed})"
        ),
        // A category goes back only where it is still the one the import set.
        "UPDATE people SET staff_category = (SELECT e.previous_value FROM import_effects e
                WHERE e.import_id = $1 AND e.kind = 'staff_category' AND e.entity_id = people.id)
             WHERE id IN (SELECT e.entity_id FROM import_effects e WHERE e.import_id = $1 AND e.kind = 'staff_category')
               AND staff_category IS NOT DISTINCT FROM (SELECT e.new_value FROM import_effects e
                WHERE e.import_id = $1 AND e.kind = 'staff_category' AND e.entity_id = people.id)"
            .to_string(),
    ];
    for sql in &attendance_steps {
        super::execute(conn, sql, &[import_id.into()]).await?;
    }
    let removed = super::execute(conn, "DELETE FROM attendance WHERE import_id = $1", &[import_id.into()]).await?;
    // Before the sessions left empty go: their records go with their attendance.
    super::session_records::refresh(conn, &sessions).await?;
    let cleanup_steps = [
        "DELETE FROM training_sessions
          WHERE id IN (SELECT entity_id FROM import_effects WHERE import_id = $1 AND kind = 'session')
            AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.session_id = training_sessions.id)"
            .to_string(),
        "DELETE FROM cohorts
          WHERE id IN (SELECT entity_id FROM import_effects WHERE import_id = $1 AND kind = 'cohort')
            AND NOT EXISTS (SELECT 1 FROM training_sessions s WHERE s.cohort_id = cohorts.id)"
            .to_string(),
        "DELETE FROM people
          WHERE import_id = $1
            AND NOT EXISTS (SELECT 1 FROM attendance a WHERE a.person_id = people.id)
            AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.person_id = people.id)"
            .to_string(),
        format!(
            "DELETE FROM organisations WHERE import_id = $1 AND {}",
            super::organisations::NOTHING_USES_IT
        ),
    ];
    for sql in &cleanup_steps {
        super::execute(conn, sql, &[import_id.into()]).await?;
    }
    super::execute(
        conn,
        "UPDATE certificates SET revoked_at = $1, revoked_reason = 'The import that recorded this training was undone.'
          WHERE revoked_at IS NULL
            AND id IN (SELECT entity_id FROM import_effects WHERE import_id = $2 AND kind = 'certificate')",
        &[super::Bind::Instant(now), import_id.into()],
    )
    .await?;
    Ok(Some(removed))
}

/// A staff category given on the sheet becomes the person's, whether the
/// import added them or they were already recorded; a blank one changes
/// nothing, and where a person's rows give two, the later row's stands.
/// For each person whose category it changes, the import keeps the category
/// before and the one it set, so undoing it puts the old one back. A
/// statement per category and few hundred people, then one that sets them
/// all. Returns how many people's category changed.
async fn set_staff_categories(
    conn: &mut Conn,
    import_id: i64,
    records: &[AttendanceRecord],
    person_ids: &HashMap<&str, i64>,
) -> Result<usize, sqlx::Error> {
    let mut category_of: HashMap<i64, &str> = HashMap::new();
    for record in records {
        if let (Some(category), Some(id)) = (
            record.person.staff_category.as_deref(),
            person_ids.get(record.person_key.as_str()),
        ) {
            category_of.insert(*id, category);
        }
    }
    let mut by_category: std::collections::BTreeMap<&str, Vec<i64>> = Default::default();
    for (id, category) in category_of {
        by_category.entry(category).or_default().push(id);
    }
    let backend = conn.backend();
    // SQLite's list is positional (see `in_list`), so the two values before
    // it must be too.
    let (import_at, category_at) = match backend {
        Backend::Sqlite => ("?", "?"),
        Backend::Postgres => ("$1", "$2"),
    };
    for (category, mut ids) in by_category {
        ids.sort_unstable();
        for chunk in ids.chunks(500) {
            let keep = format!(
                "WITH sheet (import_id, category) AS (SELECT CAST({import_at} AS BIGINT), CAST({category_at} AS TEXT))
                 INSERT INTO import_effects (import_id, kind, entity_id, previous_value, new_value)
                 SELECT sheet.import_id, 'staff_category', p.id, p.staff_category, sheet.category
                 FROM people p CROSS JOIN sheet
                 WHERE p.staff_category IS DISTINCT FROM sheet.category AND p.id IN ({})",
                in_list(backend, 3, chunk.len())
            );
            let mut values: Vec<Bind> = vec![import_id.into(), category.into()];
            values.extend(chunk.iter().map(|id| Bind::from(*id)));
            super::execute(conn, &keep, &values).await?;
        }
    }
    let changed = super::execute(
        conn,
        "UPDATE people SET staff_category = (SELECT e.new_value FROM import_effects e
            WHERE e.import_id = $1 AND e.kind = 'staff_category' AND e.entity_id = people.id)
         WHERE id IN (SELECT e.entity_id FROM import_effects e WHERE e.import_id = $1 AND e.kind = 'staff_category')",
        &[import_id.into()],
    )
    .await?;
    Ok(changed as usize)
}
