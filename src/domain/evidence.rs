//! Evidence for a criterion: a file, a written statement or a link, with the
//! date it applies from and, optionally, the date it stops being valid.
//! Forms become [`EvidenceDetails`] here; the file itself is checked by
//! [`super::filetype`] and stored by `crate::storage`.

use super::assessment::parse_date;
use super::validation::{self, FieldErrors};
use chrono::NaiveDate;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EvidenceKind {
    File,
    Statement,
    Link,
}

impl EvidenceKind {
    pub const ALL: [EvidenceKind; 3] = [EvidenceKind::File, EvidenceKind::Statement, EvidenceKind::Link];

    pub fn as_str(self) -> &'static str {
        match self {
            EvidenceKind::File => "file",
            EvidenceKind::Statement => "statement",
            EvidenceKind::Link => "link",
        }
    }

    pub fn parse(text: &str) -> Option<EvidenceKind> {
        EvidenceKind::ALL.into_iter().find(|k| k.as_str() == text.trim())
    }

    pub fn label(self) -> &'static str {
        match self {
            EvidenceKind::File => "File",
            EvidenceKind::Statement => "Written statement",
            EvidenceKind::Link => "Link",
        }
    }
}

pub const MAX_STATEMENT_CHARS: usize = 20_000;
pub const MAX_TITLE_CHARS: usize = 200;
pub const MAX_URL_CHARS: usize = 2_000;

/// What the form sent, as text.
#[derive(Debug, Clone, Default)]
pub struct EvidenceInput {
    pub kind: String,
    pub title: String,
    pub statement: String,
    pub url: String,
    pub applies_from: String,
    pub valid_until: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct EvidenceDetails {
    pub kind: EvidenceKind,
    /// May be empty for a file (the file's name is shown instead).
    pub title: String,
    pub statement: String,
    pub url: String,
    pub applies_from: NaiveDate,
    pub valid_until: Option<NaiveDate>,
}

impl TryFrom<&EvidenceInput> for EvidenceDetails {
    type Error = FieldErrors;

    fn try_from(input: &EvidenceInput) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let Some(kind) = EvidenceKind::parse(&input.kind) else {
            errors.add("kind", "Choose a file, a written statement or a link");
            return Err(errors);
        };
        let mut title = match kind {
            EvidenceKind::Statement => validation::required(
                &mut errors,
                "title",
                &input.title,
                "a title for the statement",
                MAX_TITLE_CHARS,
            ),
            _ => validation::optional(&mut errors, "title", &input.title, "the title", MAX_TITLE_CHARS),
        };
        let statement = match kind {
            EvidenceKind::Statement => {
                // Line breaks are the writer's; keep them, drop trailing space.
                let text = input.statement.trim_end().to_string();
                if let Err(message) = validation::plain_text(&text) {
                    errors.add("statement", message);
                } else if text.trim().is_empty() {
                    errors.add("statement", "Enter the statement");
                } else if text.chars().count() > MAX_STATEMENT_CHARS {
                    errors.add(
                        "statement",
                        format!("The statement must be {MAX_STATEMENT_CHARS} characters or fewer"),
                    );
                }
                text
            }
            _ => String::new(),
        };
        let url = match kind {
            EvidenceKind::Link => {
                let url = input.url.trim().to_string();
                match check_url(&url) {
                    Ok(host) => {
                        if title.is_empty() {
                            title = host;
                        }
                    }
                    Err(message) => errors.add("url", message),
                }
                url
            }
            _ => String::new(),
        };
        let applies_from = match input.applies_from.trim() {
            "" => {
                errors.add("applies_from", "Enter the date the evidence applies from");
                None
            }
            text => {
                let date = parse_date(text);
                if date.is_none() {
                    errors.add(
                        "applies_from",
                        "The date the evidence applies from must be a real date, like 27 3 2026",
                    );
                }
                date
            }
        };
        let valid_until = match input.valid_until.trim() {
            "" => None,
            text => {
                let date = parse_date(text);
                match (date, applies_from) {
                    (None, _) => errors.add(
                        "valid_until",
                        "The date the evidence stops being valid must be a real date, like 27 3 2027",
                    ),
                    (Some(until), Some(from)) if until < from => errors.add(
                        "valid_until",
                        "The date the evidence stops being valid must be on or after the date it applies from",
                    ),
                    _ => {}
                }
                date
            }
        };
        match (errors.is_empty(), applies_from) {
            (true, Some(applies_from)) => Ok(EvidenceDetails {
                kind,
                title,
                statement,
                url,
                applies_from,
                valid_until,
            }),
            _ => Err(errors),
        }
    }
}

/// A link must be a web address (http or https) with a host; returns the host.
fn check_url(text: &str) -> Result<String, String> {
    if text.is_empty() {
        return Err("Enter the web address".into());
    }
    if text.chars().count() > MAX_URL_CHARS {
        return Err(format!("The web address must be {MAX_URL_CHARS} characters or fewer"));
    }
    let parsed = url::Url::parse(text).map_err(|_| "Enter a full web address, starting with https://".to_string())?;
    match (parsed.scheme(), parsed.host_str()) {
        ("http" | "https", Some(host)) if !host.is_empty() => Ok(host.to_string()),
        _ => Err("The web address must start with https:// or http://".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(kind: &str) -> EvidenceInput {
        EvidenceInput {
            kind: kind.into(),
            applies_from: "2026-01-01".into(),
            ..EvidenceInput::default()
        }
    }

    fn fields(errors: FieldErrors) -> Vec<&'static str> {
        errors.0.iter().map(|e| e.field).collect()
    }

    #[test]
    fn a_statement_needs_a_title_and_text() {
        let errors = EvidenceDetails::try_from(&input("statement")).expect_err("empty");
        assert_eq!(fields(errors), ["title", "statement"]);
        let mut ok = input("statement");
        ok.title = " Our approach ".into();
        ok.statement = "Line one\nLine two\n  ".into();
        let details = EvidenceDetails::try_from(&ok).expect("valid");
        assert_eq!(details.title, "Our approach");
        assert_eq!(details.statement, "Line one\nLine two");
    }

    #[test]
    fn a_link_must_be_a_web_address() {
        for bad in [
            "",
            "javascript:alert(1)",
            "file:///etc/passwd",
            "www.example.org",
            "https://",
        ] {
            let mut link = input("link");
            link.url = bad.into();
            assert_eq!(
                fields(EvidenceDetails::try_from(&link).expect_err(bad)),
                ["url"],
                "{bad}"
            );
        }
        let mut link = input("link");
        link.url = "https://intranet.example.org/da-policy".into();
        let details = EvidenceDetails::try_from(&link).expect("valid");
        assert_eq!(details.title, "intranet.example.org", "the host stands in for a title");
    }

    #[test]
    fn dates_are_checked_and_ordered() {
        let mut evidence = input("file");
        evidence.applies_from = "31/01/2026".into();
        evidence.valid_until = "2025-12-31".into();
        assert_eq!(
            fields(EvidenceDetails::try_from(&evidence).expect_err("bad")),
            ["applies_from"]
        );
        evidence.applies_from = "2026-01-31".into();
        assert_eq!(
            fields(EvidenceDetails::try_from(&evidence).expect_err("bad")),
            ["valid_until"]
        );
        evidence.valid_until = "2027-01-31".into();
        let details = EvidenceDetails::try_from(&evidence).expect("valid");
        assert_eq!(details.valid_until, parse_date("2027-01-31"));
        evidence.applies_from = String::new();
        assert_eq!(
            fields(EvidenceDetails::try_from(&evidence).expect_err("missing")),
            ["applies_from"]
        );
    }

    #[test]
    fn an_unknown_kind_is_refused() {
        assert_eq!(
            fields(EvidenceDetails::try_from(&input("video")).expect_err("kind")),
            ["kind"]
        );
    }
}
