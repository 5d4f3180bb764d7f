//! A row sealed or signed under each configured key: what start-up and `/readyz` try
//! the keys on, so a key that does not match the stored data is found before a request needs it.

use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::db::schema::{audit_log, issuer_keys, profiles};

/// An issuer's private key, sealed with the personal-data key (every issuer has one from the
/// first start, so even a database without talent has a sample).
#[derive(Debug, Queryable)]
pub struct SealedIssuerKey {
    /// The key's `kid`, bound into the ciphertext's associated data.
    pub kid: String,
    /// The sealed Ed25519 seed.
    pub sealed: Vec<u8>,
    /// The id of the personal-data key recorded when it was sealed.
    pub key_id: String,
}

/// A profile's identity document: sealed number and blind index, made with two different keys.
#[derive(Debug, Queryable)]
pub struct SealedIdNumber {
    /// The owner, bound into the ciphertext's associated data.
    pub account_id: Uuid,
    /// The document type, the blind index's domain.
    pub id_type: String,
    /// The sealed number.
    pub sealed: Vec<u8>,
    /// The id of the personal-data key recorded when it was sealed.
    pub key_id: String,
    /// The stored blind index of the number.
    pub index: String,
}

/// The newest keyed audit row's link: hash, key id and MAC.
#[derive(Debug, Queryable)]
pub struct AuditLink {
    /// The row's sequence number (named in the message when its MAC does not match).
    pub seq: i64,
    /// The row's hash, which the MAC covers.
    pub hash: String,
    /// The audit key id it was signed under.
    pub key_id: Option<String>,
    /// The stored MAC.
    pub mac: Option<String>,
}

/// The newest issuer key.
pub async fn newest_issuer_key(
    conn: &mut AsyncPgConnection,
) -> QueryResult<Option<SealedIssuerKey>> {
    issuer_keys::table
        .select((
            issuer_keys::kid,
            issuer_keys::private_key_sealed,
            issuer_keys::key_id,
        ))
        .order(issuer_keys::created_at.desc())
        .first(conn)
        .await
        .optional()
}

/// One profile, found through the primary key (any sample will do, and a scan for the newest
/// would read every profile).
pub async fn newest_id_number(conn: &mut AsyncPgConnection) -> QueryResult<Option<SealedIdNumber>> {
    profiles::table
        .select((
            profiles::account_id,
            profiles::id_type,
            profiles::id_number_ciphertext,
            profiles::id_number_key_id,
            profiles::id_number_index,
        ))
        .order(profiles::account_id.desc())
        .first(conn)
        .await
        .optional()
}

/// The newest audit row that carries a MAC.
pub async fn newest_audit_link(conn: &mut AsyncPgConnection) -> QueryResult<Option<AuditLink>> {
    audit_log::table
        .filter(audit_log::mac.is_not_null())
        .select((
            audit_log::seq,
            audit_log::hash,
            audit_log::key_id,
            audit_log::mac,
        ))
        .order(audit_log::seq.desc())
        .first(conn)
        .await
        .optional()
}
