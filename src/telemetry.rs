//! Structured logging and the per-request span.
//!
//! Each request gets an id: the caller's `X-Request-Id` when it is a sane token, a fresh UUID v7
//! otherwise. The id is on the span every log line of the request carries, and it is echoed in
//! the response. Logs carry the method, the route pattern (never the query string), the status and
//! the latency, and never bodies, tokens or personal data.
//!
//! Requests actix-http cannot parse are counted, not logged at ERROR ([`malformed`]): their
//! number is the client's choice.

mod malformed;

pub use malformed::is_malformed_request;

use std::time::Instant;

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Instrument;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::filter::FilterExt;
use tracing_subscriber::layer::{Layer, SubscriberExt};
use tracing_subscriber::util::SubscriberInitExt;

use crate::configuration::LogSettings;

/// The header carrying the request id in and out.
pub const REQUEST_ID_HEADER: HeaderName = HeaderName::from_static("x-request-id");

/// The id of the request being served; handlers can read it from the request extensions.
#[derive(Debug, Clone)]
pub struct RequestId(pub String);

/// Installs the global subscriber once; later calls (tests) are ignored.
///
/// The configured filter applies to the log output only: the malformed-request counter sees the
/// dispatcher's errors whatever the filter, and the output never shows them.
pub fn init(settings: &LogSettings) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(settings.filter.as_str()));
    let shown = filter.and(malformed::Quiet);
    let registry = tracing_subscriber::registry().with(malformed::counter());
    let _ = if settings.format == "json" {
        registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_filter(shown),
            )
            .try_init()
    } else {
        registry
            .with(tracing_subscriber::fmt::layer().with_filter(shown))
            .try_init()
    };
}

fn accepted_request_id(value: &HeaderValue) -> Option<String> {
    let value = value.to_str().ok()?;
    let sane = !value.is_empty()
        && value.len() <= 64
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    sane.then(|| value.to_owned())
}

/// Middleware: assigns the request id, runs the request inside its span, logs one line when it
/// finishes and echoes the id in `X-Request-Id`.
pub async fn trace_requests(
    req: ServiceRequest,
    next: Next<impl MessageBody + 'static>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let request_id = req
        .headers()
        .get(&REQUEST_ID_HEADER)
        .and_then(accepted_request_id)
        .unwrap_or_else(|| uuid::Uuid::now_v7().to_string());
    req.extensions_mut().insert(RequestId(request_id.clone()));
    let span = tracing::info_span!(
        "request",
        request_id = %request_id,
        method = %req.method(),
        route = tracing::field::Empty,
    );
    let started = Instant::now();
    let mut response = next.call(req).instrument(span.clone()).await?;
    let status = response.status().as_u16();
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    span.record("route", route.as_str());
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    span.in_scope(|| match status {
        500.. => tracing::error!(status, latency_ms, "request failed"),
        400..=499 => tracing::info!(status, latency_ms, "request refused"),
        _ => tracing::info!(status, latency_ms, "request served"),
    });
    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response.headers_mut().insert(REQUEST_ID_HEADER, value);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_sane_request_ids_are_taken() {
        let take = |s: &str| {
            accepted_request_id(&HeaderValue::from_str(s).unwrap_or(HeaderValue::from_static("")))
        };
        assert_eq!(take("abc-123_x.y"), Some("abc-123_x.y".to_owned()));
        assert_eq!(take(""), None);
        assert_eq!(take("has space"), None);
        assert_eq!(take("line\"quote"), None);
        assert_eq!(take(&"a".repeat(65)), None);
    }
}
