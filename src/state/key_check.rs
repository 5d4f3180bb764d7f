//! Do the configured keys open what is stored? A personal-data key from another environment
//! (or a restored backup) used to pass start-up and `/readyz`, and every read of personal data
//! then failed with 500. Start-up now refuses, naming the variable, and `/readyz` answers 503
//! while it does not match.
//!
//! Samples: an issuer's sealed private key (present from the first start), one profile's ID
//! number with its blind index (the index key), and the newest keyed audit row (the audit key).

use std::sync::Mutex;
use std::time::{Duration, Instant};

use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use crate::audit::keys::AuditKeyring;
use crate::crypto::pii::{Field, PiiCipher};
use crate::models::key_samples;

/// A configured key that does not fit the stored data; the message names what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyMismatch {
    /// A sealed value does not open.
    #[error(
        "TALENTCARD__SECRETS__PII_ENCRYPTION_KEY does not open the stored {what} (sealed under \
         key id `{stored_id}`; configured TALENTCARD__AUTH__PII_KEY_ID is `{configured_id}`): \
         this is another environment's key, or the database was restored from elsewhere"
    )]
    PersonalData {
        /// What could not be opened.
        what: &'static str,
        /// The key id recorded with it.
        stored_id: String,
        /// The key id configured.
        configured_id: String,
    },
    /// The ID number opened, but its blind index does not match: lookups by number would miss.
    #[error(
        "TALENTCARD__SECRETS__PII_INDEX_KEY does not reproduce the stored blind index of ID \
         numbers: lookups and uniqueness checks would silently miss"
    )]
    BlindIndex,
    /// The newest audit row's MAC does not verify.
    #[error(
        "TALENTCARD__SECRETS__AUDIT_HMAC_KEY (or AUDIT_RETIRED_KEYS) does not verify the audit \
         row {seq} signed under key id `{key_id}`: `talentcard audit verify` would report the \
         chain broken"
    )]
    AuditChain {
        /// The row checked.
        seq: i64,
        /// The key id it names.
        key_id: String,
    },
}

/// Tries the keys on one sample of each kind of stored secret data.
pub async fn check(
    conn: &mut AsyncPgConnection,
    pii: &PiiCipher,
    audit: Option<&AuditKeyring>,
) -> QueryResult<Result<(), KeyMismatch>> {
    let mismatch = |what, stored_id: String| KeyMismatch::PersonalData {
        what,
        stored_id,
        configured_id: pii.key_id().to_owned(),
    };
    if let Some(key) = key_samples::newest_issuer_key(conn).await?
        && pii
            .open_bytes(&key.sealed, Field::IssuerKeySeed, key.kid.as_bytes())
            .is_err()
    {
        return Ok(Err(mismatch("issuer signing keys", key.key_id)));
    }
    if let Some(profile) = key_samples::newest_id_number(conn).await? {
        let opened = pii.open(
            &profile.sealed,
            Field::IdNumber,
            profile.account_id.as_bytes(),
        );
        let Ok(number) = opened else {
            return Ok(Err(mismatch("ID numbers", profile.key_id)));
        };
        if pii.blind_index(&profile.id_type, &number) != profile.index {
            return Ok(Err(KeyMismatch::BlindIndex));
        }
    }
    if let (Some(keys), Some(link)) = (audit, key_samples::newest_audit_link(conn).await?) {
        let key_id = link.key_id.unwrap_or_default();
        let expected = keys.mac(&key_id, &link.hash);
        if expected.is_none() || expected != link.mac {
            return Ok(Err(KeyMismatch::AuditChain {
                seq: link.seq,
                key_id,
            }));
        }
    }
    Ok(Ok(()))
}

/// The last verdict of [`check`], reused for `interval` so that `/readyz` (polled every few
/// seconds by every load balancer) costs one `SELECT 1` almost always.
pub struct KeyHealth {
    interval: Duration,
    last: Mutex<Option<(Instant, Option<KeyMismatch>)>>,
}

impl KeyHealth {
    /// Checks at most once per `interval` (zero: on every call).
    pub fn new(interval: Duration) -> Self {
        KeyHealth {
            interval,
            last: Mutex::new(None),
        }
    }

    /// Remembers a verdict reached elsewhere (start-up), so the first `/readyz` need not redo it.
    pub fn remember(&self, verdict: Option<KeyMismatch>) {
        let mut last = self
            .last
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *last = Some((Instant::now(), verdict));
    }

    /// The verdict, checked anew when the last one is older than the interval. Two requests
    /// that find it stale at once both check; the answer is the same.
    pub async fn verdict(
        &self,
        conn: &mut AsyncPgConnection,
        pii: &PiiCipher,
        audit: Option<&AuditKeyring>,
    ) -> QueryResult<Option<KeyMismatch>> {
        let fresh = {
            let last = self
                .last
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            last.as_ref()
                .filter(|(at, _)| at.elapsed() < self.interval)
                .map(|(_, verdict)| verdict.clone())
        };
        if let Some(verdict) = fresh {
            return Ok(verdict);
        }
        let verdict = check(conn, pii, audit).await?.err();
        self.remember(verdict.clone());
        Ok(verdict)
    }
}
