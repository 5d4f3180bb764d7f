//! The record of each verification, written together with the agency's rate-limit count (and,
//! for an `unknown` answer by number, its enumeration count) in one statement: a busy
//! hospital's check costs one write, not two. The record's id is the `presentation_id` a valid
//! check by credential answers.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::{agencies, verifications};

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
    /// `card_number`, `credential`, `presentation` or `presentation_code`.
    pub method: &'a str,
    /// The answer.
    pub valid: bool,
    /// Whether the presenter was proved to be the holder.
    pub holder_bound: bool,
    /// The status answered.
    pub status: &'a str,
    /// The local tier answered.
    pub local_tier: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What the statement decided about one check.
#[derive(Debug, QueryableByName)]
pub struct Outcome {
    /// The agency's checks this minute, this one included.
    #[diesel(sql_type = BigInt)]
    pub n: i64,
    /// A check by number refused: the agency's unknown answers of the hour reached the limit
    /// (nothing was recorded).
    #[diesel(sql_type = Bool)]
    pub refused: bool,
    /// This answer was `unknown` by number and was counted.
    #[diesel(sql_type = Bool)]
    pub counted_unknown: bool,
    /// The agency's unknown answers this hour, this one included.
    #[diesel(sql_type = BigInt)]
    pub unknown: i64,
}

/// The limits a check is counted against.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Checks per agency and minute.
    pub per_minute: i64,
    /// Unknown answers by number per agency and hour before checks by number are refused.
    pub unknown_per_hour: i64,
}

/// The start of the hour `at` falls in: the window unknown answers are counted in.
pub fn hour_of(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp().div_euclid(3600) * 3600, 0).unwrap_or(at)
}

/// Counts the check against the agency's limits and records it (under `id`) when neither
/// refuses it, in one statement; see [`Outcome`].
pub async fn record(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    record: &Record<'_>,
    limits: Limits,
) -> diesel::QueryResult<Outcome> {
    let window =
        DateTime::from_timestamp(record.at.timestamp().div_euclid(60) * 60, 0).unwrap_or(record.at);
    let shard = i16::from(crate::crypto::random::bytes::<1>()[0] % SHARDS);
    crate::models::prepared::RecordVerification {
        agency_id: record.agency_id,
        window,
        shard,
        id,
        card_id: record.card_id,
        district: record.district,
        method: record.method,
        valid: record.valid,
        holder_bound: record.holder_bound,
        status: record.status,
        local_tier: record.local_tier,
        at: record.at,
        per_minute: limits.per_minute,
        hour: hour_of(record.at),
        unknown_per_hour: limits.unknown_per_hour,
    }
    .get_result(conn)
    .await
}

/// One check of the card by a partner agency.
#[derive(Debug, Serialize, ToSchema, Queryable)]
pub struct VerificationRecord {
    /// The row's id: only the page cursor needs it.
    #[serde(skip)]
    pub id: Uuid,
    /// When.
    pub verified_at: DateTime<Utc>,
    /// The agency's name.
    pub agency: String,
    /// Its district.
    pub district: String,
    /// `card_number`, `credential`, `presentation` (credential with a key-binding JWT) or
    /// `presentation_code` (a dynamic code).
    pub method: String,
    /// Whether the card was valid.
    pub valid: bool,
    /// Whether the presenter was proved to be the holder (a key-bound presentation or a
    /// dynamic code), not just someone holding a copy of the QR code.
    pub holder_bound: bool,
    /// The status seen.
    pub status: String,
    /// The local tier it counted as.
    pub local_tier: Option<String>,
}

/// A page of the checks of card `card_id`, newest first, after the cursor `(at, id)` when
/// given: at most `limit` rows (the caller asks for one more than it shows, to know whether a
/// next page exists).
pub async fn of_card(
    conn: &mut AsyncPgConnection,
    card_id: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: i64,
) -> diesel::QueryResult<Vec<VerificationRecord>> {
    let query = verifications::table
        .inner_join(agencies::table)
        .filter(verifications::card_id.eq(card_id))
        .into_boxed();
    let query = match after {
        Some((at, id)) => query.filter(
            verifications::verified_at
                .lt(at)
                .or(verifications::verified_at
                    .eq(at)
                    .and(verifications::id.lt(id))),
        ),
        None => query,
    };
    query
        .order((verifications::verified_at.desc(), verifications::id.desc()))
        .limit(limit)
        .select((
            verifications::id,
            verifications::verified_at,
            agencies::name,
            verifications::district,
            verifications::method,
            verifications::valid,
            verifications::holder_bound,
            verifications::status,
            verifications::local_tier,
        ))
        .load(conn)
        .await
}
