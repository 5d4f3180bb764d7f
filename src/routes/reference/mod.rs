//! Public reference data: districts, issuers, the service catalogue.

use actix_web::HttpResponse;
use actix_web::http::header::{CACHE_CONTROL, HeaderValue};
use serde::Serialize;
use utoipa_actix_web::service_config::ServiceConfig;

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
