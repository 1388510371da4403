//! How repeated failed log-ins are slowed and then locked out, per email.

use chrono::{DateTime, Duration, Utc};

#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub slowdown_after: i64,
    pub lockout_after: i64,
    pub lockout: Duration,
    pub delay_step_ms: u64,
}

/// What to do with the next attempt, given the failures so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open { delay_ms: u64 },
    Locked { until: DateTime<Utc> },
}

/// What to store after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AfterFailure {
    pub failures: i64,
    pub locked_until: Option<DateTime<Utc>>,
}

const MAX_DELAY_MS: u64 = 5_000;

impl LoginPolicy {
    pub fn gate(&self, failures: i64, locked_until: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Gate {
        if let Some(until) = locked_until.filter(|until| *until > now) {
            return Gate::Locked { until };
        }
        let over = failures - self.slowdown_after + 1;
        let delay_ms = if over > 0 {
            (over as u64).saturating_mul(self.delay_step_ms).min(MAX_DELAY_MS)
        } else {
            0
        };
        Gate::Open { delay_ms }
    }

    /// Reaching the limit locks the email and starts the count again, so the
    /// first attempts after the lock lifts are slowed at once but not locked.
    pub fn after_failure(&self, failures: i64, now: DateTime<Utc>) -> AfterFailure {
        let failures = failures + 1;
        if failures >= self.lockout_after {
            AfterFailure {
                failures: self.slowdown_after,
                locked_until: Some(now + self.lockout),
            }
        } else {
            AfterFailure {
                failures,
                locked_until: None,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LoginPolicy {
        LoginPolicy {
            slowdown_after: 3,
            lockout_after: 5,
            lockout: Duration::minutes(15),
            delay_step_ms: 500,
        }
    }

    #[test]
    fn first_failures_are_not_slowed_then_delay_grows() {
        let now = Utc::now();
        assert_eq!(policy().gate(0, None, now), Gate::Open { delay_ms: 0 });
        assert_eq!(policy().gate(2, None, now), Gate::Open { delay_ms: 0 });
        assert_eq!(policy().gate(3, None, now), Gate::Open { delay_ms: 500 });
        assert_eq!(policy().gate(4, None, now), Gate::Open { delay_ms: 1000 });
        assert_eq!(policy().gate(400, None, now), Gate::Open { delay_ms: 5000 });
    }

    #[test]
    fn the_limit_locks_for_a_while() {
        let now = Utc::now();
        let after = policy().after_failure(4, now);
        assert_eq!(after.locked_until, Some(now + Duration::minutes(15)));
        assert_eq!(
            policy().gate(after.failures, after.locked_until, now + Duration::minutes(14)),
            Gate::Locked {
                until: now + Duration::minutes(15)
            }
        );
        assert!(matches!(
            policy().gate(after.failures, after.locked_until, now + Duration::minutes(16)),
            Gate::Open { .. }
        ));
        assert_eq!(
            policy().after_failure(1, now),
            AfterFailure {
                failures: 2,
                locked_until: None
            }
        );
    }
}
