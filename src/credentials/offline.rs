//! Offline verification, for partners to embed: a credential checked against a signed trust
//! list and signed status lists they downloaded earlier (`/trust-list.jws`,
//! `/status-lists/{issuer}.jws`), with no call to the service. The material must verify under
//! the platform key the partner pinned; material older than a configured age, or dated in the
//! future, is refused, so a verifier cannot keep trusting a stale revocation picture.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::token::{self, CredentialError};
use super::{signed, status_list};

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
    status: String,
    #[serde(default)]
    retired_at: Option<DateTime<Utc>>,
}

#[derive(Deserialize)]
struct Jwk {
    x: String,
}

#[derive(Deserialize)]
struct StatusList {
    issuer: String,
    list: String,
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
    /// No copy of the status list the credential names.
    #[error("no status list {0}")]
    MissingStatusList(String),
    /// Not signed by the pinned platform key.
    #[error("{0} is not signed by the platform key")]
    Unsigned(&'static str),
    /// Dated after now (a forged or clock-skewed copy).
    #[error("{0} is dated in the future")]
    FromTheFuture(&'static str),
}

/// Clock skew tolerated on the material's `issued_at`.
const SKEW: Duration = Duration::minutes(5);

fn check_age(
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
    max_age: Duration,
    what: &'static str,
) -> Result<(), MaterialError> {
    if issued_at > now + SKEW {
        return Err(MaterialError::FromTheFuture(what));
    }
    if now - issued_at > max_age {
        return Err(MaterialError::Stale(what));
    }
    Ok(())
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

/// Verifies `credential` with the signed trust list and status lists (compact JWS as the
/// service publishes them), trusting only `platform_x` (the platform key's JWK `x`), at `now`;
/// refuses material issued more than `max_age` ago.
pub fn verify(
    platform_x: &str,
    trust_list_jws: &str,
    status_list_jws: &[&str],
    credential: &str,
    now: DateTime<Utc>,
    max_age: Duration,
) -> Result<Verdict, MaterialError> {
    let trust = signed::open(trust_list_jws, signed::TRUST_LIST_TYP, platform_x)
        .map_err(|_| MaterialError::Unsigned("the trust list"))?;
    let trust: TrustList =
        serde_json::from_value(trust).map_err(|_| MaterialError::Malformed("the trust list"))?;
    check_age(trust.issued_at, now, max_age, "the trust list")?;
    // Only keys that may vouch for something: active ones, and retired ones for what they
    // signed before retirement.
    let lookup = |kid: &str| {
        trust.issuers.iter().find_map(|issuer| {
            let key = issuer
                .keys
                .iter()
                .find(|k| k.kid == kid && matches!(k.status.as_str(), "active" | "retired"))?;
            let bytes: [u8; 32] = URL_SAFE_NO_PAD.decode(&key.jwk.x).ok()?.try_into().ok()?;
            Some((issuer.code.clone(), bytes))
        })
    };
    let verified = match token::verify(credential, lookup, now) {
        Ok(verified) => verified,
        Err(CredentialError::OutsideValidity) => return Ok(untrusted("expired")),
        Err(CredentialError::NotYetValid) => return Ok(untrusted("not_yet_valid")),
        Err(_) => return Ok(untrusted("untrusted")),
    };
    let claims = &verified.claims;
    let retired_after_signing = trust
        .issuers
        .iter()
        .flat_map(|i| &i.keys)
        .find(|k| k.kid == verified.kid)
        .and_then(|k| k.retired_at)
        .is_some_and(|retired| claims.iat > retired.timestamp());
    if retired_after_signing {
        return Ok(untrusted("untrusted"));
    }
    // The credential names its list by URI; the list's name is the URI's last segment.
    let wanted = claims
        .status
        .status_list
        .uri
        .rsplit('/')
        .next()
        .unwrap_or_default();
    let list = status_list_jws
        .iter()
        .filter_map(|jws| signed::open(jws, signed::STATUS_LIST_TYP, platform_x).ok())
        .filter_map(|value| serde_json::from_value::<StatusList>(value).ok())
        .filter(|l| l.issuer == claims.issuer && l.list == wanted)
        .max_by_key(|l| l.issued_at)
        .ok_or_else(|| MaterialError::MissingStatusList(wanted.to_owned()))?;
    if list.bits != 2 {
        return Err(MaterialError::Malformed("the status list"));
    }
    check_age(list.issued_at, now, max_age, "the status list")?;
    let bits =
        status_list::decode(&list.lst).map_err(|_| MaterialError::Malformed("the status list"))?;
    let index = usize::try_from(claims.status.status_list.idx).unwrap_or(usize::MAX);
    if index >= status_list::ENTRIES {
        return Ok(untrusted("untrusted"));
    }
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
