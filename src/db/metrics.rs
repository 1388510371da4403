//! What `/metrics` reads from the database and its pool.

use super::Pool;

/// One connection pool's use at a moment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PoolUse {
    /// "readers" and "writer" on SQLite (writes queue for one connection),
    /// "main" on PostgreSQL.
    pub name: &'static str,
    /// Connections open, idle or not.
    pub size: u32,
    pub idle: u32,
    pub max: u32,
}

impl PoolUse {
    pub fn in_use(&self) -> u32 {
        self.size.saturating_sub(self.idle)
    }
}

pub fn pool_use(pool: &Pool) -> Vec<PoolUse> {
    fn one<DB: sqlx::Database>(name: &'static str, pool: &sqlx::Pool<DB>) -> PoolUse {
        PoolUse {
            name,
            size: pool.size(),
            idle: u32::try_from(pool.num_idle()).unwrap_or(u32::MAX),
            max: pool.options().get_max_connections(),
        }
    }
    match pool {
        Pool::Sqlite { readers, writer, quick } => {
            vec![one("readers", readers), one("writer", writer), one("quick", quick)]
        }
        Pool::Postgres { pool, quick } => vec![one("main", pool), one("quick", quick)],
    }
}

/// Imports being committed now, by any app server sharing the database.
pub async fn imports_running(pool: &Pool) -> Result<i64, sqlx::Error> {
    super::one_value(
        &mut pool.acquire().await?,
        "SELECT COUNT(*) FROM imports WHERE state = 'running'",
        &[],
    )
    .await
}

/// Reminders in the outbox not yet delivered (waiting, or failed and to be
/// tried again).
pub async fn outbox_depth(pool: &Pool) -> Result<i64, sqlx::Error> {
    super::outbox::undelivered(&mut pool.acquire().await?).await
}
