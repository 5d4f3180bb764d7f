//! HTTP routes: one folder per resource, one file per action, registered in [`configure`].

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod admin;
pub mod applications;
pub mod auth;
pub mod cards;
pub mod discovery;
pub mod facts;
pub mod health;
pub mod idempotency;
pub mod me;
pub mod pagination;
pub mod partners;
pub mod reference;
pub mod schemes;
pub mod trust;

/// Registers every documented route; the OpenAPI document is built from the same calls.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(health::healthz)
        .service(health::readyz)
        .service(discovery::issuer_metadata)
        .service(discovery::type_metadata)
        .service(
            scope::scope("/api/v1")
                .configure(reference::configure)
                .configure(schemes::configure)
                .configure(applications::configure)
                .configure(cards::configure)
                .configure(trust::configure)
                .configure(partners::configure)
                .configure(auth::configure)
                .configure(me::configure)
                .configure(admin::configure),
        );
}
