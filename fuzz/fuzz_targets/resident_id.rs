//! Identity document numbers arrive in application forms and in the officials' search box, so
//! the parser must refuse any text without panicking, and what it accepts must be stable:
//! parsing the normalised number again gives the same value, and the masked form never shows the
//! middle of a resident ID (the part that carries the birth date).
#![no_main]

use libfuzzer_sys::fuzz_target;
use talentcard::domain::id_document::{IdNumber, IdType, mask, resident_id_check_char};

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    for kind in [IdType::ResidentId, IdType::Passport] {
        let Ok(id) = IdNumber::parse(kind, raw) else {
            continue;
        };
        assert_eq!(id.kind(), kind);
        // Normalising twice must be a no-op, or the blind index of one person would differ
        // between the form they filled in and the number stored.
        let again = IdNumber::parse(kind, id.expose());
        assert_eq!(
            again.as_ref().ok(),
            Some(&id),
            "normalisation is not idempotent"
        );
        let masked = id.masked();
        assert_eq!(masked.chars().count(), id.expose().chars().count());
        if kind == IdType::ResidentId {
            let middle = &id.expose()[3..14];
            assert!(!masked.contains(middle) && !format!("{id:?}").contains(middle));
        }
    }
    // Appending the computed check character must satisfy the check: whatever the parser then
    // refuses, it refuses for the birth date, never for the check it just computed.
    if let Some(check) = resident_id_check_char(raw) {
        let number = format!("{raw}{check}");
        if let Err(message) = IdNumber::parse(IdType::ResidentId, &number) {
            assert_eq!(message, "does not contain a valid birth date", "{number}");
        }
    }
    let head = usize::from(data.first().copied().unwrap_or(0) % 8);
    let tail = usize::from(data.last().copied().unwrap_or(0) % 8);
    assert_eq!(mask(raw, head, tail).chars().count(), raw.chars().count());
});
