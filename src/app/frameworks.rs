//! The views of the standards library that pages and the API show.

use crate::domain::standards::{Area, Framework};
use serde::Serialize;

/// A framework version without its criteria: what list pages and the API's
/// list show.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkSummary<'a> {
    pub id: &'a str,
    pub name: &'a str,
    pub version: &'a str,
    pub audience: &'a str,
    pub summary: &'a str,
    pub validity_months: u32,
    pub illustrative: bool,
    pub area_count: usize,
    pub criterion_count: usize,
    pub mandatory_count: usize,
}

impl<'a> FrameworkSummary<'a> {
    pub fn of(framework: &'a Framework) -> Self {
        FrameworkSummary {
            id: &framework.id,
            name: &framework.name,
            version: &framework.version,
            audience: &framework.audience,
            summary: &framework.summary,
            validity_months: framework.validity_months,
            illustrative: framework.illustrative,
            area_count: framework.areas.len(),
            criterion_count: framework.criterion_count(),
            mandatory_count: framework.mandatory_count(),
        }
    }
}

/// A framework version with its areas, standards and criteria.
#[derive(Debug, Clone, Serialize)]
pub struct FrameworkDetail<'a> {
    #[serde(flatten)]
    pub summary: FrameworkSummary<'a>,
    pub areas: &'a [Area],
}

impl<'a> FrameworkDetail<'a> {
    pub fn of(framework: &'a Framework) -> Self {
        FrameworkDetail {
            summary: FrameworkSummary::of(framework),
            areas: &framework.areas,
        }
    }
}
