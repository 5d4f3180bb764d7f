//! Evaluating a rule set against facts, with a trace in words a talent understands.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::facts::{Facts, HonourKind, Level};
use super::rules::{Condition, LevelFact, NumberFact, Op, Rule, RuleSet, TextFact};

/// One rule's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct TraceEntry {
    /// The rule's name.
    pub rule: String,
    /// The tier it grants, or `null` for a requirement every applicant must meet.
    pub tier: Option<String>,
    /// Whether it held.
    pub matched: bool,
    /// Why, one sentence per condition.
    pub reasons: Vec<String>,
}

/// The engine's answer.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Evaluation {
    /// Every requirement holds and some tier's rule does.
    pub eligible: bool,
    /// The highest tier with a rule that holds (when eligible).
    pub tier: Option<String>,
    /// Every requirement and rule, in order: requirements, then tiers from the highest.
    pub trace: Vec<TraceEntry>,
}

/// Evaluates `rules` for `facts` on the date `on`. Every rule is evaluated and explained, so the
/// trace shows what would be needed for a higher tier too.
pub fn evaluate(rules: &RuleSet, facts: &Facts, on: NaiveDate) -> Evaluation {
    let context = Context {
        facts,
        on,
        average_wage: rules.average_wage_cny,
    };
    let mut trace = Vec::new();
    let mut requirements_met = true;
    for rule in &rules.requirements {
        let entry = context.entry(rule, None);
        requirements_met &= entry.matched;
        trace.push(entry);
    }
    let mut tier = None;
    for tier_rules in &rules.tiers {
        for rule in &tier_rules.rules {
            let entry = context.entry(rule, Some(&tier_rules.tier));
            if entry.matched && tier.is_none() {
                tier = Some(tier_rules.tier.clone());
            }
            trace.push(entry);
        }
    }
    let eligible = requirements_met && tier.is_some();
    Evaluation {
        eligible,
        tier: tier.filter(|_| eligible),
        trace,
    }
}

struct Context<'a> {
    facts: &'a Facts,
    on: NaiveDate,
    average_wage: f64,
}

impl Context<'_> {
    fn entry(&self, rule: &Rule, tier: Option<&String>) -> TraceEntry {
        let mut reasons = Vec::new();
        let matched = self.holds(&rule.when, &mut reasons);
        reasons.insert(0, format!("{}: {}", rule.description, verdict(matched)));
        TraceEntry {
            rule: rule.name.clone(),
            tier: tier.cloned(),
            matched,
            reasons,
        }
    }

    fn holds(&self, condition: &Condition, reasons: &mut Vec<String>) -> bool {
        match condition {
            // Every branch is evaluated, not short-circuited, so every reason is explained.
            Condition::All(all) => {
                let mut every = true;
                for c in all {
                    every &= self.holds(c, reasons);
                }
                every
            }
            Condition::Any(any) => {
                let mut some = false;
                for c in any {
                    some |= self.holds(c, reasons);
                }
                some
            }
            Condition::Not(inner) => {
                let mut inner_reasons = Vec::new();
                let held = self.holds(inner, &mut inner_reasons);
                reasons.extend(
                    inner_reasons
                        .into_iter()
                        .map(|r| format!("must not hold: {r}")),
                );
                !held
            }
            Condition::Number { fact, op, value } => {
                let (actual, sentence) = self.number(*fact);
                let ok = compare(actual, *op, *value);
                reasons.push(format!(
                    "{sentence}; required: {} {}: {}",
                    op_words(*op),
                    number_text(*value),
                    verdict(ok)
                ));
                ok
            }
            Condition::Level { value, op } => {
                let (actual, wanted, what) = self.level(*value);
                let ok = compare(f64::from(actual.0), *op, f64::from(wanted.0));
                reasons.push(format!(
                    "your {what} is {}; required: {} {}: {}",
                    actual.1,
                    op_words(*op),
                    wanted.1,
                    verdict(ok)
                ));
                ok
            }
            Condition::OneOf { fact, values } => {
                let (actual, what) = match fact {
                    TextFact::Nationality => (self.facts.nationality.as_str(), "your nationality"),
                    TextFact::EmployerDistrict => (
                        self.facts.employer.district.as_str(),
                        "your employer's district",
                    ),
                };
                let ok = values.iter().any(|v| v == actual);
                reasons.push(format!(
                    "{what} is {actual}; required: one of {}: {}",
                    values.join(", "),
                    verdict(ok)
                ));
                ok
            }
            Condition::Honour {
                kind,
                min_level,
                max_rank,
            } => {
                let ok = self.facts.honours.iter().any(|h| {
                    h.kind == *kind
                        && min_level.is_none_or(|min| h.level >= min)
                        && max_rank.is_none_or(|max| h.rank.is_some_and(|r| r <= max))
                });
                let level = min_level
                    .map(|l| format!(" of {} level or higher", level_words(l)))
                    .unwrap_or_default();
                let rank = max_rank
                    .map(|r| format!(", ranked {r} or better"))
                    .unwrap_or_default();
                let found = if ok { "you have one" } else { "you have none" };
                reasons.push(format!(
                    "required: {}{level}{rank}; {found}: {}",
                    honour_words(*kind),
                    verdict(ok)
                ));
                ok
            }
        }
    }

    fn number(&self, fact: NumberFact) -> (f64, String) {
        let f = self.facts;
        match fact {
            NumberFact::Age => {
                let age = self.facts.age_on(self.on);
                (
                    age as f64,
                    format!("you are {age} years old on {}", self.on),
                )
            }
            NumberFact::InventionPatents => (
                f64::from(f.invention_patents),
                format!("you hold {} granted invention patents", f.invention_patents),
            ),
            NumberFact::AnnualSalary => (
                f.annual_salary_cny as f64,
                format!("your annual salary is CNY {}", f.annual_salary_cny),
            ),
            NumberFact::IncomeTax => (
                f.income_tax_cny as f64,
                format!("you paid CNY {} income tax", f.income_tax_cny),
            ),
            NumberFact::SalaryMultiple => {
                let multiple = f.annual_salary_cny as f64 / self.average_wage;
                let text = format!(
                    "your salary is {} times the regional average wage of CNY {}",
                    number_text((multiple * 100.0).floor() / 100.0),
                    number_text(self.average_wage)
                );
                (multiple, text)
            }
            NumberFact::MonthsInDistrict => {
                let months = f.months_in_district.unwrap_or(0);
                (
                    f64::from(months),
                    format!("you spend {months} months a year in the district"),
                )
            }
            NumberFact::Honours => (
                f.honours.len() as f64,
                format!("you list {} honours", f.honours.len()),
            ),
        }
    }

    /// (actual (rank, words), wanted (rank, words), what).
    fn level(&self, wanted: LevelFact) -> ((u8, String), (u8, String), &'static str) {
        let words = |v: &dyn erased::Named| (v.rank(), v.words());
        match wanted {
            LevelFact::Degree(w) => (
                words(&self.facts.highest_degree),
                words(&w),
                "highest degree",
            ),
            LevelFact::Title(w) => (
                words(&self.facts.professional_title),
                words(&w),
                "professional title",
            ),
            LevelFact::Skill(w) => (words(&self.facts.skill_level), words(&w), "skill level"),
        }
    }
}

/// Ordered levels with words for people.
mod erased {
    use super::super::facts::{Degree, Skill, Title};

    pub trait Named {
        fn rank(&self) -> u8;
        fn words(&self) -> String;
    }

    fn snake_words<T: serde::Serialize>(value: &T) -> String {
        serde_json::to_value(value)
            .ok()
            .and_then(|v| v.as_str().map(|s| s.replace('_', " ")))
            .unwrap_or_default()
    }

    macro_rules! named {
        ($t:ty) => {
            impl Named for $t {
                fn rank(&self) -> u8 {
                    *self as u8
                }
                fn words(&self) -> String {
                    snake_words(self)
                }
            }
        };
    }

    named!(Degree);
    named!(Title);
    named!(Skill);
}

fn compare(actual: f64, op: Op, wanted: f64) -> bool {
    // Salary multiples are ratios of whole yuan; a tiny epsilon keeps "exactly 6x" at 6x.
    const EPSILON: f64 = 1e-9;
    match op {
        Op::AtLeast => actual + EPSILON >= wanted,
        Op::Above => actual > wanted + EPSILON,
        Op::AtMost => actual <= wanted + EPSILON,
        Op::Below => actual + EPSILON < wanted,
        Op::Equal => (actual - wanted).abs() <= EPSILON,
    }
}

fn op_words(op: Op) -> &'static str {
    match op {
        Op::AtLeast => "at least",
        Op::Above => "more than",
        Op::AtMost => "at most",
        Op::Below => "less than",
        Op::Equal => "exactly",
    }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "not met" }
}

fn number_text(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value:.2}")
    }
}

fn level_words(level: Level) -> &'static str {
    match level {
        Level::Municipal => "municipal",
        Level::Provincial => "provincial or ministerial",
        Level::National => "national",
    }
}

fn honour_words(kind: HonourKind) -> &'static str {
    match kind {
        HonourKind::AcademicianCas => "membership of the Chinese Academy of Sciences",
        HonourKind::AcademicianCae => "membership of the Chinese Academy of Engineering",
        HonourKind::TalentProgramme => "a talent programme",
        HonourKind::ScienceAward => "a science and technology award",
    }
}
