//! The audit chain's HMAC keys, held outside the database.
//!
//! Whoever can write the database can recompute plain SHA-256 links, so each row also carries
//! an HMAC of its hash under a key from the configuration. The keyring holds the current key
//! (its id is written beside every new MAC) and the retired ones, so rows signed before a
//! rotation still verify. The writer finds the keyring installed for the process: it is needed
//! by every one of the many places that record an event, inside their own transactions, and
//! a key that changes per call would be a fork of the chain anyway.

use std::sync::{Arc, PoisonError, RwLock};

use secrecy::{ExposeSecret, SecretString};

use crate::configuration::{ConfigError, Settings};

/// The current audit key and the retired ones, by id.
pub struct AuditKeyring {
    current_id: String,
    keys: Vec<(String, SecretString)>,
}

impl std::fmt::Debug for AuditKeyring {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AuditKeyring(current = {})", self.current_id)
    }
}

impl AuditKeyring {
    /// A keyring whose current key is `key` under `key_id`, with `retired` keys for old rows.
    pub fn new(key_id: &str, key: SecretString, retired: Vec<(String, SecretString)>) -> Self {
        let mut keys = vec![(key_id.to_owned(), key)];
        keys.extend(retired.into_iter().filter(|(id, _)| id != key_id));
        AuditKeyring {
            current_id: key_id.to_owned(),
            keys,
        }
    }

    /// The keyring the settings describe (`TALENTCARD__SECRETS__AUDIT_HMAC_KEY`,
    /// `TALENTCARD__AUTH__AUDIT_KEY_ID`, `TALENTCARD__SECRETS__AUDIT_RETIRED_KEYS`).
    pub fn from_settings(settings: &Settings) -> Result<Self, ConfigError> {
        let secrets = settings.secrets()?;
        Ok(AuditKeyring::new(
            &settings.auth.audit_key_id,
            secrets.audit_hmac_key,
            secrets.audit_retired_keys,
        ))
    }

    /// The id new rows are signed under.
    pub fn current_id(&self) -> &str {
        &self.current_id
    }

    /// The MAC of `hash` under the key `key_id`, or `None` when that key is not configured.
    pub fn mac(&self, key_id: &str, hash: &str) -> Option<String> {
        self.keys
            .iter()
            .find(|(id, _)| id == key_id)
            .map(|(id, key)| super::chain::link_mac(key.expose_secret().as_bytes(), id, hash))
    }
}

static INSTALLED: RwLock<Option<Arc<AuditKeyring>>> = RwLock::new(None);

/// Makes `keyring` the one every audit row of this process is signed with.
pub fn install(keyring: AuditKeyring) -> Arc<AuditKeyring> {
    let keyring = Arc::new(keyring);
    *INSTALLED.write().unwrap_or_else(PoisonError::into_inner) = Some(keyring.clone());
    keyring
}

/// Builds the settings' keyring and installs it.
pub fn install_from(settings: &Settings) -> Result<Arc<AuditKeyring>, ConfigError> {
    Ok(install(AuditKeyring::from_settings(settings)?))
}

/// The installed keyring; `None` before start-up installed one (then nothing can be audited,
/// and the change that wanted a row is refused with its transaction).
pub fn installed() -> Option<Arc<AuditKeyring>> {
    INSTALLED
        .read()
        .unwrap_or_else(PoisonError::into_inner)
        .clone()
}
