//! Tera filters the templates share. `uk_date` shows a stored date
//! (`2026-03-03`) as "3 March 2026" and a stored time as "3 March 2026,
//! 14:05" in the partnership's time zone, so every page reads the same way.
//! `action_label` and `record_label` name the audit log's entries for people.

use crate::domain::audit_labels::{action_label, record_label};
use crate::domain::dates::uk_date;
use chrono::NaiveDate;
use std::collections::HashMap;
use tera::{self, Tera, Value};

pub fn register(tera: &mut Tera) {
    tera.register_filter("uk_date", uk_date_filter);
    tera.register_filter("action_label", |value: &Value, _: &HashMap<String, Value>| {
        Ok(text_filter(value, action_label))
    });
    tera.register_filter("record_label", |value: &Value, _: &HashMap<String, Value>| {
        Ok(text_filter(value, record_label))
    });
}

fn text_filter(value: &Value, label: fn(&str) -> String) -> Value {
    match value.as_str() {
        Some(text) => Value::String(label(text)),
        None => value.clone(),
    }
}

fn uk_date_filter(value: &Value, _args: &HashMap<String, Value>) -> tera::Result<Value> {
    Ok(text_filter(value, show))
}

/// Text that is neither a date nor a stored time is shown as it is.
fn show(text: &str) -> String {
    if let Ok(date) = NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d") {
        return uk_date(date);
    }
    crate::clock::display_text(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_times_read_the_uk_way() {
        assert_eq!(show("2026-03-03"), "3 March 2026");
        assert_eq!(show("2026-01-15T10:00:00Z"), "15 January 2026, 10:00");
        assert_eq!(show("not a date"), "not a date");
        assert_eq!(show(""), "");
    }
}
