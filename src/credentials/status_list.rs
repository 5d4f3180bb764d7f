//! IETF Token Status List, 2 bits an entry: entry `i` lives in byte `i / 4` at bit offset
//! `2 * (i % 4)`; 0 valid, 1 revoked (invalid), 2 suspended. Published as
//! base64url(zlib(bytes)). Pure functions; the bytes are stored per issuer.

use std::io::{Read, Write};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use flate2::Compression;
use flate2::read::ZlibDecoder;
use flate2::write::ZlibEncoder;

/// Entries per list: large enough that one list does not single anyone out.
pub const ENTRIES: usize = 131_072;
/// Bytes per list.
pub const BYTES: usize = ENTRIES * 2 / 8;

/// A card's status as the list records it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStatus {
    /// 0: valid (or unused).
    Valid = 0,
    /// 1: revoked.
    Revoked = 1,
    /// 2: suspended.
    Suspended = 2,
}

/// Where an issuer-wide status index lives: (list number, entry in that list). An issuer has
/// as many lists as its cards need; `cards.status_index` stays unique per issuer.
pub fn locate(index: u32) -> (u32, u32) {
    let entries = ENTRIES as u32;
    (index / entries, index % entries)
}

/// The public name of an issuer's list: `XA` for its first list (the name API.md gives), then
/// `XA-1`, `XA-2`, ….
pub fn list_id(issuer: &str, list_no: u32) -> String {
    if list_no == 0 {
        issuer.to_owned()
    } else {
        format!("{issuer}-{list_no}")
    }
}

/// Where list `list_no` of `issuer` is published under the service's public `base_url`; a
/// credential's status claim carries it.
pub fn uri(base_url: &str, issuer: &str, list_no: u32) -> String {
    format!(
        "{base_url}/api/v1/status-lists/{}",
        list_id(issuer, list_no)
    )
}

/// The (issuer, list number) a public list name stands for, or `None` when it is not one.
pub fn parse_list_id(id: &str) -> Option<(&str, u32)> {
    let (issuer, list_no) = match id.split_once('-') {
        None => (id, 0),
        Some((issuer, number)) => {
            let canonical = !number.starts_with('0') && number.bytes().all(|b| b.is_ascii_digit());
            (issuer, number.parse().ok().filter(|n| canonical && *n > 0)?)
        }
    };
    let issuer_shape =
        (2..=8).contains(&issuer.len()) && issuer.bytes().all(|b| b.is_ascii_uppercase());
    issuer_shape.then_some((issuer, list_no))
}

/// A list with every entry valid.
pub fn empty() -> Vec<u8> {
    vec![0; BYTES]
}

/// Sets entry `index`; `false` (nothing changed) when it is out of range.
pub fn set(bits: &mut [u8], index: usize, status: ListStatus) -> bool {
    let Some(byte) = bits.get_mut(index / 4) else {
        return false;
    };
    let shift = 2 * (index % 4);
    *byte = (*byte & !(0b11 << shift)) | ((status as u8) << shift);
    true
}

/// Reads entry `index` (0 when out of range).
pub fn get(bits: &[u8], index: usize) -> u8 {
    bits.get(index / 4)
        .map_or(0, |byte| (byte >> (2 * (index % 4))) & 0b11)
}

/// base64url(zlib(bits)), as published in `lst`.
pub fn encode(bits: &[u8]) -> String {
    let mut encoder = ZlibEncoder::new(Vec::new(), Compression::best());
    // Writing to a Vec cannot fail.
    let compressed = encoder
        .write_all(bits)
        .and_then(|()| encoder.finish())
        .unwrap_or_default();
    URL_SAFE_NO_PAD.encode(compressed)
}

/// The bytes of a published `lst`: exactly one list, or an error (a short list would read as
/// "valid" for every card past its end).
pub fn decode(lst: &str) -> Result<Vec<u8>, &'static str> {
    let compressed = URL_SAFE_NO_PAD
        .decode(lst.trim())
        .map_err(|_| "lst is not base64url")?;
    let mut bits = Vec::new();
    ZlibDecoder::new(compressed.as_slice())
        .take(BYTES as u64 * 4)
        .read_to_end(&mut bits)
        .map_err(|_| "lst is not zlib")?;
    if bits.len() != BYTES {
        return Err("lst does not hold exactly one list");
    }
    Ok(bits)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_are_two_bits_in_the_ietf_order() {
        let mut bits = empty();
        assert!(set(&mut bits, 0, ListStatus::Revoked));
        assert!(set(&mut bits, 1, ListStatus::Suspended));
        assert!(set(&mut bits, 3, ListStatus::Revoked));
        // The draft's example layout: entry 0 in the lowest bits of byte 0.
        assert_eq!(bits[0], 0b01_00_10_01);
        assert_eq!(
            (get(&bits, 0), get(&bits, 1), get(&bits, 2), get(&bits, 3)),
            (1, 2, 0, 1)
        );
        assert!(set(&mut bits, 1, ListStatus::Valid));
        assert_eq!(get(&bits, 1), 0);
        assert!(set(&mut bits, ENTRIES - 1, ListStatus::Suspended));
        assert_eq!(get(&bits, ENTRIES - 1), 2);
        assert!(
            !set(&mut bits, ENTRIES, ListStatus::Suspended),
            "out of range is refused"
        );
        assert_eq!(bits.len(), BYTES);
    }

    #[test]
    fn lists_are_named_and_located() {
        assert_eq!(locate(5), (0, 5));
        assert_eq!(locate(ENTRIES as u32 + 7), (1, 7));
        assert_eq!(list_id("XA", 0), "XA");
        assert_eq!(list_id("XA", 3), "XA-3");
        for (issuer, list_no) in [("XA", 0), ("TZ", 1), ("LF", 12)] {
            assert_eq!(
                parse_list_id(&list_id(issuer, list_no)),
                Some((issuer, list_no))
            );
        }
        for bad in [
            "",
            "X",
            "xa",
            "XA-",
            "XA-0",
            "XA-01",
            "XA-1-2",
            "XA--1",
            "XA-+1",
            "XA-99999999999",
        ] {
            assert_eq!(parse_list_id(bad), None, "{bad}");
        }
    }

    #[test]
    fn the_published_form_round_trips_and_is_small() {
        let mut bits = empty();
        assert!(set(&mut bits, 4242, ListStatus::Revoked));
        let lst = encode(&bits);
        assert!(lst.len() < 1_000, "a sparse list compresses: {}", lst.len());
        assert_eq!(decode(&lst), Ok(bits));
        assert!(decode("not base64!").is_err());
    }
}
