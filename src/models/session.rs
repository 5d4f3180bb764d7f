//! Sessions (one per login) and their rotating refresh tokens.
//!
//! A refresh token is used once: rotating marks it used and issues its successor in the same
//! transaction, under a row lock, so of twenty parallel refreshes one wins. Presenting a token
//! that was already used means it was copied: the whole session is revoked, successors included.

use chrono::{DateTime, Duration, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::crypto::random;
use crate::db::schema::{accounts, refresh_tokens, sessions};

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevokeReason {
    /// The holder logged out.
    Logout,
    /// A used refresh token came back.
    RefreshReuse,
    /// An administrator disabled the account.
    AccountDisabled,
}

impl RevokeReason {
    fn as_str(self) -> &'static str {
        match self {
            RevokeReason::Logout => "logout",
            RevokeReason::RefreshReuse => "refresh_reuse",
            RevokeReason::AccountDisabled => "account_disabled",
        }
    }
}

/// Lifetimes of a session.
#[derive(Debug, Clone, Copy)]
pub struct SessionLimits {
    /// Ends when unused this long.
    pub idle: Duration,
    /// Ends this long after login.
    pub absolute: Duration,
}

/// The account behind a live session.
#[derive(Debug, Clone, Queryable)]
pub struct SessionOwner {
    /// The account.
    pub account_id: Uuid,
    /// Its role.
    pub role: String,
    /// Its issuer, for officials.
    pub issuer: Option<String>,
}

/// What a refresh attempt found.
#[derive(Debug)]
pub enum Rotation {
    /// A new refresh token for the same session.
    Rotated {
        /// The session.
        session_id: Uuid,
        /// Who it belongs to.
        owner: SessionOwner,
        /// The successor token, shown once.
        refresh_token: String,
    },
    /// The token had been used before; the session is now revoked (and that is audited).
    Reused,
    /// Unknown, revoked, expired, or the account is disabled.
    Refused,
}

/// Starts a session for `account_id` and returns it with its first refresh token.
pub async fn start(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    now: DateTime<Utc>,
    limits: SessionLimits,
) -> QueryResult<(Uuid, String)> {
    let session_id = Uuid::now_v7();
    let token = random::token("rt_");
    conn.transaction(async |conn| {
        diesel::insert_into(sessions::table)
            .values((
                sessions::id.eq(session_id),
                sessions::account_id.eq(account_id),
                sessions::created_at.eq(now),
                sessions::last_used_at.eq(now),
                sessions::expires_at.eq(now + limits.absolute),
            ))
            .execute(conn)
            .await?;
        insert_token(conn, session_id, &token, now).await
    })
    .await?;
    Ok((session_id, token))
}

async fn insert_token(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    token: &str,
    now: DateTime<Utc>,
) -> QueryResult<()> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::token_hash.eq(random::sha256_hex(token)),
            refresh_tokens::session_id.eq(session_id),
            refresh_tokens::issued_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

type TokenRow = (
    Uuid,
    Option<DateTime<Utc>>,
    DateTime<Utc>,
    DateTime<Utc>,
    Option<DateTime<Utc>>,
);

/// Rotates `presented`: one use per token, within the idle and absolute limits.
pub async fn rotate(
    conn: &mut AsyncPgConnection,
    presented: &str,
    now: DateTime<Utc>,
    limits: SessionLimits,
) -> QueryResult<Rotation> {
    let hash = random::sha256_hex(presented);
    conn.transaction(async |conn| {
        let row: Option<TokenRow> = refresh_tokens::table
            .inner_join(sessions::table)
            .filter(refresh_tokens::token_hash.eq(&hash))
            .select((
                sessions::id,
                refresh_tokens::used_at,
                sessions::last_used_at,
                sessions::expires_at,
                sessions::revoked_at,
            ))
            .for_update()
            .first(conn)
            .await
            .optional()?;
        let Some((session_id, used_at, last_used, expires_at, revoked_at)) = row else {
            return Ok(Rotation::Refused);
        };
        let owner = owner_of(conn, session_id).await?;
        if used_at.is_some() {
            revoke(conn, session_id, RevokeReason::RefreshReuse, now).await?;
            let event = AuditEvent {
                actor: Actor::Anonymous,
                action: "session.refresh_reuse_revoked",
                entity_type: "account",
                entity_id: owner.as_ref().map(|o| o.account_id.to_string()),
                detail: serde_json::json!({ "session": session_id }),
            };
            audit::record(conn, &event).await?;
            return Ok(Rotation::Reused);
        }
        let live = revoked_at.is_none() && now < expires_at && now < last_used + limits.idle;
        let (true, Some(owner)) = (live, owner) else {
            return Ok(Rotation::Refused);
        };
        diesel::update(refresh_tokens::table.find(&hash))
            .set(refresh_tokens::used_at.eq(now))
            .execute(conn)
            .await?;
        diesel::update(sessions::table.find(session_id))
            .set(sessions::last_used_at.eq(now))
            .execute(conn)
            .await?;
        let refresh_token = random::token("rt_");
        insert_token(conn, session_id, &refresh_token, now).await?;
        Ok(Rotation::Rotated {
            session_id,
            owner,
            refresh_token,
        })
    })
    .await
}

/// The enabled account of a session, whatever the session's state.
async fn owner_of(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
) -> QueryResult<Option<SessionOwner>> {
    sessions::table
        .inner_join(accounts::table)
        .filter(sessions::id.eq(session_id))
        .filter(accounts::disabled_at.is_null())
        .select((accounts::id, accounts::role, accounts::issuer))
        .first(conn)
        .await
        .optional()
}

/// The owner of `session_id` when the session is live and its account `account_id` enabled.
/// This runs on every authenticated request, so logout and disabling take effect at once.
pub async fn live_owner(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    account_id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<Option<SessionOwner>> {
    sessions::table
        .inner_join(accounts::table)
        .filter(sessions::id.eq(session_id))
        .filter(accounts::id.eq(account_id))
        .filter(sessions::revoked_at.is_null())
        .filter(sessions::expires_at.gt(now))
        .filter(accounts::disabled_at.is_null())
        .select((accounts::id, accounts::role, accounts::issuer))
        .first(conn)
        .await
        .optional()
}

/// The session a refresh token belongs to, if it is `account_id`'s.
pub async fn session_of_token(
    conn: &mut AsyncPgConnection,
    presented: &str,
    account_id: Uuid,
) -> QueryResult<Option<Uuid>> {
    refresh_tokens::table
        .inner_join(sessions::table)
        .filter(refresh_tokens::token_hash.eq(random::sha256_hex(presented)))
        .filter(sessions::account_id.eq(account_id))
        .select(sessions::id)
        .first(conn)
        .await
        .optional()
}

/// Ends a session; its refresh tokens and access tokens stop working.
pub async fn revoke(
    conn: &mut AsyncPgConnection,
    session_id: Uuid,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .find(session_id)
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason.as_str()),
    ))
    .execute(conn)
    .await
}

/// Ends every session of an account.
pub async fn revoke_all(
    conn: &mut AsyncPgConnection,
    account_id: Uuid,
    reason: RevokeReason,
    now: DateTime<Utc>,
) -> QueryResult<usize> {
    diesel::update(
        sessions::table
            .filter(sessions::account_id.eq(account_id))
            .filter(sessions::revoked_at.is_null()),
    )
    .set((
        sessions::revoked_at.eq(now),
        sessions::revoked_reason.eq(reason.as_str()),
    ))
    .execute(conn)
    .await
}
