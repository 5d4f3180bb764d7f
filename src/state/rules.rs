//! Parsed eligibility rules, and evaluating facts with the rules in force: the glue between
//! the pure engine (`domain::eligibility`), the stored rule versions and the cache. Used by the
//! public eligibility check and, when an application is submitted, to record the suggested
//! tier with the version it came from.

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;

use crate::domain::eligibility::{Evaluation, Facts, RuleSet, evaluate, parse_rule_set};
use crate::error::{ApiError, ErrorCode};
use crate::models::scheme::{self, RuleSetRow, Scheme};

/// Why facts could not be evaluated.
#[derive(Debug, thiserror::Error)]
pub enum RulesError {
    /// The scheme has no rules in force on that day (a client can ask for any day).
    #[error("{scheme} has no rules in force on {on}")]
    NoneInForce {
        /// The scheme.
        scheme: String,
        /// The day.
        on: NaiveDate,
    },
    /// Stored rules that do not parse: they were checked when published, so this is ours.
    #[error("stored rules {0}/{1} do not parse")]
    Corrupt(String, i32),
    /// The database failed.
    #[error(transparent)]
    Query(#[from] diesel::result::Error),
}

impl From<RulesError> for ApiError {
    fn from(error: RulesError) -> Self {
        match error {
            e @ RulesError::NoneInForce { .. } => ApiError::new(ErrorCode::Conflict, e.to_string()),
            e @ RulesError::Corrupt(..) => ApiError::internal(e.to_string()),
            RulesError::Query(e) => e.into(),
        }
    }
}

/// Parsed rule sets by (scheme, version). Versions never change once published, so a cached
/// parse is never stale and no instance needs another's cache.
#[derive(Debug, Default)]
pub struct RuleCache {
    parsed: RwLock<HashMap<(String, i32), Arc<RuleSet>>>,
}

impl RuleCache {
    /// The parsed rules of `row`, parsing them once.
    pub fn get(&self, row: &RuleSetRow, scheme: &Scheme) -> Result<Arc<RuleSet>, RulesError> {
        let key = (row.scheme.clone(), row.version);
        if let Some(rules) = self
            .parsed
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .get(&key)
        {
            return Ok(rules.clone());
        }
        let rules = parse_rule_set(&row.document, &scheme.tier_codes())
            .map_err(|_| RulesError::Corrupt(row.scheme.clone(), row.version))?;
        let rules = Arc::new(rules);
        self.parsed
            .write()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(key, rules.clone());
        Ok(rules)
    }

    /// Evaluates `facts` for `scheme` with the rules in force on `on`; returns the evaluation
    /// and the rules version used.
    pub async fn evaluate_in_force(
        &self,
        conn: &mut AsyncPgConnection,
        scheme: &Scheme,
        facts: &Facts,
        on: NaiveDate,
    ) -> Result<(Evaluation, i32), RulesError> {
        let row = scheme::rules_in_force(conn, &scheme.row.code, on)
            .await?
            .ok_or_else(|| RulesError::NoneInForce {
                scheme: scheme.row.code.clone(),
                on,
            })?;
        let rules = self.get(&row, scheme)?;
        Ok((evaluate(&rules, facts, on), row.version))
    }
}
