//! Accounts of every role.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncConnection, AsyncPgConnection, RunQueryDsl};
use uuid::Uuid;

use crate::audit::{self, Actor, AuditEvent};
use crate::db::schema::accounts;
use crate::domain::email::Email;

/// What an account may do; stored as text, checked by the database.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// A person applying for and holding cards.
    Talent,
    /// A reviewer of one issuing authority.
    Official,
    /// A partner agency's system.
    Agency,
    /// A platform administrator.
    Admin,
    /// An employer's (用人单位) account: endorses the applications naming its employer.
    Employer,
}

impl Role {
    /// Parses a stored name.
    pub fn parse(name: &str) -> Option<Role> {
        match name {
            "talent" => Some(Role::Talent),
            "official" => Some(Role::Official),
            "agency" => Some(Role::Agency),
            "admin" => Some(Role::Admin),
            "employer" => Some(Role::Employer),
            _ => None,
        }
    }

    /// The stored and serialised name.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Talent => "talent",
            Role::Official => "official",
            Role::Agency => "agency",
            Role::Admin => "admin",
            Role::Employer => "employer",
        }
    }
}

/// A stored account.
#[derive(Debug, Clone, Queryable, Selectable)]
#[diesel(table_name = accounts)]
pub struct Account {
    /// UUID v7.
    pub id: Uuid,
    /// Normalised email.
    pub email: String,
    /// Argon2id PHC string.
    pub password_hash: String,
    /// Display name.
    pub full_name: String,
    /// Role name.
    pub role: String,
    /// The issuer, for officials.
    pub issuer: Option<String>,
    /// Set when an administrator disabled the account.
    pub disabled_at: Option<DateTime<Utc>>,
    /// When it was created.
    pub created_at: DateTime<Utc>,
    /// The sealed TOTP secret, once enrolment started.
    pub mfa_secret: Option<Vec<u8>>,
    /// The key that sealed it.
    pub mfa_key_id: Option<String>,
    /// When enrolment was confirmed with a first code.
    pub mfa_confirmed_at: Option<DateTime<Utc>>,
    /// The last TOTP step accepted.
    pub mfa_last_step: Option<i64>,
    /// The step of the recent wrong codes.
    pub mfa_failed_step: i64,
    /// Wrong codes in that step.
    pub mfa_failed_count: i32,
}

impl Account {
    /// The role, parsed.
    pub fn role(&self) -> Option<Role> {
        Role::parse(&self.role)
    }

    /// Officials and administrators need a second factor.
    pub fn is_staff(&self) -> bool {
        matches!(self.role(), Some(Role::Official | Role::Admin))
    }
}

/// An account to create; the password is already hashed.
#[derive(Debug, Insertable)]
#[diesel(table_name = accounts)]
pub struct NewAccount<'a> {
    /// UUID v7.
    pub id: Uuid,
    /// Normalised email.
    pub email: &'a str,
    /// Argon2id PHC string.
    pub password_hash: &'a str,
    /// Display name.
    pub full_name: &'a str,
    /// Role name.
    pub role: &'a str,
    /// The issuer, for officials.
    pub issuer: Option<&'a str>,
}

/// Finds an account by its normalised email.
pub async fn find_by_email(
    conn: &mut AsyncPgConnection,
    email: &Email,
) -> QueryResult<Option<Account>> {
    accounts::table
        .filter(accounts::email.eq(email.as_str()))
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// Finds an account by id.
pub async fn find(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<Option<Account>> {
    accounts::table
        .find(id)
        .select(Account::as_select())
        .first(conn)
        .await
        .optional()
}

/// Locks a holder's account row until the transaction ends: the one lock per person that
/// serialises what must not race for one holder. Every redemption takes it before counting the
/// holder's uses and inserting (a quota of one is used once even when two cards of the same
/// holder are shown at two agencies at once: a card-row lock would not do, the quota spans the
/// holder's cards), and every approval takes it before checking the holder has no other live
/// card of the scheme (two approvals at two issuers of one scheme yield one card).
pub async fn lock_holder(conn: &mut AsyncPgConnection, id: Uuid) -> QueryResult<()> {
    accounts::table
        .find(id)
        .select(accounts::id)
        .for_update()
        .first::<Uuid>(conn)
        .await
        .map(|_| ())
}

/// Stores a new, unconfirmed TOTP secret (replacing an unconfirmed one).
pub async fn set_pending_mfa(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    sealed: &[u8],
    key_id: &str,
) -> QueryResult<usize> {
    diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::mfa_confirmed_at.is_null()),
    )
    .set((
        accounts::mfa_secret.eq(sealed),
        accounts::mfa_key_id.eq(key_id),
        accounts::mfa_last_step.eq(None::<i64>),
    ))
    .execute(conn)
    .await
}

/// Accepts a TOTP step: only a step later than the last accepted one counts, so each code
/// works once even when two requests race. With `confirm`, enrolment completes too, but only
/// while unconfirmed and only for the secret that was checked (`sealed`), so an enrolment that
/// restarted meanwhile is not confirmed by a code of the old secret. Returns whether it was
/// accepted.
pub async fn accept_totp_step(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    step: i64,
    sealed: &[u8],
    confirm_at: Option<DateTime<Utc>>,
) -> QueryResult<bool> {
    let fresh = accounts::mfa_last_step
        .is_null()
        .or(accounts::mfa_last_step.lt(step));
    let target = accounts::table
        .find(id)
        .filter(fresh)
        .filter(accounts::mfa_secret.eq(sealed));
    let updated = match confirm_at {
        Some(at) => {
            diesel::update(target.filter(accounts::mfa_confirmed_at.is_null()))
                .set((
                    accounts::mfa_last_step.eq(step),
                    accounts::mfa_confirmed_at.eq(at),
                ))
                .execute(conn)
                .await?
        }
        None => {
            diesel::update(target.filter(accounts::mfa_confirmed_at.is_not_null()))
                .set(accounts::mfa_last_step.eq(step))
                .execute(conn)
                .await?
        }
    };
    Ok(updated == 1)
}

/// Reserves one TOTP attempt in `step` before the code is compared, so parallel guesses cannot
/// all pass the per-step cap on a stale count. `false` when `cap` attempts were made already.
pub async fn reserve_totp_attempt(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    step: i64,
    cap: i32,
) -> QueryResult<bool> {
    use diesel::dsl::sql;
    use diesel::sql_types::{BigInt, Bool, Integer};
    let under_cap = sql::<Bool>("NOT (mfa_failed_step = ")
        .bind::<BigInt, _>(step)
        .sql(" AND mfa_failed_count >= ")
        .bind::<Integer, _>(cap)
        .sql(")");
    let counted = sql::<Integer>("CASE WHEN mfa_failed_step = ")
        .bind::<BigInt, _>(step)
        .sql(" THEN mfa_failed_count + 1 ELSE 1 END");
    let updated = diesel::update(accounts::table.find(id).filter(under_cap))
        .set((
            accounts::mfa_failed_count.eq(counted),
            accounts::mfa_failed_step.eq(step),
        ))
        .execute(conn)
        .await?;
    Ok(updated == 1)
}

/// Gives back a reserved TOTP attempt whose code was right.
pub async fn refund_totp_attempt(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    step: i64,
) -> QueryResult<()> {
    diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::mfa_failed_step.eq(step))
            .filter(accounts::mfa_failed_count.gt(0)),
    )
    .set(accounts::mfa_failed_count.eq(accounts::mfa_failed_count - 1))
    .execute(conn)
    .await
    .map(|_| ())
}

/// Disables an account (idempotent); returns whether it was enabled before.
pub async fn disable(
    conn: &mut AsyncPgConnection,
    id: Uuid,
    now: DateTime<Utc>,
) -> QueryResult<bool> {
    let changed = diesel::update(
        accounts::table
            .find(id)
            .filter(accounts::disabled_at.is_null()),
    )
    .set(accounts::disabled_at.eq(now))
    .execute(conn)
    .await?;
    Ok(changed == 1)
}

/// Creates an account and records `account.created` in the same transaction. A taken email is
/// a `UniqueViolation`.
pub async fn create(
    conn: &mut AsyncPgConnection,
    new: NewAccount<'_>,
    actor: Actor,
) -> QueryResult<Account> {
    conn.transaction(async |conn| {
        let account: Account = diesel::insert_into(accounts::table)
            .values(&new)
            .returning(Account::as_returning())
            .get_result(conn)
            .await?;
        let event = AuditEvent {
            actor,
            action: "account.created",
            entity_type: "account",
            entity_id: Some(account.id.to_string()),
            detail: serde_json::json!({ "role": account.role, "issuer": account.issuer }),
        };
        audit::record(conn, &event).await?;
        Ok(account)
    })
    .await
}
