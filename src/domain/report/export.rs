//! The report as data: CSV (one row per figure), JSON and an XLSX workbook
//! (one sheet per section, numbers and dates as typed cells). Text that a
//! spreadsheet could read as a formula never becomes one.

use super::{Figure, Report};
use chrono::{Datelike, NaiveDate};
use serde_json::json;

/// Text for a CSV cell: one that starts like a formula (`=`, `+`, `-`, `@`,
/// a tab or a carriage return) gets a leading apostrophe, so a spreadsheet
/// shows it as text instead of running it.
pub fn safe_text(text: &str) -> String {
    match text.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{text}"),
        _ => text.to_string(),
    }
}

/// `id,section,label,period_from,period_to,value`, one row per figure.
pub fn csv(report: &Report) -> Result<Vec<u8>, String> {
    let mut writer = csv::Writer::from_writer(Vec::new());
    writer
        .write_record(["id", "section", "label", "period_from", "period_to", "value"])
        .map_err(|e| e.to_string())?;
    let (from, to) = (report.period.from.to_string(), report.period.to.to_string());
    for section in &report.sections {
        for figure in section.groups.iter().flat_map(|g| g.figures.iter()) {
            writer
                .write_record([
                    safe_text(&figure.id),
                    safe_text(&section.title),
                    safe_text(&figure.label),
                    from.clone(),
                    to.clone(),
                    figure.value.to_string(),
                ])
                .map_err(|e| e.to_string())?;
        }
    }
    writer.into_inner().map_err(|e| e.to_string())
}

fn figure_json(figure: &Figure, section_title: &str, group: &str) -> serde_json::Value {
    json!({
        "id": figure.id,
        "section": figure.section,
        "section_title": section_title,
        "group": group,
        "label": figure.label,
        "value": figure.value,
        "previous": figure.previous,
        "change": figure.change(),
        "items": figure.items,
    })
}

/// `{"period": {...}, "previous_period": {...}, "figures": [{"id", "label", "value", ...}]}`.
pub fn json(report: &Report) -> serde_json::Value {
    let figures: Vec<serde_json::Value> = report
        .sections
        .iter()
        .flat_map(|s| {
            s.groups
                .iter()
                .flat_map(move |g| g.figures.iter().map(move |f| figure_json(f, &s.title, &g.title)))
        })
        .collect();
    json!({
        "title": report.title,
        "organisation": report.organisation,
        "period": {"from": report.period.from, "to": report.period.to, "label": report.period.label()},
        "previous_period": {"from": report.previous_period.from, "to": report.previous_period.to},
        "figures": figures,
    })
}

fn excel_date(day: NaiveDate) -> Result<rust_xlsxwriter::ExcelDateTime, String> {
    let (Ok(year), Ok(month), Ok(day)) = (
        u16::try_from(day.year()),
        u8::try_from(day.month()),
        u8::try_from(day.day()),
    ) else {
        return Err("a date outside what a spreadsheet can hold".into());
    };
    rust_xlsxwriter::ExcelDateTime::from_ymd(year, month, day).map_err(|e| e.to_string())
}

/// The most characters Excel allows in a sheet name.
const SHEET_NAME_CHARACTERS: usize = 31;

/// Sheet names: at most 31 characters, unique (the section's number), none of
/// `[]:*?/\`. A title too long loses whole words, marked with an ellipsis:
/// from the front when it ends in a "(…)" that tells it apart (the three
/// quality mark sections would otherwise all read "Domestic Violence and
/// Abuse Q"), otherwise from the end.
fn sheet_name(number: usize, title: &str) -> String {
    let clean: String = title
        .replace(": ", " - ")
        .chars()
        .map(|c| if "[]:*?/\\'".contains(c) { ' ' } else { c })
        .collect();
    let words: Vec<&str> = clean.split_whitespace().collect();
    let whole = format!("{number} {}", words.join(" ")).trim_end().to_string();
    if whole.chars().count() <= SHEET_NAME_CHARACTERS {
        return whole;
    }
    // Room for the words kept, after the number, its space and the ellipsis.
    let room = SHEET_NAME_CHARACTERS - number.to_string().len() - 2;
    let fits = |kept: &[&str]| kept.join(" ").chars().count() <= room;
    let ends_in_brackets = words.last().is_some_and(|w| w.ends_with(')'));
    if ends_in_brackets {
        if let Some(first) = (1..words.len()).find(|&first| fits(&words[first..])) {
            return format!("{number} …{}", words[first..].join(" "));
        }
    }
    let kept = (1..words.len())
        .rev()
        .find(|&count| fits(&words[..count]))
        .map(|count| words[..count].join(" "))
        .unwrap_or_else(|| words.join(" ").chars().take(room).collect());
    format!("{number} {kept}…")
}

/// The workbook: a cover sheet with the period, then one sheet per section.
pub fn xlsx(report: &Report) -> Result<Vec<u8>, String> {
    use rust_xlsxwriter::{Format, Workbook};
    let err = |e: rust_xlsxwriter::XlsxError| e.to_string();
    let mut book = Workbook::new();
    let bold = Format::new().set_bold();
    let date_format = Format::new().set_num_format("d mmmm yyyy");
    let cover = book.add_worksheet();
    cover.set_name("Report").map_err(err)?;
    cover.set_column_width(0, 24).map_err(err)?;
    cover.set_column_width(1, 60).map_err(err)?;
    cover
        .write_string_with_format(0, 0, &report.title, &bold)
        .map_err(err)?;
    let mut row = 1;
    if let Some(organisation) = &report.organisation {
        cover.write_string(row, 0, "Organisation").map_err(err)?;
        cover.write_string(row, 1, organisation).map_err(err)?;
        row += 1;
    }
    for (label, day) in [
        ("Period from", report.period.from),
        ("Period to", report.period.to),
        ("Compared with, from", report.previous_period.from),
        ("Compared with, to", report.previous_period.to),
    ] {
        cover.write_string(row, 0, label).map_err(err)?;
        cover
            .write_datetime_with_format(row, 1, excel_date(day)?, &date_format)
            .map_err(err)?;
        row += 1;
    }
    row += 1;
    cover.write_string_with_format(row, 0, "Sections", &bold).map_err(err)?;
    for (index, section) in report.sections.iter().enumerate() {
        row += 1;
        cover.write_number(row, 0, (index + 1) as f64).map_err(err)?;
        cover.write_string(row, 1, &section.title).map_err(err)?;
    }

    for (index, section) in report.sections.iter().enumerate() {
        let sheet = book.add_worksheet();
        sheet.set_name(sheet_name(index + 1, &section.title)).map_err(err)?;
        for (col, width) in [(0u16, 60.0), (1, 12.0), (2, 16.0), (3, 10.0), (4, 60.0), (5, 50.0)] {
            sheet.set_column_width(col, width).map_err(err)?;
        }
        sheet
            .write_string_with_format(0, 0, format!("{} {}", index + 1, section.title), &bold)
            .map_err(err)?;
        let mut row = 2;
        for note in &section.notes {
            sheet.write_string(row, 0, note).map_err(err)?;
            row += 1;
        }
        row += u32::from(!section.notes.is_empty());
        for group in &section.groups {
            sheet
                .write_string_with_format(row, 0, &group.title, &bold)
                .map_err(err)?;
            for (col, heading) in ["Value", "Previous period", "Change", "Details", "Id"]
                .iter()
                .enumerate()
            {
                sheet
                    .write_string_with_format(row, (col + 1) as u16, *heading, &bold)
                    .map_err(err)?;
            }
            row += 1;
            for figure in &group.figures {
                // Strings are stored as text cells: a name such as "=SUM(A1)" stays text.
                sheet.write_string(row, 0, &figure.label).map_err(err)?;
                sheet.write_number(row, 1, figure.value as f64).map_err(err)?;
                if let Some(previous) = figure.previous {
                    sheet.write_number(row, 2, previous as f64).map_err(err)?;
                }
                if let Some(change) = figure.change() {
                    sheet.write_number(row, 3, change as f64).map_err(err)?;
                }
                if !figure.items.is_empty() {
                    sheet.write_string(row, 4, items_cell(&figure.items)).map_err(err)?;
                }
                sheet.write_string(row, 5, &figure.id).map_err(err)?;
                row += 1;
            }
            row += 1;
        }
    }
    book.save_to_buffer().map_err(err)
}

/// Excel refuses a cell longer than 32,767 characters.
const CELL_MOST: usize = 32_767;

/// The names behind a figure in one cell, "; " between them. On a large
/// partnership a figure such as "organisations reached" names thousands:
/// the cell then holds as many as fit and says how many more there are (the
/// HTML report lists them all), rather than the whole workbook failing.
fn items_cell(items: &[String]) -> String {
    let joined = items.join("; ");
    if joined.chars().count() <= CELL_MOST {
        return joined;
    }
    // Room for the longest possible ending.
    let room = CELL_MOST - format!("; {}", super::and_more(items.len())).len();
    let mut cell = String::new();
    let mut shown = 0;
    for item in items {
        let extra = if cell.is_empty() { 0 } else { 2 } + item.chars().count();
        if cell.chars().count() + extra > room {
            break;
        }
        if !cell.is_empty() {
            cell.push_str("; ");
        }
        cell.push_str(item);
        shown += 1;
    }
    format!("{cell}; {}", super::and_more(items.len() - shown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_list_of_names_fits_in_one_cell_and_says_how_many_more() {
        let few = vec!["Avon Homes".to_string(), "Riverside Medical Centre".to_string()];
        assert_eq!(items_cell(&few), "Avon Homes; Riverside Medical Centre");
        let many: Vec<String> = (0..9_800).map(|n| format!("Organisation number {n:05}")).collect();
        let cell = items_cell(&many);
        assert!(cell.chars().count() <= CELL_MOST, "{}", cell.chars().count());
        let shown = cell.matches("Organisation number").count();
        assert!(shown > 1_000, "as many as fit are named: {shown}");
        assert!(cell.ends_with(&format!("; and {} more (all are in the HTML report)", 9_800 - shown)));
    }

    #[test]
    fn formula_like_text_is_kept_as_text() {
        for risky in ["=SUM(A1:A2)", "+44 20", "-1", "@cmd", "\tx", "\rx"] {
            assert!(safe_text(risky).starts_with('\''), "{risky:?}");
        }
        assert_eq!(safe_text("Riverside Medical Centre"), "Riverside Medical Centre");
        assert_eq!(safe_text(""), "");
    }

    /// Every text the exports write, starting with each character a
    /// spreadsheet would run: the CSV quotes it as text, the workbook holds
    /// it in text cells, and neither has a formula.
    #[test]
    fn no_export_turns_text_into_a_formula() {
        use super::super::{Group, Period, Section};
        use calamine::{Data, Reader};
        let risky = ["=1+2", "+44 20", "-5 Agency", "@SUM(1)", "\t=1+2", "\r=1+2"];
        let day = |m, d| NaiveDate::from_ymd_opt(2026, m, d).unwrap_or_default();
        let period = Period::new(day(1, 1), day(3, 31)).unwrap_or_else(|e| panic!("{e}"));
        let report = Report {
            title: risky[0].into(),
            period,
            previous_period: period.previous(),
            organisation: Some(risky[1].into()),
            sections: risky
                .iter()
                .map(|text| Section {
                    notes: Vec::new(),
                    id: format!("s{}", text.len()),
                    title: text.to_string(),
                    groups: vec![Group {
                        title: text.to_string(),
                        chart: false,
                        figures: vec![Figure {
                            id: text.to_string(),
                            section: text.to_string(),
                            label: text.to_string(),
                            value: 1,
                            previous: Some(2),
                            items: vec![text.to_string()],
                            records: None,
                        }],
                    }],
                })
                .collect(),
        };
        let bytes = csv(&report).unwrap_or_else(|e| panic!("{e}"));
        let mut reader = ::csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        for record in reader.records() {
            let record = record.unwrap_or_else(|e| panic!("{e}"));
            for field in record.iter().filter(|f| f.parse::<f64>().is_err()) {
                assert!(!field.starts_with(['=', '+', '-', '@', '\t', '\r']), "{field:?}");
            }
        }
        let bytes = xlsx(&report).unwrap_or_else(|e| panic!("{e}"));
        let mut book =
            calamine::open_workbook_auto_from_rs(std::io::Cursor::new(bytes)).unwrap_or_else(|e| panic!("{e}"));
        let mut texts = Vec::new();
        for name in book.sheet_names() {
            let formulas = book.worksheet_formula(&name).unwrap_or_else(|e| panic!("{e}"));
            assert!(
                formulas.used_cells().all(|(_, _, f)| f.is_empty()),
                "a formula in {name}"
            );
            let range = book.worksheet_range(&name).unwrap_or_else(|e| panic!("{e}"));
            texts.extend(range.used_cells().filter_map(|(_, _, c)| match c {
                Data::String(s) => Some(s.clone()),
                _ => None,
            }));
        }
        for text in risky {
            assert!(
                texts.iter().any(|t| t == text),
                "{text:?} is kept as text in the workbook"
            );
        }
    }

    #[test]
    fn sheet_names_fit_excel() {
        let name = sheet_name(12, "Domestic Violence and Abuse Quality Mark: GP practices [2024]");
        assert!(name.chars().count() <= 31, "{name}");
        assert!(!name.contains(':') && !name.contains('['));
        assert!(name.starts_with("12 "));
    }

    #[test]
    fn long_sheet_names_keep_what_tells_them_apart() {
        let names: Vec<String> = ["GP practice", "service", "workplace"]
            .iter()
            .enumerate()
            .map(|(i, kind)| sheet_name(i + 3, &format!("Domestic Violence and Abuse Quality Mark ({kind})")))
            .collect();
        assert_eq!(
            names,
            [
                "3 …Quality Mark (GP practice)",
                "4 …Abuse Quality Mark (service)",
                "5 …Quality Mark (workplace)"
            ]
        );
        assert_eq!(sheet_name(6, "Training: all programmes"), "6 Training - all programmes");
        assert_eq!(
            sheet_name(1, "Quality marks and accreditations: all frameworks"),
            "1 Quality marks and…"
        );
        assert_eq!(sheet_name(9, "IRIS"), "9 IRIS");
        assert!(names.iter().all(|n| n.chars().count() <= 31));
    }
}
