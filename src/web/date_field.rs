//! One form type for every date question: the day, month and year boxes of
//! `macros::date_input` (`NAME.day`, `NAME.month`, `NAME.year`). A single
//! `NAME=YYYY-MM-DD` value (what scripts and the API's callers send) is read
//! too, and wins if both come.

use crate::domain::assessment::parse_date;
use crate::domain::dates::{from_parts, DateAnswer};
use chrono::NaiveDate;
use rocket::form::{self, DataField, FromForm, Options, ValueField};
use serde_json::{json, Value};

#[derive(Debug, Default, Clone)]
pub struct DateField {
    day: String,
    month: String,
    year: String,
    whole: Option<String>,
}

impl DateField {
    pub fn answer(&self) -> DateAnswer {
        match self.whole.as_deref().map(str::trim) {
            Some("") | None => from_parts(&self.day, &self.month, &self.year),
            Some(text) => parse_date(text).map_or(DateAnswer::NotADate, DateAnswer::Date),
        }
    }

    pub fn date(&self) -> Option<NaiveDate> {
        match self.answer() {
            DateAnswer::Date(date) => Some(date),
            _ => None,
        }
    }

    /// As the domain's date fields take it: `YYYY-MM-DD`, empty when blank,
    /// and otherwise what was typed (which then fails as "not a real date").
    pub fn text(&self) -> String {
        match self.answer() {
            DateAnswer::Date(date) => date.format("%Y-%m-%d").to_string(),
            DateAnswer::Blank => String::new(),
            DateAnswer::NotADate => match &self.whole {
                Some(whole) if !whole.trim().is_empty() => whole.clone(),
                _ => format!("{} {} {}", self.day, self.month, self.year),
            },
        }
    }

    /// What the boxes held, to show them again beside an error.
    pub fn echo(&self) -> Value {
        match (self.whole.as_deref().filter(|w| !w.trim().is_empty()), self.date()) {
            (Some(_), Some(date)) => json!(date.format("%Y-%m-%d").to_string()),
            (Some(whole), None) => json!({"day": whole, "month": "", "year": ""}),
            (None, _) => json!({"day": self.day, "month": self.month, "year": self.year}),
        }
    }
}

#[rocket::async_trait]
impl<'r> FromForm<'r> for DateField {
    type Context = DateField;

    fn init(_opts: Options) -> Self::Context {
        <DateField as Default>::default()
    }

    fn push_value(ctxt: &mut Self::Context, field: ValueField<'r>) {
        let value = field.value.to_string();
        match field.name.key_lossy().as_str() {
            "day" => ctxt.day = value,
            "month" => ctxt.month = value,
            "year" => ctxt.year = value,
            "" => ctxt.whole = Some(value),
            _ => {}
        }
    }

    async fn push_data(_ctxt: &mut Self::Context, _field: DataField<'r, '_>) {}

    fn finalize(ctxt: Self::Context) -> form::Result<'r, Self> {
        Ok(ctxt)
    }
}
