//! `POST /api/v1/auth/token`: the OAuth 2.0 client-credentials grant for partner agencies.
//! Errors follow RFC 6749 section 5.2 (`{"error": "invalid_client"}`), not problem+json; a rate
//! limit, which RFC 6749 has no error for, is the house's 429 problem+json with `Retry-After`.

use actix_web::http::header::{AUTHORIZATION, CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpRequest, HttpResponse, post, web};
use base64::Engine;
use chrono::{DateTime, TimeDelta, Utc};
use diesel_async::AsyncPgConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::auth::tokens::{Subject, TokenUse};
use crate::crypto::random::{constant_time_eq, sha256_hex};
use crate::domain::throttle::address_bucket;
use crate::error::ApiError;
use crate::extract::{BodyLimits, client_ip, read_body};
use crate::models::account::Role;
use crate::models::{address_rate, agency};
use crate::routes::auth::throttle::{refuse_if_full, take_or_refuse};
use crate::state::AppState;

/// The form fields of the grant (`application/x-www-form-urlencoded`).
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientCredentials {
    /// Must be `client_credentials`.
    pub grant_type: String,
    /// The client id (or in HTTP Basic authentication).
    #[serde(default)]
    pub client_id: Option<String>,
    /// The client secret (or in HTTP Basic authentication).
    #[serde(default)]
    pub client_secret: Option<String>,
}

/// An agency access token.
#[derive(Debug, Serialize, ToSchema)]
pub struct ClientToken {
    /// Signed access token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
}

/// An RFC 6749 error.
#[derive(Debug, Serialize, ToSchema)]
pub struct OAuthError {
    /// `invalid_request`, `invalid_client` or `unsupported_grant_type`.
    pub error: &'static str,
}

fn oauth_error(status: u16, error: &'static str) -> HttpResponse {
    let status = actix_web::http::StatusCode::from_u16(status)
        .unwrap_or(actix_web::http::StatusCode::BAD_REQUEST);
    let mut response = HttpResponse::build(status);
    response.insert_header((CACHE_CONTROL, "no-store"));
    if error == "invalid_client" {
        response.insert_header(("WWW-Authenticate", "Basic realm=\"talentcard\""));
    }
    response.json(OAuthError { error })
}

/// A client-credentials form is three short fields; anything much larger is not one.
const FORM_LIMIT_BYTES: usize = 4096;

fn basic_credentials(req: &HttpRequest) -> Option<(String, String)> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, encoded) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .ok()?;
    let (id, secret) = std::str::from_utf8(&decoded).ok()?.split_once(':')?;
    Some((id.to_owned(), secret.to_owned()))
}

/// Counts a request against the client address's allowance (every request, before anything
/// is read), 429 beyond it.
async fn admit_address(
    req: &HttpRequest,
    state: &AppState,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let Some(address) = client_ip(req, &state.trusted_proxies) else {
        return Ok(());
    };
    let mut conn = state.pool.get().await?;
    let key = format!("token_address:{}", address_bucket(address));
    let limit = state.auth.client_tokens_per_address_minute;
    take_or_refuse(&mut conn, &key, limit, TimeDelta::minutes(1), now).await
}

/// Counts a token about to be issued to an authenticated client, 429 when its minute is full.
/// Only authenticated requests reach it, so nobody without the secret uses up the allowance.
async fn charge_client(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    client_id: Uuid,
    now: DateTime<Utc>,
) -> Result<(), ApiError> {
    let key = format!("token_client:{client_id}");
    let limit = state.auth.client_tokens_per_client_minute;
    refuse_if_full(conn, &key, limit, TimeDelta::minutes(1), now).await?;
    if limit > 0 {
        address_rate::take(conn, &key, TimeDelta::minutes(1), now).await?;
    }
    Ok(())
}

/// Exchanges an agency client's id and secret for an access token. Each client address may ask
/// `auth.client_tokens_per_address_minute` times a minute, and each client be issued
/// `auth.client_tokens_per_client_minute` tokens (only issued tokens count, so nobody without
/// the secret can use up a client's allowance).
#[utoipa::path(
    tag = "accounts",
    request_body(content = ClientCredentials, content_type = "application/x-www-form-urlencoded"),
    responses(
        (status = 200, description = "An access token for the client (RFC 6749, 5.1)", body = ClientToken),
        (status = 400, description = "An RFC 6749 error: invalid_request or unsupported_grant_type", body = OAuthError),
        (status = 401, description = "An RFC 6749 error: invalid_client (unknown or revoked client, wrong secret)", body = OAuthError),
        (status = 429, description = "rate_limited: too many requests from this address or tokens for this client, with Retry-After"),
    )
)]
#[post("/auth/token")]
pub async fn client_token(
    req: HttpRequest,
    state: web::Data<AppState>,
    mut payload: web::Payload,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    admit_address(&req, &state, now).await?;
    let limits = BodyLimits::of(&req);
    // A form that is too large, too slow or unreadable is an RFC 6749 `invalid_request`, like
    // every other mistake at this endpoint.
    let Ok(body) = read_body(&mut payload, FORM_LIMIT_BYTES, limits.json_timeout).await else {
        return Ok(oauth_error(400, "invalid_request"));
    };
    let is_form = req
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.to_ascii_lowercase()
                .starts_with("application/x-www-form-urlencoded")
        });
    let Some(form) = is_form
        .then(|| serde_urlencoded::from_bytes::<ClientCredentials>(&body).ok())
        .flatten()
    else {
        return Ok(oauth_error(400, "invalid_request"));
    };
    if form.grant_type != "client_credentials" {
        return Ok(oauth_error(400, "unsupported_grant_type"));
    }
    let Some((id, secret)) = basic_credentials(&req).or(form.client_id.zip(form.client_secret))
    else {
        return Ok(oauth_error(401, "invalid_client"));
    };
    let mut conn = state.pool.get().await?;
    let client_id = Uuid::parse_str(&id).ok();
    let found = match client_id {
        Some(client_id) => agency::live_client(&mut conn, client_id).await?,
        None => None,
    };
    let presented = sha256_hex(&secret);
    let (Some(client_id), Some((agency, hash))) = (client_id, found) else {
        return Ok(oauth_error(401, "invalid_client"));
    };
    if !constant_time_eq(&presented, &hash) {
        let event = AuditEvent {
            actor: Actor::Anonymous,
            action: "agency_client.authentication_failed",
            entity_type: "agency_client",
            entity_id: Some(client_id.to_string()),
            detail: json!({ "agency": agency.id }),
        };
        diesel_async::AsyncConnection::transaction(&mut conn, async |c| {
            audit::record(c, &event).await
        })
        .await?;
        return Ok(oauth_error(401, "invalid_client"));
    }
    charge_client(&state, &mut conn, client_id, now).await?;
    let subject = Subject {
        id: client_id,
        role: Role::Agency.as_str().to_owned(),
        session: None,
        issuer: None,
        agency: Some(agency.id),
    };
    let access_token = state
        .tokens
        .issue(&subject, TokenUse::Access, now)
        .map_err(ApiError::internal)?;
    Ok(HttpResponse::Ok()
        .insert_header((CACHE_CONTROL, "no-store"))
        .json(ClientToken {
            access_token,
            token_type: "Bearer",
            expires_in: state.tokens.ttl_secs(),
        }))
}
