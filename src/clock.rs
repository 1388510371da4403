//! The one source of "now". Production reads the system clock; tests hold a
//! manual clock they can move forward, so expiry rules (sessions today,
//! awards and refreshers later) are tested without sleeping.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use chrono_tz::Tz;
use std::sync::{Arc, Mutex, OnceLock};

/// The partnership's time zone, for showing times; stored times stay UTC.
/// One per process: the server sets it from configuration at start.
static TIME_ZONE: OnceLock<Tz> = OnceLock::new();

/// Reads a time zone name such as "Europe/London"; `Err` names the problem.
pub fn parse_time_zone(name: &str) -> Result<Tz, String> {
    name.trim()
        .parse::<Tz>()
        .map_err(|_| format!("unknown time zone \"{name}\" (use a name such as Europe/London)"))
}

/// The first call wins; later ones (more apps in one test process) keep it.
pub fn set_time_zone(zone: Tz) {
    let _ = TIME_ZONE.set(zone);
}

pub fn time_zone() -> Tz {
    TIME_ZONE.get().copied().unwrap_or(chrono_tz::Europe::London)
}

/// The calendar date at `at` where the partnership is.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&time_zone()).date_naive()
}

#[derive(Clone, Default)]
pub struct Clock {
    manual: Option<Arc<Mutex<DateTime<Utc>>>>,
}

impl Clock {
    pub fn system() -> Self {
        Self { manual: None }
    }

    /// A clock that stands still at `start` until [`Clock::advance`] moves it.
    pub fn manual(start: DateTime<Utc>) -> Self {
        Self {
            manual: Some(Arc::new(Mutex::new(start))),
        }
    }

    pub fn now(&self) -> DateTime<Utc> {
        match &self.manual {
            Some(at) => *at.lock().unwrap_or_else(|poisoned| poisoned.into_inner()),
            None => Utc::now(),
        }
    }

    /// Today where the partnership is: at 00:30 on a British summer morning
    /// it is still yesterday in UTC.
    pub fn today(&self) -> NaiveDate {
        local_date(self.now())
    }

    /// Moves a manual clock forward; does nothing to the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(at) = &self.manual {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }
}

/// An instant as text, as SQLite stores it (see [`crate::db::Instant`]) and
/// as JSON and files give it: whole seconds of UTC, fixed width, so the text
/// sorts as time does.
pub fn to_db(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn from_db(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}

/// "24 November 2026, 14:05" for people to read: the UK date style used
/// everywhere, at the partnership's local time.
pub fn display(at: DateTime<Utc>) -> String {
    at.with_timezone(&time_zone()).format("%-d %B %Y, %H:%M").to_string()
}

/// [`display`] for an instant given as text (in a template); other text is
/// shown as it is.
pub fn display_text(text: &str) -> String {
    from_db(text).map(display).unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn manual_clock_moves_only_when_told() {
        let start = from_db("2026-01-01T09:00:00Z").expect("valid");
        let clock = Clock::manual(start);
        assert_eq!(clock.now(), start);
        clock.advance(Duration::minutes(31));
        assert_eq!(to_db(clock.now()), "2026-01-01T09:31:00Z");
    }

    #[test]
    fn stored_form_round_trips_and_sorts_like_time() {
        let a = from_db("2026-01-01T09:00:00Z").expect("valid");
        let b = a + Duration::seconds(5);
        assert!(to_db(a) < to_db(b));
        assert_eq!(from_db(&to_db(b)), Some(b));
        assert_eq!(display(a), "1 January 2026, 09:00");
        assert_eq!(display_text(&to_db(a)), "1 January 2026, 09:00");
    }

    #[test]
    fn times_are_shown_in_the_partnerships_time_zone() {
        // Tests leave the zone at its default, Europe/London: BST in summer.
        let summer = from_db("2026-07-01T13:05:00Z").expect("valid");
        assert_eq!(display(summer), "1 July 2026, 14:05");
        let late = from_db("2026-07-01T23:30:00Z").expect("valid");
        assert_eq!(local_date(late).to_string(), "2026-07-02");
        assert!(parse_time_zone("Europe/Lundon").is_err());
        assert_eq!(parse_time_zone(" Europe/London "), Ok(chrono_tz::Europe::London));
    }
}
