//! Fixed-window counters per client address (`address_rate_windows`), for anonymous flows that
//! must not be scripted at scale. One upsert per request: the count comes back from the row it
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
        // The first request of a new window sweeps the windows before the last one, so the
        // table holds about two windows' worth of addresses, on however many instances.
        diesel::delete(address_rate_windows::table)
            .filter(address_rate_windows::window_start.lt(start - window))
            .execute(conn)
            .await?;
    }
    Ok((count, start + window))
}
