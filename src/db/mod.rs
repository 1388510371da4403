//! The data layer: the pool, migrations, and one repository module per
//! aggregate. All SQL lives under this folder. Queries use `$1` placeholders
//! and portable SQL so the same text runs on SQLite and PostgreSQL through
//! sqlx's `Any` driver. Nothing outside [`crate::app`] writes through this
//! layer, and every write transaction starts at [`begin_write`].
//!
//! Stored states, decisions and kinds are decoded into their enums as rows
//! are read (`#[sqlx(try_from = "String")]`, see [`stored_enum`]), so no bare
//! strings such as `"awarded"` travel further.
//!
//! Traps in sqlx 0.7's `Any` driver, and how this layer avoids them:
//! - A NULL argument reaches PostgreSQL typed `int4`, and the prepared
//!   statement is cached with that type, so a later non-NULL text or `int8`
//!   value for the same parameter fails. Never bind `None`: bind `0` or `''`
//!   and write `NULLIF($n, 0)` / `NULLIF($n, '')` in the SQL ([`id_or_zero`]).
//!   The 0 never reaches the table: a certificate's holder, for one, is a
//!   real nullable foreign key (migration 0005) and reads as `Option<i64>`.
//! - `Any` cannot decode BOOLEAN on either backend, so flags are integers 0/1.
//! - `Any` never reports a value as NULL, so a column that may be NULL is read
//!   through [`Nullable`].
//! - sqlx stops reading a statement after the first row; see [`FetchFully`].

pub mod assessments;
pub mod audit;
pub mod certificates;
pub mod completions;
pub mod evidence;
pub mod home;
pub mod imports;
pub mod organisation_status;
pub mod organisations;
pub mod password_resets;
pub mod people;
pub mod published;
pub mod reports;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod training;
pub mod users;

use rocket::figment::Figment;
use serde::Deserialize;
use sqlx::any::{AnyPoolOptions, AnyRow};
use sqlx::{AnyPool, Executor};
use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn from_url(url: &str) -> Option<Backend> {
        if url.starts_with("sqlite:") {
            Some(Backend::Sqlite)
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Some(Backend::Postgres)
        } else {
            None
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// The application's connection pool, knowing which backend it talks to.
///
/// On SQLite, write transactions go through `writer`, a pool of one
/// connection, so writers in this process queue for it in turn instead of
/// racing for SQLite's single write lock (see [`begin_write`]). On
/// PostgreSQL `writer` is the same pool as `inner`.
#[derive(Clone)]
pub struct Pool {
    pub inner: AnyPool,
    writer: AnyPool,
    pub backend: Backend,
}

impl std::ops::Deref for Pool {
    type Target = AnyPool;
    fn deref(&self) -> &AnyPool {
        &self.inner
    }
}

/// The database as Rocket manages it (`&Db` is a request guard via `State`).
#[derive(rocket_db_pools::Database)]
#[database("qmtrack")]
pub struct Db(Pool);

#[derive(Debug, thiserror::Error)]
pub enum PoolError {
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

#[derive(Deserialize)]
struct PoolConfig {
    url: String,
    max_connections: Option<u32>,
}

#[rocket::async_trait]
impl rocket_db_pools::Pool for Pool {
    type Connection = sqlx::pool::PoolConnection<sqlx::Any>;
    type Error = PoolError;

    /// Connects and brings the schema up to date, so a fresh `data/` folder
    /// is ready the moment the server starts.
    async fn init(figment: &Figment) -> Result<Self, Self::Error> {
        let config: PoolConfig = figment.extract().map_err(|e| PoolError::Config(e.to_string()))?;
        let pool = connect(&config.url, config.max_connections.unwrap_or(8)).await?;
        migrate(&pool).await?;
        Ok(pool)
    }

    async fn get(&self) -> Result<Self::Connection, Self::Error> {
        Ok(self.inner.acquire().await?)
    }

    async fn close(&self) {
        self.inner.close().await;
        self.writer.close().await;
    }
}

/// Opens a pool. For SQLite, creates the folder and turns on WAL (readers do
/// not block the writer), a busy timeout (writers queue rather than fail) and
/// foreign keys, on every connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<Pool, PoolError> {
    sqlx::any::install_default_drivers();
    let backend = Backend::from_url(url).ok_or_else(|| {
        PoolError::Config(format!(
            "the database URL must start with sqlite:// or postgres:// (got \"{}\")",
            redact_url(url)
        ))
    })?;
    let mut url = url.to_string();
    if backend == Backend::Sqlite {
        let path = url
            .trim_start_matches("sqlite://")
            .trim_start_matches("sqlite:")
            .split('?')
            .next()
            .unwrap_or_default()
            .to_string();
        if let Some(parent) = std::path::Path::new(&path).parent() {
            if !parent.as_os_str().is_empty() {
                std::fs::create_dir_all(parent).map_err(|e| {
                    PoolError::Config(format!("cannot create the data folder {}: {e}", parent.display()))
                })?;
            }
        }
        if !url.contains("mode=") {
            url.push_str(if url.contains('?') { "&mode=rwc" } else { "?mode=rwc" });
        }
    }
    let options = |connections: u32, acquire_timeout: Duration| {
        AnyPoolOptions::new()
            .max_connections(connections)
            .acquire_timeout(acquire_timeout)
            .after_connect(move |conn, _meta| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute(
                            "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                             PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL;",
                        )
                        .await?;
                    }
                    Ok(())
                })
            })
    };
    let inner = options(max_connections.max(1), Duration::from_secs(10))
        .connect(&url)
        .await?;
    let writer = match backend {
        // Writers wait here for their turn; a queue of many short
        // transactions can take longer than a reader would ever wait.
        Backend::Sqlite => options(1, WRITER_QUEUE_TIMEOUT).connect(&url).await?,
        Backend::Postgres => inner.clone(),
    };
    Ok(Pool { inner, writer, backend })
}

/// How long a writer waits for its turn before giving up with an error.
const WRITER_QUEUE_TIMEOUT: Duration = Duration::from_secs(60);

/// Starts a transaction that will write. THE one place write transactions
/// start, so that on SQLite they cannot fail with "database is locked".
///
/// SQLite has one writer at a time. A deferred transaction (sqlx 0.7 only
/// issues a plain `BEGIN`) that reads first and then writes cannot wait for
/// the lock: if another connection committed in between, its snapshot is
/// stale and SQLite answers SQLITE_BUSY at once, whatever the busy timeout.
/// So on SQLite:
/// - writers in this process queue for the one connection of `writer`;
/// - the first statement takes the write lock (a write that changes
///   nothing), which honours the busy timeout, so writers in other processes
///   (the command line, a second server) and single statements on other
///   connections are waited for rather than refused. This is what
///   `BEGIN IMMEDIATE` would do, which sqlx 0.7 cannot issue.
///
/// PostgreSQL needs neither: its row locks let writers proceed together.
pub async fn begin_write(pool: &Pool) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
    let mut tx = pool.writer.begin().await?;
    if pool.backend == Backend::Sqlite {
        sqlx::query("DELETE FROM write_lock WHERE 0 = 1")
            .execute(&mut *tx)
            .await?;
    }
    Ok(tx)
}

pub async fn migrate(pool: &Pool) -> Result<(), sqlx::migrate::MigrateError> {
    match pool.backend {
        Backend::Sqlite => sqlx::migrate!("migrations/sqlite").run(&pool.inner).await,
        Backend::Postgres => sqlx::migrate!("migrations/postgres").run(&pool.inner).await,
    }
}

/// Whether `error` is a UNIQUE constraint refusing a second copy of a row:
/// two people doing the same thing at once, the second finding the first's.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// How many migrations have been applied: shown by `/healthz`.
pub async fn applied_migrations(pool: &AnyPool) -> Result<i64, sqlx::Error> {
    let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
        .fetch_exactly_one(pool)
        .await?;
    Ok(row.0)
}

/// Hides a password in a URL before it is printed or logged.
pub fn redact_url(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// `LIKE` pattern for a case-insensitive "contains" search, with wildcards
/// in the search text taken literally.
pub fn contains_pattern(search: &str) -> String {
    let escaped: String = search
        .trim()
        .to_lowercase()
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            other => vec![other],
        })
        .collect();
    format!("%{escaped}%")
}

/// Decodes a text column that names an enum value (a state, a decision, a
/// kind) as that enum, so no bare strings travel past the data layer. Use
/// with `#[sqlx(try_from = "String")]`; an unknown value is a decode error,
/// as it would mean a broken database.
macro_rules! stored_enum {
    ($($ty:ty),* $(,)?) => {$(
        impl TryFrom<String> for $ty {
            type Error = String;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                <$ty>::parse(&text).ok_or_else(|| format!("unknown {} {text:?} in the database", stringify!($ty)))
            }
        }
    )*};
}

stored_enum!(
    crate::domain::assessment::State,
    crate::domain::assessment::Decision,
    crate::domain::certificate::Kind,
    crate::domain::evidence::EvidenceKind,
);

/// Reads a 0/1 flag column as a boolean.
pub fn get_bool(row: &AnyRow, column: &str) -> Result<bool, sqlx::Error> {
    use sqlx::Row;
    Ok(row.try_get::<i64, _>(column)? != 0)
}

/// Optional ids travel as 0 (never a real id) and become NULL in SQL via `NULLIF($n, 0)`.
pub fn id_or_zero(id: Option<i64>) -> i64 {
    id.unwrap_or(0)
}

/// A column that may be NULL. sqlx 0.7's `Any` driver never reports a value
/// as NULL (`is_null` is always false), so a plain `Option<T>` fails to
/// decode one. This reads the value's kind instead. Use it with
/// `#[sqlx(try_from = "Nullable<T>")]` on `Option<T>` fields, or [`optional`].
pub struct Nullable<T>(pub Option<T>);

impl<T: sqlx::Type<sqlx::Any>> sqlx::Type<sqlx::Any> for Nullable<T> {
    fn type_info() -> sqlx::any::AnyTypeInfo {
        T::type_info()
    }

    fn compatible(ty: &sqlx::any::AnyTypeInfo) -> bool {
        is_null_type(ty) || T::compatible(ty)
    }
}

impl<'r, T: sqlx::Decode<'r, sqlx::Any>> sqlx::Decode<'r, sqlx::Any> for Nullable<T> {
    fn decode(value: sqlx::any::AnyValueRef<'r>) -> Result<Self, sqlx::error::BoxDynError> {
        use sqlx::ValueRef;
        if is_null_type(&value.type_info()) {
            Ok(Nullable(None))
        } else {
            Ok(Nullable(Some(T::decode(value)?)))
        }
    }
}

/// sqlx does not export the kind enum, but the type's name says it.
fn is_null_type(ty: &sqlx::any::AnyTypeInfo) -> bool {
    sqlx::TypeInfo::name(ty) == "NULL"
}

impl<T> From<Nullable<T>> for Option<T> {
    fn from(value: Nullable<T>) -> Self {
        value.0
    }
}

/// Reads a column that may be NULL (see [`Nullable`]).
pub fn optional<'r, T>(row: &'r AnyRow, column: &str) -> Result<Option<T>, sqlx::Error>
where
    T: sqlx::Decode<'r, sqlx::Any> + sqlx::Type<sqlx::Any>,
{
    use sqlx::Row;
    Ok(row.try_get::<Nullable<T>, _>(column)?.0)
}

/// One value for [`insert_many`]; text is borrowed where it can be, as a
/// large import binds hundreds of thousands of values.
#[derive(Debug, Clone)]
pub enum Bind<'a> {
    Int(i64),
    Text(std::borrow::Cow<'a, str>),
}

/// Inserts many rows with few statements rather than one per row.
/// `target` is `table (col, col, …)`; every row has as many values as there
/// are columns.
///
/// On SQLite the placeholders are positional (`?`): sqlx finds a numbered
/// placeholder (`$7`) by searching the statement's parameter names, which
/// makes binding cost grow with the square of the statement's size, and
/// positional ones avoid that. PostgreSQL needs `$n`, and keeps statements
/// small for the same reason.
pub async fn insert_many(
    conn: &mut sqlx::AnyConnection,
    target: &str,
    rows: &[Vec<Bind<'_>>],
) -> Result<(), sqlx::Error> {
    let Some(width) = rows.first().map(Vec::len).filter(|w| *w > 0) else {
        return Ok(());
    };
    let positional = conn.backend_name().eq_ignore_ascii_case("sqlite");
    // SQLite allows 32,766 values a statement.
    let values_per_statement = if positional { 12_000 } else { 240 };
    let per_statement = (values_per_statement / width).max(1);
    for chunk in rows.chunks(per_statement) {
        let values: Vec<String> = (0..chunk.len())
            .map(|r| {
                let cells: Vec<String> = (1..=width)
                    .map(|c| {
                        if positional {
                            "?".to_string()
                        } else {
                            format!("${}", r * width + c)
                        }
                    })
                    .collect();
                format!("({})", cells.join(", "))
            })
            .collect();
        let sql = format!("INSERT INTO {target} VALUES {}", values.join(", "));
        let mut query = sqlx::query(&sql);
        for value in chunk.iter().flatten() {
            query = match value {
                Bind::Int(i) => query.bind(*i),
                Bind::Text(t) => query.bind(t.as_ref()),
            };
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

type BoxedFetch<'e, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'e>>;

/// `fetch_one` / `fetch_optional` that always read a statement to its end.
/// sqlx's own versions stop after the first row, and SQLite then keeps the
/// statement open: an `INSERT … RETURNING` is not committed, and later reads
/// on that connection see an old snapshot, until the statement is reused.
/// Use these everywhere in the data layer.
pub trait FetchFully<'q, O> {
    fn fetch_first<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, Option<O>>
    where
        'q: 'e,
        O: 'e,
        E: 'e + sqlx::Executor<'c, Database = sqlx::Any>;

    fn fetch_exactly_one<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, O>
    where
        'q: 'e,
        O: 'e,
        Self: Sized + Send + 'e,
        E: 'e + sqlx::Executor<'c, Database = sqlx::Any>,
    {
        let first = self.fetch_first(executor);
        Box::pin(async move { first.await?.ok_or(sqlx::Error::RowNotFound) })
    }
}

impl<'q, O> FetchFully<'q, O> for sqlx::query::QueryAs<'q, sqlx::Any, O, sqlx::any::AnyArguments<'q>>
where
    O: Send + Unpin + for<'r> sqlx::FromRow<'r, AnyRow>,
{
    fn fetch_first<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, Option<O>>
    where
        'q: 'e,
        O: 'e,
        E: 'e + sqlx::Executor<'c, Database = sqlx::Any>,
    {
        Box::pin(async move { Ok(self.fetch_all(executor).await?.into_iter().next()) })
    }
}

impl<'q> FetchFully<'q, AnyRow> for sqlx::query::Query<'q, sqlx::Any, sqlx::any::AnyArguments<'q>> {
    fn fetch_first<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, Option<AnyRow>>
    where
        'q: 'e,
        AnyRow: 'e,
        E: 'e + sqlx::Executor<'c, Database = sqlx::Any>,
    {
        Box::pin(async move { Ok(self.fetch_all(executor).await?.into_iter().next()) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backends_are_recognised_from_urls() {
        assert_eq!(Backend::from_url("sqlite://data/x.sqlite"), Some(Backend::Sqlite));
        assert_eq!(Backend::from_url("postgres://u@localhost/db"), Some(Backend::Postgres));
        assert_eq!(Backend::from_url("mysql://x"), None);
    }

    #[test]
    fn passwords_are_hidden_in_urls() {
        assert_eq!(
            redact_url("postgres://app:secret@db:5432/qm"),
            "postgres://app:****@db:5432/qm"
        );
        assert_eq!(redact_url("sqlite://data/qm.sqlite"), "sqlite://data/qm.sqlite");
    }

    #[test]
    fn search_wildcards_are_literal() {
        assert_eq!(contains_pattern(" 50%_Off "), "%50\\%\\_off%");
    }
}
