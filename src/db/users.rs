//! Accounts.

use super::FetchFully;
use crate::domain::access::{Actor, Role};
use crate::domain::user::NewUser;
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, AnyPool, FromRow, Row};

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
    pub created_at: String,
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

impl<'r> FromRow<'r, AnyRow> for UserRow {
    fn from_row(row: &'r AnyRow) -> Result<Self, sqlx::Error> {
        let role: String = row.try_get("role")?;
        Ok(UserRow {
            id: row.try_get("id")?,
            email: row.try_get("email")?,
            name: row.try_get("name")?,
            password_hash: row.try_get("password_hash")?,
            role: Role::parse(&role).ok_or_else(|| sqlx::Error::Decode(format!("unknown role {role}").into()))?,
            organisation_id: super::optional(row, "organisation_id")?,
            organisation_name: super::optional(row, "organisation_name")?,
            active: super::get_bool(row, "active")?,
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

pub async fn count(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_exactly_one(pool)
        .await?;
    Ok(n)
}

pub async fn find_by_email(pool: &AnyPool, email: &str) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE u.email = $1", select_user()))
        .bind(email.trim().to_lowercase())
        .fetch_first(pool)
        .await
}

pub async fn find(pool: &AnyPool, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE u.id = $1", select_user()))
        .bind(id)
        .fetch_first(pool)
        .await
}

pub async fn find_in(conn: &mut AnyConnection, id: i64) -> Result<Option<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} WHERE u.id = $1", select_user()))
        .bind(id)
        .fetch_first(conn)
        .await
}

pub async fn list(pool: &AnyPool) -> Result<Vec<UserRow>, sqlx::Error> {
    sqlx::query_as(&format!("{} ORDER BY u.active DESC, u.name, u.id", select_user()))
        .fetch_all(pool)
        .await
}

pub async fn email_taken(conn: &mut AnyConnection, email: &str) -> Result<bool, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users WHERE email = $1")
        .bind(email)
        .fetch_exactly_one(conn)
        .await?;
    Ok(n > 0)
}

pub async fn insert(
    conn: &mut AnyConnection,
    user: &NewUser,
    password_hash: &str,
    now: &str,
) -> Result<i64, sqlx::Error> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO users (email, name, password_hash, role, organisation_id, active, created_at, updated_at)
         VALUES ($1, $2, $3, $4, NULLIF($5, 0), 1, $6, $6) RETURNING id",
    )
    .bind(&user.email)
    .bind(&user.name)
    .bind(password_hash)
    .bind(user.role.as_str())
    .bind(super::id_or_zero(user.organisation_id))
    .bind(now)
    .fetch_exactly_one(conn)
    .await?;
    Ok(id)
}

pub async fn set_role(
    conn: &mut AnyConnection,
    id: i64,
    role: Role,
    organisation_id: Option<i64>,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET role = $1, organisation_id = NULLIF($2, 0), updated_at = $3 WHERE id = $4")
        .bind(role.as_str())
        .bind(super::id_or_zero(organisation_id))
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_active(conn: &mut AnyConnection, id: i64, active: bool, now: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET active = $1, updated_at = $2 WHERE id = $3")
        .bind(i64::from(active))
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_password(
    conn: &mut AnyConnection,
    id: i64,
    password_hash: &str,
    now: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3")
        .bind(password_hash)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Active programme leads other than `except`: the last one may not be demoted.
pub async fn other_active_leads(conn: &mut AnyConnection, except: i64) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM users WHERE role = 'programme_lead' AND active = 1 AND id <> $1")
            .bind(except)
            .fetch_exactly_one(conn)
            .await?;
    Ok(n)
}

/// The count inside a transaction, for the first-run check.
pub async fn count_in(conn: &mut AnyConnection) -> Result<i64, sqlx::Error> {
    let (n,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users")
        .fetch_exactly_one(conn)
        .await?;
    Ok(n)
}
