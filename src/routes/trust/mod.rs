//! Public trust material, no token, cacheable: the trust list (issuers and their keys) and each
//! issuer's status list.

use actix_web::HttpRequest;
use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, ETAG, IF_NONE_MATCH};
use actix_web::web::Bytes;
use utoipa_actix_web::service_config::ServiceConfig;

mod jwks;
mod status_list;
mod trust_list;

pub use jwks::{JwkSet, keys_in_force};
/// Seconds verifiers may cache the trust list and the discovery documents.
pub use trust_list::TTL_SECS;

/// Registers the trust routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(trust_list::get_trust_list)
        .service(trust_list::get_signed_trust_list)
        .service(jwks::get_jwks)
        .service(status_list::list_status_lists)
        .service(status_list::get_signed_status_list)
        .service(status_list::get_status_list);
}

/// Marks a successful answer as a compact JWS.
fn as_jwt(response: HttpResponse) -> HttpResponse {
    typed(response, "application/jwt")
}

/// Gives a successful answer the content type `media`.
fn typed(mut response: HttpResponse, media: &'static str) -> HttpResponse {
    if response.status().is_success() {
        response.headers_mut().insert(
            actix_web::http::header::CONTENT_TYPE,
            actix_web::http::header::HeaderValue::from_static(media),
        );
    }
    response
}

/// The issue time of published material: now, rounded down to the cache window, so the body
/// (and its ETag) is stable within a window while its age stays meaningful to offline verifiers.
fn issued_at(
    now: chrono::DateTime<chrono::Utc>,
    window_secs: u32,
) -> chrono::DateTime<chrono::Utc> {
    let window = i64::from(window_secs.max(1));
    chrono::DateTime::from_timestamp(now.timestamp().div_euclid(window) * window, 0).unwrap_or(now)
}

/// Answers `body` with a strong ETag and `Cache-Control`, or 304 when the client has it.
pub(crate) fn cacheable(req: &HttpRequest, body: Vec<u8>, max_age: u32) -> HttpResponse {
    let etag = crate::state::status_lists::etag_of(&body);
    respond_cached(req, Bytes::from(body), &etag, max_age)
}

/// Answers `body`, whose ETag is `etag`, with `Cache-Control`, or 304 when the client has it.
fn respond_cached(req: &HttpRequest, body: Bytes, etag: &str, max_age: u32) -> HttpResponse {
    let cache = format!("public, max-age={max_age}");
    let fresh = req
        .headers()
        .get(IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if fresh {
        return HttpResponse::NotModified()
            .insert_header((ETAG, etag))
            .insert_header((CACHE_CONTROL, cache))
            .finish();
    }
    HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((ETAG, etag))
        .insert_header((CACHE_CONTROL, cache))
        .body(body)
}
