//! Compact JWS (RFC 7515) signed with Ed25519, checked the strict way.
//!
//! Verifiers that partners embed must refuse what a strict Ed25519 verifier refuses: small-order
//! public keys and non-canonical signatures. jsonwebtoken's RustCrypto backend checks Ed25519
//! with the permissive rule, so verification goes through ed25519-dalek's `verify_strict` here;
//! only the JOSE framing (base64url, the header) is ours.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde_json::{Map, Value};

/// The `alg` names of Ed25519: `EdDSA` (RFC 8037) and the fully specified `Ed25519` (RFC 9864).
pub const ED25519_ALGS: [&str; 2] = ["EdDSA", "Ed25519"];

/// Why a JWS was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum JwsError {
    /// Not three base64url parts, or a header that is not a JSON object.
    #[error("not a compact JWS")]
    Malformed,
    /// The signature does not verify under the key (strictly), or the key is not a valid
    /// Ed25519 point.
    #[error("the signature does not verify")]
    BadSignature,
}

/// The protected header of a compact JWS, read without checking the signature: only to find
/// the key (`kid`) and to refuse what no verifier here accepts.
#[derive(Debug, Clone)]
pub struct Header {
    /// `alg`.
    pub alg: String,
    /// `typ`, when present.
    pub typ: Option<String>,
    /// `kid`, when present.
    pub kid: Option<String>,
    /// Whether the header names or embeds a key (`jwk`, `jku`, `x5u`, `x5c`) or critical
    /// extensions (`crit`): a verifier that pins its keys must not be pointed elsewhere.
    pub carries_key_or_crit: bool,
}

impl Header {
    /// Whether `alg` is Ed25519.
    pub fn is_ed25519(&self) -> bool {
        ED25519_ALGS.contains(&self.alg.as_str())
    }
}

fn parts(jws: &str) -> Result<[&str; 3], JwsError> {
    let mut split = jws.trim().split('.');
    match (split.next(), split.next(), split.next(), split.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !s.is_empty() => Ok([h, p, s]),
        _ => Err(JwsError::Malformed),
    }
}

fn b64(part: &str) -> Result<Vec<u8>, JwsError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| JwsError::Malformed)
}

/// Reads the header of `jws` without verifying anything.
pub fn header(jws: &str) -> Result<Header, JwsError> {
    let [header, _, _] = parts(jws)?;
    let map: Map<String, Value> =
        serde_json::from_slice(&b64(header)?).map_err(|_| JwsError::Malformed)?;
    let text = |name: &str| -> Result<Option<String>, JwsError> {
        match map.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(JwsError::Malformed),
        }
    };
    Ok(Header {
        alg: text("alg")?.ok_or(JwsError::Malformed)?,
        typ: text("typ")?,
        kid: text("kid")?,
        carries_key_or_crit: ["jwk", "jku", "x5u", "x5c", "crit"]
            .iter()
            .any(|k| map.contains_key(*k)),
    })
}

/// Reads the payload of `jws` without verifying anything: only to find which card or list a
/// token speaks of before its key is fetched. Never trust what it returns.
pub fn unverified_payload(jws: &str) -> Result<Vec<u8>, JwsError> {
    let [_, payload, _] = parts(jws)?;
    b64(payload)
}

/// The payload of `jws` when its signature verifies strictly under the raw Ed25519 `public`
/// key. The caller checks the header (`alg`, `typ`) itself.
pub fn verify_ed25519(jws: &str, public: &[u8; 32]) -> Result<Vec<u8>, JwsError> {
    let [header, payload, signature] = parts(jws)?;
    let signature: [u8; 64] = b64(signature)?
        .try_into()
        .map_err(|_| JwsError::BadSignature)?;
    let key = VerifyingKey::from_bytes(public).map_err(|_| JwsError::BadSignature)?;
    let signing_input = format!("{header}.{payload}");
    key.verify_strict(signing_input.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| JwsError::BadSignature)?;
    b64(payload)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::{Signer, SigningKey};

    fn sign(header: &str, payload: &str, key: &SigningKey) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let signature = key.sign(input.as_bytes());
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature.to_bytes()))
    }

    #[test]
    fn a_signed_token_verifies_and_anything_else_is_refused() {
        let key = SigningKey::from_bytes(&[3; 32]);
        let public = key.verifying_key().to_bytes();
        let jws = sign(r#"{"alg":"EdDSA","kid":"k"}"#, r#"{"a":1}"#, &key);
        assert_eq!(
            verify_ed25519(&jws, &public).as_deref(),
            Ok(&b"{\"a\":1}"[..])
        );
        let head = header(&jws).map(|h| (h.alg, h.kid, h.carries_key_or_crit));
        assert_eq!(head, Ok(("EdDSA".into(), Some("k".into()), false)));
        let other = SigningKey::from_bytes(&[4; 32]).verifying_key().to_bytes();
        assert_eq!(verify_ed25519(&jws, &other), Err(JwsError::BadSignature));
        for broken in ["", "a.b", "a.b.c.d", ".b.c", &jws.replacen('.', ".A", 1)] {
            assert!(verify_ed25519(broken, &public).is_err(), "{broken}");
        }
        let embedded = sign(r#"{"alg":"EdDSA","jwk":{}}"#, "{}", &key);
        assert_eq!(header(&embedded).map(|h| h.carries_key_or_crit), Ok(true));
        assert!(header(&sign(r#"{"alg":1}"#, "{}", &key)).is_err());
    }

    #[test]
    fn a_small_order_key_verifies_nothing() {
        // The identity point: the permissive check accepts the all-zero-scalar forgery under it.
        let mut identity = [0u8; 32];
        identity[0] = 1;
        let forged_sig = {
            let mut s = [0u8; 64];
            s[0] = 1;
            URL_SAFE_NO_PAD.encode(s)
        };
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"EdDSA"}"#),
            URL_SAFE_NO_PAD.encode("{}")
        );
        let forged = format!("{input}.{forged_sig}");
        assert_eq!(
            verify_ed25519(&forged, &identity),
            Err(JwsError::BadSignature)
        );
    }
}
