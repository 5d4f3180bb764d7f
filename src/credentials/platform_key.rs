//! The platform's own signing key: it signs the trust list and the offline copies of status
//! lists, which every issuer's keys are checked against. Derived once from the configured seed.

use crate::configuration::{Secrets, Settings};

/// The platform's Ed25519 key: operators publish its public half; verifiers check the signed
/// trust list (`/trust-list.jws`) with it.
pub struct PlatformKey {
    /// PKCS#8 DER of the private key, for jsonwebtoken's signer.
    pub der: Vec<u8>,
    /// `platform-` and the first 8 hex digits of the public key's SHA-256.
    pub kid: String,
    /// The public key, base64url (the JWK's `x`).
    pub x: String,
}

impl PlatformKey {
    /// The platform key of a configuration.
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        Self::new(&settings.secrets()?)
    }

    /// The platform key of configured secrets.
    pub fn new(secrets: &Secrets) -> anyhow::Result<Self> {
        use base64::Engine;
        use ed25519_dalek::pkcs8::EncodePrivateKey;
        use secrecy::ExposeSecret;
        use sha2::Digest;
        let signing =
            ed25519_dalek::SigningKey::from_bytes(secrets.platform_signing_key.expose_secret());
        let public = signing.verifying_key().to_bytes();
        let der = signing
            .to_pkcs8_der()
            .map_err(|e| anyhow::anyhow!("platform key: {e}"))?;
        Ok(PlatformKey {
            der: der.as_bytes().to_vec(),
            kid: format!(
                "platform-{}",
                &hex::encode(sha2::Sha256::digest(public))[..8]
            ),
            x: base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(public),
        })
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> serde_json::Value {
        serde_json::json!({ "kty": "OKP", "crv": "Ed25519", "x": self.x, "kid": self.kid, "use": "sig" })
    }
}
