//! A card's standing where it is presented: live status, the local tier in the district, and
//! the entitlements there with their quota used and left. Shared by partner verification,
//! redemptions and the holder's own entitlement view.

use chrono::NaiveDate;
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::{issuers, redemptions};
use crate::domain::recognition::{EntitlementRule, Period, RecognitionRule, local_tier};
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
pub struct Policies {
    /// Recognition rules.
    pub recognitions: Vec<RecognitionRule>,
    /// Entitlement rules.
    pub entitlements: Vec<EntitlementRule>,
}

/// Loads the recognition and entitlement rules in force.
pub async fn policies(conn: &mut AsyncPgConnection, today: NaiveDate) -> QueryResult<Policies> {
    Ok(Policies {
        recognitions: policy::recognitions(conn, today)
            .await?
            .map(|p| p.rules)
            .unwrap_or_default(),
        entitlements: policy::entitlements(conn, today)
            .await?
            .map(|p| p.rules)
            .unwrap_or_default(),
    })
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

/// Uses of `service` by the card in `district` during the period `period_key`.
pub async fn used(
    conn: &mut AsyncPgConnection,
    card_id: Uuid,
    district: &str,
    service: &str,
    period_key: &str,
) -> QueryResult<i64> {
    redemptions::table
        .filter(redemptions::card_id.eq(card_id))
        .filter(redemptions::district.eq(district))
        .filter(redemptions::service.eq(service))
        .filter(redemptions::period_key.eq(period_key))
        .count()
        .get_result(conn)
        .await
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
    let mut out = Vec::new();
    for rule in policies
        .entitlements
        .iter()
        .filter(|r| r.local_tier == local_tier && r.district == district)
    {
        if services.is_some_and(|offered| !offered.contains(&rule.service)) {
            continue;
        }
        let used = match rule.period_key(today, card.valid_from) {
            Some(key) => used(conn, card.id, district, &rule.service, &key).await?,
            None => 0,
        };
        let remaining = rule.quota.map(|q| (i64::from(q) - used).max(0));
        out.push(EntitlementUse {
            service: rule.service.clone(),
            period: rule.period,
            every: rule.every,
            quota: rule.quota,
            used,
            remaining,
        });
    }
    Ok(out)
}
