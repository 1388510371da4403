//! Certificates: what a certificate says, the state a verifier sees, the
//! codes that identify them, and the page designs in `certificates/*.toml`.
//! Rendering to PDF is in [`super::certificate_pdf`].

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// A person completed a training programme's completion.
    Training,
    /// An organisation was awarded an accreditation or quality mark.
    Award,
}

impl Kind {
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Training => "training",
            Kind::Award => "award",
        }
    }

    pub fn parse(text: &str) -> Option<Kind> {
        match text {
            "training" => Some(Kind::Training),
            "award" => Some(Kind::Award),
            _ => None,
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Training => "Training completion",
            Kind::Award => "Accreditation award",
        }
    }
}

/// What a verifier is told. Worked out from the stored dates and links,
/// never stored, so an expiry needs no job to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    Valid,
    Expired {
        on: NaiveDate,
    },
    Revoked {
        on: NaiveDate,
    },
    /// Replaced by a reissue (for example to correct a name).
    Superseded {
        by: String,
    },
}

impl State {
    /// A reissue wins over a revocation (the new certificate is the one to
    /// look at), and a revocation over an expiry (it says more).
    pub fn of(
        expires_on: Option<NaiveDate>,
        revoked_on: Option<NaiveDate>,
        superseded_by: Option<&str>,
        today: NaiveDate,
    ) -> State {
        if let Some(code) = superseded_by.filter(|c| !c.is_empty()) {
            return State::Superseded { by: code.to_string() };
        }
        if let Some(on) = revoked_on {
            return State::Revoked { on };
        }
        match expires_on {
            // Valid through its expiry date, expired the day after.
            Some(on) if on < today => State::Expired { on },
            _ => State::Valid,
        }
    }

    pub fn as_str(&self) -> &'static str {
        self.name_and_label().0
    }

    pub fn label(&self) -> &'static str {
        self.name_and_label().1
    }

    /// Each state's name, as the JSON answers (verify, API) give it, beside
    /// the label people read.
    fn name_and_label(&self) -> (&'static str, &'static str) {
        match self {
            State::Valid => ("valid", "Valid"),
            State::Expired { .. } => ("expired", "Expired"),
            State::Revoked { .. } => ("revoked", "Revoked"),
            State::Superseded { .. } => ("superseded", "Replaced"),
        }
    }
}

/// 32 symbols: digits and capitals without 0/O and 1/I, which people misread
/// from paper. A power of two, so every symbol is equally likely.
const CODE_ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
/// 16 symbols of 5 bits: 80 random bits, far beyond guessing at any rate
/// the verification page allows.
const CODE_SYMBOLS: usize = 16;

/// A new certificate code such as `K7QM-3XPA-WT9C-HD2E`.
pub fn new_code() -> String {
    crate::security::random_groups(CODE_ALPHABET, CODE_SYMBOLS)
}

/// A code as typed or scanned, in its stored form, or `None` if it cannot
/// be one (so the database is not asked about junk). Case and the grouping
/// dashes or spaces do not matter.
pub fn normalise_code(text: &str) -> Option<String> {
    let symbols: Vec<char> = text
        .chars()
        .filter(|c| !matches!(c, '-' | ' '))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if symbols.len() != CODE_SYMBOLS
        || !symbols
            .iter()
            .all(|c| CODE_ALPHABET.contains(&(*c as u8)) && c.is_ascii())
    {
        return None;
    }
    Some(
        symbols
            .chunks(4)
            .map(|group| group.iter().collect::<String>())
            .collect::<Vec<_>>()
            .join("-"),
    )
}

/// Everything printed on a certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Content {
    pub kind: Kind,
    pub code: String,
    pub holder_name: String,
    pub title: String,
    pub issued_on: NaiveDate,
    pub expires_on: Option<NaiveDate>,
    /// `{public_base_url}/verify/{code}`: what the QR code leads to.
    pub verify_url: String,
    /// Who issues it: the partnership's name and the person who signs.
    pub partnership: String,
    pub signatory: String,
    /// The partnership's logo, drawn where the design puts it; none, none drawn.
    #[serde(skip)]
    pub logo: Option<std::sync::Arc<super::logo::Logo>>,
}

/// Who issues certificates and where they are checked, from configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Issuer {
    pub public_base_url: String,
    pub partnership: String,
    /// As printed under the signature line, such as "Dr A. Khan, Programme lead".
    pub signatory: String,
    /// Decoded once when the service starts (see [`super::logo::Logo::load`]).
    pub logo: Option<std::sync::Arc<super::logo::Logo>>,
}

/// What a training certificate is for. A completion whose title already
/// names its programme ("DVA awareness", "IRIS clinical training") stands
/// alone rather than "DVA awareness: DVA awareness"; one that does not
/// ("CORE training") is put after the programme's name.
pub fn training_title(programme: &str, completion: &str) -> String {
    let first_word = |text: &str| text.split_whitespace().next().unwrap_or("").to_lowercase();
    if first_word(programme) == first_word(completion) {
        completion.to_string()
    } else {
        format!("{programme}: {completion}")
    }
}

pub fn verify_url(public_base_url: &str, code: &str) -> String {
    format!("{}/verify/{code}", public_base_url.trim_end_matches('/'))
}

/// "31 March 2026": how dates read on paper.
pub fn long_date(date: NaiveDate) -> String {
    super::dates::uk_date(date)
}

const PLACEHOLDERS: [&str; 9] = [
    "name",
    "title",
    "issued_on",
    "expires_on",
    "code",
    "verify_url",
    "kind",
    "partnership",
    "signatory",
];

impl Content {
    fn value(&self, placeholder: &str) -> String {
        match placeholder {
            "name" => self.holder_name.clone(),
            "title" => self.title.clone(),
            "issued_on" => long_date(self.issued_on),
            "expires_on" => self.expires_on.map(long_date).unwrap_or_default(),
            "code" => self.code.clone(),
            "verify_url" => self.verify_url.clone(),
            "kind" => self.kind.label().to_string(),
            "partnership" => self.partnership.clone(),
            "signatory" => self.signatory.clone(),
            _ => String::new(),
        }
    }

    /// The text with its placeholders filled in, or `None` when a placeholder
    /// it uses has no value (a "Valid until {expires_on}" line on a
    /// certificate that never expires is left out rather than printed half).
    pub fn fill(&self, template: &str) -> Option<String> {
        let mut out = String::with_capacity(template.len() + 32);
        let mut rest = template;
        while let Some(start) = rest.find('{') {
            out.push_str(&rest[..start]);
            let after = &rest[start + 1..];
            match after.find('}') {
                Some(end) if PLACEHOLDERS.contains(&&after[..end]) => {
                    let value = self.value(&after[..end]);
                    if value.is_empty() {
                        return None;
                    }
                    out.push_str(&value);
                    rest = &after[end + 1..];
                }
                _ => {
                    out.push('{');
                    rest = after;
                }
            }
        }
        out.push_str(rest);
        Some(out)
    }
}

/// A page design, as written in `certificates/<kind>.toml`. Positions are
/// millimetres from the top-left corner, as people measure a printed page.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Design {
    pub page: PageSpec,
    #[serde(default)]
    pub border: Option<Border>,
    #[serde(default, rename = "text")]
    pub texts: Vec<TextBlock>,
    pub qr: QrSpec,
    /// Where the partnership's logo goes, when one is configured.
    #[serde(default)]
    pub logo: Option<LogoSpec>,
}

/// The box a logo is fitted into, keeping its proportions.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogoSpec {
    /// The centre of the box, across.
    pub x_mm: f32,
    /// Its top edge.
    pub y_mm: f32,
    pub max_width_mm: f32,
    pub max_height_mm: f32,
}

impl LogoSpec {
    /// Left, top, width and height in millimetres of a logo `aspect` times
    /// as wide as it is high, as large as fits, centred on `x_mm`.
    pub fn place(&self, aspect: f32) -> (f32, f32, f32, f32) {
        let width = self.max_width_mm.min(self.max_height_mm * aspect.max(f32::EPSILON));
        let height = width / aspect.max(f32::EPSILON);
        (self.x_mm - width / 2.0, self.y_mm, width, height)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PageSpec {
    /// "A4" or "A5".
    pub size: String,
    /// "portrait" or "landscape".
    pub orientation: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Border {
    /// Distance of the frame from the page edge.
    pub inset_mm: f32,
    pub width_pt: f32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    Left,
    Center,
    Right,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TextBlock {
    pub text: String,
    /// The anchor the alignment refers to: the left end, centre or right end
    /// of the line's baseline.
    pub x_mm: f32,
    pub y_mm: f32,
    pub size_pt: f32,
    #[serde(default)]
    pub bold: bool,
    #[serde(default = "default_align")]
    pub align: Align,
}

fn default_align() -> Align {
    Align::Left
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct QrSpec {
    /// Top-left corner of the code.
    pub x_mm: f32,
    pub y_mm: f32,
    pub size_mm: f32,
}

impl Design {
    pub fn parse(text: &str) -> Result<Design, String> {
        let design: Design = toml::from_str(text).map_err(|e| e.to_string())?;
        design.page_mm()?;
        for block in &design.texts {
            let mut rest = block.text.as_str();
            while let Some(start) = rest.find('{') {
                let after = &rest[start + 1..];
                let end = after
                    .find('}')
                    .ok_or_else(|| format!("\"{}\": a {{ without its }}", block.text))?;
                if !PLACEHOLDERS.contains(&&after[..end]) {
                    return Err(format!(
                        "\"{}\": unknown placeholder {{{}}} (known: {})",
                        block.text,
                        &after[..end],
                        PLACEHOLDERS.join(", ")
                    ));
                }
                rest = &after[end + 1..];
            }
            if block.size_pt <= 0.0 {
                return Err(format!("\"{}\": size_pt must be above 0", block.text));
            }
        }
        if design.qr.size_mm <= 0.0 {
            return Err("qr.size_mm must be above 0".into());
        }
        if let Some(logo) = &design.logo {
            if logo.max_width_mm <= 0.0 || logo.max_height_mm <= 0.0 {
                return Err("logo.max_width_mm and logo.max_height_mm must be above 0".into());
            }
        }
        Ok(design)
    }

    /// Page width and height in millimetres.
    pub fn page_mm(&self) -> Result<(f32, f32), String> {
        let (short, long) = match self.page.size.to_ascii_uppercase().as_str() {
            "A4" => (210.0, 297.0),
            "A5" => (148.0, 210.0),
            other => return Err(format!("page size \"{other}\" is not A4 or A5")),
        };
        match self.page.orientation.as_str() {
            "portrait" => Ok((short, long)),
            "landscape" => Ok((long, short)),
            other => Err(format!("orientation \"{other}\" is not portrait or landscape")),
        }
    }
}

/// The shipped designs, compiled in so a certificate renders the same on
/// every server and in the command line. Checked by the unit tests below.
pub fn design(kind: Kind) -> &'static Design {
    static TRAINING: std::sync::OnceLock<Design> = std::sync::OnceLock::new();
    static AWARD: std::sync::OnceLock<Design> = std::sync::OnceLock::new();
    let (cell, text) = match kind {
        Kind::Training => (&TRAINING, include_str!("../../certificates/training.toml")),
        Kind::Award => (&AWARD, include_str!("../../certificates/award.toml")),
    };
    cell.get_or_init(|| match Design::parse(text) {
        Ok(design) => design,
        // The files are part of the build and tested; a broken one is a
        // programming error caught by `shipped_designs_parse`.
        Err(e) => panic!("certificates/{}.toml: {e}", kind.as_str()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as date;

    fn content(expires_on: Option<NaiveDate>) -> Content {
        Content {
            kind: Kind::Training,
            code: "ABCD-EFGH-JKLM-NPQR".into(),
            holder_name: "Zoë O'Brien".into(),
            title: "Domestic abuse ambassador".into(),
            issued_on: date("2026-03-01"),
            expires_on,
            verify_url: verify_url("https://qm.example/", "ABCD-EFGH-JKLM-NPQR"),
            partnership: "Northbridge Domestic Abuse Partnership".into(),
            signatory: String::new(),
            logo: None,
        }
    }

    #[test]
    fn a_logo_fills_its_box_in_proportion_and_is_centred() {
        let spec = LogoSpec {
            x_mm: 100.0,
            y_mm: 10.0,
            max_width_mm: 60.0,
            max_height_mm: 20.0,
        };
        // Wide: the width is the limit.
        assert_eq!(spec.place(4.0), (70.0, 10.0, 60.0, 15.0));
        // Square: the height is.
        assert_eq!(spec.place(1.0), (90.0, 10.0, 20.0, 20.0));
    }

    #[test]
    fn training_titles_do_not_repeat_the_programme() {
        assert_eq!(training_title("DVA awareness", "DVA awareness"), "DVA awareness");
        assert_eq!(
            training_title("IRIS", "IRIS clinical training"),
            "IRIS clinical training"
        );
        assert_eq!(
            training_title("Domestic abuse ambassadors", "Domestic abuse ambassador"),
            "Domestic abuse ambassador"
        );
        assert_eq!(
            training_title("Safe & Together", "CORE training"),
            "Safe & Together: CORE training"
        );
    }

    #[test]
    fn issuer_lines_are_left_out_when_not_configured() {
        let c = content(None);
        assert_eq!(
            c.fill("Issued by {partnership}").as_deref(),
            Some("Issued by Northbridge Domestic Abuse Partnership")
        );
        assert_eq!(c.fill("{signatory}"), None);
    }

    #[test]
    fn placeholders_are_filled() {
        let c = content(Some(date("2028-03-01")));
        assert_eq!(
            c.fill("{name} completed {title} on {issued_on}").as_deref(),
            Some("Zoë O'Brien completed Domestic abuse ambassador on 1 March 2026")
        );
        assert_eq!(
            c.fill("Valid until {expires_on}").as_deref(),
            Some("Valid until 1 March 2028")
        );
        assert_eq!(
            c.fill("{verify_url}").as_deref(),
            Some("https://qm.example/verify/ABCD-EFGH-JKLM-NPQR")
        );
        // Braces that are not placeholders stay as written.
        assert_eq!(c.fill("a {b} {").as_deref(), Some("a {b} {"));
    }

    #[test]
    fn a_line_with_an_empty_placeholder_is_left_out() {
        assert_eq!(content(None).fill("Valid until {expires_on}"), None);
    }

    #[test]
    fn state_follows_dates_and_links() {
        let today = date("2026-06-01");
        assert_eq!(State::of(None, None, None, today), State::Valid);
        assert_eq!(State::of(Some(today), None, None, today), State::Valid);
        assert_eq!(
            State::of(Some(date("2026-05-31")), None, None, today),
            State::Expired { on: date("2026-05-31") }
        );
        assert_eq!(
            State::of(Some(date("2026-05-31")), Some(date("2026-04-01")), None, today),
            State::Revoked { on: date("2026-04-01") }
        );
        assert_eq!(
            State::of(None, Some(date("2026-04-01")), Some("NEW"), today),
            State::Superseded { by: "NEW".into() }
        );
        assert_eq!(State::of(None, None, Some(""), today), State::Valid);
    }

    #[test]
    fn codes_are_long_random_and_unambiguous() {
        let a = new_code();
        let b = new_code();
        assert_ne!(a, b);
        assert_eq!(a.len(), 19);
        assert!(a.chars().all(|c| c == '-' || CODE_ALPHABET.contains(&(c as u8))));
        assert!(!a.contains(['0', 'O', '1', 'I']));
        assert_eq!(normalise_code(&a.to_lowercase().replace('-', " ")), Some(a.clone()));
        assert_eq!(normalise_code(&a.replace('-', "")), Some(a));
        assert_eq!(normalise_code("ABCD-EFGH-JKLM-NPQ0"), None);
        assert_eq!(normalise_code("short"), None);
        assert_eq!(normalise_code("ÀBCD-EFGH-JKLM-NPQR"), None);
    }

    #[test]
    fn shipped_designs_parse() {
        for kind in [Kind::Training, Kind::Award] {
            let d = design(kind);
            assert!(!d.texts.is_empty());
            assert!(d.page_mm().is_ok());
        }
    }

    #[test]
    fn bad_designs_are_explained() {
        let text = "[page]\nsize = \"A4\"\norientation = \"landscape\"\n[qr]\nx_mm = 1\ny_mm = 1\nsize_mm = 20\n\
                    [[text]]\ntext = \"{nmae}\"\nx_mm = 1\ny_mm = 1\nsize_pt = 12\n";
        let error = Design::parse(text).err().unwrap_or_default();
        assert!(error.contains("unknown placeholder {nmae}"), "{error}");
        let text = "[page]\nsize = \"A3\"\norientation = \"landscape\"\n[qr]\nx_mm = 1\ny_mm = 1\nsize_mm = 20\n";
        assert!(Design::parse(text).is_err());
    }
}
