//! CORS for public trust material, and nowhere else.
//!
//! A browser-based verifier (a hospital's web front desk, a wallet in a page) must read the
//! trust list, the JWK Set, status lists and the issuer and type metadata from any origin.
//! Nothing on them depends on who asks and no credential is ever honoured there, so they grant
//! `*`; every other answer grants no origin at all. A preflight (`OPTIONS`) on them is 204.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::Method;
use actix_web::http::header::{
    ACCESS_CONTROL_ALLOW_HEADERS, ACCESS_CONTROL_ALLOW_METHODS, ACCESS_CONTROL_ALLOW_ORIGIN,
    ACCESS_CONTROL_EXPOSE_HEADERS, ACCESS_CONTROL_MAX_AGE, HeaderValue,
};
use actix_web::middleware::Next;
use actix_web::{Error, HttpResponse};

/// Path prefixes of the public trust material (documented paths and their parameters).
const PUBLIC: [&str; 4] = [
    "/api/v1/trust-list",
    "/api/v1/status-lists",
    "/.well-known/jwt-vc-issuer/",
    "/vct/",
];

/// Whether `path` (a request path or a documented template) is public trust material.
pub fn is_public_trust_material(path: &str) -> bool {
    PUBLIC.iter().any(|prefix| {
        path.strip_prefix(prefix).is_some_and(|rest| {
            prefix.ends_with('/') || rest.is_empty() || rest.starts_with(['/', '.'])
        })
    })
}

/// Answers a preflight on public trust material with 204, and marks every answer there
/// readable from any origin.
pub async fn public_trust_material(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, Error> {
    if !is_public_trust_material(req.path()) {
        return Ok(next.call(req).await?.map_into_left_body());
    }
    if req.method() == Method::OPTIONS {
        let response = HttpResponse::NoContent()
            .insert_header((ACCESS_CONTROL_ALLOW_ORIGIN, "*"))
            .insert_header((ACCESS_CONTROL_ALLOW_METHODS, "GET"))
            .insert_header((
                ACCESS_CONTROL_ALLOW_HEADERS,
                "Accept, If-None-Match, Cache-Control",
            ))
            .insert_header((ACCESS_CONTROL_MAX_AGE, "86400"))
            .finish();
        return Ok(req.into_response(response).map_into_right_body());
    }
    let mut response = next.call(req).await?;
    let headers = response.headers_mut();
    headers.insert(ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    headers.insert(
        ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag"),
    );
    Ok(response.map_into_left_body())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_trust_material_is_public() {
        for path in [
            "/api/v1/trust-list",
            "/api/v1/trust-list.jws",
            "/api/v1/trust-list/jwks",
            "/api/v1/status-lists",
            "/api/v1/status-lists/XA",
            "/api/v1/status-lists/{list}.jws",
            "/.well-known/jwt-vc-issuer/issuers/XA",
            "/vct/XIONGAN",
        ] {
            assert!(is_public_trust_material(path), "{path}");
        }
        for path in [
            "/api/v1/trust-listx",
            "/api/v1/status-listsX",
            "/api/v1/me",
            "/api/v1/verifications",
            "/vct",
            "/.well-known/other",
            "/api/v1/cards/1/credential",
        ] {
            assert!(!is_public_trust_material(path), "{path}");
        }
    }
}
