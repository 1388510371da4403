//! SQL for backups, restores and the copy from SQLite to PostgreSQL: the
//! tables as they are, whatever their columns, read as JSON rows and
//! written back from them.
//!
//! A row travels as one JSON object, column name to value, with each value
//! in a form PostgreSQL can cast back from text to the column's type: flags
//! as 0/1 (SQLite) or true/false (PostgreSQL), instants as their text, and
//! bytes as `\x` and hex (PostgreSQL's own `bytea` text form; SQLite's blobs
//! are written so too). So one reader serves a PostgreSQL backup and the
//! copy from SQLite, and one writer serves a PostgreSQL restore and that
//! copy.

use super::{db_run, Backend, Conn, FetchFully};
use sqlx::PgConnection;

/// The migrations' own table: written by `migrate`, not data.
const MIGRATIONS_TABLE: &str = "_sqlx_migrations";

/// Tables a backup does not copy as rows: the file store's (its files go
/// into the archive as files, checked by their hashes) and the record of
/// imports running on live servers (no server runs them after a restore).
const NOT_DATA: [&str; 3] = ["stored_files", "stored_file_chunks", "import_runs"];

/// A table and whether rows have an integer `id` (read in pages by it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub has_id: bool,
}

/// Every data table, by name.
pub async fn tables(conn: &mut Conn) -> Result<Vec<Table>, sqlx::Error> {
    let backend = conn.backend();
    let rows: Vec<(String, bool)> = db_run!(conn => {
        sqlx::query_as(match backend {
            Backend::Sqlite => "SELECT m.name, EXISTS (SELECT 1 FROM pragma_table_info(m.name) c WHERE c.name = 'id')
                FROM sqlite_master m
                WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' AND m.name <> $1 ORDER BY m.name",
            Backend::Postgres => "SELECT t.table_name::text, EXISTS (SELECT 1 FROM information_schema.columns c
                    WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name AND c.column_name = 'id')
                FROM information_schema.tables t
                WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE' AND t.table_name <> $1
                ORDER BY t.table_name",
        })
        .bind(MIGRATIONS_TABLE)
        .fetch_all(&mut *conn)
        .await
    })?;
    Ok(rows
        .into_iter()
        .filter(|(name, _)| !NOT_DATA.contains(&name.as_str()))
        .map(|(name, has_id)| Table { name, has_id })
        .collect())
}

/// A table's columns in order.
pub async fn columns(conn: &mut Conn, table: &str) -> Result<Vec<String>, sqlx::Error> {
    let backend = conn.backend();
    db_run!(conn => {
        sqlx::query_scalar(match backend {
            Backend::Sqlite => "SELECT name FROM pragma_table_info($1) ORDER BY cid",
            Backend::Postgres => "SELECT column_name::text FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
        })
        .bind(table)
        .fetch_all(&mut *conn)
        .await
    })
}

pub async fn count_rows(conn: &mut Conn, table: &str) -> Result<i64, sqlx::Error> {
    let sql = format!("SELECT COUNT(*) FROM {}", quoted(table));
    db_run!(conn => {
        let row: (i64,) = sqlx::query_as(&sql).fetch_exactly_one(&mut *conn).await?;
        Ok(row.0)
    })
}

/// The last migration applied (its version number); 0 before any.
pub async fn schema_version(conn: &mut Conn) -> Result<i64, sqlx::Error> {
    db_run!(conn => {
        let row: (i64,) = sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_exactly_one(&mut *conn)
            .await?;
        Ok(row.0)
    })
}

/// Up to `limit` rows after `after_id`, by id, as (id, JSON object). A
/// table without an `id` is read whole as the first page (they are small:
/// the throttle counters and the like), with 0 as every id, and has no
/// second page.
pub async fn export_page(
    conn: &mut Conn,
    table: &Table,
    columns: &[String],
    after_id: i64,
    limit: i64,
) -> Result<Vec<(i64, String)>, sqlx::Error> {
    let name = quoted(&table.name);
    let object = match conn.backend() {
        Backend::Sqlite => {
            let pairs: Vec<String> = columns
                .iter()
                .map(|c| {
                    let column = quoted(c);
                    format!(
                        "'{}', CASE WHEN typeof({column}) = 'blob' THEN '\\x' || lower(hex({column})) ELSE {column} END",
                        c.replace('\'', "''")
                    )
                })
                .collect();
            format!("json_object({})", pairs.join(", "))
        }
        Backend::Postgres => "to_jsonb(t)::text".to_string(),
    };
    if !table.has_id {
        if after_id > 0 {
            return Ok(Vec::new());
        }
        let sql = format!("SELECT CAST(0 AS BIGINT), {object} FROM {name} t");
        return db_run!(conn => { sqlx::query_as(&sql).fetch_all(&mut *conn).await });
    }
    let sql = format!("SELECT id, {object} FROM {name} t WHERE id > $1 ORDER BY id LIMIT $2");
    db_run!(conn => {
        sqlx::query_as(&sql).bind(after_id).bind(limit).fetch_all(&mut *conn).await
    })
}

/// PostgreSQL: each column of `table` and its type as SQL names it, for
/// casting text back to it.
pub async fn column_types(conn: &mut PgConnection, table: &str) -> Result<Vec<(String, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT a.attname::text, format_type(a.atttypid, a.atttypmod)
         FROM pg_attribute a
         WHERE a.attrelid = to_regclass(quote_ident($1)) AND a.attnum > 0 AND NOT a.attisdropped
           AND a.attgenerated = ''
         ORDER BY a.attnum",
    )
    .bind(table)
    .fetch_all(conn)
    .await
}

/// PostgreSQL: a foreign key as the catalogue holds it, to drop while a
/// restore fills the tables and add back after (references can form a
/// cycle: an organisation names the import that added it, the import the
/// user who ran it, the user their organisation).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ForeignKey {
    pub table_name: String,
    pub name: String,
    pub definition: String,
}

pub async fn foreign_keys(conn: &mut PgConnection) -> Result<Vec<ForeignKey>, sqlx::Error> {
    sqlx::query_as(
        "SELECT c.relname::text AS table_name, k.conname::text AS name, pg_get_constraintdef(k.oid) AS definition
         FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
         WHERE k.contype = 'f' AND c.relnamespace = to_regnamespace(current_schema())
         ORDER BY c.relname, k.conname",
    )
    .fetch_all(conn)
    .await
}

pub async fn drop_foreign_key(conn: &mut PgConnection, key: &ForeignKey) -> Result<(), sqlx::Error> {
    let sql = format!(
        "ALTER TABLE {} DROP CONSTRAINT {}",
        quoted(&key.table_name),
        quoted(&key.name)
    );
    sqlx::query(&sql).execute(conn).await?;
    Ok(())
}

/// Adds a foreign key back; PostgreSQL checks every row against it, so a
/// row naming a missing one stops the restore.
pub async fn add_foreign_key(conn: &mut PgConnection, key: &ForeignKey) -> Result<(), sqlx::Error> {
    let sql = format!(
        "ALTER TABLE {} ADD CONSTRAINT {} {}",
        quoted(&key.table_name),
        quoted(&key.name),
        key.definition
    );
    sqlx::query(&sql).execute(conn).await?;
    Ok(())
}

/// PostgreSQL: inserts rows given as JSON objects into `table`, each value
/// bound as text and cast to its column's type (`columns` from
/// [`column_types`]); a column a row does not name takes its default.
pub async fn insert_json_rows(
    conn: &mut PgConnection,
    table: &str,
    columns: &[(String, String)],
    rows: &[serde_json::Map<String, serde_json::Value>],
) -> Result<(), sqlx::Error> {
    let Some(first) = rows.first() else { return Ok(()) };
    // Every row of a table has the same columns (one export wrote them).
    let present: Vec<&(String, String)> = columns.iter().filter(|(name, _)| first.contains_key(name)).collect();
    if present.is_empty() {
        return Ok(());
    }
    let names: Vec<String> = present.iter().map(|(name, _)| quoted(name)).collect();
    // PostgreSQL binds at most 65,535 values a statement.
    let per_statement = (6_000 / present.len()).max(1);
    for chunk in rows.chunks(per_statement) {
        let mut placeholder = 0;
        let values: Vec<String> = chunk
            .iter()
            .map(|_| {
                let cells: Vec<String> = present
                    .iter()
                    .map(|(_, sql_type)| {
                        placeholder += 1;
                        format!("CAST(${placeholder} AS {sql_type})")
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        // OVERRIDING SYSTEM VALUE: ids are kept, identity columns included.
        let sql = format!(
            "INSERT INTO {} ({}) OVERRIDING SYSTEM VALUE VALUES {}",
            quoted(table),
            names.join(", "),
            values.join(", ")
        );
        let mut query = sqlx::query(&sql);
        for row in chunk {
            for (name, _) in &present {
                query = query.bind(row.get(name.as_str()).and_then(as_text));
            }
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// PostgreSQL: moves each id sequence past the largest id copied in, so the
/// next row the app adds does not collide with a restored one.
pub async fn advance_id_sequence(conn: &mut PgConnection, table: &str) -> Result<(), sqlx::Error> {
    let sql = format!(
        "SELECT setval(s::regclass, COALESCE((SELECT MAX(id) FROM {}), 0) + 1, false)
         FROM pg_get_serial_sequence($1, 'id') s WHERE s IS NOT NULL",
        quoted(table)
    );
    sqlx::query(&sql).bind(quoted(table)).execute(conn).await?;
    Ok(())
}

/// SQLite: writes a consistent copy of the whole database to `path` (a new
/// file), while other connections go on writing.
pub async fn sqlite_snapshot(conn: &mut sqlx::SqliteConnection, path: &str) -> Result<(), sqlx::Error> {
    sqlx::query("VACUUM INTO $1").bind(path).execute(conn).await?;
    Ok(())
}

/// Makes the transaction `conn` is in see every table as of one moment (on
/// PostgreSQL; a SQLite transaction already does), for a backup to read.
pub async fn read_as_of_one_moment(conn: &mut Conn) -> Result<(), sqlx::Error> {
    if let super::Either::Postgres(conn) = conn.native() {
        sqlx::query("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// The evidence files rows name (their SHA-256s).
pub async fn evidence_files(conn: &mut Conn) -> Result<Vec<String>, sqlx::Error> {
    db_run!(conn => {
        sqlx::query_scalar("SELECT DISTINCT file_sha256 FROM evidence WHERE file_sha256 IS NOT NULL")
            .fetch_all(&mut *conn)
            .await
    })
}

/// Every import's id: an import waiting to be committed keeps its uploaded
/// sheet on disk under its id.
pub async fn import_ids(conn: &mut Conn) -> Result<Vec<i64>, sqlx::Error> {
    db_run!(conn => {
        sqlx::query_scalar("SELECT id FROM imports ORDER BY id").fetch_all(&mut *conn).await
    })
}

/// A JSON value as the text PostgreSQL casts to the column's type.
fn as_text(value: &serde_json::Value) -> Option<String> {
    match value {
        serde_json::Value::Null => None,
        serde_json::Value::String(text) => Some(text.clone()),
        other => Some(other.to_string()),
    }
}

/// A table or column name as an SQL identifier (they come from the
/// database's own catalogue, but are quoted all the same).
fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The file a `sqlite:` URL names.
pub fn sqlite_file(url: &str) -> Option<std::path::PathBuf> {
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))?
        .split('?')
        .next()?;
    (!path.is_empty()).then(|| std::path::PathBuf::from(path))
}

/// Opens a SQLite file as it is (a snapshot, or a database being
/// restored), without the live database's settings: nothing is added to
/// the file beside it.
pub async fn open_sqlite_file(path: &std::path::Path) -> Result<super::Pool, sqlx::Error> {
    let options = sqlx::sqlite::SqliteConnectOptions::new()
        .filename(path)
        .foreign_keys(true);
    let pool = sqlx::sqlite::SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await?;
    Ok(super::Pool::Sqlite {
        readers: pool.clone(),
        quick: pool.clone(),
        writer: pool,
    })
}
