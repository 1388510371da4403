//! Finding an organisation by what someone typed of its name, for the forms
//! that pick one among ten thousand.

use super::{db_run, Pool};

/// The organisation whose name is exactly `name_key` (see
/// [`crate::domain::organisation::name_key`]), first; then those whose name
/// contains it, in name order, at most `limit` in all.
pub async fn matching(pool: &Pool, name_key: &str, limit: i64) -> Result<Vec<(i64, String)>, sqlx::Error> {
    // `%`, `_` and `\` typed by the user match themselves.
    let escaped: String = name_key
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            _ => vec![c],
        })
        .collect();
    db_run!(pool => {
        sqlx::query_as(
            "SELECT id, name FROM organisations WHERE name_key LIKE $1 ESCAPE '\\'
             ORDER BY CASE WHEN name_key = $2 THEN 0 ELSE 1 END, name, id LIMIT $3",
        )
        .bind(format!("%{escaped}%"))
        .bind(name_key)
        .bind(limit)
        .fetch_all(pool)
        .await
    })
}

/// An organisation's name by its id.
pub async fn name_of(pool: &Pool, id: i64) -> Result<Option<String>, sqlx::Error> {
    let sql = "SELECT name FROM organisations WHERE id = $1";
    super::first_value(&mut pool.acquire().await?, sql, &[id.into()]).await
}
