//! Walking the chain from the first row to the head.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use super::chain::{GENESIS_HASH, LinkContent, detail_digest, link_hash};
use super::keys::AuditKeyring;
use crate::db::schema::{audit_chain_head, audit_log};

/// A clean walk: how many rows were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifyReport {
    /// Rows checked.
    pub rows: u64,
    /// Of those, rows written before the chain was keyed (each anchored by the first keyed row).
    pub unkeyed_rows: u64,
    /// Hash of the newest row (the genesis hash for an empty log).
    pub head_hash: String,
}

/// The first place the chain does not hold.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("audit chain broken at seq {seq}: {reason}")]
pub struct ChainBreak {
    /// The sequence number of the first row that does not fit (or the head's, for a lost tail).
    pub seq: i64,
    /// What does not fit.
    pub reason: String,
}

#[derive(Queryable)]
struct Row {
    seq: i64,
    occurred_at: DateTime<Utc>,
    actor: String,
    action: String,
    entity_type: String,
    entity_id: Option<String>,
    detail: serde_json::Value,
    detail_digest: String,
    prev_hash: String,
    hash: String,
    key_id: Option<String>,
    mac: Option<String>,
}

const BATCH: i64 = 1_000;

/// Checks every row: sequence without gaps, each `prev_hash` equal to the hash before, each
/// digest and hash recomputed, each MAC recomputed with `keys`, and the head pointing at the
/// last row. Rows without a MAC (written before the chain was keyed) are accepted only before
/// the first keyed row, and the newest row must be keyed: a writer without the key can neither
/// re-chain keyed rows nor strip their MACs. Reads in batches so a log of millions of rows
/// needs little memory.
pub async fn verify(
    conn: &mut AsyncPgConnection,
    keys: &AuditKeyring,
) -> Result<Result<VerifyReport, ChainBreak>, diesel::result::Error> {
    let mut expected_seq = 1_i64;
    let mut prev_hash = GENESIS_HASH.to_owned();
    let mut unkeyed_rows = 0_u64;
    let mut keyed = false;
    loop {
        let rows: Vec<Row> = audit_log::table
            .filter(audit_log::seq.ge(expected_seq))
            .order(audit_log::seq.asc())
            .limit(BATCH)
            .load(conn)
            .await?;
        let done = rows.len() < BATCH as usize;
        for row in rows {
            if row.seq != expected_seq {
                return Ok(Err(ChainBreak {
                    seq: expected_seq,
                    reason: format!("the row is missing (the next row is seq {})", row.seq),
                }));
            }
            if let Err(reason) = check_row(&row, &prev_hash).and_then(|()| check_mac(&row, keys)) {
                return Ok(Err(ChainBreak {
                    seq: row.seq,
                    reason,
                }));
            }
            match (&row.mac, keyed) {
                (Some(_), _) => keyed = true,
                (None, false) => unkeyed_rows += 1,
                (None, true) => {
                    return Ok(Err(ChainBreak {
                        seq: row.seq,
                        reason: "the row has no MAC, but rows before it have one".to_owned(),
                    }));
                }
            }
            prev_hash = row.hash;
            expected_seq += 1;
        }
        if done {
            break;
        }
    }
    let (head_seq, head_hash): (i64, String) = audit_chain_head::table
        .select((audit_chain_head::last_seq, audit_chain_head::last_hash))
        .first(conn)
        .await?;
    let last_seq = expected_seq - 1;
    if head_seq != last_seq || head_hash != prev_hash {
        return Ok(Err(ChainBreak {
            seq: head_seq,
            reason: format!("the head names seq {head_seq} but the log ends at seq {last_seq}"),
        }));
    }
    if last_seq > 0 && !keyed {
        return Ok(Err(ChainBreak {
            seq: last_seq,
            reason: "no row carries a MAC: the chain was never keyed, or its MACs were stripped \
                     (a running service writes an `audit.keyed` row at start-up)"
                .to_owned(),
        }));
    }
    Ok(Ok(VerifyReport {
        unkeyed_rows,
        rows: u64::try_from(last_seq).unwrap_or_default(),
        head_hash: prev_hash,
    }))
}

fn check_row(row: &Row, prev_hash: &str) -> Result<(), String> {
    if row.prev_hash != prev_hash {
        return Err("prev_hash does not match the hash of the row before".to_owned());
    }
    let digest = detail_digest(&row.detail);
    if digest != row.detail_digest {
        return Err("detail does not match its digest".to_owned());
    }
    let hash = link_hash(&LinkContent {
        seq: row.seq,
        occurred_at: row.occurred_at,
        actor: &row.actor,
        action: &row.action,
        entity_type: &row.entity_type,
        entity_id: row.entity_id.as_deref(),
        detail_digest: &row.detail_digest,
        prev_hash: &row.prev_hash,
    });
    if hash != row.hash {
        return Err("content does not match the row's hash".to_owned());
    }
    Ok(())
}

fn check_mac(row: &Row, keys: &AuditKeyring) -> Result<(), String> {
    let (Some(key_id), Some(mac)) = (&row.key_id, &row.mac) else {
        return Ok(());
    };
    let Some(expected) = keys.mac(key_id, &row.hash) else {
        return Err(format!(
            "the row is signed with audit key `{key_id}`, which is not configured \
             (TALENTCARD__SECRETS__AUDIT_RETIRED_KEYS)"
        ));
    };
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        expected.as_bytes(),
        mac.as_bytes(),
    )) {
        return Err(
            "the MAC does not match: the row or one before it was rewritten or re-chained \
             without the audit key"
                .to_owned(),
        );
    }
    Ok(())
}
