//! Organisations with where they stand on their quality marks: the facts
//! for a page of them in one statement, and the organisations list filtered
//! by status. The status filter says in SQL what
//! [`crate::domain::organisation_status::summarise`] says in Rust; the
//! tests in `tests/home_pages.rs` hold the two together.

use super::organisations::{search_conditions, OrganisationRow, Search, COLUMNS};
use super::{Bind, Conditions, Conn, Pool};
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
async fn facts_for(conn: &mut Conn, organisation_ids: &[i64]) -> Result<Vec<StatusRow>, sqlx::Error> {
    if organisation_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.organisation_id, a.framework_id, a.framework_version, a.state,
            a.expires_on,
            EXISTS (SELECT 1 FROM assessments r WHERE r.renewal_of = a.id AND r.state = 'awarded') AS renewed
         FROM assessments a WHERE a.organisation_id IN ({})",
        super::in_list(conn.backend(), 1, organisation_ids.len())
    );
    let ids: Vec<Bind> = organisation_ids.iter().copied().map(Bind::Int).collect();
    super::rows(conn, &sql, &ids).await
}

/// One organisation's assessments as its status needs them.
pub async fn facts_of(pool: &Pool, organisation_id: i64) -> Result<Vec<StatusRow>, sqlx::Error> {
    facts_of_in(&mut pool.acquire().await?, organisation_id).await
}

pub async fn facts_of_in(conn: &mut Conn, organisation_id: i64) -> Result<Vec<StatusRow>, sqlx::Error> {
    facts_for(conn, &[organisation_id]).await
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
/// for, how many there are in all and, if `with_facts`, the page's
/// assessments as their status needs them.
///
/// The page and its assessments are read on one connection while the count
/// is read on another: the second read needs the first's organisations,
/// and on a busy server each wait for a connection took as long as the
/// page's reads themselves.
pub async fn search(
    pool: &Pool,
    search: &Search<'_>,
    status: &StatusQuery<'_>,
    with_facts: bool,
) -> Result<(Vec<OrganisationRow>, i64, Vec<StatusRow>), sqlx::Error> {
    let mut conditions = search_conditions(pool.backend(), search);
    add_status_filter(&mut conditions, status);
    let clause = conditions.clause();
    let (limit_at, offset_at) = (conditions.binds.len() + 1, conditions.binds.len() + 2);
    let mut page_binds = conditions.binds.clone();
    page_binds.extend([Bind::Int(search.limit), Bind::Int(search.offset)]);
    let count_sql = format!("SELECT COUNT(*) FROM organisations{clause}");
    if !search.text.trim().is_empty() {
        // Words to look for are tested against every name and locality
        // (LIKE '%…%' has no index): the page counts its matches in the same
        // pass, rather than a second statement testing them all again (4 ms
        // of the server's time a search on the large set, 2 ms this way).
        let page_sql = format!(
            "SELECT {COLUMNS}, COUNT(*) OVER () AS matching FROM organisations{clause}
             ORDER BY name, id LIMIT ${limit_at} OFFSET ${offset_at}"
        );
        let mut conn = pool.acquire().await?;
        let counted: Vec<Counted> = super::rows(&mut conn, &page_sql, &page_binds).await?;
        let total = match counted.first() {
            Some(first) => first.matching,
            // A page past the last has no row to carry the count.
            None => super::one_value(&mut conn, &count_sql, &conditions.binds).await?,
        };
        let rows: Vec<OrganisationRow> = counted.into_iter().map(|c| c.row).collect();
        let facts = page_facts(&mut conn, &rows, with_facts).await?;
        return Ok((rows, total, facts));
    }
    let page_sql =
        format!("SELECT {COLUMNS} FROM organisations{clause} ORDER BY name, id LIMIT ${limit_at} OFFSET ${offset_at}");
    let page = async {
        let mut conn = pool.acquire().await?;
        let rows: Vec<OrganisationRow> = super::rows(&mut conn, &page_sql, &page_binds).await?;
        let facts = page_facts(&mut conn, &rows, with_facts).await?;
        Ok::<_, sqlx::Error>((rows, facts))
    };
    let total = async { super::one_value(&mut pool.acquire().await?, &count_sql, &conditions.binds).await };
    let ((rows, facts), total) = rocket::tokio::try_join!(page, total)?;
    Ok((rows, total, facts))
}

/// The assessments of the page's organisations, if `wanted`.
async fn page_facts(conn: &mut Conn, rows: &[OrganisationRow], wanted: bool) -> Result<Vec<StatusRow>, sqlx::Error> {
    if !wanted {
        return Ok(Vec::new());
    }
    facts_for(conn, &rows.iter().map(|o| o.id).collect::<Vec<_>>()).await
}

/// A row of a page that also says how many rows match in all.
struct Counted {
    row: OrganisationRow,
    matching: i64,
}

impl<'r, R: sqlx::Row> sqlx::FromRow<'r, R> for Counted
where
    OrganisationRow: sqlx::FromRow<'r, R>,
    i64: sqlx::Decode<'r, R::Database> + sqlx::Type<R::Database>,
    &'static str: sqlx::ColumnIndex<R>,
{
    fn from_row(row: &'r R) -> Result<Self, sqlx::Error> {
        Ok(Counted {
            row: OrganisationRow::from_row(row)?,
            matching: row.try_get("matching")?,
        })
    }
}
