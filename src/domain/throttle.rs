//! The growing delay after failed sign-ins, as a pure function of the counters and the time.
//!
//! The counters live in PostgreSQL (so every instance sees the same ones); the rules live here so
//! they are tested without a clock or a database.

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

/// Per account: 5 free failures, then 1 s, 2 s, 4 s… up to 15 minutes; 100 an hour at most.
pub const PER_ACCOUNT: ThrottlePolicy = ThrottlePolicy {
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
        next.hour_failures += 1;
        next.failures += 1;
        let over = next.failures - self.free_failures;
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
        let policy = PER_ACCOUNT;
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
            state = PER_ACCOUNT.after_failure(&state, t0());
        }
        assert_eq!(
            PER_ACCOUNT.blocked_for(&state, t0()),
            Some(Duration::minutes(15))
        );
        assert_eq!(
            PER_ACCOUNT.blocked_for(&state, t0() + Duration::minutes(15)),
            None
        );
    }

    #[test]
    fn a_success_ends_the_streak_and_is_not_counted() {
        let mut state = ThrottleState::fresh(t0());
        for _ in 0..4 {
            state = PER_ACCOUNT.after_failure(&state, t0());
        }
        let reserved = PER_ACCOUNT.after_failure(&state, t0());
        let state = PER_ACCOUNT.after_success(&reserved);
        assert_eq!(PER_ACCOUNT.blocked_for(&state, t0()), None);
        assert_eq!((state.failures, state.hour_failures), (0, 4));
        let mut many = ThrottleState::fresh(t0());
        for _ in 0..500 {
            many = PER_ACCOUNT.after_success(&PER_ACCOUNT.after_failure(&many, t0()));
        }
        assert_eq!(
            PER_ACCOUNT.blocked_for(&many, t0()),
            None,
            "successes never lock"
        );
    }

    #[test]
    fn at_most_the_hourly_cap_is_evaluated() {
        let policy = ThrottlePolicy {
            free_failures: 1_000,
            ..PER_ACCOUNT
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
}
