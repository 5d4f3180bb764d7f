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

/// Records a batch of verifications (the group commit of `verification_log`) with their
/// agencies' limits, in one statement: each agency's count of the minute is bumped by its rows
/// in the batch, and each row is numbered within its agency, so the row that passes the limit
/// is known without a statement of its own; an `unknown` answer to a check by number is
/// counted for the hour, and a check by number is refused once the agency's unknown answers
/// reached their limit. Rows neither limit refused are logged. One result row per input row,
/// by `ord` (1-based, the order given).
pub struct RecordVerifications<'a> {
    /// The records' ids.
    pub ids: &'a [Uuid],
    /// The cards, when found.
    pub card_ids: &'a [Option<Uuid>],
    /// The agencies.
    pub agency_ids: &'a [Uuid],
    /// The agencies' districts.
    pub districts: &'a [String],
    /// `card_number`, `credential`, `presentation` or `presentation_code`.
    pub methods: &'a [&'static str],
    /// The answers.
    pub valid: &'a [bool],
    /// Whether each presenter was proved to be the holder.
    pub holder_bound: &'a [bool],
    /// The statuses answered.
    pub statuses: &'a [String],
    /// The local tiers answered.
    pub local_tiers: &'a [Option<String>],
    /// When each check was made.
    pub at: &'a [DateTime<Utc>],
    /// The minute counted.
    pub window: DateTime<Utc>,
    /// The counter shard bumped.
    pub shard: i16,
    /// The limit per minute.
    pub per_minute: i64,
    /// The hour whose unknown answers are counted.
    pub hour: DateTime<Utc>,
    /// Unknown answers to checks by number an agency may get in an hour.
    pub unknown_per_hour: i64,
}

impl QueryFragment<Pg> for RecordVerifications<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        use diesel::sql_types::{Array, Uuid as SqlUuid};
        out.push_sql("WITH r AS (SELECT * FROM unnest(");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Nullable<SqlUuid>>, _>(&self.card_ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<SqlUuid>, _>(&self.agency_ids)?;
        out.push_sql("::uuid[], ");
        out.push_bind_param::<Array<Text>, _>(&self.districts)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Text>, _>(&self.methods)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Bool>, _>(&self.valid)?;
        out.push_sql("::boolean[], ");
        out.push_bind_param::<Array<Bool>, _>(&self.holder_bound)?;
        out.push_sql("::boolean[], ");
        out.push_bind_param::<Array<Text>, _>(&self.statuses)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Nullable<Text>>, _>(&self.local_tiers)?;
        out.push_sql("::text[], ");
        out.push_bind_param::<Array<Timestamptz>, _>(&self.at)?;
        out.push_sql(
            "::timestamptz[]) WITH ORDINALITY AS r(id, card_id, agency_id, district, method,
                 valid, holder_bound, status, local_tier, at, ord)
            ), p AS (SELECT ",
        );
        out.push_bind_param::<Timestamptz, _>(&self.window)?;
        out.push_sql("::timestamptz AS window_start, ");
        out.push_bind_param::<SmallInt, _>(&self.shard)?;
        out.push_sql("::smallint AS shard, ");
        out.push_bind_param::<BigInt, _>(&self.per_minute)?;
        out.push_sql("::bigint AS per_minute, ");
        out.push_bind_param::<Timestamptz, _>(&self.hour)?;
        out.push_sql("::timestamptz AS hour, ");
        out.push_bind_param::<BigInt, _>(&self.unknown_per_hour)?;
        out.push_sql(
            "::bigint AS unknown_per_hour
            ), per_agency AS (
                SELECT agency_id, count(*) AS n FROM r GROUP BY agency_id
            ), bump AS (
                -- In agency order, so two batches bumping the same agencies cannot deadlock.
                INSERT INTO agency_rate_windows (agency_id, window_start, shard, count)
                SELECT a.agency_id, p.window_start, p.shard, a.n FROM per_agency a, p
                 ORDER BY a.agency_id
                ON CONFLICT (agency_id, window_start, shard)
                DO UPDATE SET count = agency_rate_windows.count + excluded.count
                RETURNING agency_id, count
            ), before AS MATERIALIZED (
                -- Materialized: inlined, the sum over the other shards ran twice per row of
                -- the batch (a scan of the counters each time) instead of once per agency.
                SELECT b.agency_id,
                       b.count::bigint - a.n + coalesce((
                           SELECT sum(w.count) FROM agency_rate_windows w, p
                            WHERE w.agency_id = b.agency_id AND w.window_start = p.window_start
                              AND w.shard <> p.shard), 0)::bigint AS counted,
                       coalesce(u.count, 0)::bigint AS unknown
                  FROM bump b
                  JOIN per_agency a ON a.agency_id = b.agency_id
                  CROSS JOIN p
                  LEFT JOIN agency_unknown_windows u
                    ON u.agency_id = b.agency_id AND u.window_start = p.hour
            ), numbered AS (
                SELECT r.*, b.counted + row_number() OVER per_agency_in_order AS n,
                       b.counted + row_number() OVER per_agency_in_order <= p.per_minute
                           AS within,
                       r.method = 'card_number' AND r.status = 'unknown' AS unknown_by_number,
                       b.unknown AS unknown_before_batch
                  FROM r JOIN before b ON b.agency_id = r.agency_id CROSS JOIN p
                WINDOW per_agency_in_order AS (PARTITION BY r.agency_id ORDER BY r.ord)
            ), judged AS (
                SELECT numbered.*,
                       numbered.unknown_before_batch + count(*) FILTER (
                           WHERE numbered.unknown_by_number AND numbered.within) OVER (
                           PARTITION BY numbered.agency_id ORDER BY numbered.ord
                           ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS unknown_before
                  FROM numbered
            ), verdict AS (
                SELECT judged.*,
                       judged.method = 'card_number' AND judged.unknown_before >= p.unknown_per_hour
                           AS refused
                  FROM judged CROSS JOIN p
            ), unknown_bump AS (
                INSERT INTO agency_unknown_windows (agency_id, window_start, count)
                SELECT v.agency_id, p.hour, count(*) FROM verdict v CROSS JOIN p
                 WHERE v.unknown_by_number AND v.within AND NOT v.refused
                 GROUP BY v.agency_id, p.hour
                 ORDER BY v.agency_id
                ON CONFLICT (agency_id, window_start)
                DO UPDATE SET count = agency_unknown_windows.count + excluded.count
            ), logged AS (
                INSERT INTO verifications (id, card_id, agency_id, district, method, valid,
                                           status, local_tier, verified_at, holder_bound)
                SELECT id, card_id, agency_id, district, method, valid, status, local_tier, at,
                       holder_bound
                  FROM verdict WHERE within AND NOT refused
            )
            SELECT ord, n, refused,
                   unknown_by_number AND within AND NOT refused AS counted_unknown,
                   unknown_before + (unknown_by_number AND within AND NOT refused)::int AS unknown
              FROM verdict ORDER BY ord",
        );
        Ok(())
    }
}

impl QueryId for RecordVerifications<'_> {
    type QueryId = RecordVerifications<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RecordVerifications<'_> {
    type SqlType = Untyped;
}
