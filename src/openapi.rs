//! The OpenAPI document's fixed parts. Paths are collected from the handlers registered in
//! [`crate::routes::configure`] by utoipa-actix-web, so a route cannot be served without being
//! documented (clippy's `disallowed-methods` forbids the undocumented `route(...)` calls).

use utoipa::OpenApi;

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
    tags(
        (name = "operations", description = "Liveness and readiness"),
        (name = "reference", description = "Public reference data"),
    )
)]
pub struct ApiDoc;

/// The fixed parts, to which the registered paths are added.
pub fn base() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}
