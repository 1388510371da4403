//! Dates as people in the UK type and read them. A date question has day,
//! month and year boxes (the GOV.UK pattern), and the month box takes "3",
//! "03", "March" or "Mar": people type what they say.

use chrono::NaiveDate;

const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// 1 to 12 from a number or a month's name (at least its first three letters).
pub fn month_number(text: &str) -> Option<u32> {
    let text = text.trim().trim_end_matches('.').to_lowercase();
    if let Ok(n) = text.parse::<u32>() {
        return (1..=12).contains(&n).then_some(n);
    }
    if text.chars().count() < 3 {
        return None;
    }
    MONTHS
        .iter()
        .position(|name| name.starts_with(&text))
        .and_then(|i| u32::try_from(i + 1).ok())
}

/// What a day, month and year question was answered with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DateAnswer {
    /// All three boxes empty.
    Blank,
    Date(NaiveDate),
    /// Something typed that is not a real date (a box left empty, 31
    /// February, a two-digit year).
    NotADate,
}

/// Reads the three boxes. The year needs all four digits: "26" could be
/// 1926 or 2026, and a wrong guess on an award date would go unnoticed.
pub fn from_parts(day: &str, month: &str, year: &str) -> DateAnswer {
    let (day, month, year) = (day.trim(), month.trim(), year.trim());
    if day.is_empty() && month.is_empty() && year.is_empty() {
        return DateAnswer::Blank;
    }
    let day = day.parse::<u32>().ok();
    let month = month_number(month);
    let year = (year.len() == 4).then(|| year.parse::<i32>().ok()).flatten();
    match (day, month, year) {
        (Some(d), Some(m), Some(y)) => NaiveDate::from_ymd_opt(y, m, d).map_or(DateAnswer::NotADate, DateAnswer::Date),
        _ => DateAnswer::NotADate,
    }
}

/// "3 March 2026": the one way dates are shown, on every page and certificate.
pub fn uk_date(date: NaiveDate) -> String {
    date.format("%-d %B %Y").to_string()
}

/// A date a test writes the ISO way ("2026-03-03").
#[cfg(test)]
pub(crate) fn iso(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a test date written 2026-03-03")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> DateAnswer {
        DateAnswer::Date(NaiveDate::from_ymd_opt(y, m, d).expect("date"))
    }

    #[test]
    fn months_are_read_as_people_type_them() {
        for text in ["3", "03", "March", "march", "MAR", "Mar.", " mar "] {
            assert_eq!(month_number(text), Some(3), "{text}");
        }
        assert_eq!(month_number("Sept"), Some(9));
        for text in ["0", "13", "Ma", "Marchh", "", "3rd"] {
            assert_eq!(month_number(text), None, "{text}");
        }
    }

    #[test]
    fn three_boxes_make_a_date_or_say_why_not() {
        assert_eq!(from_parts("3", "March", "2026"), date(2026, 3, 3));
        assert_eq!(from_parts("03", "03", "2026"), date(2026, 3, 3));
        assert_eq!(from_parts(" 29 ", "2", "2028"), date(2028, 2, 29));
        assert_eq!(from_parts("", "", " "), DateAnswer::Blank);
        assert_eq!(from_parts("31", "February", "2026"), DateAnswer::NotADate);
        assert_eq!(from_parts("3", "", "2026"), DateAnswer::NotADate);
        assert_eq!(from_parts("3", "3", "26"), DateAnswer::NotADate);
        assert_eq!(from_parts("third", "3", "2026"), DateAnswer::NotADate);
    }

    #[test]
    fn dates_are_shown_in_one_uk_style() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 3).expect("date");
        assert_eq!(uk_date(d), "3 May 2026");
    }
}
