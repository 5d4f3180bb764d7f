//! Mutual recognition and entitlements as data, evaluated purely: what a card of scheme S and
//! tier T counts as in district D, and what that local tier may use there, per period.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::dependants::{CardKind, Relation};

/// A card of `scheme`/`tier` counts in `district` as `local_tier`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecognitionRule {
    /// Scheme code.
    pub scheme: String,
    /// The card's tier.
    pub tier: String,
    /// District code.
    pub district: String,
    /// The tier it counts as there.
    pub local_tier: String,
}

/// How often a quota refills.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Period {
    /// Per calendar year (Beijing).
    Year,
    /// Per calendar month.
    Month,
    /// Once for the card's life.
    Lifetime,
    /// No quota.
    Unlimited,
}

/// Whether a redemption needs the card itself shown (a verification by credential, whose
/// `presentation_id` the redemption names), or may name the card by its number.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Presentation {
    /// The card must have been presented to this agency in the last 10 minutes: a number
    /// alone (which anyone may have read or guessed) never uses a quota.
    #[default]
    Required,
    /// The number is enough: for services given where no card can be shown.
    NotRequired,
}

/// Whether a redemption needs proof that the presenter holds the card: a presentation signed by
/// the holder's wallet key, or a single-use dynamic code. A photo of the static QR code passes
/// a check by credential, so a service worth stealing says `required`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum HolderBinding {
    /// The `presentation_id` must be of a holder-bound verification (`holder_bound: true`).
    Required,
    /// Any presentation will do (the default: partners switch a service over by publishing a
    /// new entitlements version, once their counters can scan dynamic codes or wallets).
    #[default]
    Optional,
}

/// What a local tier may use in a district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EntitlementRule {
    /// Local tier.
    pub local_tier: String,
    /// District code.
    pub district: String,
    /// Service category code.
    pub service: String,
    /// Uses per period (`null` when unlimited).
    #[serde(default)]
    pub quota: Option<u32>,
    /// The period.
    pub period: Period,
    /// The period spans this many years or months (recuperation: one every 2 years).
    #[serde(default = "one")]
    pub every: u32,
    /// Whether a redemption needs the card presented (the default) or a number suffices.
    #[serde(default)]
    pub presentation: Presentation,
    /// Whether that presentation must prove the holder (`optional` by default).
    #[serde(default)]
    pub holder_binding: HolderBinding,
    /// Whose cards the rule serves: `principal` (the default: the talent's own) or
    /// `dependant` (family members' cards, 附属卡).
    #[serde(default)]
    pub holder_kind: CardKind,
    /// For `holder_kind: "dependant"`, only these relations (e.g. schooling for `child`);
    /// absent: every relation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relations: Option<Vec<Relation>>,
}

fn one() -> u32 {
    1
}

/// The tier a card counts as in `district`: its own tier in its issuer's district, otherwise
/// what the rules say; `None` when it is not recognised there.
pub fn local_tier(
    rules: &[RecognitionRule],
    scheme: &str,
    tier: &str,
    district: &str,
    issuer_district: &str,
) -> Option<String> {
    if district == issuer_district {
        return Some(tier.to_owned());
    }
    rules
        .iter()
        .find(|r| r.scheme == scheme && r.tier == tier && r.district == district)
        .map(|r| r.local_tier.clone())
}

impl EntitlementRule {
    /// Whether the rule serves a card of `kind` (and, for a dependant, `relation`).
    pub fn serves(&self, kind: CardKind, relation: Option<Relation>) -> bool {
        self.holder_kind == kind
            && match (&self.relations, kind) {
                (Some(allowed), CardKind::Dependant) => {
                    relation.is_some_and(|r| allowed.contains(&r))
                }
                _ => true,
            }
    }

    /// The quota period `on` falls in; `None` for unlimited entitlements. Periods are on the
    /// calendar, never counted from a card's first day: quotas belong to the holder and carry
    /// over to a renewed or upgraded card, which must not open a fresh period. A block of
    /// `every` years is keyed by its first year (`y2026` covers 2026 and 2027 when `every` is 2).
    pub fn period_key(&self, on: NaiveDate) -> Option<String> {
        let every = i32::try_from(self.every.max(1)).unwrap_or(1);
        match self.period {
            Period::Unlimited => None,
            Period::Lifetime => Some("lifetime".to_owned()),
            Period::Year if every == 1 => Some(on.year().to_string()),
            Period::Year => Some(format!("y{}", on.year().div_euclid(every) * every)),
            Period::Month => {
                let months = on.year() * 12 + i32::try_from(on.month0()).unwrap_or(0);
                Some(format!("m{}", months.div_euclid(every)))
            }
        }
    }
}

/// The holder's name as an agency sees it: first and last character, the rest starred
/// (`张三明` → `张*明`, `张三` → `张*`).
pub fn mask_name(name: &str) -> String {
    let chars: Vec<char> = name.trim().chars().collect();
    match chars.len() {
        0 => String::new(),
        1 => "*".to_owned(),
        2 => format!("{}*", chars[0]),
        n => format!("{}{}{}", chars[0], "*".repeat(n - 2), chars[n - 1]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(scheme: &str, tier: &str, district: &str) -> RecognitionRule {
        RecognitionRule {
            scheme: scheme.into(),
            tier: tier.into(),
            district: district.into(),
            local_tier: tier.into(),
        }
    }

    #[test]
    fn own_district_always_then_the_rules() {
        let rules = [rule("TWL", "A", "tongzhou")];
        assert_eq!(
            local_tier(&rules, "TWL", "A", "langfang", "langfang").as_deref(),
            Some("A")
        );
        assert_eq!(
            local_tier(&rules, "TWL", "A", "tongzhou", "langfang").as_deref(),
            Some("A")
        );
        assert_eq!(local_tier(&rules, "TWL", "A", "tangshan", "langfang"), None);
        assert_eq!(local_tier(&rules, "TWL", "B", "tongzhou", "langfang"), None);
    }

    #[test]
    fn period_keys() {
        let d = |y, m, day| NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default();
        let mut e = EntitlementRule {
            local_tier: "A".into(),
            district: "tongzhou".into(),
            service: "recuperation".into(),
            quota: Some(1),
            period: Period::Year,
            every: 2,
            presentation: Presentation::Required,
            holder_binding: HolderBinding::Optional,
            holder_kind: CardKind::Principal,
            relations: None,
        };
        assert_eq!(
            e.period_key(d(2026, 1, 1)),
            e.period_key(d(2027, 12, 31)),
            "two calendar years share a quota"
        );
        assert_eq!(e.period_key(d(2026, 5, 1)).as_deref(), Some("y2026"));
        assert_ne!(e.period_key(d(2027, 5, 1)), e.period_key(d(2028, 5, 1)));
        assert_ne!(e.period_key(d(2025, 12, 31)), e.period_key(d(2026, 1, 1)));
        // Whatever card the holder shows, a day falls in the same block: a renewal in 2027 of
        // a card from 2026 does not open a new one.
        e.every = 3;
        assert_eq!(e.period_key(d(2027, 6, 1)).as_deref(), Some("y2025"));
        assert_eq!(e.period_key(d(2025, 1, 1)), e.period_key(d(2027, 12, 31)));
        e.every = 1;
        assert_eq!(e.period_key(d(2026, 5, 1)).as_deref(), Some("2026"));
        assert!(e.serves(CardKind::Principal, None));
        assert!(!e.serves(CardKind::Dependant, Some(Relation::Child)));
        e.holder_kind = CardKind::Dependant;
        e.relations = Some(vec![Relation::Child]);
        assert!(e.serves(CardKind::Dependant, Some(Relation::Child)));
        assert!(!e.serves(CardKind::Dependant, Some(Relation::Spouse)));
        assert!(!e.serves(CardKind::Principal, None));
        e.period = Period::Lifetime;
        assert_eq!(e.period_key(d(2030, 5, 1)).as_deref(), Some("lifetime"));
        e.period = Period::Unlimited;
        assert_eq!(e.period_key(d(2026, 5, 1)), None);
        e.period = Period::Month;
        assert_ne!(e.period_key(d(2026, 5, 31)), e.period_key(d(2026, 6, 1)));
    }

    #[test]
    fn presentation_is_required_unless_a_rule_says_otherwise() {
        let rule: EntitlementRule = serde_json::from_value(serde_json::json!({
            "local_tier": "A", "district": "tongzhou", "service": "tourism_pass", "period": "unlimited"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rule.presentation, Presentation::Required);
        let rule: EntitlementRule = serde_json::from_value(serde_json::json!({
            "local_tier": "A", "district": "tongzhou", "service": "tourism_pass",
            "period": "unlimited", "presentation": "not_required"
        }))
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rule.presentation, Presentation::NotRequired);
        assert!(
            serde_json::from_value::<EntitlementRule>(serde_json::json!({
                "local_tier": "A", "district": "tongzhou", "service": "tourism_pass",
                "period": "unlimited", "presentation": "sometimes"
            }))
            .is_err()
        );
    }

    #[test]
    fn names_are_masked() {
        assert_eq!(mask_name("张三明"), "张*明");
        assert_eq!(mask_name("张三"), "张*");
        assert_eq!(mask_name("欧阳娜娜"), "欧**娜");
        assert_eq!(mask_name("Li Ming"), "L*****g");
    }
}
