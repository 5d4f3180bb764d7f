//! Employers' unified social credit codes arrive in every application's facts. The check must
//! refuse any text without panicking, agree with the check character it computes itself, and
//! (the point of a GB 32100 check character) catch every single mistyped character.
#![no_main]

use libfuzzer_sys::fuzz_target;
use talentcard::domain::credit_code::{check, check_char};

/// The characters a code may use, to try every substitution of a valid code.
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

fuzz_target!(|data: &[u8]| {
    let Ok(code) = std::str::from_utf8(data) else {
        return;
    };
    let verdict = check(code);
    let trimmed = code.trim();
    let expected_ok = trimmed.len() == 18
        && trimmed.is_ascii()
        && check_char(&trimmed[..17]).is_some_and(|c| trimmed.ends_with(c));
    assert_eq!(verdict.is_ok(), expected_ok, "{code:?}");

    if let Some(c) = check_char(code) {
        assert_eq!(check(&format!("{code}{c}")), Ok(()), "{code:?}");
    }

    if verdict.is_ok() {
        let mut bytes = trimmed.as_bytes().to_vec();
        for at in 0..bytes.len() {
            let original = bytes[at];
            for &other in ALPHABET.iter().filter(|b| **b != original) {
                bytes[at] = other;
                let typo = String::from_utf8_lossy(&bytes);
                assert!(check(&typo).is_err(), "a typo at {at} passes: {typo}");
            }
            bytes[at] = original;
        }
    }
});
