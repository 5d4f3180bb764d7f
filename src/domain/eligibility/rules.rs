//! Rules as data: a small JSON language over typed facts, and its checked parser.
//!
//! ```json
//! { "parameters": { "average_wage_cny": 110000 },
//!   "requirements": [ { "name": "employer_in_area", "description": "…",
//!                       "when": { "fact": "employer.district", "op": "in", "value": ["xiongan"] } } ],
//!   "tiers": [ { "tier": "A", "rules": [ { "name": "academician", "description": "…",
//!                "when": { "any": [ { "honour": { "kind": "academician_cas" } },
//!                                   { "honour": { "kind": "academician_cae" } } ] } } ] } ] }
//! ```
//! A condition is `all`, `any`, `not`, a comparison `{fact, op, value}` or an honour test
//! `{honour: {kind, min_level?, max_rank?}}`. Every mistake is reported with its path, such as
//! `tiers[0].rules[2].when.all[1].value`.

use serde_json::Value;

use super::facts::{Degree, HonourKind, Level, Skill, Title};
use crate::domain::free_text::{self, TextRule};

/// A numeric fact.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberFact {
    /// Whole years on the evaluation date.
    Age,
    /// Granted invention patents.
    InventionPatents,
    /// Annual salary, CNY.
    AnnualSalary,
    /// Income tax, CNY.
    IncomeTax,
    /// Annual salary divided by the rule set's `average_wage_cny`.
    SalaryMultiple,
    /// Months a year in the district (0 when not given).
    MonthsInDistrict,
    /// Number of honours.
    Honours,
}

/// A fact whose values are ordered levels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelFact {
    /// Degree, by [`Degree`]'s order.
    Degree(Degree),
    /// Title, by [`Title`]'s order.
    Title(Title),
    /// Skill, by [`Skill`]'s order.
    Skill(Skill),
}

/// A text fact compared by membership.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFact {
    /// ISO code.
    Nationality,
    /// District code.
    EmployerDistrict,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `>=`
    AtLeast,
    /// `>`
    Above,
    /// `<=`
    AtMost,
    /// `<`
    Below,
    /// `==`
    Equal,
}

/// One condition of a rule.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every one holds.
    All(Vec<Condition>),
    /// At least one holds.
    Any(Vec<Condition>),
    /// It does not hold.
    Not(Box<Condition>),
    /// A numeric comparison.
    Number {
        /// Which fact.
        fact: NumberFact,
        /// How to compare.
        op: Op,
        /// With what.
        value: f64,
    },
    /// A level comparison: the fact's level against `value` (the same kind of level).
    Level {
        /// Which fact, carrying the level to compare with.
        value: LevelFact,
        /// How to compare.
        op: Op,
    },
    /// The text fact is one of `values`.
    OneOf {
        /// Which fact.
        fact: TextFact,
        /// Accepted values.
        values: Vec<String>,
    },
    /// Some honour of `kind`, at `min_level` or above, ranked `max_rank` or better.
    Honour {
        /// The kind.
        kind: HonourKind,
        /// Lowest level accepted.
        min_level: Option<Level>,
        /// Worst rank accepted (1 is best).
        max_rank: Option<u32>,
    },
}

/// A named rule, explained in words.
#[derive(Debug, Clone, PartialEq)]
pub struct Rule {
    /// Stable name, e.g. `doctorate_under_45`.
    pub name: String,
    /// What it means, for people.
    pub description: String,
    /// When it holds.
    pub when: Condition,
}

/// The rules that grant one tier: any one of them suffices.
#[derive(Debug, Clone, PartialEq)]
pub struct TierRules {
    /// Tier code.
    pub tier: String,
    /// Alternatives.
    pub rules: Vec<Rule>,
}

/// A whole rule set: requirements every applicant meets, then tiers from highest to lowest.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleSet {
    /// The regional average annual wage, CNY, that salary multiples are taken of.
    pub average_wage_cny: f64,
    /// All must hold to be eligible at all.
    pub requirements: Vec<Rule>,
    /// In the order given (highest tier first).
    pub tiers: Vec<TierRules>,
}

/// One mistake in a rule document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleSetError {
    /// Where, e.g. `tiers[0].rules[1].when.fact`.
    pub path: String,
    /// What is wrong.
    pub message: String,
}

const MAX_DEPTH: usize = 12;

struct Parser<'a> {
    tiers: &'a [&'a str],
    errors: Vec<RuleSetError>,
    /// Whether rule names and descriptions are held to the free-text rules (a new document),
    /// or only trimmed (a stored version, accepted when it was published).
    check_text: bool,
}

impl Parser<'_> {
    fn error(&mut self, path: &str, message: impl Into<String>) {
        self.errors.push(RuleSetError {
            path: path.to_owned(),
            message: message.into(),
        });
    }

    fn object<'v>(
        &mut self,
        value: &'v Value,
        path: &str,
        allowed: &[&str],
    ) -> Option<&'v serde_json::Map<String, Value>> {
        let Some(object) = value.as_object() else {
            self.error(path, "must be an object");
            return None;
        };
        for key in object.keys().filter(|k| !allowed.contains(&k.as_str())) {
            self.error(
                &format!("{path}.{key}"),
                format!("unknown key; expected one of {}", allowed.join(", ")),
            );
        }
        Some(object)
    }

    fn text(
        &mut self,
        object: &serde_json::Map<String, Value>,
        key: &str,
        path: &str,
    ) -> Option<String> {
        match object.get(key).and_then(Value::as_str) {
            Some(text) if !text.trim().is_empty() => Some(text.to_owned()),
            _ => {
                self.error(&format!("{path}.{key}"), "must be a non-empty string");
                None
            }
        }
    }

    /// A rule's name or description: trimmed, and in a new document checked by `rule`.
    fn free_text(
        &mut self,
        object: &serde_json::Map<String, Value>,
        key: &str,
        path: &str,
        rule: TextRule,
    ) -> Option<String> {
        let field = format!("{path}.{key}");
        let Some(text) = object
            .get(key)
            .and_then(Value::as_str)
            .filter(|t| !t.trim().is_empty())
        else {
            self.error(&field, "must be a non-empty string");
            return None;
        };
        if !self.check_text {
            return Some(text.trim().to_owned());
        }
        rule.required(text)
            .map_err(|e| self.error(&field, e.to_string()))
            .ok()
    }

    fn rules(&mut self, value: Option<&Value>, path: &str) -> Vec<Rule> {
        let Some(items) = value.and_then(Value::as_array) else {
            self.error(path, "must be an array of rules");
            return Vec::new();
        };
        items
            .iter()
            .enumerate()
            .filter_map(|(i, item)| self.rule(item, &format!("{path}[{i}]")))
            .collect()
    }

    fn rule(&mut self, value: &Value, path: &str) -> Option<Rule> {
        let object = self.object(value, path, &["name", "description", "when"])?;
        let name = self.free_text(object, "name", path, free_text::NAME);
        let description = self.free_text(object, "description", path, free_text::COMMENT);
        let when = match object.get("when") {
            Some(when) => self.condition(when, &format!("{path}.when"), 0),
            None => {
                self.error(&format!("{path}.when"), "is required");
                None
            }
        };
        Some(Rule {
            name: name?,
            description: description?,
            when: when?,
        })
    }

    fn condition(&mut self, value: &Value, path: &str, depth: usize) -> Option<Condition> {
        if depth > MAX_DEPTH {
            self.error(path, format!("conditions nest at most {MAX_DEPTH} deep"));
            return None;
        }
        let object = value.as_object();
        let single = object
            .filter(|o| o.len() == 1)
            .and_then(|o| o.iter().next());
        match single {
            Some((key, inner)) if key == "all" || key == "any" => {
                let conditions = self.list(inner, &format!("{path}.{key}"), depth)?;
                Some(if key == "all" {
                    Condition::All(conditions)
                } else {
                    Condition::Any(conditions)
                })
            }
            Some((key, inner)) if key == "not" => {
                let inner = self.condition(inner, &format!("{path}.not"), depth + 1)?;
                Some(Condition::Not(Box::new(inner)))
            }
            Some((key, inner)) if key == "honour" => self.honour(inner, &format!("{path}.honour")),
            _ if object.is_some_and(|o| o.contains_key("fact")) => self.comparison(value, path),
            _ => {
                self.error(
                    path,
                    "must be one of {all}, {any}, {not}, {honour}, or {fact, op, value}",
                );
                None
            }
        }
    }

    fn list(&mut self, value: &Value, path: &str, depth: usize) -> Option<Vec<Condition>> {
        let Some(items) = value.as_array().filter(|items| !items.is_empty()) else {
            self.error(path, "must be a non-empty array of conditions");
            return None;
        };
        let parsed: Vec<Option<Condition>> = items
            .iter()
            .enumerate()
            .map(|(i, item)| self.condition(item, &format!("{path}[{i}]"), depth + 1))
            .collect();
        parsed.into_iter().collect()
    }

    fn honour(&mut self, value: &Value, path: &str) -> Option<Condition> {
        let object = self.object(value, path, &["kind", "min_level", "max_rank"])?;
        let kind = match object
            .get("kind")
            .map(|k| serde_json::from_value::<HonourKind>(k.clone()))
        {
            Some(Ok(kind)) => Some(kind),
            _ => {
                self.error(
                    &format!("{path}.kind"),
                    "must be academician_cas, academician_cae, talent_programme or science_award",
                );
                None
            }
        };
        let min_level = match object
            .get("min_level")
            .map(|l| serde_json::from_value::<Level>(l.clone()))
        {
            None => Some(None),
            Some(Ok(level)) => Some(Some(level)),
            Some(Err(_)) => {
                self.error(
                    &format!("{path}.min_level"),
                    "must be municipal, provincial or national",
                );
                None
            }
        };
        let max_rank = match object.get("max_rank") {
            None => Some(None),
            Some(rank) => match rank
                .as_u64()
                .and_then(|r| u32::try_from(r).ok())
                .filter(|r| *r >= 1)
            {
                Some(rank) => Some(Some(rank)),
                None => {
                    self.error(&format!("{path}.max_rank"), "must be a whole number from 1");
                    None
                }
            },
        };
        Some(Condition::Honour {
            kind: kind?,
            min_level: min_level?,
            max_rank: max_rank?,
        })
    }

    fn comparison(&mut self, value: &Value, path: &str) -> Option<Condition> {
        let object = self.object(value, path, &["fact", "op", "value"])?;
        let fact = self.text(object, "fact", path)?;
        let op_text = self.text(object, "op", path)?;
        let Some(operand) = object.get("value") else {
            self.error(&format!("{path}.value"), "is required");
            return None;
        };
        let op_path = format!("{path}.op");
        let value_path = format!("{path}.value");
        let number_fact = match fact.as_str() {
            "age" => Some(NumberFact::Age),
            "invention_patents" => Some(NumberFact::InventionPatents),
            "annual_salary_cny" => Some(NumberFact::AnnualSalary),
            "income_tax_cny" => Some(NumberFact::IncomeTax),
            "salary_multiple" => Some(NumberFact::SalaryMultiple),
            "months_in_district" => Some(NumberFact::MonthsInDistrict),
            "honours" => Some(NumberFact::Honours),
            _ => None,
        };
        if let Some(fact) = number_fact {
            let op = self.order_op(&op_text, &op_path)?;
            let Some(value) = operand.as_f64().filter(|v| v.is_finite() && *v >= 0.0) else {
                self.error(&value_path, "must be a non-negative number for this fact");
                return None;
            };
            return Some(Condition::Number { fact, op, value });
        }
        let level = |value: &Value| -> Option<LevelFact> {
            let parsed = match fact.as_str() {
                "highest_degree" => LevelFact::Degree(serde_json::from_value(value.clone()).ok()?),
                "professional_title" => {
                    LevelFact::Title(serde_json::from_value(value.clone()).ok()?)
                }
                "skill_level" => LevelFact::Skill(serde_json::from_value(value.clone()).ok()?),
                _ => return None,
            };
            Some(parsed)
        };
        if matches!(
            fact.as_str(),
            "highest_degree" | "professional_title" | "skill_level"
        ) {
            let op = self.order_op(&op_text, &op_path)?;
            let Some(value) = level(operand) else {
                self.error(&value_path, format!("is not a level of {fact}"));
                return None;
            };
            return Some(Condition::Level { value, op });
        }
        let text_fact = match fact.as_str() {
            "nationality" => TextFact::Nationality,
            "employer.district" => TextFact::EmployerDistrict,
            _ => {
                self.error(&format!("{path}.fact"), format!("unknown fact `{fact}`"));
                return None;
            }
        };
        if op_text != "in" {
            self.error(&op_path, format!("`{fact}` takes the operator `in`"));
            return None;
        }
        let values: Option<Vec<String>> = operand
            .as_array()
            .filter(|a| !a.is_empty())
            .and_then(|a| a.iter().map(|v| v.as_str().map(str::to_owned)).collect());
        let Some(values) = values else {
            self.error(&value_path, "must be a non-empty array of strings");
            return None;
        };
        Some(Condition::OneOf {
            fact: text_fact,
            values,
        })
    }

    fn order_op(&mut self, op: &str, path: &str) -> Option<Op> {
        let parsed = match op {
            ">=" => Op::AtLeast,
            ">" => Op::Above,
            "<=" => Op::AtMost,
            "<" => Op::Below,
            "==" => Op::Equal,
            _ => {
                self.error(
                    path,
                    format!("unknown operator `{op}`; expected >=, >, <=, < or =="),
                );
                return None;
            }
        };
        Some(parsed)
    }
}

/// Parses and checks a stored rule document against the scheme's tier codes (highest first).
/// Either the rule set, or every mistake found with its path. Rule names and descriptions are
/// trimmed but not held to the free-text rules, so a version published before those rules
/// existed still evaluates; a document about to be published goes through
/// [`parse_new_rule_set`].
pub fn parse_rule_set(
    document: &Value,
    scheme_tiers: &[&str],
) -> Result<RuleSet, Vec<RuleSetError>> {
    parse(document, scheme_tiers, false)
}

/// Parses and checks a rule document an administrator publishes: everything
/// [`parse_rule_set`] checks, and each rule's name by the rule for names and its description by
/// the rule for comments (they are shown to every applicant in the evaluation's trace).
pub fn parse_new_rule_set(
    document: &Value,
    scheme_tiers: &[&str],
) -> Result<RuleSet, Vec<RuleSetError>> {
    parse(document, scheme_tiers, true)
}

fn parse(
    document: &Value,
    scheme_tiers: &[&str],
    check_text: bool,
) -> Result<RuleSet, Vec<RuleSetError>> {
    let mut parser = Parser {
        tiers: scheme_tiers,
        errors: Vec::new(),
        check_text,
    };
    let Some(root) = parser.object(document, "rules", &["parameters", "requirements", "tiers"])
    else {
        return Err(parser.errors);
    };
    let average_wage = root
        .get("parameters")
        .and_then(|p| p.get("average_wage_cny"))
        .and_then(Value::as_f64)
        .filter(|w| w.is_finite() && *w > 0.0);
    if average_wage.is_none() {
        parser.error(
            "rules.parameters.average_wage_cny",
            "must be a positive number",
        );
    }
    let requirements = match root.get("requirements") {
        None => Vec::new(),
        some => parser.rules(some, "rules.requirements"),
    };
    let tiers = parse_tiers(&mut parser, root.get("tiers"));
    match (parser.errors.is_empty(), average_wage) {
        (true, Some(average_wage_cny)) => Ok(RuleSet {
            average_wage_cny,
            requirements,
            tiers,
        }),
        _ => Err(parser.errors),
    }
}

fn parse_tiers(parser: &mut Parser<'_>, value: Option<&Value>) -> Vec<TierRules> {
    let Some(items) = value.and_then(Value::as_array).filter(|a| !a.is_empty()) else {
        parser.error("rules.tiers", "must be a non-empty array");
        return Vec::new();
    };
    let mut tiers: Vec<TierRules> = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = format!("rules.tiers[{i}]");
        let Some(object) = parser.object(item, &path, &["tier", "rules"]) else {
            continue;
        };
        let Some(tier) = parser.text(object, "tier", &path) else {
            continue;
        };
        if !parser.tiers.contains(&tier.as_str()) {
            let known = parser.tiers.join(", ");
            parser.error(
                &format!("{path}.tier"),
                format!("`{tier}` is not a tier of this scheme ({known})"),
            );
        } else if tiers.iter().any(|t| t.tier == tier) {
            parser.error(
                &format!("{path}.tier"),
                format!("tier `{tier}` appears twice"),
            );
        }
        let rules = parser.rules(object.get("rules"), &format!("{path}.rules"));
        if rules.is_empty() {
            parser.error(&format!("{path}.rules"), "a tier needs at least one rule");
        }
        tiers.push(TierRules { tier, rules });
    }
    // Evaluate from the highest tier down, whatever order the document used.
    let rank = |code: &str| {
        parser
            .tiers
            .iter()
            .position(|t| *t == code)
            .unwrap_or(usize::MAX)
    };
    tiers.sort_by_key(|t| rank(&t.tier));
    tiers
}
