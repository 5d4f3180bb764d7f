//! Card numbers are typed in by verifiers (`GET /verify/{number}`) and read from QR codes, so
//! `is_valid` sees arbitrary text; `format` builds the numbers we print. Checked: neither
//! panics, what `format` prints validates, a valid number is exactly what `format` prints for
//! its parts, and every single mistyped digit is caught (the reason for the check digit).
//!
//! The input is plain text so seeds stay readable: it is checked whole, and its dash-separated
//! parts (`ISSUER-YEAR-SERIAL…`), whatever they hold, are also handed to `format`.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talentcard::domain::card_number::{format, is_valid};

/// Every single-digit substitution of a valid number must fail the check digit.
fn typos_are_caught(number: &str) {
    let mut bytes = number.as_bytes().to_vec();
    for at in 0..bytes.len() {
        let original = bytes[at];
        if !original.is_ascii_digit() {
            continue;
        }
        for digit in (b'0'..=b'9').filter(|d| *d != original) {
            bytes[at] = digit;
            let typo = String::from_utf8_lossy(&bytes);
            assert!(!is_valid(&typo), "a typo at {at} passes: {typo}");
        }
        bytes[at] = original;
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('-');
    let issuer = parts.next().unwrap_or_default();
    let year = parts.next().and_then(|y| y.parse::<i32>().ok());
    let serial = parts.next().and_then(|s| s.parse::<i64>().ok());

    if is_valid(text) {
        let (Some(year), Some(serial)) = (year, serial) else {
            panic!("a valid number whose year or serial does not parse: {text}");
        };
        // Only the canonical spelling of the parts (no extra leading zeros) prints back.
        let canonical = text.split('-').nth(1) == Some(&year.to_string())
            && text.split('-').nth(2) == Some(&std::format!("{serial:06}"));
        if canonical {
            assert_eq!(format(issuer, year, serial), text);
        }
        typos_are_caught(text);
    }

    let year = year.unwrap_or(2026);
    let serial = serial.unwrap_or(1);
    let number = format(issuer, year, serial);
    let printable = (2..=8).contains(&issuer.len())
        && issuer.bytes().all(|b| b.is_ascii_uppercase())
        && (1000..=9999).contains(&year)
        && (0..=999_999_999).contains(&serial);
    if printable {
        assert!(is_valid(&number), "{number}");
        typos_are_caught(&number);
    }
});
