//! Facts are the JSON body of every application (`POST /applications`, `PUT …/facts`), so they
//! come straight from applicants. Deserialising must refuse bad input without panicking, the
//! checks in `problems` and `age_on` must cope with any date serde accepts (years far in the
//! past or future included), and the shipped schemes must evaluate any facts that parse.
#![no_main]

use std::sync::OnceLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use talentcard::domain::eligibility::{Facts, RuleSet, evaluate, parse_rule_set};

/// The shipped scheme files, embedded so the target needs no working directory.
const SCHEMES: [(&str, &str); 3] = [
    (
        include_str!("../../config/schemes/xiongan.toml"),
        include_str!("../../config/schemes/xiongan.rules.json"),
    ),
    (
        include_str!("../../config/schemes/tbt.toml"),
        include_str!("../../config/schemes/tbt.rules.json"),
    ),
    (
        include_str!("../../config/schemes/twl.toml"),
        include_str!("../../config/schemes/twl.rules.json"),
    ),
];

/// The shipped rule sets, parsed with their own scheme's tier codes as the service loads them.
fn schemes() -> &'static [RuleSet] {
    static RULES: OnceLock<Vec<RuleSet>> = OnceLock::new();
    RULES.get_or_init(|| {
        SCHEMES
            .iter()
            .map(|(scheme, rules)| {
                let scheme: toml::Table = toml::from_str(scheme).expect("a shipped scheme");
                let tiers: Vec<&str> = scheme["tiers"]
                    .as_array()
                    .expect("tiers")
                    .iter()
                    .filter_map(|t| t.get("code")?.as_str())
                    .collect();
                let rules = serde_json::from_str(rules).expect("shipped rules are JSON");
                parse_rule_set(&rules, &tiers).expect("shipped rules parse")
            })
            .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(facts) = serde_json::from_slice::<Facts>(data) else {
        return;
    };
    // What we store is what we read back.
    let stored = serde_json::to_value(&facts).expect("facts serialise");
    let read_back: Facts = serde_json::from_value(stored).expect("stored facts deserialise");
    assert_eq!(read_back, facts);

    let days = [
        NaiveDate::from_ymd_opt(2026, 11, 28),
        Some(NaiveDate::MIN),
        Some(NaiveDate::MAX),
        Some(facts.birth_date),
    ];
    for today in days.into_iter().flatten() {
        let problems = facts.problems(today);
        let age = facts.age_on(today);
        // An application without problems is from someone born after 1900 and at least 16.
        if problems.is_empty() {
            assert!(age >= 16, "{age} on {today}");
            assert!(facts.birth_date <= today);
        }
        for rules in schemes() {
            let evaluation = evaluate(rules, &facts, today);
            assert_eq!(evaluation.eligible, evaluation.tier.is_some());
        }
    }
});
