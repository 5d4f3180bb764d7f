//! Dynamic presentation codes and agencies' verification nonces: the random single-use secrets
//! of holder binding (issue 18), their text format and how they are stored (hashed).
//!
//! A presentation code is `TC1:` followed by 26 characters of Crockford base32 (130 random
//! bits). Every character is in the QR alphanumeric set (0-9, A-Z, `:`), so the whole code is
//! one alphanumeric segment: 30 characters fit a version 2 symbol at level M (38 at most), well
//! under the version 4 the counters' scanners are specified for. Parsing is case-insensitive (a
//! desk may type a code a scanner lower-cased) and canonicalises to upper case before hashing,
//! so `tc1:abc…` and `TC1:ABC…` are the same code; anything else is refused, so a malformed code
//! is told from an unknown one without a database query.
//!
//! A nonce is 256 random bits in base64url: a wallet signs it into its key-binding JWT, nobody
//! types it.

use crate::crypto::random;

/// What every presentation code starts with: tells a scanner it is not a credential (those
/// start with `eyJ`), and names the format's version.
pub const CODE_PREFIX: &str = "TC1:";

/// Characters after the prefix: 26 × 5 bits = 130 random bits.
pub const CODE_SYMBOLS: usize = 26;

/// Seconds an agency's verification nonce can be used (the contract's bound).
pub const NONCE_TTL_SECS: i64 = 300;

/// Crockford's base32 alphabet: no I, L, O or U, so a code read aloud or typed is unambiguous.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A presentation code in its canonical (upper-case) form. Not `Debug`-printable as text, so a
/// stray `{:?}` cannot log it.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentationCode(String);

impl std::fmt::Debug for PresentationCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PresentationCode(…)")
    }
}

impl PresentationCode {
    /// A fresh code from the CSPRNG: each symbol takes the low five bits of a random byte
    /// (256 is a multiple of 32, so every symbol is uniform).
    pub fn generate() -> Self {
        let symbols: String = random::bytes::<CODE_SYMBOLS>()
            .iter()
            .map(|b| char::from(CROCKFORD[usize::from(b & 0x1f)]))
            .collect();
        PresentationCode(format!("{CODE_PREFIX}{symbols}"))
    }

    /// Recognises a code as a holder's app or a scanner hands it over: the prefix and exactly 26
    /// Crockford symbols, in either case, with no whitespace or anything else. `None` for
    /// anything that is not a code (the verification answers 422 for it).
    pub fn parse(text: &str) -> Option<Self> {
        let canonical = text.to_ascii_uppercase();
        let symbols = canonical.strip_prefix(CODE_PREFIX)?;
        let well_formed =
            symbols.len() == CODE_SYMBOLS && symbols.bytes().all(|b| CROCKFORD.contains(&b));
        well_formed.then_some(PresentationCode(canonical))
    }

    /// The code as shown to the holder and put in the QR code.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What the database keeps: SHA-256 (hex) of the canonical code. 130 random bits need no
    /// slow hash, and a database reader learns nothing it could present.
    pub fn hash(&self) -> String {
        random::sha256_hex(&self.0)
    }

    /// The code as an SVG QR code at level M (one alphanumeric segment; version 2).
    pub fn qr_svg(&self) -> Result<String, qrcode::types::QrError> {
        crate::credentials::qr::encode(&self.0).map(|code| crate::credentials::qr::svg(&code))
    }
}

/// A fresh verification nonce: 256 random bits, base64url without padding.
pub fn new_nonce() -> String {
    random::token("")
}

/// What the database keeps of a nonce: SHA-256 (hex) of the text the agency was given.
pub fn nonce_hash(nonce: &str) -> String {
    random::sha256_hex(nonce)
}

#[cfg(test)]
mod tests {
    use super::*;
    use qrcode::EcLevel;

    #[test]
    fn codes_are_prefixed_random_crockford_and_parse_back() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..1000 {
            let code = PresentationCode::generate();
            assert_eq!(code.as_str().len(), CODE_PREFIX.len() + CODE_SYMBOLS);
            assert!(code.as_str().starts_with(CODE_PREFIX));
            assert_eq!(PresentationCode::parse(code.as_str()), Some(code.clone()));
            seen.insert(code.as_str().to_owned());
        }
        assert_eq!(seen.len(), 1000, "codes are random");
        // Every symbol value shows up: 1,000 codes hold 26,000 symbols.
        let used: std::collections::HashSet<char> = seen
            .iter()
            .flat_map(|c| c[CODE_PREFIX.len()..].chars().collect::<Vec<_>>())
            .collect();
        assert_eq!(used.len(), 32);
    }

    #[test]
    fn parsing_is_case_insensitive_and_canonical() {
        let code = PresentationCode::generate();
        let lower = code.as_str().to_ascii_lowercase();
        let parsed = PresentationCode::parse(&lower);
        assert_eq!(parsed.as_ref(), Some(&code));
        assert_eq!(
            parsed.map(|p| p.hash()),
            Some(code.hash()),
            "one code, one hash"
        );
        assert_eq!(code.hash().len(), 64);
    }

    #[test]
    fn anything_else_is_refused() {
        let good = PresentationCode::generate();
        let body = &good.as_str()[CODE_PREFIX.len()..];
        for bad in [
            String::new(),
            CODE_PREFIX.to_owned(),
            body.to_owned(),
            format!("TC2:{body}"),
            format!("{CODE_PREFIX}{}", &body[1..]),
            format!("{}0", good.as_str()),
            format!(" {}", good.as_str()),
            format!("{}\n", good.as_str()),
            // I, L, O and U are not Crockford symbols.
            format!("{CODE_PREFIX}{}I", &body[1..]),
            format!("{CODE_PREFIX}{}U", &body[1..]),
            format!("{CODE_PREFIX}{}-", &body[1..]),
            format!("{CODE_PREFIX}{}é", &body[2..]),
            "eyJhbGciOiJFZERTQSJ9.e30.sig~".to_owned(),
        ] {
            assert_eq!(PresentationCode::parse(&bad), None, "{bad:?}");
        }
    }

    #[test]
    fn the_qr_code_fits_version_4_at_level_m() -> Result<(), qrcode::types::QrError> {
        for _ in 0..50 {
            let code = PresentationCode::generate();
            let qr = crate::credentials::qr::encode(code.as_str())?;
            assert_eq!(qr.error_correction_level(), EcLevel::M);
            let version = crate::credentials::qr::version(&qr);
            assert!(version <= 4, "version {version}");
            // One alphanumeric segment of 30 characters: version 2 (38 at most at M).
            assert_eq!(version, 2);
            let svg = code.qr_svg()?;
            assert!(svg.starts_with("<?xml") && svg.contains("<svg"), "{svg}");
        }
        Ok(())
    }

    #[test]
    fn nonces_carry_256_bits_in_base64url() {
        let (a, b) = (new_nonce(), new_nonce());
        assert_ne!(a, b);
        assert_eq!(a.len(), 43);
        assert!(
            a.bytes()
                .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_')
        );
        assert_eq!(nonce_hash(&a).len(), 64);
        assert_ne!(nonce_hash(&a), nonce_hash(&b));
    }

    #[test]
    fn the_debug_form_hides_the_code() {
        let code = PresentationCode::generate();
        assert!(!format!("{code:?}").contains(&code.as_str()[CODE_PREFIX.len()..]));
    }
}
