//! Authentication and authorisation: passwords, tokens, sessions, TOTP, throttling, and the
//! extractors that make each handler's protection visible in its signature.

pub mod extractors;
pub mod login;
pub mod password;
pub mod policy;
pub mod tokens;
pub mod totp;

pub use extractors::{Admin, AgencyClient, AuthUser, Caller, MfaEnrollee, Official, Talent};
