//! The unified social credit code (统一社会信用代码) of GB 32100-2015: 18 characters whose last
//! is a check character over the first 17.

/// The 31 characters the code may use (no I, O, S, V, Z), in value order.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

fn value(c: u8) -> Option<u32> {
    ALPHABET
        .iter()
        .position(|a| *a == c)
        .and_then(|p| u32::try_from(p).ok())
}

/// The check character for the first 17 characters.
pub fn check_char(first17: &str) -> Option<char> {
    if first17.len() != 17 {
        return None;
    }
    let mut sum = 0;
    for (c, weight) in first17.bytes().zip(WEIGHTS) {
        sum += value(c)? * weight;
    }
    let check = (31 - sum % 31) % 31;
    ALPHABET.get(check as usize).map(|b| char::from(*b))
}

/// Checks a code; the message says what is wrong without echoing it.
pub fn check(code: &str) -> Result<(), &'static str> {
    let code = code.trim();
    if code.len() != 18 || !code.is_ascii() {
        return Err("must be 18 characters (GB 32100)");
    }
    let (first17, last) = code.split_at(17);
    let expected = check_char(first17).ok_or("contains characters a credit code cannot have")?;
    if !last.starts_with(expected) {
        return Err("the check character does not match (GB 32100)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_codes_pass() {
        // Two codes from public business licences and one built with its check character.
        for code in [
            "91110000600037341L",
            "91350100M000100Y43",
            "91130600MA0D123455",
        ] {
            assert_eq!(check(code), Ok(()), "{code}");
        }
    }

    #[test]
    fn a_wrong_check_character_or_letter_fails() {
        assert!(check("91110000600037341A").is_err());
        assert!(
            check("9111000060003734IL").is_err(),
            "I is not in the alphabet"
        );
        assert!(check("9111000060003734").is_err());
    }
}
