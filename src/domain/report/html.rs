//! The board report as one self-contained HTML page (styles inline, charts
//! as inline SVG, each with its text alternative and the table behind it):
//! the HTML equivalent of the PDF, and what `--format html` writes.

use super::chart::svg;
use super::period::long_date;
use super::Report;
use std::collections::BTreeMap;

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

fn signed(change: i64) -> String {
    if change > 0 {
        format!("+{change}")
    } else {
        change.to_string()
    }
}

const STYLE: &str = "body{font-family:Arial,sans-serif;color:#0b0c0c;max-width:60rem;margin:2rem auto;padding:0 1rem;line-height:1.4}\
table{border-collapse:collapse;width:100%;margin:0 0 1.5rem}th,td{text-align:left;border-bottom:1px solid #b1b4b6;padding:.4rem .6rem .4rem 0;vertical-align:top}\
td.num,th.num{text-align:right}caption{text-align:left;font-weight:bold;font-size:1.1rem;padding:.5rem 0}\
.items{font-size:.9rem;color:#505a5f}nav ol{padding-left:1.5rem}@media print{section{page-break-before:always}}";

/// The whole report; `narrative` holds each section's text by section id.
pub fn render(report: &Report, narrative: &BTreeMap<String, String>) -> String {
    let mut out = String::new();
    let title = match &report.organisation {
        Some(organisation) => format!("{}: {}", report.title, organisation),
        None => report.title.clone(),
    };
    out.push_str(&format!(
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{} – {}</title><style>{STYLE}</style></head><body>\n",
        escape(&title),
        escape(&report.period.label())
    ));
    out.push_str(&format!(
        "<header><h1>{}</h1><p>{} for {}.</p><p>Compared with {} to {}. Figures are as they stood at the end of each period.</p></header>\n",
        escape(&title),
        report.addressed_to(),
        escape(&report.period.label()),
        escape(&long_date(report.previous_period.from)),
        escape(&long_date(report.previous_period.to)),
    ));
    out.push_str("<nav aria-labelledby=\"contents\"><h2 id=\"contents\">Contents</h2><ol>");
    for section in &report.sections {
        out.push_str(&format!(
            "<li><a href=\"#{}\">{}</a></li>",
            escape(&section.id),
            escape(&section.title)
        ));
    }
    out.push_str("</ol></nav>\n");
    for (number, section) in report.sections.iter().enumerate() {
        let number = number + 1;
        out.push_str(&format!(
            "<section id=\"{}\"><h2>{number} {}</h2>\n",
            escape(&section.id),
            escape(&section.title)
        ));
        for note in &section.notes {
            out.push_str(&format!("<p class=\"report-note\">{}</p>\n", escape(note)));
        }
        if let Some(text) = narrative.get(&section.id).filter(|t| !t.trim().is_empty()) {
            for paragraph in text.split("\n\n") {
                out.push_str(&format!("<p>{}</p>\n", escape(paragraph.trim())));
            }
        }
        for (index, group) in section.groups.iter().enumerate() {
            let heading = format!("{number}.{} {}", index + 1, group.title);
            if group.chart && !group.figures.is_empty() {
                out.push_str(&format!(
                    "<figure>{}<figcaption>{}</figcaption></figure>\n",
                    svg(group, &format!("chart-{number}-{}", index + 1)),
                    escape(&heading)
                ));
            }
            out.push_str(&format!(
                "<table><caption>{}</caption><thead><tr><th scope=\"col\">Figure</th><th scope=\"col\" class=\"num\">Value</th><th scope=\"col\" class=\"num\">Previous period</th><th scope=\"col\" class=\"num\">Change</th></tr></thead><tbody>\n",
                escape(&heading)
            ));
            for figure in &group.figures {
                let items = if figure.items.is_empty() {
                    String::new()
                } else {
                    format!("<div class=\"items\">{}</div>", escape(&figure.items.join("; ")))
                };
                out.push_str(&format!(
                    "<tr id=\"{}\"><th scope=\"row\">{}{items}</th><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>\n",
                    escape(&figure.id),
                    escape(&figure.label),
                    figure.value,
                    figure.previous.map(|p| p.to_string()).unwrap_or_default(),
                    figure.change().map(signed).unwrap_or_default(),
                ));
            }
            out.push_str("</tbody></table>\n");
        }
        out.push_str("</section>\n");
    }
    out.push_str("</body></html>\n");
    out
}
