//! Rule documents come from administrators through `PUT /admin/schemes/{code}/rules` as JSON,
//! and a mistake there must come back as a list of errors with paths, never a panic that takes
//! the request (or, for the default files, the start) down. When a document parses, the engine
//! runs it over a few fixed applicants, as the service does for every application.
#![no_main]

use std::sync::OnceLock;

use chrono::NaiveDate;
use libfuzzer_sys::fuzz_target;
use serde_json::{Value, json};
use talentcard::domain::eligibility::{Facts, evaluate, parse_rule_set};

const TIERS: [&str; 3] = ["A", "B", "C"];

/// Applicants covering every fact the language can test: none, a strong one, an odd one.
fn applicants() -> &'static [Facts] {
    static FACTS: OnceLock<Vec<Facts>> = OnceLock::new();
    FACTS.get_or_init(|| {
        [
            json!({
                "birth_date": "1986-01-01", "highest_degree": "bachelor",
                "employer": { "name": "雄安科技", "credit_code": "91130600MA0D123455", "district": "xiongan" },
            }),
            json!({
                "birth_date": "1960-02-29", "nationality": "DE", "highest_degree": "doctorate",
                "professional_title": "full_senior", "skill_level": "senior_technician",
                "honours": [
                    { "kind": "academician_cas", "level": "national" },
                    { "kind": "science_award", "level": "provincial", "rank": 1 },
                ],
                "invention_patents": 12, "annual_salary_cny": 18446744073709551615u64,
                "income_tax_cny": 400000, "months_in_district": 12,
                "employer": { "name": "x", "credit_code": "91110000600037341L", "district": "tianjin_binhai" },
            }),
            json!({
                "birth_date": "2026-11-28", "nationality": "", "highest_degree": "none",
                "honours": [{ "kind": "talent_programme", "level": "municipal", "rank": 0 }],
                "months_in_district": 4294967295u32,
                "employer": { "name": "", "credit_code": "", "district": "" },
            }),
        ]
        .into_iter()
        .map(|value| serde_json::from_value(value).expect("a fixed applicant"))
        .collect()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(document) = serde_json::from_slice::<Value>(data) else {
        return;
    };
    match parse_rule_set(&document, &TIERS) {
        Ok(rules) => {
            assert!(rules.average_wage_cny.is_finite() && rules.average_wage_cny > 0.0);
            assert!(!rules.tiers.is_empty());
            let rule_count =
                rules.requirements.len() + rules.tiers.iter().map(|t| t.rules.len()).sum::<usize>();
            for on in [(2026, 11, 28), (1900, 1, 1), (9999, 12, 31)] {
                let on = NaiveDate::from_ymd_opt(on.0, on.1, on.2).expect("a fixed day");
                for facts in applicants() {
                    let evaluation = evaluate(&rules, facts, on);
                    // Every rule is explained, and a tier is only given to the eligible.
                    assert_eq!(evaluation.trace.len(), rule_count);
                    assert_eq!(evaluation.eligible, evaluation.tier.is_some());
                    if let Some(tier) = &evaluation.tier {
                        assert!(TIERS.contains(&tier.as_str()));
                    }
                }
            }
        }
        Err(errors) => {
            // A refusal with nothing to say would leave the administrator guessing.
            assert!(!errors.is_empty());
            assert!(
                errors.iter().all(|e| e.path.starts_with("rules")),
                "{errors:?}"
            );
        }
    }
});
