//! Hand-written statements that diesel's statement cache may keep. diesel never caches raw SQL
//! (`sql_query`, `sql()` fragments), so such a statement is parsed and planned on every call;
//! on the verification path that was as much time in PostgreSQL as running it. These types
//! give diesel a static query id, so each connection prepares them once.

use chrono::{DateTime, Utc};
use diesel::QueryResult;
use diesel::pg::Pg;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Bool, Nullable, SmallInt, Text, Timestamptz, Untyped};
use uuid::Uuid;

/// Counts a verification against its agency's limit, counts an `unknown` answer to a check by
/// number, refuses a check by number once the agency's unknown answers of the hour reached
/// their limit, and records the check when neither limit refused it: one statement, one round
/// trip (see `models::verification::record`).
pub struct RecordVerification<'a> {
    /// The agency.
    pub agency_id: Uuid,
    /// The minute counted.
    pub window: DateTime<Utc>,
    /// The counter shard bumped.
    pub shard: i16,
    /// The record's id.
    pub id: Uuid,
    /// The card, when found.
    pub card_id: Option<Uuid>,
    /// The agency's district.
    pub district: &'a str,
    /// `card_number`, `credential`, `presentation` or `presentation_code`.
    pub method: &'a str,
    /// The answer.
    pub valid: bool,
    /// Whether the presenter was proved to be the holder (a key-bound presentation or a
    /// dynamic code).
    pub holder_bound: bool,
    /// The status answered.
    pub status: &'a str,
    /// The local tier answered.
    pub local_tier: Option<&'a str>,
    /// When.
    pub at: DateTime<Utc>,
    /// The limit per minute.
    pub per_minute: i64,
    /// The hour whose unknown answers are counted.
    pub hour: DateTime<Utc>,
    /// Unknown answers to checks by number an agency may get in an hour.
    pub unknown_per_hour: i64,
}

impl QueryFragment<Pg> for RecordVerification<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // diesel numbers each bind as it is pushed, so the parameters are named once, in `p`.
        out.push_sql("WITH p AS (SELECT ");
        out.push_bind_param::<diesel::sql_types::Uuid, _>(&self.agency_id)?;
        out.push_sql("::uuid AS agency_id, ");
        out.push_bind_param::<Timestamptz, _>(&self.window)?;
        out.push_sql("::timestamptz AS window_start, ");
        out.push_bind_param::<SmallInt, _>(&self.shard)?;
        out.push_sql("::smallint AS shard, ");
        out.push_bind_param::<diesel::sql_types::Uuid, _>(&self.id)?;
        out.push_sql("::uuid AS id, ");
        out.push_bind_param::<Nullable<diesel::sql_types::Uuid>, _>(&self.card_id)?;
        out.push_sql("::uuid AS card_id, ");
        out.push_bind_param::<Text, _>(&self.district)?;
        out.push_sql("::text AS district, ");
        out.push_bind_param::<Text, _>(&self.method)?;
        out.push_sql("::text AS method, ");
        out.push_bind_param::<Bool, _>(&self.valid)?;
        out.push_sql("::boolean AS valid, ");
        out.push_bind_param::<Bool, _>(&self.holder_bound)?;
        out.push_sql("::boolean AS holder_bound, ");
        out.push_bind_param::<Text, _>(&self.status)?;
        out.push_sql("::text AS status, ");
        out.push_bind_param::<Nullable<Text>, _>(&self.local_tier)?;
        out.push_sql("::text AS local_tier, ");
        out.push_bind_param::<Timestamptz, _>(&self.at)?;
        out.push_sql("::timestamptz AS at, ");
        out.push_bind_param::<BigInt, _>(&self.per_minute)?;
        out.push_sql("::bigint AS per_minute, ");
        out.push_bind_param::<Timestamptz, _>(&self.hour)?;
        out.push_sql("::timestamptz AS hour, ");
        out.push_bind_param::<BigInt, _>(&self.unknown_per_hour)?;
        out.push_sql(
            "::bigint AS unknown_per_hour
            ), bump AS (
                INSERT INTO agency_rate_windows (agency_id, window_start, shard, count)
                SELECT agency_id, window_start, shard, 1 FROM p
                ON CONFLICT (agency_id, window_start, shard)
                DO UPDATE SET count = agency_rate_windows.count + 1
                RETURNING count
            ), total AS (
                SELECT (SELECT count FROM bump) + coalesce((
                    SELECT sum(r.count) FROM agency_rate_windows r, p
                    WHERE r.agency_id = p.agency_id AND r.window_start = p.window_start
                      AND r.shard <> p.shard), 0) AS n
            ), seen AS (
                SELECT coalesce((
                    SELECT u.count FROM agency_unknown_windows u, p
                    WHERE u.agency_id = p.agency_id AND u.window_start = p.hour), 0)::bigint
                    AS before
            ), verdict AS (
                SELECT total.n <= p.per_minute AS within,
                       p.method = 'card_number' AND seen.before >= p.unknown_per_hour AS refused
                  FROM p, total, seen
            ), unknown_bump AS (
                INSERT INTO agency_unknown_windows (agency_id, window_start, count)
                SELECT p.agency_id, p.hour, 1 FROM p, verdict
                 WHERE p.method = 'card_number' AND p.status = 'unknown'
                   AND verdict.within AND NOT verdict.refused
                ON CONFLICT (agency_id, window_start)
                DO UPDATE SET count = agency_unknown_windows.count + 1
                RETURNING count
            ), logged AS (
                INSERT INTO verifications (id, card_id, agency_id, district, method, valid,
                                           status, local_tier, verified_at, holder_bound)
                SELECT p.id, p.card_id, p.agency_id, p.district, p.method, p.valid, p.status,
                       p.local_tier, p.at, p.holder_bound
                  FROM p, verdict WHERE verdict.within AND NOT verdict.refused
            )
            SELECT total.n, verdict.refused,
                   EXISTS (SELECT 1 FROM unknown_bump) AS counted_unknown,
                   coalesce((SELECT count FROM unknown_bump)::bigint, seen.before) AS unknown
              FROM total, verdict, seen",
        );
        Ok(())
    }
}

impl QueryId for RecordVerification<'_> {
    type QueryId = RecordVerification<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RecordVerification<'_> {
    type SqlType = Untyped;
}
