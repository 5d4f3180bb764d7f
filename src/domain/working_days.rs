//! Working days in mainland China: Monday to Friday, minus public holidays, plus the weekend
//! days the State Council declares make-up working days (调休).

use std::collections::HashSet;

use chrono::{Datelike, Duration, NaiveDate, Weekday};

/// A holiday calendar.
#[derive(Debug, Clone, Default)]
pub struct Calendar {
    holidays: HashSet<NaiveDate>,
    makeup_workdays: HashSet<NaiveDate>,
}

impl Calendar {
    /// A calendar from lists of holidays and make-up working days.
    pub fn new(
        holidays: impl IntoIterator<Item = NaiveDate>,
        makeup_workdays: impl IntoIterator<Item = NaiveDate>,
    ) -> Self {
        Calendar {
            holidays: holidays.into_iter().collect(),
            makeup_workdays: makeup_workdays.into_iter().collect(),
        }
    }

    /// Whether officials work on `day`.
    pub fn is_working_day(&self, day: NaiveDate) -> bool {
        if self.makeup_workdays.contains(&day) {
            return true;
        }
        !matches!(day.weekday(), Weekday::Sat | Weekday::Sun) && !self.holidays.contains(&day)
    }

    /// The day `n` working days after `start` (the day of submission does not count).
    pub fn add_working_days(&self, start: NaiveDate, n: u32) -> NaiveDate {
        let mut day = start;
        let mut left = n;
        // Bounded: even a year of holidays cannot stall this.
        for _ in 0..(n as usize * 7 + 400) {
            if left == 0 {
                break;
            }
            day += Duration::days(1);
            if self.is_working_day(day) {
                left -= 1;
            }
        }
        day
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn weekends_are_skipped() {
        let calendar = Calendar::default();
        assert_eq!(
            calendar.add_working_days(d(2026, 11, 27), 1),
            d(2026, 11, 30),
            "Friday + 1 = Monday"
        );
        assert_eq!(
            calendar.add_working_days(d(2026, 11, 23), 10),
            d(2026, 12, 7)
        );
    }

    #[test]
    fn holidays_are_skipped_and_makeup_saturdays_count() {
        // National Day 2026: 1-7 October off; Saturday 10 October is a make-up working day.
        let holidays = (1..=7).map(|day| d(2026, 10, day));
        let calendar = Calendar::new(holidays, [d(2026, 10, 10)]);
        assert!(!calendar.is_working_day(d(2026, 10, 5)));
        assert!(calendar.is_working_day(d(2026, 10, 10)));
        // Submitted Wednesday 30 September: 1 Oct..7 Oct off, then Thu 8, Fri 9, Sat 10 (make-up).
        assert_eq!(
            calendar.add_working_days(d(2026, 9, 30), 3),
            d(2026, 10, 10)
        );
    }
}
