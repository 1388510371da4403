//! Files kept in the database (migration 0025): evidence and uploaded
//! sheets, in chunks, for a site whose app servers share one PostgreSQL
//! database. [`crate::storage`] decides when the database holds them.

use super::{db_run, Conn, Pool};

/// Adds a file's row; false when a file of that name is already stored (by
/// another upload of the same content, perhaps on another server, which
/// this waits for if it has not committed yet).
pub async fn insert(
    conn: &mut Conn,
    name: &str,
    sha256: &str,
    size: u64,
    at: chrono::DateTime<chrono::Utc>,
) -> Result<bool, sqlx::Error> {
    let size = i64::try_from(size).unwrap_or(i64::MAX);
    let sql = "INSERT INTO stored_files (name, sha256, size, stored_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (name) DO NOTHING";
    let values = [name.into(), sha256.into(), size.into(), super::Instant(at).into()];
    Ok(super::execute(conn, sql, &values).await? == 1)
}

/// Adds part `seq` (counted from 0) of a file's content.
pub async fn insert_chunk(conn: &mut Conn, name: &str, seq: i64, bytes: &[u8]) -> Result<(), sqlx::Error> {
    db_run!(conn => {
        sqlx::query("INSERT INTO stored_file_chunks (name, seq, bytes) VALUES ($1, $2, $3)")
            .bind(name)
            .bind(seq)
            .bind(bytes)
            .execute(&mut *conn)
            .await?;
        Ok(())
    })
}

/// A stored file's size, or None when there is no such file.
pub async fn size(pool: &Pool, name: &str) -> Result<Option<i64>, sqlx::Error> {
    let sql = "SELECT size FROM stored_files WHERE name = $1";
    super::first_value(&mut pool.acquire().await?, sql, &[name.into()]).await
}

/// Part `seq` of a file, or None past its end.
pub async fn chunk(pool: &Pool, name: &str, seq: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    chunk_in(&mut pool.acquire().await?, name, seq).await
}

/// [`chunk`] inside a transaction (a backup reading as of one moment).
pub async fn chunk_in(conn: &mut Conn, name: &str, seq: i64) -> Result<Option<Vec<u8>>, sqlx::Error> {
    let sql = "SELECT bytes FROM stored_file_chunks WHERE name = $1 AND seq = $2";
    let row: Option<(Vec<u8>,)> = super::first_row(conn, sql, &[name.into(), seq.into()]).await?;
    Ok(row.map(|(bytes,)| bytes))
}

/// Removes a file and its content; false when there was none.
pub async fn delete(pool: &Pool, name: &str) -> Result<bool, sqlx::Error> {
    let sql = "DELETE FROM stored_files WHERE name = $1";
    Ok(super::execute(&mut pool.acquire().await?, sql, &[name.into()]).await? == 1)
}

/// The names of stored files starting with `prefix` (such as `imports/`).
pub async fn names_starting(pool: &Pool, prefix: &str) -> Result<Vec<String>, sqlx::Error> {
    let pattern = format!(
        "{}%",
        prefix.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    let sql = "SELECT name FROM stored_files WHERE name LIKE $1 ESCAPE '\\' ORDER BY name";
    let names: Vec<(String,)> = super::rows(&mut pool.acquire().await?, sql, &[pattern.into()]).await?;
    Ok(names.into_iter().map(|(name,)| name).collect())
}
