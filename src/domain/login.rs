//! How repeated log-in attempts are slowed and then refused.
//!
//! Every attempt is counted before its password is checked, by an atomic
//! increment, under three keys: the email and the address together, the
//! email alone, and the address alone. The count an attempt gets back is its
//! place in the queue, so ten parallel guessers get no more tries than one.
//!
//! - The email and address pair is slowed after `slowdown_after` attempts
//!   and refused after `lockout_after`, until its window ends.
//! - The email alone (attempts from every address) and the address alone
//!   (attempts at every email, a spray) are refused past their limits, but
//!   only from addresses the user has not signed in from before: someone
//!   guessing from elsewhere never locks the real user out of their usual
//!   place.
//!
//! A success clears the pair's count and takes itself back from the others.

use chrono::{DateTime, Duration, Utc};
use std::net::{IpAddr, Ipv6Addr};

#[derive(Debug, Clone, Copy)]
pub struct LoginPolicy {
    pub slowdown_after: i64,
    pub lockout_after: i64,
    /// Attempts at any email from one address before it is refused.
    pub address_lockout_after: i64,
    /// How long a counting window lasts (and so a lock at most).
    pub lockout: Duration,
    pub delay_step_ms: u64,
}

/// One key's attempts in its current window, this attempt included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Count {
    pub hits: i64,
    pub window_started: DateTime<Utc>,
}

/// The counts for one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Attempt {
    pub pair: Count,
    pub email: Count,
    pub address: Count,
    /// The user has signed in from this address before.
    pub known_address: bool,
}

/// Which limit refused an attempt (the message differs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Email,
    Address,
}

/// What to do with an attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gate {
    Open { delay_ms: u64 },
    Locked { until: DateTime<Utc>, limit: Limit },
}

const MAX_DELAY_MS: u64 = 5_000;

impl LoginPolicy {
    pub fn gate(&self, attempt: &Attempt) -> Gate {
        let locked = |count: Count, limit| Gate::Locked {
            until: count.window_started + self.lockout,
            limit,
        };
        if attempt.pair.hits > self.lockout_after {
            return locked(attempt.pair, Limit::Email);
        }
        if !attempt.known_address {
            if attempt.email.hits > self.lockout_after {
                return locked(attempt.email, Limit::Email);
            }
            if attempt.address.hits > self.address_lockout_after {
                return locked(attempt.address, Limit::Address);
            }
        }
        let hits = if attempt.known_address {
            attempt.pair.hits
        } else {
            attempt.pair.hits.max(attempt.email.hits)
        };
        let over = hits - self.slowdown_after;
        let delay_ms = if over > 0 {
            (over as u64).saturating_mul(self.delay_step_ms).min(MAX_DELAY_MS)
        } else {
            0
        };
        Gate::Open { delay_ms }
    }

    /// Counts from windows that started at or before this have ended.
    pub fn window_expired_before(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - self.lockout
    }
}

/// The client address a throttle counts by. An IPv6 client is usually
/// given a whole /64 and can pick any address in it, so each new address
/// would otherwise be a fresh count: IPv6 addresses count by their /64
/// (IPv4 ones, and IPv4 mapped into IPv6, by the whole address).
pub fn client_network(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                format!("{}/64", Ipv6Addr::from(prefix))
            }
        },
    }
}

/// The throttle keys for an attempt: email and address, email, address.
pub fn keys(email: &str, address: &str) -> [String; 3] {
    [
        format!("login-pair:{email}|{address}"),
        format!("login-email:{email}"),
        format!("login-address:{address}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> LoginPolicy {
        LoginPolicy {
            slowdown_after: 3,
            lockout_after: 5,
            address_lockout_after: 20,
            lockout: Duration::minutes(15),
            delay_step_ms: 500,
        }
    }

    fn attempt(pair: i64, email: i64, address: i64, known_address: bool, start: DateTime<Utc>) -> Attempt {
        let count = |hits| Count {
            hits,
            window_started: start,
        };
        Attempt {
            pair: count(pair),
            email: count(email),
            address: count(address),
            known_address,
        }
    }

    #[test]
    fn first_attempts_are_not_slowed_then_delay_grows() {
        let now = Utc::now();
        let gate = |hits| policy().gate(&attempt(hits, hits, hits, false, now));
        assert_eq!(gate(1), Gate::Open { delay_ms: 0 });
        assert_eq!(gate(3), Gate::Open { delay_ms: 0 });
        assert_eq!(gate(4), Gate::Open { delay_ms: 500 });
        assert_eq!(gate(5), Gate::Open { delay_ms: 1000 });
        let capped = LoginPolicy {
            lockout_after: 1000,
            address_lockout_after: 1000,
            ..policy()
        };
        assert_eq!(
            capped.gate(&attempt(400, 400, 400, false, now)),
            Gate::Open { delay_ms: 5000 }
        );
    }

    #[test]
    fn past_the_limit_the_pair_is_locked_until_its_window_ends() {
        let start = Utc::now();
        let until = start + Duration::minutes(15);
        assert!(matches!(
            policy().gate(&attempt(5, 5, 5, false, start)),
            Gate::Open { .. }
        ));
        for known in [false, true] {
            assert_eq!(
                policy().gate(&attempt(6, 6, 6, known, start)),
                Gate::Locked {
                    until,
                    limit: Limit::Email
                },
                "the address that made the failures is locked even if known"
            );
        }
    }

    #[test]
    fn failures_from_elsewhere_never_lock_a_known_address_out() {
        let start = Utc::now();
        // Many guesses at this email from other addresses, and a busy address.
        assert_eq!(
            policy().gate(&attempt(1, 40, 50, true, start)),
            Gate::Open { delay_ms: 0 }
        );
        // The same from an address the user has not used: refused.
        assert!(matches!(
            policy().gate(&attempt(1, 40, 1, false, start)),
            Gate::Locked {
                limit: Limit::Email,
                ..
            }
        ));
    }

    #[test]
    fn an_address_spraying_many_emails_is_refused() {
        let start = Utc::now();
        assert!(matches!(
            policy().gate(&attempt(1, 1, 20, false, start)),
            Gate::Open { .. }
        ));
        assert_eq!(
            policy().gate(&attempt(1, 1, 21, false, start)),
            Gate::Locked {
                until: start + Duration::minutes(15),
                limit: Limit::Address
            }
        );
    }

    #[test]
    fn an_ipv6_client_counts_by_its_64() {
        let net = |text: &str| client_network(text.parse().expect("address"));
        assert_eq!(net("2001:db8:1:2:aaaa::1"), "2001:db8:1:2::/64");
        assert_eq!(
            net("2001:db8:1:2:ffff:1:2:3"),
            net("2001:db8:1:2::9"),
            "one /64, one count"
        );
        assert_ne!(
            net("2001:db8:1:2::1"),
            net("2001:db8:1:3::1"),
            "the next /64 is someone else"
        );
        assert_eq!(net("192.0.2.7"), "192.0.2.7");
        assert_ne!(net("192.0.2.7"), net("192.0.2.8"));
        assert_eq!(
            net("::ffff:192.0.2.7"),
            "192.0.2.7",
            "IPv4 mapped into IPv6 is that IPv4 address"
        );
    }

    #[test]
    fn keys_keep_emails_and_addresses_apart() {
        let [pair, email, address] = keys("a@b.example", "10.0.0.1");
        assert_eq!(pair, "login-pair:a@b.example|10.0.0.1");
        assert_eq!(email, "login-email:a@b.example");
        assert_eq!(address, "login-address:10.0.0.1");
    }
}
