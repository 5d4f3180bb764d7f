//! Appending one row to the chain inside the caller's transaction.

use chrono::{DateTime, SubsecRound, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use super::chain::{LinkContent, detail_digest, link_hash};
use crate::db::schema::{audit_chain_head, audit_log};

/// Who caused an audited change. `Hash`: aggregated denials are keyed by it.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Actor {
    /// A signed-in account.
    Account(Uuid),
    /// The command line, run by an operator on the server.
    Cli,
    /// The service itself (start-up data loads, scheduled work).
    System,
    /// A partner agency's API client (verifications, redemptions): the client, not only its
    /// agency, so a leaked secret's use can be told from its siblings'.
    AgencyClient(Uuid),
    /// Someone not signed in (a failed login, a registration).
    Anonymous,
}

impl Actor {
    /// The text stored in the `actor` column.
    pub fn as_text(&self) -> String {
        match self {
            Actor::Account(id) => format!("account:{id}"),
            Actor::Cli => "cli".to_owned(),
            Actor::System => "system".to_owned(),
            Actor::AgencyClient(id) => format!("agency_client:{id}"),
            Actor::Anonymous => "anonymous".to_owned(),
        }
    }
}

/// One audited event. `detail` must never hold passwords, tokens or ID numbers.
#[derive(Debug, Clone)]
pub struct AuditEvent {
    /// Who did it.
    pub actor: Actor,
    /// What was done, `entity.verb` in the past tense, e.g. `account.created`.
    pub action: &'static str,
    /// The kind of thing it was done to.
    pub entity_type: &'static str,
    /// Which one, when there is one.
    pub entity_id: Option<String>,
    /// What changed, without personal data.
    pub detail: serde_json::Value,
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewAuditRow<'a> {
    seq: i64,
    occurred_at: DateTime<Utc>,
    actor: &'a str,
    action: &'a str,
    entity_type: &'a str,
    entity_id: Option<&'a str>,
    detail: &'a serde_json::Value,
    detail_digest: &'a str,
    prev_hash: &'a str,
    hash: &'a str,
    key_id: &'a str,
    mac: &'a str,
}

/// Appends `event` to the chain and returns its sequence number.
///
/// Call it inside the transaction that makes the change, so the change and its record commit or
/// roll back together. The row lock on `audit_chain_head` serialises writers: each one links to
/// the row the previous one wrote, and the chain never forks. The row is signed with the
/// installed audit key ([`super::keys`]); without one nothing is written and the change fails.
pub async fn record(conn: &mut AsyncPgConnection, event: &AuditEvent) -> QueryResult<i64> {
    let keyring = super::keys::installed().ok_or_else(|| {
        diesel::result::Error::QueryBuilderError("no audit key is installed".into())
    })?;
    let (last_seq, last_hash): (i64, String) = audit_chain_head::table
        .select((audit_chain_head::last_seq, audit_chain_head::last_hash))
        .for_update()
        .first(conn)
        .await?;
    let seq = last_seq + 1;
    // PostgreSQL keeps microseconds; hash exactly what will be stored.
    let occurred_at = Utc::now().trunc_subsecs(6);
    let actor = event.actor.as_text();
    let digest = detail_digest(&event.detail);
    let hash = link_hash(&LinkContent {
        seq,
        occurred_at,
        actor: &actor,
        action: event.action,
        entity_type: event.entity_type,
        entity_id: event.entity_id.as_deref(),
        detail_digest: &digest,
        prev_hash: &last_hash,
    });
    let key_id = keyring.current_id();
    let mac = keyring.mac(key_id, &hash).ok_or_else(|| {
        diesel::result::Error::QueryBuilderError("the current audit key is missing".into())
    })?;
    diesel::insert_into(audit_log::table)
        .values(NewAuditRow {
            seq,
            occurred_at,
            actor: &actor,
            action: event.action,
            entity_type: event.entity_type,
            entity_id: event.entity_id.as_deref(),
            detail: &event.detail,
            detail_digest: &digest,
            prev_hash: &last_hash,
            hash: &hash,
            key_id,
            mac: &mac,
        })
        .execute(conn)
        .await?;
    diesel::update(audit_chain_head::table)
        .set((
            audit_chain_head::last_seq.eq(seq),
            audit_chain_head::last_hash.eq(&hash),
        ))
        .execute(conn)
        .await?;
    Ok(seq)
}

/// Writes an `audit.keyed` row when the newest row has no MAC (rows written before the chain
/// was keyed, or a database just migrated): its MAC covers the hash of every row before it, so
/// from then on none of them can be rewritten unnoticed. Returns its seq when one was written.
pub async fn anchor(conn: &mut AsyncPgConnection) -> QueryResult<Option<i64>> {
    use diesel_async::AsyncConnection;
    conn.transaction(async |c| {
        let (last_seq,): (i64,) = audit_chain_head::table
            .select((audit_chain_head::last_seq,))
            .for_update()
            .first(c)
            .await?;
        let newest: Option<Option<String>> = audit_log::table
            .filter(audit_log::seq.eq(last_seq))
            .select(audit_log::mac)
            .first(c)
            .await
            .optional()?;
        if !matches!(newest, Some(None)) {
            return Ok(None);
        }
        let key_id = super::keys::installed()
            .map(|k| k.current_id().to_owned())
            .unwrap_or_default();
        let event = AuditEvent {
            actor: Actor::System,
            action: "audit.keyed",
            entity_type: "audit_log",
            entity_id: None,
            detail: serde_json::json!({ "key_id": key_id, "unkeyed_rows": last_seq }),
        };
        record(c, &event).await.map(Some)
    })
    .await
}
