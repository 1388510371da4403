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
    /// Said under the title, before any figures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub groups: Vec<Group>,
}

impl Section {
    /// Nothing to show: every figure 0 in this period and the one before,
    /// and nothing named.
    fn is_empty(&self) -> bool {
        self.groups
            .iter()
            .flat_map(|g| &g.figures)
            .all(|f| f.value == 0 && f.previous.unwrap_or(0) == 0 && f.items.is_empty())
    }
}

/// The end of a list of names cut short in a file that cannot hold them all
/// (a spreadsheet cell, a printed page): the HTML report names every one.
pub fn and_more(left_out: usize) -> String {
    format!("and {left_out} more (all are in the HTML report)")
}

/// The sections that sum up all frameworks and all programmes: each of the
/// sections after one, up to the next, is about one of its frameworks or
/// programmes.
const OVERVIEWS: [&str; 2] = ["accreditation", "training"];

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

    /// For an organisation's own report: leaves out the section of each
    /// framework and programme it has nothing in, in this period or the one
    /// before (a housing provider's report need not list IRIS at nought),
    /// and names them in the overview above, so that none goes silently.
    /// Call it after [`Report::compare_with`].
    pub fn leave_out_empty_sections(&mut self) {
        let mut kept: Vec<Section> = Vec::new();
        let mut overview: Option<usize> = None;
        let mut left_out: Vec<(usize, String)> = Vec::new();
        for section in std::mem::take(&mut self.sections) {
            if OVERVIEWS.contains(&section.id.as_str()) {
                overview = Some(kept.len());
            } else if let Some(at) = overview.filter(|_| section.is_empty()) {
                left_out.push((at, section.title));
                continue;
            }
            kept.push(section);
        }
        for (at, section) in kept.iter_mut().enumerate() {
            let titles: Vec<&str> = left_out
                .iter()
                .filter(|(overview, _)| *overview == at)
                .map(|(_, title)| title.as_str())
                .collect();
            if !titles.is_empty() {
                section.notes.push(format!(
                    "Not shown, as there is nothing for this organisation in this period or the one before: {}.",
                    titles.join("; ")
                ));
            }
        }
        self.sections = kept;
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

/// A board report of one section with one table, for tests of how reports
/// are shown and written.
#[cfg(test)]
pub(crate) fn one_table_report(period: Period, section_id: &str, figures: Vec<Figure>) -> Report {
    Report {
        title: "Board report".into(),
        period,
        previous_period: period.previous(),
        organisation: None,
        sections: vec![Section {
            notes: Vec::new(),
            id: section_id.into(),
            title: format!("Section {section_id}"),
            groups: vec![Group {
                title: "Figures".into(),
                chart: false,
                figures,
            }],
        }],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn section(id: &str, title: &str, values: &[(i64, Option<i64>)]) -> Section {
        Section {
            notes: Vec::new(),
            id: id.into(),
            title: title.into(),
            groups: vec![Group {
                title: "Figures".into(),
                chart: false,
                figures: values
                    .iter()
                    .enumerate()
                    .map(|(i, (value, previous))| Figure {
                        id: format!("{id}.{i}"),
                        section: id.into(),
                        label: format!("Figure {i}"),
                        value: *value,
                        previous: *previous,
                        items: Vec::new(),
                        records: None,
                    })
                    .collect(),
            }],
        }
    }

    #[test]
    fn an_organisations_report_leaves_out_what_it_has_nothing_in_and_says_so() {
        let period = Period::parse("2024-04-01", "2025-03-31").expect("period");
        let mut report = Report {
            title: "Progress report".into(),
            period,
            previous_period: period.previous(),
            organisation: Some("Riverside Medical Centre".into()),
            sections: vec![
                section("accreditation", "All frameworks", &[(0, Some(0))]),
                section("accreditation.daha", "DAHA accreditation", &[(0, Some(0)), (0, None)]),
                section("accreditation.gp", "GP quality mark", &[(0, Some(1))]),
                section("training", "All programmes", &[(3, Some(0))]),
                section("training.iris", "IRIS", &[(3, Some(0))]),
                section("training.marac", "MARAC briefing", &[(0, Some(0))]),
                section("training.s-and-t", "Safe & Together", &[(0, Some(0))]),
            ],
        };
        report.leave_out_empty_sections();
        let ids: Vec<&str> = report.sections.iter().map(|s| s.id.as_str()).collect();
        // The overviews stay even at nought; the GP mark had something the period before.
        assert_eq!(ids, ["accreditation", "accreditation.gp", "training", "training.iris"]);
        assert_eq!(
            report.sections[0].notes,
            ["Not shown, as there is nothing for this organisation in this period or the one before: DAHA accreditation."]
        );
        assert_eq!(
            report.sections[2].notes,
            ["Not shown, as there is nothing for this organisation in this period or the one before: MARAC briefing; Safe & Together."]
        );
        assert!(report.sections[1].notes.is_empty() && report.sections[3].notes.is_empty());
    }

    #[test]
    fn a_section_that_names_something_is_kept_even_at_nought() {
        let period = Period::parse("2024-04-01", "2025-03-31").expect("period");
        let mut named = section("training.iris", "IRIS", &[(0, Some(0))]);
        named.groups[0].figures[0].items = vec!["Riverside Medical Centre".into()];
        let mut report = Report {
            title: "Progress report".into(),
            period,
            previous_period: period.previous(),
            organisation: Some("Riverside Medical Centre".into()),
            sections: vec![section("training", "All programmes", &[(0, Some(0))]), named],
        };
        report.leave_out_empty_sections();
        assert_eq!(report.sections.len(), 2);
        assert!(report.sections[0].notes.is_empty());
    }
}
