//! The OpenAPI document's fixed parts. Paths are collected from the handlers registered in
//! [`crate::routes::configure`] by utoipa-actix-web, so a route cannot be served without being
//! documented (clippy's `disallowed-methods` forbids the undocumented `route(...)` calls).

use std::sync::Arc;

use actix_web::http::header::{ALLOW, HeaderValue, LOCATION};
use actix_web::{HttpRequest, HttpResponse, Resource, ResponseError, guard, web};
use utoipa::openapi::path::Operation;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Content, Ref, RefOr};
use utoipa::{Modify, OpenApi};

use crate::error::{ApiError, ErrorCode, FieldError, ProblemDetails};

/// Title, version, tags and shared schemas.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "talentcard",
        description = "Issue and verify mutually recognised Beijing-Tianjin-Hebei talent service \
                       cards. Errors are RFC 9457 problem+json with a stable `code`. \
                       Prometheus metrics are served on a separate, internal listener.",
    ),
    // Schemas only query parameters name: utoipa collects those of bodies, not of parameters.
    components(schemas(ProblemDetails, FieldError, ErrorCode, crate::routes::cards::Disclose)),
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

/// The served document: the registered paths, each operation completed with the answers the
/// shared extractors give (see [`add_common_responses`]), the problem+json body of every error
/// answer its annotation declares without one (see [`add_problem_bodies`]) and a description
/// on every answer (see [`describe_undescribed`]): OpenAPI requires one, and validators refuse
/// the document without it.
pub fn complete(mut api: utoipa::openapi::OpenApi) -> utoipa::openapi::OpenApi {
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            ("GET", item.get.as_mut()),
            ("PUT", item.put.as_mut()),
            ("POST", item.post.as_mut()),
            ("DELETE", item.delete.as_mut()),
            ("PATCH", item.patch.as_mut()),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                add_common_responses(method, path, operation);
                add_problem_bodies(operation);
                describe_undescribed(operation);
            }
        }
        if crate::cors::is_public_trust_material(path) {
            item.options = Some(preflight(path));
        }
    }
    api
}

/// The `OPTIONS` operation of public trust material: a CORS preflight, answered 204 by
/// [`crate::cors`] for any origin.
fn preflight(path: &str) -> Operation {
    let operation_id = format!(
        "preflight_{}",
        path.trim_matches('/')
            .replace(['/', '.', '-', '{', '}'], "_")
            .replace("__", "_")
    );
    use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
    let parameters = path
        .split('{')
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .map(|name| {
            ParameterBuilder::new()
                .name(name)
                .parameter_in(ParameterIn::Path)
                .required(utoipa::openapi::Required::True)
                .schema(Some(utoipa::openapi::ObjectBuilder::new().schema_type(
                    utoipa::openapi::schema::SchemaType::Type(utoipa::openapi::Type::String),
                )))
                .build()
        });
    utoipa::openapi::path::OperationBuilder::new()
        .tag("trust")
        .operation_id(Some(operation_id))
        .parameters(Some(parameters))
        .summary(Some(
            "CORS preflight: any origin may GET this public trust material",
        ))
        .response(
            "204",
            ResponseBuilder::new()
                .description("Access-Control-Allow-Origin: *, Access-Control-Allow-Methods: GET")
                .build(),
        )
        .build()
}

/// Operations open to every authenticated caller: they never answer 403 for the role.
const ANY_ROLE: &[(&str, &str)] = &[
    ("GET", "/api/v1/me"),
    ("POST", "/api/v1/auth/mfa/enroll"),
    ("POST", "/api/v1/auth/mfa/confirm"),
];

/// Adds the answers an operation gives through the shared extractors, unless its own
/// annotation already describes that status:
/// - a bearer-secured operation: 401 `unauthorized` (no token, an expired one, an ended
///   session) and, unless it is in [`ANY_ROLE`], 403 `forbidden` (the caller's role may not
///   call it: the role extractors of [`crate::auth`]);
/// - a JSON request body ([`crate::extract::ApiJson`]): 400 `malformed_request`, 408
///   `request_timeout`, 413 `payload_too_large`, 415 `unsupported_media_type`, 422
///   `validation_failed`;
/// - query parameters ([`crate::extract::query_config`]): 422 `validation_failed`;
/// - every operation under `/api/v1` (and `/readyz`) reads PostgreSQL: 503
///   `service_unavailable` when it cannot.
fn add_common_responses(method: &str, path: &str, operation: &mut Operation) {
    let mut add = |status: u16, description: &str| {
        operation
            .responses
            .responses
            .entry(status.to_string())
            .or_insert_with(|| problem(description));
    };
    let has_query = operation.parameters.iter().flatten().any(|parameter| {
        matches!(parameter, RefOr::T(p)
            if p.parameter_in == utoipa::openapi::path::ParameterIn::Query)
    });
    if has_query {
        add(422, "validation_failed: the query string does not parse");
    }
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|requirements| !requirements.is_empty());
    if secured {
        add(401, "unauthorized: no valid access token");
        if !ANY_ROLE.contains(&(method, path)) {
            add(403, "forbidden: the caller's role may not do this");
        }
    }
    let json_body = matches!(&operation.request_body, Some(RefOr::T(body))
        if body.content.keys().any(|media| media == "application/json"));
    if json_body {
        add(400, "malformed_request: the body is not JSON");
        add(408, "request_timeout: the body did not arrive in time");
        add(413, "payload_too_large: the body is larger than allowed");
        add(
            415,
            "unsupported_media_type: the body is not application/json",
        );
        add(
            422,
            "validation_failed: a field is missing or not acceptable",
        );
    }
    // Everything but liveness, the document and the explorer reads PostgreSQL.
    if path.starts_with("/api/v1/")
        || path == "/readyz"
        || path.starts_with("/.well-known/")
        || path.starts_with("/vct/")
    {
        add(
            503,
            "service_unavailable: the database is unavailable (or a status list changes too fast to publish); try again",
        );
    }
}

/// Gives every error answer (4xx, 5xx) of the operation that declares no body the problem+json
/// body ([`problem_content`]). Every error this service answers is problem+json (an
/// [`ApiError`], or any other error turned into one by [`crate::startup`]), so the routes'
/// annotations say only what each of their answers means (`(status = 404, description =
/// "not_found: no such card of the caller's")`, different on every route and part of the
/// contract), and the body's media type and schema are written once, here: utoipa cannot share
/// a response's body without sharing its description too (`response = T` takes nothing but
/// `status`). An answer that declares a body of its own (the RFC 6749 errors of `/auth/token`)
/// keeps it.
fn add_problem_bodies(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        let is_error = status.parse::<u16>().is_ok_and(|status| status >= 400);
        if let RefOr::T(response) = response
            && is_error
            && response.content.is_empty()
        {
            response
                .content
                .insert(PROBLEM_JSON.to_owned(), problem_content().into());
        }
    }
}

/// Gives every answer of the operation that has no description (OpenAPI requires one) the
/// meaning of its status in this API: the handlers' annotations describe what matters, this
/// only covers answers that have nothing more to say than their status (a 404 for a resource
/// the caller may not see, a 304 to a conditional request).
fn describe_undescribed(operation: &mut Operation) {
    for (status, response) in operation.responses.responses.iter_mut() {
        if let RefOr::T(response) = response
            && response.description.is_empty()
        {
            response.description = status_description(status).to_owned();
        }
    }
}

/// What a status means in this API, for an answer whose annotation says nothing more.
fn status_description(status: &str) -> &'static str {
    match status {
        "200" => "OK",
        "201" => "Created",
        "204" => "No content",
        "304" => "Not modified: the representation matches the request's If-None-Match",
        "400" => "malformed_request: the request is malformed",
        "401" => "unauthorized: no valid access token",
        "403" => "forbidden: the caller's role may not do this",
        "404" => "not_found: no such resource, or one the caller may not see",
        "409" => "conflict: the change conflicts with the current state",
        "413" => "payload_too_large: the body is larger than allowed",
        "415" => "unsupported_media_type: the body is not of a type this operation reads",
        "422" => "validation_failed: the request's content is not acceptable",
        "429" => "rate_limited: too many requests; `Retry-After` says when to try again",
        "503" => "service_unavailable: the database is unavailable; try again",
        _ => "The answer for this status",
    }
}

/// The media type of every error answer (RFC 9457).
const PROBLEM_JSON: &str = "application/problem+json";

/// The body of every error answer: a [`ProblemDetails`].
fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("ProblemDetails")))
}

/// A problem+json answer.
fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, problem_content())
        .build()
        .into()
}

/// Where the API explorer is served (by `utoipa-swagger-ui`, with its assets, offline).
pub const EXPLORER: &str = "/docs/";

/// `GET /docs` answers 308 to [`EXPLORER`]: people type the path without the slash, and the
/// explorer's relative asset URLs only resolve under it. Like the explorer itself, an operations
/// path outside `/api/v1` that the document does not list; other methods stay 404.
#[expect(
    clippy::disallowed_methods,
    reason = "the explorer's path is not an API operation, as /docs/ (SwaggerUi) is not"
)]
pub fn explorer_redirect() -> Resource {
    web::resource(EXPLORER.trim_end_matches('/'))
        .guard(guard::Get())
        .to(|| async {
            HttpResponse::PermanentRedirect()
                .insert_header((LOCATION, EXPLORER))
                .finish()
        })
}

/// The documented methods of every documented path, for the answer to a request no route
/// takes: 405 `method_not_allowed` with `Allow` when the path exists with other methods
/// (RFC 9110, 15.5.6), else 404 `not_found`.
#[derive(Clone, Debug, Default)]
pub struct AllowedMethods(Arc<Vec<(Vec<Segment>, String)>>);

/// One segment of a path template: a literal, or a parameter between a literal prefix and
/// suffix (`{list}.jws`).
#[derive(Clone, Debug)]
pub enum Segment {
    /// Must equal the request's segment.
    Literal(String),
    /// Any non-empty text between these.
    Parameter {
        /// Text before the parameter.
        prefix: String,
        /// Text after it.
        suffix: String,
    },
}

impl Segment {
    fn parse(template: &str) -> Segment {
        match (template.find('{'), template.rfind('}')) {
            (Some(open), Some(close)) if open < close => Segment::Parameter {
                prefix: template[..open].to_owned(),
                suffix: template[close + 1..].to_owned(),
            },
            _ => Segment::Literal(template.to_owned()),
        }
    }

    fn matches(&self, segment: &str) -> bool {
        match self {
            Segment::Literal(literal) => literal == segment,
            Segment::Parameter { prefix, suffix } => {
                segment.len() > prefix.len() + suffix.len()
                    && segment.starts_with(prefix.as_str())
                    && segment.ends_with(suffix.as_str())
            }
        }
    }
}

impl AllowedMethods {
    /// The table of a document.
    pub fn new(api: &utoipa::openapi::OpenApi) -> Self {
        let table = api
            .paths
            .paths
            .iter()
            .map(|(path, item)| {
                let segments = path.split('/').map(Segment::parse).collect();
                let methods = [
                    ("GET", item.get.is_some()),
                    ("PUT", item.put.is_some()),
                    ("POST", item.post.is_some()),
                    ("DELETE", item.delete.is_some()),
                    ("PATCH", item.patch.is_some()),
                    ("OPTIONS", item.options.is_some()),
                ]
                .into_iter()
                .filter_map(|(method, present)| present.then_some(method))
                .collect::<Vec<_>>()
                .join(", ");
                (segments, methods)
            })
            .collect();
        AllowedMethods(Arc::new(table))
    }

    /// The methods the request's path is documented with, if it is documented at all.
    pub fn allowed(&self, path: &str) -> Option<String> {
        let segments: Vec<&str> = path.split('/').collect();
        let mut allowed: Vec<&str> = self
            .0
            .iter()
            .filter(|(template, _)| {
                template.len() == segments.len()
                    && template.iter().zip(&segments).all(|(t, s)| t.matches(s))
            })
            .flat_map(|(_, methods)| methods.split(", "))
            .collect();
        allowed.sort_unstable();
        allowed.dedup();
        (!allowed.is_empty()).then(|| allowed.join(", "))
    }

    /// The answer to a request that no route took.
    pub fn answer(&self, req: &HttpRequest) -> HttpResponse {
        let Some(allowed) = self.allowed(req.path()) else {
            return ApiError::not_found().error_response();
        };
        let mut response = ApiError::new(
            ErrorCode::MethodNotAllowed,
            format!("this resource answers {allowed} only"),
        )
        .error_response();
        if let Ok(value) = HeaderValue::from_str(&allowed) {
            response.headers_mut().insert(ALLOW, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_documented_path_names_its_methods_and_an_unknown_one_none() -> serde_json::Result<()> {
        let api: utoipa::openapi::OpenApi = serde_json::from_value(serde_json::json!({
            "openapi": "3.1.0",
            "info": {"title": "t", "version": "1"},
            "paths": {
                "/api/v1/cards/{id}": {"get": {"responses": {}}},
                "/api/v1/applications": {"get": {"responses": {}}, "post": {"responses": {}}},
                "/api/v1/status-lists/{list}.jws": {"get": {"responses": {}}}
            }
        }))?;
        let table = AllowedMethods::new(&api);
        assert_eq!(table.allowed("/api/v1/cards/x").as_deref(), Some("GET"));
        assert_eq!(
            table.allowed("/api/v1/applications").as_deref(),
            Some("GET, POST")
        );
        assert_eq!(
            table.allowed("/api/v1/status-lists/XA.jws").as_deref(),
            Some("GET")
        );
        assert_eq!(table.allowed("/api/v1/status-lists/.jws"), None);
        assert_eq!(table.allowed("/api/v1/cards/x/y"), None);
        assert_eq!(table.allowed("/api/v1/nothing"), None);
        Ok(())
    }

    #[test]
    fn an_error_answer_declared_without_a_body_is_problem_json() -> serde_json::Result<()> {
        let mut operation: Operation = serde_json::from_value(serde_json::json!({
            "responses": {
                "204": {"description": "Done"},
                "404": {"description": "not_found: no such card of the caller's"},
                "401": {
                    "description": "An RFC 6749 error",
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}
                }
            }
        }))?;
        add_problem_bodies(&mut operation);
        let answers = serde_json::to_value(&operation.responses)?;
        assert_eq!(
            answers["404"],
            serde_json::json!({
                "description": "not_found: no such card of the caller's",
                "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/ProblemDetails"}}}
            })
        );
        assert!(answers["204"].get("content").is_none(), "{answers}");
        assert!(
            answers["401"]["content"]["application/problem+json"].is_null(),
            "{answers}"
        );
        Ok(())
    }
}
