//! The audit log: every change, who made it and when, with before and after.

use super::{db_run, Conn, Instant, Pool};
use chrono::{DateTime, Utc};

/// Who did something: a signed-in user, or the command line.
#[derive(Debug, Clone)]
pub struct Actor {
    pub user_id: Option<i64>,
    pub label: String,
}

impl Actor {
    pub fn user(user_id: i64, email: &str) -> Self {
        Self {
            user_id: Some(user_id),
            label: email.to_string(),
        }
    }

    pub fn command_line(command: &str) -> Self {
        Self {
            user_id: None,
            label: format!("command line ({command})"),
        }
    }

    /// This actor making a change at `at`.
    pub fn at(&self, at: DateTime<Utc>) -> Stamp<'_> {
        Stamp { actor: self, at }
    }
}

/// Who makes a change and when: the part of an entry that every entry a
/// workflow writes shares, so it is said once (`acting.at(now)`).
#[derive(Debug, Clone, Copy)]
pub struct Stamp<'a> {
    pub actor: &'a Actor,
    pub at: DateTime<Utc>,
}

pub struct Entry<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub entity_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub before: Option<serde_json::Value>,
    pub after: Option<serde_json::Value>,
}

impl<'a> Entry<'a> {
    /// `action` on one `entity` (its id, if it has one yet); the rest is added as known.
    pub fn of(action: &'a str, entity: &'a str, entity_id: Option<i64>) -> Self {
        Entry {
            action,
            entity,
            entity_id,
            organisation_id: None,
            before: None,
            after: None,
        }
    }

    /// `action` on an organisation, which is also the organisation it concerns.
    pub fn organisation(action: &'a str, organisation_id: i64) -> Self {
        Self::of(action, "organisation", Some(organisation_id)).within(organisation_id)
    }

    /// `action` on an assessment of `organisation_id`.
    pub fn assessment(action: &'a str, assessment_id: i64, organisation_id: i64) -> Self {
        Self::of(action, "assessment", Some(assessment_id)).within(organisation_id)
    }

    /// `action` on a user account, shown in the log of the organisation it
    /// belongs to (none for the programme team).
    pub fn user(action: &'a str, user_id: i64, organisation_id: Option<i64>) -> Self {
        Self::of(action, "user", Some(user_id)).within(organisation_id)
    }

    /// The organisation the change concerns, if any, so its own log shows it.
    pub fn within(self, organisation_id: impl Into<Option<i64>>) -> Self {
        Entry {
            organisation_id: organisation_id.into(),
            ..self
        }
    }

    pub fn before(self, before: serde_json::Value) -> Self {
        Entry {
            before: Some(before),
            ..self
        }
    }

    pub fn after(self, after: serde_json::Value) -> Self {
        Entry {
            after: Some(after),
            ..self
        }
    }
}

/// Written in the same transaction as the change it describes, so the log
/// and the data cannot disagree.
pub async fn record(conn: &mut Conn, by: Stamp<'_>, entry: Entry<'_>) -> Result<(), sqlx::Error> {
    db_run!(conn => {
        sqlx::query(
            "INSERT INTO audit_log (at, actor_user_id, actor_label, action, entity, entity_id, organisation_id, before_json, after_json)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(Instant(by.at))
        .bind(by.actor.user_id)
        .bind(&by.actor.label)
        .bind(entry.action)
        .bind(entry.entity)
        .bind(entry.entity_id)
        .bind(entry.organisation_id)
        .bind(entry.before.map(|v| v.to_string()))
        .bind(entry.after.map(|v| v.to_string()))
        .execute(conn)
        .await?;
        Ok(())
    })
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor_label: String,
    pub action: String,
    pub entity: String,
    pub entity_id: Option<i64>,
    pub organisation_id: Option<i64>,
    pub organisation_name: Option<String>,
    pub before_json: Option<String>,
    pub after_json: Option<String>,
}

const SELECT: &str = "SELECT l.id, l.at, l.actor_label, l.action, l.entity, l.entity_id, l.organisation_id,
        o.name AS organisation_name, l.before_json, l.after_json
    FROM audit_log l LEFT JOIN organisations o ON o.id = l.organisation_id";

pub async fn recent(pool: &Pool, limit: i64) -> Result<Vec<AuditRow>, sqlx::Error> {
    let sql = format!("{SELECT} ORDER BY l.id DESC LIMIT $1");
    super::rows(&mut pool.acquire().await?, &sql, &[limit.into()]).await
}

/// What the programme lead narrows the log to. Empty text and 0 mean "any".
#[derive(Debug, Clone, Default)]
pub struct Filter<'a> {
    pub action: &'a str,
    pub entity: &'a str,
    pub organisation_id: i64,
    /// One record's history: entries about `entity` with this id.
    pub entity_id: Option<i64>,
    /// Part of the actor's label (their email, or "command line").
    pub actor: &'a str,
    /// From (inclusive) and until (exclusive); `None` for no bound.
    pub from: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    pub limit: i64,
    pub offset: i64,
}

/// One page of matching entries, newest first, and how many match in all.
pub async fn search(pool: &Pool, filter: &Filter<'_>) -> Result<(Vec<AuditRow>, i64), sqlx::Error> {
    use super::Bind;
    let actor = filter.actor.trim();
    let mut conditions = super::Conditions::default();
    if !filter.action.is_empty() {
        conditions.add("l.action = ?", Bind::Text(filter.action.into()));
    }
    if !filter.entity.is_empty() {
        conditions.add("l.entity = ?", Bind::Text(filter.entity.into()));
    }
    if let Some(entity_id) = filter.entity_id {
        conditions.add("l.entity_id = ?", Bind::Int(entity_id));
    }
    if filter.organisation_id != 0 {
        conditions.add("l.organisation_id = ?", Bind::Int(filter.organisation_id));
    }
    if !actor.is_empty() {
        conditions.add(
            "LOWER(l.actor_label) LIKE ? ESCAPE '\\'",
            Bind::Text(super::contains_pattern(actor).into()),
        );
    }
    if let Some(from) = filter.from {
        conditions.add("l.at >= ?", Bind::Instant(from));
    }
    if let Some(until) = filter.until {
        conditions.add("l.at < ?", Bind::Instant(until));
    }
    let clause = conditions.clause();
    // The page's ids first, from the filter's index alone, then only those
    // entries: sorting every match with its before and after (the JSON of
    // 10,000 assessment changes) to keep 50 took most of the page's time.
    let (limit_at, offset_at) = (conditions.binds.len() + 1, conditions.binds.len() + 2);
    let page_sql = format!(
        "{SELECT} WHERE l.id IN (SELECT l.id FROM audit_log l{clause}
             ORDER BY l.id DESC LIMIT ${limit_at} OFFSET ${offset_at})
         ORDER BY l.id DESC"
    );
    let mut page_values = conditions.binds.clone();
    page_values.extend([Bind::Int(filter.limit), Bind::Int(filter.offset)]);
    let mut conn = pool.acquire().await?;
    let rows = super::rows(&mut conn, &page_sql, &page_values).await?;
    let count_sql = format!("SELECT COUNT(*) FROM audit_log l{clause}");
    let total: i64 = super::one_value(&mut conn, &count_sql, &conditions.binds).await?;
    Ok((rows, total))
}

/// The distinct values of an indexed column, in order, one index seek each
/// (from each value to the next above it) rather than a walk through every
/// entry: the log has a few dozen actions and hundreds of thousands of entries.
fn distinct_values(column: &str) -> String {
    format!(
        "WITH RECURSIVE v(value) AS (
             SELECT MIN({column}) FROM audit_log
             UNION ALL
             SELECT (SELECT MIN({column}) FROM audit_log WHERE {column} > v.value) FROM v WHERE v.value IS NOT NULL
         )
         SELECT value FROM v WHERE value IS NOT NULL ORDER BY value"
    )
}

/// The actions and record kinds that occur in the log, for the filter's choices.
pub async fn actions_and_entities(pool: &Pool) -> Result<(Vec<String>, Vec<String>), sqlx::Error> {
    let mut conn = pool.acquire().await?;
    let actions: Vec<(String,)> = super::rows(&mut conn, &distinct_values("action"), &[]).await?;
    let entities: Vec<(String,)> = super::rows(&mut conn, &distinct_values("entity"), &[]).await?;
    Ok((
        actions.into_iter().map(|(a,)| a).collect(),
        entities.into_iter().map(|(e,)| e).collect(),
    ))
}
