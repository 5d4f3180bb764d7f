//! Mutual recognition and entitlements as data, evaluated purely: what a card of scheme S and
//! tier T counts as in district D, and what that local tier may use there, per period.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

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
    /// The quota period `on` falls in, counted from the card's first valid day for multi-year
    /// periods; `None` for unlimited entitlements.
    pub fn period_key(&self, on: NaiveDate, valid_from: NaiveDate) -> Option<String> {
        let every = i32::try_from(self.every.max(1)).unwrap_or(1);
        match self.period {
            Period::Unlimited => None,
            Period::Lifetime => Some("lifetime".to_owned()),
            Period::Year if every == 1 => Some(on.year().to_string()),
            Period::Year => Some(format!(
                "y{}",
                (on.year() - valid_from.year()).div_euclid(every)
            )),
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
        };
        let from = d(2026, 3, 1);
        assert_eq!(
            e.period_key(d(2026, 12, 31), from),
            e.period_key(d(2027, 5, 1), from),
            "two years share a quota"
        );
        assert_ne!(
            e.period_key(d(2027, 5, 1), from),
            e.period_key(d(2028, 5, 1), from)
        );
        e.every = 1;
        assert_eq!(e.period_key(d(2026, 5, 1), from).as_deref(), Some("2026"));
        e.period = Period::Unlimited;
        assert_eq!(e.period_key(d(2026, 5, 1), from), None);
        e.period = Period::Month;
        assert_ne!(
            e.period_key(d(2026, 5, 31), from),
            e.period_key(d(2026, 6, 1), from)
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
