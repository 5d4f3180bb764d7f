//! The prepared offline verifier: the trust list and the status lists are checked and decoded
//! once, so each credential then costs one Ed25519 verification, a little parsing and one bit
//! lookup. It gives [`super::verify`]'s verdicts (the differential tests in `tests.rs` hold the
//! two together); only the order of work differs: the material's signatures are checked when
//! the verifier is built, its age at every verification.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::credential::{self, Checked, PreparedKey};
use super::{
    Challenge, Freshness, HOLDER_BINDING_FAILED, MaterialError, StatusList, TrustList, Verdict,
    check_age, untrusted, untrusted_binding,
};
use crate::credentials::token::CredentialError;
use crate::credentials::{key_binding, signed, status_list, status_token};
use crate::domain::card_status::ListEntry;
use crate::domain::standing::Status;

/// A verifier that loads the trust list and status lists once and then verifies credentials
/// and presentations at nearly the cost of their signature: what a partner's gate or app keeps
/// in memory between downloads of the material (build a new one with each download).
#[derive(Debug)]
pub struct Verifier {
    trust_issued_at: DateTime<Utc>,
    freshness: Freshness,
    /// Key by `kid`, as the trust list answers for it (first issuer listing it wins).
    keys: HashMap<String, PreparedKey>,
    /// Every usable copy of a status list, by the list's name (the last segment of the `uri`
    /// credentials carry), in the order given.
    lists: HashMap<String, Vec<ListCopy>>,
}

/// One copy of a status list, decoded.
#[derive(Debug)]
struct ListCopy {
    issuer: String,
    issued_at: DateTime<Utc>,
    bits: u8,
    /// The published entries, compared when two copies share a stamp.
    lst: String,
    /// The decoded entries (`None`: `lst` is not one list).
    entries: Option<Vec<u8>>,
    /// For a Status List Token: the `uri` it speaks for and its `exp`.
    token: Option<(String, i64)>,
}

impl Verifier {
    /// Checks the trust list against the platform key (`platform_x`, its JWK `x`) and opens
    /// every status list (platform-signed JSON or issuer-signed Status List Token) once;
    /// `freshness` applies at each verification. Refuses only a trust list that is unsigned
    /// or malformed: a status list that does not verify is ignored, as [`super::verify`]
    /// ignores it.
    pub fn new(
        platform_x: &str,
        trust_list_jws: &str,
        status_list_jws: &[&str],
        freshness: Freshness,
    ) -> Result<Self, MaterialError> {
        let trust = signed::open(trust_list_jws, signed::TRUST_LIST_TYP, platform_x)
            .map_err(|_| MaterialError::Unsigned("the trust list"))?;
        let trust: TrustList = serde_json::from_value(trust)
            .map_err(|_| MaterialError::Malformed("the trust list"))?;
        let mut keys = HashMap::new();
        for issuer in &trust.issuers {
            for key in &issuer.keys {
                if !keys.contains_key(&key.kid)
                    && let Some(info) = trust.key(&key.kid)
                {
                    keys.insert(key.kid.clone(), PreparedKey::new(info));
                }
            }
        }
        let mut lists: HashMap<String, Vec<ListCopy>> = HashMap::new();
        for list in status_list_jws {
            if let Some((name, copy)) = open_list(list, &trust, platform_x) {
                lists.entry(name).or_default().push(copy);
            }
        }
        Ok(Verifier {
            trust_issued_at: trust.issued_at,
            freshness,
            keys,
            lists,
        })
    }

    /// Verifies `credential` at `now`, as [`super::verify`] does with the material this
    /// verifier was built from.
    pub fn verify(&self, credential: &str, now: DateTime<Utc>) -> Result<Verdict, MaterialError> {
        let mut payload = Vec::new();
        self.verify_credential(credential, &mut payload, now)
            .map(|(verdict, _)| verdict)
    }

    /// Verifies a presentation with its key-binding JWT, as [`super::verify_presentation`]
    /// does with the material this verifier was built from.
    pub fn verify_presentation(
        &self,
        presentation: &str,
        challenge: Challenge<'_>,
        now: DateTime<Utc>,
    ) -> Result<Verdict, MaterialError> {
        let Some((credential, _)) = key_binding::split_presentation(presentation) else {
            return Ok(untrusted_binding(
                "the presentation has no key-binding JWT after its last ~",
            ));
        };
        let mut payload = Vec::new();
        let (verdict, cnf) = self.verify_credential(credential, &mut payload, now)?;
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
        let Some(cnf) = cnf else {
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

    /// The verdict, with the credential's `cnf` when it verified.
    fn verify_credential(
        &self,
        credential: &str,
        payload: &mut Vec<u8>,
        now: DateTime<Utc>,
    ) -> Result<(Verdict, Option<crate::credentials::token::Confirmation>), MaterialError> {
        let trust_grace = check_age(self.trust_issued_at, now, self.freshness, "the trust list")?;
        let checked = credential::check(
            credential,
            payload,
            |kid| self.keys.get(kid),
            now.timestamp(),
        );
        let Checked {
            claims,
            holder_name,
        } = match checked {
            Ok(checked) => checked,
            Err(e @ CredentialError::OutsideValidity) => {
                return Ok((untrusted(Status::Expired, e), None));
            }
            Err(e @ CredentialError::NotYetValid) => {
                return Ok((untrusted(Status::NotYetValid, e), None));
            }
            Err(e) => return Ok((untrusted(Status::Untrusted, e), None)),
        };
        let list = self.newest_list(
            claims.status.status_list.uri.as_str(),
            claims.issuer.as_str(),
            now,
        )?;
        if list.bits != 2 {
            return Err(MaterialError::Malformed("the status list"));
        }
        let list_grace = check_age(list.issued_at, now, self.freshness, "the status list")?;
        let entries = list
            .entries
            .as_deref()
            .ok_or(MaterialError::Malformed("the status list"))?;
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
        let status = ListEntry::from_bits(status_list::get(entries, index))
            .map_or(Status::Untrusted, Status::of_entry);
        let word = status.offline_word();
        let verdict = Verdict {
            valid: status == Status::Active,
            status: word.to_owned(),
            card_number: Some(claims.card_number.to_owned_string()),
            scheme: Some(claims.scheme.to_owned_string()),
            tier: Some(claims.tier.to_owned_string()),
            issuer: Some(claims.issuer.to_owned_string()),
            holder_name,
            grace_used: trust_grace || list_grace,
            reason: (status != Status::Active)
                .then(|| format!("the issuer's status list says {word}")),
            holder_bound: false,
        };
        Ok((verdict, claims.cnf))
    }

    /// The newest copy of the list at `uri` of `issuer` still in force at `now`, as
    /// [`super::verify`] picks it: an expired token is passed over, and two different
    /// copies under the newest stamp are ambiguous.
    fn newest_list(
        &self,
        uri: &str,
        issuer: &str,
        now: DateTime<Utc>,
    ) -> Result<&ListCopy, MaterialError> {
        let wanted = uri.rsplit('/').next().unwrap_or_default();
        let copies = self
            .lists
            .get(wanted)
            .map(Vec::as_slice)
            .unwrap_or_default();
        let now = now.timestamp();
        // A token counts only for its own `uri` and until its `exp`.
        let in_force = |copy: &ListCopy| match &copy.token {
            Some((sub, exp)) => sub == uri && *exp > now,
            None => true,
        };
        let expired = copies.iter().any(|copy| {
            copy.token
                .as_ref()
                .is_some_and(|(sub, exp)| sub == uri && *exp <= now)
        });
        let mut newest: Option<&ListCopy> = None;
        for copy in copies.iter().filter(|c| in_force(c) && c.issuer == issuer) {
            // The last of the newest, as a stable sort by stamp would leave it on top.
            if newest.is_none_or(|n| copy.issued_at >= n.issued_at) {
                newest = Some(copy);
            }
        }
        let newest = newest.ok_or_else(|| {
            if expired {
                MaterialError::Stale("the status list")
            } else {
                MaterialError::MissingStatusList(wanted.to_owned())
            }
        })?;
        let ambiguous = copies.iter().any(|copy| {
            in_force(copy)
                && copy.issuer == issuer
                && copy.issued_at == newest.issued_at
                && (copy.lst != newest.lst || copy.bits != newest.bits)
        });
        if ambiguous {
            return Err(MaterialError::Ambiguous(wanted.to_owned()));
        }
        Ok(newest)
    }
}

/// Opens one status list as [`super::verify`] reads it: the platform-signed JSON form, else a
/// Status List Token of a trust-list key (a retired key's only for what it signed while
/// active). Answers the list's name with the copy, or `None` for what counts for nothing.
fn open_list(list: &str, trust: &TrustList, platform_x: &str) -> Option<(String, ListCopy)> {
    if let Ok(value) = signed::open(list, signed::STATUS_LIST_TYP, platform_x) {
        let copy = serde_json::from_value::<StatusList>(value).ok()?;
        let entries = status_list::decode(&copy.lst).ok();
        return Some((
            copy.list,
            ListCopy {
                issuer: copy.issuer,
                issued_at: copy.issued_at,
                bits: copy.bits,
                lst: copy.lst,
                entries,
                token: None,
            },
        ));
    }
    let token =
        status_token::open(list, |kid| trust.key(kid).map(|k| (k.issuer, k.public_key))).ok()?;
    let within_key = trust
        .key(&token.kid)
        .and_then(|k| k.retired_at)
        .is_none_or(|retired| token.issued_at.timestamp() <= retired);
    if !within_key {
        return None;
    }
    let name = token
        .claims
        .sub
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .to_owned();
    let entries = status_list::decode(&token.claims.status_list.lst).ok();
    Some((
        name,
        ListCopy {
            issuer: token.issuer,
            issued_at: token.issued_at,
            bits: token.claims.status_list.bits,
            lst: token.claims.status_list.lst,
            entries,
            token: Some((token.claims.sub, token.claims.exp)),
        },
    ))
}
