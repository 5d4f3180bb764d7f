//! Identity primitives: password hashing and policy, access tokens, TOTP. Nothing here knows
//! HTTP or the application state; who is calling is worked out by the extractors in
//! `extract::caller`, and the sign-in flow lives with its handlers in `routes::auth`.

pub mod password;
pub mod policy;
pub mod tokens;
pub mod totp;
