//! The OpenAPI document's fixed parts. Paths are collected from the handlers registered in
//! [`crate::routes::configure`] by utoipa-actix-web, so a route cannot be served without being
//! documented (clippy's `disallowed-methods` forbids the undocumented `route(...)` calls).

use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{ErrorCode, FieldError, ProblemDetails};

/// Title, version, tags and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "talentcard",
        description = "Issue and verify mutually recognised Beijing-Tianjin-Hebei talent service \
                       cards. Errors are RFC 9457 problem+json with a stable `code`. \
                       Prometheus metrics are at /metrics.",
    ),
    components(schemas(ProblemDetails, FieldError, ErrorCode)),
    modifiers(&BearerAuth),
    tags(
        (name = "operations", description = "Liveness and readiness"),
        (name = "reference", description = "Public reference data"),
        (name = "schemes", description = "Card schemes, tiers, eligibility rules and the eligibility check"),
        (name = "applications", description = "Applications, evidence, the review queue and decisions"),
        (name = "cards", description = "Cards, their credentials and lifecycle"),
        (name = "partners", description = "Recognition, entitlements, verification and redemptions"),
        (name = "trust", description = "Public trust material: trust list and status lists"),
        (name = "accounts", description = "Registration, login, tokens, MFA, the caller's profile"),
        (name = "administration", description = "Officials, agencies, clients, accounts, audit"),
    )
)]
pub struct ApiDoc;

/// Declares the `bearer` security scheme the protected operations name.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The fixed parts, to which the registered paths are added.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
