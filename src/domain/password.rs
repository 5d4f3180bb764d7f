//! Password length rules, checked before any hashing work is spent.

use secrecy::{ExposeSecret, SecretString};

/// Fewest characters a password may have.
pub const MIN_CHARS: usize = 12;
/// Most characters a password may have; longer ones are refused before hashing.
pub const MAX_CHARS: usize = 128;

/// A password that passed the length rules; it never prints.
#[derive(Clone)]
pub struct NewPassword(SecretString);

impl std::fmt::Debug for NewPassword {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("NewPassword([REDACTED])")
    }
}

impl NewPassword {
    /// Checks the length in characters (not bytes, so Chinese passphrases count fairly).
    pub fn parse(raw: SecretString) -> Result<Self, String> {
        let chars = raw.expose_secret().chars().count();
        if chars < MIN_CHARS {
            return Err(format!("must be at least {MIN_CHARS} characters"));
        }
        if chars > MAX_CHARS {
            return Err(format!("must be at most {MAX_CHARS} characters"));
        }
        Ok(NewPassword(raw))
    }

    /// The secret, for hashing.
    pub fn secret(&self) -> &SecretString {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &str) -> Result<NewPassword, String> {
        NewPassword::parse(SecretString::from(s.to_owned()))
    }

    #[test]
    fn length_boundaries() {
        assert!(parse(&"a".repeat(11)).is_err());
        assert!(parse(&"a".repeat(12)).is_ok());
        assert!(parse(&"a".repeat(64)).is_ok());
        assert!(parse(&"a".repeat(128)).is_ok());
        assert!(parse(&"a".repeat(129)).is_err());
        assert!(parse(&"人才".repeat(6)).is_ok(), "12 characters, 36 bytes");
    }
}
