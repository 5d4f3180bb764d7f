//! Published trust material signed by the platform key: a compact EdDSA JWS whose payload is
//! the same JSON the plain endpoint serves. Verifiers that take the material from a CDN, a
//! mirror or a file check it with the platform's public key before believing it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
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

/// The payload of a JWS of type `typ` signed by the platform key `x` (base64url raw key).
pub fn open(jws: &str, typ: &str, platform_x: &str) -> Result<serde_json::Value, &'static str> {
    let header = jsonwebtoken::decode_header(jws.trim()).map_err(|_| "not a JWS")?;
    if header.alg != Algorithm::EdDSA || header.typ.as_deref() != Some(typ) {
        return Err("not the expected kind of document");
    }
    let raw = URL_SAFE_NO_PAD
        .decode(platform_x.trim())
        .map_err(|_| "the platform key is not base64url")?;
    if raw.len() != 32 {
        return Err("the platform key is not an Ed25519 key");
    }
    let key = DecodingKey::from_ed_components(platform_x.trim())
        .map_err(|_| "the platform key is invalid")?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.required_spec_claims.clear();
    validation.validate_exp = false;
    validation.validate_aud = false;
    jsonwebtoken::decode::<serde_json::Value>(jws.trim(), &key, &validation)
        .map(|data| data.claims)
        .map_err(|_| "the platform signature does not verify")
}
