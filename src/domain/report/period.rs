//! Reporting periods: any two dates, or a preset the programme lead uses
//! every quarter and year.

use chrono::{Datelike, Days, Months, NaiveDate};
use serde::{Deserialize, Serialize};

/// Both days included.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period, String> {
        if to < from {
            return Err("The end of the period must be on or after its start.".into());
        }
        Ok(Period { from, to })
    }

    pub fn parse(from: &str, to: &str) -> Result<Period, String> {
        let read = |text: &str, what: &str| {
            crate::domain::assessment::parse_date(text.trim())
                .ok_or_else(|| format!("Enter the {what} of the period as a real date, such as 1 April 2024."))
        };
        Period::new(read(from, "start")?, read(to, "end")?)
    }

    pub fn days(&self) -> i64 {
        (self.to - self.from).num_days() + 1
    }

    /// The period of the same length that ends the day before this one starts.
    pub fn previous(&self) -> Period {
        let to = self.from.pred_opt().unwrap_or(self.from);
        let from = to
            .checked_sub_days(Days::new(u64::try_from(self.days() - 1).unwrap_or(0)))
            .unwrap_or(to);
        // Whole calendar months and years compare with the same months before
        // (a financial year with the one before, not 365 days that miss a day).
        if let Some(months) = self.whole_months() {
            if let (Some(start), Some(end)) = (self.from.checked_sub_months(Months::new(months)), self.from.pred_opt())
            {
                return Period { from: start, to: end };
            }
        }
        Period { from, to }
    }

    /// How many whole months the period spans, when it starts on the first
    /// of a month and ends on the last day of one.
    fn whole_months(&self) -> Option<u32> {
        let next = self.to.succ_opt()?;
        if self.from.day() != 1 || next.day() != 1 {
            return None;
        }
        let months = (next.year() - self.from.year()) * 12 + next.month() as i32 - self.from.month() as i32;
        u32::try_from(months).ok().filter(|m| *m > 0)
    }

    pub fn contains(&self, day: NaiveDate) -> bool {
        self.from <= day && day <= self.to
    }

    /// "1 April 2024 to 31 March 2025".
    pub fn label(&self) -> String {
        format!("{} to {}", long_date(self.from), long_date(self.to))
    }
}

pub fn long_date(day: NaiveDate) -> String {
    day.format("%-d %B %Y").to_string()
}

/// The periods offered on the dashboard.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    ThisQuarter,
    LastQuarter,
    FinancialYear,
    LastFinancialYear,
    CalendarYear,
    LastCalendarYear,
}

impl Preset {
    pub const ALL: [Preset; 6] = [
        Preset::ThisQuarter,
        Preset::LastQuarter,
        Preset::FinancialYear,
        Preset::LastFinancialYear,
        Preset::CalendarYear,
        Preset::LastCalendarYear,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::ThisQuarter => "this_quarter",
            Preset::LastQuarter => "last_quarter",
            Preset::FinancialYear => "financial_year",
            Preset::LastFinancialYear => "last_financial_year",
            Preset::CalendarYear => "calendar_year",
            Preset::LastCalendarYear => "last_calendar_year",
        }
    }

    pub fn parse(text: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.as_str() == text)
    }

    pub fn label(self) -> &'static str {
        match self {
            Preset::ThisQuarter => "This quarter",
            Preset::LastQuarter => "Last quarter",
            Preset::FinancialYear => "This financial year (April to March)",
            Preset::LastFinancialYear => "Last financial year",
            Preset::CalendarYear => "This calendar year",
            Preset::LastCalendarYear => "Last calendar year",
        }
    }

    /// The period this preset means on `today`. Quarters are calendar
    /// quarters (which are also the financial year's); the financial year
    /// runs from 1 April to 31 March.
    pub fn period(self, today: NaiveDate) -> Period {
        let first = |year: i32, month: u32| NaiveDate::from_ymd_opt(year, month, 1).unwrap_or(today);
        let span = |from: NaiveDate, months: u32| Period {
            from,
            to: from
                .checked_add_months(Months::new(months))
                .and_then(|d| d.pred_opt())
                .unwrap_or(from),
        };
        let quarter_start = first(today.year(), (today.month0() / 3) * 3 + 1);
        let financial_start = if today.month() >= 4 {
            first(today.year(), 4)
        } else {
            first(today.year() - 1, 4)
        };
        match self {
            Preset::ThisQuarter => span(quarter_start, 3),
            Preset::LastQuarter => span(
                quarter_start
                    .checked_sub_months(Months::new(3))
                    .unwrap_or(quarter_start),
                3,
            ),
            Preset::FinancialYear => span(financial_start, 12),
            Preset::LastFinancialYear => span(
                financial_start
                    .checked_sub_months(Months::new(12))
                    .unwrap_or(financial_start),
                12,
            ),
            Preset::CalendarYear => span(first(today.year(), 1), 12),
            Preset::LastCalendarYear => span(first(today.year() - 1, 1), 12),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dates::iso as day;

    #[test]
    fn presets_on_a_day_in_february() {
        let today = day("2025-02-14");
        let p = |preset: Preset| {
            let period = preset.period(today);
            (period.from.to_string(), period.to.to_string())
        };
        assert_eq!(p(Preset::ThisQuarter), ("2025-01-01".into(), "2025-03-31".into()));
        assert_eq!(p(Preset::LastQuarter), ("2024-10-01".into(), "2024-12-31".into()));
        assert_eq!(p(Preset::FinancialYear), ("2024-04-01".into(), "2025-03-31".into()));
        assert_eq!(p(Preset::LastFinancialYear), ("2023-04-01".into(), "2024-03-31".into()));
        assert_eq!(p(Preset::CalendarYear), ("2025-01-01".into(), "2025-12-31".into()));
        assert_eq!(p(Preset::LastCalendarYear), ("2024-01-01".into(), "2024-12-31".into()));
        let april = Preset::FinancialYear.period(day("2025-04-01"));
        assert_eq!(april.from, day("2025-04-01"));
    }

    #[test]
    fn the_previous_period_has_the_same_length() {
        let fy = Period::parse("2024-04-01", "2025-03-31").expect("valid");
        assert_eq!(fy.previous(), Period::parse("2023-04-01", "2024-03-31").expect("valid"));
        let odd = Period::parse("2024-03-10", "2024-03-19").expect("valid");
        assert_eq!(
            odd.previous(),
            Period::parse("2024-02-29", "2024-03-09").expect("valid")
        );
        let quarter = Period::parse("2025-01-01", "2025-03-31").expect("valid");
        assert_eq!(
            quarter.previous(),
            Period::parse("2024-10-01", "2024-12-31").expect("valid")
        );
        assert!(Period::parse("2025-01-02", "2025-01-01").is_err());
        assert!(Period::parse("yesterday", "2025-01-01").is_err());
        assert_eq!(fy.label(), "1 April 2024 to 31 March 2025");
    }
}
