//! Deleting what has stopped mattering: rate windows that ended, login throttles that have been
//! quiet for a day, idempotency answers past their retention, sessions dead for a day, holder
//! nonces past their expiry (used or not: either way they can never be consumed again),
//! presentation codes and verification nonces an hour past their expiry.
//!
//! Every table is swept in batches of [`BATCH`] rows, each batch its own short transaction that
//! takes only rows nobody holds (`FOR UPDATE SKIP LOCKED`), so a sweep never waits on a request
//! nor makes one wait for long. A transaction-level advisory lock lets one instance sweep at a
//! time: another instance that finds it taken skips its turn (the work is being done).

use chrono::{DateTime, Duration, Utc};
use diesel::QueryResult;
use diesel::sql_types::{Bool, Timestamptz};
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::domain::throttle::KNOWN_ADDRESS_DAYS;

/// Rows deleted by one statement at most.
pub const BATCH: i64 = 1_000;

/// Arbitrary key of the advisory lock that one sweeping instance holds per batch.
pub const SWEEP_LOCK: i64 = 0x7377_6565_7031;

/// How long a presentation code or verification nonce is kept after its expiry: a second scan
/// of a used code, or a late one of an expired code, still answers `replayed` or
/// `code_expired` rather than `unknown` for this long.
pub const SINGLE_USE_GRACE: Duration = Duration::hours(1);

/// How old is old, from the time of the sweep.
#[derive(Debug, Clone, Copy)]
pub struct SweepPolicy {
    /// The time of the sweep.
    pub now: DateTime<Utc>,
    /// A session unused this long is dead.
    pub session_idle: Duration,
    /// How long an idempotency answer is kept for replay.
    pub idempotency_retention: Duration,
}

/// Rows deleted, per table.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SweepReport {
    /// `address_rate_windows` (registrations, sign-ins, refreshes, tokens).
    pub address_rate_windows: usize,
    /// `agency_rate_windows` (verifications a minute).
    pub agency_rate_windows: usize,
    /// `agency_unknown_windows` (unknown numbers an hour).
    pub agency_unknown_windows: usize,
    /// `login_throttles`.
    pub login_throttles: usize,
    /// `idempotency_keys`.
    pub idempotency_keys: usize,
    /// `sessions` (their refresh tokens go with them).
    pub sessions: usize,
    /// `holder_nonces` (expired).
    pub holder_nonces: usize,
    /// `presentation_codes`, used or not.
    pub presentation_codes: usize,
    /// `verification_nonces`, used or not.
    pub verification_nonces: usize,
}

/// One table's rule: `$1`, `$2`, `$3` are the timestamps bound in this order.
struct Job {
    table: &'static str,
    condition: &'static str,
}

const ADDRESS_WINDOWS: Job = Job {
    table: "address_rate_windows",
    // The longest window is an hour: anything that started two hours ago has ended.
    condition: "window_start < $1",
};
const AGENCY_WINDOWS: Job = Job {
    table: "agency_rate_windows",
    condition: "window_start < $1",
};
const UNKNOWN_WINDOWS: Job = Job {
    table: "agency_unknown_windows",
    condition: "window_start < $1",
};
const THROTTLES: Job = Job {
    table: "login_throttles",
    // No failure for a day, not locked now, and not vouching for a known address.
    condition: "hour_started < $1 AND (locked_until IS NULL OR locked_until < $2) \
                AND (last_success_at IS NULL OR last_success_at < $3)",
};
const IDEMPOTENCY: Job = Job {
    table: "idempotency_keys",
    condition: "created_at < $1",
};
const SESSIONS: Job = Job {
    table: "sessions",
    // Ended (revoked, expired or idle) more than a day ago.
    condition: "revoked_at < $1 OR expires_at < $1 OR last_used_at < $2",
};

const HOLDER_NONCES: Job = Job {
    table: "holder_nonces",
    condition: "expires_at < $1",
};
const PRESENTATION_CODES: Job = Job {
    table: "presentation_codes",
    condition: "expires_at < $1",
};
const VERIFICATION_NONCES: Job = Job {
    table: "verification_nonces",
    condition: "expires_at < $1",
};

/// Runs one sweep of every table. `None` when another instance holds the sweep (this one
/// stops at once and leaves the rest to it).
pub async fn run(
    conn: &mut AsyncPgConnection,
    policy: SweepPolicy,
) -> QueryResult<Option<SweepReport>> {
    let now = policy.now;
    let day_ago = now - Duration::days(1);
    let known = now - Duration::days(KNOWN_ADDRESS_DAYS);
    let idle_dead = now - policy.session_idle - Duration::days(1);
    let mut report = SweepReport::default();
    let single_use = now - SINGLE_USE_GRACE;
    let plan: [(&Job, [DateTime<Utc>; 3], &mut usize); 9] = [
        (
            &ADDRESS_WINDOWS,
            [now - Duration::hours(2); 3],
            &mut report.address_rate_windows,
        ),
        (
            &AGENCY_WINDOWS,
            [now - Duration::hours(1); 3],
            &mut report.agency_rate_windows,
        ),
        (
            &UNKNOWN_WINDOWS,
            [now - Duration::hours(2); 3],
            &mut report.agency_unknown_windows,
        ),
        (
            &THROTTLES,
            [day_ago, now, known],
            &mut report.login_throttles,
        ),
        (
            &IDEMPOTENCY,
            [now - policy.idempotency_retention; 3],
            &mut report.idempotency_keys,
        ),
        (&SESSIONS, [day_ago, idle_dead, now], &mut report.sessions),
        (&HOLDER_NONCES, [now; 3], &mut report.holder_nonces),
        (
            &PRESENTATION_CODES,
            [single_use; 3],
            &mut report.presentation_codes,
        ),
        (
            &VERIFICATION_NONCES,
            [single_use; 3],
            &mut report.verification_nonces,
        ),
    ];
    for (job, binds, deleted) in plan {
        match sweep_table(conn, job, binds).await? {
            Some(count) => *deleted = count,
            None => return Ok(None),
        }
    }
    Ok(Some(report))
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = Bool)]
    locked: bool,
}

/// Deletes `job`'s rows batch by batch until a batch comes back short; `None` when another
/// instance holds the sweep lock.
async fn sweep_table(
    conn: &mut AsyncPgConnection,
    job: &Job,
    binds: [DateTime<Utc>; 3],
) -> QueryResult<Option<usize>> {
    let statement = format!(
        "DELETE FROM {table} WHERE ctid IN (SELECT ctid FROM {table} WHERE {condition} \
         LIMIT {BATCH} FOR UPDATE SKIP LOCKED)",
        table = job.table,
        condition = job.condition,
    );
    let mut total = 0;
    loop {
        let deleted = conn
            .transaction(async |c| {
                let lock: Locked = diesel::sql_query(format!(
                    "SELECT pg_try_advisory_xact_lock({SWEEP_LOCK}) AS locked"
                ))
                .get_result(c)
                .await?;
                if !lock.locked {
                    return Ok(None);
                }
                diesel::sql_query(&statement)
                    .bind::<Timestamptz, _>(binds[0])
                    .bind::<Timestamptz, _>(binds[1])
                    .bind::<Timestamptz, _>(binds[2])
                    .execute(c)
                    .await
                    .map(Some)
            })
            .await?;
        let Some(deleted) = deleted else {
            return Ok(None);
        };
        total += deleted;
        if i64::try_from(deleted).unwrap_or(BATCH) < BATCH {
            return Ok(Some(total));
        }
        // Let the requests this task shares a worker with run between batches.
        tokio::task::yield_now().await;
    }
}
