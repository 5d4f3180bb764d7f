//! Published trust material signed by the platform key: a compact EdDSA JWS whose payload is
//! the same JSON the plain endpoint serves. Verifiers that take the material from a CDN, a
//! mirror or a file check it with the platform's public key before believing it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::Serialize;

/// `typ` of the signed trust list.
pub const TRUST_LIST_TYP: &str = "tl+jwt";
/// `typ` of a signed status list (as in the IETF Token Status List's JWT form).
pub const STATUS_LIST_TYP: &str = "statuslist+jwt";

/// Signs `payload` with the platform key (`der`: PKCS#8) named `kid`.
pub fn sign(
    payload: &impl Serialize,
    typ: &str,
    kid: &str,
    der: &[u8],
) -> jsonwebtoken::errors::Result<String> {
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some(typ.to_owned());
    jsonwebtoken::encode(&header, payload, &EncodingKey::from_ed_der(der))
}

/// The payload of a JWS of type `typ` signed by the platform key `x` (base64url raw key),
/// checked with the strict Ed25519 rule (see `credentials::jws`).
pub fn open(jws: &str, typ: &str, platform_x: &str) -> Result<serde_json::Value, &'static str> {
    let header = super::jws::header(jws).map_err(|_| "not a JWS")?;
    if !header.is_ed25519() || header.typ.as_deref() != Some(typ) || header.carries_key_or_crit {
        return Err("not the expected kind of document");
    }
    let raw: [u8; 32] = URL_SAFE_NO_PAD
        .decode(platform_x.trim())
        .map_err(|_| "the platform key is not base64url")?
        .try_into()
        .map_err(|_| "the platform key is not an Ed25519 key")?;
    let payload = super::jws::verify_ed25519(jws, &raw)
        .map_err(|_| "the platform signature does not verify")?;
    serde_json::from_slice(&payload).map_err(|_| "the payload is not JSON")
}
