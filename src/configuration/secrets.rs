//! Secrets: read as text, validated into keys, and refused where others could know them.
//!
//! Every environment refuses a key shared between two purposes (one leak would open both).
//! Production also refuses a key that appears in any file under the configuration directory
//! (those files are in the repository, so their secrets are public: `local.toml`'s, `test.toml`'s,
//! an example pasted into `production.toml`) and a key estimated at under 128 bits (`aaaa…`, a
//! short pattern repeated, a few words).

use std::path::{Path, PathBuf};

use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

use super::{ConfigError, is_key_id};

/// Secrets as read; [`Settings::secrets`] validates them into [`Secrets`].
#[derive(Debug, Clone, Default, Deserialize)]
pub struct RawSecrets {
    token_signing_key: Option<SecretString>,
    pii_encryption_key: Option<SecretString>,
    pii_index_key: Option<SecretString>,
    platform_signing_key: Option<SecretString>,
    audit_hmac_key: Option<SecretString>,
    audit_retired_keys: Option<SecretString>,
}

/// Validated secrets: keys for access tokens and for personal data at rest.
pub struct Secrets {
    /// HMAC key for access tokens (at least 32 bytes).
    pub token_signing_key: SecretString,
    /// AES-256-GCM key for personal data, decoded from base64 (32 bytes).
    pub pii_encryption_key: secrecy::SecretBox<[u8; 32]>,
    /// HMAC key for the blind index of ID numbers (at least 32 bytes).
    pub pii_index_key: SecretString,
    /// Ed25519 seed of the platform key that signs the published trust list (32 bytes).
    pub platform_signing_key: secrecy::SecretBox<[u8; 32]>,
    /// HMAC-SHA-256 key of the audit chain (at least 32 bytes): held outside the database so
    /// that whoever can write the database still cannot re-chain the log unnoticed.
    pub audit_hmac_key: SecretString,
    /// Keys the audit chain was signed with before a rotation, by key id, so old rows still
    /// verify (`id=key` pairs separated by `;`, each key at least 32 bytes).
    pub audit_retired_keys: Vec<(String, SecretString)>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secrets([REDACTED])")
    }
}

const TOKEN_KEY_VAR: &str = "TALENTCARD__SECRETS__TOKEN_SIGNING_KEY";
const PII_KEY_VAR: &str = "TALENTCARD__SECRETS__PII_ENCRYPTION_KEY";
const INDEX_KEY_VAR: &str = "TALENTCARD__SECRETS__PII_INDEX_KEY";
const PLATFORM_KEY_VAR: &str = "TALENTCARD__SECRETS__PLATFORM_SIGNING_KEY";
const AUDIT_KEY_VAR: &str = "TALENTCARD__SECRETS__AUDIT_HMAC_KEY";
const AUDIT_RETIRED_VAR: &str = "TALENTCARD__SECRETS__AUDIT_RETIRED_KEYS";

/// `id=key;id=key` (retired audit keys); each id a short name, each key at least 32 bytes.
fn retired_keys(value: &Option<SecretString>) -> Result<Vec<(String, SecretString)>, ConfigError> {
    let Some(value) = value else {
        return Ok(Vec::new());
    };
    let mut keys = Vec::new();
    for pair in value
        .expose_secret()
        .split(';')
        .filter(|p| !p.trim().is_empty())
    {
        let (id, key) = pair.split_once('=').ok_or_else(|| {
            ConfigError::invalid(AUDIT_RETIRED_VAR, "must be id=key pairs separated by ;")
        })?;
        let id = id.trim();
        if !is_key_id(id) || key.len() < 32 {
            return Err(ConfigError::invalid(
                AUDIT_RETIRED_VAR,
                "each id must be 1 to 32 letters, digits, - or _, each key at least 32 bytes",
            ));
        }
        keys.push((id.to_owned(), SecretString::from(key.to_owned())));
    }
    Ok(keys)
}

/// `%XX` escapes of a URL component decoded (a password in a URL is percent-encoded).
fn base64_key(value: &SecretString, variable: &str) -> Result<[u8; 32], ConfigError> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.expose_secret().trim())
        .map_err(|_| ConfigError::invalid(variable, "must be base64"))?;
    bytes
        .try_into()
        .map_err(|_| ConfigError::invalid(variable, "must decode to exactly 32 bytes"))
}

impl RawSecrets {
    pub(super) fn validate(&self) -> Result<Secrets, ConfigError> {
        let token = required(&self.token_signing_key, TOKEN_KEY_VAR)?;
        let index = required(&self.pii_index_key, INDEX_KEY_VAR)?;
        let audit = required(&self.audit_hmac_key, AUDIT_KEY_VAR)?;
        for (value, var) in [
            (&token, TOKEN_KEY_VAR),
            (&index, INDEX_KEY_VAR),
            (&audit, AUDIT_KEY_VAR),
        ] {
            if value.expose_secret().len() < 32 {
                return Err(ConfigError::invalid(var, "must be at least 32 bytes"));
            }
        }
        let key = base64_key(
            &required(&self.pii_encryption_key, PII_KEY_VAR)?,
            PII_KEY_VAR,
        )?;
        let platform = base64_key(
            &required(&self.platform_signing_key, PLATFORM_KEY_VAR)?,
            PLATFORM_KEY_VAR,
        )?;
        Ok(Secrets {
            token_signing_key: token,
            pii_encryption_key: secrecy::SecretBox::new(Box::new(key)),
            pii_index_key: index,
            platform_signing_key: secrecy::SecretBox::new(Box::new(platform)),
            audit_hmac_key: audit,
            audit_retired_keys: retired_keys(&self.audit_retired_keys)?,
        })
    }

    pub(super) fn values(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            (TOKEN_KEY_VAR, &self.token_signing_key),
            (PII_KEY_VAR, &self.pii_encryption_key),
            (INDEX_KEY_VAR, &self.pii_index_key),
            (PLATFORM_KEY_VAR, &self.platform_signing_key),
            (AUDIT_KEY_VAR, &self.audit_hmac_key),
            (AUDIT_RETIRED_VAR, &self.audit_retired_keys),
        ]
        .into_iter()
        .filter_map(|(var, value)| value.as_ref().map(|v| (var, v.expose_secret())))
    }
}

fn required(value: &Option<SecretString>, variable: &str) -> Result<SecretString, ConfigError> {
    value
        .clone()
        .filter(|v| !v.expose_secret().trim().is_empty())
        .ok_or_else(|| ConfigError::invalid(variable, "is required and not set"))
}

/// The fewest bits a production key may be estimated at.
const MIN_BITS: f64 = 128.0;
/// How deep under the configuration directory files are searched for published secrets.
const SEARCH_DEPTH: usize = 4;
/// Files larger than this are not secrets files (reference data, fonts) and are not read.
const SEARCH_FILE_LIMIT: u64 = 4 * 1024 * 1024;

/// One key as the service uses it: the variable that sets it, the text it was given as, and
/// the bytes that key the algorithm (base64 keys decoded).
struct KeyMaterial {
    variable: &'static str,
    text: String,
    bytes: Vec<u8>,
}

impl RawSecrets {
    /// Every configured key, retired audit keys one by one.
    fn material(&self) -> Vec<KeyMaterial> {
        let mut keys = Vec::new();
        for (variable, value) in self.values() {
            if variable == AUDIT_RETIRED_VAR {
                let retired = value
                    .split(';')
                    .filter_map(|pair| pair.split_once('=').map(|(_, key)| key));
                keys.extend(retired.map(|key| KeyMaterial {
                    variable,
                    text: key.to_owned(),
                    bytes: key.as_bytes().to_vec(),
                }));
                continue;
            }
            let text = value.trim().to_owned();
            let bytes = match variable {
                PII_KEY_VAR | PLATFORM_KEY_VAR => base64::engine::general_purpose::STANDARD
                    .decode(&text)
                    .unwrap_or_else(|_| text.as_bytes().to_vec()),
                _ => text.as_bytes().to_vec(),
            };
            keys.push(KeyMaterial {
                variable,
                text,
                bytes,
            });
        }
        keys
    }

    /// Two purposes never share a key, whether given as the same text or the same bytes.
    pub(super) fn refuse_shared_keys(&self) -> Result<(), ConfigError> {
        let keys = self.material();
        for (i, a) in keys.iter().enumerate() {
            for b in &keys[i + 1..] {
                if a.text == b.text || a.bytes == b.bytes {
                    let problem = if a.variable == b.variable {
                        "holds the same key twice; each key must be its own".to_owned()
                    } else {
                        format!(
                            "holds the same key as {}; each purpose needs its own",
                            b.variable
                        )
                    };
                    return Err(ConfigError::invalid(a.variable, problem));
                }
            }
        }
        Ok(())
    }

    /// Production: no key that a file under `config_dir` holds, none that looks guessable.
    pub(super) fn refuse_known_or_weak_keys(&self, config_dir: &Path) -> Result<(), ConfigError> {
        let keys = self.material();
        let files = files_under(config_dir, SEARCH_DEPTH);
        for key in &keys {
            // A fragment this short would match by chance; every real key is longer.
            if key.text.len() < 16 {
                continue;
            }
            for file in &files {
                let Ok(contents) = std::fs::read(file) else {
                    continue;
                };
                let found = contents
                    .windows(key.text.len())
                    .any(|window| window == key.text.as_bytes());
                if found {
                    return Err(ConfigError::invalid(
                        key.variable,
                        format!(
                            "holds a value found in {}: files under the configuration directory \
                             are in the repository, so their secrets are public (this includes the \
                             development values); set a production secret in the environment",
                            file.display()
                        ),
                    ));
                }
            }
        }
        for key in &keys {
            let bits = estimated_bits(&key.bytes);
            if bits < MIN_BITS {
                return Err(ConfigError::invalid(
                    key.variable,
                    format!(
                        "looks guessable (about {bits:.0} bits: too few different characters or \
                         a pattern repeated); use 32 random bytes, e.g. `openssl rand -base64 32`"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// Regular files under `dir`, `depth` levels down at most, none larger than the search limit.
fn files_under(dir: &Path, depth: usize) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        let path = entry.path();
        if kind.is_dir() && depth > 0 {
            files.extend(files_under(&path, depth - 1));
        } else if kind.is_file() && entry.metadata().is_ok_and(|m| m.len() <= SEARCH_FILE_LIMIT) {
            files.push(path);
        }
    }
    files
}

/// The key's length times the Shannon entropy of its bytes: an upper bound on what an attacker
/// who knows the alphabet and the frequencies faces. 32 random bytes score about 150, a random
/// base64 text of 32 bytes about 230; `aaaa…` scores 0 and a short pattern repeated little.
pub(super) fn estimated_bits(bytes: &[u8]) -> f64 {
    if bytes.is_empty() {
        return 0.0;
    }
    let mut counts = [0_u32; 256];
    for &byte in bytes {
        counts[usize::from(byte)] += 1;
    }
    let total = bytes.len() as f64;
    let per_byte: f64 = counts
        .iter()
        .filter(|&&n| n > 0)
        .map(|&n| {
            let p = f64::from(n) / total;
            -p * p.log2()
        })
        .sum();
    per_byte * total
}

#[cfg(test)]
mod tests {
    use super::estimated_bits;

    #[test]
    fn guessable_keys_score_low_and_random_ones_high() {
        assert!(estimated_bits(&[b'a'; 64]) < 1.0);
        assert!(estimated_bits("ab".repeat(32).as_bytes()) <= 64.0);
        assert!(estimated_bits(b"password-password-password-password") < 128.0);
        let random: Vec<u8> = (0..32_u32).map(|i| (i * 73 + 41) as u8).collect();
        assert!(
            estimated_bits(&random) >= 150.0,
            "32 different bytes score 160"
        );
        let text = "q9LxT2vR0bYz7mWc4HpK8sNe1GuJ6aFd3iOk5tUrVyZ=";
        assert!(estimated_bits(text.as_bytes()) > 200.0);
    }
}
