//! `GET /api/v1/status-lists/{list}`: an issuer's IETF Token Status List, plain or signed, served
//! from the instance's in-memory copy (see `state::status_lists`).

use std::sync::Arc;

use actix_web::http::header::{ACCEPT, HeaderValue, VARY};
use actix_web::{HttpRequest, HttpResponse, get, web};
use serde::Serialize;
use utoipa::ToSchema;

use super::{as_jwt, respond_cached, typed};
use crate::credentials::{status_list, status_token};
use crate::error::ApiError;
use crate::state::AppState;
use crate::state::status_lists::{Published, TTL_SECS};

pub use crate::state::status_lists::StatusListView;

async fn published(state: &AppState, list: &str) -> Result<Arc<Published>, ApiError> {
    let (issuer, list_no) = status_list::parse_list_id(list).ok_or_else(ApiError::not_found)?;
    let list_no = i32::try_from(list_no).map_err(|_| ApiError::not_found())?;
    let signers = crate::state::status_lists::Signers {
        pool: &state.pool,
        platform: &state.platform_key,
        pii: &state.pii,
        base_url: &state.public_base_url,
    };
    state
        .status_lists
        .get(&signers, issuer, list_no, state.now())
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Whether the client asked for the Status List Token (`q=0` refuses it, RFC 9110).
fn wants_token(req: &HttpRequest) -> bool {
    req.headers()
        .get_all(ACCEPT)
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|media| {
            let mut parts = media.split(';');
            let named = parts
                .next()
                .is_some_and(|m| m.trim().eq_ignore_ascii_case(status_token::MEDIA_TYPE));
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            named && !refused
        })
}

/// A status list by name: the issuer code for an issuer's first list, `XA-1`, `XA-2`, … for the
/// next (a credential's status `uri` names its list). With `Accept: application/statuslist+jwt`
/// the Status List Token signed by the issuer's key (what standard verifiers fetch); otherwise
/// the JSON form. Cacheable (ETag, `Vary: Accept`), CORS `*`.
#[utoipa::path(
    tag = "trust",
    params(("list" = String, Path, description = "List name: issuer code, or issuer-N")),
    responses(
        (status = 200, description = "The list: JSON, or the Status List Token on `Accept: application/statuslist+jwt`", content(
            (StatusListView = "application/json"),
            (String = "application/statuslist+jwt"),
        )),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such list"),
    )
)]
#[get("/status-lists/{list}")]
pub async fn get_status_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    list: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let list = published(&state, &list).await?;
    let mut response = if wants_token(&req) {
        let response = respond_cached(&req, list.token.clone(), &list.token_etag, TTL_SECS);
        typed(response, status_token::MEDIA_TYPE)
    } else {
        respond_cached(&req, list.json.clone(), &list.json_etag, TTL_SECS)
    };
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept"));
    Ok(response)
}

/// The same status list signed by the platform key (`typ: statuslist+jwt`), for offline
/// verifiers. Cacheable (ETag).
#[utoipa::path(
    tag = "trust",
    params(("list" = String, Path, description = "List name: issuer code, or issuer-N")),
    responses(
        (status = 200, description = "Compact JWS", content_type = "application/jwt"),
        (status = 304, description = "Not modified"),
        (status = 404, description = "No such status list"),
    )
)]
#[get("/status-lists/{list}.jws")]
pub async fn get_signed_status_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    list: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let list = published(&state, &list).await?;
    Ok(as_jwt(respond_cached(
        &req,
        list.jws.clone(),
        &list.jws_etag,
        TTL_SECS,
    )))
}

/// The Token Status List aggregation: every status list's URI.
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusListAggregation {
    /// The URIs credentials carry in `status.status_list.uri`.
    pub status_lists: Vec<String>,
}

/// Every status list's URI (draft-ietf-oauth-status-list, "Status List Aggregation"), so a
/// verifier can prefetch them all for offline use. Cacheable (ETag), CORS `*`.
#[utoipa::path(
    tag = "trust",
    responses(
        (status = 200, description = "Every list's URI", body = StatusListAggregation),
        (status = 304, description = "Not modified"),
    )
)]
#[get("/status-lists")]
pub async fn list_status_lists(
    req: HttpRequest,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let lists = crate::models::status_list::all(&mut conn).await?;
    let aggregation = StatusListAggregation {
        status_lists: lists
            .iter()
            .filter_map(|(issuer, list_no)| {
                let list_no = u32::try_from(*list_no).ok()?;
                Some(status_list::uri(&state.public_base_url, issuer, list_no))
            })
            .collect(),
    };
    let body = serde_json::to_vec(&aggregation).map_err(ApiError::internal)?;
    Ok(super::cacheable(&req, body, TTL_SECS))
}
