//! Fixed-window counters per key (`address_rate_windows`): client addresses for anonymous flows
//! that must not be scripted at scale, and accounts or agency clients for sign-ins and tokens.
//! A key is `family:subject`; every key of a family uses one window length. One upsert per request: the count comes back from the row it
//! bumped, so parallel requests on every instance see each other.

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use diesel::prelude::*;
use diesel::upsert::excluded;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::address_rate_windows;

/// Counts one request for `key` in the window of length `window` that holds `now`; returns the
/// count including this one and when the window ends.
pub async fn take(
    conn: &mut AsyncPgConnection,
    key: &str,
    window: TimeDelta,
    now: DateTime<Utc>,
) -> QueryResult<(i32, DateTime<Utc>)> {
    let start = now.duration_trunc(window).unwrap_or(now);
    let count = diesel::insert_into(address_rate_windows::table)
        .values((
            address_rate_windows::key.eq(key),
            address_rate_windows::window_start.eq(start),
            address_rate_windows::count.eq(1),
        ))
        .on_conflict((
            address_rate_windows::key,
            address_rate_windows::window_start,
        ))
        .do_update()
        .set(
            address_rate_windows::count
                .eq(address_rate_windows::count + excluded(address_rate_windows::count)),
        )
        .returning(address_rate_windows::count)
        .get_result(conn)
        .await?;
    if count == 1 {
        // The first request of a new window sweeps its own family's windows before the last
        // one (families have windows of different lengths: a minute's sweep must not take an
        // hour's counts), so the table holds about two windows' worth of keys. The periodic
        // sweep (`models::sweep`) takes what quiet families leave behind.
        diesel::delete(address_rate_windows::table)
            .filter(address_rate_windows::key.like(family_pattern(key)))
            .filter(address_rate_windows::window_start.lt(start - window))
            .execute(conn)
            .await?;
    }
    Ok((count, start + window))
}

/// `register:%` for `register:203.0.113.7`: the keys counted with the same window length.
fn family_pattern(key: &str) -> String {
    let family = key.split_once(':').map_or(key, |(family, _)| family);
    format!("{family}:%")
}

/// The count of `key` in the window that holds `now`, without counting anything, and when the
/// window ends: checked before work that only a success is charged for.
pub async fn peek(
    conn: &mut AsyncPgConnection,
    key: &str,
    window: TimeDelta,
    now: DateTime<Utc>,
) -> QueryResult<(i32, DateTime<Utc>)> {
    let start = now.duration_trunc(window).unwrap_or(now);
    let count = address_rate_windows::table
        .find((key, start))
        .select(address_rate_windows::count)
        .first(conn)
        .await
        .optional()?;
    Ok((count.unwrap_or(0), start + window))
}

/// Deletes every window of `key` (the staff unlock path).
pub async fn clear(conn: &mut AsyncPgConnection, key: &str) -> QueryResult<usize> {
    diesel::delete(address_rate_windows::table.filter(address_rate_windows::key.eq(key)))
        .execute(conn)
        .await
}
