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
use super::dependants::{CardKind, Relation};
use super::recognition::{
    EntitlementRule, HolderBinding, Period, Presentation, RecognitionRule, local_tier,
};

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
    /// A presentation whose key-binding JWT does not prove the holder here and now (a wrong
    /// signature, audience, `sd_hash`, a stale `iat`, an unknown nonce, or a key the holder
    /// has replaced).
    HolderBindingFailed,
    /// A single-use nonce or dynamic code shown a second time.
    Replayed,
    /// A dynamic code shown after its `expires_at`.
    CodeExpired,
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
            Status::HolderBindingFailed => "holder_binding_failed",
            Status::Replayed => "replayed",
            Status::CodeExpired => "code_expired",
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
    /// unless revoked (revocation is final and says more); before its first day (a renewal
    /// issued ahead, valid from the day after the card it renews ends) it is not yet valid, so
    /// the two never count on the same day.
    pub fn live(
        stored: CardStatus,
        valid_from: NaiveDate,
        valid_until: NaiveDate,
        today: NaiveDate,
    ) -> Status {
        match stored {
            CardStatus::Revoked => Status::Revoked,
            _ if valid_until < today => Status::Expired,
            _ if today < valid_from => Status::NotYetValid,
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

    /// Whether an answer in `district` about `services` shows any use: some rule there for one
    /// of them counts its uses per period. When none does, a check need not read the holder's
    /// redemptions at all.
    pub fn counts_uses(&self, district: &str, services: &[String]) -> bool {
        self.entitlements.iter().any(|r| {
            r.district == district && r.period != Period::Unlimited && services.contains(&r.service)
        })
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
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// Scheme code.
    pub scheme: &'a str,
    /// The card's own tier.
    pub tier: &'a str,
    /// The district of the card's issuer.
    pub issuer_district: &'a str,
    /// `principal` or `dependant`: which entitlement rules serve it.
    pub kind: CardKind,
    /// A dependant card's relation (rules may serve children only).
    pub relation: Option<Relation>,
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
    /// Whether the presentation a redemption names must be holder-bound.
    pub holder_binding: HolderBinding,
    /// The current period's key, under which a redemption is counted (never answered).
    #[serde(skip)]
    pub period_key: String,
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
    let status = Status::live(card.status, card.valid_from, card.valid_until, today);
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
        .map(|tier| {
            let wanted = Wanted {
                local_tier: tier,
                district,
                services,
                kind: card.kind,
                relation: card.relation,
            };
            entitlements(policies, &wanted, uses, today)
        })
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

/// Which rules apply: the local tier and district, the services asked for, and whose card.
struct Wanted<'a> {
    local_tier: &'a str,
    district: &'a str,
    services: Option<&'a [String]>,
    kind: CardKind,
    relation: Option<Relation>,
}

fn entitlements(
    policies: &Policies,
    wanted: &Wanted<'_>,
    uses: &Uses,
    today: NaiveDate,
) -> Vec<EntitlementUse> {
    let district = wanted.district;
    policies
        .entitlements
        .iter()
        .filter(|r| r.local_tier == wanted.local_tier && r.district == district)
        .filter(|r| r.serves(wanted.kind, wanted.relation))
        .filter(|r| {
            wanted
                .services
                .is_none_or(|offered| offered.contains(&r.service))
        })
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
                holder_binding: rule.holder_binding,
                period_key,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests;
