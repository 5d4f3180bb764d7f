//! The growing delay after failed sign-ins, as a pure function of the counters and the time.
//!
//! The counters live in PostgreSQL (so every instance sees the same ones); the rules live here so
//! they are tested without a clock or a database.
//!
//! Failures are counted per (account, address), so an attacker at one address locks only
//! themselves out of that account; per address, so one address cannot spray many accounts; and
//! per account under an hourly ceiling, so many addresses together cannot guess at leisure. The
//! ceiling never stops an address the account signed in from lately ([`is_known_address`]):
//! that is how the owner still gets in while a botnet keeps the ceiling full.

use chrono::{DateTime, Duration, Utc};

/// The counters kept per key (an account or a client address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleState {
    /// Failures since the last success.
    pub failures: i32,
    /// Start of the current one-hour window.
    pub hour_started: DateTime<Utc>,
    /// Failures evaluated in the current window.
    pub hour_failures: i32,
    /// No attempt is evaluated before this time.
    pub locked_until: Option<DateTime<Utc>>,
}

impl ThrottleState {
    /// A key never seen before.
    pub fn fresh(now: DateTime<Utc>) -> Self {
        ThrottleState {
            failures: 0,
            hour_started: now,
            hour_failures: 0,
            locked_until: None,
        }
    }
}

/// How many failures are free, how long the delay may grow, and the hourly cap.
#[derive(Debug, Clone, Copy)]
pub struct ThrottlePolicy {
    /// Failures allowed before any delay.
    pub free_failures: i32,
    /// The delay doubles from one second up to this.
    pub max_delay: Duration,
    /// Failures evaluated per hour at most.
    pub hourly_cap: i32,
}

/// Per (account, address): 5 free failures, then 1 s, 2 s, 4 s… up to 15 minutes; 100 an hour
/// at most. One address guessing at one account gets about 18 evaluated attempts an hour.
pub const PER_ACCOUNT_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    free_failures: 5,
    max_delay: Duration::minutes(15),
    hourly_cap: 100,
};

/// Per client address: more lenient (many people share a NAT), same shape.
pub const PER_ADDRESS: ThrottlePolicy = ThrottlePolicy {
    free_failures: 20,
    max_delay: Duration::minutes(15),
    hourly_cap: 1_000,
};

/// Per account, across every address: no streak lock, only `hourly` evaluated failures an
/// hour from addresses the account has not signed in from lately. Only a guess spread over many
/// addresses reaches it (one address is slowed long before by [`PER_ACCOUNT_ADDRESS`]).
pub const fn account_ceiling(hourly: i32) -> ThrottlePolicy {
    ThrottlePolicy {
        free_failures: i32::MAX,
        max_delay: Duration::zero(),
        hourly_cap: hourly,
    }
}

/// How long a full sign-in from an address vouches for it against the account-wide ceiling.
pub const KNOWN_ADDRESS_DAYS: i64 = 30;

/// Whether the account signed in fully from this address within [`KNOWN_ADDRESS_DAYS`].
pub fn is_known_address(last_success: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    last_success.is_some_and(|at| at + Duration::days(KNOWN_ADDRESS_DAYS) > now)
}

/// The unit one allowance covers: an IPv4 address, or an IPv6 /64 (one subscriber's prefix,
/// which holds more addresses than a script could ever use up).
pub fn address_bucket(address: std::net::IpAddr) -> String {
    match address {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

impl ThrottlePolicy {
    /// How long the caller must wait before an attempt is evaluated; `None` when it may try.
    pub fn blocked_for(&self, state: &ThrottleState, now: DateTime<Utc>) -> Option<Duration> {
        if let Some(until) = state.locked_until.filter(|until| *until > now) {
            return Some(until - now);
        }
        let hour_ends = state.hour_started + Duration::hours(1);
        (hour_ends > now && state.hour_failures >= self.hourly_cap).then(|| hour_ends - now)
    }

    /// The counters after one more evaluated failure.
    pub fn after_failure(&self, state: &ThrottleState, now: DateTime<Utc>) -> ThrottleState {
        let mut next = state.clone();
        if now >= state.hour_started + Duration::hours(1) {
            next.hour_started = now;
            next.hour_failures = 0;
        }
        next.hour_failures = next.hour_failures.saturating_add(1);
        next.failures = next.failures.saturating_add(1);
        let over = next.failures.saturating_sub(self.free_failures);
        next.locked_until = (over > 0).then(|| {
            let exponent = u32::try_from(over - 1).unwrap_or(u32::MAX).min(20);
            let delay = Duration::seconds(1_i64 << exponent).min(self.max_delay);
            now + delay
        });
        next
    }

    /// The counters after the reserved attempt succeeded: the streak ends and the attempt no
    /// longer counts against the hour.
    pub fn after_success(&self, state: &ThrottleState) -> ThrottleState {
        ThrottleState {
            failures: 0,
            locked_until: None,
            hour_failures: (state.hour_failures - 1).max(0),
            hour_started: state.hour_started,
        }
    }

    /// The counters after a reserved attempt was refused elsewhere before it was evaluated:
    /// as if it had never been reserved.
    pub fn after_refund(&self, state: &ThrottleState) -> ThrottleState {
        ThrottleState {
            failures: (state.failures - 1).max(0),
            hour_failures: (state.hour_failures - 1).max(0),
            ..state.clone()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 28, 9, 0, 0)
            .single()
            .unwrap_or_default()
    }

    #[test]
    fn five_failures_are_free_then_the_delay_doubles() {
        let policy = PER_ACCOUNT_ADDRESS;
        let now = t0();
        let mut state = ThrottleState::fresh(now);
        for _ in 0..5 {
            assert_eq!(policy.blocked_for(&state, now), None);
            state = policy.after_failure(&state, now);
        }
        assert_eq!(
            policy.blocked_for(&state, now),
            None,
            "the fifth failure is still free"
        );
        let mut delays = Vec::new();
        for _ in 0..5 {
            state = policy.after_failure(&state, now);
            delays.push(policy.blocked_for(&state, now).map(|d| d.num_seconds()));
        }
        assert_eq!(delays, [Some(1), Some(2), Some(4), Some(8), Some(16)]);
    }

    #[test]
    fn the_delay_is_capped_and_expires() {
        let mut state = ThrottleState::fresh(t0());
        for _ in 0..40 {
            state = PER_ACCOUNT_ADDRESS.after_failure(&state, t0());
        }
        assert_eq!(
            PER_ACCOUNT_ADDRESS.blocked_for(&state, t0()),
            Some(Duration::minutes(15))
        );
        assert_eq!(
            PER_ACCOUNT_ADDRESS.blocked_for(&state, t0() + Duration::minutes(15)),
            None
        );
    }

    #[test]
    fn a_success_ends_the_streak_and_is_not_counted() {
        let mut state = ThrottleState::fresh(t0());
        for _ in 0..4 {
            state = PER_ACCOUNT_ADDRESS.after_failure(&state, t0());
        }
        let reserved = PER_ACCOUNT_ADDRESS.after_failure(&state, t0());
        let state = PER_ACCOUNT_ADDRESS.after_success(&reserved);
        assert_eq!(PER_ACCOUNT_ADDRESS.blocked_for(&state, t0()), None);
        assert_eq!((state.failures, state.hour_failures), (0, 4));
        let mut many = ThrottleState::fresh(t0());
        for _ in 0..500 {
            many =
                PER_ACCOUNT_ADDRESS.after_success(&PER_ACCOUNT_ADDRESS.after_failure(&many, t0()));
        }
        assert_eq!(
            PER_ACCOUNT_ADDRESS.blocked_for(&many, t0()),
            None,
            "successes never lock"
        );
    }

    #[test]
    fn at_most_the_hourly_cap_is_evaluated() {
        let policy = ThrottlePolicy {
            free_failures: 1_000,
            ..PER_ACCOUNT_ADDRESS
        };
        let mut state = ThrottleState::fresh(t0());
        let mut evaluated = 0;
        for minute in 0..60 {
            for _ in 0..10 {
                let now = t0() + Duration::minutes(minute);
                if policy.blocked_for(&state, now).is_none() {
                    evaluated += 1;
                    state = policy.after_failure(&state, now);
                }
            }
        }
        assert_eq!(evaluated, 100);
        let next_hour = t0() + Duration::hours(1);
        assert_eq!(
            policy.blocked_for(&state, next_hour),
            None,
            "a new hour, a new budget"
        );
    }

    #[test]
    fn the_account_ceiling_never_locks_a_streak_only_caps_the_hour() {
        let ceiling = account_ceiling(3);
        let mut state = ThrottleState::fresh(t0());
        for _ in 0..3 {
            assert_eq!(ceiling.blocked_for(&state, t0()), None);
            state = ceiling.after_failure(&state, t0());
        }
        assert_eq!(
            ceiling.blocked_for(&state, t0()),
            Some(Duration::hours(1)),
            "full until the hour ends"
        );
        let refunded = ceiling.after_refund(&state);
        assert_eq!(ceiling.blocked_for(&refunded, t0()), None);
        assert_eq!(ceiling.blocked_for(&state, t0() + Duration::hours(1)), None);
    }

    #[test]
    fn an_address_is_known_for_thirty_days_after_a_sign_in() {
        assert!(!is_known_address(None, t0()));
        assert!(is_known_address(Some(t0()), t0() + Duration::days(29)));
        assert!(!is_known_address(Some(t0()), t0() + Duration::days(30)));
    }

    #[test]
    fn an_ipv6_subscriber_prefix_shares_one_allowance() {
        let bucket = |a: &str| a.parse().map(address_bucket).unwrap_or_default();
        assert_eq!(bucket("203.0.113.7"), "203.0.113.7");
        assert_eq!(bucket("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(
            bucket("2001:db8:1:2::1"),
            bucket("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(bucket("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:3::1"));
    }
}
