//! Training sessions, cohorts and attendance.

use super::FetchFully;
use super::Instant;
use super::{db_run, Backend, Conn, Pool};
use crate::domain::import::ModuleRef;
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::FromRow;
use std::collections::HashMap;

/// The cohort of a programme with this name, if there is one.
pub async fn find_cohort(pool: &Pool, programme_id: &str, name: &str) -> Result<Option<i64>, sqlx::Error> {
    cohort_named(&mut pool.acquire().await?, programme_id, name).await
}

async fn cohort_named(conn: &mut Conn, programme_id: &str, name: &str) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT id FROM cohorts WHERE programme_id = $1 AND name = $2";
    let found: Option<(i64,)> = super::first_row(conn, sql, &[programme_id.into(), name.into()]).await?;
    Ok(found.map(|(id,)| id))
}

pub async fn find_or_create_cohort(
    conn: &mut Conn,
    programme_id: &str,
    name: &str,
    now: DateTime<Utc>,
) -> Result<(i64, bool), sqlx::Error> {
    if let Some(id) = cohort_named(conn, programme_id, name).await? {
        return Ok((id, false));
    }
    let sql = "INSERT INTO cohorts (programme_id, name, created_at) VALUES ($1, $2, $3) RETURNING id";
    let id = super::one_value(conn, sql, &[programme_id.into(), name.into(), Instant(now).into()]).await?;
    Ok((id, true))
}

pub async fn find_or_create_session(
    conn: &mut Conn,
    module: &ModuleRef,
    date: chrono::NaiveDate,
    cohort_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(i64, bool), sqlx::Error> {
    db_run!(conn => {
        let found: Option<(i64,)> = sqlx::query_as(
            // As the unique index reads it, "no cohort" being one value.
            "SELECT id FROM training_sessions
             WHERE programme_id = $1 AND module_id = $2 AND session_date = $3 AND COALESCE(cohort_id, 0) = COALESCE($4, 0)",
        )
        .bind(&module.programme_id)
        .bind(&module.module_id)
        .bind(date)
        .bind(cohort_id)
        .fetch_first(&mut *conn)
        .await?;
        if let Some((id,)) = found {
            return Ok((id, false));
        }
        let (id,): (i64,) = sqlx::query_as(
            "INSERT INTO training_sessions (programme_id, programme_version, module_id, session_date, cohort_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(&module.programme_id)
        .bind(&module.programme_version)
        .bind(&module.module_id)
        .bind(date)
        .bind(cohort_id)
        .bind(Instant(now))
        .fetch_exactly_one(conn)
        .await?;
        Ok((id, true))
    })
}

/// (session, person) → (attendance id, status, import id) for these sessions.
pub async fn attendance_for_sessions(
    conn: &mut Conn,
    session_ids: &[i64],
) -> Result<HashMap<(i64, i64), (i64, String, Option<i64>)>, sqlx::Error> {
    db_run!(conn => {
        let mut found = HashMap::new();
        for chunk in session_ids.chunks(500) {
            let placeholders: Vec<String> = (1..=chunk.len()).map(|i| format!("${i}")).collect();
            let sql = format!(
                "SELECT id, session_id, person_id, status, import_id FROM attendance WHERE session_id IN ({})",
                placeholders.join(", ")
            );
            let mut query = sqlx::query_as::<_, (i64, i64, i64, String, Option<i64>)>(&sql);
            for id in chunk {
                query = query.bind(id);
            }
            for (id, session, person, status, import) in query.fetch_all(&mut *conn).await? {
                found.insert((session, person), (id, status, import));
            }
        }
        Ok(found)
    })
}

/// Inserts attendance rows; returns how many. Each keeps its person's
/// organisation (see migration 0038), looked up here for the batch at once.
pub async fn insert_attendance_batch(
    conn: &mut Conn,
    rows: &[(i64, i64, &str)],
    import_id: Option<i64>,
    now: DateTime<Utc>,
    known: &std::collections::HashMap<i64, i64>,
) -> Result<usize, sqlx::Error> {
    use super::Bind;
    // Each record keeps its person's organisation. `known` gives those the
    // caller already has (an import, the people it created); the rest are
    // read. On the large data set reading them all took an import of
    // 100,000 rows 4 s, a third of its time.
    let mut organisations = organisations_of(
        conn,
        rows.iter()
            .map(|(_, person, _)| *person)
            .filter(|p| !known.contains_key(p)),
    )
    .await?;
    organisations.extend(
        rows.iter()
            .filter_map(|(_, person, _)| known.get(person).map(|o| (*person, *o))),
    );
    let values: Vec<Vec<Bind>> = rows
        .iter()
        .map(|(session, person, status)| {
            vec![
                Bind::Int(*session),
                Bind::Int(*person),
                Bind::Text((*status).into()),
                Bind::MaybeInt(import_id),
                Bind::Instant(now),
                Bind::MaybeInt(organisations.get(person).copied()),
            ]
        })
        .collect();
    super::insert_many(
        conn,
        "attendance (session_id, person_id, status, import_id, recorded_at, organisation_id)",
        &values,
    )
    .await?;
    Ok(rows.len())
}

/// How many people one look-up of their organisations names.
const PEOPLE_A_LOOKUP: usize = 500;

/// The organisation of each of `people`, by person.
pub(super) async fn organisations_of(
    conn: &mut Conn,
    people: impl Iterator<Item = i64>,
) -> Result<std::collections::HashMap<i64, i64>, sqlx::Error> {
    let people: std::collections::BTreeSet<i64> = people.collect();
    let people: Vec<super::Bind> = people.into_iter().map(super::Bind::Int).collect();
    let mut found = std::collections::HashMap::with_capacity(people.len());
    let backend = conn.backend();
    for chunk in people.chunks(PEOPLE_A_LOOKUP) {
        let listed = super::in_list(backend, 1, chunk.len());
        let sql = format!("SELECT id, organisation_id FROM people WHERE id IN ({listed})");
        let rows: Vec<(i64, i64)> = super::rows(conn, &sql, chunk).await?;
        found.extend(rows);
    }
    Ok(found)
}

pub async fn set_attendance_status(
    conn: &mut Conn,
    id: i64,
    status: &str,
    import_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    db_run!(conn => {
        sqlx::query("UPDATE attendance SET status = $1, import_id = $2, recorded_at = $3 WHERE id = $4")
            .bind(status)
            .bind(import_id)
            .bind(Instant(now))
            .bind(id)
            .execute(conn)
            .await?;
        Ok(())
    })
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct SessionRow {
    pub id: i64,
    pub programme_id: String,
    pub programme_version: String,
    pub module_id: String,
    pub session_date: NaiveDate,
    /// As entered; `None` when no time was given.
    pub start_time: Option<String>,
    pub venue: String,
    pub online: bool,
    pub trainer: String,
    /// Places; `None` when there is no limit (the database keeps it above 0).
    pub capacity: Option<i64>,
    /// `None` for a session outside any cohort.
    pub cohort_id: Option<i64>,
    pub cohort_name: String,
    pub attended: i64,
    /// Everyone on the register, whatever their mark: `attended` and
    /// `not_attended` added up by [`SessionRow::counted`].
    #[sqlx(skip)]
    pub marked: i64,
    #[serde(skip)]
    pub not_attended: i64,
}

impl SessionRow {
    /// The row with `marked` worked out. The statement counts the people
    /// who attended and those who did not, each a range of
    /// `attendance_by_session_status`, rather than everyone again for
    /// `marked`: a list of 20 sessions of 380 people read 7,600 index
    /// entries instead of 15,200 (a programme's page spent a third of its
    /// time counting).
    fn counted(mut self) -> Self {
        self.marked = self.attended + self.not_attended;
        self
    }
}

const SESSION_SELECT: &str =
    "SELECT s.id, s.programme_id, s.programme_version, s.module_id, s.session_date, s.start_time,
        s.venue, s.online, s.trainer, s.capacity, s.cohort_id, COALESCE(c.name, '') AS cohort_name,
        (SELECT COUNT(*) FROM attendance a WHERE a.session_id = s.id AND a.status = 'attended') AS attended,
        (SELECT COUNT(*) FROM attendance a
         WHERE a.session_id = s.id AND a.status IN ('partial', 'absent', 'cancelled')) AS not_attended
    FROM training_sessions s LEFT JOIN cohorts c ON c.id = s.cohort_id";

/// Sessions, newest first; `programme_id` empty for all.
pub async fn sessions(
    pool: &Pool,
    programme_id: &str,
    limit: i64,
    offset: i64,
) -> Result<Vec<SessionRow>, sqlx::Error> {
    // A programme's sessions come from its own index, newest first; tested
    // as "this programme or any", they were found by walking every
    // programme's sessions by date.
    let mut conditions = super::Conditions::default();
    if !programme_id.is_empty() {
        conditions.add("s.programme_id = ?", programme_id.into());
    }
    let (limit_at, offset_at) = (conditions.binds.len() + 1, conditions.binds.len() + 2);
    let sql = format!(
        "{SESSION_SELECT}{} ORDER BY s.session_date DESC, s.id DESC LIMIT ${limit_at} OFFSET ${offset_at}",
        conditions.clause()
    );
    let mut values = conditions.binds;
    values.extend([limit.into(), offset.into()]);
    let rows: Vec<SessionRow> = super::rows(&mut pool.acquire().await?, &sql, &values).await?;
    Ok(rows.into_iter().map(SessionRow::counted).collect())
}

pub async fn session(pool: &Pool, id: i64) -> Result<Option<SessionRow>, sqlx::Error> {
    let sql = format!("{SESSION_SELECT} WHERE s.id = $1");
    let row: Option<SessionRow> = super::first_row(&mut pool.acquire().await?, &sql, &[id.into()]).await?;
    Ok(row.map(SessionRow::counted))
}

pub async fn cohort_sessions(pool: &Pool, cohort_id: i64) -> Result<Vec<SessionRow>, sqlx::Error> {
    let sql = format!("{SESSION_SELECT} WHERE s.cohort_id = $1 ORDER BY s.session_date, s.id");
    let rows: Vec<SessionRow> = super::rows(&mut pool.acquire().await?, &sql, &[cohort_id.into()]).await?;
    Ok(rows.into_iter().map(SessionRow::counted).collect())
}

pub struct NewSession<'a> {
    pub module: &'a ModuleRef,
    pub date: chrono::NaiveDate,
    pub start_time: Option<&'a str>,
    pub venue: &'a str,
    pub online: bool,
    pub trainer: &'a str,
    pub capacity: Option<u32>,
    pub cohort_id: Option<i64>,
}

pub async fn create_session(conn: &mut Conn, session: &NewSession<'_>, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO training_sessions (programme_id, programme_version, module_id, session_date, start_time, venue,
             online, trainer, capacity, cohort_id, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
        &[
            session.module.programme_id.as_str().into(),
            session.module.programme_version.as_str().into(),
            session.module.module_id.as_str().into(),
            session.date.into(),
            session.start_time.into(),
            session.venue.into(),
            session.online.into(),
            session.trainer.into(),
            session.capacity.map(i64::from).into(),
            session.cohort_id.into(),
            Instant(now).into(),
        ],
    )
    .await
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct RegisterRow {
    pub attendance_id: i64,
    pub session_id: i64,
    pub person_id: i64,
    pub full_name: String,
    pub email: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub status: String,
}

const REGISTER_SELECT: &str = "SELECT a.id AS attendance_id, a.session_id, a.person_id, p.full_name, p.email,
        p.organisation_id, o.name AS organisation_name, a.status
    FROM attendance a JOIN people p ON p.id = a.person_id JOIN organisations o ON o.id = p.organisation_id";

pub async fn register(pool: &Pool, session_id: i64) -> Result<Vec<RegisterRow>, sqlx::Error> {
    let sql = format!("{REGISTER_SELECT} WHERE a.session_id = $1 ORDER BY p.full_name, p.id");
    super::rows(&mut pool.acquire().await?, &sql, &[session_id.into()]).await
}

pub async fn cohort_register(pool: &Pool, cohort_id: i64) -> Result<Vec<RegisterRow>, sqlx::Error> {
    let sql = format!(
        "{REGISTER_SELECT} JOIN training_sessions s ON s.id = a.session_id WHERE s.cohort_id = $1 ORDER BY p.full_name, p.id"
    );
    super::rows(&mut pool.acquire().await?, &sql, &[cohort_id.into()]).await
}

/// Marks one person on one session's register, adding them if need be.
/// Returns the previous status, if there was one.
pub async fn mark(
    conn: &mut Conn,
    session_id: i64,
    person_id: i64,
    status: &str,
    now: DateTime<Utc>,
) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT id, status FROM attendance WHERE session_id = $1 AND person_id = $2";
    let found: Option<(i64, String)> = super::first_row(conn, sql, &[session_id.into(), person_id.into()]).await?;
    match found {
        Some((_, old)) if old == status => Ok(Some(old)),
        Some((id, old)) => {
            set_attendance_status(conn, id, status, None, now).await?;
            Ok(Some(old))
        }
        None => {
            insert_attendance_batch(conn, &[(session_id, person_id, status)], None, now, &Default::default()).await?;
            Ok(None)
        }
    }
}

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct CohortRow {
    pub id: i64,
    pub programme_id: String,
    pub name: String,
    pub people: i64,
    pub sessions: i64,
}

/// A programme's newest `limit` cohorts ('' for every programme's), in name order.
pub async fn cohorts(pool: &Pool, programme_id: &str, limit: i64) -> Result<Vec<CohortRow>, sqlx::Error> {
    let sql = "SELECT c.id, c.programme_id, c.name,
            (SELECT COUNT(DISTINCT a.person_id) FROM attendance a JOIN training_sessions s ON s.id = a.session_id WHERE s.cohort_id = c.id) AS people,
            (SELECT COUNT(*) FROM training_sessions s WHERE s.cohort_id = c.id) AS sessions
         FROM cohorts c
         WHERE c.id IN (SELECT id FROM cohorts WHERE ($1 = '' OR programme_id = $1) ORDER BY id DESC LIMIT $2)
         ORDER BY c.programme_id, c.name";
    super::rows(&mut pool.acquire().await?, sql, &[programme_id.into(), limit.into()]).await
}

/// For each programme with sessions from `from` to `to`: how many, and the
/// date of the latest. Reads only that period's sessions.
pub async fn programme_activity(
    pool: &Pool,
    from: NaiveDate,
    to: NaiveDate,
) -> Result<Vec<(String, i64, NaiveDate)>, sqlx::Error> {
    let sql = "SELECT programme_id, COUNT(*), MAX(session_date) FROM training_sessions
         WHERE session_date >= $1 AND session_date <= $2 GROUP BY programme_id";
    super::rows(&mut pool.acquire().await?, sql, &[from.into(), to.into()]).await
}

pub async fn cohort(pool: &Pool, id: i64) -> Result<Option<CohortRow>, sqlx::Error> {
    let sql = "SELECT c.id, c.programme_id, c.name, CAST(0 AS BIGINT) AS people, CAST(0 AS BIGINT) AS sessions
         FROM cohorts c WHERE c.id = $1";
    super::first_row(&mut pool.acquire().await?, sql, &[id.into()]).await
}

/// Attendance with who it belongs to, for completion views.
#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PersonFactRow {
    pub person_id: i64,
    pub full_name: String,
    pub email: String,
    pub organisation_id: i64,
    pub organisation_name: String,
    pub programme_id: String,
    pub module_id: String,
    pub session_date: NaiveDate,
    pub status: String,
}

const FACT_SELECT: &str = "SELECT a.person_id, p.full_name, p.email, p.organisation_id, o.name AS organisation_name,
                s.programme_id, s.module_id, s.session_date, a.status
         FROM attendance a
         JOIN training_sessions s ON s.id = a.session_id
         JOIN people p ON p.id = a.person_id
         JOIN organisations o ON o.id = p.organisation_id";

/// The attendance of one organisation's staff (`programme_id` '' for every
/// programme). Starts from the organisation's people, so it reads only their rows.
pub async fn organisation_facts(
    pool: &Pool,
    programme_id: &str,
    organisation_id: i64,
) -> Result<Vec<PersonFactRow>, sqlx::Error> {
    organisation_facts_in(&mut pool.acquire().await?, programme_id, organisation_id).await
}

pub async fn organisation_facts_in(
    conn: &mut Conn,
    programme_id: &str,
    organisation_id: i64,
) -> Result<Vec<PersonFactRow>, sqlx::Error> {
    let sql = format!(
        "{FACT_SELECT} WHERE p.organisation_id = $1 AND ($2 = '' OR s.programme_id = $2)
         ORDER BY p.full_name, p.id, s.session_date"
    );
    super::rows(conn, &sql, &[organisation_id.into(), programme_id.into()]).await
}

/// One attendance record as [`attendance_by_person`] reads it: programme,
/// module, session date and status.
pub type JoinedRecord = (String, String, NaiveDate, String);

/// These people's attendance (at `programme_ids`, or at every programme when
/// it is empty), by person with their organisation, in no set order,
/// leaving out the rows `not_from_import` last wrote. The people's own index
/// finds their rows.
///
/// Read as one row a person, their records joined into one text: as a row
/// each, the driver's copying of each value cost more than SQLite spent
/// finding them (most of a programme page's time under load, and 0.6 s of
/// an import's refreshing of completions for 10,000 people on record).
pub async fn attendance_by_person(
    conn: &mut Conn,
    person_ids: &[i64],
    programme_ids: &[&str],
    not_from_import: Option<i64>,
) -> Result<Vec<(i64, i64, Vec<JoinedRecord>)>, sqlx::Error> {
    const FIELD: char = '\u{1f}';
    const RECORD: char = '\u{1e}';
    const PEOPLE_A_STATEMENT: usize = 500;
    let joined = conn.backend().join_texts();
    let (field, record, date) = match conn.backend() {
        Backend::Sqlite => ("char(31)", "char(30)", "s.session_date"),
        Backend::Postgres => ("chr(31)", "chr(30)", "CAST(s.session_date AS TEXT)"),
    };
    let listed = |first: usize, count: usize| {
        (first..first + count)
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut people = Vec::new();
    for chunk in person_ids.chunks(PEOPLE_A_STATEMENT) {
        let mut values: Vec<super::Bind> = chunk.iter().map(|id| super::Bind::Int(*id)).collect();
        values.extend(programme_ids.iter().map(|p| super::Bind::from(*p)));
        let at_programmes = match programme_ids.len() {
            0 => String::new(),
            n => format!("AND s.programme_id IN ({})", listed(chunk.len() + 1, n)),
        };
        let left_out = match not_from_import {
            None => String::new(),
            Some(import_id) => {
                values.push(super::Bind::Int(import_id));
                format!(
                    "AND (a.import_id IS NULL OR a.import_id <> ${})",
                    chunk.len() + programme_ids.len() + 1
                )
            }
        };
        let sql = format!(
            "SELECT a.person_id, p.organisation_id,
                    {joined}(s.programme_id || {field} || s.module_id || {field} || {date} || {field} || a.status, {record})
             FROM attendance a JOIN training_sessions s ON s.id = a.session_id JOIN people p ON p.id = a.person_id
             WHERE a.person_id IN ({}) {at_programmes} {left_out}
             GROUP BY a.person_id, p.organisation_id",
            listed(1, chunk.len())
        );
        let rows: Vec<(i64, i64, String)> = super::rows(conn, &sql, &values).await?;
        people.extend(rows.into_iter().map(|(person_id, organisation_id, joined)| {
            let records = joined
                .split(RECORD)
                .filter_map(|one| {
                    let mut fields = one.split(FIELD);
                    let (programme_id, module_id) = (fields.next()?, fields.next()?);
                    let (date, status) = (fields.next()?, fields.next()?);
                    Some((
                        programme_id.to_string(),
                        module_id.to_string(),
                        NaiveDate::parse_from_str(date, "%Y-%m-%d").ok()?,
                        status.to_string(),
                    ))
                })
                .collect();
            (person_id, organisation_id, records)
        }));
    }
    Ok(people)
}

/// People a page of [`programme_attendees_after`] holds.
pub const ATTENDEES_A_PAGE: usize = 50;

/// The next [`ATTENDEES_A_PAGE`] people who attended the programme (only
/// `organisation_id`'s staff, or everyone's for 0) whose ids come after
/// `after`, in id order, with their attendance at it; and the id to ask
/// after for the next page, if there is one. Each page reads only as far
/// as it needs, whatever the programme's history: everyone's walks the
/// attendance by person from `after` (CROSS JOIN keeps SQLite to that
/// order), an organisation's walks its people.
pub async fn programme_attendees_after(
    pool: &Pool,
    programme_id: &str,
    organisation_id: i64,
    after: i64,
) -> Result<(Vec<PersonFactRow>, Option<i64>), sqlx::Error> {
    let wanted = i64::try_from(ATTENDEES_A_PAGE + 1).unwrap_or(i64::MAX);
    let mut conn = pool.acquire().await?;
    let ids: Vec<(i64,)> = if organisation_id == 0 {
        super::rows(
            &mut conn,
            "SELECT a.person_id FROM attendance a CROSS JOIN training_sessions s
             WHERE s.id = a.session_id AND s.programme_id = $1 AND a.person_id > $2
             GROUP BY a.person_id ORDER BY a.person_id LIMIT $3",
            &[programme_id.into(), after.into(), wanted.into()],
        )
        .await?
    } else {
        super::rows(
            &mut conn,
            "SELECT p.id FROM people p
             WHERE p.organisation_id = $1 AND p.id > $2
               AND EXISTS (SELECT 1 FROM attendance a JOIN training_sessions s ON s.id = a.session_id
                           WHERE a.person_id = p.id AND s.programme_id = $3)
             ORDER BY p.id LIMIT $4",
            &[organisation_id.into(), after.into(), programme_id.into(), wanted.into()],
        )
        .await?
    };
    let mut ids: Vec<i64> = ids.into_iter().map(|(id,)| id).collect();
    let more = ids.len() > ATTENDEES_A_PAGE;
    ids.truncate(ATTENDEES_A_PAGE);
    let next = if more { ids.last().copied() } else { None };
    Ok((facts_for_people(&mut conn, programme_id, &ids).await?, next))
}

/// The attendance of these people (at one programme, or '' for all), by
/// person and date, with who they are (read in a second statement).
async fn facts_for_people(
    conn: &mut Conn,
    programme_id: &str,
    person_ids: &[i64],
) -> Result<Vec<PersonFactRow>, sqlx::Error> {
    let programmes: &[&str] = match programme_id {
        "" => &[],
        one => &[one],
    };
    let mut records: HashMap<i64, Vec<JoinedRecord>> = attendance_by_person(conn, person_ids, programmes, None)
        .await?
        .into_iter()
        .map(|(person_id, _, records)| (person_id, records))
        .collect();
    let mut people: Vec<(i64, String, String, i64, String)> = Vec::new();
    for chunk in person_ids.chunks(200) {
        let values: Vec<super::Bind> = chunk.iter().map(|id| super::Bind::Int(*id)).collect();
        let people_sql = format!(
            "SELECT p.id, p.full_name, p.email, p.organisation_id, o.name
             FROM people p JOIN organisations o ON o.id = p.organisation_id
             WHERE p.id IN ({})",
            (1..=chunk.len())
                .map(|i| format!("${i}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        people.extend(super::rows::<(i64, String, String, i64, String)>(conn, &people_sql, &values).await?);
    }
    people.sort_by_key(|person| person.0);
    let mut facts = Vec::new();
    for (person_id, full_name, email, organisation_id, organisation_name) in people {
        let Some(records) = records.remove(&person_id) else {
            continue;
        };
        let mut theirs: Vec<PersonFactRow> = records
            .into_iter()
            .map(|(programme_id, module_id, session_date, status)| PersonFactRow {
                person_id,
                full_name: full_name.clone(),
                email: email.clone(),
                organisation_id,
                organisation_name: organisation_name.clone(),
                programme_id,
                module_id,
                session_date,
                status,
            })
            .collect();
        theirs.sort_by_key(|fact| fact.session_date);
        facts.extend(theirs);
    }
    Ok(facts)
}

/// Sessions read at a time while walking a programme's history backwards:
/// a few at first, since one well-attended session can fill a page (the
/// large set's awareness sessions have about 380 people each, and reading
/// 100 sessions for the first page read 38,000 attendances on every view),
/// then twice as many each time up to the most.
const FIRST_WALK_BATCH: i64 = 4;
const MOST_WALK_BATCH: i64 = 100;

/// One page of the people who have attended a programme, those who came
/// most recently first: skips `skip` people and returns up to `take`, and
/// whether more follow. It walks the programme's sessions newest first
/// (by index) and stops as soon as the page is full, so what it reads
/// depends on how far into the list the page is, not on how much history
/// the programme has.
async fn programme_people_page(
    conn: &mut Conn,
    programme_id: &str,
    skip: usize,
    take: usize,
) -> Result<(Vec<i64>, bool), sqlx::Error> {
    db_run!(conn => {
        let wanted = skip + take + 1;
        let mut found: Vec<i64> = Vec::new();
        let mut seen = std::collections::HashSet::new();
        // After every session: the first page starts from the newest.
        let mut cursor = (NaiveDate::from_ymd_opt(9999, 12, 31).unwrap_or(NaiveDate::MAX), i64::MAX);
        let mut batch = FIRST_WALK_BATCH;
        let mut walked: i64 = 0;
        loop {
            // A batch of sessions, newest first, and in the same statement
            // the first `wanted` people who attended them, each by the
            // newest of those sessions they came to and then by id. Each
            // row also names the batch's last session and how many
            // sessions it had; a batch nobody attended gives one row with
            // no person. SQLite reads the batch's attendance by session
            // (CROSS JOIN keeps that order; joined plainly it walked the
            // whole attendance table by person, and joined with the
            // materialised `s` it indexed the whole table first: hence the
            // batch written out twice), and sends only a page of
            // people rather than every attendance of the batch (some 1,500
            // rows, one thread switch each, for the first page of a
            // well-attended programme).
            let rows: Vec<(i64, NaiveDate, i64, Option<i64>)> = sqlx::query_as(
                "WITH s AS (SELECT id, session_date, ROW_NUMBER() OVER (ORDER BY session_date DESC, id DESC) AS rk
                            FROM training_sessions
                            WHERE programme_id = $1 AND session_date <= $2
                              AND (session_date < $2 OR (session_date = $2 AND id < $3))
                            ORDER BY session_date DESC, id DESC LIMIT $4),
                      batch AS (SELECT id, session_date, rk FROM s ORDER BY rk DESC LIMIT 1)
                 SELECT batch.id, batch.session_date, batch.rk, p.person_id
                 FROM batch LEFT JOIN
                   (SELECT a.person_id, MIN(s.rk) AS first
                    FROM (SELECT id, ROW_NUMBER() OVER (ORDER BY session_date DESC, id DESC) AS rk
                          FROM training_sessions
                          WHERE programme_id = $1 AND session_date <= $2
                            AND (session_date < $2 OR (session_date = $2 AND id < $3))
                          ORDER BY session_date DESC, id DESC LIMIT $4) s
                    CROSS JOIN attendance a
                    WHERE a.session_id = s.id
                    GROUP BY a.person_id ORDER BY first, a.person_id LIMIT $5) p ON TRUE
                 ORDER BY p.first, p.person_id",
            )
            .bind(programme_id)
            .bind(cursor.0)
            .bind(cursor.1)
            .bind(batch)
            // People found in earlier batches may come again and are passed over.
            .bind(i64::try_from(wanted).unwrap_or(i64::MAX))
            .fetch_all(&mut *conn)
            .await?;
            let Some(&(last_id, last_date, sessions, _)) = rows.first() else {
                break;
            };
            cursor = (last_date, last_id);
            for (_, _, _, person) in rows {
                if let Some(person) = person {
                    if seen.insert(person) {
                        found.push(person);
                    }
                }
            }
            walked += sessions;
            if found.len() >= wanted || sessions < batch {
                break;
            }
            // Enough sessions for the people still wanted at the rate found
            // so far, and at least twice the last batch: a programme of
            // small sessions (IRIS has about ten people a session) needs a
            // few statements for a page deep in the list, not one per doubling.
            let rate = i64::try_from(found.len()).unwrap_or(i64::MAX).max(1);
            let still = i64::try_from(wanted - found.len()).unwrap_or(i64::MAX);
            let enough = still.saturating_mul(walked) / rate + 1;
            batch = enough.max(batch * 2).min(MOST_WALK_BATCH);
        }
        let more = found.len() > skip + take;
        Ok((found.into_iter().skip(skip).take(take).collect(), more))
    })
}

/// A page of a programme's people ([`programme_people_page`]: their ids, in
/// order, and whether more follow) with every attendance of theirs at it
/// ([`facts_for_people`]), read on one connection. The second read needs
/// the first's people, and on a busy server each wait for a connection's
/// turn took as long as a page's reads themselves: one wait, not one for
/// each statement.
pub async fn programme_people_with_facts(
    pool: &Pool,
    programme_id: &str,
    skip: usize,
    take: usize,
) -> Result<(Vec<i64>, bool, Vec<PersonFactRow>), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let (ids, more) = programme_people_page(&mut conn, programme_id, skip, take).await?;
    let facts = facts_for_people(&mut conn, programme_id, &ids).await?;
    Ok((ids, more, facts))
}

pub async fn person_facts(pool: &Pool, person_id: i64) -> Result<Vec<PersonFactRow>, sqlx::Error> {
    let sql = format!("{FACT_SELECT} WHERE a.person_id = $1 ORDER BY s.session_date");
    super::rows(&mut pool.acquire().await?, &sql, &[person_id.into()]).await
}

/// Organisations signed up to a programme: (organisation id, name, signed up on).
pub async fn signups(pool: &Pool, programme_id: &str) -> Result<Vec<(i64, String, NaiveDate)>, sqlx::Error> {
    db_run!(pool => {
        sqlx::query_as(
            "SELECT s.organisation_id, o.name, s.signed_up_on FROM programme_signups s
             JOIN organisations o ON o.id = s.organisation_id WHERE s.programme_id = $1 ORDER BY o.name",
        )
        .bind(programme_id)
        .fetch_all(pool)
        .await
    })
}

/// Records a sign-up; false if the organisation was already signed up.
pub async fn sign_up(
    conn: &mut Conn,
    organisation_id: i64,
    programme_id: &str,
    on: NaiveDate,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    db_run!(conn => {
        let existing: Option<(i64,)> =
            sqlx::query_as("SELECT id FROM programme_signups WHERE organisation_id = $1 AND programme_id = $2")
                .bind(organisation_id)
                .bind(programme_id)
                .fetch_first(&mut *conn)
                .await?;
        if existing.is_some() {
            return Ok(false);
        }
        sqlx::query("INSERT INTO programme_signups (organisation_id, programme_id, signed_up_on, created_at) VALUES ($1, $2, $3, $4)")
            .bind(organisation_id)
            .bind(programme_id)
            .bind(on)
            .bind(Instant(now))
            .execute(conn)
            .await?;
        Ok(true)
    })
}
