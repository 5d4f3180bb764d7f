//! Holder binding storage: the nonces wallets sign proofs over (`holder_nonces`, stored as
//! SHA-256 only) and the key bound to a card (`cards.holder_jwk`, `holder_jkt`,
//! `holder_key_bound_at`).
//!
//! A nonce is consumed by one conditional UPDATE, so whatever races (two requests, two
//! instances) one consumer wins; the row stays, marked used, until the sweep deletes it once
//! expired, so a reuse is told from a guess only by the caller's own bookkeeping, never by us.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::credentials::holder_key::HolderJwk;
use crate::db::schema::{cards, holder_nonces};

/// Stores a nonce (by its SHA-256 hex, never the nonce) for `account_id` until `expires_at`.
pub async fn create_nonce(
    conn: &mut AsyncPgConnection,
    nonce_hash: &str,
    account_id: Uuid,
    expires_at: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(holder_nonces::table)
        .values((
            holder_nonces::nonce_hash.eq(nonce_hash),
            holder_nonces::account_id.eq(account_id),
            holder_nonces::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .await
        .map(drop)
}

/// Consumes `account_id`'s nonce with this hash at `now`: `true` once, for an unused,
/// unexpired nonce of that account; `false` for one that is unknown, used, expired or
/// another account's (the caller cannot tell which, and need not).
pub async fn consume_nonce(
    conn: &mut AsyncPgConnection,
    nonce_hash: &str,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    diesel::update(
        holder_nonces::table
            .filter(holder_nonces::nonce_hash.eq(nonce_hash))
            .filter(holder_nonces::account_id.eq(account_id))
            .filter(holder_nonces::used_at.is_null())
            .filter(holder_nonces::expires_at.gt(now)),
    )
    .set(holder_nonces::used_at.eq(now))
    .execute(conn)
    .await
    .map(|updated| updated == 1)
}

/// A card as binding sees it, under its row lock.
#[derive(Debug, Clone, PartialEq, Eq, Queryable)]
pub struct LockedCard {
    /// `active`, `suspended` or `revoked` (it may have changed since the caller's first read).
    pub status: String,
    /// Last valid day.
    pub valid_until: chrono::NaiveDate,
    /// The thumbprint of the key bound now, if any (the one a binding replaces).
    pub jkt: Option<String>,
}

/// The card, locked until the transaction ends, so a revocation and a binding of the same card
/// are ordered and two bindings report each other's key as the one they replaced.
pub async fn lock_card(
    conn: &mut AsyncPgConnection,
    card_id: Uuid,
) -> QueryResult<Option<LockedCard>> {
    cards::table
        .find(card_id)
        .select((cards::status, cards::valid_until, cards::holder_jkt))
        .for_update()
        .first(conn)
        .await
        .optional()
}

/// Binds `jwk` (thumbprint `jkt`) to the card at `now`, replacing any key bound before. Call
/// inside the transaction that consumed the nonce and locked the card ([`lock_card`]).
pub async fn bind(
    conn: &mut AsyncPgConnection,
    card_id: Uuid,
    jwk: &HolderJwk,
    jkt: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::update(cards::table.find(card_id))
        .set((
            cards::holder_jwk.eq(Some(jwk.to_value())),
            cards::holder_jkt.eq(Some(jkt)),
            cards::holder_key_bound_at.eq(Some(now)),
        ))
        .execute(conn)
        .await
        .map(drop)
}
