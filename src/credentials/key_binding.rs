//! Key-binding JWTs (RFC 9901, section 4.3): the holder's proof, at the counter, that they hold
//! the key the credential names in `cnf.jwk`.
//!
//! A presentation is the SD-JWT (`<issuer JWT>~<disclosure>~…~`) followed by a KB-JWT signed
//! by the holder's key: header `typ: kb+jwt`, claims `iat`, `aud` (the verifier), `nonce` (one
//! the verifier handed out) and `sd_hash`, the base64url SHA-256 of the SD-JWT exactly as
//! presented, so the KB-JWT cannot be moved onto another credential or another choice of
//! disclosures. Pure: the credential part is verified by [`super::token::verify`] and the
//! nonce consumed by the caller.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use super::holder_key::{Compact, HolderJwk};

/// The JOSE `typ` of a key-binding JWT.
pub const KB_TYP: &str = "kb+jwt";

/// How old a KB-JWT may be, in seconds.
pub const KB_MAX_AGE_SECS: i64 = 300;

/// How far in the future a KB-JWT's `iat` may be (the wallet's clock may run ahead).
pub const KB_FUTURE_SKEW_SECS: i64 = 60;

/// What a valid key-binding JWT says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KbClaims {
    /// The verifier's nonce: the caller consumes it once against its storage (reused:
    /// `replayed`).
    pub nonce: String,
    /// When the holder signed.
    pub iat: i64,
}

/// Why a key-binding JWT was refused. All of them mean the holder did not prove possession of
/// the credential's key here and now (`holder_binding_failed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KbError {
    /// No KB-JWT after the last `~`, or not a compact JWT.
    #[error("the presentation has no well-formed key-binding JWT")]
    Malformed,
    /// `typ` is not `kb+jwt`.
    #[error("the key-binding JWT's typ must be kb+jwt")]
    WrongType,
    /// `alg` does not fit the credential's key.
    #[error("the key-binding JWT's alg does not fit the credential's key")]
    UnsupportedAlgorithm,
    /// Not signed by the key the credential names.
    #[error("the key-binding JWT is not signed by the credential's key")]
    BadSignature,
    /// `aud` is not this verifier.
    #[error("the key-binding JWT is addressed to another verifier")]
    WrongAudience,
    /// `iat` is missing, older than [`KB_MAX_AGE_SECS`] or too far in the future.
    #[error("the key-binding JWT's iat is missing or not recent")]
    Stale,
    /// `sd_hash` does not match the SD-JWT it came with.
    #[error("the key-binding JWT's sd_hash does not match the presented credential")]
    SdHashMismatch,
    /// No `nonce` claim.
    #[error("the key-binding JWT has no nonce")]
    MissingNonce,
}

/// Splits a presentation into the SD-JWT, up to and including its last `~` (what
/// [`super::token::verify`] accepts and `sd_hash` covers), and the KB-JWT after it; `None`
/// when there is no `~` or nothing after the last one (a credential without key binding).
pub fn split_presentation(presentation: &str) -> Option<(&str, &str)> {
    let presentation = presentation.trim();
    let last = presentation.rfind('~')?;
    let (sd_jwt, kb) = presentation.split_at(last + 1);
    (!kb.is_empty()).then_some((sd_jwt, kb))
}

/// The `sd_hash` of an SD-JWT as presented: base64url(SHA-256(its ASCII bytes)).
pub fn sd_hash(sd_jwt: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(sd_jwt.as_bytes()))
}

/// Verifies the KB-JWT of `presentation` against the credential's `holder_jwk`, addressed to
/// `expected_aud`, at `now` (Unix seconds). The credential part is not checked here.
pub fn verify_key_binding(
    presentation: &str,
    holder_jwk: &HolderJwk,
    expected_aud: &str,
    now: i64,
) -> Result<KbClaims, KbError> {
    let (sd_jwt, kb) = split_presentation(presentation).ok_or(KbError::Malformed)?;
    let jwt = Compact::parse(kb).ok_or(KbError::Malformed)?;
    if jwt.header_text("typ") != Some(KB_TYP) {
        return Err(KbError::WrongType);
    }
    if jwt.header.contains_key("crit") {
        return Err(KbError::Malformed);
    }
    if !holder_jwk.accepts_alg(jwt.header_text("alg").unwrap_or_default()) {
        return Err(KbError::UnsupportedAlgorithm);
    }
    if !holder_jwk.verifies(jwt.signing_input.as_bytes(), &jwt.signature) {
        return Err(KbError::BadSignature);
    }
    if !jwt.addressed_to(expected_aud) {
        return Err(KbError::WrongAudience);
    }
    let iat = jwt
        .iat()
        .filter(|iat| {
            // Checked arithmetic: an `iat` near i64::MIN must not wrap into "fresh".
            now.checked_sub(*iat)
                .is_some_and(|age| (-KB_FUTURE_SKEW_SECS..=KB_MAX_AGE_SECS).contains(&age))
        })
        .ok_or(KbError::Stale)?;
    let hash = jwt.claims.get("sd_hash").and_then(|v| v.as_str());
    if hash != Some(sd_hash(sd_jwt).as_str()) {
        return Err(KbError::SdHashMismatch);
    }
    let nonce = jwt.nonce().ok_or(KbError::MissingNonce)?;
    Ok(KbClaims { nonce, iat })
}

/// An Ed25519 wallet key as a holder's app keeps it: what [`present_ed25519`] signs with.
/// The service never holds a holder's private key; `talentcard seed --presentations` plays the
/// wallets of the benchmark (and tests play them), so this lives beside the check it must pass.
pub struct Ed25519Wallet {
    key: ed25519_dalek::SigningKey,
    header: String,
}

impl Ed25519Wallet {
    /// A fresh key from the CSPRNG.
    pub fn generate() -> Self {
        Self::from_seed(crate::crypto::random::bytes::<32>())
    }

    /// The key with this 32-byte seed (fixed keys for tests).
    pub fn from_seed(seed: [u8; 32]) -> Self {
        let header = serde_json::json!({ "typ": KB_TYP, "alg": "EdDSA" }).to_string();
        Ed25519Wallet {
            key: ed25519_dalek::SigningKey::from_bytes(&seed),
            header: URL_SAFE_NO_PAD.encode(header),
        }
    }

    /// Its public key as the credential's `cnf.jwk` names it (OKP, Ed25519).
    pub fn jwk(&self) -> HolderJwk {
        HolderJwk::Ed25519 {
            x: self.key.verifying_key().to_bytes(),
        }
    }

    /// The presentation of `sd_jwt` (ending in `~`) to the verifier `aud` over its `nonce` at
    /// `iat`: the SD-JWT followed by a KB-JWT that [`verify_key_binding`] accepts. The header is
    /// encoded once per wallet, so a benchmark's hundred thousand presentations cost one
    /// signature each.
    pub fn present(&self, sd_jwt: &str, aud: &str, nonce: &str, iat: i64) -> String {
        use ed25519_dalek::Signer;
        let claims = serde_json::json!({
            "iat": iat, "aud": aud, "nonce": nonce, "sd_hash": sd_hash(sd_jwt),
        });
        let input = format!(
            "{}.{}",
            self.header,
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.key.sign(input.as_bytes()).to_bytes();
        format!("{sd_jwt}{input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    reason = "a failed step should fail the test loudly"
)]
mod tests {
    use super::*;
    use crate::credentials::holder_key::testing::Wallet;
    use serde_json::{Value, json};

    const AUD: &str = "01936c2e-0000-7000-8000-0000000000c1";
    const NOW: i64 = 1_800_000_000;
    const SD_JWT: &str = "eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln~WyJzIiwiaG9sZGVyX25hbWUiLCJ4Il0~";

    fn present(wallet: &Wallet, header: Value, claims: Value) -> String {
        format!("{SD_JWT}{}", wallet.sign(&header, &claims))
    }

    fn header(wallet: &Wallet) -> Value {
        json!({ "typ": KB_TYP, "alg": wallet.alg() })
    }

    fn claims() -> Value {
        json!({ "iat": NOW - 5, "aud": AUD, "nonce": "vn-1", "sd_hash": sd_hash(SD_JWT) })
    }

    fn jwk(wallet: &Wallet) -> HolderJwk {
        HolderJwk::from_value(&wallet.jwk()).unwrap()
    }

    #[test]
    fn splitting_keeps_the_last_tilde_with_the_sd_jwt() {
        assert_eq!(
            split_presentation("a.b.c~d~k.j.s"),
            Some(("a.b.c~d~", "k.j.s"))
        );
        assert_eq!(split_presentation("a.b.c~k.j.s"), Some(("a.b.c~", "k.j.s")));
        assert_eq!(split_presentation("a.b.c~"), None, "no KB-JWT");
        assert_eq!(split_presentation("a.b.c~d~"), None, "no KB-JWT");
        assert_eq!(split_presentation("a.b.c"), None);
    }

    #[test]
    fn key_binding_of_both_algorithms_verifies() {
        for wallet in [Wallet::p256(1), Wallet::ed25519(2)] {
            let presentation = present(&wallet, header(&wallet), claims());
            assert_eq!(
                verify_key_binding(&presentation, &jwk(&wallet), AUD, NOW),
                Ok(KbClaims {
                    nonce: "vn-1".into(),
                    iat: NOW - 5
                })
            );
        }
    }

    #[test]
    fn a_wallet_presentation_verifies_and_binds_its_own_key_only() {
        let wallet = Ed25519Wallet::from_seed([7; 32]);
        let presentation = wallet.present(SD_JWT, AUD, "vn-9", NOW - 1);
        assert!(presentation.starts_with(SD_JWT));
        assert_eq!(
            verify_key_binding(&presentation, &wallet.jwk(), AUD, NOW),
            Ok(KbClaims {
                nonce: "vn-9".into(),
                iat: NOW - 1
            })
        );
        // The same public key as the test wallet of that seed: one JWK encoding.
        assert_eq!(wallet.jwk(), jwk(&Wallet::ed25519(7)));
        let other = Ed25519Wallet::from_seed([8; 32]);
        assert_eq!(
            verify_key_binding(&presentation, &other.jwk(), AUD, NOW),
            Err(KbError::BadSignature)
        );
        assert_eq!(
            verify_key_binding(&presentation, &wallet.jwk(), "another", NOW),
            Err(KbError::WrongAudience)
        );
        let moved = presentation.replacen(SD_JWT, &SD_JWT.replace("c2ln", "c2lo"), 1);
        assert_eq!(
            verify_key_binding(&moved, &wallet.jwk(), AUD, NOW),
            Err(KbError::SdHashMismatch)
        );
        assert_ne!(Ed25519Wallet::generate().jwk(), wallet.jwk(), "random keys");
    }

    #[test]
    fn every_refusal_is_told_apart() {
        let wallet = Wallet::ed25519(3);
        let key = jwk(&wallet);
        let edit = |v: Value, k: &str, x: Value| {
            let mut v = v;
            if x.is_null() {
                v.as_object_mut().unwrap().remove(k);
            } else {
                v[k] = x;
            }
            v
        };
        let check =
            |h: Value, c: Value| verify_key_binding(&present(&wallet, h, c), &key, AUD, NOW);

        assert_eq!(
            verify_key_binding(SD_JWT, &key, AUD, NOW),
            Err(KbError::Malformed),
            "a bare credential carries no key binding"
        );
        assert_eq!(
            verify_key_binding(&format!("{SD_JWT}junk"), &key, AUD, NOW),
            Err(KbError::Malformed)
        );
        assert_eq!(
            check(edit(header(&wallet), "typ", json!("JWT")), claims()),
            Err(KbError::WrongType)
        );
        assert_eq!(
            check(edit(header(&wallet), "alg", json!("ES256")), claims()),
            Err(KbError::UnsupportedAlgorithm)
        );
        assert_eq!(
            check(edit(header(&wallet), "alg", json!("none")), claims()),
            Err(KbError::UnsupportedAlgorithm)
        );
        let thief = Wallet::ed25519(4);
        assert_eq!(
            verify_key_binding(&present(&thief, header(&thief), claims()), &key, AUD, NOW),
            Err(KbError::BadSignature),
            "signed by another key than the credential's"
        );
        assert_eq!(
            check(
                header(&wallet),
                edit(claims(), "aud", json!("another agency"))
            ),
            Err(KbError::WrongAudience)
        );
        assert_eq!(
            check(header(&wallet), edit(claims(), "iat", json!(NOW - 301))),
            Err(KbError::Stale)
        );
        assert_eq!(
            check(header(&wallet), edit(claims(), "iat", json!(NOW + 61))),
            Err(KbError::Stale)
        );
        assert!(check(header(&wallet), edit(claims(), "iat", json!(NOW + 60))).is_ok());
        // `now - iat` would wrap to a negative age (fresh) in a release build.
        assert_eq!(
            check(header(&wallet), edit(claims(), "iat", json!(i64::MIN))),
            Err(KbError::Stale)
        );
        assert_eq!(
            check(header(&wallet), edit(claims(), "iat", Value::Null)),
            Err(KbError::Stale)
        );
        assert_eq!(
            check(
                header(&wallet),
                edit(claims(), "sd_hash", json!(sd_hash("other~")))
            ),
            Err(KbError::SdHashMismatch)
        );
        assert_eq!(
            check(header(&wallet), edit(claims(), "sd_hash", Value::Null)),
            Err(KbError::SdHashMismatch)
        );
        assert_eq!(
            check(header(&wallet), edit(claims(), "nonce", Value::Null)),
            Err(KbError::MissingNonce)
        );
        // The KB-JWT moved onto the credential without its disclosure: sd_hash no longer fits.
        let kb = present(&wallet, header(&wallet), claims());
        let (_, jwt) = split_presentation(&kb).unwrap();
        let moved = format!("eyJhbGciOiJFZERTQSJ9.eyJhIjoxfQ.c2ln~{jwt}");
        assert_eq!(
            verify_key_binding(&moved, &key, AUD, NOW),
            Err(KbError::SdHashMismatch)
        );
    }
}
