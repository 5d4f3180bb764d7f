//! A card's standing where it is presented: live status, the local tier in the district, and
//! the entitlements there with their quota used and left. Shared by partner verification,
//! redemptions and the holder's own entitlement view.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db::schema::{issuers, redemptions};
use crate::domain::recognition::{
    EntitlementRule, Period, Presentation, RecognitionRule, local_tier,
};
use crate::models::card::Card;
use crate::models::policy;

/// One entitlement with its use.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct EntitlementUse {
    /// Service category code.
    pub service: String,
    /// `year`, `month`, `lifetime` or `unlimited`.
    pub period: Period,
    /// The period spans this many years or months.
    pub every: u32,
    /// Uses per period (`null`: unlimited).
    pub quota: Option<u32>,
    /// Used in the current period.
    pub used: i64,
    /// Left in the current period (`null`: unlimited).
    pub remaining: Option<i64>,
    /// Whether a redemption needs the card presented (`presentation_id`) or a number suffices.
    pub presentation: Presentation,
}

/// The live status of a card on `today`: `active`, `suspended`, `revoked` or `expired`.
pub fn live_status(card: &Card, today: NaiveDate) -> &str {
    if card.status != "revoked" && card.valid_until < today {
        "expired"
    } else {
        card.status.as_str()
    }
}

/// The rules in force on `today`.
#[derive(Debug)]
pub struct Policies {
    /// The recognition version (`None`: none published).
    pub recognitions_version: Option<i32>,
    /// The entitlement version.
    pub entitlements_version: Option<i32>,
    /// Recognition rules.
    pub recognitions: Vec<RecognitionRule>,
    /// Entitlement rules.
    pub entitlements: Vec<EntitlementRule>,
}

/// Loads the recognition and entitlement rules in force.
pub async fn policies(conn: &mut AsyncPgConnection, today: NaiveDate) -> QueryResult<Policies> {
    let recognitions = policy::recognitions(conn, today).await?;
    let entitlements = policy::entitlements(conn, today).await?;
    Ok(Policies {
        recognitions_version: recognitions.as_ref().map(|p| p.version),
        entitlements_version: entitlements.as_ref().map(|p| p.version),
        recognitions: recognitions.map(|p| p.rules).unwrap_or_default(),
        entitlements: entitlements.map(|p| p.rules).unwrap_or_default(),
    })
}

/// The parsed rules of the versions last seen in force. Versions are immutable, so a copy is
/// right exactly while its version numbers are the ones in force; a verification reads those
/// numbers in its own query and parses the documents only when they change.
#[derive(Default)]
pub struct PolicyCache(Mutex<Option<Arc<Policies>>>);

impl PolicyCache {
    /// The rules for the versions in force, `(recognitions, entitlements)`, loading them when
    /// the cached copy is of other versions.
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
        let loaded = Arc::new(policies(conn, today).await?);
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Some(loaded.clone());
        Ok(loaded)
    }
}

/// The district of the card's issuer.
pub async fn issuer_district(conn: &mut AsyncPgConnection, issuer: &str) -> QueryResult<String> {
    issuers::table
        .find(issuer)
        .select(issuers::district)
        .first(conn)
        .await
}

/// The tier the card counts as in `district`, if recognised there.
pub fn local_tier_in(
    policies: &Policies,
    card: &Card,
    district: &str,
    issuer_district: &str,
) -> Option<String> {
    local_tier(
        &policies.recognitions,
        &card.scheme,
        &card.tier,
        district,
        issuer_district,
    )
}

/// A holder's uses in one district: (service, period key) → count.
pub type Uses = HashMap<(String, String), i64>;

/// The uses in `district` of the card's holder under the card's scheme, every service and
/// period, in one query. Quotas belong to the holder and scheme, not the card: a renewed or
/// upgraded card (or any other card of the same person and scheme) shares them. Reversed
/// redemptions count nowhere.
pub async fn uses(conn: &mut AsyncPgConnection, card: &Card, district: &str) -> QueryResult<Uses> {
    let rows: Vec<(String, String, i64)> = redemptions::table
        .filter(redemptions::holder_id.eq(card.holder_id))
        .filter(redemptions::scheme.eq(&card.scheme))
        .filter(redemptions::district.eq(district))
        .filter(redemptions::reversed_at.is_null())
        .group_by((redemptions::service, redemptions::period_key))
        .select((
            redemptions::service,
            redemptions::period_key,
            diesel::dsl::count_star(),
        ))
        .load(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(service, period, n)| ((service, period), n))
        .collect())
}

/// The entitlements of `local_tier` in `district` (only `services`, when given), with their
/// use taken from `uses`.
pub fn entitlements_with(
    policies: &Policies,
    local_tier: &str,
    district: &str,
    services: Option<&[String]>,
    today: NaiveDate,
    uses: &Uses,
) -> Vec<EntitlementUse> {
    policies
        .entitlements
        .iter()
        .filter(|r| r.local_tier == local_tier && r.district == district)
        .filter(|r| services.is_none_or(|offered| offered.contains(&r.service)))
        .map(|rule| {
            let used = rule
                .period_key(today)
                .and_then(|key| uses.get(&(rule.service.clone(), key)).copied())
                .unwrap_or(0);
            EntitlementUse {
                service: rule.service.clone(),
                period: rule.period,
                every: rule.every,
                quota: rule.quota,
                used,
                remaining: rule.quota.map(|q| (i64::from(q) - used).max(0)),
                presentation: rule.presentation,
            }
        })
        .collect()
}

/// The entitlements of `local_tier` in `district` (only `services`, when given), with use.
pub async fn entitlements(
    conn: &mut AsyncPgConnection,
    policies: &Policies,
    card: &Card,
    local_tier: &str,
    district: &str,
    services: Option<&[String]>,
    today: NaiveDate,
) -> QueryResult<Vec<EntitlementUse>> {
    let uses = uses(conn, card, district).await?;
    Ok(entitlements_with(
        policies, local_tier, district, services, today, &uses,
    ))
}
