//! The holder's year as pure rules: when a renewal may be applied for and when the renewed card
//! starts, whether another tier is an upgrade, when a change report is late or its date
//! unacceptable, and which reminders a holder's cards call for. No I/O, so each rule is tested
//! here and the handlers only apply them.

use chrono::{Days, NaiveDate};
use serde::Serialize;
use utoipa::ToSchema;

/// How far back a change may have taken effect (the contract: more than a year back is 422).
pub const CHANGE_LOOKBACK_DAYS: u64 = 366;

/// Days before the end of a card within which the holder is told it expires soon.
pub const EXPIRES_SOON_DAYS: u64 = 30;

/// Where a card stands for its renewal on a day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenewalWindow {
    /// Too early: the window opens on this day.
    NotOpen(NaiveDate),
    /// A renewal may be applied for.
    Open,
    /// The card ended more than a day ago; a new application, not a renewal.
    Closed,
}

/// The first day a renewal of a card ending on `valid_until` may be applied for.
pub fn renewal_opens(valid_until: NaiveDate, window_days: u32) -> NaiveDate {
    valid_until
        .checked_sub_days(Days::new(u64::from(window_days)))
        .unwrap_or(NaiveDate::MIN)
}

/// The last day a renewal may be applied for: the day after the card ends.
pub fn renewal_closes(valid_until: NaiveDate) -> NaiveDate {
    renewed_from(valid_until)
}

/// Whether a renewal of a card ending on `valid_until` may be applied for on `today`.
pub fn renewal_window(valid_until: NaiveDate, window_days: u32, today: NaiveDate) -> RenewalWindow {
    let opens = renewal_opens(valid_until, window_days);
    if today < opens {
        RenewalWindow::NotOpen(opens)
    } else if today > renewal_closes(valid_until) {
        RenewalWindow::Closed
    } else {
        RenewalWindow::Open
    }
}

/// The first day of the card that renews one ending on `valid_until`: the day after, so the
/// two neither leave a gap nor overlap.
pub fn renewed_from(valid_until: NaiveDate) -> NaiveDate {
    valid_until.succ_opt().unwrap_or(valid_until)
}

/// Whether `to` ranks above `from` among `tiers_by_rank` (highest first): an upgrade may be
/// applied for at any time, a renewal (the same tier) only in its window.
pub fn is_upgrade(tiers_by_rank: &[&str], from: &str, to: &str) -> bool {
    let rank = |t: &str| tiers_by_rank.iter().position(|c| *c == t);
    matches!((rank(from), rank(to)), (Some(f), Some(t)) if t < f)
}

/// Why a change's `effective_on` is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectiveOnError {
    /// After today: a change is reported once it has happened.
    InTheFuture,
    /// More than a year back.
    TooOld,
}

impl EffectiveOnError {
    /// The message for the field.
    pub fn message(self) -> &'static str {
        match self {
            EffectiveOnError::InTheFuture => "must not be in the future",
            EffectiveOnError::TooOld => "must be within the last year",
        }
    }
}

/// Checks the day a change took effect. It may precede the card's `valid_from` (a holder who
/// changed employer just before the card arrived still reports it).
pub fn check_effective_on(
    effective_on: NaiveDate,
    today: NaiveDate,
) -> Result<(), EffectiveOnError> {
    if effective_on > today {
        return Err(EffectiveOnError::InTheFuture);
    }
    let oldest = today
        .checked_sub_days(Days::new(CHANGE_LOOKBACK_DAYS - 1))
        .unwrap_or(NaiveDate::MIN);
    if effective_on < oldest {
        return Err(EffectiveOnError::TooOld);
    }
    Ok(())
}

/// The last day a change that took effect on `effective_on` may be reported on time.
pub fn change_report_due(effective_on: NaiveDate, report_days: u32) -> NaiveDate {
    effective_on
        .checked_add_days(Days::new(u64::from(report_days)))
        .unwrap_or(NaiveDate::MAX)
}

/// Whether a change reported on `reported_on` is late: more than `report_days` after it took
/// effect.
pub fn is_late(effective_on: NaiveDate, reported_on: NaiveDate, report_days: u32) -> bool {
    reported_on > change_report_due(effective_on, report_days)
}

/// What a reminder is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// The card may be renewed now; `due_on` is the last day to apply.
    RenewalOpen,
    /// The card ends within 30 days; `due_on` is its last day.
    ExpiresSoon,
    /// A change the holder told the service of (through another application) is to be
    /// reported on this card; `due_on` is the last day to report it on time.
    ChangeReportDue,
}

/// A card as its reminders see it.
#[derive(Debug, Clone, Copy)]
pub struct ReminderCard {
    /// Its last day.
    pub valid_until: NaiveDate,
    /// Whether a renewal (or any other successor) is applied for or issued already.
    pub renewal_pending: bool,
    /// The day a change took effect that the holder has not reported on this card.
    pub unreported_change: Option<NaiveDate>,
}

/// The reminders of one live card on `today`, as (kind, due on).
pub fn reminders(
    card: &ReminderCard,
    window_days: u32,
    report_days: u32,
    today: NaiveDate,
) -> Vec<(ReminderKind, NaiveDate)> {
    let mut out = Vec::new();
    if card.valid_until < today {
        return out;
    }
    if !card.renewal_pending
        && renewal_window(card.valid_until, window_days, today) == RenewalWindow::Open
    {
        out.push((ReminderKind::RenewalOpen, renewal_closes(card.valid_until)));
    }
    let soon = today
        .checked_add_days(Days::new(EXPIRES_SOON_DAYS))
        .unwrap_or(NaiveDate::MAX);
    if card.valid_until <= soon {
        out.push((ReminderKind::ExpiresSoon, card.valid_until));
    }
    if let Some(effective_on) = card.unreported_change {
        out.push((
            ReminderKind::ChangeReportDue,
            change_report_due(effective_on, report_days),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap_or_default()
    }

    #[test]
    fn the_window_opens_60_days_before_the_end_and_closes_the_day_after() {
        let end = day("2027-06-30");
        assert_eq!(renewal_opens(end, 60), day("2027-05-01"));
        assert_eq!(
            renewal_window(end, 60, day("2027-04-30")),
            RenewalWindow::NotOpen(day("2027-05-01"))
        );
        assert_eq!(
            renewal_window(end, 60, day("2027-05-01")),
            RenewalWindow::Open
        );
        assert_eq!(
            renewal_window(end, 60, day("2027-07-01")),
            RenewalWindow::Open
        );
        assert_eq!(
            renewal_window(end, 60, day("2027-07-02")),
            RenewalWindow::Closed
        );
        assert_eq!(renewed_from(end), day("2027-07-01"));
        assert_eq!(renewed_from(day("2028-02-28")), day("2028-02-29"));
    }

    #[test]
    fn only_a_higher_tier_is_an_upgrade() {
        let tiers = ["A", "B", "C"];
        assert!(is_upgrade(&tiers, "C", "B"));
        assert!(is_upgrade(&tiers, "B", "A"));
        assert!(!is_upgrade(&tiers, "B", "B"));
        assert!(!is_upgrade(&tiers, "A", "C"));
        assert!(!is_upgrade(&tiers, "B", "Z"));
    }

    #[test]
    fn effective_on_is_past_and_within_a_year_and_late_after_ten_days() {
        let today = day("2027-03-15");
        assert_eq!(check_effective_on(today, today), Ok(()));
        assert_eq!(
            check_effective_on(day("2027-03-16"), today),
            Err(EffectiveOnError::InTheFuture)
        );
        assert_eq!(check_effective_on(day("2026-03-15"), today), Ok(()));
        assert_eq!(
            check_effective_on(day("2026-03-14"), today),
            Err(EffectiveOnError::TooOld)
        );
        assert!(!is_late(day("2027-03-05"), today, 10));
        assert!(is_late(day("2027-03-04"), today, 10));
        assert_eq!(change_report_due(day("2027-03-05"), 10), today);
    }

    #[test]
    fn reminders_follow_the_window_the_end_and_unreported_changes() {
        let card = |until: &str, pending, change: Option<&str>| ReminderCard {
            valid_until: day(until),
            renewal_pending: pending,
            unreported_change: change.map(day),
        };
        let today = day("2027-06-10");
        let kinds = |c: &ReminderCard| {
            reminders(c, 60, 10, today)
                .into_iter()
                .map(|(k, d)| (k, d.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(kinds(&card("2028-06-30", false, None)), vec![]);
        assert_eq!(
            kinds(&card("2027-07-31", false, None)),
            vec![(ReminderKind::RenewalOpen, "2027-08-01".to_owned())]
        );
        assert_eq!(
            kinds(&card("2027-06-30", false, None)),
            vec![
                (ReminderKind::RenewalOpen, "2027-07-01".to_owned()),
                (ReminderKind::ExpiresSoon, "2027-06-30".to_owned())
            ]
        );
        assert_eq!(
            kinds(&card("2027-06-30", true, Some("2027-06-05"))),
            vec![
                (ReminderKind::ExpiresSoon, "2027-06-30".to_owned()),
                (ReminderKind::ChangeReportDue, "2027-06-15".to_owned())
            ]
        );
        assert_eq!(kinds(&card("2027-06-09", false, None)), vec![]);
    }
}
