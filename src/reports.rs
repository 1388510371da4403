//! Building a report: the facts for the period and the one before it from
//! the data layer, the figures from the engine. The web, the API and the
//! command line all come here, so every format gives the same figures.

use crate::db;
use crate::domain::programmes::ProgrammeLibrary;
use crate::domain::report::{compute, Period, Report};
use crate::domain::standards::StandardsLibrary;
use sqlx::AnyPool;

/// Whose report: the whole partnership, or one organisation's own.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub organisation_id: i64,
    pub organisation_name: Option<String>,
}

pub async fn build(
    pool: &AnyPool,
    standards: &StandardsLibrary,
    programmes: &ProgrammeLibrary,
    period: Period,
    scope: &Scope,
    renewal_notice_days: u64,
) -> Result<Report, sqlx::Error> {
    let now = db::reports::period_data(pool, programmes, period, scope.organisation_id, renewal_notice_days).await?;
    let before = db::reports::period_data(
        pool,
        programmes,
        period.previous(),
        scope.organisation_id,
        renewal_notice_days,
    )
    .await?;
    let mut report = compute(&now, standards, programmes);
    report.compare_with(&compute(&before, standards, programmes));
    report.organisation = scope.organisation_name.clone();
    Ok(report)
}
