//! QR codes as runs of dark modules, drawn by whoever needs one: the
//! certificates and the sign-in sheet as PDF squares
//! ([`crate::domain::certificate_pdf::qr_ops`]), the evaluation page as SVG.

/// A QR code read as rectangles: each run of dark modules along a row.
pub struct QrRuns {
    /// Modules along a side, without the quiet zone.
    pub width: usize,
    /// (row, first column, how many) of each run, top to bottom.
    pub runs: Vec<(usize, usize, usize)>,
}

/// Modules of quiet (light) margin drawn around the code, on every side.
pub const QUIET_ZONE: usize = 2;

/// The code for `text` at error correction level M (readable when a
/// printed sheet is creased or smudged).
pub fn runs(text: &str) -> Result<QrRuns, String> {
    let code = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|e| format!("QR code: {e}"))?;
    let width = code.width();
    let colours = code.to_colors();
    let mut runs = Vec::new();
    for (row, line) in colours.chunks(width).enumerate() {
        let mut col = 0;
        while col < line.len() {
            if line[col] == qrcode::Color::Dark {
                let start = col;
                while col < line.len() && line[col] == qrcode::Color::Dark {
                    col += 1;
                }
                runs.push((row, start, col - start));
            } else {
                col += 1;
            }
        }
    }
    Ok(QrRuns { width, runs })
}

/// The code as an SVG image scaled to its box, with `label` as its
/// accessible name (a page shows the link as text beside it too).
pub fn svg(text: &str, label: &str) -> Result<String, String> {
    let code = runs(text)?;
    let side = code.width + 2 * QUIET_ZONE;
    let mut path = String::new();
    for (row, start, length) in &code.runs {
        path.push_str(&format!(
            "M{} {}h{}v1h-{}z",
            start + QUIET_ZONE,
            row + QUIET_ZONE,
            length,
            length
        ));
    }
    let label = label
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;");
    Ok(format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {side} {side}\" width=\"200\" height=\"200\" role=\"img\" aria-label=\"{label}\" shape-rendering=\"crispEdges\"><rect width=\"{side}\" height=\"{side}\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    ))
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_link_gives_a_square_code_with_dark_runs() {
        let code = super::runs("https://qm.example/evaluate/abc").expect("code");
        assert!(code.width >= 21);
        assert!(!code.runs.is_empty());
        let svg = super::svg("https://qm.example/evaluate/abc", "QR code <link>").expect("svg");
        assert!(svg.contains("aria-label=\"QR code &lt;link&gt;\""));
    }
}
