//! Who may call and whose signatures count, in memory: the live agency clients with their
//! agencies, the issuer keys not withdrawn, and the district of each issuer. A partner's check
//! used to read its client and the credential's key in statements of their own; now it reads
//! neither.
//!
//! One snapshot holds all three (they are small and change seldom), made under a generation of
//! [`Invalidation`]: any change to those tables anywhere moves the generation, and the next
//! reader makes a new snapshot. While the generation cannot be trusted (the listener is down)
//! every read goes to PostgreSQL, one row at a time.
//!
//! What the snapshot does not hold is looked up in PostgreSQL before it is refused: a client
//! created or a key rotated on another instance a moment ago is not yet in this instance's
//! snapshot, and must not be refused for it. What the snapshot holds but was revoked or
//! withdrawn elsewhere is refused once the notification arrives (milliseconds; see
//! [`super::invalidation`]).

use std::collections::HashMap;
use std::sync::{Arc, PoisonError, RwLock};

use uuid::Uuid;

use super::invalidation::Invalidation;
use crate::db::{DbError, DbPool};
use crate::models::agency::{self, Agency};
use crate::models::issuer_key::{self, TrustedKey};
use crate::models::reference;

/// The shared data a partner's check reads, as of one generation.
#[derive(Debug, Default)]
struct Directory {
    clients: HashMap<Uuid, Agency>,
    keys: HashMap<String, Arc<TrustedKey>>,
    issuer_districts: HashMap<String, String>,
}

/// The instance's snapshot and the generation it was made under.
#[derive(Debug, Default)]
pub struct DirectoryCache {
    snapshot: RwLock<Option<(u64, Arc<Directory>)>>,
    loading: tokio::sync::Mutex<()>,
}

impl DirectoryCache {
    /// The agency of live client `client_id`, or `None` when it is revoked or unknown.
    pub async fn agency_client(
        &self,
        invalidation: &Invalidation,
        pool: &DbPool,
        client_id: Uuid,
    ) -> Result<Option<Agency>, DbError> {
        if let Some(directory) = self.current(invalidation, pool).await?
            && let Some(agency) = directory.clients.get(&client_id)
        {
            return Ok(Some(agency.clone()));
        }
        let mut conn = pool.get().await?;
        Ok(agency::live_client(&mut conn, client_id)
            .await?
            .map(|(agency, _)| agency))
    }

    /// Key `kid` when it is not withdrawn.
    pub async fn key(
        &self,
        invalidation: &Invalidation,
        pool: &DbPool,
        kid: &str,
    ) -> Result<Option<Arc<TrustedKey>>, DbError> {
        if let Some(directory) = self.current(invalidation, pool).await?
            && let Some(key) = directory.keys.get(kid)
        {
            return Ok(Some(key.clone()));
        }
        let mut conn = pool.get().await?;
        Ok(issuer_key::trusted(&mut conn, Some(kid))
            .await?
            .into_iter()
            .next()
            .map(Arc::new))
    }

    /// The district issuer `code` sits in.
    pub async fn issuer_district(
        &self,
        invalidation: &Invalidation,
        pool: &DbPool,
        code: &str,
    ) -> Result<Option<String>, DbError> {
        if let Some(directory) = self.current(invalidation, pool).await?
            && let Some(district) = directory.issuer_districts.get(code)
        {
            return Ok(Some(district.clone()));
        }
        let mut conn = pool.get().await?;
        Ok(reference::find_issuer(&mut conn, code)
            .await?
            .map(|issuer| issuer.district))
    }

    /// The snapshot of the current generation, made now when there is none; `None` while the
    /// generation cannot be trusted.
    async fn current(
        &self,
        invalidation: &Invalidation,
        pool: &DbPool,
    ) -> Result<Option<Arc<Directory>>, DbError> {
        let Some(generation) = invalidation.current() else {
            return Ok(None);
        };
        if let Some(directory) = self.cached(generation) {
            return Ok(Some(directory));
        }
        // One load at a time: a burst of checks after a change waits for one snapshot rather
        // than each making its own.
        let _loading = self.loading.lock().await;
        let Some(generation) = invalidation.current() else {
            return Ok(None);
        };
        if let Some(directory) = self.cached(generation) {
            return Ok(Some(directory));
        }
        let directory = Arc::new(load(pool).await?);
        *self
            .snapshot
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some((generation, directory.clone()));
        Ok(Some(directory))
    }

    fn cached(&self, generation: u64) -> Option<Arc<Directory>> {
        self.snapshot
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .filter(|(made_under, _)| *made_under == generation)
            .map(|(_, directory)| directory.clone())
    }
}

async fn load(pool: &DbPool) -> Result<Directory, DbError> {
    let mut conn = pool.get().await?;
    let clients = agency::live_clients(&mut conn).await?.into_iter().collect();
    let keys = issuer_key::trusted(&mut conn, None)
        .await?
        .into_iter()
        .map(|key| (key.kid.clone(), Arc::new(key)))
        .collect();
    let issuer_districts = reference::list_issuers(&mut conn)
        .await?
        .into_iter()
        .map(|issuer| (issuer.code, issuer.district))
        .collect();
    Ok(Directory {
        clients,
        keys,
        issuer_districts,
    })
}
