//! Issuers' status lists: rows of 2-bit entries (see `credentials::status_list`), several per
//! issuer. A card holds an issuer-wide index; list `index / ENTRIES` keeps its entry.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::credentials::status_list::{self, ListStatus};
use crate::db::schema::{cards, status_lists};

/// Random tries in the newest list before it counts as full and the next list opens: a list
/// fills to about 70–80 % before the issuer gets another, and a card's index says nothing about
/// when it was issued.
const TRIES_PER_LIST: usize = 16;

/// Creates list `list_no` of `issuer`, every entry valid, unless it exists.
pub async fn ensure(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    list_no: i32,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(status_lists::table)
        .values((
            status_lists::issuer.eq(issuer),
            status_lists::list_no.eq(list_no),
            status_lists::bits.eq(status_list::empty()),
            status_lists::updated_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
        .map(|_| ())
}

/// Every list of every issuer, as (issuer, list number), in order.
pub async fn all(conn: &mut AsyncPgConnection) -> QueryResult<Vec<(String, i32)>> {
    status_lists::table
        .select((status_lists::issuer, status_lists::list_no))
        .order((status_lists::issuer.asc(), status_lists::list_no.asc()))
        .load(conn)
        .await
}

/// Where a list's publication stands: its change count, the change count its stamp was
/// taken for, and the stamp.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Head {
    /// Bumped by every change of the bits.
    pub version: i64,
    /// The version `stamped_at` was taken for.
    pub stamped_version: i64,
    /// The publication stamp (whole seconds).
    pub stamped_at: DateTime<Utc>,
    /// The issuer's active key, which signs the list's token.
    pub active_kid: Option<String>,
}

impl Head {
    /// Whether a new stamp is due at `now`: the stamp names older bits or is older than
    /// `stale_before`, and the current second has no stamp yet (a list takes at most one stamp
    /// a second, so stamps strictly increase and never run ahead of the clock).
    pub fn restamp_due(&self, now: DateTime<Utc>, stale_before: DateTime<Utc>) -> bool {
        let outdated = self.version != self.stamped_version || self.stamped_at <= stale_before;
        outdated && self.stamped_at < stamp_second(now)
    }
}

/// The stamp a publication at `at` takes: the second before `at`'s (rounded down, then one
/// back), so a verifier whose clock trails ours by up to a second still sees an `iat` in its
/// past (`@sd-jwt/core` 0.19 allows no leeway).
pub fn stamp_second(at: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp(at.timestamp() - 1, 0).unwrap_or(at)
}

/// A list's publication head, without its bytes: what a cached copy is checked against.
pub async fn head(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    list_no: i32,
) -> QueryResult<Option<Head>> {
    use crate::db::schema::issuer_keys;
    let active_kid = issuer_keys::table
        .filter(issuer_keys::issuer.eq(issuer))
        .filter(issuer_keys::status.eq("active"))
        .select(issuer_keys::kid)
        .single_value();
    status_lists::table
        .find((issuer, list_no))
        .select((
            status_lists::version,
            status_lists::stamped_version,
            status_lists::stamped_at,
            active_kid,
        ))
        .first(conn)
        .await
        .optional()
        .map(|row| {
            row.map(|(version, stamped_version, stamped_at, active_kid)| Head {
                version,
                stamped_version,
                stamped_at,
                active_kid,
            })
        })
}

/// The content the stamp `stamped_at` was taken for, or `None` when another stamp replaced it
/// (or none was ever taken).
pub async fn stamped_bits(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    list_no: i32,
    stamped_at: DateTime<Utc>,
) -> QueryResult<Option<Vec<u8>>> {
    /// (kept content, live bits, version, stamped version).
    type Row = (Option<Vec<u8>>, Vec<u8>, i64, i64);
    let row: Option<Row> = status_lists::table
        .find((issuer, list_no))
        .filter(status_lists::stamped_at.eq(stamped_at))
        .select((
            status_lists::stamped_bits,
            status_lists::bits,
            status_lists::version,
            status_lists::stamped_version,
        ))
        .first(conn)
        .await
        .optional()?;
    // A stamp taken before its content was kept names the current bits when no change came
    // after it.
    Ok(row.and_then(|(kept, bits, version, stamped_version)| {
        kept.or((version == stamped_version).then_some(bits))
    }))
}

/// Takes a new publication stamp for the current bits when one is due (see
/// [`Head::restamp_due`]): the stamp is `now` rounded down to the second, and the bits it names
/// are kept beside it. Returns the bits and the stamp; `None` when no stamp was due any more
/// (another instance took it, or this second has one: read the head again).
pub async fn stamp(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    list_no: i32,
    now: DateTime<Utc>,
    stale_before: DateTime<Utc>,
) -> QueryResult<Option<(Vec<u8>, DateTime<Utc>)>> {
    let second = stamp_second(now);
    diesel::update(
        status_lists::table
            .find((issuer, list_no))
            .filter(
                status_lists::stamped_version
                    .ne(status_lists::version)
                    .or(status_lists::stamped_at.le(stale_before)),
            )
            .filter(status_lists::stamped_at.lt(second)),
    )
    .set((
        status_lists::stamped_at.eq(second),
        status_lists::stamped_version.eq(status_lists::version),
        status_lists::stamped_bits.eq(status_lists::bits.nullable()),
    ))
    .returning((status_lists::bits, status_lists::stamped_at))
    .get_result(conn)
    .await
    .optional()
}

/// Sets the entry of the card with issuer-wide `index` under its list's row lock; call in the
/// status change's transaction.
pub async fn set_status(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    index: i32,
    status: ListStatus,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    let outside = || {
        let message = format!("status index {index} is outside the issuer's lists");
        diesel::result::Error::QueryBuilderError(message.into())
    };
    let (list_no, entry) = status_list::locate(u32::try_from(index).map_err(|_| outside())?);
    let list_no = i32::try_from(list_no).map_err(|_| outside())?;
    let mut bits: Vec<u8> = status_lists::table
        .find((issuer, list_no))
        .select(status_lists::bits)
        .for_update()
        .first(conn)
        .await?;
    if !status_list::set(&mut bits, entry as usize, status) {
        return Err(outside());
    }
    diesel::update(status_lists::table.find((issuer, list_no)))
        .set((
            status_lists::bits.eq(bits),
            status_lists::updated_at.eq(now),
            status_lists::version.eq(status_lists::version + 1),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// A random unused issuer-wide index, in the issuer's newest list (opening the next list when
/// that one is nearly full). Indexes in issuance order would tell a verifier who was issued
/// when. Callers serialise issuance per issuer (the card serial row lock), so a free index
/// stays free until their insert.
pub async fn free_index(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    now: DateTime<Utc>,
) -> QueryResult<i32> {
    let newest: Option<i32> = status_lists::table
        .filter(status_lists::issuer.eq(issuer))
        .select(diesel::dsl::max(status_lists::list_no))
        .first(conn)
        .await?;
    // Every issuer gets list 0 at start; a database without it (a fresh test) gets it here.
    let mut list_no = match newest {
        Some(list_no) => list_no,
        None => {
            ensure(conn, issuer, 0, now).await?;
            0
        }
    };
    let entries = u32::try_from(status_list::ENTRIES).unwrap_or(u32::MAX);
    // Two lists at most: a full newest list opens the next, which is empty.
    for _ in 0..2 {
        for _ in 0..TRIES_PER_LIST {
            let entry = u32::from_le_bytes(crate::crypto::random::bytes::<4>()) % entries;
            let index = u32::try_from(list_no)
                .ok()
                .and_then(|list| list.checked_mul(entries)?.checked_add(entry))
                .and_then(|index| i32::try_from(index).ok())
                .ok_or_else(|| {
                    diesel::result::Error::QueryBuilderError(
                        "the issuer's status lists are exhausted".into(),
                    )
                })?;
            let taken: bool = diesel::select(diesel::dsl::exists(
                cards::table
                    .filter(cards::issuer.eq(issuer))
                    .filter(cards::status_index.eq(index)),
            ))
            .get_result(conn)
            .await?;
            if !taken {
                return Ok(index);
            }
        }
        list_no += 1;
        ensure(conn, issuer, list_no, now).await?;
    }
    Err(diesel::result::Error::QueryBuilderError(
        "no free status index".into(),
    ))
}
