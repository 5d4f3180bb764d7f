//! Public reference data: districts, issuers, the service catalogue.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::ApiError;
use crate::models::reference::{self, Issuer};

mod districts;
mod issuers;
mod services;

/// Registers the reference routes.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(districts::list_districts)
        .service(issuers::list_issuers)
        .service(services::list_services);
}

/// Reference data changes rarely; clients and caches may keep it for five minutes.
fn cacheable_json<T: Serialize>(body: &T) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((
            CACHE_CONTROL,
            HeaderValue::from_static("public, max-age=300"),
        ))
        .json(body)
}

/// The issuer `code`, or 404 `not_found`: the one answer of every route under an issuer's code
/// (its discovery metadata, its key rotation) when no such issuer exists.
pub async fn known_issuer(conn: &mut AsyncPgConnection, code: &str) -> Result<Issuer, ApiError> {
    reference::find_issuer(conn, code)
        .await?
        .ok_or_else(ApiError::not_found)
}
