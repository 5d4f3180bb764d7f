//! Status List Tokens (draft-ietf-oauth-status-list, section 5.1): the issuer-signed JWT a
//! standard verifier fetches from a credential's status `uri`. Signed by the issuer's own active
//! key (listed in the trust list, the JWK Set and the issuer metadata), so a generic verifier
//! links the list to the credential's issuer; `sub` is exactly the `uri` credentials carry.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::{jws, signed, status_list};

/// The JOSE `typ` of a Status List Token.
pub const TYP: &str = "statuslist+jwt";
/// Its media type (`Accept` and `Content-Type`).
pub const MEDIA_TYPE: &str = "application/statuslist+jwt";

/// A token's `exp` after its `iat`: two TTLs, the age beyond which the offline verifier refuses
/// material by default (lists are re-stamped every half TTL, so a fetched token is never near).
pub const LIFETIME_SECS: i64 = 600;

/// The `status_list` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListClaim {
    /// Bits per entry: 2.
    pub bits: u8,
    /// base64url(zlib(entries)).
    pub lst: String,
}

/// The claims of a Status List Token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StatusListClaims {
    /// The list's URI, exactly as credentials carry it.
    pub sub: String,
    /// The publication stamp (NumericDate, whole seconds).
    pub iat: serde_json::Number,
    /// `iat` plus [`LIFETIME_SECS`], whole seconds.
    pub exp: i64,
    /// Seconds a verifier may cache it.
    pub ttl: u32,
    /// The entries.
    pub status_list: StatusListClaim,
}

/// `at` as a NumericDate in whole seconds, rounded down. RFC 7519 allows fractions, but
/// verifiers compare `iat` with the current second rounded down (`@sd-jwt/core` 0.19 refuses a
/// fractional `iat` during the second it was issued); stamps are whole seconds anyway.
pub fn numeric_date(at: DateTime<Utc>) -> serde_json::Number {
    serde_json::Number::from(at.timestamp())
}

/// The instant of a NumericDate (a fractional one, from another issuer, to the millisecond).
pub fn instant(date: &serde_json::Number) -> Option<DateTime<Utc>> {
    if let Some(secs) = date.as_i64() {
        return DateTime::from_timestamp(secs, 0);
    }
    let secs = date.as_f64()?;
    if !secs.is_finite() {
        return None;
    }
    let millis = (secs * 1000.0).round();
    if millis.abs() > 1e15 {
        return None;
    }
    DateTime::from_timestamp_millis(millis as i64)
}

/// The claims of list `list_no` of `issuer` stamped `issued_at`, published under `base_url`.
pub fn claims(
    base_url: &str,
    issuer: &str,
    list_no: u32,
    lst: String,
    issued_at: DateTime<Utc>,
    ttl: u32,
) -> StatusListClaims {
    StatusListClaims {
        sub: status_list::uri(base_url, issuer, list_no),
        iat: numeric_date(issued_at),
        exp: issued_at.timestamp() + LIFETIME_SECS,
        ttl,
        status_list: StatusListClaim { bits: 2, lst },
    }
}

/// Signs the claims with the issuer key `kid` (`der`: PKCS#8).
pub fn sign(claims: &StatusListClaims, kid: &str, der: &[u8]) -> anyhow::Result<String> {
    Ok(signed::sign(claims, TYP, kid, der)?)
}

/// A Status List Token that verified under its issuer's key.
#[derive(Debug, Clone)]
pub struct Opened {
    /// The issuer whose key signed it.
    pub issuer: String,
    /// The key that signed it.
    pub kid: String,
    /// The claims.
    pub claims: StatusListClaims,
    /// `iat` as an instant.
    pub issued_at: DateTime<Utc>,
}

/// Verifies a Status List Token (strict Ed25519): `key_of(kid)` gives the issuer and raw key of
/// a key in force. Refuses another `typ`, an unknown key or a bad signature; the caller checks
/// `sub`, `exp` and the entries.
pub fn open(
    token: &str,
    key_of: impl Fn(&str) -> Option<(String, [u8; 32])>,
) -> Result<Opened, &'static str> {
    let header = jws::header(token).map_err(|_| "not a JWS")?;
    if !header.is_ed25519() || header.typ.as_deref() != Some(TYP) || header.carries_key_or_crit {
        return Err("not a Status List Token");
    }
    let kid = header.kid.ok_or("no kid")?;
    let (issuer, key) = key_of(&kid).ok_or("signed by a key not in the trust list")?;
    let payload = jws::verify_ed25519(token, &key).map_err(|_| "the signature does not verify")?;
    let claims: StatusListClaims =
        serde_json::from_slice(&payload).map_err(|_| "the claims are not a status list")?;
    let issued_at = instant(&claims.iat).ok_or("iat is not a NumericDate")?;
    Ok(Opened {
        issuer,
        kid,
        claims,
        issued_at,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey;

    #[test]
    fn a_token_round_trips_with_an_exact_stamp() {
        let signing = SigningKey::from_bytes(&[5; 32]);
        let der = signing.to_pkcs8_der().map(|d| d.as_bytes().to_vec());
        let der = der.unwrap_or_default();
        let public = signing.verifying_key().to_bytes();
        for secs in [1_796_169_600_i64, 1_796_169_601] {
            let at = DateTime::from_timestamp(secs, 0).unwrap_or_default();
            let lst = status_list::encode(&status_list::empty());
            let claims = claims("https://x", "XA", 1, lst, at, 300);
            assert_eq!(claims.sub, "https://x/api/v1/status-lists/XA-1");
            assert_eq!(claims.exp, at.timestamp() + LIFETIME_SECS);
            let token = sign(&claims, "XA-k", &der).unwrap_or_default();
            let opened = open(&token, |kid| (kid == "XA-k").then(|| ("XA".into(), public)));
            let opened = opened.unwrap_or_else(|e| panic!("{e}"));
            assert_eq!((opened.issued_at, opened.issuer.as_str()), (at, "XA"));
            assert_eq!(opened.claims, claims);
            assert!(open(&token, |_| None).is_err());
        }
        assert_eq!(
            numeric_date(DateTime::from_timestamp(7, 0).unwrap_or_default()).to_string(),
            "7"
        );
    }
}
