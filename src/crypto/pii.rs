//! Personal data at rest: AES-256-GCM with a key id, and an HMAC-SHA-256 blind index.
//!
//! The key comes from configuration, never from the database. Each ciphertext records the id of
//! the key that sealed it, so a new key can be introduced while old rows still open. The field it
//! belongs to (a column label, [`Field`]) and its owner's id are bound as associated data, so a
//! ciphertext copied to another row, or to another column of the same row (a TOTP seed moved
//! into the ID number's column), does not decrypt.
//!
//! Format: `TCv2 || nonce || ciphertext+tag`, associated data
//! `talentcard-pii-v2 \0 label \0 owner`. Ciphertexts sealed before the label (no prefix,
//! associated data = owner) still open, wherever they are read: every write seals anew in the
//! labelled format, and no start-up pass re-seals old rows (see SECURITY.md).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hmac::{Hmac, Mac};
use secrecy::ExposeSecret;
use sha2::Sha256;

use crate::configuration::Secrets;

const NONCE_LEN: usize = 12;
/// The prefix of labelled ciphertexts.
const V2: &[u8; 4] = b"TCv2";

/// Where a ciphertext is stored; its label is bound into the associated data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    /// `profiles.id_number_ciphertext`.
    IdNumber,
    /// `profiles.phone_ciphertext`.
    Phone,
    /// `accounts.totp_secret`: the second factor's seed.
    TotpSecret,
    /// `applications.facts`.
    Facts,
    /// `applications.evaluation_trace`.
    EvaluationTrace,
    /// `application_documents.content`: evidence files.
    Document,
    /// `issuer_keys.sealed_seed`: an issuer's private signing key.
    IssuerKeySeed,
    /// `card_changes.facts`: a holder's new facts in a change report.
    ChangeFacts,
    /// `card_changes.evaluation_trace`: their evaluation, which quotes them.
    ChangeEvaluationTrace,
    /// `dependant_people.id_number_ciphertext`: a family member's identity document.
    DependantIdNumber,
}

impl Field {
    /// The label bound into the associated data: table and column, stable forever.
    pub fn label(self) -> &'static str {
        match self {
            Field::IdNumber => "profiles.id_number",
            Field::Phone => "profiles.phone",
            Field::TotpSecret => "accounts.totp_secret",
            Field::Facts => "applications.facts",
            Field::EvaluationTrace => "applications.evaluation_trace",
            Field::Document => "application_documents.content",
            Field::IssuerKeySeed => "issuer_keys.sealed_seed",
            Field::ChangeFacts => "card_changes.facts",
            Field::ChangeEvaluationTrace => "card_changes.evaluation_trace",
            Field::DependantIdNumber => "dependant_people.id_number",
        }
    }

    fn associated_data(self, owner: &[u8]) -> Vec<u8> {
        let label = self.label().as_bytes();
        let mut aad = Vec::with_capacity(19 + label.len() + owner.len());
        aad.extend_from_slice(b"talentcard-pii-v2\0");
        aad.extend_from_slice(label);
        aad.push(0);
        aad.extend_from_slice(owner);
        aad
    }
}

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

    /// `TCv2 || nonce || ciphertext+tag`, bound to `field` and `owner`.
    pub fn seal(&self, plaintext: &str, field: Field, owner: &[u8]) -> Result<Vec<u8>, PiiError> {
        self.seal_bytes(plaintext.as_bytes(), field, owner)
    }

    /// [`PiiCipher::seal`] for bytes (documents, keys).
    pub fn seal_bytes(
        &self,
        plaintext: &[u8],
        field: Field,
        owner: &[u8],
    ) -> Result<Vec<u8>, PiiError> {
        let nonce = crate::crypto::random::bytes::<NONCE_LEN>();
        let aad = field.associated_data(owner);
        let payload = Payload {
            msg: plaintext,
            aad: &aad,
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| PiiError)?;
        let mut out = Vec::with_capacity(V2.len() + NONCE_LEN + sealed.len());
        out.extend_from_slice(V2);
        out.extend_from_slice(&nonce);
        out.extend(sealed);
        Ok(out)
    }

    /// Opens what [`PiiCipher::seal`] produced for the same `field` and `owner`.
    pub fn open(&self, sealed: &[u8], field: Field, owner: &[u8]) -> Result<String, PiiError> {
        String::from_utf8(self.open_bytes(sealed, field, owner)?).map_err(|_| PiiError)
    }

    /// Opens what [`PiiCipher::seal_bytes`] produced for the same `field` and `owner`, or a
    /// ciphertext of the unlabelled format bound to `owner` alone.
    pub fn open_bytes(
        &self,
        sealed: &[u8],
        field: Field,
        owner: &[u8],
    ) -> Result<Vec<u8>, PiiError> {
        if let Some(labelled) = sealed.strip_prefix(V2) {
            let opened = self.decrypt(labelled, &field.associated_data(owner));
            // One unlabelled ciphertext in 2^32 starts with the prefix by chance; read as
            // unlabelled, a labelled one cannot authenticate, so trying both gives nothing away.
            if opened.is_ok() {
                return opened;
            }
        }
        self.decrypt(sealed, owner)
    }

    fn decrypt(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, PiiError> {
        if sealed.len() <= NONCE_LEN {
            return Err(PiiError);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let payload = Payload { msg: body, aad };
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
            .seal("11010519491231002X", Field::IdNumber, b"owner-a")
            .unwrap_or_default();
        assert!(
            !sealed.windows(6).any(|w| w == b"110105"),
            "ciphertext hides the number"
        );
        assert_eq!(
            cipher
                .open(&sealed, Field::IdNumber, b"owner-a")
                .ok()
                .as_deref(),
            Some("11010519491231002X")
        );
        assert!(
            cipher.open(&sealed, Field::IdNumber, b"owner-b").is_err(),
            "bound to its owner"
        );
        let mut tampered = sealed.clone();
        if let Some(last) = tampered.last_mut() {
            *last ^= 1;
        }
        assert!(cipher.open(&tampered, Field::IdNumber, b"owner-a").is_err());
        let again = cipher
            .seal("11010519491231002X", Field::IdNumber, b"owner-a")
            .unwrap_or_default();
        assert_ne!(sealed, again, "a fresh nonce every time");
    }

    #[test]
    fn a_ciphertext_moved_to_another_column_of_its_row_does_not_open() {
        let Some(cipher) = cipher() else {
            panic!("test configuration must load");
        };
        let seed = cipher
            .seal(
                "3132333435363738393031323334353637383930",
                Field::TotpSecret,
                b"acct",
            )
            .unwrap_or_default();
        assert!(cipher.open(&seed, Field::TotpSecret, b"acct").is_ok());
        for other in [
            Field::IdNumber,
            Field::Phone,
            Field::Facts,
            Field::EvaluationTrace,
            Field::Document,
            Field::IssuerKeySeed,
        ] {
            assert!(
                cipher.open(&seed, other, b"acct").is_err(),
                "a TOTP seed must not open as {}",
                other.label()
            );
        }
    }

    #[test]
    fn unlabelled_ciphertexts_from_before_still_open() {
        let Some(cipher) = cipher() else {
            panic!("test configuration must load");
        };
        // The old format: nonce || ciphertext+tag, associated data = owner.
        let nonce = [7_u8; NONCE_LEN];
        let payload = Payload {
            msg: b"11010519491231002X".as_slice(),
            aad: b"owner-a".as_slice(),
        };
        let body = cipher
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .unwrap_or_default();
        let legacy = [nonce.as_slice(), &body].concat();
        assert_eq!(
            cipher
                .open(&legacy, Field::IdNumber, b"owner-a")
                .ok()
                .as_deref(),
            Some("11010519491231002X")
        );
        assert!(cipher.open(&legacy, Field::IdNumber, b"owner-b").is_err());
        let resealed = cipher
            .seal("11010519491231002X", Field::IdNumber, b"owner-a")
            .unwrap_or_default();
        assert!(resealed.starts_with(V2), "writes use the labelled format");
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
