//! The recognition and entitlement rules of the versions last seen in force, parsed once.
//!
//! Versions are immutable, so a copy is right exactly while its version numbers are the ones
//! in force: every reader learns those numbers in its own query (the standing lookups return
//! them beside the card) and the documents are loaded and parsed again only when they change.
//! A policy published on any instance is therefore seen by every instance on its next check.

use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use diesel::QueryResult;
use diesel_async::AsyncPgConnection;

use crate::domain::standing::Policies;
use crate::models::policy;

/// The parsed rules of the versions last seen in force.
#[derive(Default)]
pub struct PolicyCache(Mutex<Option<Arc<Policies>>>);

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
            .clone()
            .filter(|p| (p.recognitions_version, p.entitlements_version) == in_force);
        if let Some(policies) = cached {
            return Ok(policies);
        }
        let loaded = Arc::new(load(conn, today).await?);
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(loaded.clone());
        Ok(loaded)
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
