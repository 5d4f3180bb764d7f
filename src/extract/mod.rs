//! Request extractors and the extractor error handlers that keep every client mistake in
//! problem+json.
//!
//! [`ApiJson`] replaces actix's `Json`: it reads at most the configured number of bytes (413
//! beyond), insists on a JSON content type (415), tells unparseable bodies (400
//! `malformed_request`) from well-formed bodies with wrong or missing fields (422
//! `validation_failed` with the field's path).
//!
//! Who is calling is extracted here too (`caller`): the role extractors every protected
//! handler names in its signature.

pub mod caller;

pub use caller::{
    Admin, AgencyClient, AuthUser, Caller, EmployerUser, MfaEnrollee, Official, Talent,
};

use actix_web::dev::Payload;
use actix_web::http::header;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::StreamExt;
use futures_util::future::LocalBoxFuture;
use serde::de::DeserializeOwned;

use crate::error::{ApiError, ErrorCode, FieldError};

/// How much of a request body a handler reads, and how long it waits for it; shared with the
/// extractors through app data. Both bounds exist so that a client cannot hold memory or a
/// task for as long as it likes by sending a huge or a trickling body.
#[derive(Debug, Clone, Copy)]
pub struct BodyLimits {
    /// The largest JSON body read (413 beyond).
    pub json_bytes: usize,
    /// How long a JSON body may take to arrive (408 after it).
    pub json_timeout: std::time::Duration,
    /// How long an evidence upload may take to arrive (408 after it).
    pub upload_timeout: std::time::Duration,
}

impl Default for BodyLimits {
    fn default() -> Self {
        BodyLimits {
            json_bytes: 64 * 1024,
            json_timeout: std::time::Duration::from_secs(10),
            upload_timeout: std::time::Duration::from_secs(120),
        }
    }
}

impl BodyLimits {
    /// The limits the app was configured with (the defaults outside an app, in unit tests).
    pub fn of(req: &HttpRequest) -> BodyLimits {
        req.app_data::<BodyLimits>().copied().unwrap_or_default()
    }
}

/// Reads a whole body of at most `limit` bytes (413 beyond, without reading further) that
/// arrives within `timeout` (408 after it).
pub async fn read_body(
    payload: &mut (
             impl futures_util::Stream<Item = Result<web::Bytes, actix_web::error::PayloadError>> + Unpin
         ),
    limit: usize,
    timeout: std::time::Duration,
) -> Result<web::BytesMut, ApiError> {
    let read = async {
        let mut body = web::BytesMut::new();
        while let Some(chunk) = payload.next().await {
            let chunk = chunk.map_err(|_| {
                ApiError::new(ErrorCode::MalformedRequest, "the body could not be read")
            })?;
            if body.len() + chunk.len() > limit {
                return Err(too_large(limit));
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    };
    tokio::time::timeout(timeout, read)
        .await
        .map_err(|_| body_timed_out())?
}

/// The answer to a body that did not arrive in time.
pub fn body_timed_out() -> ApiError {
    ApiError::new(ErrorCode::RequestTimeout, "the body did not arrive in time")
}

/// A JSON body, deserialised with the path of the first bad field reported.
#[derive(Debug)]
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for ApiJson<T> {
    type Error = ApiError;
    type Future = LocalBoxFuture<'static, Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let limits = BodyLimits::of(req);
        let limit = limits.json_bytes;
        let is_json = has_json_content_type(req);
        let declared_length = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        let mut payload = payload.take();
        Box::pin(async move {
            if !is_json {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "the body must be JSON with Content-Type: application/json",
                ));
            }
            if declared_length.is_some_and(|len| len > limit) {
                return Err(too_large(limit));
            }
            let body = read_body(&mut payload, limit, limits.json_timeout).await?;
            parse_json(&body).map(ApiJson)
        })
    }
}

fn too_large(limit: usize) -> ApiError {
    ApiError::new(
        ErrorCode::PayloadTooLarge,
        format!("the body is larger than {limit} bytes"),
    )
}

fn has_json_content_type(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|essence| {
            let essence = essence.trim().to_ascii_lowercase();
            essence == "application/json" || essence.ends_with("+json")
        })
        .unwrap_or(false)
}

/// Parses a JSON body: syntax errors are 400, type and field errors 422 naming the field.
/// A NUL character (only expressible as `\u0000` in JSON) is refused: PostgreSQL text cannot
/// hold it.
pub fn parse_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    if body.windows(6).any(|w| w.eq_ignore_ascii_case(b"\\u0000")) {
        return Err(ApiError::invalid_field(
            "body",
            "text may not contain NUL characters",
        ));
    }
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = parent_of_unknown(error.path(), error.inner())
            .unwrap_or_else(|| error.path().to_string());
        let inner = error.into_inner();
        match inner.classify() {
            serde_json::error::Category::Data => data_error(&path, &inner),
            _ => ApiError::new(ErrorCode::MalformedRequest, "the body is not valid JSON"),
        }
    })?;
    deserializer
        .end()
        .map_err(|_| ApiError::new(ErrorCode::MalformedRequest, "the body is not valid JSON"))?;
    Ok(value)
}

/// For an unknown field serde's path ends with the client's own key (an ID number sent as a
/// key, say): the path of the object it was found in, or `.` at the top.
fn parent_of_unknown(
    path: &serde_path_to_error::Path,
    error: &serde_json::Error,
) -> Option<String> {
    if !error.to_string().starts_with("unknown field `") {
        return None;
    }
    let full = path.to_string();
    let Some(serde_path_to_error::Segment::Map { key }) = path.iter().next_back() else {
        return Some(full);
    };
    let parent = full.strip_suffix(key.as_str())?.trim_end_matches('.');
    Some(if parent.is_empty() {
        ".".to_owned()
    } else {
        parent.to_owned()
    })
}

fn data_error(path: &str, error: &serde_json::Error) -> ApiError {
    // serde_json's message ends with " at line L column C"; the client gets the field instead.
    let message = error.to_string();
    let message = without_value(
        message
            .split(" at line ")
            .next()
            .unwrap_or("is not acceptable"),
    );
    let parent = if path == "." { "" } else { path };
    // An unknown field's name is the client's own text (an ID number sent as a key, say): the
    // answer names the object it was found in and what that object takes, never the key.
    if message.starts_with("unknown field `") {
        // serde's list of the fields the object takes follows the last ", expected " (ours
        // contain none); everything before it may be the client's.
        let expected = message
            .rsplit_once(", expected ")
            .map(|(_, list)| format!(", expected {list}"))
            .unwrap_or_default();
        let field = if parent.is_empty() { "body" } else { parent };
        return ApiError::validation(vec![FieldError {
            field: field.to_owned(),
            message: format!("unknown field{expected}"),
        }]);
    }
    let field = match message
        .strip_prefix("missing field `")
        .and_then(|rest| rest.split('`').next())
    {
        Some(missing) if parent.is_empty() => missing.to_owned(),
        Some(missing) => format!("{parent}.{missing}"),
        None if parent.is_empty() => "body".to_owned(),
        None => parent.to_owned(),
    };
    ApiError::validation(vec![FieldError { field, message }])
}

/// serde's message without the value it quotes: `invalid type: string "110105…", expected u32`
/// becomes `invalid type: string, expected u32`. The value may be personal data (an ID number
/// in the wrong field), and problem bodies end up in logs, proxies and bug reports.
fn without_value(message: &str) -> String {
    // The last ", expected": what follows it is serde's (the type's), what precedes it may hold
    // the client's value, which may itself contain ", expected".
    let Some((found, expected)) = message.rsplit_once(", expected") else {
        return message.to_owned();
    };
    // The earliest known prefix is serde's (actix may put "Query deserialize error: " before
    // it); a later one could sit inside the client's value.
    let kind = [
        "invalid type: ",
        "invalid value: ",
        "invalid length ",
        "unknown variant ",
        "unknown field ",
    ]
    .iter()
    .filter_map(|prefix| found.find(prefix).map(|at| (at, *prefix)))
    .min()
    .map(|(at, prefix)| {
        let rest = &found[at + prefix.len()..];
        // `string "…"`, `integer `…``, `map`: keep the first word (the kind) only.
        match rest.split([' ', '`', '"']).next().unwrap_or_default() {
            "" => prefix.trim_end().to_owned(),
            word => format!("{prefix}{word}"),
        }
    });
    match kind {
        Some(kind) => format!("{kind}, expected{expected}"),
        None => message.to_owned(),
    }
}

/// The client's address: the peer, or, when the peer is a configured trusted proxy, the last
/// address in `X-Forwarded-For` that is not one of the trusted proxies.
pub fn client_ip(
    req: &HttpRequest,
    trusted_proxies: &[std::net::IpAddr],
) -> Option<std::net::IpAddr> {
    let peer = req.peer_addr()?.ip();
    if !trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
        .collect::<Vec<_>>();
    Some(
        forwarded
            .into_iter()
            .rev()
            .find(|ip| !trusted_proxies.contains(ip))
            .unwrap_or(peer),
    )
}

/// The `Idempotency-Key` header of a decision or redemption, if sent: 1 to 255 visible
/// characters, else 422.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("idempotency-key") else {
        return Ok(None);
    };
    let key = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|k| !k.is_empty() && k.len() <= 255);
    key.map(|k| Some(k.to_owned())).ok_or_else(|| {
        ApiError::invalid_field("Idempotency-Key", "must be 1 to 255 visible characters")
    })
}

/// Path segments that do not parse (a malformed UUID, say) name no resource: 404.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| ApiError::not_found().into())
}

/// Query strings that do not parse are 422 naming the problem.
pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|error, _| {
        ApiError::invalid_field("query", without_value(&error.to_string())).into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[test]
    fn messages_name_the_kind_of_a_wrong_value_but_never_the_value() {
        let cases = [
            (
                "invalid type: string \"110105198501010019\", expected u32",
                "invalid type: string, expected u32",
            ),
            (
                "invalid type: integer `110105198501010019`, expected a string",
                "invalid type: integer, expected a string",
            ),
            (
                "invalid value: string \"secret\", expected a date",
                "invalid value: string, expected a date",
            ),
            (
                "unknown variant `110105198501010019`, expected `resident_id` or `passport`",
                "unknown variant, expected `resident_id` or `passport`",
            ),
            (
                "invalid type: map, expected a string",
                "invalid type: map, expected a string",
            ),
            ("missing field `email`", "missing field `email`"),
            (
                "invalid type: string \"x, expected 110105198501010019\", expected u32",
                "invalid type: string, expected u32",
            ),
            (
                "Query deserialize error: unknown variant `110105198501010019`, expected `draft`",
                "unknown variant, expected `draft`",
            ),
            (
                "unknown variant `invalid type: secret`, expected `draft`",
                "unknown variant, expected `draft`",
            ),
            (
                "unknown field `role`, expected one of `email`",
                "unknown field, expected one of `email`",
            ),
            (
                "Query deserialize error: unknown field `110105198501010019`, expected `limit`",
                "unknown field, expected `limit`",
            ),
        ];
        for (raw, cleaned) in cases {
            assert_eq!(without_value(raw), cleaned);
        }
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Body {
        email: String,
        employer: Employer,
    }

    #[derive(Debug, Deserialize)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Employer {
        months: u32,
    }

    fn field_of(body: &str) -> (ErrorCode, String) {
        match parse_json::<Body>(body.as_bytes()) {
            Ok(_) => (ErrorCode::InternalError, String::new()),
            Err(e) => (
                e.code(),
                e.problem()
                    .errors
                    .first()
                    .map(|f| f.field.clone())
                    .unwrap_or_default(),
            ),
        }
    }

    #[test]
    fn nul_characters_are_refused() {
        let parsed = parse_json::<serde_json::Value>(br#"{"name":"a\u0000b"}"#);
        assert_eq!(
            parsed.err().map(|e| e.code()),
            Some(ErrorCode::ValidationFailed)
        );
    }

    #[test]
    fn syntax_errors_are_malformed() {
        assert_eq!(field_of("{\"email\":").0, ErrorCode::MalformedRequest);
        assert_eq!(field_of("not json").0, ErrorCode::MalformedRequest);
        let ok_then_garbage = r#"{"email":"a","employer":{"months":1}} x"#;
        assert_eq!(field_of(ok_then_garbage).0, ErrorCode::MalformedRequest);
    }

    #[test]
    fn data_errors_name_the_field() {
        let missing = field_of(r#"{"employer":{"months":1}}"#);
        assert_eq!(missing, (ErrorCode::ValidationFailed, "email".to_owned()));
        let nested = field_of(r#"{"email":"a","employer":{"months":"many"}}"#);
        assert_eq!(
            nested,
            (ErrorCode::ValidationFailed, "employer.months".to_owned())
        );
        let nested_missing = field_of(r#"{"email":"a","employer":{}}"#);
        assert_eq!(
            nested_missing,
            (ErrorCode::ValidationFailed, "employer.months".to_owned())
        );
    }

    fn problem_of(body: &str) -> (String, String) {
        match parse_json::<Body>(body.as_bytes()) {
            Ok(_) => (String::new(), String::new()),
            Err(e) => {
                let problem = e.problem();
                let first = problem.errors.first().cloned();
                let text = serde_json::to_string(&problem).unwrap_or_default();
                first.map_or((String::new(), text), |f| (f.field, f.message))
            }
        }
    }

    #[test]
    fn unknown_fields_are_named_by_their_parent_never_echoed() {
        let id = "110105198501010019";
        let (field, message) = problem_of(&format!(
            r#"{{"email":"a","employer":{{"months":1}},"{id}":1}}"#
        ));
        assert_eq!(field, "body");
        assert_eq!(message, "unknown field, expected `email` or `employer`");
        let raw = parse_json::<Body>(format!(r#"{{"{id}":1}}"#).as_bytes())
            .err()
            .map(|e| serde_json::to_string(&e.problem()).unwrap_or_default())
            .unwrap_or_default();
        assert!(!raw.contains(id), "{raw}");
        assert!(raw.contains("unknown field"), "{raw}");
        let tricky = "x`, expected one of `y";
        let raw = parse_json::<Body>(format!(r#"{{"{tricky}":1}}"#).as_bytes())
            .err()
            .map(|e| serde_json::to_string(&e.problem()).unwrap_or_default())
            .unwrap_or_default();
        assert!(!raw.contains("x`"), "{raw}");
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Outer {
        inner: Inner,
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[expect(dead_code, reason = "fields exist to be deserialised")]
    struct Inner {
        months: u32,
    }

    #[test]
    fn a_nested_unknown_field_names_its_object() {
        let error = parse_json::<Outer>(br#"{"inner":{"months":1,"110105198501010019":2}}"#).err();
        let problem = error.map(|e| e.problem());
        let first = problem.as_ref().and_then(|p| p.errors.first());
        assert_eq!(first.map(|f| f.field.as_str()), Some("inner"));
        assert_eq!(
            first.map(|f| f.message.as_str()),
            Some("unknown field, expected `months`")
        );
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        let parsed = parse_json::<serde_json::Value>(deep.as_bytes());
        assert_eq!(
            parsed.err().map(|e| e.code()),
            Some(ErrorCode::MalformedRequest)
        );
    }

    mod over_http {
        use actix_web::{App, HttpResponse, post, test};

        use super::super::{ApiJson, BodyLimits};

        #[derive(serde::Deserialize)]
        struct Echo {
            name: String,
            count: u32,
        }

        #[post("/echo")]
        async fn echo(body: ApiJson<Echo>) -> HttpResponse {
            HttpResponse::Ok().body(format!("{}:{}", body.0.name, body.0.count))
        }

        async fn send(content_type: &str, body: Vec<u8>) -> (u16, serde_json::Value) {
            let app =
                test::init_service(App::new().app_data(BodyLimits::default()).service(echo)).await;
            let request = test::TestRequest::post()
                .uri("/echo")
                .insert_header(("content-type", content_type))
                .set_payload(body)
                .to_request();
            let response = test::call_service(&app, request).await;
            let status = response.status().as_u16();
            let bytes = test::read_body(response).await;
            let json = serde_json::from_slice(&bytes).unwrap_or(serde_json::Value::Null);
            (status, json)
        }

        #[actix_web::test]
        async fn json_mistakes_become_problems() {
            let json = "application/json";
            let (status, _) = send(json, br#"{"name":"a","count":2}"#.to_vec()).await;
            assert_eq!(status, 200);
            let (status, body) = send(json, b"{\"name\":".to_vec()).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (400, Some("malformed_request"))
            );
            let (status, body) = send(json, br#"{"name":"a","count":"two"}"#.to_vec()).await;
            assert_eq!(
                (status, body["errors"][0]["field"].as_str()),
                (422, Some("count"))
            );
            let (status, body) = send(json, br#"{"count":1}"#.to_vec()).await;
            assert_eq!(
                (status, body["errors"][0]["field"].as_str()),
                (422, Some("name"))
            );
            let (status, body) = send("text/plain", br#"{"name":"a","count":2}"#.to_vec()).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (415, Some("unsupported_media_type"))
            );
        }

        #[actix_web::test]
        async fn a_body_over_64_kib_is_413() {
            let big = format!(r#"{{"name":"{}","count":1}}"#, "x".repeat(64 * 1024));
            let (status, body) = send("application/json", big.into_bytes()).await;
            assert_eq!(
                (status, body["code"].as_str()),
                (413, Some("payload_too_large"))
            );
        }
    }
}
