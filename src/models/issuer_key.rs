//! Issuer signing keys and the per-issuer status lists.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

use crate::credentials::keys::NewKey;
use crate::db::schema::{card_credentials, issuer_keys, issuers, scheme_issuers};

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
    /// `active`, `retired` or `compromised`.
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// Retired (or, for a key compromised while active, withdrawn).
    pub retired_at: Option<DateTime<Utc>>,
    /// When it was marked compromised.
    pub compromised_at: Option<DateTime<Utc>>,
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
/// so and leaves the trust list at once. Answers the key it retired, read in the same
/// statement (not from an earlier snapshot a concurrent rotation may have outdated).
pub async fn retire_active(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    compromised: bool,
    now: DateTime<Utc>,
) -> QueryResult<Option<String>> {
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
        issuer_keys::compromised_at.eq(compromised.then_some(now)),
    ))
    .returning(issuer_keys::kid)
    .get_result(conn)
    .await
    .optional()
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

/// The issuer's active key under a share lock: call in the transaction that records what it
/// signs, so a concurrent withdrawal waits for that record (or is seen first).
pub async fn active_for_signing(
    conn: &mut AsyncPgConnection,
    issuer: &str,
) -> QueryResult<Option<IssuerKey>> {
    issuer_keys::table
        .filter(issuer_keys::issuer.eq(issuer))
        .filter(issuer_keys::status.eq("active"))
        .select(IssuerKey::as_select())
        .for_share()
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

/// A published key with the latest expiry of the credentials recorded as signed by it.
#[derive(Debug, Clone)]
pub struct PublishedKey {
    /// The key.
    pub key: IssuerKey,
    /// The latest `exp` of anything it signed (`None`: nothing yet).
    pub not_after: Option<DateTime<Utc>>,
}

/// Every key still to be published: active ones, and retired ones while a credential they
/// signed (as recorded when it was served) is unexpired. Compromised keys never.
pub async fn published(
    conn: &mut AsyncPgConnection,
    now: DateTime<Utc>,
) -> QueryResult<Vec<PublishedKey>> {
    let keys: Vec<(IssuerKey, Option<DateTime<Utc>>)> = issuer_keys::table
        .filter(issuer_keys::status.ne("compromised"))
        .select((
            IssuerKey::as_select(),
            card_credentials::table
                .filter(card_credentials::kid.eq(issuer_keys::kid))
                .select(diesel::dsl::max(card_credentials::exp))
                .single_value(),
        ))
        .order(issuer_keys::created_at.asc())
        .load(conn)
        .await?;
    Ok(keys
        .into_iter()
        .filter(|(key, last)| key.status == "active" || last.is_some_and(|exp| exp > now))
        .map(|(key, not_after)| PublishedKey { key, not_after })
        .collect())
}

/// The latest change to any key (created, retired or withdrawn): the trust list is stamped no
/// earlier, so a list assembled after a withdrawal always carries a later stamp than one
/// assembled before it.
pub async fn last_change(conn: &mut AsyncPgConnection) -> QueryResult<Option<DateTime<Utc>>> {
    issuer_keys::table
        .select(diesel::dsl::sql::<
            diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
        >(
            "max(GREATEST(created_at, retired_at, compromised_at))"
        ))
        .first(conn)
        .await
}

/// Every key an issuer ever had, newest first: the rotation history operators read.
pub async fn history(conn: &mut AsyncPgConnection, issuer: &str) -> QueryResult<Vec<IssuerKey>> {
    issuer_keys::table
        .filter(issuer_keys::issuer.eq(issuer))
        .order(issuer_keys::created_at.desc())
        .select(IssuerKey::as_select())
        .load(conn)
        .await
}

/// The record of a credential served: the `iat` and `exp` its key signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Signed {
    /// The credential's `iat`.
    pub iat: DateTime<Utc>,
    /// The credential's `exp`.
    pub exp: DateTime<Utc>,
}

/// Records that `kid` signs the credential of `card_id` with `proposed` times, unless it
/// signed one before; answers the times on record, so the same key always yields the same
/// credential.
pub async fn record_signed(
    conn: &mut AsyncPgConnection,
    card_id: uuid::Uuid,
    kid: &str,
    proposed: Signed,
    now: DateTime<Utc>,
) -> QueryResult<Signed> {
    // A no-op update on conflict returns the row on record in the same statement.
    let (iat, exp) = diesel::insert_into(card_credentials::table)
        .values((
            card_credentials::card_id.eq(card_id),
            card_credentials::kid.eq(kid),
            card_credentials::iat.eq(proposed.iat),
            card_credentials::exp.eq(proposed.exp),
            card_credentials::first_served_at.eq(now),
        ))
        .on_conflict((card_credentials::card_id, card_credentials::kid))
        .do_update()
        .set(card_credentials::kid.eq(diesel::upsert::excluded(card_credentials::kid)))
        .returning((card_credentials::iat, card_credentials::exp))
        .get_result(conn)
        .await?;
    Ok(Signed { iat, exp })
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
            let old = retire_active(c, issuer, compromised, now).await?;
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

/// What a compromise did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Compromise {
    /// The key is withdrawn; when it was the active key, `replaced_by` signs from now on.
    Withdrawn {
        /// What the key was before: `active` or `retired`.
        was: String,
        /// The new active key, when the compromised key was the active one.
        replaced_by: Option<String>,
    },
    /// No such key of this issuer.
    NotFound,
    /// It was withdrawn before.
    AlreadyCompromised,
}

/// Marks key `kid` of `issuer` compromised, active or retired, in one transaction under the
/// key's row lock: it leaves the trust list at once and both verifiers refuse what it signed.
/// An active key is replaced by a new one in the same transaction. Audited.
pub async fn compromise(
    conn: &mut AsyncPgConnection,
    issuer: &str,
    kid: &str,
    comment: Option<&str>,
    cipher: &crate::crypto::pii::PiiCipher,
    actor: crate::audit::Actor,
    now: DateTime<Utc>,
) -> anyhow::Result<Compromise> {
    use diesel_async::AsyncConnection;
    let new = crate::credentials::keys::generate(issuer, crate::clock::china_date(now), cipher)?;
    let outcome = conn
        .transaction(async |c| {
            let Some((status, retired_at)) = issuer_keys::table
                .filter(issuer_keys::kid.eq(kid))
                .filter(issuer_keys::issuer.eq(issuer))
                .select((issuer_keys::status, issuer_keys::retired_at))
                .for_update()
                .first::<(String, Option<DateTime<Utc>>)>(c)
                .await
                .optional()?
            else {
                return Ok(Compromise::NotFound);
            };
            if status == "compromised" {
                return Ok(Compromise::AlreadyCompromised);
            }
            // A retired key keeps the time it stopped signing; an active one stops now.
            diesel::update(issuer_keys::table.find(kid))
                .set((
                    issuer_keys::status.eq("compromised"),
                    issuer_keys::compromised_at.eq(now),
                    issuer_keys::retired_at.eq(retired_at.unwrap_or(now)),
                ))
                .execute(c)
                .await?;
            let replaced_by = if status == "active" {
                if insert_active(c, issuer, &new, cipher.key_id(), now).await? != 1 {
                    return Err(diesel::result::Error::RollbackTransaction);
                }
                Some(new.kid.clone())
            } else {
                None
            };
            let event = crate::audit::AuditEvent {
                actor,
                action: "issuer.key_compromised",
                entity_type: "issuer",
                entity_id: Some(issuer.to_owned()),
                detail: serde_json::json!({ "kid": kid, "was": status, "replaced_by": replaced_by, "comment": comment }),
            };
            crate::audit::record(c, &event).await?;
            Ok(Compromise::Withdrawn {
                was: status,
                replaced_by,
            })
        })
        .await;
    Ok(outcome?)
}

/// What an online verification needs to know of a key that is not withdrawn: whose it is,
/// its public half, whether it is retired, and the schemes its issuer issues (a key vouches
/// only for those). Kept in memory by `state::directory`.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key id.
    pub kid: String,
    /// The key's issuer.
    pub issuer: String,
    /// Its raw public key.
    pub public_key: Vec<u8>,
    /// `active` or `retired`.
    pub status: String,
    /// When it was retired.
    pub retired_at: Option<DateTime<Utc>>,
    /// The schemes its issuer issues, sorted.
    pub schemes: Vec<String>,
}

/// Every key not withdrawn (or only `kid`, when given), with its issuer's schemes.
pub async fn trusted(
    conn: &mut AsyncPgConnection,
    only: Option<&str>,
) -> QueryResult<Vec<TrustedKey>> {
    let mut keys = issuer_keys::table
        .filter(issuer_keys::status.ne("compromised"))
        .into_boxed();
    if let Some(kid) = only {
        keys = keys.filter(issuer_keys::kid.eq(kid.to_owned()));
    }
    let keys: Vec<IssuerKey> = keys.select(IssuerKey::as_select()).load(conn).await?;
    let issuers: Vec<&str> = keys.iter().map(|k| k.issuer.as_str()).collect();
    let offered: Vec<(String, String)> = scheme_issuers::table
        .filter(scheme_issuers::issuer.eq_any(issuers))
        .select((scheme_issuers::issuer, scheme_issuers::scheme))
        .order((scheme_issuers::issuer, scheme_issuers::scheme))
        .load(conn)
        .await?;
    Ok(keys
        .into_iter()
        .map(|key| TrustedKey {
            schemes: offered
                .iter()
                .filter(|(issuer, _)| *issuer == key.issuer)
                .map(|(_, scheme)| scheme.clone())
                .collect(),
            kid: key.kid,
            issuer: key.issuer,
            public_key: key.public_key,
            status: key.status,
            retired_at: key.retired_at,
        })
        .collect())
}
