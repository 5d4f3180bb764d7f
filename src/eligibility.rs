//! Evaluating facts against the rules in force: the glue between the pure engine, the stored
//! rule versions and a cache of parsed rule sets. Used by the public eligibility check and, when
//! an application is submitted, to record the suggested tier with the version it came from.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::districts;
use crate::domain::eligibility::{Evaluation, Facts, RuleSet, evaluate, parse_rule_set};
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::models::scheme::{self, RuleSetRow, Scheme};

/// Parsed rule sets by (scheme, version). Versions never change once published, so a cached
/// parse is never stale and no instance needs another's cache.
#[derive(Debug, Default)]
pub struct RuleCache {
    parsed: RwLock<HashMap<(String, i32), Arc<RuleSet>>>,
}

impl RuleCache {
    /// The parsed rules of `row`, parsing them once.
    pub fn get(&self, row: &RuleSetRow, scheme: &Scheme) -> Result<Arc<RuleSet>, ApiError> {
        let key = (row.scheme.clone(), row.version);
        if let Some(rules) = self
            .parsed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(rules.clone());
        }
        let rules = parse_rule_set(&row.document, &scheme.tier_codes()).map_err(|_| {
            ApiError::internal(format!(
                "stored rules {}/{} do not parse",
                row.scheme, row.version
            ))
        })?;
        let rules = Arc::new(rules);
        self.parsed
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, rules.clone());
        Ok(rules)
    }
}

/// Checks facts beyond their types: dates, text, the credit code's check character, and that
/// the employer's district exists. Field paths are prefixed with `prefix` (e.g. `facts.`).
pub async fn validate_facts(
    conn: &mut AsyncPgConnection,
    facts: &Facts,
    today: NaiveDate,
    prefix: &str,
) -> Result<(), ApiError> {
    let mut errors: Vec<FieldError> = facts
        .problems(today)
        .into_iter()
        .map(|(field, message)| FieldError {
            field: format!("{prefix}{field}"),
            message,
        })
        .collect();
    let known: bool = diesel::select(diesel::dsl::exists(
        districts::table.find(&facts.employer.district),
    ))
    .get_result(conn)
    .await?;
    if !known {
        errors.push(FieldError {
            field: format!("{prefix}employer.district"),
            message: "is not a known district (see GET /api/v1/districts)".into(),
        });
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// Evaluates `facts` for `scheme` with the rules in force on `on`; returns the evaluation and
/// the rules version used.
pub async fn evaluate_in_force(
    conn: &mut AsyncPgConnection,
    cache: &RuleCache,
    scheme: &Scheme,
    facts: &Facts,
    on: NaiveDate,
) -> Result<(Evaluation, i32), ApiError> {
    let row = scheme::rules_in_force(conn, &scheme.row.code, on)
        .await?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                format!("{} has no rules in force on {on}", scheme.row.code),
            )
        })?;
    let rules = cache.get(&row, scheme)?;
    Ok((evaluate(&rules, facts, on), row.version))
}
