//! Offline verification, for partners to embed: a credential checked against a trust list and
//! status lists they downloaded earlier, with no call to the service. Material older than a
//! configured age is refused, so a verifier cannot keep trusting a stale revocation picture.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::status_list;
use super::token::{self, CredentialError};

#[derive(Deserialize)]
struct TrustList {
    issued_at: DateTime<Utc>,
    issuers: Vec<TrustedIssuer>,
}

#[derive(Deserialize)]
struct TrustedIssuer {
    code: String,
    keys: Vec<TrustedKey>,
}

#[derive(Deserialize)]
struct TrustedKey {
    kid: String,
    jwk: Jwk,
}

#[derive(Deserialize)]
struct Jwk {
    x: String,
}

#[derive(Deserialize)]
struct StatusList {
    issuer: String,
    bits: u8,
    lst: String,
    issued_at: DateTime<Utc>,
}

/// The verifier's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// Signature, issuer, validity and status all check out.
    pub valid: bool,
    /// `valid`, `revoked`, `suspended`, `expired` or `untrusted`.
    pub status: String,
    /// The card number, when the signature verified.
    pub card_number: Option<String>,
    /// Scheme code.
    pub scheme: Option<String>,
    /// Tier code.
    pub tier: Option<String>,
    /// Issuer code.
    pub issuer: Option<String>,
    /// The disclosed holder name, when presented.
    pub holder_name: Option<String>,
}

/// Why the material itself was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MaterialError {
    /// Not parseable.
    #[error("{0} is not valid")]
    Malformed(&'static str),
    /// Older than allowed.
    #[error("{0} is older than allowed; fetch it again")]
    Stale(&'static str),
    /// No status list for the credential's issuer.
    #[error("no status list for issuer {0}")]
    MissingStatusList(String),
}

fn untrusted(status: &str) -> Verdict {
    Verdict {
        valid: false,
        status: status.to_owned(),
        card_number: None,
        scheme: None,
        tier: None,
        issuer: None,
        holder_name: None,
    }
}

/// Verifies `credential` with the given trust list and status lists (JSON as the service
/// publishes them) at `now`; refuses material issued more than `max_age` ago.
pub fn verify(
    trust_list: &str,
    status_lists: &[&str],
    credential: &str,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<Verdict, MaterialError> {
    let trust: TrustList =
        serde_json::from_str(trust_list).map_err(|_| MaterialError::Malformed("the trust list"))?;
    if now - trust.issued_at > max_age {
        return Err(MaterialError::Stale("the trust list"));
    }
    let lookup = |kid: &str| {
        trust.issuers.iter().find_map(|issuer| {
            let key = issuer.keys.iter().find(|k| k.kid == kid)?;
            let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(&key.jwk.x).ok()?.try_into().ok()?;
            Some((issuer.code.clone(), bytes))
        })
    };
    let verified = match token::verify(credential, lookup, now) {
        Ok(verified) => verified,
        Err(CredentialError::OutsideValidity) => return Ok(untrusted("expired")),
        Err(_) => return Ok(untrusted("untrusted")),
    };
    let claims = &verified.claims;
    let list = status_lists
        .iter()
        .filter_map(|text| serde_json::from_str::<StatusList>(text).ok())
        .find(|l| l.issuer == claims.issuer)
        .ok_or_else(|| MaterialError::MissingStatusList(claims.issuer.clone()))?;
    if list.bits != 2 {
        return Err(MaterialError::Malformed("the status list"));
    }
    if now - list.issued_at > max_age {
        return Err(MaterialError::Stale("the status list"));
    }
    let bits =
        status_list::decode(&list.lst).map_err(|_| MaterialError::Malformed("the status list"))?;
    let index = usize::try_from(claims.status.status_list.idx).unwrap_or(usize::MAX);
    let status = match status_list::get(&bits, index) {
        0 => "valid",
        1 => "revoked",
        2 => "suspended",
        _ => "untrusted",
    };
    Ok(Verdict {
        valid: status == "valid",
        status: status.to_owned(),
        card_number: Some(claims.card_number.clone()),
        scheme: Some(claims.scheme.clone()),
        tier: Some(claims.tier.clone()),
        issuer: Some(claims.issuer.clone()),
        holder_name: verified.holder_name,
    })
}
