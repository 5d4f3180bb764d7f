//! Issuer signing keys and the per-issuer status lists.

use chrono::{DateTime, NaiveDate, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::credentials::keys::NewKey;
use crate::db::schema::{cards, issuer_keys, issuers};

/// A stored key.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = issuer_keys)]
pub struct IssuerKey {
    /// Key id.
    pub kid: String,
    /// Issuer code.
    pub issuer: String,
    /// Raw Ed25519 public key.
    pub public_key: Vec<u8>,
    /// Sealed seed.
    pub private_key_sealed: Vec<u8>,
    /// `active` or `retired`.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Retired.
    pub retired_at: Option<DateTime<Utc>>,
}

/// Stores a new active key.
pub async fn insert_active(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    key: &NewKey,
    key_id: &str,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::insert_into(issuer_keys::table)
        .values((
            issuer_keys::kid.eq(&key.kid),
            issuer_keys::issuer.eq(issuer),
            issuer_keys::public_key.eq(key.public_key.as_slice()),
            issuer_keys::private_key_sealed.eq(&key.sealed_seed),
            issuer_keys::key_id.eq(key_id),
            issuer_keys::status.eq("active"),
            issuer_keys::created_at.eq(now),
        ))
        .on_conflict_do_nothing()
        .execute(conn)
        .await
}

/// Retires the issuer's active key (before a new one is stored); a compromised key is marked
/// so and leaves the trust list at once.
pub async fn retire_active(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    compromised: bool,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    let status = if compromised {
        "compromised"
    } else {
        "retired"
    };
    diesel::update(
        issuer_keys::table
            .filter(issuer_keys::issuer.eq(issuer))
            .filter(issuer_keys::status.eq("active")),
    )
    .set((
        issuer_keys::status.eq(status),
        issuer_keys::retired_at.eq(now),
    ))
    .execute(conn)
    .await
}

/// The issuer's active key.
pub async fn active(conn: &mut AsyncPgConnection, issuer: &str) -> QueryResult<Option<IssuerKey>> {
    issuer_keys::table
        .filter(issuer_keys::issuer.eq(issuer))
        .filter(issuer_keys::status.eq("active"))
        .select(IssuerKey::as_select())
        .first(conn)
        .await
        .optional()
}

/// A key by id.
pub async fn find(conn: &mut AsyncPgConnection, kid: &str) -> QueryResult<Option<IssuerKey>> {
    issuer_keys::table
        .find(kid)
        .select(IssuerKey::as_select())
        .first(conn)
        .await
        .optional()
}

/// Every key still to be published: active ones, and retired ones while a card they signed
/// is still valid; with the last day of validity of what they signed.
pub async fn published(
    conn: &mut AsyncPgConnection,
    today: NaiveDate,
) -> QueryResult<Vec<(IssuerKey, Option<NaiveDate>)>> {
    let keys: Vec<IssuerKey> = issuer_keys::table
        .select(IssuerKey::as_select())
        .order(issuer_keys::created_at.asc())
        .load(conn)
        .await?;
    let last_days: Vec<(Option<String>, Option<NaiveDate>)> = cards::table
        .group_by(cards::kid)
        .select((cards::kid, diesel::dsl::max(cards::valid_until)))
        .load(conn)
        .await?;
    Ok(keys
        .into_iter()
        .filter_map(|key| {
            let last = last_days
                .iter()
                .find(|(kid, _)| kid.as_deref() == Some(key.kid.as_str()))
                .and_then(|(_, d)| *d);
            // A compromised key is withdrawn at once, whatever it signed.
            let keep = key.status == "active"
                || (key.status == "retired" && last.is_some_and(|d| d >= today));
            keep.then_some((key, last))
        })
        .collect())
}

/// Creates an active key for every issuer that has none, and every missing status list.
pub async fn ensure_for_all_issuers(
    conn: &mut AsyncPgConnection,
    cipher: &crate::crypto::pii::PiiCipher,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let codes: Vec<String> = issuers::table.select(issuers::code).load(conn).await?;
    for code in codes {
        if active(conn, &code).await?.is_none() {
            let key =
                crate::credentials::keys::generate(&code, crate::clock::china_date(now), cipher)?;
            insert_active(conn, &code, &key, cipher.key_id(), now).await?;
        }
        crate::models::status_list::ensure(conn, &code, 0, now).await?;
    }
    Ok(())
}

/// Rotates an issuer's key in one transaction: retires (or, after a compromise, withdraws) the
/// active key under its row lock, stores a new one and audits it. Returns (new kid, old kid);
/// `None` when a concurrent rotation won.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    cipher: &crate::crypto::pii::PiiCipher,
    compromised: bool,
    actor: crate::audit::Actor,
    now: DateTime<Utc>,
) -> anyhow::Result<Option<(String, Option<String>)>> {
    use diesel_async::AsyncConnection;
    let new = crate::credentials::keys::generate(issuer, crate::clock::china_date(now), cipher)?;
    let rotated = conn
        .transaction(async |c| {
            let old: Option<String> = issuer_keys::table
                .filter(issuer_keys::issuer.eq(issuer))
                .filter(issuer_keys::status.eq("active"))
                .select(issuer_keys::kid)
                .for_update()
                .first(c)
                .await
                .optional()?;
            retire_active(c, issuer, compromised, now).await?;
            if insert_active(c, issuer, &new, cipher.key_id(), now).await? != 1 {
                return Err(diesel::result::Error::RollbackTransaction);
            }
            let event = crate::audit::AuditEvent {
                actor,
                action: "issuer.key_rotated",
                entity_type: "issuer",
                entity_id: Some(issuer.to_owned()),
                detail: serde_json::json!({ "kid": new.kid, "old": old, "compromised": compromised }),
            };
            crate::audit::record(c, &event).await?;
            Ok(Some((new.kid.clone(), old)))
        })
        .await;
    match rotated {
        Err(diesel::result::Error::RollbackTransaction) => Ok(None),
        other => Ok(other?),
    }
}
