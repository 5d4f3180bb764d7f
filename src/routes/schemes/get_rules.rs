//! `GET /api/v1/schemes/{code}/rules/{version}`: any published version, in force or not.

use actix_web::{HttpResponse, get, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::models::scheme;
use crate::state::AppState;

/// One published version of a scheme's rules.
#[derive(Debug, Serialize, ToSchema)]
pub struct RulesVersion {
    /// The scheme.
    pub scheme: String,
    /// The version.
    pub version: i32,
    /// First day it applies.
    pub effective_from: NaiveDate,
    /// When it was published.
    pub published_at: DateTime<Utc>,
    /// The document.
    #[schema(value_type = Object)]
    pub rules: serde_json::Value,
}

/// Reads one version of a scheme's rules; earlier versions stay readable after new ones.
#[utoipa::path(
    tag = "schemes",
    params(
        ("code" = String, Path, description = "Scheme code"),
        ("version" = i32, Path, description = "Rules version"),
    ),
    responses(
        (status = 200, description = "That version of the scheme's rules", body = RulesVersion),
        (status = 404, description = "not_found: no such scheme or version"),
    )
)]
#[get("/schemes/{code}/rules/{version}")]
pub async fn get_rules_version(
    state: web::Data<AppState>,
    path: web::Path<(String, i32)>,
) -> Result<HttpResponse, ApiError> {
    let (code, version) = path.into_inner();
    let mut conn = state.pool.get().await?;
    let row = scheme::rules_version(&mut conn, &code, version)
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(HttpResponse::Ok().json(RulesVersion {
        scheme: row.scheme,
        version: row.version,
        effective_from: row.effective_from,
        published_at: row.published_at,
        rules: row.document,
    }))
}
