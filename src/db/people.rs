//! People in member organisations.

use super::FetchFully;
use super::Instant;
use super::{db_run, Conn, Pool};
use crate::domain::person::PersonDetails;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct PersonRow {
    pub id: i64,
    pub organisation_id: i64,
    pub full_name: String,
    pub email: String,
    pub job_title: String,
    pub staff_category: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, organisation_id, full_name, email, job_title, staff_category, created_at, updated_at";

/// One page of an organisation's people matching `text` ('' for all), by
/// name, and how many match in all. The organisation's index serves both.
pub async fn for_organisation(
    pool: &Pool,
    organisation_id: i64,
    text: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PersonRow>, i64), sqlx::Error> {
    for_organisation_in(&mut pool.acquire().await?, organisation_id, text, limit, offset).await
}

pub async fn for_organisation_in(
    conn: &mut Conn,
    organisation_id: i64,
    text: &str,
    limit: i64,
    offset: i64,
) -> Result<(Vec<PersonRow>, i64), sqlx::Error> {
    db_run!(conn => {
        const FILTER: &str = "organisation_id = $1
               AND ($2 = '' OR LOWER(full_name) LIKE $3 ESCAPE '\\' OR email LIKE $3 ESCAPE '\\')";
        let text = text.trim();
        let pattern = super::contains_pattern(text);
        let rows = sqlx::query_as(&format!(
            "SELECT {COLUMNS} FROM people WHERE {FILTER} ORDER BY full_name, id LIMIT $4 OFFSET $5"
        ))
        .bind(organisation_id)
        .bind(text)
        .bind(&pattern)
        .bind(limit)
        .bind(offset)
        .fetch_all(&mut *conn)
        .await?;
        let (total,): (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM people WHERE {FILTER}"))
            .bind(organisation_id)
            .bind(text)
            .bind(&pattern)
            .fetch_exactly_one(&mut *conn)
            .await?;
        Ok((rows, total))
    })
}

/// How many people are on the organisation's staff list.
pub async fn count_for_organisation(pool: &Pool, organisation_id: i64) -> Result<i64, sqlx::Error> {
    count_for_organisation_in(&mut pool.acquire().await?, organisation_id).await
}

pub async fn count_for_organisation_in(conn: &mut Conn, organisation_id: i64) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM people WHERE organisation_id = $1";
    super::one_value(conn, sql, &[organisation_id.into()]).await
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<PersonRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM people WHERE id = $1");
    super::first_row(&mut pool.acquire().await?, &sql, &[id.into()]).await
}

pub async fn find_in_organisation(
    conn: &mut Conn,
    organisation_id: i64,
    full_name: &str,
) -> Result<Option<i64>, sqlx::Error> {
    db_run!(conn => {
        let row: Option<(i64,)> = sqlx::query_as("SELECT id FROM people WHERE organisation_id = $1 AND full_name = $2")
            .bind(organisation_id)
            .bind(full_name)
            .fetch_first(conn)
            .await?;
        Ok(row.map(|(id,)| id))
    })
}

/// A person's details and the moment they were written, as `$1` to `$5`:
/// an insert and an update write the same columns.
fn details_binds(person: &PersonDetails, now: DateTime<Utc>) -> Vec<super::Bind<'_>> {
    vec![
        person.full_name.as_str().into(),
        person.email.as_str().into(),
        person.job_title.as_str().into(),
        person.staff_category.as_deref().into(),
        Instant(now).into(),
    ]
}

pub async fn insert(
    conn: &mut Conn,
    organisation_id: i64,
    person: &PersonDetails,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    let sql =
        "INSERT INTO people (full_name, email, job_title, staff_category, updated_at, created_at, organisation_id)
         VALUES ($1, $2, $3, $4, $5, $5, $6) RETURNING id";
    let mut binds = details_binds(person, now);
    binds.push(organisation_id.into());
    super::one_value(conn, sql, &binds).await
}

pub async fn update(conn: &mut Conn, id: i64, person: &PersonDetails, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql =
        "UPDATE people SET full_name = $1, email = $2, job_title = $3, staff_category = $4, updated_at = $5 WHERE id = $6";
    let mut binds = details_binds(person, now);
    binds.push(id.into());
    super::execute(conn, sql, &binds).await?;
    Ok(())
}
