//! A normalised email address.

use std::fmt;

/// An email address, trimmed and lower-cased, so one mailbox is one account.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    /// Normalises and checks the shape; the mailbox itself is not contacted.
    pub fn parse(raw: &str) -> Result<Self, &'static str> {
        let email = raw.trim().to_lowercase();
        if email.len() > 254 {
            return Err("must be at most 254 characters");
        }
        let Some((local, domain)) = email.split_once('@') else {
            return Err("must contain @");
        };
        let plausible = !local.is_empty()
            && local.len() <= 64
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains('@')
            && !email.chars().any(|c| c.is_whitespace() || c.is_control());
        if !plausible {
            return Err("is not a valid email address");
        }
        Ok(Email(email))
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::Email;

    #[test]
    fn normalises_case_and_whitespace() {
        let email = Email::parse("  Li.Ming@Example.CN ").map(|e| e.as_str().to_owned());
        assert_eq!(email, Ok("li.ming@example.cn".to_owned()));
    }

    #[test]
    fn refuses_malformed_addresses() {
        for bad in [
            "",
            "no-at-sign",
            "@example.cn",
            "a@b",
            "a@.cn",
            "a@b.",
            "a b@c.cn",
            "a@b@c.cn",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad:?} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.cn", "a".repeat(65))).is_err());
    }
}
