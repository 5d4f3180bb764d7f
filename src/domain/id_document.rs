//! Identity documents: the resident ID of GB 11643-1999 and passport numbers.

use chrono::NaiveDate;

/// The kind of document a talent identifies with.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum IdType {
    /// 居民身份证, 18 characters with a check character.
    ResidentId,
    /// A passport (foreign talent).
    Passport,
}

impl IdType {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            IdType::ResidentId => "resident_id",
            IdType::Passport => "passport",
        }
    }
}

/// A validated, normalised document number. It never prints.
#[derive(Clone, PartialEq, Eq)]
pub struct IdNumber {
    kind: IdType,
    number: String,
}

impl std::fmt::Debug for IdNumber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "IdNumber({:?}, {})", self.kind, self.masked())
    }
}

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK_CHARS: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];

/// The GB 11643 check character of the first 17 digits.
pub fn resident_id_check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 || !first17.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sum: u32 = first17
        .bytes()
        .zip(WEIGHTS)
        .map(|(b, w)| u32::from(b - b'0') * w)
        .sum();
    CHECK_CHARS.get((sum % 11) as usize).copied()
}

impl IdNumber {
    /// Validates a number of the given kind; the error says what is wrong without echoing it.
    pub fn parse(kind: IdType, raw: &str) -> Result<Self, &'static str> {
        let number: String = raw.trim().to_ascii_uppercase();
        match kind {
            IdType::ResidentId => Self::check_resident_id(&number)?,
            IdType::Passport => {
                let ok = (5..=20).contains(&number.len())
                    && number.bytes().all(|b| b.is_ascii_alphanumeric());
                if !ok {
                    return Err("must be 5 to 20 letters and digits");
                }
            }
        }
        Ok(IdNumber { kind, number })
    }

    fn check_resident_id(number: &str) -> Result<(), &'static str> {
        if number.len() != 18 || !number.is_ascii() {
            return Err("must be 18 characters");
        }
        let (first17, last) = number.split_at(17);
        let expected =
            resident_id_check_char(first17).ok_or("the first 17 characters must be digits")?;
        if !last.starts_with(expected) {
            return Err("the check character does not match (GB 11643)");
        }
        let birth = NaiveDate::parse_from_str(&number[6..14], "%Y%m%d")
            .map_err(|_| "does not contain a valid birth date")?;
        if birth < NaiveDate::from_ymd_opt(1900, 1, 1).unwrap_or(NaiveDate::MIN) {
            return Err("does not contain a valid birth date");
        }
        Ok(())
    }

    /// The document kind.
    pub fn kind(&self) -> IdType {
        self.kind
    }

    /// The full number, for encryption and the blind index only.
    pub fn expose(&self) -> &str {
        &self.number
    }

    /// The number with all but its first and last characters hidden: `110***********123X`.
    pub fn masked(&self) -> String {
        let (head, tail) = match self.kind {
            IdType::ResidentId => (3, 4),
            IdType::Passport => (1, 2),
        };
        mask(&self.number, head, tail)
    }
}

/// Keeps `head` leading and `tail` trailing characters and stars the rest.
pub fn mask(value: &str, head: usize, tail: usize) -> String {
    let chars: Vec<char> = value.chars().collect();
    if chars.len() <= head + tail {
        return "*".repeat(chars.len());
    }
    let hidden = chars.len() - head - tail;
    let mut masked: String = chars[..head].iter().collect();
    masked.push_str(&"*".repeat(hidden));
    masked.extend(&chars[chars.len() - tail..]);
    masked
}

#[cfg(test)]
mod tests {
    use super::*;

    // 11010519491231002X is the standard's own worked example.
    const VALID: &str = "11010519491231002X";

    #[test]
    fn the_standard_example_passes_and_any_other_check_char_fails() {
        assert!(IdNumber::parse(IdType::ResidentId, VALID).is_ok());
        assert!(
            IdNumber::parse(IdType::ResidentId, "11010519491231002x").is_ok(),
            "lower-case x"
        );
        for wrong in "0123456789".chars() {
            let number = format!("{}{wrong}", &VALID[..17]);
            assert!(
                IdNumber::parse(IdType::ResidentId, &number).is_err(),
                "{number}"
            );
        }
    }

    #[test]
    fn check_char_table() {
        assert_eq!(resident_id_check_char("11010519491231002"), Some('X'));
        assert_eq!(resident_id_check_char("44052418800101001"), Some('4'));
        assert_eq!(resident_id_check_char("1101051949123100"), None);
    }

    #[test]
    fn shape_and_birth_date_are_checked() {
        assert!(IdNumber::parse(IdType::ResidentId, "1101051949123100").is_err());
        assert!(
            IdNumber::parse(IdType::ResidentId, "11010519491331002X").is_err(),
            "month 13"
        );
        let letters = IdNumber::parse(IdType::ResidentId, "1101051949123100AX");
        assert!(letters.is_err());
    }

    #[test]
    fn masking_hides_the_middle_and_debug_never_shows_the_number() {
        let id = IdNumber::parse(IdType::ResidentId, VALID).map(|i| (i.masked(), format!("{i:?}")));
        let (masked, debug) = id.unwrap_or_default();
        assert_eq!(masked, "110***********002X");
        assert!(!debug.contains("0519491231"));
        assert_eq!(mask("E12345678", 1, 2), "E******78");
        assert_eq!(mask("ab", 1, 2), "**");
    }

    #[test]
    fn passports_are_alphanumeric() {
        assert!(IdNumber::parse(IdType::Passport, "E12345678").is_ok());
        assert!(IdNumber::parse(IdType::Passport, "E1234-5678").is_err());
        assert!(IdNumber::parse(IdType::Passport, "E1").is_err());
    }
}
