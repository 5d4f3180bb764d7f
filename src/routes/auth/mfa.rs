//! Staff MFA enrolment: `POST /api/v1/auth/mfa/enroll` then `/auth/mfa/confirm`, both with the
//! enrolment token a first login hands out.

use actix_web::{HttpResponse, post, web};
use diesel_async::AsyncConnection;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::ToSchema;

use super::known_account;
use crate::audit::{self, Actor, AuditEvent};
use crate::auth::totp;
use crate::crypto::pii::Field;
use crate::error::{ApiError, ErrorCode};
use crate::extract::ApiJson;
use crate::extract::MfaEnrollee;
use crate::models::account;
use crate::routes::auth::flow::check_totp;
use crate::state::AppState;

/// What an authenticator app needs.
#[derive(Debug, Serialize, ToSchema)]
pub struct Enrollment {
    /// The TOTP secret, base32.
    pub secret: String,
    /// `otpauth://totp/…`, for a QR code.
    pub otpauth_uri: String,
}

/// The first code the authenticator shows.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// Six digits.
    pub totp: String,
}

fn already_enrolled() -> ApiError {
    ApiError::new(ErrorCode::Conflict, "a second factor is already enrolled")
}

fn event(account_id: uuid::Uuid, action: &'static str) -> AuditEvent {
    AuditEvent {
        actor: Actor::Account(account_id),
        action,
        entity_type: "account",
        entity_id: Some(account_id.to_string()),
        detail: json!({}),
    }
}

/// Starts (or restarts, until confirmed) TOTP enrolment.
#[utoipa::path(
    tag = "accounts",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The TOTP secret and its otpauth URI, to confirm with a first code", body = Enrollment),
        (status = 401, description = "unauthorized: no valid access or enrolment token"),
        (status = 409, description = "conflict: a second factor is already enrolled"),
    )
)]
#[post("/auth/mfa/enroll")]
pub async fn enroll(
    enrollee: MfaEnrollee,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let account = known_account(&mut conn, enrollee.account_id).await?;
    if account.mfa_confirmed_at.is_some() {
        return Err(already_enrolled());
    }
    let secret = totp::new_secret();
    let sealed = state
        .pii
        .seal(
            &hex::encode(&secret),
            Field::TotpSecret,
            account.id.as_bytes(),
        )
        .map_err(ApiError::internal)?;
    let key_id = state.pii.key_id();
    let stored = conn
        .transaction(async |c| {
            let stored = account::set_pending_mfa(c, account.id, &sealed, key_id).await? == 1;
            if stored {
                audit::record(c, &event(account.id, "mfa.enrollment_started")).await?;
            }
            Ok::<_, diesel::result::Error>(stored)
        })
        .await?;
    if !stored {
        return Err(already_enrolled());
    }
    let (secret, otpauth_uri) = totp::provisioning(&secret, &account.email);
    Ok(HttpResponse::Ok().json(Enrollment {
        secret,
        otpauth_uri,
    }))
}

/// Completes enrolment with a first code; afterwards login needs `totp`.
#[utoipa::path(
    tag = "accounts",
    request_body = Confirmation,
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Enrolled: login now needs `totp`"),
        (status = 401, description = "unauthorized or invalid_credentials: no valid token, or the code is wrong"),
        (status = 409, description = "conflict: already enrolled, or enrolment not started"),
        (status = 429, description = "rate_limited: too many wrong codes in this 30-second step; `Retry-After` says when to try again"),
    )
)]
#[post("/auth/mfa/confirm")]
pub async fn confirm(
    enrollee: MfaEnrollee,
    state: web::Data<AppState>,
    body: ApiJson<Confirmation>,
) -> Result<HttpResponse, ApiError> {
    let mut conn = state.pool.get().await?;
    let account = known_account(&mut conn, enrollee.account_id).await?;
    if account.mfa_confirmed_at.is_some() {
        return Err(already_enrolled());
    }
    if account.mfa_secret.is_none() {
        return Err(ApiError::new(ErrorCode::Conflict, "start enrolment first"));
    }
    // Wrong codes must stay counted, so the transaction commits either way; the confirmation
    // and its audit row commit together.
    let code = body.0.totp;
    conn.transaction(async |c| {
        let outcome = check_totp(&state, c, &account, &code, true).await;
        if outcome.is_ok() {
            audit::record(c, &event(account.id, "mfa.enrolled")).await?;
        }
        Ok::<_, ApiError>(outcome)
    })
    .await??;
    Ok(HttpResponse::NoContent().finish())
}
