//! Migrations that change stored values, each run on a database holding the
//! demo's data in the shape the migrations before it made: 0011 (flags
//! become booleans), 0012 and 0030 ("none" becomes NULL), 0019 (typed dates
//! on PostgreSQL). Every row survives with its values.

mod common;

use common::TestApp;
use qmtrack::db::{self, Pool};
use qmtrack::domain::certificate::Kind as CertificateKind;
use qmtrack::domain::evidence::EvidenceKind;

/// The app with the demo's data, and a pool of its own on its database.
async fn demo_database() -> (TestApp, Pool) {
    let app = TestApp::spawn().await;
    let output = common::demo(&app);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pool = db::connect(&app.database_url, 2).await.expect("pool");
    (app, pool)
}

/// Every flag in the database, keyed by table and row, as booleans.
type Flags = Vec<(String, String, bool)>;

const READ_FLAGS: &str = "SELECT 'users', CAST(id AS TEXT), active FROM users
    UNION ALL SELECT 'training_sessions', CAST(id AS TEXT), online FROM training_sessions
    UNION ALL SELECT 'identity_decisions', person_key, same FROM identity_decisions
    UNION ALL SELECT 'assessments', CAST(id AS TEXT), imported FROM assessments
    ORDER BY 1, 2";

async fn flags(pool: &Pool) -> Flags {
    match pool {
        Pool::Sqlite { readers, .. } => sqlx::query_as(READ_FLAGS).fetch_all(readers).await,
        Pool::Postgres { pool: pg, .. } => sqlx::query_as(READ_FLAGS).fetch_all(pg).await,
    }
    .expect("flags")
}

/// On PostgreSQL, the columns back to 0010's BIGINT / INTEGER 0/1, with its
/// CHECK; on SQLite 0011 changes nothing, so the rows stay as they are.
const BACK_TO_0010_PG: &str = "
    ALTER TABLE identity_decisions ALTER COLUMN same TYPE INTEGER USING CASE WHEN same THEN 1 ELSE 0 END;
    ALTER TABLE identity_decisions ADD CONSTRAINT identity_decisions_same_check CHECK (same IN (0, 1));
    ALTER TABLE users ALTER COLUMN active DROP DEFAULT;
    ALTER TABLE users ALTER COLUMN active TYPE BIGINT USING CASE WHEN active THEN 1 ELSE 0 END;
    ALTER TABLE users ALTER COLUMN active SET DEFAULT 1;
    ALTER TABLE training_sessions ALTER COLUMN online DROP DEFAULT;
    ALTER TABLE training_sessions ALTER COLUMN online TYPE BIGINT USING CASE WHEN online THEN 1 ELSE 0 END;
    ALTER TABLE training_sessions ALTER COLUMN online SET DEFAULT 0;
    ALTER TABLE assessments ALTER COLUMN imported DROP DEFAULT;
    ALTER TABLE assessments ALTER COLUMN imported TYPE BIGINT USING CASE WHEN imported THEN 1 ELSE 0 END;
    ALTER TABLE assessments ALTER COLUMN imported SET DEFAULT 0;
    DELETE FROM _sqlx_migrations WHERE version = 11;";

#[rocket::async_test]
async fn flags_survive_the_move_to_booleans() {
    // The app (and with it the database) lives as long as the test.
    let (_app, pool) = demo_database().await;
    // Both values of every flag, so a conversion that lost one would show.
    let setup = "UPDATE users SET active = FALSE WHERE id = (SELECT MAX(id) FROM users);
        UPDATE training_sessions SET online = TRUE WHERE id = (SELECT MIN(id) FROM training_sessions);
        UPDATE assessments SET imported = TRUE WHERE id = (SELECT MIN(id) FROM assessments);
        INSERT INTO identity_decisions (person_key, person_id, same, import_id, decided_at)
            SELECT 'email:same@example.org', MIN(id), TRUE, NULL, '2026-03-02T09:00:00Z' FROM people;
        INSERT INTO identity_decisions (person_key, person_id, same, import_id, decided_at)
            SELECT 'email:other@example.org', MIN(id), FALSE, NULL, '2026-03-02T09:00:00Z' FROM people;";
    match &pool {
        Pool::Sqlite { writer, .. } => sqlx::raw_sql(setup).execute(writer).await.map(drop),
        Pool::Postgres { pool: pg, .. } => sqlx::raw_sql(setup).execute(pg).await.map(drop),
    }
    .expect("both values of every flag");
    let before = flags(&pool).await;
    for table in ["users", "training_sessions", "identity_decisions", "assessments"] {
        for value in [true, false] {
            assert!(
                before.iter().any(|(t, _, v)| t == table && *v == value),
                "{table} has a {value} flag"
            );
        }
    }

    match &pool {
        Pool::Sqlite { writer, .. } => {
            sqlx::query("DELETE FROM _sqlx_migrations WHERE version = 11")
                .execute(writer)
                .await
                .expect("before 0011");
        }
        Pool::Postgres { pool: pg, .. } => {
            sqlx::raw_sql(BACK_TO_0010_PG).execute(pg).await.expect("back to 0010");
            let (kind,): (String,) = sqlx::query_as(
                "SELECT data_type FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'active'",
            )
            .fetch_one(pg)
            .await
            .expect("column type");
            assert_eq!(kind, "bigint");
        }
    }

    db::migrate(&pool).await.expect("0011 applies");
    assert_eq!(flags(&pool).await, before, "every flag survives with its value");
    if let Pool::Postgres { pool: pg, .. } = &pool {
        let types: Vec<(String, String)> = sqlx::query_as(
            "SELECT column_name, data_type FROM information_schema.columns
             WHERE (table_name, column_name) IN (('users', 'active'), ('training_sessions', 'online'),
                 ('identity_decisions', 'same'), ('assessments', 'imported'))
             ORDER BY column_name",
        )
        .fetch_all(pg)
        .await
        .expect("column types");
        assert_eq!(
            types,
            [
                ("active", "boolean"),
                ("imported", "boolean"),
                ("online", "boolean"),
                ("same", "boolean")
            ]
            .map(|(c, t)| (c.to_string(), t.to_string()))
        );
    }
}

/// Columns a migration makes nullable: table, column and the value that
/// meant "none" before it.
type MadeNullable = [(&'static str, &'static str, &'static str)];

/// The columns migration 0012 makes nullable, with the value that meant
/// "none" before it.
const NONE_BEFORE_0012: [(&str, &str, &str); 18] = [
    ("organisations", "import_id", "0"),
    ("people", "import_id", "0"),
    ("attendance", "import_id", "0"),
    ("identity_decisions", "import_id", "0"),
    ("import_effects", "previous_import_id", "0"),
    ("import_effects", "previous_status", "''"),
    ("published_reports", "organisation_id", "0"),
    ("published_reports", "withdrawn_at", "''"),
    ("training_sessions", "cohort_id", "0"),
    ("certificates", "expires_on", "''"),
    ("certificates", "revoked_at", "''"),
    ("certificates", "superseded_by_code", "''"),
    ("imports", "committed_at", "''"),
    ("imports", "undone_at", "''"),
    ("person_completions", "completed_on", "''"),
    ("person_completions", "lapses_on", "''"),
    ("completion_spells", "held_until", "''"),
    ("password_resets", "used_at", "''"),
];

/// The columns migration 0030 makes nullable, with the value that meant
/// "none" before it.
const NONE_BEFORE_0030: [(&str, &str, &str); 8] = [
    ("certificates", "programme_id", "''"),
    ("certificates", "completion_id", "''"),
    ("training_sessions", "start_time", "''"),
    ("training_sessions", "capacity", "0"),
    ("evidence", "file_sha256", "''"),
    ("evidence", "file_name", "''"),
    ("evidence", "file_type", "''"),
    ("evidence", "file_size", "0"),
];

/// The value that meant "none" in a column before migration `version`, or
/// one after it, made it NULL.
fn old_none(version: i64, table: &str, column: &str) -> Option<&'static str> {
    let by_migration: [(i64, &MadeNullable); 2] = [(12, &NONE_BEFORE_0012), (30, &NONE_BEFORE_0030)];
    by_migration
        .iter()
        .filter(|(made_null_by, _)| *made_null_by >= version)
        .flat_map(|(_, columns)| columns.iter())
        .find(|(t, c, _)| *t == table && *c == column)
        .map(|(_, _, none)| *none)
}

/// The foreign keys and index 0012 adds on PostgreSQL, taken away again.
const PG_0012_ADDITIONS: &str = "
    ALTER TABLE organisations DROP CONSTRAINT organisations_import_fk;
    ALTER TABLE people DROP CONSTRAINT people_import_fk;
    ALTER TABLE attendance DROP CONSTRAINT attendance_import_fk;
    ALTER TABLE identity_decisions DROP CONSTRAINT identity_decisions_import_fk;
    ALTER TABLE import_effects DROP CONSTRAINT import_effects_previous_import_fk;
    ALTER TABLE training_sessions DROP CONSTRAINT training_sessions_cohort_fk;
    ALTER TABLE published_reports DROP CONSTRAINT published_reports_organisation_fk;
    ALTER TABLE person_completions DROP CONSTRAINT person_completions_person_fk,
        DROP CONSTRAINT person_completions_organisation_fk;
    ALTER TABLE completion_spells DROP CONSTRAINT completion_spells_person_fk,
        DROP CONSTRAINT completion_spells_organisation_fk;
    DROP INDEX training_sessions_once;
    ALTER TABLE training_sessions ADD UNIQUE (programme_id, module_id, session_date, cohort_id);";

async fn run(pool: &Pool, sql: &str) {
    match pool {
        Pool::Sqlite { writer, .. } => sqlx::raw_sql(sql).execute(writer).await.map(drop),
        Pool::Postgres { pool: pg, .. } => sqlx::raw_sql(sql).execute(pg).await.map(drop),
    }
    .unwrap_or_else(|e| panic!("{e}: {sql}"));
}

async fn texts(pool: &Pool, sql: &str) -> Vec<(String, String)> {
    match pool {
        Pool::Sqlite { readers, .. } => sqlx::query_as(sql).fetch_all(readers).await,
        Pool::Postgres { pool: pg, .. } => sqlx::query_as(sql).fetch_all(pg).await,
    }
    .unwrap_or_else(|e| panic!("{e}: {sql}"))
}

/// Every table's row count, and every row's value of each column a
/// migration changes, with "none" written as it was before it.
async fn contents(pool: &Pool, changed: &MadeNullable) -> Vec<(String, String)> {
    let tables = texts(
        pool,
        match pool.backend() {
            db::Backend::Sqlite => {
                "SELECT name, name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
            }
            db::Backend::Postgres => {
                "SELECT table_name, table_name FROM information_schema.tables
                 WHERE table_schema = 'public' ORDER BY table_name"
            }
        },
    )
    .await;
    let mut seen = Vec::new();
    // The migrations' own table gains a row, as it should.
    for (table, _) in tables.into_iter().filter(|(t, _)| t != "_sqlx_migrations") {
        seen.extend(texts(pool, &format!("SELECT '{table}', CAST(COUNT(*) AS TEXT) FROM {table}")).await);
    }
    for (table, column, none) in changed {
        let value = match kind_of(column) {
            Some(kind) => format!("COALESCE({}, {none})", as_stored_text(pool.backend(), column, kind)),
            None => format!("CAST(COALESCE({column}, {none}) AS TEXT)"),
        };
        seen.extend(
            texts(
                pool,
                &format!("SELECT '{table}.{column}.' || CAST(id AS TEXT), {value} FROM {table} ORDER BY id"),
            )
            .await,
        );
    }
    seen
}

/// Every changed column holds both "none" and a value (in `contents`), so
/// a conversion that lost either would show.
fn assert_none_and_a_value(contents: &[(String, String)], changed: &MadeNullable) {
    for (table, column, none) in changed {
        let none = none.trim_matches('\'');
        let prefix = format!("{table}.{column}.");
        let values: Vec<&String> = contents
            .iter()
            .filter(|(key, _)| key.starts_with(&prefix))
            .map(|(_, v)| v)
            .collect();
        assert!(values.iter().any(|v| *v == none), "{table}.{column} has a \"none\"");
        assert!(values.iter().any(|v| *v != none), "{table}.{column} has a value");
    }
}

/// No changed column holds its old "none" any more.
async fn assert_none_is_null(pool: &Pool, changed: &MadeNullable) {
    for (table, column, none) in changed {
        let left = texts(
            pool,
            &format!(
                "SELECT '{table}.{column}', CAST(COUNT(*) AS TEXT) FROM {table}
                 WHERE CAST({column} AS TEXT) = CAST({none} AS TEXT)"
            ),
        )
        .await;
        assert_eq!(
            left,
            [(format!("{table}.{column}"), "0".to_string())],
            "\"none\" is NULL now"
        );
    }
}

/// Puts the database back as it was before migration `version`: the
/// columns it made nullable hold their old "none" again, and `version` is
/// not yet applied. On PostgreSQL `pg_first` runs first (taking away what
/// else the migration added); SQLite rebuilds the tables instead.
async fn back_before(url: &str, pool: &Pool, version: i64, changed: &MadeNullable, pg_first: &str) {
    match pool.backend() {
        db::Backend::Sqlite => {
            let dir = tempfile::tempdir().expect("temp dir");
            back_before_sqlite(url, dir.path(), version, changed).await;
        }
        db::Backend::Postgres => {
            let mut sql = pg_first.to_string();
            for (table, column, none) in changed {
                sql.push_str(&format!(
                    "UPDATE {table} SET {column} = {none} WHERE {column} IS NULL;
                     ALTER TABLE {table} ALTER COLUMN {column} SET DEFAULT {none}, ALTER COLUMN {column} SET NOT NULL;"
                ));
            }
            sql.push_str(&format!("DELETE FROM _sqlx_migrations WHERE version = {version};"));
            run(pool, &sql).await;
        }
    }
}

/// Puts a SQLite database's tables that migration `version` rebuilt (those
/// of `changed`) back as the migrations before it made them, "none" written
/// the old way, and `version` not yet applied. The old definitions come from
/// a database made with the migrations before `version` only.
async fn back_before_sqlite(url: &str, dir: &std::path::Path, version: i64, changed: &MadeNullable) {
    use sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
    use std::str::FromStr;
    let first_left_out = format!("{version:04}");
    let old_migrations = dir.join(format!("migrations-before-{first_left_out}"));
    std::fs::create_dir_all(&old_migrations).expect("folder");
    for entry in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/migrations/sqlite")).expect("migrations") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_string();
        if name < first_left_out {
            std::fs::copy(&path, old_migrations.join(&name)).expect("copy");
        }
    }
    let old = SqlitePoolOptions::new()
        .connect_with(SqliteConnectOptions::from_str("sqlite::memory:").expect("url"))
        .await
        .expect("scratch database");
    sqlx::migrate::Migrator::new(old_migrations.as_path())
        .await
        .expect("the earlier migrations")
        .run(&old)
        .await
        .expect("migrate to before the one undone");
    let options = SqliteConnectOptions::from_str(url).expect("url").foreign_keys(false);
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect_with(options)
        .await
        .expect("connect");
    let mut tables: Vec<&str> = changed.iter().map(|(t, _, _)| *t).collect();
    tables.dedup();
    for table in tables {
        let (definition,): (String,) =
            sqlx::query_as("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = $1")
                .bind(table)
                .fetch_one(&old)
                .await
                .expect("old definition");
        let indexes: Vec<(String,)> =
            sqlx::query_as("SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = $1 AND sql IS NOT NULL")
                .bind(table)
                .fetch_all(&old)
                .await
                .expect("old indexes");
        let columns: Vec<(String,)> = sqlx::query_as("SELECT name FROM pragma_table_info($1) ORDER BY cid")
            .bind(table)
            .fetch_all(&old)
            .await
            .expect("columns");
        let values: Vec<String> = columns
            .iter()
            .map(|(column,)| match old_none(version, table, column) {
                Some(none) => format!("COALESCE({column}, {none})"),
                None => column.clone(),
            })
            .collect();
        let names: Vec<&str> = columns.iter().map(|(c,)| c.as_str()).collect();
        let body = &definition[definition.find('(').expect("columns")..];
        let mut sql = format!(
            "CREATE TABLE {table}_old {body};
             INSERT INTO {table}_old ({}) SELECT {} FROM {table};
             DROP TABLE {table};
             ALTER TABLE {table}_old RENAME TO {table};",
            names.join(", "),
            values.join(", ")
        );
        for (index,) in indexes {
            sql.push_str(&index);
            sql.push(';');
        }
        sqlx::raw_sql(&sql)
            .execute(&pool)
            .await
            .unwrap_or_else(|e| panic!("{e}: {sql}"));
    }
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(version)
        .execute(&pool)
        .await
        .expect("not yet applied");
    pool.close().await;
    old.close().await;
}

#[rocket::async_test]
async fn the_demo_survives_the_move_to_null_and_foreign_keys() {
    let (app, pool) = demo_database().await;
    // What the demo leaves out (imports and what they touched, reports,
    // password links), and both "none" and a value in every column that
    // changes, so a conversion that lost either would show.
    run(
        &pool,
        "INSERT INTO imports (actor_label, file_name, file_sha256, state, created_at, committed_at)
             VALUES ('test', 'a.xlsx', 'aaa', 'committed', '2026-03-02T09:00:00Z', '2026-03-02T09:01:00Z');
         INSERT INTO imports (actor_label, file_name, file_sha256, state, created_at, committed_at, undone_at)
             VALUES ('test', 'b.xlsx', 'bbb', 'undone', '2026-03-02T09:00:00Z', '2026-03-02T09:01:00Z',
                 '2026-03-02T09:02:00Z');
         INSERT INTO imports (actor_label, file_name, file_sha256, state, created_at)
             VALUES ('test', 'c.xlsx', 'ccc', 'pending', '2026-03-02T09:00:00Z');
         UPDATE organisations SET import_id = (SELECT MIN(id) FROM imports) WHERE id = (SELECT MAX(id) FROM organisations);
         UPDATE people SET import_id = (SELECT MIN(id) FROM imports) WHERE id = (SELECT MAX(id) FROM people);
         UPDATE attendance SET import_id = (SELECT MIN(id) FROM imports) WHERE id = (SELECT MAX(id) FROM attendance);
         INSERT INTO identity_decisions (person_key, person_id, same, import_id, decided_at)
             SELECT 'email:a@example.org', MIN(id), TRUE, (SELECT MIN(id) FROM imports), '2026-03-02T09:00:00Z'
             FROM people;
         INSERT INTO identity_decisions (person_key, person_id, same, decided_at)
             SELECT 'email:b@example.org', MIN(id), FALSE, '2026-03-02T09:00:00Z' FROM people;
         INSERT INTO import_effects (import_id, kind, entity_id, previous_status, previous_import_id)
             SELECT MAX(i.id), 'attendance_updated', (SELECT MIN(id) FROM attendance), 'absent', MIN(i.id) FROM imports i;
         INSERT INTO import_effects (import_id, kind, entity_id)
             SELECT MIN(id), 'session', (SELECT MIN(id) FROM training_sessions) FROM imports;
         UPDATE certificates SET expires_on = NULL WHERE id = (SELECT MIN(id) FROM certificates WHERE kind = 'training');
         UPDATE person_completions SET completed_on = '2026-01-05', lapses_on = '2027-01-05'
             WHERE id = (SELECT MIN(id) FROM person_completions);
         UPDATE person_completions SET completed_on = NULL, lapses_on = NULL
             WHERE id = (SELECT MAX(id) FROM person_completions);
         UPDATE completion_spells SET held_until = '2026-02-01' WHERE id = (SELECT MIN(id) FROM completion_spells);
         UPDATE completion_spells SET held_until = NULL WHERE id = (SELECT MAX(id) FROM completion_spells);
         INSERT INTO published_reports (title, period_from, period_to, organisation_id, figures_json, narrative_json,
             author_label, published_at, withdrawn_at, withdrawn_reason)
         SELECT 'Board', '2026-01-01', '2026-03-31', MIN(id), '{}', '{}', 'test', '2026-04-01T09:00:00Z',
             '2026-04-02T09:00:00Z', 'wrong figures' FROM organisations;
         INSERT INTO published_reports (title, period_from, period_to, figures_json, narrative_json,
             author_label, published_at)
         VALUES ('Board', '2026-01-01', '2026-03-31', '{}', '{}', 'test', '2026-04-01T09:00:00Z');
         INSERT INTO password_resets (user_id, token_hash, created_at, expires_at, used_at, created_by)
             SELECT MIN(id), 'used', '2026-03-02T09:00:00Z', '2026-03-03T09:00:00Z', '2026-03-02T10:00:00Z', 'test'
             FROM users;
         INSERT INTO password_resets (user_id, token_hash, created_at, expires_at, created_by)
             SELECT MIN(id), 'unused', '2026-03-02T09:00:00Z', '2026-03-03T09:00:00Z', 'test' FROM users;",
    )
    .await;

    // 0012 worked on text dates: first the columns 0019 typed.
    let pg_first = format!("{}{PG_0012_ADDITIONS}", back_to_text_dates_pg());
    back_before(&app.database_url, &pool, 12, &NONE_BEFORE_0012, &pg_first).await;
    let before = contents(&pool, &NONE_BEFORE_0012).await;
    assert_none_and_a_value(&before, &NONE_BEFORE_0012);
    let nulls_before = texts(
        &pool,
        "SELECT 'certificates', CAST(COUNT(*) AS TEXT) FROM certificates WHERE revoked_at IS NULL",
    )
    .await;
    assert_eq!(
        nulls_before,
        [("certificates".to_string(), "0".to_string())],
        "back to 0011's shape"
    );

    db::migrate(&pool).await.expect("0012 applies");
    assert_eq!(
        contents(&pool, &NONE_BEFORE_0012).await,
        before,
        "every row and value survives"
    );
    assert_none_is_null(&pool, &NONE_BEFORE_0012).await;
    // The references hold: a certificate cannot name a person who is not there.
    let dangling = match &pool {
        Pool::Sqlite { writer, .. } => {
            sqlx::query("UPDATE certificates SET person_id = 999999 WHERE kind = 'training'")
                .execute(writer)
                .await
                .map(drop)
        }
        Pool::Postgres { pool: pg, .. } => {
            sqlx::query("UPDATE certificates SET person_id = 999999 WHERE kind = 'training'")
                .execute(pg)
                .await
                .map(drop)
        }
    };
    assert!(dangling.is_err(), "a dangling reference is refused");
}

/// The constraints 0030 adds on PostgreSQL, taken away again.
const PG_0030_ADDITIONS: &str = "
    ALTER TABLE certificates DROP CONSTRAINT certificates_training_completion;
    ALTER TABLE training_sessions DROP CONSTRAINT training_sessions_capacity_positive;
    ALTER TABLE evidence DROP CONSTRAINT evidence_file_with_kind;";

/// Migration 0030 on the demo's data as the code before it stored it
/// (`''` for an award's programme, a session's missing start time and a
/// statement's file, `0` for no capacity or file size): every row survives,
/// the sentinels read back as `None` and every other value as it was.
#[rocket::async_test]
async fn the_demo_survives_the_end_of_sentinel_values() {
    let (app, pool) = demo_database().await;
    // The demo's sessions have no time or limit; one gets both.
    run(
        &pool,
        "UPDATE training_sessions SET start_time = '10:00', capacity = 20
         WHERE id = (SELECT MIN(id) FROM training_sessions)",
    )
    .await;

    back_before(&app.database_url, &pool, 30, &NONE_BEFORE_0030, PG_0030_ADDITIONS).await;
    let before = contents(&pool, &NONE_BEFORE_0030).await;
    assert_none_and_a_value(&before, &NONE_BEFORE_0030);

    db::migrate(&pool).await.expect("0030 applies");
    assert_eq!(
        contents(&pool, &NONE_BEFORE_0030).await,
        before,
        "every row and value survives"
    );
    assert_none_is_null(&pool, &NONE_BEFORE_0030).await;

    // Read through the data layer: None where the sentinel was, the value otherwise.
    let certificates = db::certificates::list(&pool, &db::certificates::Filter::default())
        .await
        .expect("certificates");
    assert!(certificates.iter().any(|c| c.kind == CertificateKind::Award));
    for certificate in &certificates {
        let training = certificate.kind == CertificateKind::Training;
        assert_eq!(certificate.programme_id.is_some(), training, "{certificate:?}");
        assert_eq!(certificate.completion_id.is_some(), training, "{certificate:?}");
    }
    assert!(certificates
        .iter()
        .any(|c| c.programme_id.as_deref().is_some_and(|p| !p.is_empty())));

    let sessions = db::training::sessions(&pool, "", i64::MAX, 0).await.expect("sessions");
    let timed: Vec<_> = sessions.iter().filter(|s| s.start_time.is_some()).collect();
    assert_eq!(timed.len(), 1, "one session has a time");
    assert_eq!(
        (timed[0].start_time.as_deref(), timed[0].capacity),
        (Some("10:00"), Some(20))
    );
    assert!(sessions
        .iter()
        .filter(|s| s.id != timed[0].id)
        .all(|s| s.start_time.is_none() && s.capacity.is_none()));

    let assessments = texts(&pool, "SELECT DISTINCT CAST(assessment_id AS TEXT), '' FROM evidence").await;
    let mut files = 0;
    for (assessment, _) in assessments {
        let id = assessment.parse().expect("an id");
        for item in db::evidence::for_assessment(&pool, id).await.expect("evidence") {
            let file = item.file();
            assert_eq!(file.is_some(), item.kind == EvidenceKind::File, "{item:?}");
            if let Some(file) = file {
                assert!(
                    !file.sha256.is_empty() && !file.name.is_empty() && file.size > 0,
                    "{item:?}"
                );
                files += 1;
            }
        }
    }
    assert!(files > 0, "the demo has evidence files");
}

/// What migration 0019 types on PostgreSQL.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Date,
    Instant,
}

/// Every date and instant column, as 0019 types it.
const TYPED_BY_0019: [(&str, &str, Kind); 58] = [
    ("api_tokens", "created_at", Kind::Instant),
    ("api_tokens", "last_used_at", Kind::Instant),
    ("api_tokens", "revoked_at", Kind::Instant),
    ("assessment_events", "at", Kind::Instant),
    ("assessments", "enrolled_at", Kind::Instant),
    ("assessments", "submitted_at", Kind::Instant),
    ("assessments", "revoked_at", Kind::Instant),
    ("assessments", "updated_at", Kind::Instant),
    ("assessments", "awarded_on", Kind::Date),
    ("assessments", "expires_on", Kind::Date),
    ("attendance", "recorded_at", Kind::Instant),
    ("audit_log", "at", Kind::Instant),
    ("award_imports", "created_at", Kind::Instant),
    ("award_imports", "committed_at", Kind::Instant),
    ("award_imports", "undone_at", Kind::Instant),
    ("certificates", "created_at", Kind::Instant),
    ("certificates", "revoked_at", Kind::Instant),
    ("certificates", "issued_on", Kind::Date),
    ("certificates", "expires_on", Kind::Date),
    ("cohorts", "created_at", Kind::Instant),
    ("completion_spells", "held_from", Kind::Date),
    ("completion_spells", "held_until", Kind::Date),
    ("evidence", "created_at", Kind::Instant),
    ("evidence", "removed_at", Kind::Instant),
    ("evidence", "superseded_at", Kind::Instant),
    ("evidence", "applies_from", Kind::Date),
    ("evidence", "valid_until", Kind::Date),
    ("identity_decisions", "decided_at", Kind::Instant),
    ("imports", "created_at", Kind::Instant),
    ("imports", "committed_at", Kind::Instant),
    ("imports", "undone_at", Kind::Instant),
    ("login_known_addresses", "last_success_at", Kind::Instant),
    ("organisations", "created_at", Kind::Instant),
    ("organisations", "updated_at", Kind::Instant),
    ("password_resets", "created_at", Kind::Instant),
    ("password_resets", "expires_at", Kind::Instant),
    ("password_resets", "used_at", Kind::Instant),
    ("people", "created_at", Kind::Instant),
    ("people", "updated_at", Kind::Instant),
    ("person_completions", "started_on", Kind::Date),
    ("person_completions", "completed_on", Kind::Date),
    ("person_completions", "lapses_on", Kind::Date),
    ("programme_signups", "created_at", Kind::Instant),
    ("programme_signups", "signed_up_on", Kind::Date),
    ("published_reports", "published_at", Kind::Instant),
    ("published_reports", "withdrawn_at", Kind::Instant),
    ("published_reports", "period_from", Kind::Date),
    ("published_reports", "period_to", Kind::Date),
    ("review_decisions", "decided_at", Kind::Instant),
    ("sessions", "created_at", Kind::Instant),
    ("sessions", "expires_at", Kind::Instant),
    ("sessions", "last_seen_at", Kind::Instant),
    ("sessions", "revoked_at", Kind::Instant),
    ("throttle_counters", "window_started_at", Kind::Instant),
    ("training_sessions", "created_at", Kind::Instant),
    ("training_sessions", "session_date", Kind::Date),
    ("users", "created_at", Kind::Instant),
    ("users", "updated_at", Kind::Instant),
];

/// Whether a column 0012 changes is one 0019 types, and how.
fn kind_of(column: &str) -> Option<Kind> {
    TYPED_BY_0019
        .iter()
        .find(|(_, c, _)| *c == column)
        .map(|(_, _, kind)| *kind)
}

/// A date or instant column as the text SQLite stores (`2026-03-02`,
/// `2026-03-02T09:00:00Z`), NULL for none: on PostgreSQL the same whether
/// the column is still text (with '' for none, before 0012) or typed.
fn as_stored_text(backend: db::Backend, column: &str, kind: Kind) -> String {
    match (backend, kind) {
        (db::Backend::Sqlite, _) => format!("NULLIF({column}, '')"),
        (db::Backend::Postgres, Kind::Date) => {
            format!("to_char(CAST(NULLIF(CAST({column} AS TEXT), '') AS DATE), 'YYYY-MM-DD')")
        }
        (db::Backend::Postgres, Kind::Instant) => format!(
            "to_char(CAST(NULLIF(CAST({column} AS TEXT), '') AS TIMESTAMPTZ) AT TIME ZONE 'UTC', \
             'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"
        ),
    }
}

/// PostgreSQL: every column 0019 typed back to the text it held before, in
/// the form the app wrote, and 0019 not yet applied.
fn back_to_text_dates_pg() -> String {
    let mut sql = String::new();
    for (table, column, kind) in TYPED_BY_0019 {
        let text = match kind {
            Kind::Date => format!("to_char({column}, 'YYYY-MM-DD')"),
            Kind::Instant => format!("to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"),
        };
        sql.push_str(&format!(
            "ALTER TABLE {table} ALTER COLUMN {column} TYPE TEXT USING {text};\n"
        ));
    }
    sql.push_str("DELETE FROM _sqlx_migrations WHERE version = 19;");
    sql
}

/// Every date and instant, column by column, in the stored text form.
async fn dates_and_instants(pool: &Pool) -> Vec<(String, String)> {
    let mut seen = Vec::new();
    for (table, column, kind) in TYPED_BY_0019 {
        let value = format!("COALESCE({}, '(none)')", as_stored_text(pool.backend(), column, kind));
        seen.extend(
            texts(
                pool,
                &format!("SELECT '{table}.{column}', {value} FROM {table} ORDER BY 2"),
            )
            .await,
        );
    }
    seen
}

#[rocket::async_test]
async fn dates_and_instants_survive_becoming_typed() {
    let (app, pool) = demo_database().await;
    // What the demo leaves out: what signing in and the API leave behind.
    run(
        &pool,
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at, expires_at, revoked_at)
             SELECT 'session', MIN(id), 'csrf', '2026-03-02T09:00:00Z', '2026-03-02T09:05:00Z',
                 '2026-03-03T09:00:00Z', '2026-03-02T09:30:00Z' FROM users;
         INSERT INTO login_known_addresses (email, address, last_success_at)
             VALUES ('lead@example.org', '127.0.0.1', '2026-03-02T09:00:00Z');
         INSERT INTO throttle_counters (key, hits, window_started_at) VALUES ('email:lead', 2, '2026-03-02T09:00:00Z');
         INSERT INTO api_tokens (user_id, label, token_hash, created_at, last_used_at, revoked_at)
             SELECT MIN(id), 'reports', 'token', '2026-03-02T09:00:00Z', '2026-03-02T10:00:00Z',
                 '2026-03-02T11:00:00Z' FROM users;",
    )
    .await;
    match &pool {
        Pool::Sqlite { .. } => run(&pool, "DELETE FROM _sqlx_migrations WHERE version = 19").await,
        Pool::Postgres { .. } => run(&pool, &back_to_text_dates_pg()).await,
    }
    let before = dates_and_instants(&pool).await;
    // Every column holds values in the form the app writes them, and no
    // column is empty, so a conversion that lost or moved one would show.
    for (table, column, kind) in TYPED_BY_0019 {
        let values: Vec<&String> = before
            .iter()
            .filter(|(key, _)| *key == format!("{table}.{column}"))
            .map(|(_, value)| value)
            .filter(|value| *value != "(none)")
            .collect();
        if let Some(value) = values.iter().find(|value| {
            let parsed = match kind {
                Kind::Date => chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d").is_ok(),
                Kind::Instant => {
                    qmtrack::clock::from_db(value).is_some_and(|at| qmtrack::clock::to_db(at) == value.as_str())
                }
            };
            !parsed
        }) {
            panic!("{table}.{column} holds {value:?}, not in the stored form");
        }
    }
    for table_column in [
        "assessments.awarded_on",
        "certificates.issued_on",
        "audit_log.at",
        "sessions.expires_at",
        "api_tokens.revoked_at",
    ] {
        assert!(
            before
                .iter()
                .any(|(key, value)| key == table_column && value != "(none)"),
            "{table_column} has a value"
        );
    }

    db::migrate(&pool).await.expect("0019 applies");
    assert_eq!(
        dates_and_instants(&pool).await,
        before,
        "every date and instant survives"
    );
    if let Pool::Postgres { pool: pg, .. } = &pool {
        let types: Vec<(String, String, String)> = sqlx::query_as(
            "SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns
             WHERE table_schema = current_schema()",
        )
        .fetch_all(pg)
        .await
        .expect("column types");
        for (table, column, kind) in TYPED_BY_0019 {
            let wanted = match kind {
                Kind::Date => "date",
                Kind::Instant => "timestamp with time zone",
            };
            assert!(
                types.iter().any(|(t, c, d)| t == table && c == column && d == wanted),
                "{table}.{column} is {wanted}"
            );
        }
    }
    // The app reads the upgraded rows: a certificate verifies with its dates.
    let (code, issued_on) = texts(
        &pool,
        &format!(
            "SELECT code, {} FROM certificates ORDER BY id LIMIT 1",
            as_stored_text(pool.backend(), "issued_on", Kind::Date)
        ),
    )
    .await
    .remove(0);
    let (status, body) = app.browser().get_text(&format!("/verify/{code}.json")).await;
    assert_eq!(status, reqwest::StatusCode::OK, "{body}");
    assert!(body.contains(&issued_on), "{body}");
}
