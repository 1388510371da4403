//! Reading the values people type into sign-in sheets: dates, attendance
//! marks and names.

use super::Cell;
use crate::domain::completion::AttendanceStatus;
use chrono::{Datelike, NaiveDate};

/// Lower-case, `&` as "and", punctuation as spaces, single spaces: for
/// comparing headers, names and titles however they were typed.
/// It runs several times for each person on a large sheet, so it writes the
/// answer in one pass, with one allocation.
pub fn normalise(text: &str) -> String {
    // `str::to_lowercase` lowers a capital sigma by what surrounds it, which
    // a character at a time cannot: such text goes the longer way.
    if text.contains('Σ') {
        let text = text.to_lowercase().replace('&', " and ");
        return text
            .split(|c: char| !c.is_alphanumeric())
            .filter(|w| !w.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
    }
    let mut normal = String::with_capacity(text.len());
    let mut between_words = false;
    let mut push = |c: char, normal: &mut String| {
        if c.is_alphanumeric() {
            if between_words && !normal.is_empty() {
                normal.push(' ');
            }
            between_words = false;
            normal.push(c);
        } else {
            between_words = true;
        }
    };
    for c in text.chars() {
        if c == '&' {
            for part in [' ', 'a', 'n', 'd', ' '] {
                push(part, &mut normal);
            }
        } else {
            for lower in c.to_lowercase() {
                push(lower, &mut normal);
            }
        }
    }
    normal
}

/// A date from a date cell, an Excel serial number, or UK-style text
/// (03/03/2025, 3/3/25, 3 March 2025, 2025-03-03). Day first, as in the UK.
pub fn parse_date(cell: &Cell) -> Option<NaiveDate> {
    match cell {
        Cell::Date(date) => Some(*date),
        // Serial numbers between 1990 and 2100 are dates stored without a date format.
        Cell::Number(n) if (32874.0..73051.0).contains(n) => {
            NaiveDate::from_ymd_opt(1899, 12, 30).and_then(|epoch| epoch.checked_add_days(chrono::Days::new(*n as u64)))
        }
        Cell::Text(text) => parse_date_text(text),
        _ => None,
    }
}

pub fn parse_date_text(text: &str) -> Option<NaiveDate> {
    let text = text.trim().trim_start_matches("Date:").trim();
    for format in [
        "%d/%m/%Y",
        "%d-%m-%Y",
        "%d.%m.%Y",
        "%Y-%m-%d",
        "%d %B %Y",
        "%d %b %Y",
        "%A %d %B %Y",
        "%a %d %b %Y",
    ] {
        // "%Y" also accepts "25"; two-digit years are read below instead.
        if let Ok(date) = NaiveDate::parse_from_str(text, format) {
            if date.year() >= 1900 {
                return Some(date);
            }
        }
    }
    // Two-digit years: 03/03/25 is 2025.
    for format in ["%d/%m/%y", "%d-%m-%y"] {
        if let Ok(date) = NaiveDate::parse_from_str(text, format) {
            if (2000..2100).contains(&date.year()) {
                return Some(date);
            }
        }
    }
    // "3rd March 2025"
    let without_suffix: String = text
        .split_whitespace()
        .map(|w| {
            let lower = w.to_lowercase();
            for suffix in ["st", "nd", "rd", "th"] {
                if let Some(number) = lower.strip_suffix(suffix) {
                    if !number.is_empty() && number.chars().all(|c| c.is_ascii_digit()) {
                        return number.to_string();
                    }
                }
            }
            w.to_string()
        })
        .collect::<Vec<_>>()
        .join(" ");
    if without_suffix != text {
        return parse_date_text(&without_suffix);
    }
    None
}

/// A date written inside other text: "Day 1 (01/10/2024)", "Session on 3 March 2025".
pub fn date_in_text(text: &str) -> Option<NaiveDate> {
    if let Some(date) = parse_date_text(text) {
        return Some(date);
    }
    let words: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || matches!(c, '(' | ')' | '[' | ']' | ',' | ';'))
        .filter(|w| !w.is_empty())
        .collect();
    // "3 March 2025" spans three words; "03/03/2025" one.
    for width in [3, 4, 1] {
        for window in words.windows(width) {
            if let Some(date) = parse_date_text(&window.join(" ")) {
                return Some(date);
            }
        }
    }
    None
}

/// Whether `needle` occurs in `hay` as whole words (both already normalised).
pub fn contains_words(hay: &str, needle: &str) -> bool {
    let needle: Vec<&str> = needle.split(' ').filter(|w| !w.is_empty()).collect();
    let hay: Vec<&str> = hay.split(' ').collect();
    !needle.is_empty() && hay.windows(needle.len()).any(|w| w == needle.as_slice())
}

/// An attendance mark. `None` means the mark could not be understood; an
/// empty cell is `Some(None)`.
pub fn parse_status(cell: &Cell) -> Option<Option<AttendanceStatus>> {
    let text = match cell {
        Cell::Empty => return Some(None),
        Cell::Bool(true) => return Some(Some(AttendanceStatus::Attended)),
        Cell::Bool(false) => return Some(Some(AttendanceStatus::Absent)),
        Cell::Number(n) if *n == 1.0 => return Some(Some(AttendanceStatus::Attended)),
        Cell::Number(n) if *n == 0.0 => return Some(Some(AttendanceStatus::Absent)),
        Cell::Text(text) => text.trim().to_lowercase(),
        _ => return None,
    };
    let status = match text.as_str() {
        // "x" and single letters are left out on purpose: registers use them for both present and absent.
        "y" | "yes" | "✓" | "✔" | "☑" | "attended" | "present" | "attend" | "signed" | "true" => {
            AttendanceStatus::Attended
        }
        "n"
        | "no"
        | "✗"
        | "✘"
        | "absent"
        | "did not attend"
        | "dna"
        | "not attended"
        | "no show"
        | "false"
        | "did not attend (dna)" => AttendanceStatus::Absent,
        "partial" | "part" | "partly" | "partially attended" | "left early" | "late" | "half" => {
            AttendanceStatus::Partial
        }
        "cancelled" | "canceled" | "cancelled by attendee" | "apologies" | "sent apologies" => {
            AttendanceStatus::Cancelled
        }
        _ => return None,
    };
    Some(Some(status))
}

/// "Nowak, Łukasz" → "Łukasz Nowak"; spaces tidied; accents kept exactly.
pub fn display_name(text: &str) -> String {
    let text = tidy_spaces(text);
    match text.split_once(',') {
        Some((surname, first)) if !first.trim().is_empty() && !surname.trim().is_empty() => {
            format!("{} {}", first.trim(), surname.trim())
        }
        _ => text,
    }
}

/// Single spaces, none at the ends. Most cells are already tidy, and this
/// runs over every cell of a large sheet, so those are copied as they are.
pub fn tidy_spaces(text: &str) -> String {
    let trimmed = text.trim();
    let tidy = !trimmed.contains(|c: char| c.is_whitespace() && c != ' ') && !trimmed.contains("  ");
    if tidy {
        trimmed.to_string()
    } else {
        trimmed.split_whitespace().collect::<Vec<_>>().join(" ")
    }
}

const TITLES: &[&str] = &[
    "dr",
    "mr",
    "mrs",
    "ms",
    "miss",
    "mx",
    "prof",
    "professor",
    "sister",
    "nurse",
    "rev",
    "di",
    "ds",
    "pc",
    "ps",
    "sgt",
];

/// The name without titles, normalised: what two spellings of one person share.
pub fn name_key(text: &str) -> String {
    let normal = normalise(&display_name(text));
    let mut rest = normal.as_str();
    while let Some((word, after)) = rest.split_once(' ') {
        if !TITLES.contains(&word) {
            break;
        }
        rest = after;
    }
    if TITLES.contains(&rest) {
        // Nothing but titles.
        return String::new();
    }
    if rest.len() == normal.len() {
        normal
    } else {
        rest.to_string()
    }
}

/// Accents removed, for spotting "Zoe" and "Zoë" as a possible match.
pub fn fold_accents(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            'á' | 'à' | 'â' | 'ä' | 'ã' | 'å' | 'ā' | 'ą' | 'ă' => 'a',
            'é' | 'è' | 'ê' | 'ë' | 'ē' | 'ę' | 'ě' | 'ễ' | 'ế' | 'ệ' => 'e',
            'í' | 'ì' | 'î' | 'ï' | 'ī' | 'ị' => 'i',
            'ó' | 'ò' | 'ô' | 'ö' | 'õ' | 'ø' | 'ō' | 'ő' | 'ơ' => 'o',
            'ú' | 'ù' | 'û' | 'ü' | 'ū' | 'ů' | 'ű' | 'ư' => 'u',
            'ç' | 'ć' | 'č' => 'c',
            'ł' => 'l',
            'ñ' | 'ń' | 'ň' => 'n',
            'ś' | 'š' | 'ş' => 's',
            'ź' | 'ż' | 'ž' => 'z',
            'ý' | 'ÿ' => 'y',
            'đ' => 'd',
            other => other,
        })
        .collect()
}

/// Small edit distance, for near-match suggestions only.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            current[j + 1] = (previous[j] + cost).min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

/// Two names that might be one person written differently (not the same key).
pub fn is_near_match(a: &str, b: &str) -> bool {
    is_near_key(&name_key(a), &name_key(b))
}

/// [`is_near_match`] on names already turned into [`name_key`]s.
pub fn is_near_key(a: &str, b: &str) -> bool {
    NearKey::new(a.to_string()).is_near(&NearKey::new(b.to_string()))
}

/// A [`name_key`] with its accents folded and its length counted once, for
/// comparing one sheet name against many people on record: the folding is
/// then done once a name rather than once a comparison.
#[derive(Debug, Clone)]
pub struct NearKey {
    key: String,
    folded: String,
    chars: usize,
}

impl NearKey {
    pub fn new(key: String) -> NearKey {
        let folded = fold_accents(&key);
        let chars = folded.chars().count();
        NearKey { key, folded, chars }
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether the two might be one person written differently (not the same key).
    pub fn is_near(&self, other: &NearKey) -> bool {
        if self.key == other.key || self.key.is_empty() || other.key.is_empty() {
            return false;
        }
        if self.folded == other.folded {
            return true;
        }
        // Same surname and the first name of one starts the other's ("Jo" / "Joanna").
        if let (Some((first_a, _)), Some((first_b, _))) = (self.folded.split_once(' '), other.folded.split_once(' ')) {
            if last_word(&self.folded) == last_word(&other.folded)
                && (first_a.starts_with(first_b) || first_b.starts_with(first_a))
            {
                return true;
            }
        }
        // An edit distance of two needs lengths within two: most pairs stop here.
        self.chars.abs_diff(other.chars) <= 2 && edit_distance(&self.folded, &other.folded) <= 2
    }
}

fn last_word(text: &str) -> &str {
    text.rsplit_once(' ').map_or(text, |(_, last)| last)
}

/// Spreadsheet column letters: 0 → A, 26 → AA.
pub fn column_letter(index: usize) -> String {
    let mut n = index + 1;
    let mut letters = Vec::new();
    while n > 0 {
        let rem = (n - 1) % 26;
        letters.push((b'A' + rem as u8) as char);
        n = (n - 1) / 26;
    }
    letters.iter().rev().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("valid")
    }

    #[test]
    fn uk_dates_in_every_form() {
        for text in [
            "03/03/2025",
            "3/3/2025",
            "03/03/25",
            "2025-03-03",
            "3 March 2025",
            "3 Mar 2025",
            "3rd March 2025",
            "Date: 03/03/2025",
        ] {
            assert_eq!(parse_date(&Cell::Text(text.into())), Some(date(2025, 3, 3)), "{text}");
        }
        assert_eq!(parse_date(&Cell::Number(45671.0)), Some(date(2025, 1, 14)));
        assert_eq!(parse_date(&Cell::Date(date(2025, 6, 2))), Some(date(2025, 6, 2)));
        assert_eq!(parse_date(&Cell::Text("31/02/2025".into())), None);
        assert_eq!(parse_date(&Cell::Number(3.0)), None);
    }

    #[test]
    fn attendance_marks() {
        use AttendanceStatus::*;
        for (text, want) in [
            ("Y", Attended),
            ("yes", Attended),
            ("✓", Attended),
            ("Attended", Attended),
            ("N", Absent),
            ("Did not attend", Absent),
            ("Absent", Absent),
            ("Partial", Partial),
            ("Cancelled", Cancelled),
        ] {
            assert_eq!(parse_status(&Cell::Text(text.into())), Some(Some(want)), "{text}");
        }
        assert_eq!(parse_status(&Cell::Empty), Some(None));
        assert_eq!(parse_status(&Cell::Text("maybe".into())), None);
    }

    #[test]
    fn names() {
        assert_eq!(display_name("Nowak,  Łukasz"), "Łukasz Nowak");
        assert_eq!(display_name("  Zoë   O'Brien "), "Zoë O'Brien");
        assert_eq!(name_key("Dr Łukasz Nowak"), "łukasz nowak");
        assert_eq!(name_key("Nowak, Łukasz"), "łukasz nowak");
        assert_eq!(name_key("Mr Dr John Smith"), "john smith");
        assert_eq!(name_key("Dr"), "", "nothing but a title");
        assert_eq!(name_key("Sister Act"), "act");
        assert!(is_near_match("Zoe O'Brien", "Zoë O'Brien"));
        assert!(is_near_match("Jo Wiśniewska", "Joanna Wiśniewska"));
        assert!(is_near_match("Hannah Brookes", "Hannah Brooks"));
        assert!(!is_near_match("Hannah Brooks", "Kwame Mensah"));
        assert!(
            !is_near_match("Dr Łukasz Nowak", "Łukasz Nowak"),
            "same key is an exact match, not a near one"
        );
    }

    #[test]
    fn dates_inside_headings() {
        assert_eq!(date_in_text("Day 1 (01/10/2024)"), Some(date(2024, 10, 1)));
        assert_eq!(date_in_text("Day 2 – 8 October 2024"), Some(date(2024, 10, 8)));
        assert_eq!(date_in_text("Day 3"), None);
        assert!(contains_words("safe and together core training", "core training"));
        assert!(!contains_words("day 12", "day 1"));
    }

    #[test]
    fn normalising_in_one_pass_agrees_with_lowering_then_splitting() {
        let plain = |text: &str| {
            text.to_lowercase()
                .replace('&', " and ")
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        };
        for text in [
            "",
            "  ",
            "Safe & Together: CORE training",
            "&Co",
            "A&&B",
            "Surname, First name",
            "  Zoë  O'Brien ",
            "ŁUKASZ NOWAK",
            "İstanbul Surgery",
            "ΟΔΥΣΣΕΥΣ",
            "Nguyễn Thị Lan (DSL)",
            "e-mail address",
            "Day 1 – Assessment & Planning",
        ] {
            assert_eq!(normalise(text), plain(text), "{text:?}");
        }
    }

    #[test]
    fn spaces_are_tidied() {
        assert_eq!(tidy_spaces("  Oval   Practice\t"), "Oval Practice");
        assert_eq!(tidy_spaces("Oval Practice"), "Oval Practice");
        assert_eq!(tidy_spaces("Oval\u{a0}Practice"), "Oval Practice");
    }

    #[test]
    fn column_letters() {
        assert_eq!(column_letter(0), "A");
        assert_eq!(column_letter(25), "Z");
        assert_eq!(column_letter(26), "AA");
        assert_eq!(
            normalise("Day 1 – Assessment & Planning"),
            "day 1 assessment and planning"
        );
    }
}
