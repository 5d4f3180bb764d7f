//! The single-use secrets of holder binding: holders' dynamic presentation codes
//! (`presentation_codes`) and agencies' verification nonces (`verification_nonces`), both
//! stored as SHA-256 hashes (see [`crate::credentials::presentation_code`]).
//!
//! Each is consumed by one statement: an `UPDATE … WHERE used_at IS NULL AND expires_at > now`
//! in a CTE beside a read of the row. PostgreSQL re-checks the `WHERE` of a row another
//! transaction changed while the update waited for its lock, so of any number of consumers on
//! any number of instances exactly one sees its update happen; the read tells the others why
//! theirs did not (used before, expired, someone else's, unknown).

use chrono::{DateTime, Utc};
use diesel::QueryableByName;
use diesel::prelude::*;
use diesel::sql_types::{Bool, Text, Timestamptz};
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::credentials::presentation_code::{PresentationCode, nonce_hash};
use crate::db::schema::{presentation_codes, verification_nonces};

/// What presenting a code found: the verification answers `holder_bound: true` only for
/// [`CodeUse::Fresh`], and the card's own status whatever the card's status is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeUse {
    /// First use within its lifetime: it is now used, by this agency.
    Fresh {
        /// The card the code stands for.
        card_id: Uuid,
    },
    /// Used before (by any agency, or by a concurrent consumer that won): `status: "replayed"`.
    /// A used code stays replayed after its expiry, until the sweep deletes it.
    Replayed {
        /// The card the code stood for.
        card_id: Uuid,
    },
    /// Never used, and past `expires_at`: `status: "code_expired"`.
    Expired {
        /// The card the code stood for.
        card_id: Uuid,
    },
    /// No such code (never issued, or swept): `status: "unknown"`.
    Unknown,
}

/// What presenting a nonce in a key-binding JWT found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NonceUse {
    /// Issued to this agency, unused and unexpired: it is now used.
    Fresh,
    /// Issued to this agency and used before: `status: "replayed"`.
    Replayed,
    /// Never issued, issued to another agency, or expired unused:
    /// `status: "holder_binding_failed"`.
    Unknown,
}

/// Stores a fresh code for `card_id`, usable until `expires_at`.
pub async fn insert_code(
    conn: &mut AsyncPgConnection,
    card_id: Uuid,
    code: &PresentationCode,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(presentation_codes::table)
        .values((
            presentation_codes::code_hash.eq(code.hash()),
            presentation_codes::card_id.eq(card_id),
            presentation_codes::created_at.eq(now),
            presentation_codes::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

#[derive(QueryableByName)]
struct CodeRow {
    #[diesel(sql_type = diesel::sql_types::Uuid)]
    card_id: Uuid,
    #[diesel(sql_type = Bool)]
    fresh: bool,
    #[diesel(sql_type = Bool)]
    used: bool,
    #[diesel(sql_type = Bool)]
    live: bool,
}

/// Consumes `code` for `agency_id` at `now`, atomically: of concurrent consumers of one code
/// (on any instance) exactly one gets [`CodeUse::Fresh`]. The caller parses the presented text
/// with [`PresentationCode::parse`] first (a malformed code is 422, not `unknown`).
pub async fn consume_code(
    conn: &mut AsyncPgConnection,
    code: &PresentationCode,
    agency_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<CodeUse> {
    // `target` reads the row as of the statement's snapshot; `consumed` waits for a concurrent
    // consumer's lock and re-checks its WHERE on the row that consumer committed.
    let row: Option<CodeRow> = diesel::sql_query(
        "WITH target AS (
             SELECT card_id, used_at, expires_at FROM presentation_codes WHERE code_hash = $1
         ), consumed AS (
             UPDATE presentation_codes SET used_at = $3, used_by_agency = $2
              WHERE code_hash = $1 AND used_at IS NULL AND expires_at > $3
             RETURNING card_id
         )
         SELECT t.card_id,
                EXISTS (SELECT 1 FROM consumed) AS fresh,
                t.used_at IS NOT NULL AS used,
                t.expires_at > $3 AS live
           FROM target t",
    )
    .bind::<Text, _>(code.hash())
    .bind::<diesel::sql_types::Uuid, _>(agency_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?;
    let Some(row) = row else {
        return Ok(CodeUse::Unknown);
    };
    let card_id = row.card_id;
    Ok(if row.fresh {
        CodeUse::Fresh { card_id }
    } else if row.used || row.live {
        // Unused and live in our snapshot, yet not updated: a concurrent consumer won.
        CodeUse::Replayed { card_id }
    } else {
        CodeUse::Expired { card_id }
    })
}

/// Stores a fresh nonce issued to `agency_id`, usable until `expires_at`.
pub async fn insert_nonce(
    conn: &mut AsyncPgConnection,
    nonce: &str,
    agency_id: Uuid,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(verification_nonces::table)
        .values((
            verification_nonces::nonce_hash.eq(nonce_hash(nonce)),
            verification_nonces::agency_id.eq(agency_id),
            verification_nonces::created_at.eq(now),
            verification_nonces::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

#[derive(QueryableByName)]
struct NonceRow {
    #[diesel(sql_type = Bool)]
    fresh: bool,
    #[diesel(sql_type = Bool)]
    ours: bool,
    #[diesel(sql_type = Bool)]
    used: bool,
    #[diesel(sql_type = Bool)]
    live: bool,
}

/// Consumes `nonce` (as the KB-JWT carries it) for `agency_id` at `now`, atomically: of
/// concurrent consumers exactly one gets [`NonceUse::Fresh`]. Another agency's nonce is
/// [`NonceUse::Unknown`] and stays unused: it is bound to the agency that asked for it.
pub async fn consume_nonce(
    conn: &mut AsyncPgConnection,
    nonce: &str,
    agency_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<NonceUse> {
    let row: Option<NonceRow> = diesel::sql_query(
        "WITH target AS (
             SELECT agency_id, used_at, expires_at FROM verification_nonces WHERE nonce_hash = $1
         ), consumed AS (
             UPDATE verification_nonces SET used_at = $3
              WHERE nonce_hash = $1 AND agency_id = $2 AND used_at IS NULL AND expires_at > $3
             RETURNING 1
         )
         SELECT EXISTS (SELECT 1 FROM consumed) AS fresh,
                t.agency_id = $2 AS ours,
                t.used_at IS NOT NULL AS used,
                t.expires_at > $3 AS live
           FROM target t",
    )
    .bind::<Text, _>(nonce_hash(nonce))
    .bind::<diesel::sql_types::Uuid, _>(agency_id)
    .bind::<Timestamptz, _>(now)
    .get_result(conn)
    .await
    .optional()?;
    Ok(match row {
        None => NonceUse::Unknown,
        Some(row) if row.fresh => NonceUse::Fresh,
        Some(row) if !row.ours => NonceUse::Unknown,
        // Unused and live in our snapshot, yet not updated: a concurrent consumer won.
        Some(row) if row.used || row.live => NonceUse::Replayed,
        Some(_) => NonceUse::Unknown,
    })
}
