//! Signing helpers for the tests of holder keys, key binding and credentials: a wallet key of
//! either type from fixed bytes, signing compact JWS as a wallet would.
#![allow(clippy::unwrap_used, reason = "fixed test keys are valid")]

use super::*;

/// A wallet key of either type, from fixed bytes.
pub enum Wallet {
    /// P-256.
    P256(p256::ecdsa::SigningKey),
    /// Ed25519.
    Ed25519(ed25519_dalek::SigningKey),
}

impl Wallet {
    /// A P-256 key from a fixed scalar.
    pub fn p256(seed: u8) -> Self {
        let mut bytes = [seed; 32];
        bytes[0] = 1;
        Wallet::P256(p256::ecdsa::SigningKey::from_slice(&bytes).unwrap())
    }

    /// An Ed25519 key from a fixed seed.
    pub fn ed25519(seed: u8) -> Self {
        Wallet::Ed25519(ed25519_dalek::SigningKey::from_bytes(&[seed; 32]))
    }

    /// Its JOSE `alg`.
    pub fn alg(&self) -> &'static str {
        match self {
            Wallet::P256(_) => "ES256",
            Wallet::Ed25519(_) => "EdDSA",
        }
    }

    /// Its public JWK.
    pub fn jwk(&self) -> Value {
        match self {
            Wallet::P256(key) => {
                let point = key.verifying_key().to_sec1_point(false);
                let bytes = point.as_bytes();
                serde_json::json!({
                    "kty": "EC", "crv": "P-256",
                    "x": URL_SAFE_NO_PAD.encode(&bytes[1..33]),
                    "y": URL_SAFE_NO_PAD.encode(&bytes[33..65]),
                })
            }
            Wallet::Ed25519(key) => serde_json::json!({
                "kty": "OKP", "crv": "Ed25519",
                "x": URL_SAFE_NO_PAD.encode(key.verifying_key().to_bytes()),
            }),
        }
    }

    /// Signs `header.claims` (JSON) as a compact JWS.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = match self {
            Wallet::P256(key) => {
                use p256::ecdsa::signature::Signer;
                let signature: p256::ecdsa::Signature = key.sign(input.as_bytes());
                signature.to_bytes().to_vec()
            }
            Wallet::Ed25519(key) => {
                use ed25519_dalek::Signer;
                key.sign(input.as_bytes()).to_bytes().to_vec()
            }
        };
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}
