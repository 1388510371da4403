//! Accounts.

use super::Instant;
use super::{Conn, Pool};
use crate::domain::access::{Actor, Role};
use crate::domain::user::NewUser;
use chrono::{DateTime, Utc};
use sqlx::{FromRow, Row};

#[derive(Debug, Clone, serde::Serialize)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    #[serde(skip)]
    pub password_hash: String,
    pub role: Role,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub active: bool,
    pub created_at: DateTime<Utc>,
}

impl UserRow {
    pub fn actor(&self) -> Actor {
        Actor {
            user_id: self.id,
            role: self.role,
            organisation_id: self.organisation_id,
        }
    }
}

impl<'r, R> FromRow<'r, R> for UserRow
where
    R: Row,
    &'r str: sqlx::ColumnIndex<R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    bool: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    String: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    DateTime<Utc>: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        let role: String = row.try_get("role")?;
        Ok(UserRow {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            role: Role::parse(&role).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role}").into()))?,
            organisation_id: row.try_get("organisation_id")?,
            organisation_name: row.try_get("organisation_name")?,
            active: row.try_get("active")?,
            created_at: row.try_get("created_at")?,
        })
    }
}

/// The columns [`UserRow`] reads, from `users u LEFT JOIN organisations o`;
/// sessions and API tokens select them too, to load the user in one query.
pub const USER_COLUMNS: &str = "u.id, u.email, u.name, u.password_hash, u.role, u.organisation_id,
        o.name AS organisation_name, u.active, u.created_at";

fn select_user() -> String {
    format!("SELECT {USER_COLUMNS} FROM users u LEFT JOIN organisations o ON o.id = u.organisation_id")
}

/// The active user behind an unrevoked credential whose hash is `$1`:
/// `table` (sessions or api_tokens, as `c`) gives `credential_columns`
/// before the user's columns.
pub(crate) fn select_by_credential(table: &str, credential_columns: &str) -> String {
    format!(
        "SELECT {credential_columns}, {USER_COLUMNS}
         FROM {table} c
         JOIN users u ON u.id = c.user_id
         LEFT JOIN organisations o ON o.id = u.organisation_id
         WHERE c.token_hash = $1 AND c.revoked_at IS NULL AND u.active"
    )
}

pub async fn count(pool: &Pool) -> Result<i64, sqlx::Error> {
    count_in(&mut pool.acquire().await?).await
}

pub async fn find_by_email(pool: &Pool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let sql = format!("{} WHERE u.email = $1", select_user());
    super::first_row(&mut pool.acquire().await?, &sql, &[email.trim().to_lowercase().into()]).await
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    find_in(&mut pool.acquire().await?, id).await
}

pub async fn find_in(conn: &mut Conn, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    super::first_row(conn, &format!("{} WHERE u.id = $1", select_user()), &[id.into()]).await
}

/// One page of every account, active ones first, and how many there are.
pub async fn list(pool: &Pool, limit: i64, offset: i64) -> Result<(Vec<UserRow>, i64), sqlx::Error> {
    super::page_and_total(
        pool,
        &format!("{} ORDER BY u.active DESC, u.name, u.id", select_user()),
        "SELECT COUNT(*) FROM users",
        &[],
        limit,
        offset,
    )
    .await
}

/// An organisation's member accounts, active ones first.
pub async fn of_organisation(pool: &Pool, organisation_id: i64) -> Result<Vec<UserRow>, sqlx::Error> {
    of_organisation_in(&mut pool.acquire().await?, organisation_id).await
}

pub async fn of_organisation_in(conn: &mut Conn, organisation_id: i64) -> Result<Vec<UserRow>, sqlx::Error> {
    let sql = format!(
        "{} WHERE u.organisation_id = $1 ORDER BY u.active DESC, u.name, u.id",
        select_user()
    );
    super::rows(conn, &sql, &[organisation_id.into()]).await
}

pub async fn email_taken(conn: &mut Conn, email: &str) -> Result<bool, sqlx::Error> {
    let n: i64 = super::one_value(conn, "SELECT COUNT(*) FROM users WHERE email = $1", &[email.into()]).await?;
    Ok(n > 0)
}

pub async fn insert(
    conn: &mut Conn,
    user: &NewUser,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<i64, sqlx::Error> {
    super::one_value(
        conn,
        "INSERT INTO users (email, name, password_hash, role, organisation_id, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, TRUE, $6, $6) RETURNING id",
        &[
            user.email.as_str().into(),
            user.name.as_str().into(),
            password_hash.into(),
            user.role.as_str().into(),
            user.organisation_id.into(),
            Instant(now).into(),
        ],
    )
    .await
}

pub async fn set_role(
    conn: &mut Conn,
    id: i64,
    role: Role,
    organisation_id: Option<i64>,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET role = $1, organisation_id = $2, updated_at = $3 WHERE id = $4";
    let values = [
        role.as_str().into(),
        organisation_id.into(),
        Instant(now).into(),
        id.into(),
    ];
    super::execute(conn, sql, &values).await?;
    Ok(())
}

pub async fn set_active(conn: &mut Conn, id: i64, active: bool, now: DateTime<Utc>) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET active = $1, updated_at = $2 WHERE id = $3";
    super::execute(conn, sql, &[active.into(), Instant(now).into(), id.into()]).await?;
    Ok(())
}

pub async fn set_password(
    conn: &mut Conn,
    id: i64,
    password_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let sql = "UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3";
    super::execute(conn, sql, &[password_hash.into(), Instant(now).into(), id.into()]).await?;
    Ok(())
}

/// Active programme leads other than `except`: the last one may not be demoted.
pub async fn other_active_leads(conn: &mut Conn, except: i64) -> Result<i64, sqlx::Error> {
    let sql = "SELECT COUNT(*) FROM users WHERE role = 'programme_lead' AND active AND id <> $1";
    super::one_value(conn, sql, &[except.into()]).await
}

/// The count inside a transaction, for the first-run check.
pub async fn count_in(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    super::one_value(conn, "SELECT COUNT(*) FROM users", &[]).await
}
