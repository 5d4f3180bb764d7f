//! The one error type of the HTTP layer, answered as RFC 9457 `application/problem+json`.
//!
//! Handlers return `Result<_, ApiError>`; models return `QueryResult` and the conversion to an
//! HTTP answer happens here, in one `match`, so every status and `code` is decided in one place.
//! Internal causes are logged with the request's span and never sent to the client.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use diesel::result::{DatabaseErrorKind, Error as DieselError};
use serde::Serialize;
use utoipa::ToSchema;

/// The stable, machine-readable error codes of the API contract.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// 422: the request was well-formed but its content is not acceptable.
    ValidationFailed,
    /// 400: the body is not parseable (bad JSON, wrong encoding).
    MalformedRequest,
    /// 401: no valid credentials were presented.
    Unauthorized,
    /// 401: the email and password (or client secret) do not match.
    InvalidCredentials,
    /// 401: the password was right; a staff member must add a TOTP code.
    MfaRequired,
    /// 403: the caller is known but may not do this.
    Forbidden,
    /// 404: no such resource, or one the caller may not see.
    NotFound,
    /// 405: the route exists but not with this method.
    MethodNotAllowed,
    /// 409: the change conflicts with the current state.
    Conflict,
    /// 409: an account with this email exists.
    EmailTaken,
    /// 409: the status machine does not allow this transition.
    InvalidTransition,
    /// 409: the entitlement's quota is used up.
    QuotaExhausted,
    /// 409: the identity document cannot change while an application is open or a card is
    /// live: the issuer changes it, after checking the person.
    DocumentLocked,
    /// 409: the application's identity document is disputed (another account claims it) or no
    /// longer the applicant's; an administrator or the issuer resolves the dispute first.
    DocumentDisputed,
    /// 409: a renewal (the same scheme and tier as the card it replaces) applied for before
    /// the card's renewal window opens (`cards.renewal_window_days` before its last day).
    RenewalNotOpen,
    /// 409: the account's evidence (bytes or files, across all its applications) is at its
    /// quota; withdrawing a draft frees its files.
    EvidenceQuotaExceeded,
    /// 422: the card is not active, or not recognised where it is presented.
    CardNotValid,
    /// 422: the redemption needs the card shown: a `presentation_id` of this agency's valid
    /// check by credential in the last 10 minutes, not a number.
    PresentationRequired,
    /// 422: the service's rule needs a holder-bound presentation (a wallet-signed presentation
    /// or a dynamic code), and the `presentation_id` named is not one.
    HolderBindingRequired,
    /// 408: the body did not arrive within the allowed time (a slow or stalled client).
    RequestTimeout,
    /// 413: the body is larger than allowed.
    PayloadTooLarge,
    /// 415: the body is not of a type this endpoint reads.
    UnsupportedMediaType,
    /// 429: too many requests; see `Retry-After`.
    RateLimited,
    /// 503: a dependency (the database) is unavailable; try again.
    ServiceUnavailable,
    /// 500: a fault of ours; the request id in the logs explains it.
    InternalError,
}

impl ErrorCode {
    /// The HTTP status this code is always answered with.
    pub fn status(self) -> StatusCode {
        use ErrorCode::*;
        match self {
            ValidationFailed | CardNotValid | PresentationRequired | HolderBindingRequired => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            MalformedRequest => StatusCode::BAD_REQUEST,
            Unauthorized | InvalidCredentials | MfaRequired => StatusCode::UNAUTHORIZED,
            Forbidden => StatusCode::FORBIDDEN,
            NotFound => StatusCode::NOT_FOUND,
            MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            Conflict
            | EmailTaken
            | InvalidTransition
            | QuotaExhausted
            | DocumentLocked
            | DocumentDisputed
            | RenewalNotOpen
            | EvidenceQuotaExceeded => StatusCode::CONFLICT,
            RequestTimeout => StatusCode::REQUEST_TIMEOUT,
            PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            UnsupportedMediaType => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            RateLimited => StatusCode::TOO_MANY_REQUESTS,
            ServiceUnavailable => StatusCode::SERVICE_UNAVAILABLE,
            InternalError => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The snake_case name sent as `code`.
    pub fn as_str(self) -> &'static str {
        use ErrorCode::*;
        match self {
            ValidationFailed => "validation_failed",
            MalformedRequest => "malformed_request",
            Unauthorized => "unauthorized",
            InvalidCredentials => "invalid_credentials",
            MfaRequired => "mfa_required",
            Forbidden => "forbidden",
            NotFound => "not_found",
            MethodNotAllowed => "method_not_allowed",
            Conflict => "conflict",
            EmailTaken => "email_taken",
            InvalidTransition => "invalid_transition",
            QuotaExhausted => "quota_exhausted",
            DocumentLocked => "document_locked",
            DocumentDisputed => "document_disputed",
            RenewalNotOpen => "renewal_not_open",
            EvidenceQuotaExceeded => "evidence_quota_exceeded",
            CardNotValid => "card_not_valid",
            PresentationRequired => "presentation_required",
            HolderBindingRequired => "holder_binding_required",
            RequestTimeout => "request_timeout",
            PayloadTooLarge => "payload_too_large",
            UnsupportedMediaType => "unsupported_media_type",
            RateLimited => "rate_limited",
            ServiceUnavailable => "service_unavailable",
            InternalError => "internal_error",
        }
    }
}

/// One field that failed validation.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct FieldError {
    /// Path of the field in the body, for example `employer.credit_code`.
    pub field: String,
    /// What is wrong, in words a client developer can show.
    pub message: String,
}

/// The RFC 9457 body every error is answered with.
#[derive(Debug, Serialize, ToSchema)]
pub struct ProblemDetails {
    /// A URI naming the kind of problem; stable per `code`.
    #[serde(rename = "type")]
    pub problem_type: String,
    /// A short, human-readable summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// An explanation of this occurrence.
    pub detail: String,
    /// The stable machine-readable code.
    pub code: ErrorCode,
    /// Fields that failed validation, when there are any.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
}

/// An error answered to the client as problem+json.
#[derive(Debug)]
pub struct ApiError {
    code: ErrorCode,
    detail: String,
    errors: Vec<FieldError>,
    retry_after_secs: Option<u64>,
}

impl ApiError {
    /// An error with a code and a client-safe explanation.
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            retry_after_secs: None,
        }
    }

    /// 422 with one entry per failing field.
    pub fn validation(errors: Vec<FieldError>) -> Self {
        let mut error = ApiError::new(
            ErrorCode::ValidationFailed,
            "the request has fields that are not acceptable",
        );
        error.errors = errors;
        error
    }

    /// 422 for one field.
    pub fn invalid_field(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::validation(vec![FieldError {
            field: field.into(),
            message: message.into(),
        }])
    }

    /// 404 that says nothing about whether the resource exists for someone else.
    pub fn not_found() -> Self {
        ApiError::new(ErrorCode::NotFound, "no such resource")
    }

    /// 503 for a database that is down or a pool that is exhausted.
    pub fn unavailable() -> Self {
        ApiError::new(
            ErrorCode::ServiceUnavailable,
            "the service is temporarily unavailable; try again shortly",
        )
        .with_retry_after(1)
    }

    /// 500 for a fault of ours. The cause is logged here, with the request's span, and never
    /// sent to the client.
    pub fn internal(cause: impl std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "internal error");
        ApiError::new(ErrorCode::InternalError, "an internal error occurred")
    }

    /// The problem for a bare status produced outside our handlers (actix's 404 for an unknown
    /// route, 405 for a known route with another method, ...); `None` for statuses we never
    /// produce that way.
    pub fn for_status(status: StatusCode) -> Option<Self> {
        let (code, detail) = match status.as_u16() {
            400 => (ErrorCode::MalformedRequest, "the request is malformed"),
            404 => (ErrorCode::NotFound, "no such resource"),
            405 => (
                ErrorCode::MethodNotAllowed,
                "this method is not allowed here",
            ),
            413 => (ErrorCode::PayloadTooLarge, "the body is too large"),
            415 => (
                ErrorCode::UnsupportedMediaType,
                "the body's content type is not accepted",
            ),
            503 => return Some(ApiError::unavailable()),
            500 => (ErrorCode::InternalError, "an internal error occurred"),
            _ => return None,
        };
        Some(ApiError::new(code, detail))
    }

    /// Adds a `Retry-After` header (429, 503).
    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }

    /// The body that will be sent.
    pub fn problem(&self) -> ProblemDetails {
        let status = self.code.status();
        ProblemDetails {
            problem_type: format!("tag:talentcard,2026:problem:{}", self.code.as_str()),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: self.detail.clone(),
            code: self.code,
            errors: self.errors.clone(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

impl std::error::Error for ApiError {}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.status_code());
        response.content_type("application/problem+json");
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        if self.code == ErrorCode::Unauthorized {
            // RFC 6750: say which scheme is expected, nothing about why the token failed.
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"talentcard\""));
        }
        if let Some(seconds) = self.retry_after_secs {
            response.insert_header((header::RETRY_AFTER, seconds.to_string()));
        }
        response.json(self.problem())
    }
}

impl From<DieselError> for ApiError {
    fn from(error: DieselError) -> Self {
        match &error {
            DieselError::NotFound => ApiError::not_found(),
            DieselError::DatabaseError(kind, info) => match kind {
                DatabaseErrorKind::UniqueViolation => {
                    ApiError::new(ErrorCode::Conflict, "the resource already exists")
                }
                // The database's own constraints caught input the handler should have refused;
                // still the client's mistake, not ours.
                DatabaseErrorKind::CheckViolation
                | DatabaseErrorKind::NotNullViolation
                | DatabaseErrorKind::ForeignKeyViolation => ApiError::new(
                    ErrorCode::ValidationFailed,
                    "the request refers to something that does not exist or is not allowed",
                ),
                _ if info.message().contains("invalid byte sequence") => ApiError::new(
                    ErrorCode::ValidationFailed,
                    "text may not contain NUL characters",
                ),
                DatabaseErrorKind::SerializationFailure => ApiError::new(
                    ErrorCode::Conflict,
                    "a concurrent change interfered; try again",
                ),
                DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand => {
                    tracing::warn!(error = %error, "database connection lost");
                    ApiError::unavailable()
                }
                _ if is_unavailable_message(info.message()) => {
                    tracing::warn!(error = %error, "database unavailable");
                    ApiError::unavailable()
                }
                _ => ApiError::internal(error),
            },
            _ => ApiError::internal(error),
        }
    }
}

/// Messages PostgreSQL and the driver give when the server is going away or a statement ran
/// past `statement_timeout`; both are the database's trouble, not the client's.
fn is_unavailable_message(message: &str) -> bool {
    const MARKERS: [&str; 6] = [
        "statement timeout",
        "terminating connection",
        "the database system is",
        "connection closed",
        "error communicating with the server",
        "server closed the connection",
    ];
    MARKERS.iter().any(|marker| message.contains(marker))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_maps_to_its_contract_status() {
        let cases = [
            (ErrorCode::ValidationFailed, 422, "validation_failed"),
            (ErrorCode::MalformedRequest, 400, "malformed_request"),
            (ErrorCode::InvalidCredentials, 401, "invalid_credentials"),
            (ErrorCode::EmailTaken, 409, "email_taken"),
            (ErrorCode::QuotaExhausted, 409, "quota_exhausted"),
            (ErrorCode::DocumentLocked, 409, "document_locked"),
            (ErrorCode::DocumentDisputed, 409, "document_disputed"),
            (
                ErrorCode::EvidenceQuotaExceeded,
                409,
                "evidence_quota_exceeded",
            ),
            (
                ErrorCode::PresentationRequired,
                422,
                "presentation_required",
            ),
            (ErrorCode::PayloadTooLarge, 413, "payload_too_large"),
            (ErrorCode::RateLimited, 429, "rate_limited"),
            (ErrorCode::ServiceUnavailable, 503, "service_unavailable"),
        ];
        for (code, status, name) in cases {
            assert_eq!(code.status().as_u16(), status, "{name}");
            assert_eq!(code.as_str(), name);
            let json = serde_json::to_value(code).unwrap_or_default();
            assert_eq!(json, serde_json::json!(name));
        }
    }

    #[test]
    fn unique_violation_is_conflict_and_not_found_is_404() {
        assert_eq!(
            ApiError::from(DieselError::NotFound).code(),
            ErrorCode::NotFound
        );
        assert_eq!(
            ApiError::from(DieselError::RollbackTransaction).code(),
            ErrorCode::InternalError
        );
    }

    #[test]
    fn problem_body_never_carries_the_internal_cause() {
        let error = ApiError::internal("relation \"accounts\" does not exist at /src/db.rs");
        let body = serde_json::to_string(&error.problem()).unwrap_or_default();
        assert!(!body.contains("accounts"));
        assert!(!body.contains("/src/"));
        assert!(body.contains("internal_error"));
    }
}
