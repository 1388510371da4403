//! The data layer: the pool, migrations, and one repository module per
//! aggregate. All SQL lives under this folder. Nothing outside
//! [`crate::app`] writes through this layer, and every write transaction
//! starts at [`begin_write`].
//!
//! The pool is sqlx's native SQLite or PostgreSQL pool ([`Pool`]); a write
//! transaction is [`Tx`], and functions that run several statements take any
//! connection as `&mut Conn`. Each query is written once: [`db_run!`]
//! compiles the body for each backend with the native pool or connection,
//! and `#[derive(sqlx::FromRow)]` row structs serve both. Most statements
//! are one text with its values: [`rows`], [`first_row`], [`one_row`] (and
//! [`first_value`], [`one_value`] for a single column) and
//! [`execute`] run it with the values as [`Bind`]s (`id.into()`,
//! `Instant(now).into()`), and `page_and_total` reads a page with its
//! total; `db_run!` is for what they do not cover (bytes, streams, a row
//! read column by column). Queries use `$1` placeholders and portable SQL. PostgreSQL is strict about integer widths,
//! so a selected expression read as `i64` is `BIGINT` there (`COUNT`, `SUM`
//! and `BIGINT` columns are; a literal or `LENGTH` needs a `CAST`).
//!
//! Stored states, decisions and kinds are decoded into their enums as rows
//! are read (`#[sqlx(try_from = "String")]`, see [`stored_enum`]), so no bare
//! strings such as `"awarded"` travel further.
//!
//! sqlx 0.7's `Any` driver, used before, set traps that the native drivers
//! do not (`tests/db_traps.rs` checks each):
//! - it typed a NULL argument `int4` on PostgreSQL and cached the statement
//!   so, so "no value" was stored as `0`/`''` and read back through
//!   `NULLIF`: `Option<T>` is now bound and read directly, and since
//!   migrations 0012 and 0030 the columns hold NULL;
//! - it could not decode BOOLEAN, nor report a value as NULL;
//! - on SQLite a statement read for one row may still be running when the
//!   row arrives (the native driver too): see [`FetchFully`].
//!
//! SQLite reads the planner's statistics when a connection opens and keeps
//! them: the pools open their connections when first used, after
//! [`migrate`] has refreshed the statistics, and replace those opened before
//! a later refresh (`tests/db_traps.rs` checks a reader plans with them).
//!
//! Flags are `BOOLEAN` on PostgreSQL and 0/1 integers on SQLite (which has
//! no boolean type); both read and bind as `bool`, and SQL tests them as
//! `TRUE`/`FALSE` or bare (`WHERE u.active`).
//!
//! "No value" is NULL: a row field or argument that may be absent is an
//! `Option<T>`, and SQL tests `IS NULL` (never `= ''` or `= 0`). Values
//! that belong together are NULL together, and a CHECK says so: a
//! certificate's programme and completion go with its kind, an evidence
//! item's file (hash, name, type, size) with its kind. Free text a form may
//! leave blank (a venue, a note, a reason) is text, and blank is `''`. Every
//! id that names a row is a foreign key, with `ON DELETE` as the workflows
//! need it (undoing an import deletes the people it added, and what was
//! worked out from their attendance goes with them). Not references: the
//! audit log's `entity_id` and `organisation_id` and an import effect's
//! `entity_id`, since history names rows that may since have gone. A
//! filter argument where 0 or '' means "any" is still written that way
//! (`$1 = 0 OR …`); it is a parameter, not a stored value.
//!
//! Dates and instants are chrono values from the workflows to the SQL:
//! functions take `now: DateTime<Utc>` and dates as `NaiveDate`, and rows
//! read them so. On PostgreSQL the columns are `DATE` and `TIMESTAMPTZ`
//! (migration 0019). SQLite has no date type: a date is `2026-03-02` text
//! and an instant `2026-03-02T09:00:00Z` text, whole seconds of UTC, which
//! compare and sort as time does. Bind an instant as [`Instant`]`(at)`,
//! never a bare `DateTime<Utc>`: sqlx writes that to SQLite as
//! `…09:00:00.123+00:00`, which is neither equal to nor ordered with the
//! stored form. A `NaiveDate` binds as is (`YYYY-MM-DD` on SQLite). SQL
//! compares dates with dates and instants with instants, never with text
//! (no `''`, `substr` or `|| ''` on them except where a backend needs it,
//! see `db::reports::standings`); the day an instant falls on is worked
//! out in Rust (`at.date_naive()`), the day's start as an instant too.

pub mod assessments;
pub mod attention;
pub mod audit;
pub mod award_history;
pub mod backup;
pub mod certificates;
pub mod checkpoint;
pub mod completions;
pub mod evaluations;
pub mod evidence;
pub mod home;
pub mod import_runs;
pub mod imports;
pub mod instant;
pub mod metrics;
pub mod organisation_search;
pub mod organisation_status;
pub mod organisations;
pub mod outbox;
pub mod password_resets;
pub mod people;
pub mod published;
pub mod register;
pub mod reminders;
pub mod reports;
pub mod session_records;
pub mod sessions;
pub mod statistics;
pub mod stored_files;
pub mod throttle;
pub mod tokens;
pub mod training;
pub mod training_requirements;
pub mod users;

pub use instant::Instant;

use chrono::{DateTime, NaiveDate, Utc};
use rocket::figment::Figment;
use serde::Deserialize;
use sqlx::pool::PoolConnection;
use sqlx::postgres::PgPoolOptions;
use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::str::FromStr;
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

    /// The aggregate that joins a group's texts with a separator:
    /// `{join}(text, ',')` on both backends.
    pub fn join_texts(self) -> &'static str {
        match self {
            Backend::Sqlite => "group_concat",
            Backend::Postgres => "string_agg",
        }
    }
}

/// One of the two backends' values: what [`db_run!`] matches on.
pub enum Either<S, P> {
    Sqlite(S),
    Postgres(P),
}

/// The application's connection pool: sqlx's native pool of one backend.
///
/// On SQLite, write transactions go through `writer`, a pool of one
/// connection, so writers in this process queue for it in turn instead of
/// racing for SQLite's single write lock (see [`begin_write`]); reads use
/// `readers`. PostgreSQL has one pool for both.
///
/// `quick` is a few connections of their own for the short indexed reads
/// that every request makes before its page's own (the signed-in session,
/// the data version, the dashboard's attention list): see [`Pool::quick_lane`].
#[derive(Clone)]
pub enum Pool {
    Sqlite {
        readers: SqlitePool,
        writer: SqlitePool,
        quick: SqlitePool,
    },
    Postgres {
        pool: PgPool,
        quick: PgPool,
    },
}

impl Pool {
    pub fn backend(&self) -> Backend {
        match self {
            Pool::Sqlite { .. } => Backend::Sqlite,
            Pool::Postgres { .. } => Backend::Postgres,
        }
    }

    /// The pool reads go to, as the backend's own type.
    pub fn native(&self) -> Either<&SqlitePool, &PgPool> {
        match self {
            Pool::Sqlite { readers, .. } => Either::Sqlite(readers),
            Pool::Postgres { pool, .. } => Either::Postgres(pool),
        }
    }

    /// A connection for a series of statements outside a write transaction.
    pub async fn acquire(&self) -> Result<PooledConnection, sqlx::Error> {
        Ok(match self {
            Pool::Sqlite { readers, .. } => PooledConnection::Sqlite(readers.acquire().await?),
            Pool::Postgres { pool, .. } => PooledConnection::Postgres(pool.acquire().await?),
        })
    }

    /// The same database, with reads on the quick lane's connections.
    ///
    /// Connections are handed out in turn, so under load a statement waits
    /// behind the pages' long reads (a programme page, a report's figures)
    /// that came before it. Every request first reads its session: on the
    /// shared connections a dashboard that needs nothing else but cached
    /// figures waited there for most of its time. Only short reads through
    /// an index belong here; a long one would bring the queue back.
    /// Writes still go to the one writer.
    pub fn quick_lane(&self) -> Pool {
        match self {
            Pool::Sqlite { writer, quick, .. } => Pool::Sqlite {
                readers: quick.clone(),
                writer: writer.clone(),
                quick: quick.clone(),
            },
            Pool::Postgres { quick, .. } => Pool::Postgres {
                pool: quick.clone(),
                quick: quick.clone(),
            },
        }
    }

    pub async fn close(&self) {
        match self {
            Pool::Sqlite { readers, writer, quick } => {
                readers.close().await;
                writer.close().await;
                quick.close().await;
            }
            Pool::Postgres { pool, quick } => {
                pool.close().await;
                quick.close().await;
            }
        }
    }
}

/// A native connection of either backend, whether a pooled connection or a
/// transaction: what the data layer's functions that run several statements
/// take, as `&mut Conn`.
pub trait Connection: Send {
    fn native(&mut self) -> Either<&mut SqliteConnection, &mut PgConnection>;

    fn backend(&mut self) -> Backend {
        match self.native() {
            Either::Sqlite(_) => Backend::Sqlite,
            Either::Postgres(_) => Backend::Postgres,
        }
    }
}

/// The connection type the data layer's functions take.
pub type Conn = dyn Connection;

/// A connection borrowed from the pool.
// One lives per request or workflow, so its size does not matter.
#[allow(clippy::large_enum_variant)]
pub enum PooledConnection {
    Sqlite(PoolConnection<Sqlite>),
    Postgres(PoolConnection<Postgres>),
}

impl Connection for PooledConnection {
    fn native(&mut self) -> Either<&mut SqliteConnection, &mut PgConnection> {
        match self {
            PooledConnection::Sqlite(conn) => Either::Sqlite(&mut **conn),
            PooledConnection::Postgres(conn) => Either::Postgres(&mut **conn),
        }
    }
}

/// A write transaction, begun by [`begin_write`].
#[allow(clippy::large_enum_variant)]
pub enum Tx {
    /// With the writer's options, to copy the log back after the commit.
    Sqlite(Transaction<'static, Sqlite>, std::sync::Arc<SqliteConnectOptions>),
    Postgres(Transaction<'static, Postgres>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, options) => {
                tx.commit().await?;
                checkpoint::after_commit(&options);
                Ok(())
            }
            Tx::Postgres(tx) => tx.commit().await,
        }
    }

    pub async fn rollback(self) -> Result<(), sqlx::Error> {
        match self {
            Tx::Sqlite(tx, _) => tx.rollback().await,
            Tx::Postgres(tx) => tx.rollback().await,
        }
    }
}

impl Connection for Tx {
    fn native(&mut self) -> Either<&mut SqliteConnection, &mut PgConnection> {
        match self {
            Tx::Sqlite(tx, _) => Either::Sqlite(&mut **tx),
            Tx::Postgres(tx) => Either::Postgres(&mut **tx),
        }
    }
}

/// Runs the same body once per backend, with `$source` (a `&Pool` or a
/// `&mut Conn`) rebound to the backend's native pool or connection, so one
/// query text and one row type serve both while each compiles against its
/// own driver: `db_run!(pool => { sqlx::query_as(SQL).fetch_all(pool).await })`.
macro_rules! db_run {
    ($source:ident => $body:expr) => {
        match $source.native() {
            $crate::db::Either::Sqlite($source) => $body,
            $crate::db::Either::Postgres($source) => $body,
        }
    };
}
pub(crate) use db_run;

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
    type Connection = PooledConnection;
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
        Ok(self.acquire().await?)
    }

    async fn close(&self) {
        Pool::close(self).await;
    }
}

/// Opens a pool. For SQLite, creates the folder and the file, and turns on
/// WAL (readers do not block the writer), a busy timeout (writers queue
/// rather than fail) and foreign keys, on every connection.
pub async fn connect(url: &str, max_connections: u32) -> Result<Pool, PoolError> {
    let backend = Backend::from_url(url).ok_or_else(|| {
        PoolError::Config(format!(
            "the database URL must start with sqlite:// or postgres:// (got \"{}\")",
            redact_url(url)
        ))
    })?;
    let max_connections = max_connections.max(1);
    match backend {
        Backend::Sqlite => {
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
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(sqlx::sqlite::SqliteJournalMode::Wal)
                .busy_timeout(Duration::from_secs(10))
                .foreign_keys(true)
                .synchronous(sqlx::sqlite::SqliteSynchronous::Normal)
                // 64 MiB of pages rather than SQLite's 2 MiB: a large import
                // or undo touches tens of megabytes of tables and indexes,
                // and with the small cache reads the same pages again and again.
                .pragma("cache_size", "-65536")
                // Reads map the database file (up to 2 GiB) instead of
                // copying each page through a read call into every
                // connection's own cache: the pages are shared with the
                // operating system's cache, once for all connections.
                .pragma("mmap_size", "2147483648")
                // A statement's rows come from the connection's own thread
                // through a channel of this many: at sqlx's 50 the thread
                // stopped and was woken again every 50 rows, and a page
                // reading a few thousand rows spent more time switching
                // threads than in SQLite.
                .row_buffer_size(1024)
                // Commits leave copying the log back to the background (see
                // `checkpoint`).
                .pragma("wal_autocheckpoint", "0")
                .pragma("journal_size_limit", checkpoint::LOG_LIMIT.to_string());
            // Connections open when first used, not here: SQLite reads the
            // planner's statistics when a connection opens and keeps them,
            // whatever a later ANALYZE on another connection finds. Opened
            // here, before `migrate` refreshes the statistics, they kept
            // those of the last start (or of the empty database the large
            // demo set began as: "41 people"), and looked people up by
            // scanning all 200,000 of them (40 ms a statement, not 1 ms).
            let pool = |connections: u32, acquire_timeout: Duration, options: SqliteConnectOptions| {
                SqlitePoolOptions::new()
                    .max_connections(connections)
                    .acquire_timeout(acquire_timeout)
                    // A connection to a local file does not drop: sqlx's ping
                    // before each use was a round trip to the connection's
                    // thread for every statement (two thread switches),
                    // a third of the switching on a busy server.
                    .test_before_acquire(false)
                    // One opened before a refresh of the statistics is
                    // closed, and the next opens with the fresh ones.
                    .before_acquire(|_, connection| {
                        Box::pin(async move { Ok(!statistics::opened_before_refresh(connection.age)) })
                    })
                    .connect_lazy_with(options)
            };
            let readers = pool(max_connections, Duration::from_secs(10), options.clone());
            // Writers wait here for their turn; a queue of many short
            // transactions can take longer than a reader would ever wait.
            // The writer keeps 256 MiB of pages: an import of 100,000 rows
            // into the large data set changes about 110 MB of tables and
            // indexes, and with 64 MiB SQLite wrote changed pages out to the
            // log mid-transaction and read them back (the import took 15 %
            // longer, its undo 20 %).
            let writer_options = options.clone().pragma("cache_size", "-262144");
            let writer = pool(1, WRITER_QUEUE_TIMEOUT, writer_options);
            let quick = pool(quick_lane_size(max_connections), Duration::from_secs(10), options);
            Ok(Pool::Sqlite { readers, writer, quick })
        }
        Backend::Postgres => {
            let pool = |connections: u32| {
                PgPoolOptions::new()
                    .max_connections(connections)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
            };
            Ok(Pool::Postgres {
                pool: pool(max_connections).await?,
                quick: pool(quick_lane_size(max_connections)).await?,
            })
        }
    }
}

/// Connections of the quick lane beside `max_connections` for the rest:
/// half as many, at least one. Its reads take a fraction of a millisecond
/// of work, but on a busy server each waits its turn for a processor too,
/// and the dashboard asks five at once.
fn quick_lane_size(max_connections: u32) -> u32 {
    (max_connections / 2).clamp(1, 8)
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
pub async fn begin_write(pool: &Pool) -> Result<Tx, sqlx::Error> {
    match pool {
        Pool::Sqlite { writer, .. } => {
            let mut tx = writer.begin().await?;
            sqlx::query("DELETE FROM write_lock WHERE 0 = 1")
                .execute(&mut *tx)
                .await?;
            Ok(Tx::Sqlite(tx, writer.connect_options()))
        }
        Pool::Postgres { pool, .. } => Ok(Tx::Postgres(pool.begin().await?)),
    }
}

/// Brings the schema up to date.
///
/// On SQLite the migrations run with foreign keys off, on a connection of
/// their own:
/// changing a column or adding a constraint means rebuilding the table, and
/// dropping the old copy of a table others refer to must neither cascade
/// nor be refused (SQLite's documented way; the setting cannot change inside
/// the migration's own transaction). Every foreign key is then checked
/// before they are switched back on, so a migration that left a dangling
/// reference stops the start-up instead of going unnoticed.
pub async fn migrate(pool: &Pool) -> Result<(), sqlx::migrate::MigrateError> {
    match pool {
        Pool::Sqlite { writer, .. } => {
            // Its own connection, made with foreign keys off from the start.
            let options = (*writer.connect_options()).clone().foreign_keys(false);
            let migrating = SqlitePoolOptions::new()
                .max_connections(1)
                .connect_with(options)
                .await?;
            let before = applied_on(&migrating).await;
            let migrated = sqlx::migrate!("migrations/sqlite").run(&migrating).await;
            // Checking reads every table, so only when something was applied.
            let dangling: Result<Vec<(String, i64, String)>, sqlx::Error> = if applied_on(&migrating).await == before {
                Ok(Vec::new())
            } else {
                sqlx::query_as("SELECT \"table\", rowid, parent FROM pragma_foreign_key_check")
                    .fetch_all(&migrating)
                    .await
            };
            // Planner statistics on every start, not only when a migration
            // made new indexes: a database that was filled after its schema
            // was made (the large demo set, a year of imports) otherwise
            // keeps the statistics of its empty tables, and SQLite then
            // picks indexes by their shape alone (the IRIS standings
            // checked each person against every spell of the completion).
            // Bounded to a sample of each index: well under a second on a
            // million rows.
            if migrated.is_ok() {
                statistics::analyze_sqlite(&migrating).await?;
            }
            migrating.close().await;
            migrated?;
            match dangling?.first() {
                None => Ok(()),
                Some((table, row, parent)) => Err(sqlx::migrate::MigrateError::Execute(sqlx::Error::Protocol(
                    format!("after migrating, row {row} of {table} refers to a missing row of {parent}"),
                ))),
            }
        }
        Pool::Postgres { pool, .. } => sqlx::migrate!("migrations/postgres").run(pool).await,
    }
}

/// How many migrations a SQLite database has had; 0 for a new one.
async fn applied_on(pool: &SqlitePool) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
        .fetch_one(pool)
        .await
        .unwrap_or(0)
}

/// Ends a row (revokes or withdraws it) with when (`$1`) and why (`$2`),
/// once: `update` names the row as `$3` and matches it only while it has
/// not been ended. Returns false, changing nothing, when it already was, so
/// of two people doing it at once the second finds the first's.
pub(crate) async fn end_once(
    conn: &mut Conn,
    update: &str,
    id: i64,
    reason: &str,
    now: DateTime<Utc>,
) -> Result<bool, sqlx::Error> {
    db_run!(conn => {
        let done = sqlx::query(update).bind(Instant(now)).bind(reason).bind(id).execute(conn).await?;
        Ok(done.rows_affected() == 1)
    })
}

/// Whether `error` is a UNIQUE constraint refusing a second copy of a row:
/// two people doing the same thing at once, the second finding the first's.
pub fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(e) if e.is_unique_violation())
}

/// How many migrations have been applied: shown by `/healthz`.
pub async fn applied_migrations(pool: &Pool) -> Result<i64, sqlx::Error> {
    db_run!(pool => {
        let row: (i64,) = sqlx::query_as("SELECT COUNT(*) FROM _sqlx_migrations WHERE success = TRUE")
            .fetch_exactly_one(pool)
            .await?;
        Ok(row.0)
    })
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

/// One value for [`insert_many`]; text is borrowed where it can be, as a
/// large import binds hundreds of thousands of values.
#[derive(Debug, Clone)]
pub enum Bind<'a> {
    Int(i64),
    Text(std::borrow::Cow<'a, str>),
    /// An id or number that may be absent (NULL).
    MaybeInt(Option<i64>),
    /// Text that may be absent (NULL).
    MaybeText(Option<std::borrow::Cow<'a, str>>),
    Instant(DateTime<Utc>),
    MaybeInstant(Option<DateTime<Utc>>),
    Date(NaiveDate),
    MaybeDate(Option<NaiveDate>),
    Flag(bool),
}

/// Values that bind as they are, each as its own kind.
macro_rules! bind_from {
    ($($ty:ty => $kind:ident),* $(,)?) => {$(
        impl From<$ty> for Bind<'_> {
            fn from(value: $ty) -> Self {
                Bind::$kind(value)
            }
        }
    )*};
}

bind_from!(
    i64 => Int,
    Option<i64> => MaybeInt,
    NaiveDate => Date,
    Option<NaiveDate> => MaybeDate,
    bool => Flag,
);

impl<'a> From<&'a str> for Bind<'a> {
    fn from(value: &'a str) -> Self {
        Bind::Text(value.into())
    }
}

impl<'a> From<Option<&'a str>> for Bind<'a> {
    fn from(value: Option<&'a str>) -> Self {
        Bind::MaybeText(value.map(Into::into))
    }
}

impl From<String> for Bind<'_> {
    fn from(value: String) -> Self {
        Bind::Text(value.into())
    }
}

/// An instant binds as [`Instant`] does, in the one stored form.
impl From<Instant> for Bind<'_> {
    fn from(value: Instant) -> Self {
        Bind::Instant(value.0)
    }
}

impl From<Option<Instant>> for Bind<'_> {
    fn from(value: Option<Instant>) -> Self {
        Bind::MaybeInstant(value.map(|at| at.0))
    }
}

/// Binds each [`Bind`] of `$values` to the query in `$query`, in order. A
/// macro, since sqlx's query kinds (rows, tuples, no rows) share no trait
/// for `bind`, and it runs inside [`db_run!`] once per backend.
macro_rules! bind_each {
    ($query:ident, $values:expr) => {
        for value in $values {
            $query = match value {
                Bind::Int(i) => $query.bind(*i),
                Bind::Text(t) => $query.bind(t.as_ref()),
                Bind::MaybeInt(i) => $query.bind(*i),
                Bind::MaybeText(t) => $query.bind(t.as_deref()),
                Bind::Instant(at) => $query.bind(Instant(*at)),
                Bind::MaybeInstant(at) => $query.bind(at.map(Instant)),
                Bind::Date(day) => $query.bind(*day),
                Bind::MaybeDate(day) => $query.bind(*day),
                Bind::Flag(flag) => $query.bind(*flag),
            };
        }
    };
}

/// A row type both backends read: a `#[derive(sqlx::FromRow)]` struct or a tuple.
pub trait Row:
    for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow> + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin
{
}

impl<T> Row for T where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin
{
}

// The statements most of this layer runs: one query text, its values bound
// as `$1`, `$2`, … in order, its rows read as `T`. A pool's caller passes
// `&mut pool.acquire().await?`.

/// Every row `sql` finds.
pub async fn rows<T: Row>(conn: &mut Conn, sql: &str, values: &[Bind<'_>]) -> Result<Vec<T>, sqlx::Error> {
    db_run!(conn => {
        let mut query = sqlx::query_as::<_, T>(sql);
        bind_each!(query, values);
        query.fetch_all(conn).await
    })
}

/// The first row `sql` finds, if any.
pub async fn first_row<T: Row>(conn: &mut Conn, sql: &str, values: &[Bind<'_>]) -> Result<Option<T>, sqlx::Error> {
    db_run!(conn => {
        let mut query = sqlx::query_as::<_, T>(sql);
        bind_each!(query, values);
        query.fetch_first(conn).await
    })
}

/// The one column of the first row `sql` finds, if any: an id, a name.
pub async fn first_value<T>(conn: &mut Conn, sql: &str, values: &[Bind<'_>]) -> Result<Option<T>, sqlx::Error>
where
    (T,): Row,
{
    let row: Option<(T,)> = first_row(conn, sql, values).await?;
    Ok(row.map(|(value,)| value))
}

/// The one row `sql` gives: a count, or what an INSERT returns.
pub async fn one_row<T: Row>(conn: &mut Conn, sql: &str, values: &[Bind<'_>]) -> Result<T, sqlx::Error> {
    db_run!(conn => {
        let mut query = sqlx::query_as::<_, T>(sql);
        bind_each!(query, values);
        query.fetch_exactly_one(conn).await
    })
}

/// The one column of the one row `sql` gives: a count, or the id an INSERT
/// returns.
pub async fn one_value<T>(conn: &mut Conn, sql: &str, values: &[Bind<'_>]) -> Result<T, sqlx::Error>
where
    (T,): Row,
{
    let (value,) = one_row(conn, sql, values).await?;
    Ok(value)
}

/// Runs a statement that changes rows; returns how many it changed.
pub async fn execute(conn: &mut Conn, sql: &str, values: &[Bind<'_>]) -> Result<u64, sqlx::Error> {
    db_run!(conn => {
        let mut query = sqlx::query(sql);
        bind_each!(query, values);
        Ok(query.execute(conn).await?.rows_affected())
    })
}

/// The WHERE clause of a filter and the values it binds: only the
/// conditions a filter sets, so that each can use its index (an entity's
/// history reads `audit_log_by_entity`, an action `audit_log_by_action`)
/// and no row is tested against "any" (`$2 = '' OR …`): counting ten
/// thousand organisations took 1.8 ms with every condition written out
/// and tested on each row, 0.2 ms with none.
#[derive(Default)]
pub(crate) struct Conditions<'a> {
    tests: Vec<String>,
    pub binds: Vec<Bind<'a>>,
}

impl<'a> Conditions<'a> {
    /// Adds `test`, in which every `?` is `value`.
    pub fn add(&mut self, test: &str, value: Bind<'a>) {
        let placeholder = self.placeholder(value);
        self.tests.push(test.replace('?', &placeholder));
    }

    /// Binds `value` and returns its placeholder (`$3`), for a test that
    /// reads several values ([`Conditions::require`]).
    pub fn placeholder(&mut self, value: Bind<'a>) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Adds `test` as written (its placeholders from [`Conditions::placeholder`]).
    pub fn require(&mut self, test: String) {
        self.tests.push(test);
    }

    /// ` WHERE a AND b`, or nothing when no condition was added.
    pub fn clause(&self) -> String {
        if self.tests.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", self.tests.join(" AND "))
        }
    }
}

/// One page of what `select` finds (its SQL ends with ORDER BY, before any
/// LIMIT) and how many rows `count` (a `SELECT COUNT(*)` with the same
/// filter) finds in all. Both bind `filter` as `$1`, `$2`, …; the page binds
/// its limit and offset after them.
pub(crate) async fn page_and_total<T: Row>(
    pool: &Pool,
    select: &str,
    count: &str,
    filter: &[Bind<'_>],
    limit: i64,
    offset: i64,
) -> Result<(Vec<T>, i64), sqlx::Error> {
    let limit_at = filter.len() + 1;
    let page_sql = format!("{select} LIMIT ${limit_at} OFFSET ${}", limit_at + 1);
    db_run!(pool => {
        let mut page = sqlx::query_as::<_, T>(&page_sql);
        bind_each!(page, filter);
        let page = page.bind(limit).bind(offset);
        let mut total = sqlx::query_as::<_, (i64,)>(count);
        bind_each!(total, filter);
        // Both at once, each on a connection of its own (neither holds one
        // while waiting for another): on a busy server one wait for a
        // connection's turn instead of two.
        let (rows, (total,)) = rocket::tokio::try_join!(page.fetch_all(pool), total.fetch_exactly_one(pool))?;
        Ok((rows, total))
    })
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
pub async fn insert_many(conn: &mut Conn, target: &str, rows: &[Vec<Bind<'_>>]) -> Result<(), sqlx::Error> {
    insert_rows(conn, target, rows, false).await.map(drop)
}

/// [`insert_many`] that returns the new rows' ids, in the order given.
pub async fn insert_many_returning_ids(
    conn: &mut Conn,
    target: &str,
    rows: &[Vec<Bind<'_>>],
) -> Result<Vec<i64>, sqlx::Error> {
    insert_rows(conn, target, rows, true).await
}

async fn insert_rows(
    conn: &mut Conn,
    target: &str,
    rows: &[Vec<Bind<'_>>],
    returning_ids: bool,
) -> Result<Vec<i64>, sqlx::Error> {
    use sqlx::Row;
    let mut ids = Vec::with_capacity(if returning_ids { rows.len() } else { 0 });
    let backend = conn.backend();
    let suffix = if returning_ids { " RETURNING id" } else { "" };
    for (sql, values) in multi_row_inserts(backend, target, rows, suffix) {
        db_run!(conn => {
            let mut query = sqlx::query(&sql);
            bind_each!(query, values);
            if returning_ids {
                for row in query.fetch_all(&mut *conn).await? {
                    ids.push(row.try_get(0)?);
                }
            } else {
                query.execute(&mut *conn).await?;
            }
        })
    }
    Ok(ids)
}

/// The placeholders of an `IN (…)` list of `count` values whose first is
/// value number `first` of the statement. On SQLite they are positional
/// (`?`, so every other value of the statement must be too), for the reason
/// given at [`insert_many`]; PostgreSQL needs `$n`.
pub fn in_list(backend: Backend, first: usize, count: usize) -> String {
    let each = |n: usize| match backend {
        Backend::Sqlite => "?".to_string(),
        Backend::Postgres => format!("${n}"),
    };
    (first..first + count).map(each).collect::<Vec<_>>().join(", ")
}

/// The statements (and the values each binds) that insert `rows`.
fn multi_row_inserts<'r, 'b>(
    backend: Backend,
    target: &str,
    rows: &'r [Vec<Bind<'b>>],
    suffix: &str,
) -> Vec<(String, impl Iterator<Item = &'r Bind<'b>>)> {
    let Some(width) = rows.first().map(Vec::len).filter(|w| *w > 0) else {
        return Vec::new();
    };
    let positional = backend == Backend::Sqlite;
    // SQLite allows 32,766 values a statement.
    let values_per_statement = if positional { 12_000 } else { 240 };
    let per_statement = (values_per_statement / width).max(1);
    rows.chunks(per_statement)
        .map(|chunk| {
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
            let sql = format!("INSERT INTO {target} VALUES {}{suffix}", values.join(", "));
            (sql, chunk.iter().flatten())
        })
        .collect()
}

type BoxedFetch<'e, T> = std::pin::Pin<Box<dyn std::future::Future<Output = Result<T, sqlx::Error>> + Send + 'e>>;

/// `fetch_one` / `fetch_optional` that wait for the statement to finish.
/// sqlx's SQLite driver hands back the first row while its worker thread is
/// still stepping the statement, so an `INSERT … RETURNING` outside a
/// transaction may not be committed yet when the caller moves on: the next
/// request, on another connection, would not see the row (a new session, for
/// one). Reading every row waits for the end. Use these in the data layer.
pub trait FetchFully<'q, DB: sqlx::Database, O> {
    fn fetch_first<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, Option<O>>
    where
        'q: 'e,
        O: 'e,
        E: 'e + sqlx::Executor<'c, Database = DB>;

    fn fetch_exactly_one<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, O>
    where
        'q: 'e,
        O: 'e,
        Self: Sized + Send + 'e,
        E: 'e + sqlx::Executor<'c, Database = DB>,
    {
        let first = self.fetch_first(executor);
        Box::pin(async move { first.await?.ok_or(sqlx::Error::RowNotFound) })
    }
}

impl<'q, DB, O, A> FetchFully<'q, DB, O> for sqlx::query::QueryAs<'q, DB, O, A>
where
    DB: sqlx::Database,
    A: 'q + sqlx::IntoArguments<'q, DB> + Send,
    O: Send + Unpin + for<'r> sqlx::FromRow<'r, DB::Row>,
{
    fn fetch_first<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, Option<O>>
    where
        'q: 'e,
        O: 'e,
        E: 'e + sqlx::Executor<'c, Database = DB>,
    {
        Box::pin(async move { Ok(self.fetch_all(executor).await?.into_iter().next()) })
    }
}

impl<'q, DB, A> FetchFully<'q, DB, DB::Row> for sqlx::query::Query<'q, DB, A>
where
    DB: sqlx::Database,
    A: 'q + sqlx::IntoArguments<'q, DB> + Send,
{
    fn fetch_first<'e, 'c: 'e, E>(self, executor: E) -> BoxedFetch<'e, Option<DB::Row>>
    where
        'q: 'e,
        DB::Row: 'e,
        E: 'e + sqlx::Executor<'c, Database = DB>,
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
