//! High-entropy random tokens for refresh tokens, client secrets and TOTP seeds, and random
//! numbers (card serials).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// `n` random bytes from the thread-local CSPRNG (ChaCha, seeded from the OS).
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    rand::rng().fill_bytes(&mut out);
    out
}

/// A uniformly random integer in `range` from the same CSPRNG (card serials: unguessable).
pub fn in_range(range: std::ops::Range<i64>) -> i64 {
    use rand::Rng;
    rand::rng().random_range(range)
}

/// A fresh random serial for a new card number, 13 digits, so that numbers cannot be
/// enumerated; the caller retries with another one when the number is taken (one chance in
/// billions).
pub fn card_serial() -> i64 {
    use crate::domain::card_number::{RANDOM_SERIAL_END, RANDOM_SERIAL_MIN};
    in_range(RANDOM_SERIAL_MIN..RANDOM_SERIAL_END)
}

/// A URL-safe token of 256 random bits with a readable prefix, e.g. `rt_…`.
pub fn token(prefix: &str) -> String {
    format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes::<32>()))
}

/// SHA-256 (hex) of a high-entropy secret. Such secrets need no slow hash: guessing 256 bits is
/// out of reach, and a fast hash keeps verification off the argon2 budget.
pub fn sha256_hex(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

/// Compares two strings in time independent of where they differ.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    use subtle::ConstantTimeEq;
    a.len() == b.len() && bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn card_serials_have_13_digits_and_are_random() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let serial = super::card_serial();
            assert_eq!(serial.to_string().len(), 13, "{serial}");
            seen.insert(serial);
        }
        assert!(seen.len() > 990, "serials are random, not a counter");
    }

    use super::*;

    #[test]
    fn tokens_are_long_distinct_and_prefixed() {
        let (a, b) = (token("rt_"), token("rt_"));
        assert_ne!(a, b);
        assert!(a.starts_with("rt_") && a.len() == 3 + 43, "{a}");
        assert!(constant_time_eq(&a, &a.clone()));
        assert!(!constant_time_eq(&a, &b));
        assert_eq!(sha256_hex("abc").len(), 64);
    }
}
