//! Signing in with email, password and (for staff) a TOTP code.
//!
//! Unknown emails and wrong passwords cost the same argon2 verification and get the same answer;
//! failures are throttled per (account, address), per address and per account, and right
//! passwords per account and address ([`super::throttle`]); each code of a staff member's
//! authenticator is accepted once, at most five wrong codes a step.

use std::net::IpAddr;

use chrono::{DateTime, Utc};
use diesel_async::{AsyncConnection, AsyncPgConnection};
use secrecy::SecretString;
use serde_json::json;

use crate::audit::{self, Actor, AuditEvent};
use crate::auth::tokens::{Subject, TokenUse};
use crate::auth::{password, totp};
use crate::crypto::pii::Field;
use crate::domain::email::Email;
use crate::error::{ApiError, ErrorCode};
use crate::models::account::{self, Account};
use crate::models::session;
use crate::routes::auth::throttle::{self, Keys, throttled};
use crate::state::AppState;

/// Most wrong TOTP codes evaluated per 30-second step.
pub const MAX_WRONG_CODES_PER_STEP: i32 = 5;

/// What a successful password check leads to.
#[derive(Debug)]
pub enum LoginOutcome {
    /// Signed in: an access token and the session's first refresh token.
    SignedIn {
        /// The access token.
        access_token: String,
        /// The refresh token.
        refresh_token: String,
    },
    /// A staff member without a second factor: a token good only for enrolling one.
    EnrollmentRequired {
        /// The enrolment token.
        access_token: String,
    },
}

/// The credentials presented.
pub struct Credentials {
    /// As typed.
    pub email: String,
    /// As typed.
    pub password: SecretString,
    /// Staff only.
    pub totp: Option<String>,
}

fn invalid_credentials() -> ApiError {
    ApiError::new(
        ErrorCode::InvalidCredentials,
        "the email or password is not right",
    )
}

async fn audit_event(
    conn: &mut AsyncPgConnection,
    action: &'static str,
    account: Option<&Account>,
    detail: serde_json::Value,
) -> Result<(), ApiError> {
    let event = AuditEvent {
        actor: account.map_or(Actor::Anonymous, |a| Actor::Account(a.id)),
        action,
        entity_type: "account",
        entity_id: account.map(|a| a.id.to_string()),
        detail,
    };
    diesel_async::AsyncConnection::transaction(conn, async |c| audit::record(c, &event).await)
        .await?;
    Ok(())
}

/// Runs the whole sign-in.
pub async fn sign_in(
    state: &AppState,
    credentials: Credentials,
    client: Option<IpAddr>,
) -> Result<LoginOutcome, ApiError> {
    let now = state.now();
    // The same normalisation as registration; a malformed email simply matches no account.
    let email = Email::parse(&credentials.email).map_or_else(
        |_| credentials.email.trim().to_lowercase(),
        |e| e.to_string(),
    );
    let keys = throttle::keys(&state.pii, &email, client);
    let found = {
        let mut conn = state.pool.get().await?;
        throttle::admit(state, &mut conn, &keys, now).await?;
        match Email::parse(&email) {
            Ok(parsed) => account::find_by_email(&mut conn, &parsed).await?,
            Err(_) => None,
        }
    };
    // No pooled connection is held while the hash waits for and uses a hashing slot: a storm of
    // logins must not starve the requests that only need the database.
    let hash = found
        .as_ref()
        .map_or_else(|| state.dummy_hash.clone(), |a| a.password_hash.clone());
    let password_ok = password::verify(credentials.password, hash).await?;
    let mut conn = state.pool.get().await?;
    let account = match found {
        Some(account) if password_ok && account.disabled_at.is_none() => account,
        other => {
            let account = other.as_ref();
            audit_failure(state, &mut conn, &keys, now, account, "bad_credentials").await?;
            return Err(invalid_credentials());
        }
    };
    if account.is_staff() {
        if account.mfa_confirmed_at.is_none() {
            throttle::settle(state, &mut conn, &keys, false, now).await?;
            let subject = subject(&account, None);
            let access_token = state
                .tokens
                .issue(&subject, TokenUse::MfaEnrollment, now)
                .map_err(ApiError::internal)?;
            let detail = json!({});
            audit_event(
                &mut conn,
                "login.mfa_enrollment_required",
                Some(&account),
                detail,
            )
            .await?;
            return Ok(LoginOutcome::EnrollmentRequired { access_token });
        }
        let Some(code) = credentials.totp.as_deref() else {
            // The password was right: not a failure, but a denial worth recording.
            throttle::settle(state, &mut conn, &keys, false, now).await?;
            audit_event(&mut conn, "login.mfa_required", Some(&account), json!({})).await?;
            return Err(ApiError::new(
                ErrorCode::MfaRequired,
                "a TOTP code from your authenticator is required",
            ));
        };
        if let Err(error) = check_totp(state, &mut conn, &account, code, false).await {
            audit_failure(state, &mut conn, &keys, now, Some(&account), "bad_totp").await?;
            return Err(error);
        }
    }
    throttle::settle(state, &mut conn, &keys, true, now).await?;
    start_session(state, &mut conn, &account).await
}

/// Starts the session and records the login in one transaction.
async fn start_session(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    account: &Account,
) -> Result<LoginOutcome, ApiError> {
    let now = state.now();
    let limits = state.session_limits();
    let (session_id, refresh_token) = conn
        .transaction(async |c| {
            let (session_id, refresh_token) = session::start(c, account.id, now, limits).await?;
            let event = AuditEvent {
                actor: Actor::Account(account.id),
                action: "login.succeeded",
                entity_type: "account",
                entity_id: Some(account.id.to_string()),
                detail: json!({ "session": session_id }),
            };
            audit::record(c, &event).await?;
            Ok::<_, diesel::result::Error>((session_id, refresh_token))
        })
        .await?;
    let access_token = state
        .tokens
        .issue(&subject(account, Some(session_id)), TokenUse::Access, now)
        .map_err(ApiError::internal)?;
    Ok(LoginOutcome::SignedIn {
        access_token,
        refresh_token,
    })
}

/// The token subject for an account.
pub fn subject(account: &Account, session: Option<uuid::Uuid>) -> Subject {
    Subject {
        id: account.id,
        role: account.role.clone(),
        session,
        issuer: account.issuer.clone(),
        agency: None,
    }
}

/// Records a failed attempt and audits it, with the lockout it caused if any (`scope`
/// `address`: this address is locked out of the account; `account`: the ceiling is reached).
async fn audit_failure(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    keys: &Keys,
    now: DateTime<Utc>,
    account: Option<&Account>,
    reason: &str,
) -> Result<(), ApiError> {
    let locked = throttle::record_failure(state, conn, keys, now).await?;
    audit_event(conn, "login.failed", account, json!({ "reason": reason })).await?;
    if let Some((scope, wait)) = locked {
        let detail = json!({ "locked_for_secs": wait.num_seconds().max(1), "scope": scope });
        audit_event(conn, "login.locked", account, detail).await?;
    }
    Ok(())
}

/// Checks a TOTP code of `account`: at most five attempts a step (reserved before comparing,
/// so parallel guesses cannot pass on a stale count), each code once. With `confirm`, a right
/// code also completes enrolment.
pub async fn check_totp(
    state: &AppState,
    conn: &mut AsyncPgConnection,
    account: &Account,
    code: &str,
    confirm: bool,
) -> Result<(), ApiError> {
    let now = state.now();
    let current = totp::step_at(now);
    let Some(sealed) = &account.mfa_secret else {
        return Err(invalid_credentials());
    };
    if !account::reserve_totp_attempt(conn, account.id, current, MAX_WRONG_CODES_PER_STEP).await? {
        let next_step = (current + 1) * totp::STEP_SECS;
        let wait = chrono::Duration::seconds(next_step - now.timestamp());
        return Err(throttled(
            wait,
            "too many failed attempts; wait before trying again",
        ));
    }
    let secret = state
        .pii
        .open(sealed, Field::TotpSecret, account.id.as_bytes())
        .map_err(ApiError::internal)?;
    let secret = hex::decode(secret).map_err(ApiError::internal)?;
    let accepted = match totp::matching_step(&secret, code.trim(), now) {
        Some(step) => {
            let confirm_at = confirm.then_some(now);
            account::accept_totp_step(conn, account.id, step, sealed, confirm_at).await?
        }
        None => false,
    };
    if !accepted {
        return Err(invalid_credentials());
    }
    account::refund_totp_attempt(conn, account.id, current).await?;
    Ok(())
}
