//! Migration 0011 (flags become booleans) on a database holding the demo's
//! data in the shape the migrations before it made: every flag survives
//! with its value, and reads as a boolean afterwards.

mod common;

use common::TestApp;
use qmtrack::db::{self, Pool};

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
        Pool::Postgres(pg) => sqlx::query_as(READ_FLAGS).fetch_all(pg).await,
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
    let app = TestApp::spawn().await;
    let output = common::demo(&app);
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let pool = db::connect(&app.database_url, 2).await.expect("pool");
    // Both values of every flag, so a conversion that lost one would show.
    let setup = "UPDATE users SET active = FALSE WHERE id = (SELECT MAX(id) FROM users);
        UPDATE training_sessions SET online = TRUE WHERE id = (SELECT MIN(id) FROM training_sessions);
        UPDATE assessments SET imported = TRUE WHERE id = (SELECT MIN(id) FROM assessments);
        INSERT INTO identity_decisions (person_key, person_id, same, import_id, decided_at)
            SELECT 'email:same@example.org', MIN(id), TRUE, 0, '2026-03-02T09:00:00Z' FROM people;
        INSERT INTO identity_decisions (person_key, person_id, same, import_id, decided_at)
            SELECT 'email:other@example.org', MIN(id), FALSE, 0, '2026-03-02T09:00:00Z' FROM people;";
    match &pool {
        Pool::Sqlite { writer, .. } => sqlx::raw_sql(setup).execute(writer).await.map(drop),
        Pool::Postgres(pg) => sqlx::raw_sql(setup).execute(pg).await.map(drop),
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
        Pool::Postgres(pg) => {
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
    if let Pool::Postgres(pg) = &pool {
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
