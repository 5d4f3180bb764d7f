//! `POST /api/v1/schemes/{code}/eligibility`: which tier these facts qualify for, and why.

use actix_web::{HttpResponse, post, web};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::known_scheme;
use crate::domain::eligibility::{Facts, TraceEntry};
use crate::error::ApiError;
use crate::extract::ApiJson;
use crate::routes::facts::validate_facts;
use crate::state::AppState;

/// The facts to evaluate.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EligibilityRequest {
    /// The applicant's facts.
    pub facts: Facts,
    /// Evaluate as of this date (default today), e.g. to see what a future rules version says.
    #[serde(default)]
    pub evaluation_date: Option<NaiveDate>,
}

/// The suggestion and its explanation. An official always decides.
#[derive(Debug, Serialize, ToSchema)]
pub struct EligibilityResult {
    /// Every requirement holds and some tier's rule does.
    pub eligible: bool,
    /// The highest tier whose rules match.
    pub tier: Option<String>,
    /// The rules version used.
    pub rules_version: i32,
    /// The date the rules and ages were evaluated on.
    pub evaluated_on: NaiveDate,
    /// Every rule, whether it matched and why.
    pub trace: Vec<TraceEntry>,
}

/// Evaluates facts against the scheme's rules in force. Public: talent check before applying.
#[utoipa::path(
    tag = "schemes",
    params(("code" = String, Path, description = "Scheme code")),
    request_body = EligibilityRequest,
    responses(
        (status = 200, description = "Whether the facts qualify, for which tier, and why", body = EligibilityResult),
        (status = 404, description = "not_found: no such scheme, or none of its rules in force"),
        (status = 422, description = "validation_failed: a fact is missing or of the wrong type"),
    )
)]
#[post("/schemes/{code}/eligibility")]
pub async fn check_eligibility(
    state: web::Data<AppState>,
    code: web::Path<String>,
    body: ApiJson<EligibilityRequest>,
) -> Result<HttpResponse, ApiError> {
    let today = state.today();
    let body = body.0;
    let on = body.evaluation_date.unwrap_or(today);
    let mut conn = state.pool.get().await?;
    let found = known_scheme(&mut conn, &code).await?;
    validate_facts(&mut conn, &body.facts, on, "facts.").await?;
    let (evaluation, rules_version) = state
        .rules
        .evaluate_in_force(&mut conn, &found, &body.facts, on)
        .await?;
    Ok(HttpResponse::Ok().json(EligibilityResult {
        eligible: evaluation.eligible,
        tier: evaluation.tier,
        rules_version,
        evaluated_on: on,
        trace: evaluation.trace,
    }))
}
