//! HTTP routes: one folder per resource, one file per action, registered in [`configure`].

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod health;
pub mod reference;

/// Registers every documented route; the OpenAPI document is built from the same calls.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(scope::scope("/api/v1").configure(reference::configure));
}
