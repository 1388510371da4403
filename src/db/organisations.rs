//! Member organisations.

use super::Instant;
use super::{Backend, Conn, Pool};
use crate::domain::access::OrgScope;
use crate::domain::organisation::OrganisationDetails;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

#[derive(Debug, Clone, FromRow, Serialize)]
pub struct OrganisationRow {
    pub id: i64,
    pub name: String,
    pub org_type: String,
    pub locality: String,
    pub address: String,
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: String,
    pub da_lead_name: String,
    pub da_lead_email: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Shared with the status search in [`super::organisation_status`].
pub(crate) const COLUMNS: &str = "id, name, org_type, locality, address, contact_name, contact_email, contact_phone,
    da_lead_name, da_lead_email, created_at, updated_at";

/// One page of a search over the organisations `scope` may see.
pub struct Search<'a> {
    pub scope: OrgScope,
    pub text: &'a str,
    pub org_type: Option<&'a str>,
    pub limit: i64,
    pub offset: i64,
}

/// The search's conditions on `organisations` rows: only those it sets
/// (see [`super::Conditions`]).
///
/// SQLite's LIKE already ignores the case of ASCII letters, and only of
/// those, which is also all its LOWER changes: the same matches without
/// lowering every name and locality first (a search over ten thousand
/// organisations took 5 ms to count, 2 ms this way). PostgreSQL's LIKE
/// heeds case.
pub(crate) fn search_conditions<'a>(backend: Backend, search: &Search<'a>) -> super::Conditions<'a> {
    let mut conditions = super::Conditions::default();
    if let OrgScope::Only(id) = search.scope {
        conditions.add("id = ?", super::Bind::Int(id));
    }
    let text = search.text.trim();
    if !text.is_empty() {
        let test = match backend {
            Backend::Sqlite => "(name LIKE ? ESCAPE '\\' OR locality LIKE ? ESCAPE '\\')",
            Backend::Postgres => "(LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(locality) LIKE ? ESCAPE '\\')",
        };
        conditions.add(test, super::Bind::Text(super::contains_pattern(text).into()));
    }
    if let Some(org_type) = search.org_type.filter(|t| !t.is_empty()) {
        conditions.add("org_type = ?", super::Bind::Text(org_type.into()));
    }
    conditions
}

pub async fn search(pool: &Pool, search: &Search<'_>) -> Result<(Vec<OrganisationRow>, i64), sqlx::Error> {
    page_matching(pool, search, &search_conditions(pool.backend(), search)).await
}

/// The search's page, by name, of the organisations `conditions` match, and
/// how many match in all.
async fn page_matching(
    pool: &Pool,
    search: &Search<'_>,
    conditions: &super::Conditions<'_>,
) -> Result<(Vec<OrganisationRow>, i64), sqlx::Error> {
    let clause = conditions.clause();
    super::page_and_total(
        pool,
        &format!("SELECT {COLUMNS} FROM organisations{clause} ORDER BY name, id"),
        &format!("SELECT COUNT(*) FROM organisations{clause}"),
        &conditions.binds,
        search.limit,
        search.offset,
    )
    .await
}

pub async fn find(pool: &Pool, id: i64) -> Result<Option<OrganisationRow>, sqlx::Error> {
    find_in(&mut pool.acquire().await?, id).await
}

pub async fn find_in(conn: &mut Conn, id: i64) -> Result<Option<OrganisationRow>, sqlx::Error> {
    let sql = format!("SELECT {COLUMNS} FROM organisations WHERE id = $1");
    super::first_row(conn, &sql, &[id.into()]).await
}

/// Id and name of every organisation, for choosing one in a form.
pub async fn names(pool: &Pool) -> Result<Vec<(i64, String)>, sqlx::Error> {
    super::rows(
        &mut pool.acquire().await?,
        "SELECT id, name FROM organisations ORDER BY name, id",
        &[],
    )
    .await
}

pub async fn find_by_name(conn: &mut Conn, name_key: &str) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT id FROM organisations WHERE name_key = $1";
    super::first_value(conn, sql, &[name_key.into()]).await
}

/// The details as $1..$10, in the column order both writes use.
fn details(org: &OrganisationDetails) -> Vec<super::Bind<'_>> {
    vec![
        org.name.as_str().into(),
        org.name_key().into(),
        org.org_type.as_str().into(),
        org.locality.as_str().into(),
        org.address.as_str().into(),
        org.contact_name.as_str().into(),
        org.contact_email.as_str().into(),
        org.contact_phone.as_str().into(),
        org.da_lead_name.as_str().into(),
        org.da_lead_email.as_str().into(),
    ]
}

/// A condition on `organisations` rows that nothing refers to: what undoing
/// an import may remove of the organisations it added.
pub const NOTHING_USES_IT: &str = "NOT EXISTS (SELECT 1 FROM people p WHERE p.organisation_id = organisations.id)
    AND NOT EXISTS (SELECT 1 FROM users u WHERE u.organisation_id = organisations.id)
    AND NOT EXISTS (SELECT 1 FROM organisation_aliases a WHERE a.organisation_id = organisations.id)
    AND NOT EXISTS (SELECT 1 FROM programme_signups s WHERE s.organisation_id = organisations.id)
    AND NOT EXISTS (SELECT 1 FROM assessments s WHERE s.organisation_id = organisations.id)
    AND NOT EXISTS (SELECT 1 FROM evidence e WHERE e.organisation_id = organisations.id)
    AND NOT EXISTS (SELECT 1 FROM certificates c WHERE c.organisation_id = organisations.id)
    AND NOT EXISTS (SELECT 1 FROM published_reports r WHERE r.organisation_id = organisations.id)";

pub async fn insert(conn: &mut Conn, org: &OrganisationDetails, now: DateTime<Utc>) -> Result<i64, sqlx::Error> {
    let mut values = details(org);
    values.push(Instant(now).into());
    super::one_value(
        conn,
        "INSERT INTO organisations (name, name_key, org_type, locality, address, contact_name, contact_email,
             contact_phone, da_lead_name, da_lead_email, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11) RETURNING id",
        &values,
    )
    .await
}

pub async fn update(
    conn: &mut Conn,
    id: i64,
    org: &OrganisationDetails,
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    let mut values = details(org);
    values.extend([Instant(now).into(), id.into()]);
    let sql = "UPDATE organisations SET name = $1, name_key = $2, org_type = $3, locality = $4, address = $5,
             contact_name = $6, contact_email = $7, contact_phone = $8, da_lead_name = $9, da_lead_email = $10,
             updated_at = $11
         WHERE id = $12";
    super::execute(conn, sql, &values).await?;
    Ok(())
}

/// Other names an organisation goes by on sign-in sheets ("Thames View" for
/// "Thames View Surgery"). `alias_key` is the import's normalised form.
pub async fn aliases(pool: &Pool, organisation_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    aliases_in(&mut pool.acquire().await?, organisation_id).await
}

pub async fn aliases_in(conn: &mut Conn, organisation_id: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let sql = "SELECT id, alias FROM organisation_aliases WHERE organisation_id = $1 ORDER BY alias";
    super::rows(conn, sql, &[organisation_id.into()]).await
}

/// The organisation an alias already belongs to, if any.
pub async fn alias_owner(conn: &mut Conn, alias_key: &str) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT organisation_id FROM organisation_aliases WHERE alias_key = $1";
    super::first_value(conn, sql, &[alias_key.into()]).await
}

pub async fn add_alias(
    conn: &mut Conn,
    organisation_id: i64,
    alias: &str,
    alias_key: &str,
) -> Result<i64, sqlx::Error> {
    let sql = "INSERT INTO organisation_aliases (organisation_id, alias, alias_key) VALUES ($1, $2, $3) RETURNING id";
    super::one_value(conn, sql, &[organisation_id.into(), alias.into(), alias_key.into()]).await
}

pub async fn remove_alias(conn: &mut Conn, organisation_id: i64, alias_id: i64) -> Result<bool, sqlx::Error> {
    let sql = "DELETE FROM organisation_aliases WHERE id = $1 AND organisation_id = $2";
    Ok(super::execute(conn, sql, &[alias_id.into(), organisation_id.into()]).await? > 0)
}
