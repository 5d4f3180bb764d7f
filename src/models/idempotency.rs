//! `Idempotency-Key` records: the first answer to a keyed request, per caller, replayed for a
//! retry with the same body and refused (422) for a different one.
//!
//! The record is claimed inside the request's own transaction: a concurrent retry with the same
//! key waits on the claim, then sees the committed answer.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::db::schema::idempotency_keys;

/// What a claim found.
#[derive(Debug)]
pub enum Claim {
    /// New key: process the request, then [`complete`] it in the same transaction.
    New,
    /// Seen before with the same body: the status and body to answer again.
    Replay(u16, serde_json::Value),
    /// Seen before with another body.
    Mismatch,
}

/// Claims `key` for `principal` and a request whose body hashes to `request_hash`.
pub async fn claim(
    conn: &mut AsyncPgConnection,
    principal: &str,
    key: &str,
    request_hash: &str,
) -> QueryResult<Claim> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::principal.eq(principal),
            idempotency_keys::key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::status.eq(0),
            idempotency_keys::body.eq(serde_json::Value::Null),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await?;
    if inserted == 1 {
        return Ok(Claim::New);
    }
    let (hash, status, body): (String, i32, serde_json::Value) = idempotency_keys::table
        .find((principal, key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status,
            idempotency_keys::body,
        ))
        .first(conn)
        .await?;
    if hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    Ok(Claim::Replay(u16::try_from(status).unwrap_or(200), body))
}

/// Stores the answer of a claimed key.
pub async fn complete(
    conn: &mut AsyncPgConnection,
    principal: &str,
    key: &str,
    status: u16,
    body: &serde_json::Value,
) -> QueryResult<()> {
    diesel::update(idempotency_keys::table.find((principal, key)))
        .set((
            idempotency_keys::status.eq(i32::from(status)),
            idempotency_keys::body.eq(body),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}
