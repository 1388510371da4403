//! The one source of "now". Production reads the system clock; tests hold a
//! manual clock they can move forward, so expiry rules (sessions today,
//! awards and refreshers later) are tested without sleeping.

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use std::sync::{Arc, Mutex};

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

    /// Moves a manual clock forward; does nothing to the system clock.
    pub fn advance(&self, by: Duration) {
        if let Some(at) = &self.manual {
            let mut at = at.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            *at += by;
        }
    }
}

/// How timestamps are stored: fixed-width UTC text sorts the same as time does.
pub fn to_db(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn from_db(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text).ok().map(|at| at.with_timezone(&Utc))
}

/// "24 Nov 2026, 14:05" for people to read.
pub fn display(text: &str) -> String {
    from_db(text)
        .map(|at| at.format("%-d %b %Y, %H:%M").to_string())
        .unwrap_or_else(|| text.to_string())
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
        assert_eq!(display(&to_db(a)), "1 Jan 2026, 09:00");
    }
}
