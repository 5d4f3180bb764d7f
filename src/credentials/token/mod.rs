//! The card credential: a compact SD-JWT VC style token. An EdDSA JWS with `kid` and
//! `typ: dc+sd-jwt`, holding the card number, scheme, tier, validity and a `status` claim naming
//! the issuer's status list and the card's index; the holder's name is the one selectively
//! disclosable claim (a salted disclosure after `~`), and nothing else personal is inside.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{jws, status_list};
use crate::domain::card_number;

/// The JOSE `typ` of card credentials.
pub const TYP: &str = "dc+sd-jwt";
/// The credential type of credentials signed before `iss` and `vct` became URLs.
pub const LEGACY_VCT: &str = "urn:talentcard:card:1";
/// Credentials of cards issued before 2027-01-01T00:00:00Z may carry the `urn:` forms of `iss`
/// and `vct` (the first release signed them so, and may still do during a rolling deploy; a QR
/// code saved or printed then keeps them); later cards never do. The forms carry no trust of
/// their own: the signature, the record and the issuer checks decide. Every instance of the
/// first release must be gone by that date.
pub const LEGACY_IDS_BEFORE: i64 = 1_798_761_600;

/// Where the card's status lives.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusListRef {
    /// The card's index in the list.
    pub idx: u32,
    /// The list's URL.
    pub uri: String,
}

/// The `status` claim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatusClaim {
    /// The list reference.
    pub status_list: StatusListRef,
}

/// The `cnf` claim (RFC 7800): the holder's key, whose possession a key-binding JWT proves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// The holder's public key.
    pub jwk: super::holder_key::HolderJwk,
}

/// The signed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardClaims {
    /// `{public_base_url}/issuers/{code}` (`urn:talentcard:issuer:{code}` for cards issued before 2027).
    pub iss: String,
    /// Issued at.
    pub iat: i64,
    /// First valid instant (start of `valid_from`, Beijing).
    pub nbf: i64,
    /// End of validity (end of `valid_until`, Beijing).
    pub exp: i64,
    /// `{public_base_url}/vct/{scheme}` ([`LEGACY_VCT`] for cards issued before 2027).
    pub vct: String,
    /// The card number.
    pub card_number: String,
    /// Scheme code.
    pub scheme: String,
    /// Tier code.
    pub tier: String,
    /// Issuer code.
    pub issuer: String,
    /// Where to check revocation and suspension.
    pub status: StatusClaim,
    /// Digests of the disclosures.
    #[serde(rename = "_sd")]
    pub sd: Vec<String>,
    /// Always `sha-256`.
    #[serde(rename = "_sd_alg")]
    pub sd_alg: String,
    /// The holder's key, once they bound one (`PUT /cards/{id}/holder-key`); absent before,
    /// so credentials of unbound cards are byte for byte what they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
    /// `dependant` on a family member's card (附属卡); absent on the holder's own card, so
    /// principal credentials are byte for byte what they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// On a dependant card, the family member's relation to the principal's holder: `spouse`,
    /// `child` or `parent`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub relation: Option<String>,
}

/// What goes into a credential.
#[derive(Debug)]
pub struct CardCredential<'a> {
    /// Card number.
    pub card_number: &'a str,
    /// Scheme code.
    pub scheme: &'a str,
    /// Tier code.
    pub tier: &'a str,
    /// Issuer code.
    pub issuer: &'a str,
    /// First valid day.
    pub valid_from: NaiveDate,
    /// Last valid day.
    pub valid_until: NaiveDate,
    /// Index in the issuer's status list.
    pub status_index: u32,
    /// URL of the status list.
    pub status_uri: String,
    /// The holder's name (selectively disclosable).
    pub holder_name: &'a str,
    /// The disclosure's salt: secret and stable per card, so the same card always yields the
    /// same credential (EdDSA is deterministic) and its QR code reads back exactly.
    pub salt: &'a str,
    /// `iat`: the card's issue time, as recorded with the signing key (so the same key always
    /// yields the same token).
    pub issued_at: DateTime<Utc>,
    /// The service's public origin (`iss` and `vct` are URLs under it).
    pub base_url: &'a str,
    /// The holder's bound key, signed in as `cnf.jwk`.
    pub holder_jwk: Option<&'a super::holder_key::HolderJwk>,
}

/// The disclosure salt of a card: 128 bits (RFC 9901 recommends at least that), base64url,
/// from an HMAC under the blind-index key, so it is secret, stable (the same card always yields
/// the same credential) and the same on every instance.
pub fn disclosure_salt(pii: &crate::crypto::pii::PiiCipher, card: uuid::Uuid) -> String {
    let mac =
        hex::decode(pii.blind_index("credential-salt", &card.to_string())).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(mac.get(..16).unwrap_or_default())
}

/// The issuer's identifier in credentials (`iss`): an HTTPS URL under the service's public
/// origin, whose SD-JWT VC issuer metadata is served at
/// `{base_url}/.well-known/jwt-vc-issuer/issuers/{code}`.
pub fn issuer_url(base_url: &str, issuer: &str) -> String {
    format!("{base_url}/issuers/{issuer}")
}

/// The credential type of a scheme's cards (`vct`), whose type metadata is served there.
pub fn vct_url(base_url: &str, scheme: &str) -> String {
    format!("{base_url}/vct/{scheme}")
}

/// The `iss` of credentials signed before it became a URL.
fn legacy_issuer_id(issuer: &str) -> String {
    format!("urn:talentcard:issuer:{issuer}")
}

/// Beijing midnight starting `day`, as a Unix time.
fn beijing_midnight(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp() - 8 * 3600
}

/// The credential's `exp` for a card valid until `valid_until`: the end of that day in Beijing.
pub fn expiry(valid_until: NaiveDate) -> DateTime<Utc> {
    DateTime::from_timestamp(beijing_midnight(valid_until) + 24 * 3600, 0).unwrap_or_default()
}

fn digest(disclosure: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(disclosure.as_bytes()))
}

/// A signed credential: the issuer-signed JWS and the holder-name disclosure, kept apart so
/// the holder decides when the name travels with it.
#[derive(Debug, Clone)]
pub struct Issued {
    /// The issuer-signed JWS (it carries only the disclosure's digest).
    pub jws: String,
    /// The salted holder-name disclosure.
    pub disclosure: String,
}

impl Issued {
    /// The SD-JWT to present: `<JWS>~` without the name, `<JWS>~<disclosure>~` with it.
    pub fn presentation(&self, disclose_name: bool) -> String {
        if disclose_name {
            format!("{}~{}~", self.jws, self.disclosure)
        } else {
            format!("{}~", self.jws)
        }
    }
}

/// Signs the credential with the issuer key (`der`: PKCS#8) named `kid`.
pub fn issue(card: &CardCredential<'_>, kid: &str, der: &[u8]) -> anyhow::Result<Issued> {
    issue_with_relation(card, None, kid, der)
}

/// Signs a credential; `relation` (a dependant card's) adds the claims `kind: "dependant"` and
/// `relation`. The name disclosure is then the family member's.
pub fn issue_with_relation(
    card: &CardCredential<'_>,
    relation: Option<&str>,
    kid: &str,
    der: &[u8],
) -> anyhow::Result<Issued> {
    let disclosure = URL_SAFE_NO_PAD.encode(serde_json::to_string(&serde_json::json!([
        card.salt,
        "holder_name",
        card.holder_name
    ]))?);
    let claims = CardClaims {
        iss: issuer_url(card.base_url, card.issuer),
        iat: card.issued_at.timestamp(),
        nbf: beijing_midnight(card.valid_from),
        exp: expiry(card.valid_until).timestamp(),
        vct: vct_url(card.base_url, card.scheme),
        card_number: card.card_number.to_owned(),
        scheme: card.scheme.to_owned(),
        tier: card.tier.to_owned(),
        issuer: card.issuer.to_owned(),
        status: StatusClaim {
            status_list: StatusListRef {
                idx: card.status_index,
                uri: card.status_uri.clone(),
            },
        },
        sd: vec![digest(&disclosure)],
        sd_alg: "sha-256".to_owned(),
        cnf: card.holder_jwk.map(|jwk| Confirmation { jwk: jwk.clone() }),
        kind: relation.map(|_| "dependant".to_owned()),
        relation: relation.map(str::to_owned),
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some(TYP.to_owned());
    let jws = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der))?;
    Ok(Issued { jws, disclosure })
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Not a credential of ours in shape (including a disclosure no digest references).
    #[error("the credential is malformed")]
    Malformed,
    /// The key is not in the trust list (or was withdrawn).
    #[error("the credential's key is not trusted")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the credential's signature is invalid")]
    BadSignature,
    /// The key's issuer is not the card's: the claims, the card number, the scheme's issuers
    /// and the status list must all name the issuer whose key signed.
    #[error("the credential's key does not belong to the card's issuer")]
    WrongIssuer,
    /// Signed by a retired key after its retirement, or valid beyond what that key signed.
    #[error("the credential is outside what its key may vouch for")]
    OutsideKeyValidity,
    /// Past its validity.
    #[error("the credential has expired")]
    OutsideValidity,
    /// Before its validity.
    #[error("the credential is not valid yet")]
    NotYetValid,
}

/// A scheme an issuer issues, with its credential type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemeType {
    /// Scheme code.
    pub code: String,
    /// Its `vct`.
    pub vct: String,
}

/// What a verifier's trust anchor says about a key: whose it is, which schemes that issuer
/// issues, and, for a retired key, what it may still vouch for.
#[derive(Debug, Clone)]
pub struct KeyInfo {
    /// The issuer the key belongs to.
    pub issuer: String,
    /// That issuer's identifier (`iss`).
    pub issuer_url: String,
    /// The raw Ed25519 public key.
    pub public_key: [u8; 32],
    /// The schemes this issuer issues (a card of any other scheme is not its to vouch for).
    pub schemes: Vec<SchemeType>,
    /// For a retired key: when it stopped signing (a credential it signed has `iat` before).
    pub retired_at: Option<i64>,
    /// For a retired key: the latest `exp` of anything it signed.
    pub not_after: Option<i64>,
}

/// A verified credential: its claims and the disclosed holder name.
#[derive(Debug, Clone)]
pub struct Verified {
    /// The claims.
    pub claims: CardClaims,
    /// The key that signed it.
    pub kid: String,
    /// The disclosed name, if the disclosure was presented and matches.
    pub holder_name: Option<String>,
}

/// The `kid` and the card number a credential claims, read without verifying anything, so a
/// verifier can fetch the key and the record of what it signed in one go.
pub fn claimed(token: &str) -> Result<(String, String), CredentialError> {
    #[derive(Deserialize)]
    struct Number {
        card_number: String,
    }
    let jws = token.trim().split('~').next().unwrap_or_default();
    let kid = jws::header(jws)
        .ok()
        .and_then(|h| h.kid)
        .ok_or(CredentialError::Malformed)?;
    let payload = jws::unverified_payload(jws).map_err(|_| CredentialError::Malformed)?;
    let number: Number =
        serde_json::from_slice(&payload).map_err(|_| CredentialError::Malformed)?;
    Ok((kid, number.card_number))
}

/// The disclosed holder name among `disclosures`; every disclosure must be referenced by a
/// digest of the credential, once (RFC 9901, section 7.1).
fn disclosed_name(disclosures: &[&str], sd: &[String]) -> Result<Option<String>, CredentialError> {
    let mut seen = std::collections::HashSet::new();
    if sd.iter().any(|d| !seen.insert(d.as_str())) {
        return Err(CredentialError::Malformed);
    }
    let mut used = std::collections::HashSet::new();
    let mut name = None;
    for disclosure in disclosures {
        let hash = digest(disclosure);
        if !sd.contains(&hash) || !used.insert(hash) {
            return Err(CredentialError::Malformed);
        }
        let json = URL_SAFE_NO_PAD
            .decode(disclosure)
            .map_err(|_| CredentialError::Malformed)?;
        let value: serde_json::Value =
            serde_json::from_slice(&json).map_err(|_| CredentialError::Malformed)?;
        match value.as_array().map(Vec::as_slice) {
            Some(
                [
                    serde_json::Value::String(_),
                    serde_json::Value::String(claim),
                    value,
                ],
            ) => {
                if claim == "holder_name" {
                    name = value.as_str().map(str::to_owned);
                }
            }
            _ => return Err(CredentialError::Malformed),
        }
    }
    Ok(name)
}

/// Whether the credential's every mention of an issuer names the key's issuer.
fn names_only(issuer: &KeyInfo, claims: &CardClaims) -> bool {
    let number_issuer = claims.card_number.split('-').next().unwrap_or_default();
    let list_issuer = claims
        .status
        .status_list
        .uri
        .rsplit('/')
        .next()
        .and_then(status_list::parse_list_id)
        .map(|(code, _)| code);
    let legacy = claims.iat < LEGACY_IDS_BEFORE;
    let iss = claims.iss == issuer.issuer_url
        || (legacy && claims.iss == legacy_issuer_id(&issuer.issuer));
    let vct = issuer
        .schemes
        .iter()
        .find(|s| s.code == claims.scheme)
        .is_some_and(|s| claims.vct == s.vct || (legacy && claims.vct == LEGACY_VCT));
    claims.issuer == issuer.issuer
        && iss
        && vct
        && card_number::is_valid(&claims.card_number)
        && number_issuer == issuer.issuer
        && list_issuer == Some(issuer.issuer.as_str())
}

/// Verifies a credential: `key_of(kid)` gives what the trust anchor knows of the key.
pub fn verify(
    token: &str,
    key_of: impl Fn(&str) -> Option<KeyInfo>,
    now: DateTime<Utc>,
) -> Result<Verified, CredentialError> {
    let parts: Vec<&str> = token.trim().split('~').collect();
    let (jws, disclosures) = match parts.as_slice() {
        [jws] => (*jws, &[][..]),
        // `<JWS>~<disclosure>~…~`: the last part is empty (a key-binding JWT is not accepted
        // here).
        [jws, middle @ .., ""] => (*jws, middle),
        _ => return Err(CredentialError::Malformed),
    };
    let header = jws::header(jws).map_err(|_| CredentialError::Malformed)?;
    if !header.is_ed25519() || header.typ.as_deref() != Some(TYP) || header.carries_key_or_crit {
        return Err(CredentialError::Malformed);
    }
    let kid = header.kid.ok_or(CredentialError::Malformed)?;
    // The structure, disclosures included, is checked before any key is looked up, so a
    // refusal as malformed says nothing about whether the signature is genuine.
    let unverified = jws::unverified_payload(jws).map_err(|_| CredentialError::Malformed)?;
    let claims: CardClaims =
        serde_json::from_slice(&unverified).map_err(|_| CredentialError::Malformed)?;
    if claims.sd_alg != "sha-256" {
        return Err(CredentialError::Malformed);
    }
    let holder_name = disclosed_name(disclosures, &claims.sd)?;
    let key = key_of(&kid).ok_or(CredentialError::UnknownKey)?;
    // The claims parsed above are the signed bytes once this passes.
    jws::verify_ed25519(jws, &key.public_key).map_err(|e| match e {
        jws::JwsError::Malformed => CredentialError::Malformed,
        jws::JwsError::BadSignature => CredentialError::BadSignature,
    })?;
    if !names_only(&key, &claims) {
        return Err(CredentialError::WrongIssuer);
    }
    let signed_while_active = key.retired_at.is_none_or(|retired| claims.iat <= retired);
    let within_key = key.not_after.is_none_or(|last| claims.exp <= last);
    if !signed_while_active || !within_key {
        return Err(CredentialError::OutsideKeyValidity);
    }
    let now = now.timestamp();
    if now < claims.nbf {
        return Err(CredentialError::NotYetValid);
    }
    if now >= claims.exp {
        return Err(CredentialError::OutsideValidity);
    }
    Ok(Verified {
        claims,
        kid,
        holder_name,
    })
}

#[cfg(test)]
mod tests;
