//! Card numbers: issuer, year, serial and a check digit, e.g. `XA-2026-4821937705164-3`.
//!
//! Serials are random, 13 decimal digits in [10^12, 10^13) (about 43 bits): a number says
//! nothing about its neighbours, so guessing one that exists takes billions of tries, where
//! sequential serials let an agency walk the whole register. Numbers issued before (6 to 9-digit
//! sequential serials, `XA-2026-000123-7`) stay valid.
//!
//! The check digit is ISO 7064 MOD 11-10 over the digits of the number, letters counted as two
//! digits (A = 10 … Z = 35). It catches any single mistyped digit and most swapped neighbours
//! before a lookup; a mistyped issuer letter is caught by the issuer list, not the digit.

/// ISO 7064 MOD 11-10 check digit of `digits`.
fn mod_11_10(digits: impl Iterator<Item = u32>) -> u32 {
    let mut product = 10;
    for digit in digits {
        let mut sum = (digit + product) % 10;
        if sum == 0 {
            sum = 10;
        }
        product = (sum * 2) % 11;
    }
    (11 - product) % 10
}

fn digits_of(body: &str) -> Option<Vec<u32>> {
    let mut digits = Vec::with_capacity(body.len() * 2);
    for c in body.chars().filter(|c| *c != '-') {
        let value = c.to_digit(36)?;
        if value >= 10 {
            digits.push(value / 10);
            digits.push(value % 10);
        } else {
            digits.push(value);
        }
    }
    Some(digits)
}

/// The smallest random serial: every new serial has exactly 13 digits.
pub const RANDOM_SERIAL_MIN: i64 = 1_000_000_000_000;
/// One past the largest random serial.
pub const RANDOM_SERIAL_END: i64 = 10_000_000_000_000;

/// The number of the card with `serial` issued by `issuer` in `year` (serials below six digits
/// are zero-padded, as the first, sequential numbers were).
pub fn format(issuer: &str, year: i32, serial: i64) -> String {
    let body = format!("{issuer}-{year}-{serial:06}");
    let check = digits_of(&body).map_or(0, |d| mod_11_10(d.into_iter()));
    format!("{body}-{check}")
}

/// Whether `number` is well formed with a matching check digit (upper-case letters, digits and
/// dashes in the shape `ISSUER-YEAR-SERIAL-CHECK`).
pub fn is_valid(number: &str) -> bool {
    let parts: Vec<&str> = number.split('-').collect();
    let [issuer, year, serial, check] = parts.as_slice() else {
        return false;
    };
    let shape = (2..=8).contains(&issuer.len())
        && issuer.bytes().all(|b| b.is_ascii_uppercase())
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && matches!(serial.len(), 6..=9 | 13)
        && serial.bytes().all(|b| b.is_ascii_digit())
        && check.len() == 1;
    if !shape {
        return false;
    }
    let body = &number[..number.len() - 2];
    match (
        digits_of(body),
        check.chars().next().and_then(|c| c.to_digit(10)),
    ) {
        (Some(digits), Some(check)) => mod_11_10(digits.into_iter()) == check,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formatted_numbers_validate() {
        for (issuer, serial) in [("XA", 1), ("TZ", 123), ("LF", 999_999), ("BD", 1_000_000)] {
            let number = format(issuer, 2026, serial);
            assert!(is_valid(&number), "{number}");
        }
        assert!(format("XA", 2026, 123).starts_with("XA-2026-000123-"));
    }

    #[test]
    fn serials_of_13_digits_make_valid_numbers() {
        for serial in [RANDOM_SERIAL_MIN, RANDOM_SERIAL_END - 1, 4_711_000_000_042] {
            let number = format("XA", 2026, serial);
            let parts: Vec<&str> = number.split('-').collect();
            assert_eq!(parts.len(), 4, "{number}");
            assert_eq!(parts[2].len(), 13, "{number}");
            assert!(is_valid(&number), "{number}");
        }
    }

    #[test]
    fn the_check_digit_is_iso_7064_mod_11_10() {
        // Computed by hand: the digits of XA-2026-000001 (X = 33, A = 10) through MOD 11-10.
        assert_eq!(format("XA", 2026, 1), "XA-2026-000001-7");
        assert_eq!(format("XA", 2026, 2), "XA-2026-000002-5");
        let number = format("TZ", 2027, 4_821_937_705_164);
        let check = number.chars().last().and_then(|c| c.to_digit(10));
        let body = &number[..number.len() - 2];
        let digits = digits_of(body).unwrap_or_default();
        assert_eq!(check, Some(mod_11_10(digits.into_iter())));
    }

    #[test]
    fn numbers_issued_before_stay_valid() {
        for number in ["XA-2026-000001-7", "XA-2026-000002-5"] {
            assert!(is_valid(number), "{number}");
        }
        for serial in [123, 999_999, 1_000_000, 123_456_789] {
            assert!(is_valid(&format("LF", 2026, serial)), "{serial}");
        }
        // Serials of 10 to 12 digits were never issued and are not numbers.
        assert!(!is_valid(&format("LF", 2026, 1_234_567_890)));
        assert!(!is_valid(&format("LF", 2026, 123_456_789_012)));
    }

    #[test]
    fn typos_and_swaps_are_caught() {
        let number = format("XA", 2026, 123);
        let mut caught = 0;
        for (i, c) in number.char_indices().filter(|(_, c)| c.is_ascii_digit()) {
            for d in '0'..='9' {
                if d != c {
                    let typo = format!("{}{d}{}", &number[..i], &number[i + 1..]);
                    caught += usize::from(!is_valid(&typo));
                }
            }
        }
        let digits = number.chars().filter(char::is_ascii_digit).count();
        assert_eq!(caught, digits * 9, "every single-digit typo is caught");
        let check = number.chars().last().unwrap_or('0');
        assert!(
            !is_valid(&format!("XA-2026-000213-{check}")),
            "a swap of neighbours is caught"
        );
        assert!(!is_valid("xa-2026-000123-1"));
        assert!(!is_valid("XA-2026-000123"));
        assert!(!is_valid(""));
    }
}
