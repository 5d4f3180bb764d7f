//! The time, injected, so tests of expiry and lockout move the clock instead of sleeping.

use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use chrono::{DateTime, Duration, Utc};

/// Where the service reads the time.
pub trait Clock: Send + Sync + 'static {
    /// Now, in UTC.
    fn now(&self) -> DateTime<Utc>;
}

/// The system clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// The system clock shifted by an offset that tests can move forward.
#[derive(Debug, Default)]
pub struct ShiftedClock {
    offset_ms: AtomicI64,
}

impl ShiftedClock {
    /// A clock that starts at the real time.
    pub fn new() -> Arc<Self> {
        Arc::new(ShiftedClock::default())
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.num_milliseconds(), Ordering::SeqCst);
    }
}

impl Clock for ShiftedClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now() + Duration::milliseconds(self.offset_ms.load(Ordering::SeqCst))
    }
}

/// The calendar date in mainland China (UTC+8, no daylight saving) at `now`. Card validity,
/// serial years, review deadlines and ages follow the date in Beijing, not in UTC.
pub fn china_date(now: DateTime<Utc>) -> chrono::NaiveDate {
    (now + Duration::hours(8)).date_naive()
}

/// The clock shared by the application.
pub type SharedClock = Arc<dyn Clock>;
