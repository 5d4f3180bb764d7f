//! Accounts and tokens: registration, login, refresh, logout, the client-credentials grant and
//! staff MFA enrolment.

use serde::Serialize;
use utoipa::ToSchema;
use utoipa_actix_web::service_config::ServiceConfig;

mod client_token;
mod flow;
mod login;
mod logout;
mod mfa;
mod refresh;
mod register;

pub use register::{AccountCreated, account_fields, create_account};

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
