//! `GET /api/v1/status-lists/{list}`: an issuer's IETF Token Status List, plain or signed, served
//! from the instance's in-memory copy (see `credentials::published`).

use std::sync::Arc;

use actix_web::{HttpRequest, HttpResponse, get, web};

use super::{as_jwt, respond_cached};
use crate::credentials::published::{Published, TTL_SECS};
use crate::credentials::status_list;
use crate::error::{ApiError, ProblemDetails};
use crate::state::AppState;

pub use crate::credentials::published::StatusListView;

async fn published(state: &AppState, list: &str) -> Result<Arc<Published>, ApiError> {
    let (issuer, list_no) = status_list::parse_list_id(list).ok_or_else(ApiError::not_found)?;
    let list_no = i32::try_from(list_no).map_err(|_| ApiError::not_found())?;
    state
        .status_lists
        .get(
            &state.pool,
            &state.platform_key,
            issuer,
            list_no,
            state.now(),
        )
        .await?
        .ok_or_else(ApiError::not_found)
}

/// A status list by name: the issuer code for an issuer's first list, `XA-1`, `XA-2`, … for the
/// next (a credential's status `uri` names its list). Cacheable (ETag).
#[utoipa::path(
    tag = "trust",
    params(("list" = String, Path, description = "List name: issuer code, or issuer-N")),
    responses(
        (status = 200, body = StatusListView),
        (status = 304, description = "Not modified"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
    )
)]
#[get("/status-lists/{list}")]
pub async fn get_status_list(
    req: HttpRequest,
    state: web::Data<AppState>,
    list: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let list = published(&state, &list).await?;
    Ok(respond_cached(
        &req,
        list.json.clone(),
        &list.json_etag,
        TTL_SECS,
    ))
}

/// The same status list signed by the platform key (`typ: statuslist+jwt`), for offline
/// verifiers. Cacheable (ETag).
#[utoipa::path(
    tag = "trust",
    params(("list" = String, Path, description = "List name: issuer code, or issuer-N")),
    responses(
        (status = 200, description = "Compact JWS", content_type = "application/jwt"),
        (status = 304, description = "Not modified"),
        (status = 404, body = ProblemDetails, content_type = "application/problem+json"),
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
