//! The record of each verification, written in batches (`crate::verification_log` commits
//! every check waiting at once) together with the agencies' rate-limit counts (and, for an
//! `unknown` answer by number, the enumeration count) in one statement. The record's id is the
//! `presentation_id` a valid check of the card shown answers.

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::db::schema::{agencies, verifications};

/// Counter rows per agency and minute. Each batch bumps one shard at random and reads the
/// others, so instances writing batches at once do not queue on one row. Within a batch the
/// checks are numbered, and batches of one instance follow each other, so one instance counts
/// exactly; a batch of another instance not yet committed is missed, so a burst across
/// instances can pass the limit by at most that batch (`partners.log_batch_max_rows`).
pub const SHARDS: u8 = 8;

/// One verification, as the holder's log shows it.
#[derive(Debug, Clone)]
pub struct Record {
    /// The record's id (the `presentation_id` of a valid check of the card shown).
    pub id: Uuid,
    /// The checking agency.
    pub agency_id: Uuid,
    /// Its district.
    pub district: String,
    /// The card, when found.
    pub card_id: Option<Uuid>,
    /// How the card was shown.
    pub method: &'static str,
    /// The answer.
    pub valid: bool,
    /// Whether the presenter was proved to be the holder.
    pub holder_bound: bool,
    /// The status answered.
    pub status: String,
    /// The local tier answered.
    pub local_tier: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// What the statement decided about one check.
#[derive(Debug, Clone, QueryableByName)]
pub struct Outcome {
    /// The check's place in its batch (1-based).
    #[diesel(sql_type = BigInt)]
    pub ord: i64,
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

/// Counts each check of `batch` against its agency's limits and records those neither limit
/// refuses, in one statement; one [`Outcome`] per record, in order. The minute and hour are
/// those of `at` (the batch's first check): a batch is a few milliseconds long.
pub async fn record_batch(
    conn: &mut AsyncPgConnection,
    batch: &[Record],
    limits: Limits,
    at: DateTime<Utc>,
) -> diesel::QueryResult<Vec<Outcome>> {
    let window = DateTime::from_timestamp(at.timestamp().div_euclid(60) * 60, 0).unwrap_or(at);
    let shard = i16::from(crate::crypto::random::bytes::<1>()[0] % SHARDS);
    let ids: Vec<Uuid> = batch.iter().map(|r| r.id).collect();
    let card_ids: Vec<Option<Uuid>> = batch.iter().map(|r| r.card_id).collect();
    let agency_ids: Vec<Uuid> = batch.iter().map(|r| r.agency_id).collect();
    let districts: Vec<String> = batch.iter().map(|r| r.district.clone()).collect();
    let methods: Vec<&'static str> = batch.iter().map(|r| r.method).collect();
    let valid: Vec<bool> = batch.iter().map(|r| r.valid).collect();
    let holder_bound: Vec<bool> = batch.iter().map(|r| r.holder_bound).collect();
    let statuses: Vec<String> = batch.iter().map(|r| r.status.clone()).collect();
    let local_tiers: Vec<Option<String>> = batch.iter().map(|r| r.local_tier.clone()).collect();
    let at_each: Vec<DateTime<Utc>> = batch.iter().map(|r| r.at).collect();
    crate::models::prepared::RecordVerifications {
        ids: &ids,
        card_ids: &card_ids,
        agency_ids: &agency_ids,
        districts: &districts,
        methods: &methods,
        valid: &valid,
        holder_bound: &holder_bound,
        statuses: &statuses,
        local_tiers: &local_tiers,
        at: &at_each,
        window,
        shard,
        per_minute: limits.per_minute,
        hour: hour_of(at),
        unknown_per_hour: limits.unknown_per_hour,
    }
    .load(conn)
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
