//! Authentication: password hashing now; tokens and extractors arrive with identity and access.

pub mod password;
