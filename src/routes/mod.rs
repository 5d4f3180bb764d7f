//! HTTP routes: one folder per resource, one file per action, registered in [`configure`].
//!
//! A handler's `#[utoipa::path]` declares each error answer by its status and what it means on
//! that route (`(status = 404, description = "not_found: no such card of the caller's")`); the
//! served document gives every error answer declared without a body the problem+json body
//! (`crate::openapi::complete`), as the service answers every error in problem+json. Declare a
//! body only for an error that is not problem+json (the RFC 6749 errors of `/auth/token`).

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub mod admin;
pub mod applications;
pub mod auth;
pub mod cards;
pub mod discovery;
pub mod disputes;
pub mod employer;
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
                .configure(disputes::configure)
                .configure(employer::configure)
                .configure(admin::configure),
        );
}
