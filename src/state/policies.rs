//! The recognition and entitlement rules of the versions last seen in force, parsed once.
//!
//! Versions are immutable, so a copy is right exactly while its version numbers are the ones
//! in force: every reader learns those numbers in its own query (the standing lookups return
//! them beside the card) and the documents are loaded and parsed again only when they change.
//! A policy published on any instance is therefore seen by every instance on its next check.
//!
//! A partner's check does not even ask for the versions: [`PolicyCache::current`] serves the
//! copy made under the current generation of [`Invalidation`] for the same day (a publication
//! anywhere moves the generation; a version taking effect tomorrow is read tomorrow).

use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use super::invalidation::Invalidation;
use crate::db::{DbError, DbPool};
use crate::domain::standing::Policies;
use crate::models::policy;

/// The parsed rules of the versions last seen in force, and the generation and day they were
/// last confirmed in force for.
#[derive(Default)]
pub struct PolicyCache(Mutex<Option<Cached>>);

struct Cached {
    policies: Arc<Policies>,
    confirmed: Option<(u64, NaiveDate)>,
}

impl PolicyCache {
    /// The rules of the versions `in_force` (`(recognitions, entitlements)`), loading those in
    /// force on `today` when the cached copy is of other versions.
    pub async fn get(
        &self,
        conn: &mut AsyncPgConnection,
        today: NaiveDate,
        in_force: (Option<i32>, Option<i32>),
    ) -> QueryResult<Arc<Policies>> {
        let cached = self
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
            .map(|c| c.policies.clone())
            .filter(|p| (p.recognitions_version, p.entitlements_version) == in_force);
        if let Some(policies) = cached {
            return Ok(policies);
        }
        let loaded = Arc::new(load(conn, today).await?);
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(Cached {
            policies: loaded.clone(),
            confirmed: None,
        });
        Ok(loaded)
    }

    /// The rules in force on `today` without a statement while nothing changed: the copy
    /// confirmed under the current generation for `today`, else confirmed now (the versions
    /// read, the documents only when they changed).
    pub async fn current(
        &self,
        invalidation: &Invalidation,
        pool: &DbPool,
        today: NaiveDate,
    ) -> Result<Arc<Policies>, DbError> {
        let generation = invalidation.current();
        if let Some(generation) = generation {
            let confirmed = self
                .0
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .as_ref()
                .filter(|c| c.confirmed == Some((generation, today)))
                .map(|c| c.policies.clone());
            if let Some(policies) = confirmed {
                return Ok(policies);
            }
        }
        let mut conn = pool.get().await?;
        let policies = self.in_force(&mut conn, today).await?;
        if let Some(generation) = generation {
            let mut slot = self.0.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(cached) = slot
                .as_mut()
                .filter(|c| Arc::ptr_eq(&c.policies, &policies))
            {
                cached.confirmed = Some((generation, today));
            }
        }
        Ok(policies)
    }

    /// The rules in force on `today` when the caller has not read their versions already
    /// (one small statement, then the cached copy while it is of those versions).
    pub async fn in_force(
        &self,
        conn: &mut AsyncPgConnection,
        today: NaiveDate,
    ) -> QueryResult<Arc<Policies>> {
        let versions = policy::versions_in_force(conn, today).await?;
        self.get(conn, today, versions).await
    }
}

/// The recognition and entitlement rules in force on `today`.
async fn load(conn: &mut AsyncPgConnection, today: NaiveDate) -> QueryResult<Policies> {
    let recognitions = policy::recognitions(conn, today).await?;
    let entitlements = policy::entitlements(conn, today).await?;
    Ok(Policies {
        recognitions_version: recognitions.as_ref().map(|p| p.version),
        entitlements_version: entitlements.as_ref().map(|p| p.version),
        recognitions: recognitions.map(|p| p.rules).unwrap_or_default(),
        entitlements: entitlements.map(|p| p.rules).unwrap_or_default(),
    })
}
