//! TOTP (RFC 6238: SHA-1, six digits, 30-second steps) for staff, via totp-rs.
//!
//! A code matches its own step or one step either side (clock drift); the caller stores the
//! matched step and accepts only later steps, so each code works once.

use chrono::{DateTime, Utc};
use totp_rs::{Algorithm, Secret, TOTP};

/// Seconds per step.
pub const STEP_SECS: i64 = 30;

/// A fresh 160-bit secret (RFC 4226's recommended length).
pub fn new_secret() -> Vec<u8> {
    crate::crypto::random::bytes::<20>().to_vec()
}

fn totp(secret: &[u8], label: &str) -> TOTP {
    // new_unchecked: the secret is ours and 160 bits; labels may not contain ':'.
    TOTP::new_unchecked(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS as u64,
        secret.to_vec(),
        Some("talentcard".to_owned()),
        label.replace(':', "_"),
    )
}

/// The base32 secret and the `otpauth://` URI an authenticator app scans.
pub fn provisioning(secret: &[u8], label: &str) -> (String, String) {
    let totp = totp(secret, label);
    let base32 = Secret::Raw(secret.to_vec()).to_encoded().to_string();
    (base32, totp.get_url())
}

/// The step `now` falls in.
pub fn step_at(now: DateTime<Utc>) -> i64 {
    now.timestamp().div_euclid(STEP_SECS)
}

/// The step (within one either side of now) whose code equals `code`, if any.
pub fn matching_step(secret: &[u8], code: &str, now: DateTime<Utc>) -> Option<i64> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "x");
    let current = step_at(now);
    (current - 1..=current + 1).find(|step| {
        let time = u64::try_from(step * STEP_SECS).unwrap_or(0);
        crate::crypto::random::constant_time_eq(&totp.generate(time), code)
    })
}

/// The code for `now` (what an authenticator app shows); used by tests and the demo.
pub fn code_at(secret: &[u8], now: DateTime<Utc>) -> String {
    totp(secret, "x").generate(u64::try_from(now.timestamp()).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    #[test]
    fn rfc6238_sha1_vector() {
        // RFC 6238 appendix B: secret "12345678901234567890", T = 59 s -> 94287082 (8 digits);
        // the six-digit code is its last six digits.
        let secret = b"12345678901234567890";
        let at = DateTime::from_timestamp(59, 0).unwrap_or_default();
        assert_eq!(code_at(secret, at), "287082");
    }

    #[test]
    fn a_code_matches_its_step_and_neighbours_only() {
        let secret = new_secret();
        let now = Utc::now();
        let code = code_at(&secret, now);
        assert_eq!(matching_step(&secret, &code, now), Some(step_at(now)));
        assert!(matching_step(&secret, &code, now + Duration::seconds(30)).is_some());
        assert_eq!(
            matching_step(&secret, &code, now + Duration::seconds(95)),
            None
        );
        assert_eq!(matching_step(&secret, "12345", now), None);
        assert_eq!(matching_step(&secret, "abcdef", now), None);
    }

    #[test]
    fn provisioning_uri_names_the_issuer() {
        let (base32, uri) = provisioning(&new_secret(), "ops@example.cn");
        assert_eq!(base32.len(), 32);
        assert!(uri.starts_with("otpauth://totp/talentcard:"), "{uri}");
        assert!(uri.contains(&format!("secret={base32}")));
    }
}
