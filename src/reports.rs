//! Building a report: the facts for the period and the one before it from
//! the data layer, the figures from the engine. The web, the API and the
//! command line all come here, so every format gives the same figures.

use crate::app::figures::{FiguresCache, FiguresKey};
use crate::db;
use crate::db::reports::SharedReads;
use crate::db::Pool;
use crate::domain::programmes::ProgrammeLibrary;
use crate::domain::report::standing::{self, AssessmentStanding, ExpiringEvidence, StaffTrained, StandingFacts};
use crate::domain::report::{compute, Period, Report};
use crate::domain::standards::StandardsLibrary;
use chrono::{Days, NaiveDate};
use std::borrow::Borrow;
use std::future::Future;
use std::sync::Arc;

/// Whose report: the whole partnership, or one organisation's own.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    pub organisation_id: i64,
    pub organisation_name: Option<String>,
}

/// What every report is made from: the data, the framework and programme
/// files, and how long before an expiry a renewal counts as due.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub pool: &'a Pool,
    pub standards: &'a StandardsLibrary,
    pub programmes: &'a ProgrammeLibrary,
    pub renewal_notice_days: u64,
}

pub async fn build(sources: Sources<'_>, period: Period, scope: &Scope) -> Result<Report, sqlx::Error> {
    let shared = SharedReads::new(period, scope.organisation_id);
    compared(period, |period| period_figures(sources, period, scope, &shared)).await
}

/// The report for `period`: its figures compared with those of the period
/// before, both got from `figures` at the same time (on connections of
/// their own), computed or shared.
async fn compared<Figures, Fut, Computed>(period: Period, figures: Figures) -> Result<Report, sqlx::Error>
where
    Figures: Fn(Period) -> Fut,
    Fut: Future<Output = Result<Computed, sqlx::Error>>,
    Computed: Borrow<Report>,
{
    let (now, before) = rocket::tokio::try_join!(figures(period), figures(period.previous()))?;
    let mut report = now.borrow().clone();
    report.compare_with(before.borrow());
    Ok(report)
}

/// One period's figures, not yet compared with any other, with what the
/// report's periods read once between them.
async fn period_figures(
    sources: Sources<'_>,
    period: Period,
    scope: &Scope,
    shared: &SharedReads,
) -> Result<Report, sqlx::Error> {
    let Sources {
        pool,
        standards,
        programmes,
        renewal_notice_days,
    } = sources;
    let started = std::time::Instant::now();
    let facts = db::reports::period_data(pool, programmes, period, renewal_notice_days, shared).await?;
    let read = started.elapsed();
    let mut report = compute(&facts, standards, programmes);
    tracing::debug!(?period, ?read, computed = ?started.elapsed() - read, "figures: one period");
    report.organisation = scope.organisation_name.clone();
    Ok(report)
}

/// The report as [`build`] makes it, computed once for each period, scope
/// and version of the data and shared by everyone who asks meanwhile; each
/// period's own figures are shared too, with the reports of the periods
/// next to it.
pub async fn build_shared(
    cache: &FiguresCache,
    sources: Sources<'_>,
    period: Period,
    scope: &Scope,
) -> Result<Arc<Report>, sqlx::Error> {
    // Read before computing: a write that lands meanwhile moves the version
    // on, so the next request computes again rather than keep older figures.
    let data_version = db::statistics::data_version(sources.pool).await?;
    let key = |period, compared| FiguresKey {
        period,
        organisation_id: scope.organisation_id,
        data_version,
        compared,
    };
    let shared = SharedReads::new(period, scope.organisation_id);
    let shared = &shared;
    let figures = |period| {
        cache.get_or_compute(key(period, false), move || {
            period_figures(sources, period, scope, shared)
        })
    };
    cache
        .get_or_compute(key(period, true), || compared(period, figures))
        .await
}

/// An organisation's own progress report: its figures for the period, with
/// where it stands today first (see [`crate::domain::report::standing`]).
pub async fn build_for_organisation(
    sources: Sources<'_>,
    period: Period,
    scope: &Scope,
    today: NaiveDate,
) -> Result<Report, sqlx::Error> {
    let mut report = build(sources, period, scope).await?;
    report.title = "Progress report".into();
    report.leave_out_empty_sections();
    let facts = standing_facts(sources, &report, scope.organisation_id, today).await?;
    let name = scope.organisation_name.as_deref().unwrap_or("the organisation");
    report.sections.insert(0, standing::section(name, &facts));
    Ok(report)
}

async fn standing_facts(
    sources: Sources<'_>,
    report: &Report,
    organisation_id: i64,
    today: NaiveDate,
) -> Result<StandingFacts, sqlx::Error> {
    let Sources {
        pool,
        standards,
        programmes,
        renewal_notice_days: notice_days,
    } = sources;
    let framework_name = |id: &str, version: &str| {
        standards
            .get(id, version)
            .map_or_else(|| id.to_string(), |f| f.name.clone())
    };
    let rows = db::assessments::of_organisation(pool, organisation_id).await?;
    let mut assessments = Vec::new();
    // A renewed assessment's story continues in its renewal.
    for row in rows.iter().filter(|r| r.renewed_by.is_none()) {
        let mut outstanding = Vec::new();
        if let Some(framework) = standards.get(&row.framework_id, &row.framework_version) {
            if row.state.evidence_editable() {
                let evidence = db::evidence::for_assessment(pool, row.id).await?;
                let decisions = db::assessments::decisions(pool, row.id).await?;
                let training = crate::app::training_requirements::live(
                    &mut pool.acquire().await?,
                    programmes,
                    framework,
                    organisation_id,
                    today,
                )
                .await?;
                let progress = crate::app::assessments::compute_progress(framework, &evidence, &decisions, today)
                    .with_training_met(crate::app::training_requirements::met(&training));
                outstanding = progress
                    .missing_for_submission()
                    .iter()
                    .filter_map(|c| framework.criteria().find(|k| k.id == c.criterion_id))
                    .map(|k| format!("{} {}", k.id, k.text))
                    .collect();
            }
        }
        assessments.push(AssessmentStanding {
            framework_id: row.framework_id.clone(),
            framework_name: framework_name(&row.framework_id, &row.framework_version),
            state_label: row.state.label().to_string(),
            expires_on: row.expires_on,
            outstanding,
        });
    }
    let until = today.checked_add_days(Days::new(notice_days)).unwrap_or(today);
    let expiring = db::home::expiring_evidence(pool, organisation_id, today, until, 1000)
        .await?
        .into_iter()
        .map(|e| ExpiringEvidence {
            framework_name: framework_name(&e.framework_id, &e.framework_version),
            valid_until: e.valid_until,
            title: e.title,
            criterion_id: e.criterion_id,
        })
        .collect();
    let trained = programmes
        .current()
        .into_iter()
        .flat_map(|p| {
            p.completions.iter().map(move |c| StaffTrained {
                id: format!("{}.{}", p.id, c.id),
                label: crate::domain::certificate::training_title(&p.name, &c.title),
                holding: report
                    .figure(&format!("training.{}.completion.{}.holding", p.id, c.id))
                    .map_or(0, |f| f.value),
            })
        })
        .filter(|t| t.holding > 0)
        .collect();
    let (awards, training_certificates) = db::home::organisation_certificates(pool, organisation_id).await?;
    let award_certificates = awards
        .iter()
        .filter(|c| c.revoked_at.is_none() && c.superseded_by_code.is_none())
        .filter(|c| c.expires_on.is_none_or(|d| d >= today))
        .map(|c| {
            format!(
                "{}, issued {}, code {}",
                c.title,
                crate::domain::dates::uk_date(c.issued_on),
                c.code
            )
        })
        .collect();
    Ok(StandingFacts {
        assessments,
        expiring,
        notice_days,
        staff: db::people::count_for_organisation(pool, organisation_id).await?,
        trained,
        award_certificates,
        training_certificates,
    })
}
