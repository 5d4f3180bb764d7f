//! `GET /api/v1/status-lists/{issuer}`: the issuer's IETF Token Status List.

use actix_web::{HttpRequest, HttpResponse, get, web};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{cacheable, issued_at};
use crate::credentials::signed;
use crate::credentials::status_list;
use crate::error::{ApiError, ProblemDetails};
use crate::models::issuer_key;
use crate::state::AppState;

/// Seconds verifiers may cache a status list.
const TTL_SECS: u32 = 300;

/// A status list: 2 bits a card (0 valid, 1 revoked, 2 suspended).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusListView {
    /// Issuer code.
    pub issuer: String,
    /// Always 2.
    pub bits: u8,
    /// base64url(zlib(bytes)); entry i in byte i/4 at bit 2*(i%4).
    pub lst: String,
    /// Seconds a verifier may cache it.
    pub ttl: u32,
    /// When this copy was issued (rounded down to the TTL window).
    pub issued_at: DateTime<Utc>,
}

async fn build(state: &AppState, issuer: String) -> Result<StatusListView, ApiError> {
    let mut conn = state.pool.get().await?;
    let (bits, _changed) = issuer_key::status_list(&mut conn, &issuer)
        .await?
        .ok_or_else(ApiError::not_found)?;
    drop(conn);
    Ok(StatusListView {
        issuer,
        bits: 2,
        lst: status_list::encode(&bits),
        ttl: TTL_SECS,
        issued_at: issued_at(state.now(), TTL_SECS),
    })
}

/// The issuer's status list. Cacheable (ETag).
#[utoipa::path(
    tag = "trust",
    params(("issuer" = String, Path, description = "Issuer code")),
    responses(
        (status = 200, body = StatusListView),
        (status = 304, description = "Not modified"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/status-lists/{issuer}")]
pub async fn get_status_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    issuer: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = build(&state, issuer.into_inner()).await?;
    let body = serde_json::to_vec(&view).map_err(ApiError::internal)?;
    Ok(cacheable(&req, body, TTL_SECS))
}

/// The same status list signed by the platform key (`typ: statuslist+jwt`), for offline
/// verifiers. Cacheable (ETag).
#[utoipa::path(
    tag = "trust",
    params(("issuer" = String, Path, description = "Issuer code")),
    responses(
        (status = 200, description = "Compact JWS", content_type = "application/jwt"),
        (status = 304, description = "Not modified"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/status-lists/{issuer}.jws")]
pub async fn get_signed_status_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    issuer: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let view = build(&state, issuer.into_inner()).await?;
    let platform = &state.platform_key;
    let jws = signed::sign(&view, signed::STATUS_LIST_TYP, &platform.kid, &platform.der)
        .map_err(ApiError::internal)?;
    Ok(super::as_jwt(cacheable(&req, jws.into_bytes(), TTL_SECS)))
}
