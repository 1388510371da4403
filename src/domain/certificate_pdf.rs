//! Renders a certificate to PDF with printpdf. The font is DejaVu Sans (kept
//! in `certificates/fonts/` with its licence), subset to the glyphs each
//! certificate uses so a PDF stays a few kilobytes and a batch of a thousand
//! stays fast. The same certificate always gives the same bytes: font ids,
//! document id and dates are fixed rather than random or "now".
//!
//! This is CPU work: call it from `spawn_blocking` in async code.

use super::certificate::{design, Align, Content, Design};
use super::logo::{Logo, Pixels};
use printpdf::{
    Color, FontId, LinePoint, Mm, Op, PaintMode, ParsedFont, PdfDocument, PdfFont, PdfFontHandle, PdfPage,
    PdfSaveOptions, Point, Polygon, PolygonRing, Pt, RawImage, RawImageData, RawImageFormat, Rgb, TextItem,
    WindingOrder, XObject, XObjectId, XObjectTransform,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::OnceLock;

const REGULAR: &[u8] = include_bytes!("../../certificates/fonts/DejaVuSans.ttf");
const BOLD: &[u8] = include_bytes!("../../certificates/fonts/DejaVuSans-Bold.ttf");

/// printpdf's parse of a whole font, done once: it gives the character →
/// glyph map used to choose what to subset.
pub(crate) fn full_font(bold: bool) -> Result<&'static ParsedFont, String> {
    static FONTS: [OnceLock<Option<ParsedFont>>; 2] = [OnceLock::new(), OnceLock::new()];
    let (cell, bytes) = if bold { (&FONTS[1], BOLD) } else { (&FONTS[0], REGULAR) };
    cell.get_or_init(|| ParsedFont::from_bytes(bytes, 0, &mut Vec::new()))
        .as_ref()
        .ok_or_else(|| "the certificate font could not be read".to_string())
}

/// Letters, digits and punctuation are always in the subset, so the subset
/// depends only on a certificate's accented or other non-ASCII characters:
/// most certificates of a batch then share one, and [`subset`] can reuse it.
/// The output still depends only on the certificate itself.
fn with_ascii(text: &BTreeSet<char>) -> BTreeSet<char> {
    let mut all: BTreeSet<char> = (' '..='~').collect();
    all.extend(text.iter().copied());
    all
}

/// Subsetting reads the whole font's tables, which costs more than the rest
/// of a certificate: recent subsets are kept. A small cap keeps memory flat
/// for a batch of unusual names.
pub(crate) fn subset(bold: bool, text: &BTreeSet<char>) -> Result<ParsedFont, String> {
    type Cache = std::sync::Mutex<std::collections::HashMap<(bool, BTreeSet<char>), ParsedFont>>;
    static CACHE: OnceLock<Cache> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = (bold, with_ascii(text));
    if let Some(font) = cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(font);
    }
    let font = cut_font(bold, &key.1)?;
    if let Ok(mut cache) = cache.lock() {
        if cache.len() >= 256 {
            cache.clear();
        }
        cache.insert(key, font.clone());
    }
    Ok(font)
}

/// The font cut down to `text`'s characters (plus .notdef, which must come
/// first), parsed again so its metrics and character map match the subset.
fn cut_font(bold: bool, text: &BTreeSet<char>) -> Result<ParsedFont, String> {
    use allsorts::binary::read::ReadScope;
    use allsorts::font_data::FontData;
    use allsorts::subset::{subset as cut, CmapTarget, SubsetProfile};
    let full = full_font(bold)?;
    let glyphs: BTreeSet<u16> = text
        .iter()
        .filter_map(|c| full.lookup_glyph_index(u32::from(*c)))
        .collect();
    let ids: Vec<u16> = std::iter::once(0)
        .chain(glyphs.into_iter().filter(|g| *g != 0))
        .collect();
    let bytes = if bold { BOLD } else { REGULAR };
    let data = ReadScope::new(bytes)
        .read::<FontData<'_>>()
        .map_err(|e| e.to_string())?;
    let provider = data.table_provider(0).map_err(|e| e.to_string())?;
    let program = cut(&provider, &ids, &SubsetProfile::Pdf, CmapTarget::Unicode).map_err(|e| e.to_string())?;
    let mut font = ParsedFont::from_bytes(&program, 0, &mut Vec::new())
        .ok_or_else(|| "the font subset could not be read".to_string())?;
    font.font_name = Some(if bold { "DejaVuSans-Bold" } else { "DejaVuSans" }.to_string());
    Ok(font)
}

/// Advance width of `text` in points, for centring and right-aligning.
pub(crate) fn text_width(font: &ParsedFont, text: &str, size: f32) -> f32 {
    let units: u32 = text
        .chars()
        .filter_map(|c| font.lookup_glyph_index(u32::from(c)))
        .map(|g| u32::from(font.get_glyph_width(g).unwrap_or(0)))
        .sum();
    units as f32 * size / f32::from(font.units_per_em.max(1))
}

pub(crate) fn mm(value: f32) -> Pt {
    Mm(value).into_pt()
}

pub(crate) fn rect_ring(x: Pt, y: Pt, w: Pt, h: Pt) -> PolygonRing {
    let corner = |x: Pt, y: Pt| LinePoint {
        p: Point { x, y },
        bezier: false,
    };
    PolygonRing {
        points: vec![corner(x, y), corner(x + w, y), corner(x + w, y + h), corner(x, y + h)],
    }
}

/// The QR code as filled squares (one ring per run of dark modules along a
/// row), so it prints sharp at any size and needs no image support. The
/// sign-in sheet draws its evaluation link with it too.
pub(crate) fn qr_ops(url: &str, x: Pt, top: Pt, size: Pt) -> Result<Vec<Op>, String> {
    use super::qr::{runs, QUIET_ZONE};
    let code = runs(url)?;
    // A quiet zone inside the given square keeps scanners happy.
    let quiet = QUIET_ZONE as f32;
    let module = size.0 / (code.width as f32 + 2.0 * quiet);
    let rings = code
        .runs
        .iter()
        .map(|(row, start, length)| {
            rect_ring(
                Pt(x.0 + module * (*start as f32 + quiet)),
                Pt(top.0 - module * (*row as f32 + quiet + 1.0)),
                Pt(module * *length as f32),
                Pt(module),
            )
        })
        .collect();
    Ok(vec![
        Op::SetFillColor {
            col: Color::Rgb(Rgb {
                r: 0.0,
                g: 0.0,
                b: 0.0,
                icc_profile: None,
            }),
        },
        Op::DrawPolygon {
            polygon: Polygon {
                rings,
                mode: PaintMode::Fill,
                winding_order: WindingOrder::NonZero,
            },
        },
    ])
}

/// The PDF for one certificate, with its kind's shipped design.
pub fn render(content: &Content) -> Result<Vec<u8>, String> {
    render_with(design(content.kind), content)
}

pub fn render_with(design: &Design, content: &Content) -> Result<Vec<u8>, String> {
    let (page_w, page_h) = design.page_mm()?;
    let lines: Vec<(String, &super::certificate::TextBlock)> = design
        .texts
        .iter()
        .filter_map(|block| content.fill(&block.text).map(|text| (text, block)))
        .collect();
    let mut chars: [BTreeSet<char>; 2] = [BTreeSet::new(), BTreeSet::new()];
    for (text, block) in &lines {
        chars[usize::from(block.bold)].extend(text.chars());
    }

    let mut pdf = PdfDocument::new(&format!("{}: {}", content.title, content.holder_name));
    pdf.metadata.info.subject = format!("Certificate {}", content.code);
    let mut fonts: [Option<(FontId, ParsedFont)>; 2] = [None, None];
    for bold in [false, true] {
        if chars[usize::from(bold)].is_empty() {
            continue;
        }
        let font = subset(bold, &chars[usize::from(bold)])?;
        // Fixed resource names: printpdf's own are random, which would make
        // every rendering differ.
        let id = FontId(if bold { "F2" } else { "F1" }.to_string());
        pdf.resources.fonts.map.insert(id.clone(), PdfFont::new(font.clone()));
        fonts[usize::from(bold)] = Some((id, font));
    }

    let black = Color::Rgb(Rgb {
        r: 0.0,
        g: 0.0,
        b: 0.0,
        icc_profile: None,
    });
    let mut ops = Vec::new();
    if let Some(border) = &design.border {
        let inset = mm(border.inset_mm);
        ops.push(Op::SetOutlineColor {
            col: Color::Rgb(Rgb {
                r: 0.2,
                g: 0.2,
                b: 0.45,
                icc_profile: None,
            }),
        });
        ops.push(Op::SetOutlineThickness {
            pt: Pt(border.width_pt),
        });
        ops.push(Op::DrawPolygon {
            polygon: Polygon {
                rings: vec![rect_ring(
                    inset,
                    inset,
                    mm(page_w) - inset - inset,
                    mm(page_h) - inset - inset,
                )],
                mode: PaintMode::Stroke,
                winding_order: WindingOrder::NonZero,
            },
        });
    }
    ops.push(Op::SetFillColor { col: black });
    for (text, block) in &lines {
        let Some((id, font)) = &fonts[usize::from(block.bold)] else {
            continue;
        };
        let width = text_width(font, text, block.size_pt);
        let anchor = mm(block.x_mm).0;
        let x = match block.align {
            Align::Left => anchor,
            Align::Center => anchor - width / 2.0,
            Align::Right => anchor - width,
        };
        ops.extend([
            Op::StartTextSection,
            Op::SetFont {
                font: PdfFontHandle::External(id.clone()),
                size: Pt(block.size_pt),
            },
            Op::SetTextCursor {
                pos: Point {
                    x: Pt(x),
                    y: mm(page_h - block.y_mm),
                },
            },
            Op::ShowText {
                items: vec![TextItem::Text(text.clone())],
            },
            Op::EndTextSection,
        ]);
    }
    if let (Some(logo), Some(spec)) = (&content.logo, &design.logo) {
        let (left, top, width, height) = spec.place(logo.aspect());
        // A fixed name, as for the fonts, so the same certificate gives the same bytes.
        let id = XObjectId("Logo".to_string());
        pdf.resources
            .xobjects
            .map
            .insert(id.clone(), XObject::Image(raw_image(logo)));
        ops.push(Op::UseXobject {
            id,
            transform: XObjectTransform {
                translate_x: Some(mm(left)),
                translate_y: Some(mm(page_h - top - height)),
                // printpdf sizes an image by its resolution: this many dots
                // per inch make it `width` millimetres wide (and, keeping its
                // proportions, `height` high).
                dpi: Some(logo.width as f32 * 25.4 / width),
                ..XObjectTransform::default()
            },
        });
    }
    ops.extend(qr_ops(
        &content.verify_url,
        mm(design.qr.x_mm),
        mm(page_h - design.qr.y_mm),
        mm(design.qr.size_mm),
    )?);
    pdf.pages.push(PdfPage::new(Mm(page_w), Mm(page_h), ops));

    let id: String = content.code.chars().filter(|c| *c != '-').collect();
    save(&pdf, id.into_bytes())
}

/// The logo's pixels as printpdf embeds them (deflated, alpha as a soft mask).
fn raw_image(logo: &Logo) -> RawImage {
    RawImage {
        pixels: RawImageData::U8(logo.data.clone()),
        width: logo.width,
        height: logo.height,
        data_format: match logo.pixels {
            Pixels::Grey => RawImageFormat::R8,
            Pixels::GreyAlpha => RawImageFormat::RG8,
            Pixels::Rgb => RawImageFormat::RGB8,
            Pixels::Rgba => RawImageFormat::RGBA8,
        },
        tag: Vec::new(),
    }
}

/// The document's bytes with `id` as its file identifier: the same content
/// should give the same file (PDF 14.4), and printpdf makes up a random one.
pub(crate) fn save(pdf: &PdfDocument, id: Vec<u8>) -> Result<Vec<u8>, String> {
    let options = PdfSaveOptions {
        optimize: true,
        subset_fonts: false,
        secure: true,
        image_optimization: None,
    };
    let mut warnings = Vec::new();
    let mut doc = printpdf::serialize::to_lopdf_doc(pdf, &options, &mut warnings);
    let id = lopdf::Object::String(id, lopdf::StringFormat::Hexadecimal);
    doc.trailer.set("ID", lopdf::Object::Array(vec![id.clone(), id]));
    compress_streams(&mut doc)?;
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).map_err(|e| e.to_string())?;
    Ok(bytes)
}

/// Deflates every stream at the fast level. lopdf's own `compress` uses the
/// best level, which took most of a batch's time for a few percent of size.
fn compress_streams(doc: &mut lopdf::Document) -> Result<(), String> {
    use std::io::Write;
    for object in doc.objects.values_mut() {
        let lopdf::Object::Stream(stream) = object else {
            continue;
        };
        if stream.dict.get(b"Filter").is_ok() {
            continue;
        }
        let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(&stream.content).map_err(|e| e.to_string())?;
        let packed = encoder.finish().map_err(|e| e.to_string())?;
        if packed.len() + 19 < stream.content.len() {
            stream.dict.set("Filter", "FlateDecode");
            stream.set_content(packed);
        }
    }
    Ok(())
}

/// Many certificates, in order, rendered on `threads` threads: what a ZIP
/// of a programme's certificates needs. Each result is that certificate's PDF.
pub fn render_many(contents: &[Content], threads: usize) -> Vec<Result<Vec<u8>, String>> {
    let threads = threads.clamp(1, 16);
    let chunk = contents.len().div_ceil(threads).max(1);
    let mut results: BTreeMap<usize, Vec<Result<Vec<u8>, String>>> = BTreeMap::new();
    std::thread::scope(|scope| {
        let handles: Vec<_> = contents
            .chunks(chunk)
            .enumerate()
            .map(|(index, part)| (index, scope.spawn(move || part.iter().map(render).collect::<Vec<_>>())))
            .collect();
        for (index, handle) in handles {
            let part = handle
                .join()
                .unwrap_or_else(|_| vec![Err("rendering stopped unexpectedly".to_string())]);
            results.insert(index, part);
        }
    });
    results.into_values().flatten().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::certificate::{verify_url, Kind};
    use chrono::NaiveDate;

    fn content(name: &str) -> Content {
        Content {
            kind: Kind::Training,
            code: "ABCD-EFGH-JKLM-NPQR".into(),
            holder_name: name.into(),
            title: "IRIS clinical training".into(),
            issued_on: NaiveDate::from_ymd_opt(2026, 3, 1).unwrap_or_default(),
            expires_on: None,
            verify_url: verify_url("https://qm.example", "ABCD-EFGH-JKLM-NPQR"),
            partnership: "Northbridge Domestic Abuse Partnership".into(),
            signatory: "A. Khan, Programme lead".into(),
            logo: None,
        }
    }

    #[test]
    fn renders_the_same_bytes_twice_and_small() {
        let a = render(&content("Nguyễn Thị Lan")).expect("render");
        let b = render(&content("Nguyễn Thị Lan")).expect("render");
        assert!(a.starts_with(b"%PDF-"));
        assert_eq!(a, b);
        // Subset fonts: the whole of DejaVu Sans is over 700 kB.
        assert!(a.len() < 60_000, "{} bytes", a.len());
        assert_ne!(a, render(&content("Zoë O'Brien")).expect("render"));
    }

    #[test]
    fn a_configured_logo_is_embedded_once_and_the_output_stays_fixed() {
        let logo = crate::domain::logo::Logo::decode(include_bytes!("../../tests/fixtures/logo/partnership.jpg"))
            .expect("logo");
        let with_logo = Content {
            logo: Some(std::sync::Arc::new(logo)),
            ..content("Zoë O'Brien")
        };
        let a = render(&with_logo).expect("render");
        assert_eq!(a, render(&with_logo).expect("render"));
        let images = |pdf: &[u8]| pdf.windows(14).filter(|w| w == b"/Subtype/Image").count();
        assert_eq!(images(&a), 1);
        assert_eq!(images(&render(&content("Zoë O'Brien")).expect("render")), 0);
    }

    #[test]
    fn many_come_back_in_order() {
        let all: Vec<Content> = ["A", "B", "C"].iter().map(|n| content(n)).collect();
        let many = render_many(&all, 2);
        assert_eq!(many.len(), 3);
        assert_eq!(many[2].as_ref().ok(), render(&all[2]).ok().as_ref());
    }
}
