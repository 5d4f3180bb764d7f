//! The eligibility rules engine: typed facts, rules kept as data, and an evaluation that explains
//! every step. Pure: no I/O, no clock (the evaluation date is an argument), so it is tested and
//! benchmarked in isolation and gives the same answer for the same input, always.

pub mod engine;
pub mod facts;
pub mod rules;

pub use engine::{Evaluation, TraceEntry, evaluate};
pub use facts::Facts;
pub use rules::{RuleSet, RuleSetError, parse_new_rule_set, parse_rule_set};

#[cfg(test)]
mod tests;
