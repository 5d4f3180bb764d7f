//! The credential check of the prepared [`super::Verifier`]: exactly the rules of
//! [`token::verify`], over claims borrowed from the decoded payload and a key decompressed
//! once, so a verification costs one strict Ed25519 check and a little parsing. The
//! differential tests (`offline/tests.rs`) hold it to `token::verify`'s answers.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ed25519_dalek::{Signature, VerifyingKey};
use serde::Deserialize;
use sha2::{Digest, Sha256};

use super::text::{HeaderValue, Text};
use crate::credentials::token::{self, Confirmation, CredentialError, SchemeType};
use crate::credentials::{jws, status_list};
use crate::domain::card_number;

/// A trust-list key ready to verify with: what [`token::KeyInfo`] says, the point already
/// decompressed.
#[derive(Debug)]
pub(super) struct PreparedKey {
    pub issuer: String,
    pub issuer_url: String,
    /// `None` when `x` is not a valid point: every signature under it fails, as before.
    pub key: Option<VerifyingKey>,
    pub schemes: Vec<SchemeType>,
    pub retired_at: Option<i64>,
    pub not_after: Option<i64>,
}

impl PreparedKey {
    /// Prepares what the trust list says of a key.
    pub fn new(info: token::KeyInfo) -> Self {
        PreparedKey {
            key: VerifyingKey::from_bytes(&info.public_key).ok(),
            issuer: info.issuer,
            issuer_url: info.issuer_url,
            schemes: info.schemes,
            retired_at: info.retired_at,
            not_after: info.not_after,
        }
    }
}

/// The protected header: `alg`, `typ`, `kid` and whether a key or `crit` is named, read as
/// `jws::header` reads it (a member that is not a string where one is wanted is malformed;
/// of repeated members the last counts).
#[derive(Default)]
struct Header<'a> {
    alg: Option<HeaderValue<'a>>,
    typ: Option<HeaderValue<'a>>,
    kid: Option<HeaderValue<'a>>,
    carries_key_or_crit: bool,
}

impl<'de> Deserialize<'de> for Header<'de> {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = Header<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JOSE header")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<Header<'de>, A::Error> {
                let mut header = Header::default();
                while let Some(name) = map.next_key::<Text<'de>>()? {
                    let value: HeaderValue<'de> = map.next_value()?;
                    match name.as_str() {
                        "alg" => header.alg = Some(value),
                        "typ" => header.typ = Some(value),
                        "kid" => header.kid = Some(value),
                        "jwk" | "jku" | "x5u" | "x5c" | "crit" => header.carries_key_or_crit = true,
                        _ => {}
                    }
                }
                Ok(header)
            }
        }
        d.deserialize_map(Visitor)
    }
}

/// [`token::CardClaims`], borrowed: the same members, types and refusals.
#[derive(Deserialize)]
pub(super) struct Claims<'a> {
    #[serde(borrow)]
    iss: Text<'a>,
    pub iat: i64,
    nbf: i64,
    pub exp: i64,
    #[serde(borrow)]
    vct: Text<'a>,
    #[serde(borrow)]
    pub card_number: Text<'a>,
    #[serde(borrow)]
    pub scheme: Text<'a>,
    #[serde(borrow)]
    pub tier: Text<'a>,
    #[serde(borrow)]
    pub issuer: Text<'a>,
    #[serde(borrow)]
    pub status: StatusClaim<'a>,
    #[serde(rename = "_sd", borrow)]
    sd: Vec<Text<'a>>,
    #[serde(rename = "_sd_alg", borrow)]
    sd_alg: Text<'a>,
    #[serde(default)]
    pub cnf: Option<Confirmation>,
}

/// [`token::StatusClaim`], borrowed.
#[derive(Deserialize)]
pub(super) struct StatusClaim<'a> {
    #[serde(borrow)]
    pub status_list: StatusListRef<'a>,
}

/// [`token::StatusListRef`], borrowed.
#[derive(Deserialize)]
pub(super) struct StatusListRef<'a> {
    pub idx: u32,
    #[serde(borrow)]
    pub uri: Text<'a>,
}

/// What [`check`] keeps: the decoded payload the claims borrow from is the caller's.
pub(super) struct Checked<'a> {
    pub claims: Claims<'a>,
    pub holder_name: Option<String>,
}

/// The two parts of `<JWS>` or `<JWS>~<disclosure>~…~`, as `token::verify` splits them.
fn split(token: &str) -> Result<(&str, Option<&str>), CredentialError> {
    let token = token.trim();
    let Some(first) = token.find('~') else {
        return Ok((token, None));
    };
    // `<JWS>~…~`: the last part is empty (a key-binding JWT is not accepted here).
    if !token.ends_with('~') {
        return Err(CredentialError::Malformed);
    }
    let disclosures = (first + 1 < token.len()).then(|| &token[first + 1..token.len() - 1]);
    Ok((&token[..first], disclosures))
}

/// The three parts of a compact JWS, as `jws` splits them.
fn parts(jws: &str) -> Result<[&str; 3], CredentialError> {
    let mut split = jws.trim().split('.');
    match (split.next(), split.next(), split.next(), split.next()) {
        (Some(h), Some(p), Some(s), None) if !h.is_empty() && !s.is_empty() => Ok([h, p, s]),
        _ => Err(CredentialError::Malformed),
    }
}

fn b64(part: &str) -> Result<Vec<u8>, CredentialError> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| CredentialError::Malformed)
}

/// Checks the header as `token::verify` does; answers the `kid`.
fn checked_kid<'h>(header: &'h Header<'_>) -> Result<&'h str, CredentialError> {
    let text = |value: &'h Option<HeaderValue<'_>>| match value {
        None => Ok(None),
        Some(HeaderValue::Text(text)) => Ok(Some(text.as_str())),
        Some(HeaderValue::Other) => Err(CredentialError::Malformed),
    };
    let alg = text(&header.alg)?.ok_or(CredentialError::Malformed)?;
    let (typ, kid) = (text(&header.typ)?, text(&header.kid)?);
    if !jws::ED25519_ALGS.contains(&alg) || typ != Some(token::TYP) || header.carries_key_or_crit {
        return Err(CredentialError::Malformed);
    }
    kid.ok_or(CredentialError::Malformed)
}

/// Verifies `token` as `token::verify` does, the key looked up with `key_of`; `payload` is the
/// caller's buffer the answer borrows from.
pub(super) fn check<'p, 'k>(
    token: &str,
    payload: &'p mut Vec<u8>,
    key_of: impl Fn(&str) -> Option<&'k PreparedKey>,
    now: i64,
) -> Result<Checked<'p>, CredentialError> {
    let (jws, disclosures) = split(token)?;
    let [header_part, payload_part, signature_part] = parts(jws)?;
    let header_bytes = b64(header_part)?;
    let header: Header<'_> =
        serde_json::from_slice(&header_bytes).map_err(|_| CredentialError::Malformed)?;
    let kid = checked_kid(&header)?;
    // The structure, disclosures included, is checked before any key is looked up, so a
    // refusal as malformed says nothing about whether the signature is genuine.
    *payload = b64(payload_part)?;
    let payload: &'p [u8] = payload;
    let claims: Claims<'p> =
        serde_json::from_slice(payload).map_err(|_| CredentialError::Malformed)?;
    if claims.sd_alg.as_str() != "sha-256" {
        return Err(CredentialError::Malformed);
    }
    let holder_name = disclosed_name(disclosures, &claims.sd)?;
    let key = key_of(kid).ok_or(CredentialError::UnknownKey)?;
    let signature: [u8; 64] = b64(signature_part)?
        .try_into()
        .map_err(|_| CredentialError::BadSignature)?;
    let verifying = key.key.as_ref().ok_or(CredentialError::BadSignature)?;
    // The signing input is the JWS up to its second dot, byte for byte.
    let input = &jws.trim()[..header_part.len() + 1 + payload_part.len()];
    verifying
        .verify_strict(input.as_bytes(), &Signature::from_bytes(&signature))
        .map_err(|_| CredentialError::BadSignature)?;
    if !names_only(key, &claims) {
        return Err(CredentialError::WrongIssuer);
    }
    let signed_while_active = key.retired_at.is_none_or(|retired| claims.iat <= retired);
    let within_key = key.not_after.is_none_or(|last| claims.exp <= last);
    if !signed_while_active || !within_key {
        return Err(CredentialError::OutsideKeyValidity);
    }
    if now < claims.nbf {
        return Err(CredentialError::NotYetValid);
    }
    if now >= claims.exp {
        return Err(CredentialError::OutsideValidity);
    }
    Ok(Checked {
        claims,
        holder_name,
    })
}

/// Whether `items` holds no value twice (a hash set only for long lists).
fn distinct<T: Eq + std::hash::Hash>(items: &[T]) -> bool {
    if items.len() > 16 {
        let mut seen = std::collections::HashSet::with_capacity(items.len());
        return items.iter().all(|item| seen.insert(item));
    }
    items
        .iter()
        .enumerate()
        .all(|(i, item)| !items[..i].contains(item))
}

/// The disclosed holder name, with `token::verify`'s rules: every disclosure referenced by a
/// digest of the credential, once, and no digest listed twice.
fn disclosed_name(
    disclosures: Option<&str>,
    sd: &[Text<'_>],
) -> Result<Option<String>, CredentialError> {
    if !distinct(sd) {
        return Err(CredentialError::Malformed);
    }
    let Some(disclosures) = disclosures else {
        return Ok(None);
    };
    let mut used = Vec::new();
    let mut name = None;
    for disclosure in disclosures.split('~') {
        let hash = URL_SAFE_NO_PAD.encode(Sha256::digest(disclosure.as_bytes()));
        if !sd.iter().any(|d| d.as_str() == hash) {
            return Err(CredentialError::Malformed);
        }
        used.push(hash);
        let json = b64(disclosure)?;
        let (_, claim, value): (Text<'_>, Text<'_>, serde_json::Value) =
            serde_json::from_slice(&json).map_err(|_| CredentialError::Malformed)?;
        if claim.as_str() == "holder_name" {
            name = value.as_str().map(str::to_owned);
        }
    }
    if !distinct(&used) {
        return Err(CredentialError::Malformed);
    }
    Ok(name)
}

/// Whether the credential's every mention of an issuer names the key's issuer (as
/// `token::verify` decides it).
fn names_only(key: &PreparedKey, claims: &Claims<'_>) -> bool {
    let issuer = key.issuer.as_str();
    let number = claims.card_number.as_str();
    let list_issuer = claims
        .status
        .status_list
        .uri
        .as_str()
        .rsplit('/')
        .next()
        .and_then(status_list::parse_list_id)
        .map(|(code, _)| code);
    let legacy = claims.iat < token::LEGACY_IDS_BEFORE;
    let iss = claims.iss.as_str();
    let iss = iss == key.issuer_url
        || (legacy && iss.strip_prefix("urn:talentcard:issuer:") == Some(issuer));
    let vct = key
        .schemes
        .iter()
        .find(|s| s.code == claims.scheme.as_str())
        .is_some_and(|s| {
            claims.vct.as_str() == s.vct || (legacy && claims.vct.as_str() == token::LEGACY_VCT)
        });
    claims.issuer.as_str() == issuer
        && iss
        && vct
        && card_number::is_valid(number)
        && number.split('-').next().unwrap_or_default() == issuer
        && list_issuer == Some(issuer)
}
