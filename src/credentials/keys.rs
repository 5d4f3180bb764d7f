//! Issuer signing keys: Ed25519, the private half sealed at rest under a key from
//! configuration, named by a `kid`.

use ed25519_dalek::SigningKey;
use ed25519_dalek::pkcs8::EncodePrivateKey;

use crate::crypto::pii::Field;
use crate::crypto::pii::{PiiCipher, PiiError};

/// A fresh key pair: (seed sealed for storage, raw public key).
pub struct NewKey {
    /// e.g. `XA-20261128-9f3c1a2b`.
    pub kid: String,
    /// The raw 32-byte public key.
    pub public_key: [u8; 32],
    /// The 32-byte seed, sealed and bound to the kid.
    pub sealed_seed: Vec<u8>,
}

/// Generates a key for `issuer`.
pub fn generate(
    issuer: &str,
    today: chrono::NaiveDate,
    cipher: &PiiCipher,
) -> Result<NewKey, PiiError> {
    let seed = crate::crypto::random::bytes::<32>();
    let signing = SigningKey::from_bytes(&seed);
    let suffix = hex::encode(crate::crypto::random::bytes::<4>());
    let kid = format!("{issuer}-{}-{suffix}", today.format("%Y%m%d"));
    let sealed_seed = cipher.seal_bytes(&seed, Field::IssuerKeySeed, kid.as_bytes())?;
    Ok(NewKey {
        public_key: signing.verifying_key().to_bytes(),
        kid,
        sealed_seed,
    })
}

/// The PKCS#8 DER of a stored key, for jsonwebtoken's EdDSA signer.
pub fn signing_der(kid: &str, sealed_seed: &[u8], cipher: &PiiCipher) -> anyhow::Result<Vec<u8>> {
    let seed: [u8; 32] = cipher
        .open_bytes(sealed_seed, Field::IssuerKeySeed, kid.as_bytes())?
        .try_into()
        .map_err(|_| anyhow::anyhow!("a signing seed must be 32 bytes"))?;
    let der = SigningKey::from_bytes(&seed)
        .to_pkcs8_der()
        .map_err(|e| anyhow::anyhow!("pkcs8: {e}"))?;
    Ok(der.as_bytes().to_vec())
}

/// The public half of an issuer key as an RFC 7517 JWK (RFC 8037 `OKP`/`Ed25519`), the form the
/// trust list, the JWK Set and the issuer metadata all publish.
pub fn public_jwk(kid: &str, public_key: &[u8]) -> serde_json::Value {
    use base64::Engine;
    serde_json::json!({
        "kty": "OKP",
        "crv": "Ed25519",
        "x": base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public_key),
        "kid": kid,
        "alg": "EdDSA",
        "use": "sig",
    })
}
