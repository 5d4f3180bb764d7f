//! The standing's rules, each with the card facts that exercise it.

use super::*;

fn day(s: &str) -> NaiveDate {
    s.parse().unwrap_or_default()
}

fn entitlement(district: &str, tier: &str, service: &str, quota: Option<u32>) -> EntitlementRule {
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
        holder_binding: HolderBinding::Optional,
        holder_kind: CardKind::Principal,
        relations: None,
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
        valid_from: day("2025-07-01"),
        valid_until: day("2027-06-30"),
        scheme: "XIONGCAI",
        tier: "A",
        issuer_district: "HE-XA",
        kind: CardKind::Principal,
        relation: None,
    }
}

#[test]
fn live_status_follows_the_stored_status_and_the_last_day() {
    let last = day("2027-06-30");
    assert_ne!(last, NaiveDate::default(), "the test's dates parse");
    let first = day("2025-07-01");
    let live = |s, today| Status::live(s, first, last, day(today));
    assert_eq!(live(CardStatus::Active, "2025-06-30"), Status::NotYetValid);
    assert_eq!(live(CardStatus::Active, "2025-07-01"), Status::Active);
    assert_eq!(live(CardStatus::Revoked, "2025-06-30"), Status::Revoked);
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
        (medical.used, medical.remaining, medical.remaining > Some(0)),
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
    assert_eq!((home.remaining, home.remaining > Some(0)), (Some(0), false));
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
