//! Public scheme information: schemes, their rules (every version) and the eligibility check.

use chrono::NaiveDate;
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::models::scheme::{self, RuleSetRow, Scheme, Tier};

mod eligibility;
mod get_rules;
mod get_scheme;

/// Registers the routes under `/schemes`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(get_scheme::list_schemes)
        .service(get_scheme::get_scheme)
        .service(get_rules::get_rules_version)
        .service(eligibility::check_eligibility);
}

/// The scheme `code` with its issuers and tiers, or 404 `not_found`: the one answer of every
/// route under a scheme's code (and of a submission whose scheme is gone) when it does not
/// exist.
pub async fn known_scheme(conn: &mut AsyncPgConnection, code: &str) -> Result<Scheme, ApiError> {
    scheme::find(conn, code)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// A scheme with the rules in force today.
#[derive(Debug, Serialize, ToSchema)]
pub struct SchemeView {
    /// e.g. `XIONGAN`.
    pub code: String,
    /// Chinese name.
    pub name: String,
    /// English name.
    pub name_en: String,
    /// Issuer codes.
    pub issuers: Vec<String>,
    /// Tiers, highest first.
    pub tiers: Vec<Tier>,
    /// Working days officials have to decide an application.
    pub review_days: i32,
    /// The rules version in force today.
    pub rules_version: Option<i32>,
    /// Since when it applies.
    pub rules_effective_from: Option<NaiveDate>,
    /// The rules document (see `PUT /api/v1/admin/schemes/{code}/rules`).
    #[schema(value_type = Option<Object>)]
    pub rules: Option<serde_json::Value>,
}

impl SchemeView {
    /// Combines a scheme and its rules in force.
    pub fn new(scheme: Scheme, rules: Option<RuleSetRow>) -> Self {
        SchemeView {
            code: scheme.row.code,
            name: scheme.row.name,
            name_en: scheme.row.name_en,
            issuers: scheme.issuers,
            tiers: scheme.tiers,
            review_days: scheme.row.review_days,
            rules_version: rules.as_ref().map(|r| r.version),
            rules_effective_from: rules.as_ref().map(|r| r.effective_from),
            rules: rules.map(|r| r.document),
        }
    }
}
