//! `POST /api/v1/auth/login`.

use actix_web::{HttpRequest, HttpResponse, post, web};
use secrecy::SecretString;
use serde::Deserialize;
use utoipa::ToSchema;

use super::TokenPair;
use crate::domain::password::MAX_CHARS;
use crate::error::ApiError;
use crate::extract::{ApiJson, client_ip};
use crate::routes::auth::flow::{Credentials, LoginOutcome, sign_in};
use crate::state::AppState;

/// Credentials; staff add the code their authenticator shows.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account's email.
    pub email: String,
    /// The password.
    pub password: String,
    /// Six digits, for officials and administrators.
    #[serde(default)]
    pub totp: Option<String>,
}

/// Signs in. Unknown email and wrong password give the same 401.
#[utoipa::path(
    tag = "accounts",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Access and refresh tokens", body = TokenPair),
        (status = 401, description = "invalid_credentials or mfa_required"),
        (status = 429, description = "rate_limited, with Retry-After"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<LoginRequest>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    // Oversized passwords are refused before any hashing work is spent on them.
    if body.password.chars().count() > MAX_CHARS || body.email.len() > 320 {
        return Err(ApiError::invalid_field(
            "password",
            format!("must be at most {MAX_CHARS} characters"),
        ));
    }
    let credentials = Credentials {
        email: body.email,
        password: SecretString::from(body.password),
        totp: body.totp,
    };
    let client = client_ip(&req, &state.trusted_proxies);
    let expires_in = state.tokens.ttl_secs();
    let pair = match sign_in(&state, credentials, client).await? {
        LoginOutcome::SignedIn {
            access_token,
            refresh_token,
        } => TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token: Some(refresh_token),
            mfa_enrollment_required: false,
        },
        LoginOutcome::EnrollmentRequired { access_token } => TokenPair {
            access_token,
            token_type: "Bearer",
            expires_in,
            refresh_token: None,
            mfa_enrollment_required: true,
        },
    };
    Ok(HttpResponse::Ok().json(pair))
}
