//! Field-level problems found while turning raw input into domain values.
//! Each names the form field it belongs to, so a page can link its error
//! summary to the field (the GOV.UK pattern).

use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: &'static str,
    pub message: String,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct FieldErrors(pub Vec<FieldError>);

impl FieldErrors {
    pub fn add(&mut self, field: &'static str, message: impl Into<String>) {
        self.0.push(FieldError {
            field,
            message: message.into(),
        });
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn into_result<T>(self, value: impl FnOnce() -> T) -> Result<T, FieldErrors> {
        if self.0.is_empty() {
            Ok(value())
        } else {
            Err(self)
        }
    }
}

/// The one check every piece of text typed in goes through: control
/// characters (NUL and the like) are refused, as PostgreSQL cannot store NUL
/// and none of them belongs in a name, a search or a statement. Tabs and
/// line breaks are allowed, as text areas and pasted text carry them.
pub fn plain_text(value: &str) -> Result<(), &'static str> {
    if value
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r'))
    {
        Err("This contains a character that cannot be used here (a control character such as NUL). Remove it and try again.")
    } else {
        Ok(())
    }
}

/// Right-to-left and other direction overrides can make a name show as
/// something else ("a\u{202e}gpj.pdf" shows as "afdp.jpg"), so file names
/// may not contain them.
pub fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// Trims; an empty result is reported against `field`.
pub fn required(errors: &mut FieldErrors, field: &'static str, value: &str, what: &str, max_len: usize) -> String {
    let value = value.trim();
    if let Err(message) = plain_text(value) {
        errors.add(field, message);
    } else if value.is_empty() {
        errors.add(field, format!("Enter {what}"));
    } else if value.chars().count() > max_len {
        errors.add(
            field,
            format!("{} must be {max_len} characters or fewer", capitalise(what)),
        );
    }
    value.to_string()
}

pub fn optional(errors: &mut FieldErrors, field: &'static str, value: &str, what: &str, max_len: usize) -> String {
    let value = value.trim();
    if let Err(message) = plain_text(value) {
        errors.add(field, message);
    } else if value.chars().count() > max_len {
        errors.add(
            field,
            format!("{} must be {max_len} characters or fewer", capitalise(what)),
        );
    }
    value.to_string()
}

/// Lower-cased and trimmed; empty is allowed only when `mandatory` is false.
pub fn email(errors: &mut FieldErrors, field: &'static str, value: &str, mandatory: bool) -> String {
    let value = value.trim().to_lowercase();
    if value.is_empty() {
        if mandatory {
            errors.add(field, "Enter an email address");
        }
        return value;
    }
    if !looks_like_email(&value) {
        errors.add(
            field,
            "Enter an email address in the correct format, like name@example.org",
        );
    }
    value
}

/// Deliberately loose: one @, something either side, a dot in the domain, no spaces.
pub fn looks_like_email(value: &str) -> bool {
    let mut parts = value.split('@');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(local), Some(domain), None) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && value.len() <= 254
                && !value.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        _ => false,
    }
}

fn capitalise(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn required_trims_and_reports_empty() {
        let mut errors = FieldErrors::default();
        assert_eq!(required(&mut errors, "name", "  Leeds  ", "a name", 10), "Leeds");
        assert!(errors.is_empty());
        required(&mut errors, "name", "   ", "a name", 10);
        assert_eq!(errors.0[0].message, "Enter a name");
        required(&mut errors, "name", "abcdefghijk", "a name", 10);
        assert_eq!(errors.0[1].message, "A name must be 10 characters or fewer");
    }

    #[test]
    fn control_characters_are_refused_with_a_field_error() {
        let mut errors = FieldErrors::default();
        required(&mut errors, "name", "Leeds\0 Council", "a name", 100);
        optional(&mut errors, "notes", "bell\u{7}", "notes", 100);
        assert_eq!(errors.0.len(), 2);
        assert_eq!(errors.0[0].field, "name");
        assert!(errors.0[1].message.contains("control character"));
        assert!(plain_text("two\r\nlines\twith a tab, and ünïcode").is_ok());
        assert!(plain_text("\u{1b}[31m").is_err());
        assert!(is_bidi_control('\u{202e}') && !is_bidi_control('a'));
    }

    #[test]
    fn emails_are_lower_cased_and_checked() {
        let mut errors = FieldErrors::default();
        assert_eq!(email(&mut errors, "email", " Jo@Example.ORG ", true), "jo@example.org");
        assert!(errors.is_empty());
        for bad in ["jo", "jo@", "@x.org", "jo@x", "jo@@x.org", "j o@x.org"] {
            assert!(!looks_like_email(bad), "{bad}");
        }
        email(&mut errors, "email", "", false);
        assert!(errors.is_empty());
        email(&mut errors, "email", "", true);
        assert_eq!(errors.0.len(), 1);
    }
}
