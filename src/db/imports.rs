//! Attendance imports: their history, committing one in a single
//! transaction, and undoing it.

use super::audit::Actor;
use super::{id_or_zero, insert_many, Bind, FetchFully, Nullable};
use crate::domain::import::matching::{KnownOrganisation, KnownPerson, OrgChoice, PersonChoice, Resolution};
use crate::domain::import::values::normalise;
use crate::domain::import::AttendanceRecord;
use crate::domain::organisation::{OrganisationDetails, OrganisationInput};
use crate::domain::programmes::ProgrammeLibrary;
use serde::Serialize;
use sqlx::{AnyConnection, AnyPool, FromRow};
use std::collections::HashMap;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct ImportRow {
    pub id: i64,
    #[sqlx(try_from = "Nullable<i64>")]
    pub user_id: Option<i64>,
    pub actor_label: String,
    pub file_name: String,
    pub file_sha256: String,
    pub state: String,
    pub options_json: String,
    pub summary_json: String,
    pub message: String,
    pub created_at: String,
    pub committed_at: String,
    pub undone_at: String,
}

const COLUMNS: &str = "id, user_id, actor_label, file_name, file_sha256, state, options_json, summary_json, message,
    created_at, committed_at, undone_at";

pub async fn create(
    conn: &mut AnyConnection,
    actor: &Actor,
    file_name: &str,
    sha256: &str,
    options_json: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO imports (user_id, actor_label, file_name, file_sha256, state, options_json, created_at)
         VALUES (NULLIF($1, 0), $2, $3, $4, 'pending', $5, $6) RETURNING id",
    )
    .bind(id_or_zero(actor.user_id))
    .bind(&actor.label)
    .bind(file_name)
    .bind(sha256)
    .bind(options_json)
    .bind(now)
    .fetch_exactly_one(conn)
    .await?;
    Ok(id)
}

pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<ImportRow>, sqlx::Error> {
    sqlx::query_as(&format!("SELECT {COLUMNS} FROM imports WHERE id = $1"))
        .bind(id)
        .fetch_first(pool)
        .await
}

/// Finished imports (and failures), newest first.
pub async fn history(pool: &AnyPool, limit: i64) -> Result<Vec<ImportRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM imports WHERE state IN ('running', 'committed', 'failed', 'undone') ORDER BY id DESC LIMIT $1"
    ))
    .bind(limit)
    .fetch_all(pool)
    .await
}

/// The committed import of the same file, if there is one.
pub async fn committed_with_hash(pool: &AnyPool, sha256: &str) -> Result<Option<ImportRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM imports WHERE file_sha256 = $1 AND state = 'committed' ORDER BY id DESC LIMIT 1"
    ))
    .bind(sha256)
    .fetch_first(pool)
    .await
}

pub async fn set_state(pool: &AnyPool, id: i64, state: &str, message: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET state = $1, message = $2 WHERE id = $3")
        .bind(state)
        .bind(message)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Imports a stopped process left "running" (its commit transaction was
/// rolled back with the process, so nothing of it was saved): marked failed
/// with `message`. Returns their ids.
pub async fn fail_interrupted(pool: &AnyPool, message: &str) -> Result<Vec<i64>, sqlx::Error> {
    let rows: Vec<(i64,)> =
        sqlx::query_as("UPDATE imports SET state = 'failed', message = $1 WHERE state = 'running' RETURNING id")
            .bind(message)
            .fetch_all(pool)
            .await?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

pub async fn set_options(pool: &AnyPool, id: i64, options_json: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE imports SET options_json = $1 WHERE id = $2 AND state = 'pending'")
        .bind(options_json)
        .bind(id)
        .execute(pool)
        .await?;
    Ok(())
}

/// Everyone on record, for matching. Kept lean: four columns.
pub async fn known_people(pool: &AnyPool) -> Result<Vec<KnownPerson>, sqlx::Error> {
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
}

/// Every organisation with its name and aliases as match keys.
pub async fn known_organisations(pool: &AnyPool) -> Result<Vec<KnownOrganisation>, sqlx::Error> {
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
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct CommitOutcome {
    pub organisations_created: usize,
    pub people_created: usize,
    pub sessions_created: usize,
    pub attendance_created: usize,
    pub attendance_updated: usize,
    pub attendance_unchanged: usize,
}

async fn effect(
    conn: &mut AnyConnection,
    import_id: i64,
    kind: &str,
    entity_id: i64,
    previous: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO import_effects (import_id, kind, entity_id, previous) VALUES ($1, $2, $3, $4)")
        .bind(import_id)
        .bind(kind)
        .bind(entity_id)
        .bind(previous)
        .execute(conn)
        .await?;
    Ok(())
}

/// Attendance rows handed to the database at a time; progress is reported per batch.
const BATCH: usize = 2_000;

/// Writes everything in one transaction: all of it or none of it.
/// `progress(done, total)` is called as attendance rows are written.
pub async fn commit(
    pool: &AnyPool,
    programmes: &ProgrammeLibrary,
    import_id: i64,
    records: &[AttendanceRecord],
    resolution: &Resolution,
    now: &str,
    progress: &(dyn Fn(usize, usize) + Send + Sync),
) -> Result<CommitOutcome, sqlx::Error> {
    let mut outcome = CommitOutcome::default();
    let mut tx = pool.begin().await?;

    // Organisations and people are written many rows a statement (a large
    // sheet can bring thousands), then their ids read back by what was written.
    let existing_orgs: HashMap<String, i64> =
        sqlx::query_as::<_, (String, i64)>("SELECT name_key, id FROM organisations")
            .fetch_all(&mut *tx)
            .await?
            .into_iter()
            .collect();
    let mut new_orgs: HashMap<String, i64> = HashMap::new();
    let mut org_rows = Vec::new();
    let mut org_keys: HashMap<String, String> = HashMap::new();
    for name in &resolution.new_organisations {
        let details = OrganisationDetails::try_from(&OrganisationInput {
            name: name.chars().take(200).collect(),
            org_type: "other".into(),
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
                    Bind::Text(now.into()),
                    Bind::Text(now.into()),
                ]);
            }
            None => {}
        }
    }
    if !org_rows.is_empty() {
        let (before,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM organisations")
            .fetch_exactly_one(&mut *tx)
            .await?;
        insert_many(
            &mut tx,
            "organisations (name, name_key, org_type, import_id, created_at, updated_at)",
            &org_rows,
        )
        .await?;
        let added: Vec<(i64, String)> =
            sqlx::query_as("SELECT id, name_key FROM organisations WHERE id > $1 AND import_id = $2")
                .bind(before)
                .bind(import_id)
                .fetch_all(&mut *tx)
                .await?;
        for (id, key) in added {
            if let Some(normal) = org_keys.get(&key) {
                new_orgs.insert(normal.clone(), id);
                outcome.organisations_created += 1;
            }
        }
    }
    let mut person_ids: HashMap<&str, i64> = HashMap::new();
    let mut person_rows = Vec::new();
    let mut written: HashMap<(i64, String, String), &str> = HashMap::new();
    for (key, choice) in &resolution.people {
        match choice {
            PersonChoice::Existing(id) => {
                person_ids.insert(key.as_str(), *id);
            }
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
                    Bind::Text(now.into()),
                    Bind::Text(now.into()),
                ]);
            }
        }
    }
    if !person_rows.is_empty() {
        let (before,): (i64,) = sqlx::query_as("SELECT COALESCE(MAX(id), 0) FROM people")
            .fetch_exactly_one(&mut *tx)
            .await?;
        insert_many(
            &mut tx,
            "people (import_id, organisation_id, full_name, email, job_title, created_at, updated_at)",
            &person_rows,
        )
        .await?;
        let added: Vec<(i64, i64, String, String)> =
            sqlx::query_as("SELECT id, organisation_id, full_name, email FROM people WHERE id > $1 AND import_id = $2")
                .bind(before)
                .bind(import_id)
                .fetch_all(&mut *tx)
                .await?;
        for (id, organisation_id, full_name, email) in added {
            if let Some(key) = written.get(&(organisation_id, full_name, email)) {
                person_ids.insert(key, id);
                outcome.people_created += 1;
            }
        }
    }
    let mut cohorts: HashMap<(&str, &str), i64> = HashMap::new();
    let mut sessions: HashMap<(&str, &str, chrono::NaiveDate, i64), i64> = HashMap::new();
    for record in records {
        let cohort_id = match &record.cohort {
            None => 0,
            Some(name) => match cohorts.get(&(record.module.programme_id.as_str(), name.as_str())) {
                Some(id) => *id,
                None => {
                    let (id, created) =
                        super::training::find_or_create_cohort(&mut tx, &record.module.programme_id, name, now).await?;
                    if created {
                        effect(&mut tx, import_id, "cohort", id, "").await?;
                    }
                    cohorts.insert((record.module.programme_id.as_str(), name.as_str()), id);
                    id
                }
            },
        };
        let key = (
            record.module.programme_id.as_str(),
            record.module.module_id.as_str(),
            record.date,
            cohort_id,
        );
        if let std::collections::hash_map::Entry::Vacant(slot) = sessions.entry(key) {
            let (id, created) =
                super::training::find_or_create_session(&mut tx, &record.module, record.date, cohort_id, now).await?;
            if created {
                effect(&mut tx, import_id, "session", id, "").await?;
                outcome.sessions_created += 1;
            }
            slot.insert(id);
        }
    }
    let session_ids: Vec<i64> = sessions.values().copied().collect();
    let existing = super::training::attendance_for_sessions(&mut tx, &session_ids).await?;
    let total = records.len();
    let mut pending: Vec<(i64, i64, &'static str)> = Vec::with_capacity(BATCH);
    let mut done = 0;
    for record in records {
        let cohort_id = record
            .cohort
            .as_ref()
            .and_then(|name| cohorts.get(&(record.module.programme_id.as_str(), name.as_str())))
            .copied()
            .unwrap_or(0);
        let session_id = sessions[&(
            record.module.programme_id.as_str(),
            record.module.module_id.as_str(),
            record.date,
            cohort_id,
        )];
        let Some(person_id) = person_ids.get(record.person_key.as_str()).copied() else {
            continue;
        };
        let status = record.status.as_str();
        match existing.get(&(session_id, person_id)) {
            None => pending.push((session_id, person_id, status)),
            Some((_, old_status, _)) if old_status == status => outcome.attendance_unchanged += 1,
            Some((id, old_status, old_import)) => {
                super::training::set_attendance_status(&mut tx, *id, status, import_id, now).await?;
                effect(
                    &mut tx,
                    import_id,
                    "attendance_updated",
                    *id,
                    &format!("{old_status}|{old_import}"),
                )
                .await?;
                outcome.attendance_updated += 1;
            }
        }
        if pending.len() == BATCH {
            outcome.attendance_created +=
                super::training::insert_attendance_batch(&mut tx, &pending, import_id, now).await?;
            pending.clear();
        }
        done += 1;
        if done % BATCH == 0 {
            progress(done, total);
        }
    }
    if !pending.is_empty() {
        outcome.attendance_created +=
            super::training::insert_attendance_batch(&mut tx, &pending, import_id, now).await?;
    }
    progress(total, total);
    let touched: Vec<i64> = person_ids.values().copied().collect();
    super::completions::refresh_people(&mut tx, programmes, &touched).await?;

    let summary = serde_json::to_string(&outcome).unwrap_or_default();
    sqlx::query(
        "UPDATE imports SET state = 'committed', summary_json = $1, committed_at = $2, message = '' WHERE id = $3",
    )
    .bind(summary)
    .bind(now)
    .bind(import_id)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(outcome)
}

/// Puts things back as they were before the import: changed attendance gets
/// its old mark, added attendance goes, and sessions, people, cohorts and
/// organisations the import added go too unless something else now uses them.
pub async fn undo(pool: &AnyPool, programmes: &ProgrammeLibrary, import_id: i64, now: &str) -> Result<(), sqlx::Error> {
    let mut tx = pool.begin().await?;
    let touched: Vec<(i64,)> = sqlx::query_as(
        "SELECT person_id FROM attendance WHERE import_id = $1
         UNION SELECT a.person_id FROM attendance a
            JOIN import_effects e ON e.entity_id = a.id AND e.kind = 'attendance_updated'
            WHERE e.import_id = $1",
    )
    .bind(import_id)
    .fetch_all(&mut *tx)
    .await?;
    let effects: Vec<(String, i64, String)> =
        sqlx::query_as("SELECT kind, entity_id, previous FROM import_effects WHERE import_id = $1 ORDER BY id DESC")
            .bind(import_id)
            .fetch_all(&mut *tx)
            .await?;
    for (kind, id, previous) in effects.iter().filter(|e| e.0 == "attendance_updated") {
        let _ = kind;
        let (status, old_import) = previous.split_once('|').unwrap_or((previous.as_str(), "0"));
        sqlx::query("UPDATE attendance SET status = $1, import_id = $2 WHERE id = $3")
            .bind(status)
            .bind(old_import.parse::<i64>().unwrap_or(0))
            .bind(id)
            .execute(&mut *tx)
            .await?;
    }
    sqlx::query("DELETE FROM attendance WHERE import_id = $1")
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
    let touched: Vec<i64> = touched.into_iter().map(|(id,)| id).collect();
    super::completions::refresh_people(&mut tx, programmes, &touched).await?;
    let added_people: Vec<(i64,)> = sqlx::query_as("SELECT id FROM people WHERE import_id = $1")
        .bind(import_id)
        .fetch_all(&mut *tx)
        .await?;
    let added_orgs: Vec<(i64,)> = sqlx::query_as("SELECT id FROM organisations WHERE import_id = $1")
        .bind(import_id)
        .fetch_all(&mut *tx)
        .await?;
    let added = |kind: &'static str| effects.iter().filter(move |e| e.0 == kind).map(|e| e.1);
    let steps: Vec<(&str, Vec<i64>)> = vec![
        (
            "DELETE FROM training_sessions WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM attendance WHERE session_id = $1)",
            added("session").collect(),
        ),
        (
            "DELETE FROM cohorts WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM training_sessions WHERE cohort_id = $1)",
            added("cohort").collect(),
        ),
        (
            "DELETE FROM people WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM attendance WHERE person_id = $1)",
            added_people.into_iter().map(|(id,)| id).collect(),
        ),
        (
            "DELETE FROM organisations WHERE id = $1
                AND NOT EXISTS (SELECT 1 FROM people WHERE organisation_id = $1)
                AND NOT EXISTS (SELECT 1 FROM users WHERE organisation_id = $1)
                AND NOT EXISTS (SELECT 1 FROM organisation_aliases WHERE organisation_id = $1)",
            added_orgs.into_iter().map(|(id,)| id).collect(),
        ),
    ];
    for (sql, ids) in steps {
        for id in ids {
            // A savepoint each: a record that something newer now refers to simply stays.
            let mut savepoint = sqlx::Connection::begin(&mut *tx).await?;
            match sqlx::query(sql).bind(id).execute(&mut *savepoint).await {
                Ok(_) => savepoint.commit().await?,
                Err(_) => savepoint.rollback().await?,
            }
        }
    }
    sqlx::query("UPDATE imports SET state = 'undone', undone_at = $1 WHERE id = $2")
        .bind(now)
        .bind(import_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
