//! `POST /api/v1/auth/register`: talent self-registration.

use actix_web::{HttpRequest, HttpResponse, post, web};
use chrono::TimeDelta;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::audit::Actor;
use crate::auth::password;
use crate::domain::email::Email;
use crate::domain::free_text;
use crate::domain::password::NewPassword;
use crate::error::{ApiError, ErrorCode, FieldError};
use crate::extract::{ApiJson, client_ip};
use crate::models::account::{self, NewAccount, Role};
use crate::models::address_rate;
use crate::state::AppState;

/// A new talent account. Role and status are not fields: every registration is a talent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Registration {
    /// The email to sign in with.
    #[schema(example = "li.ming@example.cn")]
    pub email: String,
    /// 12 to 128 characters, not a common password.
    #[schema(example = "a passphrase of my own")]
    pub password: String,
    /// The name on the card.
    #[schema(example = "李明")]
    pub full_name: String,
}

/// A created account.
#[derive(Debug, Serialize, ToSchema)]
pub struct AccountCreated {
    /// Account id.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// Display name.
    pub full_name: String,
    /// The role.
    #[schema(example = "talent")]
    pub role: String,
    /// The issuer, for officials.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
}

/// Checks a display name by the one rule for names ([`free_text::NAME`]): it is printed on
/// cards and shown to officials and agencies, so it is kept whole or refused, never cleaned.
pub fn full_name(raw: &str, errors: &mut Vec<FieldError>) -> String {
    free_text::NAME.required(raw).unwrap_or_else(|e| {
        errors.push(FieldError {
            field: "full_name".into(),
            message: e.to_string(),
        });
        String::new()
    })
}

/// Checks the email, password and name of a new account, collecting every mistake in
/// `errors`; `Some` only when all three are fine.
pub fn account_fields(
    state: &AppState,
    email: &str,
    password: String,
    name: &str,
    errors: &mut Vec<FieldError>,
) -> Option<(Email, NewPassword, String)> {
    let mut field = |field: &str, message: String| {
        errors.push(FieldError {
            field: field.into(),
            message,
        })
    };
    let email = Email::parse(email)
        .map_err(|m| field("email", m.into()))
        .ok();
    let password = state
        .passwords
        .check(SecretString::from(password))
        .map_err(|m| field("password", m))
        .ok();
    let name = full_name(name, errors);
    Some((email?, password?, name))
}

/// Registers a talent.
#[utoipa::path(
    tag = "accounts",
    request_body = Registration,
    responses(
        (status = 201, description = "The talent's account created", body = AccountCreated),
        (status = 409, description = "email_taken"),
        (status = 422, description = "validation_failed: a field is missing or not acceptable (email, a weak password)"),
        (status = 429, description = "rate_limited: too many registrations from this address, with Retry-After"),
    )
)]
#[post("/auth/register")]
pub async fn register(
    req: HttpRequest,
    state: web::Data<AppState>,
    body: ApiJson<Registration>,
) -> Result<HttpResponse, ApiError> {
    let body = body.0;
    let mut errors = Vec::new();
    let fields = account_fields(
        &state,
        &body.email,
        body.password,
        &body.full_name,
        &mut errors,
    );
    let Some((email, password, name)) = fields.filter(|_| errors.is_empty()) else {
        return Err(ApiError::validation(errors));
    };
    // Counted before the password is hashed: a script is refused before it costs argon2 time.
    admit_registration(&req, &state).await?;
    let created = create_account(
        &state,
        &email,
        password.secret().clone(),
        &name,
        Role::Talent,
        None,
        Actor::Anonymous,
    )
    .await?;
    Ok(HttpResponse::Created().json(created))
}

/// Counts a registration against the client address's hourly allowance; 429 with
/// `Retry-After` past it. Mass registration is the business flow a bot would script (API6).
async fn admit_registration(req: &HttpRequest, state: &AppState) -> Result<(), ApiError> {
    let limit = state.auth.registrations_per_address_hour;
    let Some(address) = client_ip(req, &state.trusted_proxies).filter(|_| limit > 0) else {
        return Ok(());
    };
    let now = state.now();
    let mut conn = state.pool.get().await?;
    let key = format!("register:{}", address_bucket(address));
    let (count, window_end) = address_rate::take(&mut conn, &key, TimeDelta::hours(1), now).await?;
    if count <= limit {
        return Ok(());
    }
    let wait = u64::try_from((window_end - now).num_seconds().max(1)).unwrap_or(1);
    Err(ApiError::new(
        ErrorCode::RateLimited,
        "too many registrations from this address; try again later",
    )
    .with_retry_after(wait))
}

/// The unit one allowance covers: an IPv4 address, or an IPv6 /64 (one subscriber's prefix,
/// which holds more addresses than a script could ever use up).
pub fn address_bucket(address: std::net::IpAddr) -> String {
    match address {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// Hashes the password and creates the account; a taken email is 409 `email_taken`.
pub async fn create_account(
    state: &AppState,
    email: &Email,
    password: SecretString,
    full_name: &str,
    role: Role,
    issuer: Option<&str>,
    actor: Actor,
) -> Result<AccountCreated, ApiError> {
    let hash = password::hash(password).await?;
    let mut conn = state.pool.get().await?;
    let new = NewAccount {
        id: Uuid::now_v7(),
        email: email.as_str(),
        password_hash: &hash,
        full_name,
        role: role.as_str(),
        issuer,
    };
    let account =
        account::create(&mut conn, new, actor)
            .await
            .map_err(|e| match ApiError::from(e) {
                conflict if conflict.code() == ErrorCode::Conflict => {
                    ApiError::new(ErrorCode::EmailTaken, "an account with this email exists")
                }
                other => other,
            })?;
    Ok(AccountCreated {
        id: account.id,
        email: account.email,
        full_name: account.full_name,
        role: account.role,
        issuer: account.issuer,
    })
}

#[cfg(test)]
mod tests {
    use super::address_bucket;

    #[test]
    fn an_ipv6_subscriber_prefix_shares_one_allowance() {
        let bucket = |a: &str| a.parse().map(address_bucket).unwrap_or_default();
        assert_eq!(bucket("203.0.113.7"), "203.0.113.7");
        assert_eq!(bucket("::ffff:203.0.113.7"), "203.0.113.7");
        assert_eq!(
            bucket("2001:db8:1:2::1"),
            bucket("2001:db8:1:2:ffff:ffff:ffff:ffff")
        );
        assert_eq!(bucket("2001:db8:1:2::1"), "2001:db8:1:2::/64");
        assert_ne!(bucket("2001:db8:1:2::1"), bucket("2001:db8:1:3::1"));
    }
}
