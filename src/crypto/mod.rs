//! Encryption of personal data at rest and keyed hashing of secrets; built only from
//! well-kept crates (aes-gcm, hmac, sha2), never hand-rolled primitives.

pub mod pii;
pub mod random;
