//! Personal data at rest: AES-256-GCM with a key id, and an HMAC-SHA-256 blind index.
//!
//! The key comes from configuration, never from the database. Each ciphertext records the id of
//! the key that sealed it, so a new key can be introduced while old rows still open. The owner's
//! id is bound as associated data, so a ciphertext copied to another row does not decrypt.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::configuration::Secrets;

const NONCE_LEN: usize = 12;

/// Seals and opens personal data; computes blind indexes.
#[derive(Clone)]
pub struct PiiCipher {
    key_id: String,
    cipher: Aes256Gcm,
    index_key: Vec<u8>,
}

impl std::fmt::Debug for PiiCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "PiiCipher(key_id = {})", self.key_id)
    }
}

/// Sealing or opening failed (a wrong key, a tampered or misplaced ciphertext).
#[derive(Debug, thiserror::Error)]
#[error("personal data could not be decrypted")]
pub struct PiiError;

impl PiiCipher {
    /// Builds the cipher from the validated secrets.
    pub fn new(secrets: &Secrets, key_id: &str) -> Self {
        let cipher = Aes256Gcm::new(secrets.pii_encryption_key.expose_secret().into());
        PiiCipher {
            key_id: key_id.to_owned(),
            cipher,
            index_key: secrets.pii_index_key.expose_secret().as_bytes().to_vec(),
        }
    }

    /// The id stored beside each ciphertext.
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// `nonce || ciphertext+tag`, bound to `owner`.
    pub fn seal(&self, plaintext: &str, owner: &[u8]) -> Result<Vec<u8>, PiiError> {
        self.seal_bytes(plaintext.as_bytes(), owner)
    }

    /// [`PiiCipher::seal`] for bytes (documents).
    pub fn seal_bytes(&self, plaintext: &[u8], owner: &[u8]) -> Result<Vec<u8>, PiiError> {
        let nonce = crate::crypto::random::bytes::<NONCE_LEN>();
        let payload = Payload {
            msg: plaintext,
            aad: owner,
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| PiiError)?;
        let mut out = Vec::with_capacity(NONCE_LEN + sealed.len());
        out.extend_from_slice(&nonce);
        out.extend(sealed);
        Ok(out)
    }

    /// Opens what [`PiiCipher::seal`] produced for the same `owner`.
    pub fn open(&self, sealed: &[u8], owner: &[u8]) -> Result<String, PiiError> {
        String::from_utf8(self.open_bytes(sealed, owner)?).map_err(|_| PiiError)
    }

    /// Opens what [`PiiCipher::seal_bytes`] produced for the same `owner`.
    pub fn open_bytes(&self, sealed: &[u8], owner: &[u8]) -> Result<Vec<u8>, PiiError> {
        if sealed.len() <= NONCE_LEN {
            return Err(PiiError);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let payload = Payload {
            msg: body,
            aad: owner,
        };
        self.cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| PiiError)
    }

    /// A keyed hash that finds equal values without storing them: HMAC-SHA-256 over
    /// `domain:value`, hex.
    pub fn blind_index(&self, domain: &str, value: &str) -> String {
        // HMAC accepts keys of any length, so this cannot fail.
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&self.index_key)
            .unwrap_or_else(|_| unreachable!("HMAC takes any key length"));
        mac.update(domain.as_bytes());
        mac.update(b":");
        mac.update(value.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::configuration::{Environment, Settings};

    fn cipher() -> Option<PiiCipher> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let settings = Settings::load_from(&dir, Environment::Test).ok()?;
        Some(PiiCipher::new(&settings.secrets().ok()?, "k1"))
    }

    #[test]
    fn sealed_data_opens_only_for_its_owner() {
        let Some(cipher) = cipher() else {
            panic!("test configuration must load");
        };
        let sealed = cipher
            .seal("11010519491231002X", b"owner-a")
            .unwrap_or_default();
        assert!(
            !sealed.windows(6).any(|w| w == b"110105"),
            "ciphertext hides the number"
        );
        assert_eq!(
            cipher.open(&sealed, b"owner-a").ok().as_deref(),
            Some("11010519491231002X")
        );
        assert!(
            cipher.open(&sealed, b"owner-b").is_err(),
            "bound to its owner"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(cipher.open(&tampered, b"owner-a").is_err());
        let again = cipher
            .seal("11010519491231002X", b"owner-a")
            .unwrap_or_default();
        assert_ne!(sealed, again, "a fresh nonce every time");
    }

    #[test]
    fn the_blind_index_is_stable_and_domain_separated() {
        let Some(cipher) = cipher() else {
            panic!("test configuration must load");
        };
        let a = cipher.blind_index("resident_id", "11010519491231002X");
        assert_eq!(a, cipher.blind_index("resident_id", "11010519491231002X"));
        assert_ne!(a, cipher.blind_index("passport", "11010519491231002X"));
        assert_eq!(a.len(), 64);
    }
}
