//! Bar charts of a group of figures, as bars with lengths in proportion to
//! the values. The same layout serves the inline SVG on the dashboard and
//! the vector drawing in the PDF, so both show the same thing.

use super::Group;

/// One bar: its label, value and length as a share of the longest (0 to 1).
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: i64,
    pub share: f32,
}

pub fn bars(group: &Group) -> Vec<Bar> {
    let largest = group.figures.iter().map(|f| f.value).max().unwrap_or(0).max(1);
    group
        .figures
        .iter()
        .map(|f| Bar {
            label: f.label.clone(),
            value: f.value,
            share: f.value.max(0) as f32 / largest as f32,
        })
        .collect()
}

/// What the chart shows, in words, for people who cannot see it.
pub fn text_alternative(group: &Group) -> String {
    let parts: Vec<String> = group
        .figures
        .iter()
        .map(|f| format!("{}: {}", f.label, f.value))
        .collect();
    // The title is kept as written: lower-casing it turned IRIS into "iris"
    // and DVA into "dva", and read "Bar chart of by module".
    format!("Bar chart: {}. {}.", group.title, parts.join("; "))
}

/// The most characters of a label that fit in `LABEL_WIDTH` at 13 px, so that
/// "IRIS admin and reception session: people who attended" is shown whole.
const LABEL_CHARACTERS: usize = 62;

/// A label's SVG text, short enough to fit beside the bars: a longer one is
/// cut with an ellipsis, so that it does not look like a misspelling ("people
/// who attende"), and carries the whole label as its tooltip.
fn fitted_label(label: &str) -> String {
    if label.chars().count() <= LABEL_CHARACTERS {
        return escape(label);
    }
    let kept: String = label.chars().take(LABEL_CHARACTERS - 1).collect();
    format!("<title>{}</title>{}…", escape(label), escape(kept.trim_end()))
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

const ROW: f32 = 22.0;
const LABEL_WIDTH: f32 = 400.0;
const BAR_WIDTH: f32 = 260.0;

/// An inline SVG bar chart; `id` must be unique on the page (it names the
/// chart's title for assistive technology).
pub fn svg(group: &Group, id: &str) -> String {
    let bars = bars(group);
    let height = ROW * bars.len() as f32 + 8.0;
    let width = LABEL_WIDTH + BAR_WIDTH + 60.0;
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"qm-chart\" role=\"img\" aria-labelledby=\"{id}-title\" \
         viewBox=\"0 0 {width} {height}\" width=\"100%\" preserveAspectRatio=\"xMinYMin meet\">\
         <title id=\"{id}-title\">{}</title>",
        escape(&text_alternative(group))
    );
    for (index, bar) in bars.iter().enumerate() {
        let y = index as f32 * ROW + 4.0;
        let length = (bar.share * BAR_WIDTH).max(if bar.value > 0 { 2.0 } else { 0.0 });
        out.push_str(&format!(
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" font-size=\"13\" fill=\"#0b0c0c\">{}</text>\
             <rect x=\"{:.1}\" y=\"{:.1}\" width=\"{length:.1}\" height=\"{:.1}\" fill=\"#1d70b8\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"13\" fill=\"#0b0c0c\">{}</text>",
            LABEL_WIDTH - 8.0,
            y + 14.0,
            fitted_label(&bar.label),
            LABEL_WIDTH,
            y + 2.0,
            ROW - 6.0,
            LABEL_WIDTH + length + 6.0,
            y + 14.0,
            bar.value
        ));
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::report::Figure;

    fn group() -> Group {
        let figure = |label: &str, value| Figure {
            id: label.to_lowercase(),
            section: "s".into(),
            label: label.into(),
            value,
            previous: None,
            items: Vec::new(),
            records: None,
        };
        Group {
            title: "By module".into(),
            chart: true,
            figures: vec![figure("Day 1 <intro>", 20), figure("Day 2", 5), figure("Day 3", 0)],
        }
    }

    #[test]
    fn bars_are_in_proportion_and_described() {
        let bars = bars(&group());
        assert_eq!(bars[0].share, 1.0);
        assert_eq!(bars[1].share, 0.25);
        assert_eq!(bars[2].share, 0.0);
        let alt = text_alternative(&group());
        assert_eq!(alt, "Bar chart: By module. Day 1 <intro>: 20; Day 2: 5; Day 3: 0.");
        let svg = svg(&group(), "c1");
        assert!(svg.contains("aria-labelledby=\"c1-title\""));
        assert!(svg.contains("Day 1 &lt;intro&gt;"));
        assert!(!svg.contains("<intro>"));
        assert_eq!(svg.matches("<rect").count(), 3);
    }

    #[test]
    fn the_description_keeps_the_title_as_written() {
        let mut iris = group();
        iris.title = "IRIS clinical training: by locality".into();
        assert!(text_alternative(&iris).starts_with("Bar chart: IRIS clinical training: by locality. "));
    }

    #[test]
    fn a_long_label_is_cut_with_an_ellipsis_and_kept_whole_in_its_title() {
        let long = "Completed in the period: Domestic Violence and Abuse Quality Mark holders";
        let mut iris = group();
        iris.figures[0].label = long.into();
        let svg = svg(&iris, "c2");
        assert!(
            svg.contains("Completed in the period: Domestic Violence and Abuse Quality…</text>"),
            "{svg}"
        );
        assert!(svg.contains(&format!("<title>{long}</title>")), "{svg}");
        let whole = "IRIS admin and reception session: people who attended";
        assert_eq!(fitted_label(whole), whole);
        assert_eq!(fitted_label("Day 1 <intro>"), "Day 1 &lt;intro&gt;");
    }
}
