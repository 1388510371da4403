//! Report figures: one engine computes every figure for a period as it
//! stood at the end of that period, from facts the data layer gathers
//! ([`PeriodData`]). Figures are defined from the framework and programme
//! files, so a new programme or framework needs no new code, and each has an
//! id that stays the same from one period to the next
//! (`training.iris.completion.clinical.completed`). The renderings (HTML
//! charts, PDF, XLSX, CSV, JSON) all read the same [`Report`].

pub mod chart;
pub mod delivery;
pub mod engine;
pub mod export;
pub mod html;
pub mod pdf;
pub mod period;
pub mod standing;

pub use engine::{compute, PeriodData};
pub use period::{Period, Preset};

use serde::{Deserialize, Serialize};

/// The records a figure counts, for a link to their list where one exists.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Records {
    Assessments { framework: String, state: String },
    ReviewQueue,
    Programme { programme: String },
    ProgrammeOrganisations { programme: String },
    Sessions { programme: String },
    Cohort { id: i64 },
}

/// One figure. `value` is a count (or a number of days, as the label says).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    pub id: String,
    pub section: String,
    pub label: String,
    pub value: i64,
    /// The same figure for the previous period of the same length.
    pub previous: Option<i64>,
    /// What it names, where the report names them (organisations awarded,
    /// the review queue with each wait).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub records: Option<Records>,
}

impl Figure {
    pub fn change(&self) -> Option<i64> {
        self.previous.map(|p| self.value - p)
    }
}

/// Figures that belong together: a headline table, or a breakdown that is
/// also drawn as a bar chart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Group {
    pub title: String,
    pub chart: bool,
    pub figures: Vec<Figure>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Section {
    pub id: String,
    pub title: String,
    pub groups: Vec<Group>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    pub title: String,
    pub period: Period,
    pub previous_period: Period,
    /// Set for an organisation's own report.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organisation: Option<String>,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn figures(&self) -> impl Iterator<Item = &Figure> {
        self.sections
            .iter()
            .flat_map(|s| s.groups.iter())
            .flat_map(|g| g.figures.iter())
    }

    pub fn figure(&self, id: &str) -> Option<&Figure> {
        self.figures().find(|f| f.id == id)
    }

    /// Who the report is for, as its cover says: the partnership's report
    /// goes to the VAWG strategic group; an organisation's own report is its
    /// progress report, not a board paper.
    pub fn addressed_to(&self) -> &'static str {
        match self.organisation {
            Some(_) => "Progress report of one organisation",
            None => "Report to the VAWG strategic group",
        }
    }

    /// Attaches each figure's value for the previous period (same ids).
    pub fn compare_with(&mut self, previous: &Report) {
        let before: std::collections::HashMap<&str, i64> =
            previous.figures().map(|f| (f.id.as_str(), f.value)).collect();
        for figure in self
            .sections
            .iter_mut()
            .flat_map(|s| s.groups.iter_mut())
            .flat_map(|g| g.figures.iter_mut())
        {
            figure.previous = Some(before.get(figure.id.as_str()).copied().unwrap_or(0));
        }
    }
}

/// The formats a report is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Pdf,
    Html,
    Xlsx,
    Csv,
    Json,
}

impl Format {
    pub const ALL: [Format; 5] = [Format::Pdf, Format::Html, Format::Xlsx, Format::Csv, Format::Json];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
            Format::Xlsx => "xlsx",
            Format::Csv => "csv",
            Format::Json => "json",
        }
    }

    pub fn parse(text: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|f| f.as_str().eq_ignore_ascii_case(text.trim()))
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Html => "text/html; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Json => "application/json",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Format::Pdf => "PDF",
            Format::Html => "Web page (HTML)",
            Format::Xlsx => "Spreadsheet (XLSX)",
            Format::Csv => "CSV",
            Format::Json => "JSON",
        }
    }
}

/// The report written in `format`, with each section's narrative (by
/// section id). PDF and XLSX are CPU work: call from `spawn_blocking`.
pub fn render(
    report: &Report,
    narrative: &std::collections::BTreeMap<String, String>,
    format: Format,
) -> Result<Vec<u8>, String> {
    match format {
        Format::Pdf => pdf::render(report, narrative),
        Format::Html => Ok(html::render(report, narrative).into_bytes()),
        Format::Xlsx => export::xlsx(report),
        Format::Csv => export::csv(report),
        Format::Json => serde_json::to_vec_pretty(&export::json(report)).map_err(|e| e.to_string()),
    }
}

/// Lower-case words joined by hyphens, for ids made from names (localities).
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        if !out.is_empty() {
            out.push('-');
        }
        out.extend(word.chars().flat_map(char::to_lowercase));
    }
    if out.is_empty() {
        "none".into()
    } else {
        out
    }
}
