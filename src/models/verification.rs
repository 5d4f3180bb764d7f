//! The record of each verification, written together with the agency's rate-limit count in
//! one statement: a busy hospital's check costs one write, not two.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::BigInt;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

/// Counter rows per agency and minute. One row made every concurrent check of an agency wait
/// for the previous one's commit; each check now bumps one shard at random and reads the
/// others. Checks that do not overlap are counted exactly; overlapping ones may each miss the
/// others still in flight, so a burst can pass the limit by at most the checks in flight.
pub const SHARDS: u8 = 8;

/// One verification, as the holder's log shows it.
#[derive(Debug)]
pub struct Record<'a> {
    /// The checking agency.
    pub agency_id: Uuid,
    /// Its district.
    pub district: &'a str,
    /// The card, when found.
    pub card_id: Option<Uuid>,
    /// `card_number` or `credential`.
    pub method: &'a str,
    /// The answer.
    pub valid: bool,
    /// The status answered.
    pub status: &'a str,
    /// The local tier answered.
    pub local_tier: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
}

#[derive(QueryableByName)]
struct Counted {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Counts the check against the agency's limit for the current minute and records it when
/// within `per_minute`; answers whether it was.
pub async fn record(
    conn: &mut AsyncPgConnection,
    record: &Record<'_>,
    per_minute: i64,
) -> diesel::QueryResult<bool> {
    let window =
        DateTime::from_timestamp(record.at.timestamp().div_euclid(60) * 60, 0).unwrap_or(record.at);
    let shard = i16::from(crate::crypto::random::bytes::<1>()[0] % SHARDS);
    let counted: Counted = crate::models::prepared::RecordVerification {
        agency_id: record.agency_id,
        window,
        shard,
        id: Uuid::now_v7(),
        card_id: record.card_id,
        district: record.district,
        method: record.method,
        valid: record.valid,
        status: record.status,
        local_tier: record.local_tier,
        at: record.at,
        per_minute,
    }
    .get_result(conn)
    .await?;
    Ok(counted.n <= per_minute)
}
