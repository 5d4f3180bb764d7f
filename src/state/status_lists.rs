//! Status lists as verifiers fetch them, encoded, signed and kept in memory by each instance.
//!
//! Hospitals and gates fetch status lists far more often than cards change, and encoding a list
//! (zlib) and signing it costs milliseconds. Each instance keeps the published bytes and their
//! ETags, and checks the list's publication head in PostgreSQL at most once per refresh
//! interval, so a change made on any instance shows on every instance within that interval.
//! The publication stamp is taken in PostgreSQL too (see `models::status_list::stamp`), so all
//! instances publish one content under one stamp, and stamps strictly increase. Nothing here is
//! state another instance needs: the database stays the source of truth.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use actix_web::web::Bytes;
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

use crate::credentials::platform_key::PlatformKey;
use crate::credentials::{keys, signed, status_list, status_token};
use crate::crypto::pii::PiiCipher;
use crate::db::{DbError, DbPool};
use crate::error::ApiError;
use crate::models;

/// Why a list could not be published.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// No connection, or a statement failed.
    #[error(transparent)]
    Db(#[from] DbError),
    /// The issuer has no active key to sign its token with (every issuer gets one when
    /// created, and a rotation or withdrawal replaces it in the same transaction).
    #[error("the issuer has no active key")]
    NoActiveKey,
    /// Opening the issuer's key or signing failed.
    #[error("signing a status list: {0}")]
    Signing(String),
    /// The list kept changing under the publisher (other instances stamping): try again.
    #[error("the status list kept changing while it was published")]
    Busy,
}

impl From<diesel::result::Error> for PublishError {
    fn from(error: diesel::result::Error) -> Self {
        PublishError::Db(DbError::Query(error))
    }
}

impl From<PublishError> for ApiError {
    fn from(error: PublishError) -> Self {
        match error {
            PublishError::Db(e) => e.into(),
            PublishError::Busy => ApiError::unavailable(),
            e => ApiError::internal(e.to_string()),
        }
    }
}

/// Seconds verifiers may cache a status list.
pub const TTL_SECS: u32 = 300;

/// A status list: 2 bits a card (0 valid, 1 revoked, 2 suspended).
#[derive(Debug, Serialize, ToSchema)]
pub struct StatusListView {
    /// Issuer code.
    pub issuer: String,
    /// The list's name: the issuer code for its first list, then `XA-1`, `XA-2`, … A
    /// credential's status `uri` ends with it.
    pub list: String,
    /// Always 2.
    pub bits: u8,
    /// base64url(zlib(bytes)); entry i in byte i/4 at bit 2*(i%4).
    pub lst: String,
    /// Seconds a verifier may cache it.
    pub ttl: u32,
    /// The publication stamp of this content: exact, strictly increasing with every published
    /// change of the list (two copies with one stamp hold the same entries), and renewed
    /// at least every half `ttl`, so its age tells a verifier how fresh the copy is.
    pub issued_at: DateTime<Utc>,
}

/// One list, ready to send.
#[derive(Debug)]
pub struct Published {
    /// The JSON view.
    pub json: Bytes,
    /// Its strong ETag.
    pub json_etag: String,
    /// The same view as a compact JWS signed by the platform key (offline bundles).
    pub jws: Bytes,
    /// Its strong ETag.
    pub jws_etag: String,
    /// The Status List Token, signed by the issuer's active key.
    pub token: Bytes,
    /// Its strong ETag.
    pub token_etag: String,
    issued_at: DateTime<Utc>,
    /// The issuer key that signed `token`.
    kid: String,
}

/// What publishing a list needs: the database, the keys that sign, and the public origin the
/// list's URI is built on.
pub struct Signers<'a> {
    /// The pool.
    pub pool: &'a DbPool,
    /// The platform key (signs the `.jws` form).
    pub platform: &'a PlatformKey,
    /// Opens the issuer keys' sealed seeds.
    pub pii: &'a PiiCipher,
    /// The service's public origin.
    pub base_url: &'a str,
}

struct Entry {
    list: Arc<Published>,
    checked: Instant,
}

/// The instance's published status lists, by (issuer, list number).
pub struct StatusListCache {
    refresh: Duration,
    lists: Mutex<HashMap<(String, i32), Entry>>,
}

/// A strong ETag: a digest of the body.
pub fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", hex::encode(&Sha256::digest(body)[..16]))
}

impl StatusListCache {
    /// An empty cache that re-checks a list after `refresh`.
    pub fn new(refresh: Duration) -> Self {
        StatusListCache {
            refresh,
            lists: Mutex::new(HashMap::new()),
        }
    }

    fn cached(&self, key: &(String, i32)) -> Option<(Arc<Published>, bool)> {
        let lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        lists
            .get(key)
            .map(|e| (e.list.clone(), e.checked.elapsed() < self.refresh))
    }

    /// Keeps `list` unless a newer publication is cached already (two requests may finish
    /// out of order): the copy served never goes back.
    fn store(&self, key: (String, i32), list: Arc<Published>) {
        let mut lists = self.lists.lock().unwrap_or_else(PoisonError::into_inner);
        if lists
            .get(&key)
            .is_some_and(|cached| cached.list.issued_at > list.issued_at)
        {
            return;
        }
        lists.insert(
            key,
            Entry {
                list,
                checked: Instant::now(),
            },
        );
    }

    /// List `list_no` of `issuer` as published at `now`, or `None` when it does not exist.
    ///
    /// A copy is served while this instance checked it within the refresh interval and its
    /// stamp is younger than half the TTL; otherwise the database says whether the stamp
    /// still names the current bits, and a new stamp is taken when it does not (or it aged),
    /// at most one a second: a change in the second after a stamp shows from the next second.
    pub async fn get(
        &self,
        signers: &Signers<'_>,
        issuer: &str,
        list_no: i32,
        now: DateTime<Utc>,
    ) -> Result<Option<Arc<Published>>, PublishError> {
        let key = (issuer.to_owned(), list_no);
        let stale_before = now - chrono::Duration::seconds(i64::from(TTL_SECS / 2));
        let cached = self.cached(&key);
        if let Some((list, true)) = &cached
            && list.issued_at > stale_before
        {
            return Ok(Some(list.clone()));
        }
        let mut conn = signers.pool.get().await.map_err(DbError::from)?;
        // A few rounds at most: each ends unless another instance stamped or the list
        // changed between two statements.
        for _ in 0..4 {
            let Some(head) = models::status_list::head(&mut conn, issuer, list_no).await? else {
                return Ok(None);
            };
            let (bits, stamped_at) = if head.restamp_due(now, stale_before) {
                match models::status_list::stamp(&mut conn, issuer, list_no, now, stale_before)
                    .await?
                {
                    Some(stamped) => stamped,
                    None => continue,
                }
            } else {
                // The stamp in force: current, or the newest this second allows.
                if let Some((list, _)) = &cached
                    && list.issued_at == head.stamped_at
                    && head.active_kid.as_deref() == Some(list.kid.as_str())
                {
                    self.store(key, list.clone());
                    return Ok(Some(list.clone()));
                }
                match models::status_list::stamped_bits(&mut conn, issuer, list_no, head.stamped_at)
                    .await?
                {
                    Some(bits) => (bits, head.stamped_at),
                    None => continue,
                }
            };
            // The issuer's active key signs the token; after a rotation or a withdrawal the
            // same content is signed again by the new key (the head names it).
            let signer = models::issuer_key::active(&mut conn, issuer)
                .await?
                .ok_or(PublishError::NoActiveKey)?;
            drop(conn);
            let content = Content {
                issuer,
                list_no,
                bits,
                issued_at: stamped_at,
            };
            let list = Arc::new(publish(signers, &signer, content).await?);
            self.store(key, list.clone());
            return Ok(Some(list));
        }
        Err(PublishError::Busy)
    }
}

/// One content of one list under its stamp.
struct Content<'a> {
    issuer: &'a str,
    list_no: i32,
    bits: Vec<u8>,
    issued_at: DateTime<Utc>,
}

/// Encodes one list content under its stamp and signs it twice (the platform's `.jws`, the
/// issuer's Status List Token): zlib at its best level and two signatures, milliseconds, so
/// off the async workers.
async fn publish(
    signers: &Signers<'_>,
    key: &models::issuer_key::IssuerKey,
    content: Content<'_>,
) -> Result<Published, PublishError> {
    let list_no = u32::try_from(content.list_no).unwrap_or(0);
    let view = StatusListView {
        issuer: content.issuer.to_owned(),
        list: status_list::list_id(content.issuer, list_no),
        bits: 2,
        lst: String::new(),
        ttl: TTL_SECS,
        issued_at: content.issued_at,
    };
    let (platform_kid, platform_der) = (signers.platform.kid.clone(), signers.platform.der.clone());
    let issuer_der = keys::signing_der(&key.kid, &key.private_key_sealed, signers.pii)
        .map_err(|e| PublishError::Signing(e.to_string()))?;
    let kid = key.kid.clone();
    let (base_url, issuer, bits, issued_at) = (
        signers.base_url.to_owned(),
        content.issuer.to_owned(),
        content.bits,
        content.issued_at,
    );
    tokio::task::spawn_blocking(move || -> anyhow::Result<Published> {
        let lst = status_list::encode(&bits);
        let claims = status_token::claims(
            &base_url,
            &issuer,
            list_no,
            lst.clone(),
            issued_at,
            TTL_SECS,
        );
        let token = status_token::sign(&claims, &kid, &issuer_der)?.into_bytes();
        let view = StatusListView { lst, ..view };
        let json = serde_json::to_vec(&view)?;
        let jws = signed::sign(&view, signed::STATUS_LIST_TYP, &platform_kid, &platform_der)?
            .into_bytes();
        Ok(Published {
            json_etag: etag_of(&json),
            json: Bytes::from(json),
            jws_etag: etag_of(&jws),
            jws: Bytes::from(jws),
            token_etag: etag_of(&token),
            token: Bytes::from(token),
            issued_at,
            kid,
        })
    })
    .await
    .map_err(|e| PublishError::Signing(e.to_string()))?
    .map_err(|e| PublishError::Signing(e.to_string()))
}
