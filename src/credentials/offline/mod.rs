//! Offline verification, for partners to embed: a credential checked against a signed trust
//! list and signed status lists they downloaded earlier (`/trust-list.jws`,
//! `/status-lists/{issuer}.jws`), with no call to the service. The material must verify under
//! the platform key the partner pinned (strict Ed25519); material older than a configured age,
//! or dated in the future, is refused, so a verifier cannot keep trusting a stale revocation
//! picture. Status lists are given either as the platform-signed JSON (`.jws`) or as Status List
//! Tokens signed by the issuer (what the credential's `uri` answers): a token counts only when
//! its `sub` is exactly the credential's `uri` and its `exp` has not passed. A key vouches only
//! for its own issuer's cards and, once retired, only within the
//! bounds the trust list gives it. Among several copies of one status list the newest stamp
//! wins whatever their order; two different copies under one stamp are refused.
//!
//! A presentation with a key-binding JWT ([`verify_presentation`]) is checked further against
//! the verifier's audience and nonce and the credential's `cnf.jwk`, so a copied QR code is not
//! enough where the holder must be present.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

use super::token::{self, CardClaims, CredentialError};
use super::{key_binding, signed, status_list, status_token};
use crate::domain::card_status::ListEntry;
use crate::domain::standing::Status;

mod credential;
mod text;
mod verifier;

pub use verifier::Verifier;

#[cfg(test)]
mod tests;

#[derive(Deserialize)]
struct TrustList {
    issued_at: DateTime<Utc>,
    issuers: Vec<TrustedIssuer>,
    schemes: Vec<TrustedScheme>,
}

#[derive(Deserialize)]
struct TrustedIssuer {
    code: String,
    issuer_url: String,
    keys: Vec<TrustedKey>,
}

#[derive(Deserialize)]
struct TrustedScheme {
    code: String,
    vct: String,
    issuers: Vec<String>,
}

#[derive(Deserialize)]
struct TrustedKey {
    kid: String,
    jwk: Jwk,
    status: String,
    #[serde(default)]
    retired_at: Option<DateTime<Utc>>,
    #[serde(default)]
    not_after: Option<DateTime<Utc>>,
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
    /// `valid`, `revoked`, `suspended`, `expired`, `not_yet_valid` or `untrusted`.
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
    /// The material was older than `max_age` and accepted only within the explicit grace.
    pub grace_used: bool,
    /// Why the credential is not valid, in one sentence (`None` when it is).
    pub reason: Option<String>,
    /// The holder proved possession of the credential's key (`cnf.jwk`) with a key-binding
    /// JWT over the verifier's audience and nonce ([`verify_presentation`]); always `false`
    /// for a bare credential.
    pub holder_bound: bool,
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
    /// Two different copies of one status list carry the same stamp: which is newer cannot be
    /// told, so neither is believed.
    #[error("two different copies of status list {0} carry the same stamp; fetch it again")]
    Ambiguous(String),
    /// Not signed by the pinned platform key.
    #[error("{0} is not signed by the platform key")]
    Unsigned(&'static str),
    /// Dated after now (a forged or clock-skewed copy).
    #[error("{0} is dated in the future")]
    FromTheFuture(&'static str),
}

/// The default age beyond which material is refused: a status list is re-stamped at least
/// every half `ttl` (300 s) and may then be cached for one `ttl`, so honest material is at
/// most 450 s old; 600 s leaves room for clock skew and nothing more.
pub const DEFAULT_MAX_AGE_SECS: i64 = 600;

/// How old the material may be: `max_age`, and beyond it an explicit `grace` a verifier
/// working offline for longer opts into (the verdict then says `grace_used`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Freshness {
    /// Material older than this is stale.
    pub max_age: Duration,
    /// Stale material is still accepted for this long, flagged in the verdict.
    pub grace: Duration,
}

impl Freshness {
    /// `max_age` and no grace.
    pub fn strict(max_age: Duration) -> Self {
        Freshness {
            max_age,
            grace: Duration::zero(),
        }
    }
}

impl Default for Freshness {
    fn default() -> Self {
        Freshness::strict(Duration::seconds(DEFAULT_MAX_AGE_SECS))
    }
}

/// Clock skew tolerated on the material's `issued_at`.
const SKEW: Duration = Duration::minutes(5);

/// Checks the age of material issued at `issued_at`; answers whether the grace was needed.
fn check_age(
    issued_at: DateTime<Utc>,
    now: DateTime<Utc>,
    freshness: Freshness,
    what: &'static str,
) -> Result<bool, MaterialError> {
    if issued_at > now + SKEW {
        return Err(MaterialError::FromTheFuture(what));
    }
    let age = now - issued_at;
    let limit = freshness
        .max_age
        .checked_add(&freshness.grace)
        .unwrap_or(Duration::MAX);
    if age > limit {
        return Err(MaterialError::Stale(what));
    }
    Ok(age > freshness.max_age)
}

fn untrusted(status: Status, reason: impl std::fmt::Display) -> Verdict {
    Verdict {
        valid: false,
        status: status.offline_word().to_owned(),
        card_number: None,
        scheme: None,
        tier: None,
        issuer: None,
        holder_name: None,
        grace_used: false,
        reason: Some(reason.to_string()),
        holder_bound: false,
    }
}

impl TrustList {
    /// What the list says of `kid`: only active keys, and retired ones with the bounds of
    /// what they signed (a retired key without them vouches for nothing). Withdrawn
    /// (compromised) keys are not in a list at all.
    fn key(&self, kid: &str) -> Option<token::KeyInfo> {
        self.issuers.iter().find_map(|issuer| {
            let key = issuer.keys.iter().find(|k| k.kid == kid)?;
            let (retired_at, not_after) = match key.status.as_str() {
                "active" => (None, None),
                "retired" => (
                    Some(key.retired_at?.timestamp()),
                    Some(key.not_after?.timestamp()),
                ),
                _ => return None,
            };
            Some(token::KeyInfo {
                issuer: issuer.code.clone(),
                issuer_url: issuer.issuer_url.clone(),
                public_key: URL_SAFE_NO_PAD.decode(&key.jwk.x).ok()?.try_into().ok()?,
                schemes: self
                    .schemes
                    .iter()
                    .filter(|s| s.issuers.contains(&issuer.code))
                    .map(|s| token::SchemeType {
                        code: s.code.clone(),
                        vct: s.vct.clone(),
                    })
                    .collect(),
                retired_at,
                not_after,
            })
        })
    }
}

/// The newest copy of status list `wanted` of `issuer` among `lists`; two different copies
/// with the newest stamp are ambiguous.
fn newest_list(
    lists: &[&str],
    trust: &TrustList,
    platform_x: &str,
    credential: &CardClaims,
    now: DateTime<Utc>,
) -> Result<StatusList, MaterialError> {
    let uri = &credential.status.status_list.uri;
    let wanted = uri.rsplit('/').next().unwrap_or_default();
    let mut copies = Vec::new();
    let mut expired = false;
    for list in lists {
        if let Ok(value) = signed::open(list, signed::STATUS_LIST_TYP, platform_x) {
            // The platform-signed JSON form of an offline bundle.
            if let Ok(copy) = serde_json::from_value::<StatusList>(value) {
                copies.push(copy);
            }
            continue;
        }
        // A Status List Token signed by an issuer key of the trust list: it speaks for the
        // credential's list only when its `sub` is exactly the credential's `uri`, and a
        // retired key only for what it signed while active.
        let Ok(token) =
            status_token::open(list, |kid| trust.key(kid).map(|k| (k.issuer, k.public_key)))
        else {
            continue;
        };
        let within_key = trust
            .key(&token.kid)
            .and_then(|k| k.retired_at)
            .is_none_or(|retired| token.issued_at.timestamp() <= retired);
        if token.claims.sub != *uri || !within_key {
            continue;
        }
        // An expired copy is passed over: a fresher one may be among the others.
        if token.claims.exp <= now.timestamp() {
            expired = true;
            continue;
        }
        copies.push(StatusList {
            issuer: token.issuer,
            list: wanted.to_owned(),
            bits: token.claims.status_list.bits,
            lst: token.claims.status_list.lst,
            issued_at: token.issued_at,
        });
    }
    copies.retain(|l| l.issuer == credential.issuer && l.list == wanted);
    copies.sort_by_key(|l| l.issued_at);
    let newest = copies.pop().ok_or_else(|| {
        if expired {
            MaterialError::Stale("the status list")
        } else {
            MaterialError::MissingStatusList(wanted.to_owned())
        }
    })?;
    let ambiguous = copies
        .iter()
        .any(|l| l.issued_at == newest.issued_at && (l.lst != newest.lst || l.bits != newest.bits));
    if ambiguous {
        return Err(MaterialError::Ambiguous(wanted.to_owned()));
    }
    Ok(newest)
}

/// Verifies `credential` with the signed trust list and status lists (compact JWS as the
/// service publishes them), trusting only `platform_x` (the platform key's JWK `x`), at `now`;
/// refuses material older than `freshness` allows.
pub fn verify(
    platform_x: &str,
    trust_list_jws: &str,
    status_list_jws: &[&str],
    credential: &str,
    now: DateTime<Utc>,
    freshness: Freshness,
) -> Result<Verdict, MaterialError> {
    verify_credential(
        platform_x,
        trust_list_jws,
        status_list_jws,
        credential,
        now,
        freshness,
    )
    .map(|(verdict, _)| verdict)
}

/// What an offline verifier asks the holder to prove: that they sign, for this verifier and
/// now, with the key the credential names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Challenge<'a> {
    /// The verifier's identifier, the KB-JWT's `aud` (an agency's `client_id`).
    pub audience: &'a str,
    /// The nonce the verifier gave the holder for this presentation (its own, random, used
    /// once: the verifier keeps track of that).
    pub nonce: &'a str,
}

/// The status word of a presentation whose holder binding does not check out.
pub const HOLDER_BINDING_FAILED: &str = "holder_binding_failed";

/// Verifies a presentation (`<credential>~…~<KB-JWT>`) as [`verify`] does, and then its
/// key-binding JWT against the credential's `cnf.jwk`: addressed to `challenge.audience`, over
/// `challenge.nonce`, signed within the last 300 s. A credential that is not valid keeps its
/// own verdict; a valid one whose binding fails (no KB-JWT, no `cnf`, a wrong signature,
/// audience, nonce, `sd_hash` or a stale `iat`) is not valid, status `holder_binding_failed`.
pub fn verify_presentation(
    platform_x: &str,
    trust_list_jws: &str,
    status_list_jws: &[&str],
    presentation: &str,
    challenge: Challenge<'_>,
    now: DateTime<Utc>,
    freshness: Freshness,
) -> Result<Verdict, MaterialError> {
    let Some((credential, _)) = key_binding::split_presentation(presentation) else {
        return Ok(untrusted_binding(
            "the presentation has no key-binding JWT after its last ~",
        ));
    };
    let (verdict, claims) = verify_credential(
        platform_x,
        trust_list_jws,
        status_list_jws,
        credential,
        now,
        freshness,
    )?;
    if !verdict.valid {
        return Ok(verdict);
    }
    let failed = |reason: String| Verdict {
        valid: false,
        status: HOLDER_BINDING_FAILED.to_owned(),
        reason: Some(reason),
        holder_bound: false,
        ..verdict.clone()
    };
    let Some(cnf) = claims.and_then(|c| c.cnf) else {
        return Ok(failed(
            "the credential names no holder key (cnf)".to_owned(),
        ));
    };
    match key_binding::verify_key_binding(
        presentation,
        &cnf.jwk,
        challenge.audience,
        now.timestamp(),
    ) {
        Ok(kb) if kb.nonce == challenge.nonce => Ok(Verdict {
            holder_bound: true,
            ..verdict
        }),
        Ok(_) => Ok(failed(
            "the key-binding JWT is over another nonce than the one given".to_owned(),
        )),
        Err(e) => Ok(failed(e.to_string())),
    }
}

fn untrusted_binding(reason: &str) -> Verdict {
    Verdict {
        status: HOLDER_BINDING_FAILED.to_owned(),
        ..untrusted(Status::Untrusted, reason)
    }
}

/// [`verify`], with the verified claims when the signature checked out.
fn verify_credential(
    platform_x: &str,
    trust_list_jws: &str,
    status_list_jws: &[&str],
    credential: &str,
    now: DateTime<Utc>,
    freshness: Freshness,
) -> Result<(Verdict, Option<CardClaims>), MaterialError> {
    let trust = signed::open(trust_list_jws, signed::TRUST_LIST_TYP, platform_x)
        .map_err(|_| MaterialError::Unsigned("the trust list"))?;
    let trust: TrustList =
        serde_json::from_value(trust).map_err(|_| MaterialError::Malformed("the trust list"))?;
    let trust_grace = check_age(trust.issued_at, now, freshness, "the trust list")?;
    let verified = match token::verify(credential, |kid| trust.key(kid), now) {
        Ok(verified) => verified,
        Err(e @ CredentialError::OutsideValidity) => {
            return Ok((untrusted(Status::Expired, e), None));
        }
        Err(e @ CredentialError::NotYetValid) => {
            return Ok((untrusted(Status::NotYetValid, e), None));
        }
        Err(e) => return Ok((untrusted(Status::Untrusted, e), None)),
    };
    let claims = &verified.claims;
    // The credential names its list by URI; the list's name is the URI's last segment (the
    // token check made sure it is one of the signing issuer's lists).
    let list = newest_list(status_list_jws, &trust, platform_x, claims, now)?;
    if list.bits != 2 {
        return Err(MaterialError::Malformed("the status list"));
    }
    let list_grace = check_age(list.issued_at, now, freshness, "the status list")?;
    let bits =
        status_list::decode(&list.lst).map_err(|_| MaterialError::Malformed("the status list"))?;
    let index = usize::try_from(claims.status.status_list.idx).unwrap_or(usize::MAX);
    if index >= status_list::ENTRIES {
        return Ok((
            untrusted(
                Status::Untrusted,
                "the credential's status index is outside its list",
            ),
            None,
        ));
    }
    let status = ListEntry::from_bits(status_list::get(&bits, index))
        .map_or(Status::Untrusted, Status::of_entry);
    let word = status.offline_word();
    let verdict = Verdict {
        valid: status == Status::Active,
        status: word.to_owned(),
        card_number: Some(claims.card_number.clone()),
        scheme: Some(claims.scheme.clone()),
        tier: Some(claims.tier.clone()),
        issuer: Some(claims.issuer.clone()),
        holder_name: verified.holder_name,
        grace_used: trust_grace || list_grace,
        reason: (status != Status::Active).then(|| format!("the issuer's status list says {word}")),
        holder_bound: false,
    };
    Ok((verdict, Some(verified.claims)))
}
