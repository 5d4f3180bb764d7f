//! Failed-login counters in PostgreSQL, shared by every instance: one row per key (an account,
//! an (account, address) pair or an address; the keys are built by the sign-in flow).

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};

use crate::db::schema::login_throttles;
use crate::domain::throttle::{ThrottlePolicy, ThrottleState};

#[derive(Queryable)]
struct Row {
    failures: i32,
    hour_started: DateTime<Utc>,
    hour_failures: i32,
    locked_until: Option<DateTime<Utc>>,
}

impl From<Row> for ThrottleState {
    fn from(r: Row) -> Self {
        ThrottleState {
            failures: r.failures,
            hour_started: r.hour_started,
            hour_failures: r.hour_failures,
            locked_until: r.locked_until,
        }
    }
}

fn columns() -> (
    login_throttles::failures,
    login_throttles::hour_started,
    login_throttles::hour_failures,
    login_throttles::locked_until,
) {
    (
        login_throttles::failures,
        login_throttles::hour_started,
        login_throttles::hour_failures,
        login_throttles::locked_until,
    )
}

/// The counters of `key` (fresh when never seen).
pub async fn load(
    conn: &mut AsyncPgConnection,
    key: &str,
    now: DateTime<Utc>,
) -> QueryResult<ThrottleState> {
    let row: Option<Row> = login_throttles::table
        .find(key)
        .select(columns())
        .first(conn)
        .await
        .optional()?;
    Ok(row.map_or_else(|| ThrottleState::fresh(now), ThrottleState::from))
}

/// Applies `change` to the counters of `key` under a row lock and stores the result.
async fn update(
    conn: &mut AsyncPgConnection,
    key: &str,
    now: DateTime<Utc>,
    change: impl FnOnce(&ThrottleState) -> ThrottleState + Send,
) -> QueryResult<ThrottleState> {
    conn.transaction(async |conn| {
        diesel::insert_into(login_throttles::table)
            .values((
                login_throttles::key.eq(key),
                login_throttles::hour_started.eq(now),
            ))
            .on_conflict_do_nothing()
            .execute(conn)
            .await?;
        let row: Row = login_throttles::table
            .find(key)
            .select(columns())
            .for_update()
            .first(conn)
            .await?;
        let next = change(&row.into());
        diesel::update(login_throttles::table.find(key))
            .set((
                login_throttles::failures.eq(next.failures),
                login_throttles::hour_started.eq(next.hour_started),
                login_throttles::hour_failures.eq(next.hour_failures),
                login_throttles::locked_until.eq(next.locked_until),
            ))
            .execute(conn)
            .await?;
        Ok(next)
    })
    .await
}

/// What happens to a reserved attempt once its outcome is known.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Settlement {
    /// The credentials were right: the failure streak ends, the attempt is not counted.
    Reset,
    /// Right, and the sign-in completed: as `Reset`, and the key remembers when, so an
    /// (account, address) pair vouches for its address against the account-wide ceiling.
    SignedIn,
    /// Refused by another limit before it was evaluated: as if never reserved.
    Refund,
}

/// Whether `key` is locked now, without counting anything.
pub async fn blocked_for(
    conn: &mut AsyncPgConnection,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
) -> QueryResult<Option<chrono::Duration>> {
    Ok(policy.blocked_for(&load(conn, key, now).await?, now))
}

/// Counts one failure for `key` after the fact.
pub async fn record_failure(
    conn: &mut AsyncPgConnection,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
) -> QueryResult<ThrottleState> {
    update(conn, key, now, |s| policy.after_failure(s, now)).await
}

/// Reserves one attempt for `key` before the credentials are checked, counting it as a failure
/// until [`settle`] says otherwise. Under the row lock, so parallel attempts cannot all slip
/// through on a stale count. `Err(wait)` when the key is locked (nothing is counted then).
pub async fn reserve(
    conn: &mut AsyncPgConnection,
    key: &str,
    policy: ThrottlePolicy,
    now: DateTime<Utc>,
) -> QueryResult<Result<ThrottleState, chrono::Duration>> {
    let mut blocked = None;
    let state = update(conn, key, now, |s| match policy.blocked_for(s, now) {
        Some(wait) => {
            blocked = Some(wait);
            s.clone()
        }
        None => policy.after_failure(s, now),
    })
    .await?;
    Ok(blocked.map_or(Ok(state), Err))
}

/// Settles a reserved attempt that succeeded.
pub async fn settle(
    conn: &mut AsyncPgConnection,
    key: &str,
    policy: ThrottlePolicy,
    settlement: Settlement,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    update(conn, key, now, |s| match settlement {
        Settlement::Reset | Settlement::SignedIn => policy.after_success(s),
        Settlement::Refund => policy.after_refund(s),
    })
    .await?;
    if settlement == Settlement::SignedIn {
        diesel::update(login_throttles::table.find(key))
            .set(login_throttles::last_success_at.eq(now))
            .execute(conn)
            .await?;
    }
    Ok(())
}

/// When `key` last completed a sign-in ([`Settlement::SignedIn`]), if ever.
pub async fn last_sign_in(
    conn: &mut AsyncPgConnection,
    key: &str,
) -> QueryResult<Option<DateTime<Utc>>> {
    login_throttles::table
        .find(key)
        .select(login_throttles::last_success_at)
        .first(conn)
        .await
        .optional()
        .map(Option::flatten)
}

/// Deletes the rows of `keys` and of every key starting with one of `prefixes` (an account's
/// pairs); returns how many went. The staff unlock path.
pub async fn clear(
    conn: &mut AsyncPgConnection,
    keys: &[String],
    prefixes: &[String],
) -> QueryResult<usize> {
    let mut cleared =
        diesel::delete(login_throttles::table.filter(login_throttles::key.eq_any(keys)))
            .execute(conn)
            .await?;
    for prefix in prefixes {
        // The prefixes are built from hex digests and fixed words: no LIKE wildcards inside.
        let pattern = format!("{prefix}%");
        cleared +=
            diesel::delete(login_throttles::table.filter(login_throttles::key.like(pattern)))
                .execute(conn)
                .await?;
    }
    Ok(cleared)
}
