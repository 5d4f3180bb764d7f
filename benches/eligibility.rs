//! Evaluations per second of the default XIONGAN rules on one core:
//! `cargo bench --bench eligibility`.
#![allow(
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "a benchmark"
)]

use std::hint::black_box;

use chrono::NaiveDate;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use talentcard::domain::eligibility::{Facts, evaluate, parse_rule_set};

fn facts(json: serde_json::Value) -> Facts {
    serde_json::from_value(json).expect("facts")
}

fn bench(c: &mut Criterion) {
    let document: serde_json::Value =
        serde_json::from_str(include_str!("../config/schemes/xiongan.rules.json")).expect("rules");
    let rules = parse_rule_set(&document, &["A", "B", "C"]).expect("valid rules");
    let on = NaiveDate::from_ymd_opt(2026, 11, 28).expect("date");
    let employer = serde_json::json!({ "name": "雄安科技", "credit_code": "91130600MA0D123455", "district": "xiongan" });
    let doctorate = facts(serde_json::json!({
        "birth_date": "1985-03-01", "highest_degree": "doctorate", "invention_patents": 1,
        "honours": [{ "kind": "science_award", "level": "municipal", "rank": 2 }],
        "annual_salary_cny": 320000, "income_tax_cny": 45000, "employer": employer,
    }));
    let nobody = facts(serde_json::json!({
        "birth_date": "1990-03-01", "highest_degree": "bachelor", "employer": employer,
    }));
    let mut group = c.benchmark_group("xiongan");
    group.throughput(Throughput::Elements(1));
    group.bench_function("doctorate_tier_b", |b| {
        b.iter(|| evaluate(black_box(&rules), black_box(&doctorate), on))
    });
    group.bench_function("not_eligible", |b| {
        b.iter(|| evaluate(black_box(&rules), black_box(&nobody), on))
    });
    group.bench_function("parse_rules", |b| {
        b.iter(|| parse_rule_set(black_box(&document), &["A", "B", "C"]))
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
