//! The default XIONGAN criteria at their boundaries, the rule language's refusals, and
//! properties of the engine.

use chrono::NaiveDate;
use proptest::prelude::*;
use serde_json::{Value, json};

use super::facts::{Degree, Employer, Facts, Honour, HonourKind, Level, Skill, Title};
use super::{RuleSet, evaluate, parse_new_rule_set, parse_rule_set};

const TIERS: [&str; 3] = ["A", "B", "C"];

fn xiongan() -> RuleSet {
    let document: Value =
        serde_json::from_str(include_str!("../../../config/schemes/xiongan.rules.json"))
            .unwrap_or_default();
    parse_rule_set(&document, &TIERS).unwrap_or_else(|e| panic!("default rules must parse: {e:?}"))
}

fn on() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 28).unwrap_or_default()
}

/// Someone who qualifies for nothing: a bachelor of 40 in Xiong'an.
fn base() -> Facts {
    Facts {
        birth_date: NaiveDate::from_ymd_opt(1986, 1, 1).unwrap_or_default(),
        nationality: "CN".into(),
        highest_degree: Degree::Bachelor,
        professional_title: Title::Intermediate,
        skill_level: Skill::None,
        honours: vec![],
        invention_patents: 0,
        annual_salary_cny: 200_000,
        income_tax_cny: 20_000,
        employer: Employer {
            name: "雄安科技".into(),
            credit_code: "91130600MA0D123455".into(),
            district: "xiongan".into(),
        },
        months_in_district: Some(12),
    }
}

fn tier(facts: &Facts) -> Option<String> {
    evaluate(&xiongan(), facts, on()).tier
}

fn born_years_before(years: i32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026 - years, 11, 28).unwrap_or_default()
}

#[test]
fn nothing_matches_the_base_case() {
    let result = evaluate(&xiongan(), &base(), on());
    assert!(!result.eligible);
    assert_eq!(result.tier, None);
    assert!(
        result
            .trace
            .iter()
            .any(|t| t.rule == "employer_in_area" && t.matched)
    );
}

#[test]
fn doctorate_at_45_is_b_and_at_46_is_not() {
    let mut facts = Facts {
        highest_degree: Degree::Doctorate,
        ..base()
    };
    facts.birth_date = born_years_before(45);
    assert_eq!(tier(&facts).as_deref(), Some("B"), "45 today");
    facts.birth_date = born_years_before(46);
    assert_eq!(
        tier(&facts),
        None,
        "46 today: too old for B, and C's degree rule stops at 35"
    );
}

#[test]
fn salary_exactly_six_times_with_the_tax_is_a() {
    let facts = Facts {
        annual_salary_cny: 600_000,
        income_tax_cny: 120_000,
        ..base()
    };
    assert_eq!(tier(&facts).as_deref(), Some("A"));
    let below = Facts {
        annual_salary_cny: 599_999,
        income_tax_cny: 120_000,
        ..base()
    };
    assert_ne!(tier(&below).as_deref(), Some("A"));
    let low_tax = Facts {
        annual_salary_cny: 600_000,
        income_tax_cny: 119_999,
        ..base()
    };
    assert_ne!(tier(&low_tax).as_deref(), Some("A"));
}

#[test]
fn three_patents_are_b_and_two_are_not() {
    assert_eq!(
        tier(&Facts {
            invention_patents: 3,
            ..base()
        })
        .as_deref(),
        Some("B")
    );
    assert_eq!(
        tier(&Facts {
            invention_patents: 2,
            ..base()
        }),
        None
    );
}

#[test]
fn every_other_default_criterion() {
    let honour = |kind, level| Facts {
        honours: vec![Honour {
            kind,
            level,
            rank: Some(1),
        }],
        ..base()
    };
    let cases = [
        (
            honour(HonourKind::AcademicianCas, Level::National),
            Some("A"),
        ),
        (
            honour(HonourKind::AcademicianCae, Level::National),
            Some("A"),
        ),
        (
            honour(HonourKind::TalentProgramme, Level::National),
            Some("A"),
        ),
        (
            honour(HonourKind::TalentProgramme, Level::Provincial),
            Some("B"),
        ),
        (honour(HonourKind::TalentProgramme, Level::Municipal), None),
        (
            honour(HonourKind::ScienceAward, Level::Provincial),
            Some("B"),
        ),
        (honour(HonourKind::ScienceAward, Level::Municipal), None),
        (
            Facts {
                professional_title: Title::FullSenior,
                ..base()
            },
            Some("B"),
        ),
        (
            Facts {
                professional_title: Title::AssociateSenior,
                ..base()
            },
            Some("C"),
        ),
        (
            Facts {
                skill_level: Skill::SeniorTechnician,
                ..base()
            },
            Some("C"),
        ),
        (
            Facts {
                skill_level: Skill::Technician,
                ..base()
            },
            None,
        ),
        (
            Facts {
                highest_degree: Degree::Master,
                birth_date: born_years_before(35),
                ..base()
            },
            Some("C"),
        ),
        (
            Facts {
                highest_degree: Degree::Master,
                birth_date: born_years_before(36),
                ..base()
            },
            None,
        ),
    ];
    for (facts, expected) in cases {
        assert_eq!(tier(&facts).as_deref(), expected, "{facts:?}");
    }
}

#[test]
fn an_employer_outside_the_area_is_not_eligible_whatever_else() {
    let mut facts = Facts {
        invention_patents: 10,
        ..base()
    };
    facts.employer.district = "tongzhou".into();
    let result = evaluate(&xiongan(), &facts, on());
    assert!(!result.eligible);
    assert_eq!(result.tier, None);
    let requirement = result.trace.iter().find(|t| t.rule == "employer_in_area");
    assert!(
        requirement.is_some_and(|t| !t.matched && t.reasons.iter().any(|r| r.contains("tongzhou")))
    );
}

#[test]
fn reasons_are_sentences_with_the_numbers() {
    let facts = Facts {
        highest_degree: Degree::Doctorate,
        birth_date: born_years_before(46),
        ..base()
    };
    let result = evaluate(&xiongan(), &facts, on());
    let doctorate = result.trace.iter().find(|t| t.rule == "doctorate_up_to_45");
    let reasons = doctorate.map(|t| t.reasons.join(" | ")).unwrap_or_default();
    assert!(
        reasons.contains("you are 46 years old on 2026-11-28; required: at most 45: not met"),
        "{reasons}"
    );
    assert!(
        reasons.contains("your highest degree is doctorate; required: at least doctorate: met"),
        "{reasons}"
    );
}

fn refused(document: Value) -> Vec<(String, String)> {
    parse_rule_set(&document, &TIERS)
        .err()
        .unwrap_or_default()
        .into_iter()
        .map(|e| (e.path, e.message))
        .collect()
}

fn with_condition(when: Value) -> Value {
    json!({ "parameters": { "average_wage_cny": 1 }, "tiers": [
        { "tier": "A", "rules": [ { "name": "r", "description": "d", "when": { "all": [ { "fact": "age", "op": "<=", "value": 45 }, when ] } } ] }
    ] })
}

#[test]
fn mistakes_are_refused_with_their_path() {
    let path = "rules.tiers[0].rules[0].when.all[1]";
    let cases = [
        (
            json!({ "fact": "shoe_size", "op": ">=", "value": 1 }),
            format!("{path}.fact"),
        ),
        (
            json!({ "fact": "age", "op": "=~", "value": 1 }),
            format!("{path}.op"),
        ),
        (
            json!({ "fact": "age", "op": ">=", "value": "old" }),
            format!("{path}.value"),
        ),
        (
            json!({ "fact": "highest_degree", "op": ">=", "value": 3 }),
            format!("{path}.value"),
        ),
        (
            json!({ "fact": "employer.district", "op": ">=", "value": ["x"] }),
            format!("{path}.op"),
        ),
        (
            json!({ "honour": { "kind": "knighthood" } }),
            format!("{path}.honour.kind"),
        ),
        (
            json!({ "honour": { "kind": "science_award", "min_level": "galactic" } }),
            format!("{path}.honour.min_level"),
        ),
        (json!({ "xor": [] }), path.to_owned()),
        (json!({ "any": [] }), format!("{path}.any")),
    ];
    for (condition, expected) in cases {
        let errors = refused(with_condition(condition.clone()));
        assert!(
            errors.iter().any(|(p, _)| *p == expected),
            "{condition}: {errors:?}"
        );
    }
    let unknown_tier = json!({ "parameters": { "average_wage_cny": 1 }, "tiers": [ { "tier": "Z", "rules": [] } ] });
    let errors = refused(unknown_tier);
    assert!(
        errors.iter().any(|(p, _)| p == "rules.tiers[0].tier"),
        "{errors:?}"
    );
    let no_wage = json!({ "tiers": [ { "tier": "A", "rules": [] } ] });
    assert!(
        refused(no_wage)
            .iter()
            .any(|(p, _)| p == "rules.parameters.average_wage_cny")
    );
    let mut deep = json!({ "fact": "age", "op": "<=", "value": 1 });
    for _ in 0..20 {
        deep = json!({ "not": deep });
    }
    assert!(
        !refused(with_condition(deep)).is_empty(),
        "nesting is bounded"
    );
}

fn named(name: &str, description: &str) -> Value {
    json!({ "parameters": { "average_wage_cny": 1 }, "requirements": [
        { "name": name, "description": description, "when": { "fact": "age", "op": "<=", "value": 45 } }
    ], "tiers": [
        { "tier": "A", "rules": [ { "name": "r", "description": "d", "when": { "fact": "age", "op": "<=", "value": 45 } } ] }
    ] })
}

#[test]
fn a_new_document_holds_rule_names_and_descriptions_to_the_free_text_rules() {
    let refused_new = |document: Value| -> Vec<String> {
        parse_new_rule_set(&document, &TIERS)
            .err()
            .unwrap_or_default()
            .into_iter()
            .map(|e| e.path)
            .collect()
    };
    let name = "rules.requirements[0].name";
    let description = "rules.requirements[0].description";
    let long = "字".repeat(2001);
    for (document, path, stored_ok) in [
        (named("a\nb", "d"), name, true),
        (named("a\u{202E}b", "d"), name, true),
        (named(&"n".repeat(201), "d"), name, true),
        (named("n", "red \u{1b}[31m"), description, true),
        (named("n", &long), description, true),
        (named("  ", "d"), name, false),
    ] {
        assert_eq!(
            refused_new(document.clone()),
            vec![path.to_owned()],
            "{document}"
        );
        // A stored version is read as it was accepted when published, only trimmed.
        assert_eq!(
            parse_rule_set(&document, &TIERS).is_ok(),
            stored_ok,
            "{document}"
        );
    }
    let spaced = named("  employer_in_area ", " Works here,\nfull time. ");
    for parsed in [
        parse_new_rule_set(&spaced, &TIERS),
        parse_rule_set(&spaced, &TIERS),
    ] {
        let requirement = parsed.map(|r| r.requirements[0].clone());
        assert_eq!(
            requirement.map(|r| (r.name, r.description)),
            Ok((
                "employer_in_area".to_owned(),
                "Works here,\nfull time.".to_owned()
            ))
        );
    }
}

#[test]
fn the_employer_name_follows_the_rule_for_names_and_is_kept_trimmed() {
    let with_name = |name: &str| Facts {
        employer: Employer {
            name: name.into(),
            ..base().employer
        },
        ..base()
    };
    let fields = |facts: Facts| -> Vec<String> {
        facts
            .problems(on())
            .into_iter()
            .map(|(field, _)| field)
            .collect()
    };
    for bad in [
        "",
        "  ",
        "雄安\n科技",
        "雄安\u{202E}技科",
        &"名".repeat(201),
    ] {
        assert_eq!(fields(with_name(bad)), vec!["employer.name"], "{bad:?}");
    }
    assert!(fields(with_name(" 雄安科技 ")).is_empty());
    assert_eq!(with_name(" 雄安科技 ").trimmed(), base());
    assert_eq!(base().trimmed(), base(), "canonical facts are unchanged");
}

fn arbitrary_facts() -> impl Strategy<Value = Facts> {
    let degree = prop_oneof![
        Just(Degree::None),
        Just(Degree::Associate),
        Just(Degree::Bachelor),
        Just(Degree::Master),
        Just(Degree::Doctorate)
    ];
    let title = prop_oneof![
        Just(Title::None),
        Just(Title::Junior),
        Just(Title::Intermediate),
        Just(Title::AssociateSenior),
        Just(Title::FullSenior)
    ];
    let skill = prop_oneof![
        Just(Skill::None),
        Just(Skill::SeniorWorker),
        Just(Skill::Technician),
        Just(Skill::SeniorTechnician)
    ];
    let honour = (0..4u8, 0..3u8, 1..4u32).prop_map(|(k, l, rank)| Honour {
        kind: [
            HonourKind::AcademicianCas,
            HonourKind::AcademicianCae,
            HonourKind::TalentProgramme,
            HonourKind::ScienceAward,
        ][k as usize],
        level: [Level::Municipal, Level::Provincial, Level::National][l as usize],
        rank: Some(rank),
    });
    (
        degree,
        title,
        skill,
        prop::collection::vec(honour, 0..3),
        0..6u32,
        0..1_000_000u64,
        0..200_000u64,
        20..70i32,
        any::<bool>(),
    )
        .prop_map(
            |(degree, title, skill, honours, patents, salary, tax, age, local)| {
                let mut facts = Facts {
                    birth_date: born_years_before(age),
                    highest_degree: degree,
                    professional_title: title,
                    skill_level: skill,
                    honours,
                    invention_patents: patents,
                    annual_salary_cny: salary,
                    income_tax_cny: tax,
                    ..base()
                };
                if !local {
                    facts.employer.district = "baoding".into();
                }
                facts
            },
        )
}

/// Tier rank: 0 for none, 1 for C … 3 for A.
fn rank(tier: &Option<String>) -> usize {
    tier.as_deref()
        .and_then(|t| TIERS.iter().position(|x| *x == t))
        .map_or(0, |p| TIERS.len() - p)
}

proptest! {
    #[test]
    fn evaluation_is_deterministic(facts in arbitrary_facts()) {
        let rules = xiongan();
        prop_assert_eq!(evaluate(&rules, &facts, on()), evaluate(&rules, &facts, on()));
    }

    #[test]
    fn more_never_lowers_the_tier(facts in arbitrary_facts(), kind in 0..4u8, level in 0..3u8) {
        let rules = xiongan();
        let before = rank(&evaluate(&rules, &facts, on()).tier);
        let mut honoured = facts.clone();
        honoured.honours.push(Honour {
            kind: [HonourKind::AcademicianCas, HonourKind::AcademicianCae, HonourKind::TalentProgramme, HonourKind::ScienceAward][kind as usize],
            level: [Level::Municipal, Level::Provincial, Level::National][level as usize],
            rank: Some(1),
        });
        prop_assert!(rank(&evaluate(&rules, &honoured, on()).tier) >= before);
        let patented = Facts { invention_patents: facts.invention_patents + 1, ..facts.clone() };
        prop_assert!(rank(&evaluate(&rules, &patented, on()).tier) >= before);
        let higher = match facts.highest_degree {
            Degree::None => Degree::Associate,
            Degree::Associate => Degree::Bachelor,
            Degree::Bachelor => Degree::Master,
            Degree::Master | Degree::Doctorate => Degree::Doctorate,
        };
        let degreed = Facts { highest_degree: higher, ..facts };
        prop_assert!(rank(&evaluate(&rules, &degreed, on()).tier) >= before);
    }

    #[test]
    fn the_trace_names_the_rule_that_decided(facts in arbitrary_facts()) {
        let result = evaluate(&xiongan(), &facts, on());
        match &result.tier {
            Some(tier) => prop_assert!(result.trace.iter().any(|t| t.matched && t.tier.as_ref() == Some(tier))),
            None => prop_assert!(result.trace.iter().any(|t| !t.matched)),
        }
        prop_assert!(result.trace.iter().all(|t| !t.reasons.is_empty()));
    }
}
