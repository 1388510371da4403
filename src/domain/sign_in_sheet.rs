//! A session's sign-in sheet as an A4 PDF: the programme, session and date,
//! a table of blank rows for attendees to print their name and
//! organisation and sign, and the evaluation link as a QR code and as text.
//! Same font, QR drawing and fixed output as the certificates
//! ([`crate::domain::certificate_pdf`]).
//!
//! This is CPU work: call it from `spawn_blocking` in async code.

use super::certificate_pdf::{mm, qr_ops, rect_ring, save, subset, text_width};
use printpdf::{
    Color, FontId, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage, Point, Polygon, Pt,
    Rgb, TextItem, WindingOrder,
};
use std::collections::BTreeSet;

const PAGE_W: f32 = 210.0;
const PAGE_H: f32 = 297.0;
const MARGIN: f32 = 18.0;
/// Rows to sign: enough for a full room on one page, with the QR code below.
pub const ROWS: usize = 18;
const ROW_H: f32 = 9.0;
/// Column edges of the table (mm from the left): number, name, organisation,
/// email, signature. The email is what an import of the typed-up sheet
/// matches people on, so two people of the same name stay apart.
const COLUMNS: [f32; 6] = [
    MARGIN,
    MARGIN + 10.0,
    MARGIN + 55.0,
    MARGIN + 97.0,
    MARGIN + 142.0,
    PAGE_W - MARGIN,
];

/// What the sheet prints.
pub struct SheetContent {
    pub programme: String,
    pub session: String,
    /// "3 March 2026, 10:00, Civic Centre".
    pub when_and_where: String,
    pub trainer: String,
    /// The evaluation link, if the programme has a form.
    pub evaluation_url: Option<String>,
}

struct Fonts {
    regular: (FontId, ParsedFont),
    bold: (FontId, ParsedFont),
}

fn text(ops: &mut Vec<Op>, font: &(FontId, ParsedFont), size: f32, x: f32, y: f32, line: &str) {
    ops.extend([
        Op::StartTextSection,
        Op::SetFont {
            font: PdfFontHandle::External(font.0.clone()),
            size: Pt(size),
        },
        Op::SetTextCursor {
            pos: Point {
                x: mm(x),
                y: mm(PAGE_H - y),
            },
        },
        Op::ShowText {
            items: vec![TextItem::Text(line.to_string())],
        },
        Op::EndTextSection,
    ]);
}

/// `line` cut (with an ellipsis) to fit `width` mm.
fn fitted(font: &ParsedFont, size: f32, width: f32, line: &str) -> String {
    let fits = |t: &str| text_width(font, t, size) * 25.4 / 72.0 <= width;
    if fits(line) {
        return line.to_string();
    }
    let mut cut: String = line.to_string();
    while !cut.is_empty() && !fits(&format!("{cut}…")) {
        cut.pop();
    }
    format!("{}…", cut.trim_end())
}

pub fn render(content: &SheetContent) -> Result<Vec<u8>, String> {
    let mut regular_chars: BTreeSet<char> = BTreeSet::new();
    for t in [&content.when_and_where, &content.trainer, &content.programme] {
        regular_chars.extend(t.chars());
    }
    regular_chars.extend(content.evaluation_url.iter().flat_map(|u| u.chars()));
    regular_chars.insert('…');
    let mut bold_chars: BTreeSet<char> = content.session.chars().collect();
    bold_chars.insert('…');
    let mut pdf = PdfDocument::new(&format!("Sign-in sheet: {}", content.session));
    let fonts = Fonts {
        regular: (FontId("F1".into()), subset(false, &regular_chars)?),
        bold: (FontId("F2".into()), subset(true, &bold_chars)?),
    };
    for (id, font) in [&fonts.regular, &fonts.bold] {
        pdf.resources.fonts.map.insert(id.clone(), PdfFont::new(font.clone()));
    }
    let black = Color::Rgb(Rgb {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        icc_profile: None,
    });
    let mut ops = vec![Op::SetFillColor { col: black.clone() }];
    let usable = PAGE_W - 2.0 * MARGIN;
    text(
        &mut ops,
        &fonts.regular,
        11.0,
        MARGIN,
        22.0,
        &fitted(&fonts.regular.1, 11.0, usable, &content.programme),
    );
    text(
        &mut ops,
        &fonts.bold,
        17.0,
        MARGIN,
        31.0,
        &fitted(&fonts.bold.1, 17.0, usable, &content.session),
    );
    text(
        &mut ops,
        &fonts.regular,
        11.0,
        MARGIN,
        39.0,
        &fitted(&fonts.regular.1, 11.0, usable, &content.when_and_where),
    );
    if !content.trainer.is_empty() {
        let trainer = format!("Trainer: {}", content.trainer);
        text(
            &mut ops,
            &fonts.regular,
            11.0,
            MARGIN,
            45.0,
            &fitted(&fonts.regular.1, 11.0, usable, &trainer),
        );
    }
    text(&mut ops, &fonts.bold, 12.0, MARGIN, 55.0, "Sign in");
    text(
        &mut ops,
        &fonts.regular,
        9.0,
        MARGIN,
        60.0,
        "Please print your name, organisation and work email clearly, so your attendance and certificate are right.",
    );

    // The table: a heading row, then blank rows with their numbers.
    let top = 64.0;
    for (index, heading) in ["", "Name", "Organisation", "Work email", "Signature"]
        .iter()
        .enumerate()
    {
        text(&mut ops, &fonts.bold, 10.0, COLUMNS[index] + 1.5, top + 6.5, heading);
    }
    for row in 1..=ROWS {
        let y = top + ROW_H * row as f32 + 6.5;
        text(&mut ops, &fonts.regular, 9.0, COLUMNS[0] + 1.5, y, &row.to_string());
    }
    let bottom = top + ROW_H * (ROWS + 1) as f32;
    let mut rings = Vec::new();
    for row in 0..=ROWS + 1 {
        let y = top + ROW_H * row as f32;
        rings.push(rect_ring(mm(MARGIN), mm(PAGE_H - y), mm(usable), Pt(0.0)));
    }
    for x in COLUMNS {
        rings.push(rect_ring(mm(x), mm(PAGE_H - bottom), Pt(0.0), mm(bottom - top)));
    }
    ops.push(Op::SetOutlineColor { col: black });
    ops.push(Op::SetOutlineThickness { pt: Pt(0.6) });
    ops.push(Op::DrawPolygon {
        polygon: Polygon {
            rings,
            mode: PaintMode::Stroke,
            winding_order: WindingOrder::NonZero,
        },
    });

    if let Some(url) = &content.evaluation_url {
        let qr_top = bottom + 8.0;
        let size = 38.0;
        ops.extend(qr_ops(url, mm(MARGIN), mm(PAGE_H - qr_top), mm(size))?);
        let x = MARGIN + size + 6.0;
        let width = PAGE_W - MARGIN - x;
        text(
            &mut ops,
            &fonts.bold,
            12.0,
            x,
            qr_top + 10.0,
            "Tell us what you thought",
        );
        text(
            &mut ops,
            &fonts.regular,
            9.5,
            x,
            qr_top + 17.0,
            "Scan the code with your phone's camera, or type the link below.",
        );
        text(
            &mut ops,
            &fonts.regular,
            9.5,
            x,
            qr_top + 22.0,
            "Your answers are anonymous.",
        );
        // A long link is broken into lines that fit beside the code.
        let mut line = String::new();
        let mut y = qr_top + 30.0;
        for c in url.chars() {
            line.push(c);
            if text_width(&fonts.regular.1, &line, 8.5) * 25.4 / 72.0 > width {
                let last = line.pop().unwrap_or(c);
                text(&mut ops, &fonts.regular, 8.5, x, y, &line);
                line = last.to_string();
                y += 4.5;
            }
        }
        if !line.is_empty() {
            text(&mut ops, &fonts.regular, 8.5, x, y, &line);
        }
    }
    pdf.pages.push(PdfPage::new(Mm(PAGE_W), Mm(PAGE_H), ops));
    let id: Vec<u8> = content
        .session
        .bytes()
        .chain(content.when_and_where.bytes())
        .take(32)
        .collect();
    save(&pdf, id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sheet_is_a_small_pdf_and_the_same_each_time() {
        let content = SheetContent {
            programme: "DVA awareness".into(),
            session: "DVA awareness session".into(),
            when_and_where: "2 March 2026, 10:00, Civic Centre".into(),
            trainer: "Niamh".into(),
            evaluation_url: Some("https://qm.example/evaluate/abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG".into()),
        };
        let first = render(&content).expect("pdf");
        assert!(first.starts_with(b"%PDF"));
        // Two subset fonts of about 22 kB each, and the page.
        assert!(first.len() < 80_000, "{} bytes", first.len());
        assert_eq!(first, render(&content).expect("pdf"));
    }
}
