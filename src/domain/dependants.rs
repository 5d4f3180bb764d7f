//! Dependant cards (附属卡) as rules: which tiers of a scheme may add dependants, which relations,
//! how young a child must be and how many live dependant cards a principal card may carry. The
//! policy is scheme data (`dependant_policies`, versioned like the rule sets); this module only
//! decides, so the HTTP and SQL layers stay thin.

use chrono::{Datelike, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How a dependant is related to the principal card's holder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Husband or wife.
    Spouse,
    /// A child (the default policy: under 18 on the day of the request).
    Child,
    /// Father or mother.
    Parent,
}

impl Relation {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Relation::Spouse => "spouse",
            Relation::Child => "child",
            Relation::Parent => "parent",
        }
    }

    /// The relation a stored name stands for.
    pub fn parse(stored: &str) -> Option<Relation> {
        [Relation::Spouse, Relation::Child, Relation::Parent]
            .into_iter()
            .find(|r| r.as_str() == stored)
    }
}

/// What a card is: the holder's own (`principal`) or a family member's (`dependant`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CardKind {
    /// The talent's own card.
    #[default]
    Principal,
    /// A family member's card, living and dying with its principal card.
    Dependant,
}

impl CardKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            CardKind::Principal => "principal",
            CardKind::Dependant => "dependant",
        }
    }

    /// The kind a stored name stands for (anything else is a principal card, the default).
    pub fn parse(stored: &str) -> CardKind {
        if stored == CardKind::Dependant.as_str() {
            CardKind::Dependant
        } else {
            CardKind::Principal
        }
    }
}

/// A scheme's dependant policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DependantPolicy {
    /// Tiers whose holders may add dependants.
    pub tiers: Vec<String>,
    /// Relations allowed.
    pub relations: Vec<Relation>,
    /// A child must be younger than this (whole years) on the day of the request.
    pub child_age_below: u32,
    /// Most live dependant cards (and pending dependant applications) on one principal card.
    pub max_live: u32,
}

impl Default for DependantPolicy {
    /// The default of every shipped scheme: tier A; spouse, child under 18, parent; six.
    fn default() -> Self {
        DependantPolicy {
            tiers: vec!["A".to_owned()],
            relations: vec![Relation::Spouse, Relation::Child, Relation::Parent],
            child_age_below: 18,
            max_live: 6,
        }
    }
}

/// Why a dependant request is refused: the field at fault and a message (422).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The request field the refusal is about.
    pub field: &'static str,
    /// What is wrong.
    pub message: String,
}

/// Whole years of age on `on` (0 for a birth date after `on`).
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> u32 {
    let years = on.year() - birth.year();
    let before_birthday = (on.month(), on.day()) < (birth.month(), birth.day());
    u32::try_from(years - i32::from(before_birthday)).unwrap_or(0)
}

/// A request for a dependant of `relation` born on `birth` on a principal card of `tier` that
/// already carries `live` dependant cards or pending requests, on `today`.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The principal card's tier.
    pub tier: &'a str,
    /// The relation asked for.
    pub relation: Relation,
    /// The dependant's birth date.
    pub birth_date: NaiveDate,
    /// Live dependant cards and pending dependant applications of the principal card.
    pub live: u32,
    /// The day of the request (Beijing).
    pub today: NaiveDate,
}

impl DependantPolicy {
    /// Whether the policy allows the request; the first refusal otherwise.
    pub fn check(&self, request: &Request<'_>) -> Result<(), Refusal> {
        let refuse = |field, message: String| Err(Refusal { field, message });
        if !self.tiers.iter().any(|t| t == request.tier) {
            return refuse(
                "card",
                format!("a tier {} card may not add dependants", request.tier),
            );
        }
        if !self.relations.contains(&request.relation) {
            return refuse(
                "relation",
                format!(
                    "{} is not a relation this scheme allows",
                    request.relation.as_str()
                ),
            );
        }
        if request.birth_date > request.today {
            return refuse("birth_date", "is in the future".to_owned());
        }
        if request.relation == Relation::Child
            && age_on(request.birth_date, request.today) >= self.child_age_below
        {
            return refuse(
                "birth_date",
                format!("a child must be under {}", self.child_age_below),
            );
        }
        if request.live >= self.max_live {
            return refuse(
                "card",
                format!("a card carries at most {} dependants", self.max_live),
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn request(tier: &str, relation: Relation, birth: NaiveDate, live: u32) -> Request<'_> {
        Request {
            tier,
            relation,
            birth_date: birth,
            live,
            today: d(2026, 12, 14),
        }
    }

    #[test]
    fn the_default_allows_tier_a_family_up_to_six() {
        let p = DependantPolicy::default();
        assert_eq!(
            p.check(&request("A", Relation::Spouse, d(1990, 1, 1), 0)),
            Ok(())
        );
        assert_eq!(
            p.check(&request("A", Relation::Parent, d(1950, 1, 1), 5)),
            Ok(())
        );
        assert_eq!(
            p.check(&request("A", Relation::Child, d(2008, 12, 15), 0)),
            Ok(())
        );
        let refused = |r: Request<'_>| p.check(&r).err().map(|e| e.field);
        assert_eq!(
            refused(request("B", Relation::Spouse, d(1990, 1, 1), 0)),
            Some("card")
        );
        assert_eq!(
            refused(request("A", Relation::Spouse, d(1990, 1, 1), 6)),
            Some("card")
        );
        // 18 on the day of the request is too old; the day before the 18th birthday is not.
        assert_eq!(
            refused(request("A", Relation::Child, d(2008, 12, 14), 0)),
            Some("birth_date")
        );
        assert_eq!(
            refused(request("A", Relation::Child, d(2027, 1, 1), 0)),
            Some("birth_date")
        );
    }

    #[test]
    fn a_relation_outside_the_policy_is_refused_and_names_round_trip() {
        let p = DependantPolicy {
            relations: vec![Relation::Spouse],
            ..DependantPolicy::default()
        };
        let refusal = p.check(&request("A", Relation::Parent, d(1950, 1, 1), 0));
        assert_eq!(refusal.err().map(|e| e.field), Some("relation"));
        for r in [Relation::Spouse, Relation::Child, Relation::Parent] {
            assert_eq!(Relation::parse(r.as_str()), Some(r));
        }
        assert_eq!(CardKind::parse("dependant"), CardKind::Dependant);
        assert_eq!(CardKind::parse("principal"), CardKind::Principal);
        assert_eq!(age_on(d(2000, 2, 29), d(2018, 2, 28)), 17);
        assert_eq!(age_on(d(2000, 2, 29), d(2018, 3, 1)), 18);
    }
}
