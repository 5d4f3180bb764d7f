//! Which passwords are accepted: 12 to 128 characters and not among the 10,000 most common.

use std::collections::HashSet;
use std::path::Path;

use anyhow::Context;
use secrecy::{ExposeSecret, SecretString};

use crate::domain::password::NewPassword;

/// The common-password list, loaded once at start from `config/common-passwords.txt`.
#[derive(Debug, Default)]
pub struct PasswordPolicy {
    common: HashSet<String>,
}

impl PasswordPolicy {
    /// Reads the list (one password a line, `#` comments) on the blocking pool.
    pub async fn load(config_dir: &Path) -> anyhow::Result<Self> {
        let path = config_dir.join("common-passwords.txt");
        let text = tokio::fs::read_to_string(&path)
            .await
            .with_context(|| format!("could not read {}", path.display()))?;
        let common = text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|l| l.trim().to_lowercase())
            .collect();
        Ok(PasswordPolicy { common })
    }

    /// How many passwords the list holds.
    pub fn len(&self) -> usize {
        self.common.len()
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.common.is_empty()
    }

    /// Checks length, then the list; the error is a message for the `password` field.
    pub fn check(&self, raw: SecretString) -> Result<NewPassword, String> {
        let lowered = raw.expose_secret().to_lowercase();
        let password = NewPassword::parse(raw)?;
        if self.common.contains(&lowered) {
            return Err("is too common; choose a passphrase of your own".to_owned());
        }
        Ok(password)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn common_passwords_are_refused_in_any_case() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
        let policy = PasswordPolicy::load(&dir).await.unwrap_or_default();
        assert_eq!(policy.len(), 10_000);
        let check = |p: &str| policy.check(SecretString::from(p.to_owned())).is_ok();
        // Twelve characters, long enough, and on the list.
        assert!(!check("123qweasdzxc"));
        assert!(!check("1QAZ2WSX3EDC"), "case does not matter");
        assert!(check("a long passphrase of my own"));
        assert!(!check("short"));
    }
}
