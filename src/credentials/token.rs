//! The card credential: a compact SD-JWT VC style token. An EdDSA JWS with `kid` and
//! `typ: dc+sd-jwt`, holding the card number, scheme, tier, validity and a `status` claim naming
//! the issuer's status list and the card's index; the holder's name is the one selectively
//! disclosable claim (a salted disclosure after `~`), and nothing else personal is inside.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The JOSE `typ` of card credentials.
pub const TYP: &str = "dc+sd-jwt";
/// The verifiable credential type.
pub const VCT: &str = "urn:talentcard:card:1";

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

/// The signed claims.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CardClaims {
    /// `urn:talentcard:issuer:<code>`.
    pub iss: String,
    /// Issued at.
    pub iat: i64,
    /// First valid instant (start of `valid_from`, Beijing).
    pub nbf: i64,
    /// End of validity (end of `valid_until`, Beijing).
    pub exp: i64,
    /// [`VCT`].
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
    /// When the card was issued (`iat`).
    pub issued_at: DateTime<Utc>,
}

/// Beijing midnight starting `day`, as a Unix time.
fn beijing_midnight(day: NaiveDate) -> i64 {
    day.and_time(NaiveTime::MIN).and_utc().timestamp() - 8 * 3600
}

fn digest(disclosure: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(disclosure.as_bytes()))
}

/// Signs the credential with the issuer key (`der`: PKCS#8) named `kid`.
pub fn issue(card: &CardCredential<'_>, kid: &str, der: &[u8]) -> anyhow::Result<String> {
    let disclosure = URL_SAFE_NO_PAD.encode(serde_json::to_string(&serde_json::json!([
        card.salt,
        "holder_name",
        card.holder_name
    ]))?);
    let claims = CardClaims {
        iss: format!("urn:talentcard:issuer:{}", card.issuer),
        iat: card.issued_at.timestamp(),
        nbf: beijing_midnight(card.valid_from),
        exp: beijing_midnight(card.valid_until) + 24 * 3600,
        vct: VCT.to_owned(),
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
    };
    let mut header = Header::new(Algorithm::EdDSA);
    header.kid = Some(kid.to_owned());
    header.typ = Some(TYP.to_owned());
    let jws = jsonwebtoken::encode(&header, &claims, &EncodingKey::from_ed_der(der))?;
    Ok(format!("{jws}~{disclosure}~"))
}

/// Why a credential was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CredentialError {
    /// Not a credential of ours in shape.
    #[error("the credential is malformed")]
    Malformed,
    /// The key is not in the trust list (or not for this issuer).
    #[error("the credential's key is not trusted")]
    UnknownKey,
    /// The signature does not verify.
    #[error("the credential's signature is invalid")]
    BadSignature,
    /// Past its validity.
    #[error("the credential has expired")]
    OutsideValidity,
    /// Before its validity.
    #[error("the credential is not valid yet")]
    NotYetValid,
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

/// Verifies a credential: `key_of(kid)` gives the trusted issuer code and raw public key.
pub fn verify(
    token: &str,
    key_of: impl Fn(&str) -> Option<(String, [u8; 32])>,
    now: DateTime<Utc>,
) -> Result<Verified, CredentialError> {
    let mut parts = token.trim().split('~');
    let jws = parts
        .next()
        .filter(|j| !j.is_empty())
        .ok_or(CredentialError::Malformed)?;
    let header = jsonwebtoken::decode_header(jws).map_err(|_| CredentialError::Malformed)?;
    if header.alg != Algorithm::EdDSA
        || header.typ.as_deref() != Some(TYP)
        || header.jwk.is_some()
        || header.jku.is_some()
        || header.x5u.is_some()
        || header.x5c.is_some()
    {
        return Err(CredentialError::Malformed);
    }
    let kid = header.kid.ok_or(CredentialError::Malformed)?;
    let (issuer, public_key) = key_of(&kid).ok_or(CredentialError::UnknownKey)?;
    let key = DecodingKey::from_ed_components(&URL_SAFE_NO_PAD.encode(public_key))
        .map_err(|_| CredentialError::UnknownKey)?;
    let mut validation = Validation::new(Algorithm::EdDSA);
    validation.validate_exp = false;
    validation.validate_nbf = false;
    validation.required_spec_claims = ["exp", "nbf", "iss"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    validation.validate_aud = false;
    let data =
        jsonwebtoken::decode::<CardClaims>(jws, &key, &validation).map_err(|e| match e.kind() {
            jsonwebtoken::errors::ErrorKind::InvalidSignature => CredentialError::BadSignature,
            _ => CredentialError::Malformed,
        })?;
    let claims = data.claims;
    if claims.issuer != issuer
        || claims.iss != format!("urn:talentcard:issuer:{issuer}")
        || claims.vct != VCT
    {
        return Err(CredentialError::UnknownKey);
    }
    let now = now.timestamp();
    if now < claims.nbf {
        return Err(CredentialError::NotYetValid);
    }
    if now >= claims.exp {
        return Err(CredentialError::OutsideValidity);
    }
    let holder_name = parts
        .filter(|d| !d.is_empty() && claims.sd.contains(&digest(d)))
        .find_map(|d| {
            let json = URL_SAFE_NO_PAD.decode(d).ok()?;
            let value: serde_json::Value = serde_json::from_slice(&json).ok()?;
            (value.get(1)?.as_str()? == "holder_name")
                .then(|| value.get(2)?.as_str().map(str::to_owned))?
        });
    Ok(Verified {
        claims,
        kid,
        holder_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ed25519_dalek::SigningKey;
    use ed25519_dalek::pkcs8::EncodePrivateKey;

    fn key() -> (Vec<u8>, [u8; 32]) {
        let signing = SigningKey::from_bytes(&[7; 32]);
        let der = signing
            .to_pkcs8_der()
            .map(|d| d.as_bytes().to_vec())
            .unwrap_or_default();
        (der, signing.verifying_key().to_bytes())
    }

    fn card(now: DateTime<Utc>) -> CardCredential<'static> {
        CardCredential {
            card_number: "XA-2026-000001-3",
            scheme: "XIONGAN",
            tier: "B",
            issuer: "XA",
            valid_from: now.date_naive(),
            valid_until: now.date_naive() + chrono::Duration::days(365),
            status_index: 4242,
            status_uri: "http://localhost/api/v1/status-lists/XA".into(),
            holder_name: "李明",
            salt: "c2FsdHNhbHRzYWx0",
            issued_at: now,
        }
    }

    #[test]
    fn a_credential_verifies_and_discloses_the_name_only_on_request() {
        let (der, public) = key();
        let now = Utc::now();
        let token = issue(&card(now), "XA-1", &der).unwrap_or_default();
        let lookup = |kid: &str| (kid == "XA-1").then(|| ("XA".to_owned(), public));
        let verified = verify(&token, lookup, now).map_err(|e| e.to_string());
        let verified = verified.unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(verified.claims.card_number, "XA-2026-000001-3");
        assert_eq!(verified.claims.status.status_list.idx, 4242);
        assert_eq!(verified.holder_name.as_deref(), Some("李明"));
        let jws_only = token.split('~').next().unwrap_or_default();
        assert!(!jws_only.contains("李明"));
        let undisclosed = verify(&format!("{jws_only}~"), lookup, now).map(|v| v.holder_name);
        assert_eq!(
            undisclosed,
            Ok(None),
            "without the disclosure the name stays hidden"
        );
    }

    #[test]
    fn tampering_wrong_keys_and_time_are_refused() {
        let (der, public) = key();
        let now = Utc::now();
        let token = issue(&card(now), "XA-1", &der).unwrap_or_default();
        let lookup = |kid: &str| (kid == "XA-1").then(|| ("XA".to_owned(), public));
        let mut bytes = token.into_bytes();
        let payload_at = bytes.iter().position(|b| *b == b'.').unwrap_or(0) + 5;
        bytes[payload_at] = if bytes[payload_at] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let tampered = String::from_utf8(bytes).unwrap_or_default();
        assert!(verify(&tampered, lookup, now).is_err());
        let token = issue(&card(now), "XA-1", &der).unwrap_or_default();
        assert_eq!(
            verify(&token, |_| None, now).err(),
            Some(CredentialError::UnknownKey)
        );
        let other_issuer = |_: &str| Some(("TZ".to_owned(), public));
        assert_eq!(
            verify(&token, other_issuer, now).err(),
            Some(CredentialError::UnknownKey)
        );
        let later = now + chrono::Duration::days(400);
        assert_eq!(
            verify(&token, lookup, later).err(),
            Some(CredentialError::OutsideValidity)
        );
    }
}
