//! The board report as an A4 PDF: a cover, contents, numbered sections with
//! tables and bar charts drawn as vectors, and page numbers. Same font and
//! approach as the certificates ([`crate::domain::certificate_pdf`]); the
//! same report always gives the same bytes.
//!
//! This is CPU work: call it from `spawn_blocking` in async code.

use super::chart::bars;
use super::period::long_date;
use super::{Figure, Report};
use crate::domain::certificate_pdf::{full_font, mm, rect_ring, save, subset, text_width};
use printpdf::{
    Color, FontId, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage, Point, Polygon, Pt,
    Rgb, TextItem, WindingOrder,
};
use std::collections::{BTreeMap, BTreeSet};

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 20.0;
const BOTTOM: f32 = PAGE_H - 22.0;
const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;
/// Columns of a figure table: label, value, previous period, change.
const LABEL_W: f32 = 104.0;
const COLUMNS: [f32; 3] = [MARGIN + 128.0, MARGIN + 150.0, MARGIN + CONTENT_W];
const BODY: f32 = 9.0;
const LINE: f32 = 4.6;

/// Something drawn on a page; positions in mm from the top left.
#[derive(Debug, Clone)]
enum Mark {
    Text {
        x: f32,
        y: f32,
        size: f32,
        bold: bool,
        right: bool,
        text: String,
    },
    Rect {
        x: f32,
        y: f32,
        w: f32,
        h: f32,
        grey: bool,
    },
}

struct Layout {
    pages: Vec<Vec<Mark>>,
    y: f32,
    regular: &'static ParsedFont,
    bold: &'static ParsedFont,
}

impl Layout {
    fn page(&mut self) -> &mut Vec<Mark> {
        if self.pages.is_empty() {
            self.pages.push(Vec::new());
        }
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.new_page();
        }
    }

    fn width(&self, text: &str, size: f32, bold: bool) -> f32 {
        let font = if bold { self.bold } else { self.regular };
        // Points to millimetres.
        text_width(font, text, size) * 25.4 / 72.0
    }

    /// `text` broken into lines no wider than `width` mm.
    fn wrap(&self, text: &str, size: f32, bold: bool, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        let mut line = String::new();
        for word in text.split_whitespace() {
            let candidate = if line.is_empty() {
                word.to_string()
            } else {
                format!("{line} {word}")
            };
            if !line.is_empty() && self.width(&candidate, size, bold) > width {
                lines.push(std::mem::replace(&mut line, word.to_string()));
            } else {
                line = candidate;
            }
        }
        if !line.is_empty() {
            lines.push(line);
        }
        lines
    }

    fn text(&mut self, x: f32, size: f32, bold: bool, right: bool, text: &str) {
        let y = self.y;
        self.page().push(Mark::Text {
            x,
            y,
            size,
            bold,
            right,
            text: text.to_string(),
        });
    }

    fn paragraph(&mut self, text: &str, size: f32, bold: bool) {
        let line_height = size * 0.5;
        for line in self.wrap(text, size, bold, CONTENT_W) {
            self.ensure(line_height);
            self.y += line_height;
            self.text(MARGIN, size, bold, false, &line);
        }
        self.y += line_height * 0.4;
    }

    /// Text wrapped within the margins (a long section title, organisation
    /// name or period must not run into the right margin): the first line at
    /// the current position, each next one `spacing` mm below, leaving the
    /// position on the last.
    fn wrapped(&mut self, text: &str, size: f32, bold: bool, spacing: f32) {
        for (index, line) in self.wrap(text, size, bold, CONTENT_W).iter().enumerate() {
            if index > 0 {
                self.y += spacing;
            }
            self.text(MARGIN, size, bold, false, line);
        }
    }

    fn rule(&mut self) {
        let y = self.y + 1.2;
        self.page().push(Mark::Rect {
            x: MARGIN,
            y,
            w: CONTENT_W,
            h: 0.25,
            grey: true,
        });
    }
}

fn signed(change: i64) -> String {
    if change > 0 {
        format!("+{change}")
    } else {
        change.to_string()
    }
}

/// A figure's row laid out: its label's lines and the lines naming its items.
struct Row {
    label: Vec<String>,
    items: Vec<String>,
}

/// The most names printed for one figure: a year's awards (240 on the large
/// data set) in full, but not the thousands of organisations whose staff
/// attended training, which took 50 pages a programme.
const NAMES_MOST: usize = 250;

/// Height of a line naming items.
const ITEM_LINE: f32 = LINE - 0.8;

/// The item lines kept on the page with a figure's label, when its list of
/// names is too long to keep whole.
const ITEM_LINES_WITH_LABEL: usize = 3;

impl Row {
    fn of(layout: &Layout, figure: &Figure) -> Row {
        Row {
            label: layout.wrap(&figure.label, BODY, false, LABEL_W),
            items: if figure.items.is_empty() {
                Vec::new()
            } else {
                let shown = &figure.items[..figure.items.len().min(NAMES_MOST)];
                let mut names = shown.join("; ");
                if shown.len() < figure.items.len() {
                    names = format!("{names}; {}", super::and_more(figure.items.len() - shown.len()));
                }
                layout.wrap(&names, BODY - 1.5, false, LABEL_W + 12.0)
            },
        }
    }

    /// What must be on one page: the whole row if it fits on one, else its
    /// label and the first lines of its names, the rest running on.
    fn kept_together(&self) -> f32 {
        let whole = LINE * self.label.len() as f32 + ITEM_LINE * self.items.len() as f32 + 1.6;
        if whole <= BOTTOM - MARGIN {
            whole
        } else {
            LINE * self.label.len() as f32 + ITEM_LINE * ITEM_LINES_WITH_LABEL as f32
        }
    }
}

fn figure_row(layout: &mut Layout, figure: &Figure) {
    let row = Row::of(layout, figure);
    layout.ensure(row.kept_together());
    for (index, line) in row.label.iter().enumerate() {
        layout.y += LINE;
        layout.text(MARGIN, BODY, false, false, line);
        if index == 0 {
            layout.text(COLUMNS[0], BODY, true, true, &figure.value.to_string());
            if let Some(previous) = figure.previous {
                layout.text(COLUMNS[1], BODY, false, true, &previous.to_string());
            }
            if let Some(change) = figure.change() {
                layout.text(COLUMNS[2], BODY, false, true, &signed(change));
            }
        }
    }
    // A list longer than a page (the 240 organisations awarded in a year)
    // runs on over the pages after, every name on a page.
    for line in &row.items {
        layout.ensure(ITEM_LINE);
        layout.y += ITEM_LINE;
        layout.text(MARGIN + 4.0, BODY - 1.5, false, false, line);
    }
    layout.ensure(1.6);
    layout.rule();
    layout.y += 1.6;
}

fn chart(layout: &mut Layout, group: &super::Group) {
    let bars = bars(group);
    let row = 5.0;
    let label_w = 78.0;
    let bar_w = CONTENT_W - label_w - 16.0;
    layout.ensure(row * bars.len() as f32 + 4.0);
    layout.y += 2.0;
    for bar in bars {
        let label = layout
            .wrap(&bar.label, BODY - 2.0, false, label_w - 2.0)
            .into_iter()
            .next()
            .unwrap_or_default();
        layout.y += row;
        layout.text(MARGIN + label_w - 2.0, BODY - 2.0, false, true, &label);
        let y = layout.y - 3.2;
        let w = (bar.share * bar_w).max(if bar.value > 0 { 0.6 } else { 0.0 });
        layout.page().push(Mark::Rect {
            x: MARGIN + label_w,
            y,
            w,
            h: 3.6,
            grey: false,
        });
        layout.text(
            MARGIN + label_w + w + 1.5,
            BODY - 2.0,
            false,
            false,
            &bar.value.to_string(),
        );
    }
    layout.y += 3.0;
}

fn body(layout: &mut Layout, report: &Report, narrative: &BTreeMap<String, String>) -> Vec<usize> {
    let mut starts = Vec::new();
    for (number, section) in report.sections.iter().enumerate() {
        let number = number + 1;
        layout.new_page();
        starts.push(layout.pages.len());
        layout.y += 6.0;
        layout.wrapped(&format!("{number} {}", section.title), 16.0, true, 7.0);
        layout.y += 4.0;
        for note in &section.notes {
            layout.paragraph(note, 10.0, false);
        }
        if let Some(text) = narrative.get(&section.id).filter(|t| !t.trim().is_empty()) {
            for paragraph in text.split("\n\n") {
                layout.paragraph(paragraph.trim(), 10.0, false);
            }
            layout.y += 2.0;
        }
        for (index, group) in section.groups.iter().enumerate() {
            // The heading and the table's head stay with its first row.
            let first_row = group
                .figures
                .first()
                .map_or(0.0, |figure| Row::of(layout, figure).kept_together());
            layout.ensure(LINE * 4.0 + first_row);
            layout.y += LINE + 2.0;
            layout.wrapped(&format!("{number}.{} {}", index + 1, group.title), 11.0, true, LINE);
            layout.y += LINE;
            layout.text(MARGIN, BODY - 1.0, true, false, "Figure");
            layout.text(COLUMNS[0], BODY - 1.0, true, true, "Value");
            layout.text(COLUMNS[1], BODY - 1.0, true, true, "Previous");
            layout.text(COLUMNS[2], BODY - 1.0, true, true, "Change");
            layout.rule();
            layout.y += 1.6;
            for figure in &group.figures {
                figure_row(layout, figure);
            }
            if group.chart && !group.figures.is_empty() {
                chart(layout, group);
            }
        }
    }
    starts
}

/// Contents lines that fit on one page.
const CONTENTS_PER_PAGE: usize = 40;

/// The PDF for `report`, with each section's narrative (by section id).
pub fn render(report: &Report, narrative: &BTreeMap<String, String>) -> Result<Vec<u8>, String> {
    draw(report, lay_out(report, narrative)?)
}

/// Every page's marks: cover, contents, then the sections.
fn lay_out(report: &Report, narrative: &BTreeMap<String, String>) -> Result<Vec<Vec<Mark>>, String> {
    let mut layout = Layout {
        pages: Vec::new(),
        y: MARGIN,
        regular: full_font(false)?,
        bold: full_font(true)?,
    };
    // Cover.
    layout.new_page();
    layout.y = 90.0;
    layout.wrapped(&report.title, 26.0, true, 11.0);
    layout.y += 14.0;
    layout.text(MARGIN, 13.0, false, false, report.addressed_to());
    layout.y += 10.0;
    if let Some(organisation) = &report.organisation {
        layout.wrapped(organisation, 13.0, true, 6.0);
        layout.y += 8.0;
    }
    layout.text(MARGIN, 13.0, false, false, &report.period.label());
    layout.y += 8.0;
    layout.wrapped(
        &format!(
            "Compared with {} to {}. Figures are as they stood at the end of each period.",
            long_date(report.previous_period.from),
            long_date(report.previous_period.to)
        ),
        10.0,
        false,
        5.0,
    );
    let contents_pages = report.sections.len().div_ceil(CONTENTS_PER_PAGE).max(1);
    let cover = std::mem::take(&mut layout.pages);
    // Sections first, so the contents can give their page numbers.
    layout.pages = vec![Vec::new(); contents_pages];
    let starts = body(&mut layout, report, narrative);
    let mut pages = cover;
    let mut body_pages = std::mem::take(&mut layout.pages);
    let offset = pages.len();
    for (chunk_index, chunk) in report.sections.chunks(CONTENTS_PER_PAGE).enumerate() {
        layout.pages = Vec::new();
        layout.new_page();
        layout.y += 6.0;
        if chunk_index == 0 {
            layout.text(MARGIN, 16.0, true, false, "Contents");
            layout.y += 4.0;
        }
        for (index, section) in chunk.iter().enumerate() {
            let number = chunk_index * CONTENTS_PER_PAGE + index + 1;
            let page = starts.get(number - 1).copied().unwrap_or(0) + offset;
            layout.y += 5.6;
            layout.text(MARGIN + CONTENT_W, 10.0, false, true, &page.to_string());
            // Clear of the page numbers' column.
            let title = format!("{number}  {}", section.title);
            for (line_index, line) in layout.wrap(&title, 10.0, false, CONTENT_W - 14.0).iter().enumerate() {
                if line_index > 0 {
                    layout.y += 4.6;
                }
                layout.text(MARGIN, 10.0, false, false, line);
            }
        }
        if let (Some(slot), Some(page)) = (body_pages.get_mut(chunk_index), layout.pages.pop()) {
            *slot = page;
        }
    }
    pages.append(&mut body_pages);
    Ok(pages)
}

fn draw(report: &Report, pages: Vec<Vec<Mark>>) -> Result<Vec<u8>, String> {
    let total = pages.len();
    let footer = |n: usize| format!("Page {n} of {total}");
    let mut chars: [BTreeSet<char>; 2] = [BTreeSet::new(), BTreeSet::new()];
    for mark in pages.iter().flatten() {
        if let Mark::Text { bold, text, .. } = mark {
            chars[usize::from(*bold)].extend(text.chars());
        }
    }
    chars[0].extend(footer(total).chars());
    chars[0].extend("0123456789".chars());

    let mut pdf = PdfDocument::new(&format!("{}: {}", report.title, report.period.label()));
    pdf.metadata.info.subject = "Board report".into();
    let mut fonts: Vec<(FontId, ParsedFont)> = Vec::new();
    for bold in [false, true] {
        let font = subset(bold, &chars[usize::from(bold)])?;
        let id = FontId(if bold { "F2" } else { "F1" }.to_string());
        pdf.resources.fonts.map.insert(id.clone(), PdfFont::new(font.clone()));
        fonts.push((id, font));
    }
    let colour = |r: f32, g: f32, b: f32| {
        Color::Rgb(Rgb {
            r,
            g,
            b,
            icc_profile: None,
        })
    };
    for (index, marks) in pages.into_iter().enumerate() {
        let mut ops = Vec::new();
        let mut all = marks;
        all.push(Mark::Text {
            x: PAGE_W - MARGIN,
            y: PAGE_H - 10.0,
            size: 8.0,
            bold: false,
            right: true,
            text: footer(index + 1),
        });
        for mark in all {
            match mark {
                Mark::Rect { x, y, w, h, grey } => {
                    ops.push(Op::SetFillColor {
                        col: if grey {
                            colour(0.7, 0.7, 0.7)
                        } else {
                            colour(0.11, 0.44, 0.72)
                        },
                    });
                    ops.push(Op::DrawPolygon {
                        polygon: Polygon {
                            rings: vec![rect_ring(mm(x), mm(PAGE_H - y - h), mm(w), mm(h))],
                            mode: PaintMode::Fill,
                            winding_order: WindingOrder::NonZero,
                        },
                    });
                }
                Mark::Text {
                    x,
                    y,
                    size,
                    bold,
                    right,
                    text,
                } => {
                    let Some((id, font)) = fonts.get(usize::from(bold)) else {
                        continue;
                    };
                    let left = if right {
                        mm(x).0 - text_width(font, &text, size)
                    } else {
                        mm(x).0
                    };
                    ops.push(Op::SetFillColor {
                        col: colour(0.04, 0.05, 0.05),
                    });
                    ops.extend([
                        Op::StartTextSection,
                        Op::SetFont {
                            font: PdfFontHandle::External(id.clone()),
                            size: Pt(size),
                        },
                        Op::SetTextCursor {
                            pos: Point {
                                x: Pt(left),
                                y: mm(PAGE_H - y),
                            },
                        },
                        Op::ShowText {
                            items: vec![TextItem::Text(text)],
                        },
                        Op::EndTextSection,
                    ]);
                }
            }
        }
        pdf.pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    }
    // A fixed file identifier from the period, so the same report gives the same bytes.
    save(&pdf, format!("{}{}", report.period.from, report.period.to).into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::{Figure, Group, Period, Section};
    use chrono::NaiveDate;

    /// 600 organisations awarded: the first 250 are named, running on over
    /// the pages after, every name above the footer, with how many more the
    /// HTML report names; the table's heading stays with the row.
    #[test]
    fn a_long_list_runs_on_over_pages_and_says_how_many_more_there_are() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let period = Period::new(day(2025, 4, 1), day(2026, 3, 31)).unwrap_or_else(|e| panic!("{e}"));
        let names: Vec<String> = (1..=600).map(|n| format!("Organisation number {n:03}")).collect();
        let awarded = Figure {
            id: "accreditation.all.awarded".into(),
            section: "accreditation".into(),
            label: "Organisations awarded in the period".into(),
            value: 600,
            previous: Some(500),
            items: names.clone(),
            records: None,
        };
        let report = super::super::one_table_report(period, "accreditation", vec![awarded]);
        let pages = lay_out(&report, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
        let mut text = String::new();
        let mut heading_page = None;
        let mut label_page = None;
        for (page, marks) in pages.iter().enumerate() {
            for mark in marks {
                if let Mark::Text { y, text: line, .. } = mark {
                    if line.starts_with("Page ") {
                        continue;
                    }
                    assert!(*y <= BOTTOM, "“{line}” at {y} mm is below the footer line");
                    if line.ends_with(" Figures") && heading_page.is_none() {
                        heading_page = Some(page);
                    }
                    if line == "Organisations awarded in the period" {
                        label_page = Some(page);
                    }
                    text.push_str(line);
                    text.push(' ');
                }
            }
        }
        assert!(
            heading_page.is_some() && heading_page == label_page,
            "the table's heading is on its first row's page"
        );
        for name in &names[..NAMES_MOST] {
            assert!(text.contains(name.as_str()), "{name} is in the PDF");
        }
        assert!(!text.contains(names[NAMES_MOST].as_str()));
        assert!(text.contains("and 350 more (all are in the HTML report)"), "{text}");
    }

    #[test]
    fn no_text_runs_into_the_right_margin() {
        let day = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap_or_default();
        let period = Period::new(day(2025, 9, 1), day(2026, 9, 30)).unwrap_or_else(|e| panic!("{e}"));
        let long = "Domestic Violence and Abuse Quality Mark (GP practice) for practices in the Northbridge and East Vale localities";
        let report = Report {
            title: format!("Progress report: {long}"),
            period,
            previous_period: period.previous(),
            organisation: Some(format!(
                "Northbridge and East Vale Community Health and Wellbeing Partnership {long}"
            )),
            sections: vec![Section {
                notes: Vec::new(),
                id: "accreditation".into(),
                title: long.into(),
                groups: vec![Group {
                    title: format!("Assessments in progress at the end of the period, by stage: {long}"),
                    chart: true,
                    figures: vec![Figure {
                        id: "accreditation.all.holding".into(),
                        section: "accreditation".into(),
                        label: format!("Organisations holding a current award at the end of the period: {long}"),
                        value: 3,
                        previous: Some(1),
                        items: vec![long.to_string(), long.to_uppercase(), "Northbridge Homes".into()],
                        records: None,
                    }],
                }],
            }],
        };
        let pages = lay_out(&report, &BTreeMap::new()).unwrap_or_else(|e| panic!("{e}"));
        let regular = full_font(false).unwrap_or_else(|e| panic!("{e}"));
        let bold = full_font(true).unwrap_or_else(|e| panic!("{e}"));
        let mut checked = 0;
        for mark in pages.iter().flatten() {
            if let Mark::Text {
                x,
                size,
                bold: is_bold,
                right: false,
                text,
                ..
            } = mark
            {
                let font = if *is_bold { bold } else { regular };
                let right_edge = x + text_width(font, text, *size) * 25.4 / 72.0;
                assert!(right_edge <= PAGE_W - MARGIN + 0.01, "“{text}” ends at {right_edge} mm");
                checked += 1;
            }
        }
        assert!(checked > 8, "the cover, contents and section were laid out");
    }
}
