//! The holder's wallet key (RFC 9901 key binding, OpenID4VCI proofs of possession).
//!
//! A holder binds a card to a key of their wallet by sending a proof: a JWT signed by that key
//! whose header carries the public key as a JWK (`typ: openid4vci-proof+jwt`), addressed to the
//! card's issuer (`aud`), fresh (`iat`) and over a nonce the service handed out. Credentials
//! fetched afterwards name the key in `cnf.jwk`, so a verifier can ask the person at the
//! counter to sign a key-binding JWT ([`super::key_binding`]) that a photographed QR code
//! cannot produce.
//!
//! Two key types are accepted, and nothing else: EC P-256 with `ES256` and OKP Ed25519 with
//! `EdDSA` (verified strictly: small-order keys and non-canonical signatures are refused).
//! Pure: no database, no HTTP types; the caller consumes the nonce against its storage.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

/// The JOSE `typ` of an OpenID4VCI proof of possession.
pub const PROOF_TYP: &str = "openid4vci-proof+jwt";

/// How far a proof's `iat` may be from the verifier's clock, either way, in seconds.
pub const PROOF_IAT_WINDOW_SECS: i64 = 300;

/// JWK members that only a private (or symmetric) key has: a holder who sends one has leaked
/// their key, and we must neither store nor accept it.
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/// A holder's public key, as accepted from a proof and published in `cnf.jwk`.
///
/// Only the public coordinates are kept, already checked to be a valid point of the curve, so
/// what is stored and signed into credentials is exactly the canonical public JWK.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(try_from = "Value", into = "Value")]
pub enum HolderJwk {
    /// `{kty: "EC", crv: "P-256", x, y}`, for `ES256`.
    P256 {
        /// The x coordinate (big-endian, 32 bytes).
        x: [u8; 32],
        /// The y coordinate (big-endian, 32 bytes).
        y: [u8; 32],
    },
    /// `{kty: "OKP", crv: "Ed25519", x}`, for `EdDSA`.
    Ed25519 {
        /// The compressed point (32 bytes).
        x: [u8; 32],
    },
}

/// Why a JWK is not a holder key we accept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JwkError {
    /// Not a JSON object.
    #[error("the jwk is not a JSON object")]
    NotAnObject,
    /// It carries a private member: the key is exposed and must not be used.
    #[error("the jwk holds a private key (member `{0}`); send only the public key")]
    PrivateKey(&'static str),
    /// A key type or curve other than EC P-256 and OKP Ed25519.
    #[error("the jwk must be an EC P-256 or an OKP Ed25519 key")]
    Unsupported,
    /// A coordinate is missing, not base64url or of the wrong length.
    #[error("the jwk's `{0}` is missing or not a base64url value of 32 bytes")]
    BadMember(&'static str),
    /// The coordinates are not a usable point of the curve (or a small-order Ed25519 point).
    #[error("the jwk's coordinates are not a valid public key of its curve")]
    NotOnCurve,
}

fn coordinate(map: &Map<String, Value>, name: &'static str) -> Result<[u8; 32], JwkError> {
    map.get(name)
        .and_then(Value::as_str)
        .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or(JwkError::BadMember(name))
}

impl HolderJwk {
    /// Parses a public JWK, refusing private members, other key types and curves, wrong
    /// lengths and points that are not on the curve.
    pub fn from_value(value: &Value) -> Result<Self, JwkError> {
        let map = value.as_object().ok_or(JwkError::NotAnObject)?;
        if let Some(member) = PRIVATE_MEMBERS.iter().find(|m| map.contains_key(**m)) {
            return Err(JwkError::PrivateKey(member));
        }
        let kty = map.get("kty").and_then(Value::as_str);
        let crv = map.get("crv").and_then(Value::as_str);
        match (kty, crv) {
            (Some("EC"), Some("P-256")) => {
                let (x, y) = (coordinate(map, "x")?, coordinate(map, "y")?);
                let mut sec1 = [0u8; 65];
                sec1[0] = 0x04;
                sec1[1..33].copy_from_slice(&x);
                sec1[33..].copy_from_slice(&y);
                p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1)
                    .map_err(|_| JwkError::NotOnCurve)?;
                Ok(HolderJwk::P256 { x, y })
            }
            (Some("OKP"), Some("Ed25519")) => {
                let x = coordinate(map, "x")?;
                let key = ed25519_dalek::VerifyingKey::from_bytes(&x)
                    .map_err(|_| JwkError::NotOnCurve)?;
                if key.is_weak() {
                    return Err(JwkError::NotOnCurve);
                }
                Ok(HolderJwk::Ed25519 { x })
            }
            _ => Err(JwkError::Unsupported),
        }
    }

    /// The public JWK with its required members only (what `cnf.jwk` carries).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        match self {
            HolderJwk::P256 { x, y } => {
                map.insert("kty".into(), "EC".into());
                map.insert("crv".into(), "P-256".into());
                map.insert("x".into(), URL_SAFE_NO_PAD.encode(x).into());
                map.insert("y".into(), URL_SAFE_NO_PAD.encode(y).into());
            }
            HolderJwk::Ed25519 { x } => {
                map.insert("kty".into(), "OKP".into());
                map.insert("crv".into(), "Ed25519".into());
                map.insert("x".into(), URL_SAFE_NO_PAD.encode(x).into());
            }
        }
        Value::Object(map)
    }

    /// The RFC 7638 thumbprint (`jkt`): SHA-256 over the required members in lexicographic
    /// order without whitespace, base64url. A stable name for the key that reveals nothing
    /// more than the key itself.
    pub fn thumbprint(&self) -> String {
        let canonical = match self {
            HolderJwk::P256 { x, y } => format!(
                r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(x),
                URL_SAFE_NO_PAD.encode(y)
            ),
            HolderJwk::Ed25519 { x } => format!(
                r#"{{"crv":"Ed25519","kty":"OKP","x":"{}"}}"#,
                URL_SAFE_NO_PAD.encode(x)
            ),
        };
        URL_SAFE_NO_PAD.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// Whether the JOSE `alg` is the one this key signs with (`ES256` for P-256; `EdDSA`, or
    /// the fully specified `Ed25519` of RFC 9864, for Ed25519).
    pub fn accepts_alg(&self, alg: &str) -> bool {
        match self {
            HolderJwk::P256 { .. } => alg == "ES256",
            HolderJwk::Ed25519 { .. } => super::jws::ED25519_ALGS.contains(&alg),
        }
    }

    /// Whether `signature` (JOSE form: `r || s` for ES256, 64 bytes for EdDSA) signs `input`
    /// under this key; Ed25519 strictly.
    pub fn verifies(&self, input: &[u8], signature: &[u8]) -> bool {
        match self {
            HolderJwk::P256 { x, y } => {
                use p256::ecdsa::signature::Verifier;
                let mut sec1 = [0u8; 65];
                sec1[0] = 0x04;
                sec1[1..33].copy_from_slice(x);
                sec1[33..].copy_from_slice(y);
                let Ok(key) = p256::ecdsa::VerifyingKey::from_sec1_bytes(&sec1) else {
                    return false;
                };
                let Ok(signature) = p256::ecdsa::Signature::from_slice(signature) else {
                    return false;
                };
                key.verify(input, &signature).is_ok()
            }
            HolderJwk::Ed25519 { x } => {
                let Ok(key) = ed25519_dalek::VerifyingKey::from_bytes(x) else {
                    return false;
                };
                let Ok(signature) = <[u8; 64]>::try_from(signature) else {
                    return false;
                };
                key.verify_strict(input, &ed25519_dalek::Signature::from_bytes(&signature))
                    .is_ok()
            }
        }
    }
}

impl TryFrom<Value> for HolderJwk {
    type Error = JwkError;

    fn try_from(value: Value) -> Result<Self, Self::Error> {
        HolderJwk::from_value(&value)
    }
}

impl From<HolderJwk> for Value {
    fn from(jwk: HolderJwk) -> Self {
        jwk.to_value()
    }
}

/// A compact JWS taken apart, nothing verified yet: shared by the proof and key-binding checks.
#[derive(Debug)]
pub(crate) struct Compact<'a> {
    /// The protected header.
    pub header: Map<String, Value>,
    /// The claims.
    pub claims: Map<String, Value>,
    /// `header.payload`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature (empty for `alg: none`).
    pub signature: Vec<u8>,
}

impl<'a> Compact<'a> {
    /// Splits `jwt` into three base64url parts whose header and payload are JSON objects.
    pub fn parse(jwt: &'a str) -> Option<Self> {
        let (signing_input, signature) = jwt.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        if payload.contains('.') || header.is_empty() {
            return None;
        }
        let object = |part: &str| -> Option<Map<String, Value>> {
            let bytes = URL_SAFE_NO_PAD.decode(part).ok()?;
            match serde_json::from_slice(&bytes).ok()? {
                Value::Object(map) => Some(map),
                _ => None,
            }
        };
        Some(Compact {
            header: object(header)?,
            claims: object(payload)?,
            signing_input,
            signature: URL_SAFE_NO_PAD.decode(signature).ok()?,
        })
    }

    /// A header member as text.
    pub fn header_text(&self, name: &str) -> Option<&str> {
        self.header.get(name).and_then(Value::as_str)
    }

    /// Whether the claims' `aud` is `expected`, or an array that contains it.
    pub fn addressed_to(&self, expected: &str) -> bool {
        match self.claims.get("aud") {
            Some(Value::String(aud)) => aud == expected,
            Some(Value::Array(auds)) => auds.iter().any(|a| a.as_str() == Some(expected)),
            _ => false,
        }
    }

    /// `iat` as whole seconds, when it is an integer.
    pub fn iat(&self) -> Option<i64> {
        self.claims.get("iat").and_then(Value::as_i64)
    }

    /// `nonce`, when it is a non-empty string.
    pub fn nonce(&self) -> Option<String> {
        self.claims
            .get("nonce")
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(str::to_owned)
    }
}

/// What a valid proof says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofClaims {
    /// The holder's public key (from the header; the signature proves its possession).
    pub jwk: HolderJwk,
    /// The nonce the proof was made over: the caller consumes it once, against its storage.
    pub nonce: String,
    /// When the wallet made the proof.
    pub iat: i64,
}

/// Why a proof was refused; each message names the problem, for a 422 on `proof`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Not a compact JWT with JSON header and claims.
    #[error("the proof is not a compact JWT")]
    Malformed,
    /// `typ` is not `openid4vci-proof+jwt`.
    #[error("the proof's header typ must be openid4vci-proof+jwt")]
    WrongType,
    /// `alg` is not ES256 with a P-256 key nor EdDSA with an Ed25519 key (`none`, HMAC, RSA,
    /// or an algorithm that does not fit the key).
    #[error(
        "the proof's alg is not supported: use ES256 with an EC P-256 jwk or EdDSA with an OKP Ed25519 jwk"
    )]
    UnsupportedAlgorithm,
    /// No `jwk` in the header (a `kid` or certificate chain names no key we can bind).
    #[error("the proof's header must carry the holder's public key as jwk")]
    MissingKey,
    /// The header's `jwk` is a private key.
    #[error("the proof's jwk holds a private key (member `{0}`); send only the public key")]
    PrivateKey(&'static str),
    /// The header's `jwk` is not a usable public key.
    #[error("the proof's jwk is not acceptable: {0}")]
    BadKey(JwkError),
    /// The signature does not verify under the header's key.
    #[error("the proof's signature does not verify under its jwk")]
    BadSignature,
    /// `aud` is not the card's issuer.
    #[error("the proof's aud must be the card's issuer identifier (the credential's iss)")]
    WrongAudience,
    /// `iat` is missing or more than [`PROOF_IAT_WINDOW_SECS`] from now.
    #[error("the proof's iat is missing or more than 300 seconds from the current time")]
    Stale,
    /// No `nonce` claim.
    #[error("the proof has no nonce; get one from POST /api/v1/nonce")]
    MissingNonce,
}

/// Verifies an OpenID4VCI proof of possession addressed to `expected_aud` at `now` (Unix
/// seconds). The nonce is returned, not checked: only storage knows whether it is fresh.
pub fn verify_proof(proof: &str, expected_aud: &str, now: i64) -> Result<ProofClaims, ProofError> {
    let jwt = Compact::parse(proof.trim()).ok_or(ProofError::Malformed)?;
    if jwt.header_text("typ") != Some(PROOF_TYP) {
        return Err(ProofError::WrongType);
    }
    let alg = jwt.header_text("alg").unwrap_or_default();
    let supported = alg == "ES256" || super::jws::ED25519_ALGS.contains(&alg);
    if !supported {
        return Err(ProofError::UnsupportedAlgorithm);
    }
    if jwt.header.contains_key("crit") {
        return Err(ProofError::Malformed);
    }
    let jwk = jwt.header.get("jwk").ok_or(ProofError::MissingKey)?;
    let jwk = HolderJwk::from_value(jwk).map_err(|e| match e {
        JwkError::PrivateKey(member) => ProofError::PrivateKey(member),
        other => ProofError::BadKey(other),
    })?;
    if !jwk.accepts_alg(alg) {
        return Err(ProofError::UnsupportedAlgorithm);
    }
    if !jwk.verifies(jwt.signing_input.as_bytes(), &jwt.signature) {
        return Err(ProofError::BadSignature);
    }
    if !jwt.addressed_to(expected_aud) {
        return Err(ProofError::WrongAudience);
    }
    let iat = jwt
        .iat()
        .filter(|iat| iat.abs_diff(now) <= PROOF_IAT_WINDOW_SECS.unsigned_abs())
        .ok_or(ProofError::Stale)?;
    let nonce = jwt.nonce().ok_or(ProofError::MissingNonce)?;
    Ok(ProofClaims { jwk, nonce, iat })
}

/// Signing helpers for the tests of this module and of [`super::key_binding`].
#[cfg(test)]
pub(crate) mod testing;

#[cfg(test)]
mod tests;
