//! `GET /api/v1/recognitions` and `GET /api/v1/entitlements`: the rules in force (public).

use actix_web::{HttpResponse, get, web};
use chrono::NaiveDate;
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain::recognition::{EntitlementRule, RecognitionRule};
use crate::error::ApiError;
use crate::models::policy;
use crate::state::AppState;

/// Rules in force.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesInForce<T: ToSchema> {
    /// The version.
    pub version: i32,
    /// Since when.
    pub effective_from: NaiveDate,
    /// The rules.
    pub rules: Vec<T>,
}

/// The mutual-recognition rules in force. A card also always counts at its own tier in its
/// issuer's district.
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 200, description = "The recognition rules in force, their version and since when", body = RulesInForce<RecognitionRule>),
        (status = 404, description = "not_found: no recognition rules are in force yet"),
    )
)]
#[get("/recognitions")]
pub async fn get_recognitions(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let found = policy::recognitions(&mut conn, state.today())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(RulesInForce {
        version: found.version,
        effective_from: found.effective_from,
        rules: found.rules,
    }))
}

/// The entitlement rules in force.
#[utoipa::path(
    tag = "partners",
    responses(
        (status = 200, description = "The entitlement rules in force, their version and since when", body = RulesInForce<EntitlementRule>),
        (status = 404, description = "not_found: no entitlement rules are in force yet"),
    )
)]
#[get("/entitlements")]
pub async fn get_entitlement_rules(state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let found = policy::entitlements(&mut conn, state.today())
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(RulesInForce {
        version: found.version,
        effective_from: found.effective_from,
        rules: found.rules,
    }))
}
