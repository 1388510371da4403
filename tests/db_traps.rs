//! The traps sqlx 0.7's `Any` driver set, listed at the top of
//! `src/db/mod.rs`, checked against the native drivers the data layer now
//! uses: each is either gone or still guarded. Runs on SQLite, and on
//! PostgreSQL when QMTRACK_TEST_POSTGRES_URL is set. (That the schema
//! itself now stores NULL rather than 0 / '' is checked by
//! `tests/schema_upgrade.rs`.)

mod common;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use qmtrack::db::audit::{self, Actor, Entry};
use qmtrack::db::{self, published, users, Instant, Pool};
use qmtrack::domain::access::Role;
use qmtrack::domain::user::NewUser;

/// A migrated pool, and the database it lives in (dropped with the guard).
async fn fresh_pool(dir: &std::path::Path) -> (Pool, common::TestDatabase) {
    let database = common::fresh_database(dir).await;
    let pool = db::connect(&database.url, 4).await.expect("connect");
    db::migrate(&pool).await.expect("migrate");
    (pool, database)
}

fn at() -> DateTime<Utc> {
    qmtrack::clock::from_db("2026-03-02T09:00:00Z").expect("a valid instant")
}

/// On PostgreSQL the `Any` driver typed a NULL argument `int4` and cached
/// the statement with that type, so a later real value for the same
/// parameter failed. Natively, the same statement takes NULL, then a value,
/// then NULL again, and each reads back as written.
#[rocket::async_test]
async fn the_same_statement_takes_none_then_some_and_reads_null_as_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, _database) = fresh_pool(dir.path()).await;
    let mut tx = db::begin_write(&pool).await.expect("begin");
    for (entity_id, after) in [
        (None, None),
        (Some(7_000_000_000_i64), Some(serde_json::json!({"n": 1}))),
        (None, None),
    ] {
        let entry = Entry {
            after,
            ..Entry::of("trap.check", "thing", entity_id)
        };
        audit::record(&mut tx, Actor::command_line("test").at(at()), entry)
            .await
            .expect("record");
    }
    tx.commit().await.expect("commit");

    let mut rows = audit::recent(&pool, 10).await.expect("read");
    rows.reverse();
    let read: Vec<(Option<i64>, Option<String>, Option<i64>)> = rows
        .iter()
        .map(|r| (r.entity_id, r.after_json.clone(), r.organisation_id))
        .collect();
    assert_eq!(
        read,
        vec![
            (None, None, None),
            (Some(7_000_000_000), Some(r#"{"n":1}"#.to_string()), None),
            (None, None, None),
        ]
    );
}

/// `Any` could not decode a flag; accounts read theirs as a `bool`, and an
/// optional organisation as `Option`.
#[rocket::async_test]
async fn flags_read_as_booleans() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, _database) = fresh_pool(dir.path()).await;
    let mut tx = db::begin_write(&pool).await.expect("begin");
    let user = NewUser {
        name: "Lead".into(),
        email: "lead@example.org".into(),
        role: Role::ProgrammeLead,
        organisation_id: None,
        password: String::new(),
    };
    let id = users::insert(&mut tx, &user, "hash", at()).await.expect("insert");
    tx.commit().await.expect("commit");
    let found = users::find(&pool, id).await.expect("find").expect("the user");
    assert!(found.active);
    assert_eq!(found.organisation_id, None);

    let mut tx = db::begin_write(&pool).await.expect("begin");
    users::set_active(&mut tx, id, false, at()).await.expect("deactivate");
    tx.commit().await.expect("commit");
    let found = users::find(&pool, id).await.expect("find").expect("the user");
    assert!(!found.active);
}

/// Every row of a statement is read, not just the first.
#[rocket::async_test]
async fn many_rows_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, _database) = fresh_pool(dir.path()).await;
    let mut tx = db::begin_write(&pool).await.expect("begin");
    for n in 0..300 {
        audit::record(
            &mut tx,
            Actor::command_line("test").at(at()),
            Entry::of("trap.many", "thing", Some(n)),
        )
        .await
        .expect("record");
    }
    tx.commit().await.expect("commit");
    let rows = audit::recent(&pool, 1000).await.expect("read");
    assert_eq!(rows.len(), 300);
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.entity_id).collect();
    ids.sort_unstable();
    assert_eq!(ids, (0..300).collect::<Vec<_>>());
}

/// A row written with `INSERT … RETURNING` outside a transaction is
/// committed at once, and another connection sees it: the data layer reads
/// such statements to their end.
#[rocket::async_test]
async fn a_returning_insert_is_seen_by_other_connections() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, _database) = fresh_pool(dir.path()).await;
    let mut first = pool.acquire().await.expect("a connection");
    let user = NewUser {
        name: "Assessor".into(),
        email: "assessor@example.org".into(),
        role: Role::Assessor,
        organisation_id: None,
        password: String::new(),
    };
    let id = users::insert(&mut first, &user, "hash", at()).await.expect("insert");
    // Held open, so the read below must use another connection.
    let mut second = pool.acquire().await.expect("another connection");
    assert_eq!(users::count_in(&mut second).await.expect("count"), 1);
    assert!(users::find(&pool, id).await.expect("find").is_some());
    drop(first);
}

/// SQLite: a statement read for its first row only is still run to its end
/// and finished, so the rows it wrote are committed and other connections
/// see them. (The driver may still be finishing it when the row arrives,
/// which is why the data layer reads to the end: see `db::FetchFully`.)
#[rocket::async_test]
async fn a_statement_read_for_one_row_is_finished() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, _database) = fresh_pool(dir.path()).await;
    let Pool::Sqlite { readers, .. } = &pool else {
        return; // PostgreSQL runs every statement to completion.
    };
    let mut first = readers.acquire().await.expect("a connection");
    let (id,): (i64,) = sqlx::query_as("INSERT INTO write_lock (id) VALUES (1), (2), (3) RETURNING id")
        .fetch_one(&mut *first)
        .await
        .expect("insert");
    assert_eq!(id, 1);
    let mut second = readers.acquire().await.expect("another connection");
    // The driver finishes the statement on its own thread, so on a busy
    // machine the rows may not be there the instant the first one arrives:
    // look again for a while (this is what FetchFully spares the data layer).
    let mut seen = 0;
    for _ in 0..100 {
        let (count,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM write_lock")
            .fetch_one(&mut *second)
            .await
            .expect("count");
        seen = count;
        if seen == 3 {
            break;
        }
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(seen, 3);
    drop(first);
}

/// How many audit entries were written at exactly `at`, bound as `bind`.
async fn entries_at<T>(pool: &Pool, bind: T) -> i64
where
    T: for<'q> sqlx::Encode<'q, sqlx::Sqlite> + sqlx::Type<sqlx::Sqlite>,
    T: for<'q> sqlx::Encode<'q, sqlx::Postgres> + sqlx::Type<sqlx::Postgres>,
    T: Send + Clone,
{
    const SQL: &str = "SELECT COUNT(*) FROM audit_log WHERE at = $1";
    let found: Result<(i64,), sqlx::Error> = match pool {
        Pool::Sqlite { readers, .. } => sqlx::query_as(SQL).bind(bind).fetch_one(readers).await,
        Pool::Postgres { pool: pg, .. } => sqlx::query_as(SQL).bind(bind).fetch_one(pg).await,
    };
    found.expect("count").0
}

/// sqlx writes a `DateTime<Utc>` to SQLite as `2026-03-02T09:00:00.750+00:00`,
/// while every instant stored before (and by migrations) reads
/// `2026-03-02T09:00:00Z`: text in two forms neither compares equal nor
/// sorts as time does. Instants are bound as `db::Instant`: on SQLite the
/// `Z` form in whole seconds, on PostgreSQL a TIMESTAMPTZ; either way one
/// reads back as written, and instants written by code and by SQL in the
/// stored form order and filter together.
#[rocket::async_test]
async fn instants_round_trip_in_the_stored_form_and_order_as_time() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, _database) = fresh_pool(dir.path()).await;
    let nine = at() + Duration::milliseconds(750);
    let mut tx = db::begin_write(&pool).await.expect("begin");
    audit::record(
        &mut tx,
        Actor::command_line("test").at(nine),
        Entry::of("trap.code", "thing", None),
    )
    .await
    .expect("record");
    tx.commit().await.expect("commit");
    // Written the way migrations and older versions wrote instants: text.
    let by_sql = "INSERT INTO audit_log (at, actor_label, action, entity)
        VALUES ('2026-03-02T08:30:00Z', 'sql', 'trap.sql', 'thing'), ('2026-03-02T10:00:00Z', 'sql', 'trap.sql', 'thing')";
    match &pool {
        Pool::Sqlite { writer, .. } => sqlx::query(by_sql).execute(writer).await.map(drop),
        Pool::Postgres { pool: pg, .. } => sqlx::query(by_sql).execute(pg).await.map(drop),
    }
    .expect("rows in the stored form");

    if let Pool::Sqlite { readers, .. } = &pool {
        let (stored,): (String,) = sqlx::query_as("SELECT at FROM audit_log WHERE action = 'trap.code'")
            .fetch_one(readers)
            .await
            .expect("stored text");
        assert_eq!(stored, "2026-03-02T09:00:00Z");
        // The trap itself: sqlx's own encoding does not match what is stored.
        assert_eq!(entries_at(&pool, at()).await, 0, "sqlx writes +00:00, not Z");
    }
    assert_eq!(entries_at(&pool, Instant(at())).await, 1);
    assert_eq!(entries_at(&pool, Instant(nine)).await, 1, "kept in whole seconds");

    let mut read = audit::recent(&pool, 10).await.expect("read");
    read.sort_by_key(|entry| entry.at);
    let order: Vec<(&str, String)> = read
        .iter()
        .map(|entry| (entry.action.as_str(), qmtrack::clock::to_db(entry.at)))
        .collect();
    assert_eq!(
        order,
        [
            ("trap.sql", "2026-03-02T08:30:00Z".to_string()),
            ("trap.code", "2026-03-02T09:00:00Z".to_string()),
            ("trap.sql", "2026-03-02T10:00:00Z".to_string()),
        ]
    );
    // The database's own order and bounds agree with time.
    let (found, total) = audit::search(
        &pool,
        &audit::Filter {
            from: Some(at() - Duration::minutes(15)),
            until: Some(at() + Duration::minutes(60)),
            limit: 10,
            ..audit::Filter::default()
        },
    )
    .await
    .expect("search");
    assert_eq!(total, 1);
    assert_eq!(found[0].action, "trap.code");
    let (found, total) = audit::search(
        &pool,
        &audit::Filter {
            from: Some(at()),
            limit: 10,
            ..audit::Filter::default()
        },
    )
    .await
    .expect("search");
    assert_eq!(total, 2, "an instant at the bound itself is inside it");
    assert_eq!(
        found.iter().map(|e| e.action.as_str()).collect::<Vec<_>>(),
        ["trap.sql", "trap.code"],
        "newest first"
    );
}

/// A date binds and reads as `NaiveDate`: on SQLite as `YYYY-MM-DD` text,
/// the form every stored date has; on PostgreSQL as a DATE.
#[rocket::async_test]
async fn dates_round_trip_as_dates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, _database) = fresh_pool(dir.path()).await;
    let (from, to) = (
        NaiveDate::from_ymd_opt(2026, 1, 1).expect("a date"),
        NaiveDate::from_ymd_opt(2026, 3, 31).expect("a date"),
    );
    let mut tx = db::begin_write(&pool).await.expect("begin");
    let id = published::insert(
        &mut tx,
        &published::NewPublished {
            title: "Quarter",
            period_from: from,
            period_to: to,
            figures_json: "{}",
            narrative_json: "{}",
            author_user_id: None,
            author_label: "test",
        },
        at(),
    )
    .await
    .expect("insert");
    tx.commit().await.expect("commit");
    let row = published::find(&pool, id).await.expect("find").expect("the report");
    assert_eq!((row.period_from, row.period_to, row.published_at), (from, to, at()));
    if let Pool::Sqlite { readers, .. } = &pool {
        let stored: (String, String) = sqlx::query_as("SELECT period_from, period_to FROM published_reports")
            .fetch_one(readers)
            .await
            .expect("stored text");
        assert_eq!(stored, ("2026-01-01".to_string(), "2026-03-31".to_string()));
    }
}

/// SQLite reads the planner's statistics when a connection opens and keeps
/// them, whatever a later ANALYZE on another connection finds. The pools'
/// connections used to open before the start's ANALYZE, so they planned
/// with the statistics of an earlier start; with those of a small database
/// ("40 people") a look-up of a few people by id scanned every person.
/// They now open after it, and a connection opened before a refresh after a
/// large import is replaced. SQLite only: PostgreSQL's statistics are shared.
#[rocket::async_test]
async fn sqlite_connections_plan_with_the_latest_statistics() {
    use sqlx::sqlite::SqlitePoolOptions;
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}", dir.path().join("statistics.sqlite").display());
    let pool = db::connect(&url, 2).await.expect("connect");
    db::migrate(&pool).await.expect("migrate");
    drop(pool);
    // Another process adds people, analysing the database while it holds
    // 40 of them and not after the rest.
    let other = SqlitePoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("another connection");
    let fill = |sql: String| {
        let other = other.clone();
        async move { sqlx::query(&sql).execute(&other).await.expect("fill") }
    };
    let people = |count: i64| {
        format!(
            "INSERT INTO people (organisation_id, full_name, created_at, updated_at)
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {count})
             SELECT 1, 'Person ' || i, '2026-03-02T09:00:00Z', '2026-03-02T09:00:00Z' FROM n"
        )
    };
    fill("INSERT INTO organisations (name, name_key, org_type, created_at, updated_at)
         VALUES ('Riverside Refuge', 'riverside refuge', 'voluntary_sector', '2026-03-02T09:00:00Z', '2026-03-02T09:00:00Z')"
        .to_string())
    .await;
    fill(people(40)).await;
    fill("ANALYZE".to_string()).await;
    fill(people(20_000)).await;

    let ids: Vec<String> = (1..=40).map(|i| (i * 400).to_string()).collect();
    let plan_sql = format!(
        "EXPLAIN QUERY PLAN SELECT id, organisation_id FROM people WHERE id IN ({})",
        ids.join(", ")
    );
    let plan = |pool: Pool| {
        let sql = plan_sql.clone();
        async move {
            let steps: Vec<(i64, i64, i64, String)> = db::rows(&mut pool.acquire().await.expect("a reader"), &sql, &[])
                .await
                .expect("plan");
            steps.into_iter().map(|(_, _, _, step)| step).collect::<Vec<String>>()
        }
    };
    let by_id = |steps: &[String]| {
        steps.iter().any(|s| s.contains("INTEGER PRIMARY KEY")) && !steps.iter().any(|s| s.starts_with("SCAN"))
    };

    // A start: the statistics the start made, not those on disk before it.
    let pool = db::connect(&url, 1).await.expect("connect");
    db::migrate(&pool).await.expect("migrate");
    let steps = plan(pool.clone()).await;
    assert!(
        by_id(&steps),
        "a reader looks people up by id, not by scanning them all: {steps:?}"
    );

    // The reader is kept open; the other process halves the people and
    // then writes 40 times as many, which the statistics refresh after a
    // large import sees. The reader, opened before, is replaced.
    fill("DELETE FROM people WHERE id > 20".to_string()).await;
    fill("ANALYZE".to_string()).await;
    drop(pool);
    let pool = db::connect(&url, 1).await.expect("connect");
    db::migrate(&pool).await.expect("migrate");
    let steps = plan(pool.clone()).await;
    assert!(!by_id(&steps), "planned with the statistics of 20 people: {steps:?}");
    fill(people(20_000)).await;
    other.close().await;
    db::statistics::refresh_after_bulk_write(&pool).await;
    let steps = plan(pool.clone()).await;
    assert!(
        by_id(&steps),
        "a reader opened before the refresh is replaced: {steps:?}"
    );
}

/// SQLite: a write transaction's commit leaves copying the write-ahead log
/// back into the database to the background (`db::checkpoint`), and that
/// does happen: after a write of several megabytes the log is emptied and
/// cut back to its limit, rather than growing with every write for ever.
#[rocket::async_test]
async fn a_large_write_leaves_the_log_to_be_copied_back_in_the_background() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (pool, database) = fresh_pool(dir.path()).await;
    if pool.backend() != db::Backend::Sqlite {
        return; // PostgreSQL keeps its own log.
    }
    let log = std::path::PathBuf::from(format!("{}-wal", database.url.trim_start_matches("sqlite://")));
    let padding = "x".repeat(8_000);
    let mut tx = db::begin_write(&pool).await.expect("begin");
    for n in 0..1_000 {
        let entry = Entry {
            after: Some(serde_json::json!({ "padding": padding })),
            ..Entry::of("log.fill", "thing", Some(n))
        };
        audit::record(&mut tx, Actor::command_line("test").at(at()), entry)
            .await
            .expect("record");
    }
    tx.commit().await.expect("commit");
    let grown = std::fs::metadata(&log).expect("the log").len();
    assert!(
        grown > db::checkpoint::LOG_LIMIT,
        "the write filled {grown} bytes of log"
    );
    // Once copied back, the next write starts the log again from its
    // beginning and cuts the file back to the limit.
    let mut size = grown;
    for _ in 0..200 {
        rocket::tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        let mut tx = db::begin_write(&pool).await.expect("begin");
        audit::record(
            &mut tx,
            Actor::command_line("test").at(at()),
            Entry::of("log.small", "thing", None),
        )
        .await
        .expect("record");
        tx.commit().await.expect("commit");
        size = std::fs::metadata(&log).expect("the log").len();
        if size <= db::checkpoint::LOG_LIMIT {
            break;
        }
    }
    assert!(
        size <= db::checkpoint::LOG_LIMIT,
        "the log is still {size} bytes, not copied back"
    );
    // Everything written is there to read.
    let filled = audit::recent(&pool, 2_000)
        .await
        .expect("read")
        .iter()
        .filter(|row| row.action == "log.fill")
        .count();
    assert_eq!(filled, 1_000);
}
