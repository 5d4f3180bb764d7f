//! Accounts and tokens: registration, login, refresh, logout, the client-credentials grant and
//! staff MFA enrolment.

use diesel_async::AsyncPgConnection;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;
use uuid::Uuid;

use crate::error::ApiError;
use crate::models::account::{self, Account};

mod client_token;
mod flow;
mod login;
mod logout;
mod mfa;
mod refresh;
mod register;

pub use register::{AccountCreated, account_fields, address_bucket, create_account};

/// Registers the routes under `/auth`.
pub fn configure(cfg: &mut ServiceConfig) {
    cfg.service(register::register)
        .service(login::login)
        .service(refresh::refresh)
        .service(logout::logout)
        .service(client_token::client_token)
        .service(mfa::enroll)
        .service(mfa::confirm);
}

/// The account `id`, or 404 `not_found` when there is none: one answer whether the request names
/// the account (an administrator's target, a card's holder, an applicant) or stands for it (the
/// caller, whose account may have gone since the token was signed).
pub async fn known_account(conn: &mut AsyncPgConnection, id: Uuid) -> Result<Account, ApiError> {
    account::find(conn, id)
        .await?
        .ok_or_else(ApiError::not_found)
}

/// Tokens answered by login and refresh.
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    /// A signed access token, valid for `expires_in` seconds.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// An opaque token that gets a new pair once; absent when MFA enrolment is required.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// `true` when a staff member must enrol a second factor before anything else.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub mfa_enrollment_required: bool,
}
