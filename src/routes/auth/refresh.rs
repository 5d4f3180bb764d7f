//! `POST /api/v1/auth/refresh`: a new pair for a refresh token, which is then spent.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::TimeDelta;
use serde::Deserialize;
use utoipa::ToSchema;

use super::TokenPair;
use crate::auth::tokens::{Subject, TokenUse};
use crate::domain::throttle::address_bucket;
use crate::error::{ApiError, ErrorCode};
use crate::extract::{ApiJson, client_ip};
use crate::models::session::{self, Rotation};
use crate::routes::auth::throttle::take_or_refuse;
use crate::state::AppState;

/// A refresh token from login or an earlier refresh.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The opaque token.
    pub refresh_token: String,
}

/// Rotates a refresh token. Presenting a spent one revokes its whole session. Each client
/// address may ask `auth.refreshes_per_address_minute` times a minute.
#[utoipa::path(
    tag = "accounts",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new access and refresh token pair; the one presented is spent", body = TokenPair),
        (status = 401, description = "unauthorized: the refresh token is unknown, expired or spent (a spent one also ends its session)"),
        (status = 429, description = "rate_limited: too many refreshes from this address, with Retry-After"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<RefreshRequest>,
) -> Result<HttpResponse, ApiError> {
    let now = state.now();
    let mut conn = state.pool.get().await?;
    if let Some(address) = client_ip(&req, &state.trusted_proxies) {
        let key = format!("refresh_address:{}", address_bucket(address));
        let limit = state.auth.refreshes_per_address_minute;
        take_or_refuse(&mut conn, &key, limit, TimeDelta::minutes(1), now).await?;
    }
    let refused = || ApiError::new(ErrorCode::Unauthorized, "the refresh token is not valid");
    match session::rotate(
        &mut conn,
        &body.0.refresh_token,
        now,
        state.session_limits(),
    )
    .await?
    {
        Rotation::Rotated {
            session_id,
            owner,
            refresh_token,
        } => {
            let subject = Subject {
                id: owner.account_id,
                role: owner.role,
                session: Some(session_id),
                issuer: owner.issuer,
                agency: None,
            };
            let access_token = state
                .tokens
                .issue(&subject, TokenUse::Access, now)
                .map_err(ApiError::internal)?;
            Ok(HttpResponse::Ok().json(TokenPair {
                access_token,
                token_type: "Bearer",
                expires_in: state.tokens.ttl_secs(),
                refresh_token: Some(refresh_token),
                mfa_enrollment_required: false,
            }))
        }
        Rotation::Reused | Rotation::Refused => Err(refused()),
    }
}
