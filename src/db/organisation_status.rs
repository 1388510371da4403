//! Organisations with where they stand on their quality marks: the facts
//! for a page of them in one statement, and the organisations list filtered
//! by status. The status filter says in SQL what
//! [`crate::domain::organisation_status::summarise`] says in Rust; the
//! tests in `tests/home_pages.rs` hold the two together.

use super::organisations::{page_matching, search_conditions, OrganisationRow, Search};
use super::{db_run, Pool};
use super::{Bind, Conditions};
use crate::domain::assessment::State;
use chrono::NaiveDate;
use sqlx::FromRow;

/// One assessment of an organisation, as its status needs it.
#[derive(Debug, Clone, FromRow)]
pub struct StatusRow {
    pub organisation_id: i64,
    pub framework_id: String,
    pub framework_version: String,
    #[sqlx(try_from = "String")]
    pub state: State,
    /// `None` when not awarded.
    pub expires_on: Option<NaiveDate>,
    pub renewed: bool,
}

/// The assessments of every organisation in `organisation_ids` (a page of
/// the list), in one statement.
pub async fn facts_for(pool: &Pool, organisation_ids: &[i64]) -> Result<Vec<StatusRow>, sqlx::Error> {
    db_run!(pool => {
        if organisation_ids.is_empty() {
            return Ok(Vec::new());
        }
        let placeholders: Vec<String> = (1..=organisation_ids.len()).map(|i| format!("${i}")).collect();
        let sql = format!(
            "SELECT a.organisation_id, a.framework_id, a.framework_version, a.state,
                a.expires_on,
                EXISTS (SELECT 1 FROM assessments r WHERE r.renewal_of = a.id AND r.state = 'awarded') AS renewed
         FROM assessments a WHERE a.organisation_id IN ({})",
            placeholders.join(", ")
        );
        let mut query = sqlx::query_as(&sql);
        for id in organisation_ids {
            query = query.bind(*id);
        }
        query.fetch_all(pool).await
    })
}

/// An award held on `today` (a placeholder): awarded, not yet expired, not
/// replaced by an awarded renewal. `a` names the assessment's alias.
fn current_award(a: &str, today: &str) -> String {
    format!(
        "{a}.state = 'awarded' AND {a}.expires_on > {today}
         AND NOT EXISTS (SELECT 1 FROM assessments r WHERE r.renewal_of = {a}.id AND r.state = 'awarded')"
    )
}

/// Adds to `conditions` the test for the status asked for (nothing for
/// any status), binding only the dates that status is judged on.
fn add_status_filter<'a>(conditions: &mut Conditions<'a>, status: &StatusQuery<'_>) {
    let holds = |conditions: &mut Conditions<'a>| {
        let today = conditions.placeholder(Bind::Date(status.today));
        format!(
            "EXISTS (SELECT 1 FROM assessments c WHERE c.organisation_id = organisations.id AND {})",
            current_award("c", &today)
        )
    };
    let open = "EXISTS (SELECT 1 FROM assessments w WHERE w.organisation_id = organisations.id
                AND w.state NOT IN ('awarded', 'revoked'))";
    let any = "EXISTS (SELECT 1 FROM assessments x WHERE x.organisation_id = organisations.id)";
    let awarded_once = "EXISTS (SELECT 1 FROM assessments x WHERE x.organisation_id = organisations.id
                        AND x.state = 'awarded')";
    let revoked = "EXISTS (SELECT 1 FROM assessments x WHERE x.organisation_id = organisations.id
                   AND x.state = 'revoked')";
    let test = match status.status {
        "awarded" => holds(conditions),
        "renewal_due" => {
            let (today, due_by) = (
                conditions.placeholder(Bind::Date(status.today)),
                conditions.placeholder(Bind::Date(status.due_by)),
            );
            format!(
                "EXISTS (SELECT 1 FROM assessments c WHERE c.organisation_id = organisations.id AND {} AND c.expires_on <= {due_by})",
                current_award("c", &today)
            )
        }
        "in_progress" => format!("NOT {} AND {open}", holds(conditions)),
        "expired" => format!("NOT {} AND NOT {open} AND {awarded_once}", holds(conditions)),
        "revoked" => format!(
            "NOT {} AND NOT {open} AND NOT {awarded_once} AND {revoked}",
            holds(conditions)
        ),
        "not_started" => format!("NOT {any}"),
        _ => return,
    };
    conditions.require(test);
}

/// The status to filter by, with the dates it is judged on.
pub struct StatusQuery<'a> {
    /// '' for any status, else a [`crate::domain::organisation_status::StatusFilter`].
    pub status: &'a str,
    pub today: NaiveDate,
    /// Awards expiring on or before this day are due for renewal.
    pub due_by: NaiveDate,
}

/// One page of the organisations `search` finds that have the status asked
/// for, and how many there are in all.
pub async fn search(
    pool: &Pool,
    search: &Search<'_>,
    status: &StatusQuery<'_>,
) -> Result<(Vec<OrganisationRow>, i64), sqlx::Error> {
    let mut conditions = search_conditions(pool.backend(), search);
    add_status_filter(&mut conditions, status);
    page_matching(pool, search, &conditions).await
}
