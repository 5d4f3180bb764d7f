//! `GET /api/v1/trust-list/jwks`: every issuer key in force as one RFC 7517 JWK Set, for
//! verifiers that resolve a `kid` with a stock JOSE library rather than read the trust list.

use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::cacheable;
use super::trust_list::TTL_SECS;
use crate::credentials::keys;
use crate::error::ApiError;
use crate::models::issuer_key;
use crate::state::AppState;

/// An RFC 7517 JWK Set.
#[derive(Debug, Serialize, ToSchema)]
pub struct JwkSet {
    /// `{kty, crv, x, kid, alg, use}` per key.
    #[schema(value_type = Vec<Object>)]
    pub keys: Vec<serde_json::Value>,
}

/// The keys in force of `issuer` (every issuer when `None`): active ones and retired ones
/// that signed a credential still unexpired; never a withdrawn one.
pub async fn keys_in_force(state: &AppState, issuer: Option<&str>) -> Result<JwkSet, ApiError> {
    let mut conn = state.pool.get().await?;
    let published = issuer_key::published(&mut conn, state.now()).await?;
    Ok(JwkSet {
        keys: published
            .iter()
            .filter(|p| issuer.is_none_or(|code| p.key.issuer == code))
            .map(|p| keys::public_jwk(&p.key.kid, &p.key.public_key))
            .collect(),
    })
}

/// Every issuer key in force as a JWK Set. Cacheable (ETag), CORS `*`.
#[utoipa::path(
    tag = "trust",
    responses(
        (status = 200, description = "The JWK Set", body = JwkSet),
        (status = 304, description = "Not modified"),
    )
)]
#[get("/trust-list/jwks")]
pub async fn get_jwks(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let set = keys_in_force(&state, None).await?;
    let body = serde_json::to_vec(&set).map_err(ApiError::internal)?;
    Ok(cacheable(&req, body, TTL_SECS))
}
