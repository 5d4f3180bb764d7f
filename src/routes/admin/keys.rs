//! `POST /api/v1/admin/issuers/{code}/keys/rotate`: a new signing key; the old one stays in the
//! trust list as retired while cards it signed are valid.

use actix_web::{HttpResponse, post, web};
use serde::Serialize;
use utoipa::ToSchema;

use crate::audit::Actor;
use crate::auth::Admin;
use crate::error::{ApiError, ErrorCode, ProblemDetails};
use crate::models::{issuer_key, reference};
use crate::state::AppState;

/// The rotation's outcome.
#[derive(Debug, Serialize, ToSchema)]
pub struct Rotated {
    /// The issuer.
    pub issuer: String,
    /// The new active key.
    pub kid: String,
    /// The key it replaced.
    pub retired: Option<String>,
}

/// How the old key leaves.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct RotateQuery {
    /// `true` after a key compromise: the old key leaves the trust list at once (holders
    /// re-fetch their credentials, which are signed with the active key).
    pub compromised: Option<bool>,
}

/// Rotates an issuer's signing key.
#[utoipa::path(
    tag = "administration",
    params(("code" = String, Path, description = "Issuer code"), RotateQuery),
    security(("bearer" = [])),
    responses(
        (status = 200, body = Rotated),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
        (status = 409, body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[post("/admin/issuers/{code}/keys/rotate")]
pub async fn rotate_key(
    admin: Admin,
    state: web::Data<AppState>,
    code: web::Path<String>,
    query: web::Query<RotateQuery>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let mut conn = state.pool.get().await?;
    if !reference::list_issuers(&mut conn)
        .await?
        .iter()
        .any(|i| i.code == *code)
    {
        return Err(ApiError::not_found());
    }
    let actor = Actor::Account(admin.0.account_id);
    let compromised = query.compromised.unwrap_or(false);
    let (kid, retired) = issuer_key::rotate(&mut conn, &code, &state.pii, compromised, actor, now)
        .await
        .map_err(ApiError::internal)?
        .ok_or_else(|| {
            ApiError::new(
                ErrorCode::Conflict,
                "another rotation of this issuer's key won",
            )
        })?;
    Ok(HttpResponse::Ok().json(Rotated {
        issuer: code.into_inner(),
        kid,
        retired,
    }))
}
