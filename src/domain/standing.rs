//! A card's standing where it is presented: its live status, the tier it counts as in a
//! district, and the entitlements there with their quota used and left. One pure computation
//! from the card's facts, the rules in force and the holder's uses, shared by partner
//! verification, redemptions and the holder's own view, so the three can never disagree; the
//! offline verifier speaks the same status vocabulary.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use super::card_status::{CardStatus, ListEntry};
use super::recognition::{EntitlementRule, Period, Presentation, RecognitionRule, local_tier};

/// Every answer a check of a card can give about its status, online or offline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// In force and within its validity: the only status that counts anywhere.
    Active,
    /// Suspended by its issuer (or reported lost); may come back.
    Suspended,
    /// Withdrawn for good.
    Revoked,
    /// Past its last day.
    Expired,
    /// Presented before its validity began (offline, a credential's `nbf`).
    NotYetValid,
    /// No card has that number.
    Unknown,
    /// The presented material vouches for nothing (a bad signature, a withdrawn key, a
    /// credential that is not the one on record).
    Untrusted,
}

impl Status {
    /// The word the online API answers.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Revoked => "revoked",
            Status::Expired => "expired",
            Status::NotYetValid => "not_yet_valid",
            Status::Unknown => "unknown",
            Status::Untrusted => "untrusted",
        }
    }

    /// The word the offline verifier answers: its verdict is about a credential and its
    /// status-list entry, where the IETF list's own name for the in-force entry is `valid`.
    /// Every other word is the online one.
    pub fn offline_word(self) -> &'static str {
        match self {
            Status::Active => "valid",
            other => other.as_str(),
        }
    }

    /// What a status-list entry says of a credential within its validity.
    pub fn of_entry(entry: ListEntry) -> Status {
        match entry {
            ListEntry::Valid => Status::Active,
            ListEntry::Revoked => Status::Revoked,
            ListEntry::Suspended => Status::Suspended,
        }
    }

    /// A card's status on `today`: past its last day it is expired whatever was stored,
    /// unless revoked (revocation is final and says more).
    pub fn live(stored: CardStatus, valid_until: NaiveDate, today: NaiveDate) -> Status {
        match stored {
            CardStatus::Revoked => Status::Revoked,
            _ if valid_until < today => Status::Expired,
            CardStatus::Active => Status::Active,
            CardStatus::Suspended => Status::Suspended,
        }
    }
}

/// The recognition and entitlement rules in force on a day, with their versions (the policy
/// cache keeps a copy exactly while these versions are the ones in force).
#[derive(Debug, Default)]
pub struct Policies {
    /// The recognition version (`None`: none published).
    pub recognitions_version: Option<i32>,
    /// The entitlement version.
    pub entitlements_version: Option<i32>,
    /// Recognition rules.
    pub recognitions: Vec<RecognitionRule>,
    /// Entitlement rules.
    pub entitlements: Vec<EntitlementRule>,
}

impl Policies {
    /// Every district some entitlement rule names, sorted, once each.
    pub fn districts(&self) -> Vec<&str> {
        let mut districts: Vec<&str> = self
            .entitlements
            .iter()
            .map(|r| r.district.as_str())
            .collect();
        districts.sort_unstable();
        districts.dedup();
        districts
    }

    /// Whether some rule in `district` lets a bare card number redeem `service` (otherwise a
    /// redemption by number is refused before the number is even looked up).
    pub fn number_may_redeem(&self, district: &str, service: &str) -> bool {
        self.entitlements.iter().any(|r| {
            r.district == district
                && r.service == service
                && r.presentation == Presentation::NotRequired
        })
    }
}

/// What a card's standing depends on: facts of the card, not its row.
#[derive(Debug, Clone, Copy)]
pub struct CardFacts<'a> {
    /// The stored status.
    pub status: CardStatus,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// Scheme code.
    pub scheme: &'a str,
    /// The card's own tier.
    pub tier: &'a str,
    /// The district of the card's issuer.
    pub issuer_district: &'a str,
}

/// A holder's uses, counted per holder and scheme (renewals share them), reversed ones left
/// out: (district, service, period key) → count.
#[derive(Debug, Default, Clone)]
pub struct Uses(HashMap<(String, String, String), i64>);

impl Uses {
    /// Counts `n` uses of `service` in `district` during `period`.
    pub fn add(&mut self, district: &str, service: &str, period: &str, n: i64) {
        *self
            .0
            .entry((district.to_owned(), service.to_owned(), period.to_owned()))
            .or_default() += n;
    }

    /// The uses of `service` in `district` during `period`.
    pub fn of(&self, district: &str, service: &str, period: &str) -> i64 {
        self.0
            .get(&(district.to_owned(), service.to_owned(), period.to_owned()))
            .copied()
            .unwrap_or(0)
    }
}

/// One entitlement with its use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntitlementUse {
    /// Service category code.
    pub service: String,
    /// `year`, `month`, `lifetime` or `unlimited`.
    pub period: Period,
    /// The period spans this many years or months.
    pub every: u32,
    /// Uses per period (`null`: unlimited).
    pub quota: Option<u32>,
    /// Used in the current period.
    pub used: i64,
    /// Left in the current period (`null`: unlimited).
    pub remaining: Option<i64>,
    /// Whether a redemption needs the card presented (`presentation_id`) or a number suffices.
    pub presentation: Presentation,
    /// The current period's key, under which a redemption is counted (never answered).
    #[serde(skip)]
    pub period_key: String,
}

impl EntitlementUse {
    /// Whether one more use fits in the current period.
    pub fn available(&self) -> bool {
        self.remaining.is_none_or(|left| left > 0)
    }
}

/// A card's standing in one district.
#[derive(Debug, Clone)]
pub struct Standing {
    /// The live status.
    pub status: Status,
    /// The tier the card counts as there; only for an active card recognised there.
    pub local_tier: Option<String>,
    /// The entitlements of that tier there (only the services asked for), with use.
    pub entitlements: Vec<EntitlementUse>,
}

impl Standing {
    /// Whether the card counts at all.
    pub fn valid(&self) -> bool {
        self.status == Status::Active
    }
}

/// The card's standing in `district` on `today`, with the entitlements of `services` only
/// when given (an agency sees only its own services).
pub fn standing_in(
    policies: &Policies,
    card: &CardFacts<'_>,
    district: &str,
    services: Option<&[String]>,
    uses: &Uses,
    today: NaiveDate,
) -> Standing {
    let status = Status::live(card.status, card.valid_until, today);
    let local_tier = (status == Status::Active)
        .then(|| {
            local_tier(
                &policies.recognitions,
                card.scheme,
                card.tier,
                district,
                card.issuer_district,
            )
        })
        .flatten();
    let entitlements = local_tier
        .as_deref()
        .map(|tier| entitlements(policies, tier, district, services, uses, today))
        .unwrap_or_default();
    Standing {
        status,
        local_tier,
        entitlements,
    }
}

/// The card's standing in every district that recognises it (for the holder), sorted by
/// district; empty unless the card is active.
pub fn standing_everywhere(
    policies: &Policies,
    card: &CardFacts<'_>,
    uses: &Uses,
    today: NaiveDate,
) -> Vec<(String, Standing)> {
    policies
        .districts()
        .into_iter()
        .map(|district| {
            let standing = standing_in(policies, card, district, None, uses, today);
            (district.to_owned(), standing)
        })
        .filter(|(_, standing)| standing.local_tier.is_some())
        .collect()
}

fn entitlements(
    policies: &Policies,
    local_tier: &str,
    district: &str,
    services: Option<&[String]>,
    uses: &Uses,
    today: NaiveDate,
) -> Vec<EntitlementUse> {
    policies
        .entitlements
        .iter()
        .filter(|r| r.local_tier == local_tier && r.district == district)
        .filter(|r| services.is_none_or(|offered| offered.contains(&r.service)))
        .map(|rule| {
            // An unlimited entitlement shows no use; its redemptions are kept under `unlimited`.
            let (period_key, used) = match rule.period_key(today) {
                Some(key) => {
                    let used = uses.of(district, &rule.service, &key);
                    (key, used)
                }
                None => ("unlimited".to_owned(), 0),
            };
            EntitlementUse {
                service: rule.service.clone(),
                period: rule.period,
                every: rule.every,
                quota: rule.quota,
                used,
                remaining: rule.quota.map(|q| (i64::from(q) - used).max(0)),
                presentation: rule.presentation,
                period_key,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap_or_default()
    }

    fn entitlement(
        district: &str,
        tier: &str,
        service: &str,
        quota: Option<u32>,
    ) -> EntitlementRule {
        EntitlementRule {
            local_tier: tier.into(),
            district: district.into(),
            service: service.into(),
            quota,
            period: if quota.is_some() {
                Period::Year
            } else {
                Period::Unlimited
            },
            every: 1,
            presentation: Presentation::Required,
        }
    }

    fn policies() -> Policies {
        Policies {
            recognitions: vec![RecognitionRule {
                scheme: "XIONGCAI".into(),
                tier: "A".into(),
                district: "BJ-TZ".into(),
                local_tier: "B".into(),
            }],
            entitlements: vec![
                entitlement("BJ-TZ", "B", "medical", Some(2)),
                entitlement("BJ-TZ", "B", "transport", None),
                entitlement("HE-XA", "A", "medical", Some(4)),
            ],
            ..Policies::default()
        }
    }

    fn card(status: CardStatus) -> CardFacts<'static> {
        CardFacts {
            status,
            valid_until: day("2027-06-30"),
            scheme: "XIONGCAI",
            tier: "A",
            issuer_district: "HE-XA",
        }
    }

    #[test]
    fn live_status_follows_the_stored_status_and_the_last_day() {
        let last = day("2027-06-30");
        assert_ne!(last, NaiveDate::default(), "the test's dates parse");
        let live = |s, today| Status::live(s, last, day(today));
        assert_eq!(live(CardStatus::Active, "2027-06-30"), Status::Active);
        assert_eq!(live(CardStatus::Active, "2027-07-01"), Status::Expired);
        assert_eq!(live(CardStatus::Suspended, "2027-01-01"), Status::Suspended);
        assert_eq!(live(CardStatus::Suspended, "2027-07-01"), Status::Expired);
        assert_eq!(live(CardStatus::Revoked, "2027-07-01"), Status::Revoked);
    }

    #[test]
    fn an_active_card_counts_with_its_local_tier_and_quota_left() {
        let mut uses = Uses::default();
        uses.add("BJ-TZ", "medical", "2026", 1);
        uses.add("HE-XA", "medical", "2026", 3);
        let s = standing_in(
            &policies(),
            &card(CardStatus::Active),
            "BJ-TZ",
            None,
            &uses,
            day("2026-12-01"),
        );
        assert!(s.valid());
        assert_eq!(s.local_tier.as_deref(), Some("B"));
        let medical = &s.entitlements[0];
        assert_eq!(
            (medical.used, medical.remaining, medical.available()),
            (1, Some(1), true)
        );
        assert_eq!(s.entitlements[1].remaining, None);
        assert_eq!(s.entitlements[1].period_key, "unlimited");
    }

    #[test]
    fn an_agency_sees_only_its_own_services() {
        let offered = vec!["transport".to_owned()];
        let s = standing_in(
            &policies(),
            &card(CardStatus::Active),
            "BJ-TZ",
            Some(&offered),
            &Uses::default(),
            day("2026-12-01"),
        );
        let services: Vec<_> = s.entitlements.iter().map(|e| e.service.as_str()).collect();
        assert_eq!(services, ["transport"]);
    }

    #[test]
    fn a_card_that_is_not_active_counts_nowhere() {
        for status in [CardStatus::Suspended, CardStatus::Revoked] {
            let s = standing_in(
                &policies(),
                &card(status),
                "BJ-TZ",
                None,
                &Uses::default(),
                day("2026-12-01"),
            );
            assert!(!s.valid());
            assert!(s.local_tier.is_none() && s.entitlements.is_empty());
        }
        let expired = standing_everywhere(
            &policies(),
            &card(CardStatus::Active),
            &Uses::default(),
            day("2027-07-01"),
        );
        assert!(expired.is_empty());
    }

    #[test]
    fn everywhere_lists_each_recognising_district_once_in_order() {
        let mut uses = Uses::default();
        uses.add("HE-XA", "medical", "2026", 4);
        let all = standing_everywhere(
            &policies(),
            &card(CardStatus::Active),
            &uses,
            day("2026-12-01"),
        );
        let districts: Vec<_> = all
            .iter()
            .map(|(d, s)| (d.as_str(), s.local_tier.clone()))
            .collect();
        assert_eq!(
            districts,
            [
                ("BJ-TZ", Some("B".to_owned())),
                ("HE-XA", Some("A".to_owned()))
            ]
        );
        let home = &all[1].1.entitlements[0];
        assert_eq!((home.remaining, home.available()), (Some(0), false));
    }

    #[test]
    fn redeeming_by_number_is_a_rule_of_the_district_and_service() {
        let mut p = policies();
        assert!(!p.number_may_redeem("BJ-TZ", "transport"));
        p.entitlements[1].presentation = Presentation::NotRequired;
        assert!(p.number_may_redeem("BJ-TZ", "transport"));
        assert!(!p.number_may_redeem("HE-XA", "transport"));
    }

    #[test]
    fn one_vocabulary_online_and_offline() {
        assert_eq!(Status::of_entry(ListEntry::Valid).offline_word(), "valid");
        assert_eq!(Status::of_entry(ListEntry::Valid).as_str(), "active");
        assert_eq!(
            Status::of_entry(ListEntry::Suspended).offline_word(),
            "suspended"
        );
        assert_eq!(Status::Untrusted.offline_word(), Status::Untrusted.as_str());
    }
}
