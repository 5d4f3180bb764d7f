//! The record of each verification, written together with the agency's rate-limit count in
//! one statement: a busy hospital's check costs one write, not two.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::sql_types::{BigInt, Bool, Nullable, SmallInt, Text, Timestamptz, Uuid as SqlUuid};
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

const RECORD: &str = "\
WITH bump AS (
    INSERT INTO agency_rate_windows (agency_id, window_start, shard, count)
    VALUES ($1, $2, $3, 1)
    ON CONFLICT (agency_id, window_start, shard)
    DO UPDATE SET count = agency_rate_windows.count + 1
    RETURNING count
), total AS (
    SELECT (SELECT count FROM bump) + coalesce((
        SELECT sum(count) FROM agency_rate_windows
        WHERE agency_id = $1 AND window_start = $2 AND shard <> $3), 0) AS n
), logged AS (
    INSERT INTO verifications
        (id, card_id, agency_id, district, method, valid, status, local_tier, verified_at)
    SELECT $4, $5, $1, $6, $7, $8, $9, $10, $11 FROM total WHERE n <= $12
)
SELECT n FROM total";

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
    let counted: Counted = diesel::sql_query(RECORD)
        .bind::<SqlUuid, _>(record.agency_id)
        .bind::<Timestamptz, _>(window)
        .bind::<SmallInt, _>(shard)
        .bind::<SqlUuid, _>(Uuid::now_v7())
        .bind::<Nullable<SqlUuid>, _>(record.card_id)
        .bind::<Text, _>(record.district)
        .bind::<Text, _>(record.method)
        .bind::<Bool, _>(record.valid)
        .bind::<Text, _>(record.status)
        .bind::<Nullable<Text>, _>(record.local_tier)
        .bind::<Timestamptz, _>(record.at)
        .bind::<BigInt, _>(per_minute)
        .get_result(conn)
        .await?;
    Ok(counted.n <= per_minute)
}
